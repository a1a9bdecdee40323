-- People restricted (GDPR art. 18) before restrictions were written to the suppression list
-- get their 'restricted' entries, one per address, as setRestricted now writes them.
INSERT INTO `suppressions` (`site_id`, `channel`, `bidx`, `reason`, `list`, `purpose_id`, `created_at`)
	SELECT `site_id`, 'email', `email_bidx`, 'restricted', '', NULL, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
	FROM `subjects` WHERE `restricted` = 1 AND `erased_at` IS NULL AND `email_bidx` IS NOT NULL
	ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO `suppressions` (`site_id`, `channel`, `bidx`, `reason`, `list`, `purpose_id`, `created_at`)
	SELECT `site_id`, 'sms', `phone_bidx`, 'restricted', '', NULL, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
	FROM `subjects` WHERE `restricted` = 1 AND `erased_at` IS NULL AND `phone_bidx` IS NOT NULL
	ON CONFLICT DO NOTHING;
