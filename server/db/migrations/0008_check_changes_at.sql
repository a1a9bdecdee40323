ALTER TABLE `check_changes` ADD `at` integer;
--> statement-breakpoint
DROP TRIGGER `subjects_check_insert`;
--> statement-breakpoint
CREATE TRIGGER `subjects_check_insert` AFTER INSERT ON `subjects` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`, `at`) VALUES ('s', NEW.`id`, NULL, NULL, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
--> statement-breakpoint
DROP TRIGGER `subjects_check_update`;
--> statement-breakpoint
CREATE TRIGGER `subjects_check_update` AFTER UPDATE OF `id`, `site_id`, `email_bidx`, `phone_bidx`, `restricted`, `erased_at` ON `subjects` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`, `at`) VALUES ('s', NEW.`id`, OLD.`email_bidx`, OLD.`phone_bidx`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
--> statement-breakpoint
DROP TRIGGER `subjects_check_delete`;
--> statement-breakpoint
CREATE TRIGGER `subjects_check_delete` AFTER DELETE ON `subjects` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`, `at`) VALUES ('s', OLD.`id`, OLD.`email_bidx`, OLD.`phone_bidx`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
--> statement-breakpoint
DROP TRIGGER `consent_states_check_insert`;
--> statement-breakpoint
CREATE TRIGGER `consent_states_check_insert` AFTER INSERT ON `consent_states` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `at`) VALUES ('c', NEW.`subject_id`, NEW.`purpose_id`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
--> statement-breakpoint
DROP TRIGGER `consent_states_check_update`;
--> statement-breakpoint
CREATE TRIGGER `consent_states_check_update` AFTER UPDATE ON `consent_states` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `at`) VALUES ('c', OLD.`subject_id`, OLD.`purpose_id`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `at`) SELECT 'c', NEW.`subject_id`, NEW.`purpose_id`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE NEW.`subject_id` IS NOT OLD.`subject_id` OR NEW.`purpose_id` IS NOT OLD.`purpose_id`;
END;
--> statement-breakpoint
DROP TRIGGER `consent_states_check_delete`;
--> statement-breakpoint
CREATE TRIGGER `consent_states_check_delete` AFTER DELETE ON `consent_states` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `at`) VALUES ('c', OLD.`subject_id`, OLD.`purpose_id`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
--> statement-breakpoint
DROP TRIGGER `suppressions_check_insert`;
--> statement-breakpoint
CREATE TRIGGER `suppressions_check_insert` AFTER INSERT ON `suppressions` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`, `at`) VALUES ('x', NEW.`site_id`, NEW.`channel`, NEW.`bidx`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
--> statement-breakpoint
DROP TRIGGER `suppressions_check_update`;
--> statement-breakpoint
CREATE TRIGGER `suppressions_check_update` AFTER UPDATE ON `suppressions` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`, `at`) VALUES ('x', OLD.`site_id`, OLD.`channel`, OLD.`bidx`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`, `at`) SELECT 'x', NEW.`site_id`, NEW.`channel`, NEW.`bidx`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE NEW.`site_id` IS NOT OLD.`site_id` OR NEW.`channel` IS NOT OLD.`channel` OR NEW.`bidx` IS NOT OLD.`bidx`;
END;
--> statement-breakpoint
DROP TRIGGER `suppressions_check_delete`;
--> statement-breakpoint
CREATE TRIGGER `suppressions_check_delete` AFTER DELETE ON `suppressions` BEGIN
	INSERT INTO `check_changes` (`kind`, `a`, `b`, `c`, `at`) VALUES ('x', OLD.`site_id`, OLD.`channel`, OLD.`bidx`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
