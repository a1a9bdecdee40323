CREATE TABLE `check_changes` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`a` text,
	`b` text,
	`c` text
);
--> statement-breakpoint
CREATE TRIGGER `subjects_check_insert` AFTER INSERT ON `subjects` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`) VALUES ('s', NEW.`id`, NULL, NULL);
END;
--> statement-breakpoint
CREATE TRIGGER `subjects_check_update` AFTER UPDATE OF `id`, `site_id`, `email_bidx`, `phone_bidx`, `restricted`, `erased_at` ON `subjects` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`) VALUES ('s', NEW.`id`, OLD.`email_bidx`, OLD.`phone_bidx`);
END;
--> statement-breakpoint
CREATE TRIGGER `subjects_check_delete` AFTER DELETE ON `subjects` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`) VALUES ('s', OLD.`id`, OLD.`email_bidx`, OLD.`phone_bidx`);
END;
--> statement-breakpoint
CREATE TRIGGER `consent_states_check_insert` AFTER INSERT ON `consent_states` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`) VALUES ('c', NEW.`subject_id`, NEW.`purpose_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `consent_states_check_update` AFTER UPDATE ON `consent_states` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`) VALUES ('c', OLD.`subject_id`, OLD.`purpose_id`);
	INSERT INTO `check_changes` (`kind`, `a`, `b`) SELECT 'c', NEW.`subject_id`, NEW.`purpose_id` WHERE NEW.`subject_id` IS NOT OLD.`subject_id` OR NEW.`purpose_id` IS NOT OLD.`purpose_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `consent_states_check_delete` AFTER DELETE ON `consent_states` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`) VALUES ('c', OLD.`subject_id`, OLD.`purpose_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `suppressions_check_insert` AFTER INSERT ON `suppressions` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`) VALUES ('x', NEW.`site_id`, NEW.`channel`, NEW.`bidx`);
END;
--> statement-breakpoint
CREATE TRIGGER `suppressions_check_update` AFTER UPDATE ON `suppressions` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`) VALUES ('x', OLD.`site_id`, OLD.`channel`, OLD.`bidx`);
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`) SELECT 'x', NEW.`site_id`, NEW.`channel`, NEW.`bidx` WHERE NEW.`site_id` IS NOT OLD.`site_id` OR NEW.`channel` IS NOT OLD.`channel` OR NEW.`bidx` IS NOT OLD.`bidx`;
END;
--> statement-breakpoint
CREATE TRIGGER `suppressions_check_delete` AFTER DELETE ON `suppressions` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`) VALUES ('x', OLD.`site_id`, OLD.`channel`, OLD.`bidx`);
END;
