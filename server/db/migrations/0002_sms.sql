CREATE TABLE `sms_messages` (
	`site_id` text NOT NULL,
	`provider` text NOT NULL,
	`message_key` text NOT NULL,
	`action` text NOT NULL,
	`reply` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`site_id`, `provider`, `message_key`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sms_messages_created` ON `sms_messages` (`created_at`);--> statement-breakpoint
ALTER TABLE `sites` ADD `twilio_auth_token_enc` text;--> statement-breakpoint
ALTER TABLE `sites` ADD `sms_inbound_secret_enc` text;--> statement-breakpoint
ALTER TABLE `sites` ADD `sms_help_text` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `sms_keywords` text DEFAULT '{"stop":[],"start":[]}' NOT NULL;