CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` text NOT NULL,
	`name` text NOT NULL,
	`secret_hash` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` text NOT NULL,
	`seq` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`details` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_log_site_seq` ON `audit_log` (`site_id`,`seq`);--> statement-breakpoint
CREATE TABLE `consent_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` text NOT NULL,
	`seq` integer NOT NULL,
	`subject_id` text,
	`visitor_id` text,
	`purpose_id` text,
	`action` text NOT NULL,
	`wording_version_id` text,
	`source_id` text,
	`actor` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`evidence` text,
	`evidence_hash` text NOT NULL,
	`scrubbed_at` integer,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `consent_events_site_seq` ON `consent_events` (`site_id`,`seq`);--> statement-breakpoint
CREATE INDEX `consent_events_subject` ON `consent_events` (`subject_id`,`id`);--> statement-breakpoint
CREATE INDEX `consent_events_visitor` ON `consent_events` (`visitor_id`);--> statement-breakpoint
CREATE TABLE `consent_states` (
	`subject_id` text NOT NULL,
	`purpose_id` text NOT NULL,
	`status` text NOT NULL,
	`wording_version_id` text,
	`source_id` text,
	`event_id` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`subject_id`, `purpose_id`),
	FOREIGN KEY (`subject_id`) REFERENCES `subjects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`purpose_id`) REFERENCES `purposes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `consent_states_purpose` ON `consent_states` (`purpose_id`,`status`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`site_id` text NOT NULL,
	`api_key_id` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer NOT NULL,
	`response` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`site_id`, `api_key_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `purposes` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` text NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`channel` text NOT NULL,
	`legal_basis` text NOT NULL,
	`current_version_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `purposes_site_key` ON `purposes` (`site_id`,`key`);--> statement-breakpoint
CREATE TABLE `sites` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`default_language` text DEFAULT 'en' NOT NULL,
	`default_country` text DEFAULT 'DK' NOT NULL,
	`allowed_origins` text DEFAULT '[]' NOT NULL,
	`double_opt_in` integer DEFAULT true NOT NULL,
	`ledger_seq` integer DEFAULT 0 NOT NULL,
	`ledger_head` text DEFAULT '' NOT NULL,
	`audit_seq` integer DEFAULT 0 NOT NULL,
	`audit_head` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sources` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` text NOT NULL,
	`key` text NOT NULL,
	`label` text NOT NULL,
	`archived_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sources_site_key` ON `sources` (`site_id`,`key`);--> statement-breakpoint
CREATE TABLE `subjects` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` text NOT NULL,
	`email_enc` text,
	`email_bidx` text,
	`phone_enc` text,
	`phone_bidx` text,
	`name_enc` text,
	`restricted` integer DEFAULT false NOT NULL,
	`erased_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subjects_site_email` ON `subjects` (`site_id`,`email_bidx`);--> statement-breakpoint
CREATE UNIQUE INDEX `subjects_site_phone` ON `subjects` (`site_id`,`phone_bidx`);--> statement-breakpoint
CREATE TABLE `suppressions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` text NOT NULL,
	`channel` text NOT NULL,
	`bidx` text NOT NULL,
	`reason` text NOT NULL,
	`list` text DEFAULT '' NOT NULL,
	`purpose_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `suppressions_unique` ON `suppressions` (`site_id`,`channel`,`bidx`,`reason`,`list`);--> statement-breakpoint
CREATE INDEX `suppressions_site_created` ON `suppressions` (`site_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `wording_texts` (
	`version_id` text NOT NULL,
	`lang` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`sha256` text,
	PRIMARY KEY(`version_id`, `lang`),
	FOREIGN KEY (`version_id`) REFERENCES `wording_versions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `wording_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` text NOT NULL,
	`purpose_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`published_at` integer,
	`retired_at` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`purpose_id`) REFERENCES `purposes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `wording_versions_purpose_version` ON `wording_versions` (`purpose_id`,`version`);