ALTER TABLE `mail_outbox` ADD `subject_id` text;--> statement-breakpoint
CREATE INDEX `mail_outbox_subject` ON `mail_outbox` (`subject_id`);--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `subject_id` text;--> statement-breakpoint
CREATE INDEX `webhook_deliveries_subject` ON `webhook_deliveries` (`subject_id`);--> statement-breakpoint
UPDATE `mail_outbox` SET `recipient_enc` = '', `message_enc` = '' WHERE `status` IN ('sent', 'failed');--> statement-breakpoint
UPDATE `webhook_deliveries` SET `payload_enc` = '' WHERE `status` IN ('delivered', 'failed');
