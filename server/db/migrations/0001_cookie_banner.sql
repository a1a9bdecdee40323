ALTER TABLE `purposes` ADD `role` text DEFAULT 'purpose' NOT NULL;--> statement-breakpoint
ALTER TABLE `purposes` ADD `cookies` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `purposes` ADD `marketing` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `purposes` ADD `consent_mode_types` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `consent_mode` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `cookie_domain` text;--> statement-breakpoint
ALTER TABLE `sites` ADD `cookie_days` integer DEFAULT 182 NOT NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `privacy_policy_url` text;