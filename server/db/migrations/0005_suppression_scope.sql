DROP INDEX `suppressions_unique`;--> statement-breakpoint
CREATE UNIQUE INDEX `suppressions_unique_scope` ON `suppressions` (`site_id`,`channel`,`bidx`,`reason`,`list`,coalesce(`purpose_id`, ''));
