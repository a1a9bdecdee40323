/**
 * The ledger's tables. Personal data lives only in `subjects`, encrypted, with keyed
 * blind indexes for lookup; every other table holds ids, hashes and wording.
 * Times are integer milliseconds since the epoch (UTC).
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { Channel, ConsentStatus, EventAction, KeyScope, LegalBasis, PurposeRole, WordingStatus } from '../../shared/enums';
import type { ConsentModeType, CookieInfo } from '../../shared/cookies';

const createdAt = () => integer('created_at').notNull();

export const sites = sqliteTable('sites', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  defaultLanguage: text('default_language').notNull().default('en'),
  defaultCountry: text('default_country').notNull().default('DK'),
  allowedOrigins: text('allowed_origins', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
  doubleOptIn: integer('double_opt_in', { mode: 'boolean' }).notNull().default(true),
  /** Head of the consent-event hash chain: last sequence number and its hash. */
  ledgerSeq: integer('ledger_seq').notNull().default(0),
  ledgerHead: text('ledger_head').notNull().default(''),
  /** Head of the audit-log hash chain. */
  auditSeq: integer('audit_seq').notNull().default(0),
  auditHead: text('audit_head').notNull().default(''),
  /** Google Consent Mode v2 signals from the cookie banner. */
  consentMode: integer('consent_mode', { mode: 'boolean' }).notNull().default(false),
  /** Domain for the banner's choice cookie (e.g. `.example.dk`); null: the page's host. */
  cookieDomain: text('cookie_domain'),
  cookieDays: integer('cookie_days').notNull().default(182),
  privacyPolicyUrl: text('privacy_policy_url'),
  /** Twilio auth token, encrypted (context `sites.twilio_auth_token`); write-only through the API. */
  twilioAuthTokenEnc: text('twilio_auth_token_enc'),
  /** HMAC secret of the JSON inbound-SMS webhook, encrypted (context `sites.sms_inbound_secret`). */
  smsInboundSecretEnc: text('sms_inbound_secret_enc'),
  /** lang → reply to HELP/INFO; languages not given fall back to the built-in text. */
  smsHelpText: text('sms_help_text', { mode: 'json' }).$type<Record<string, string>>().notNull().default(sql`'{}'`),
  /** Extra STOP and START words (upper case) on top of the built-in ones. */
  smsKeywords: text('sms_keywords', { mode: 'json' }).$type<{ stop: string[]; start: string[] }>().notNull().default(sql`'{"stop":[],"start":[]}'`),
  /** The controller's contact e-mail, shown on receipts and the preference page. */
  controllerEmail: text('controller_email'),
  /** The controller's postal address (one line), shown on receipts. */
  controllerAddress: text('controller_address'),
  /** The owner's page holding `<consent-preferences>`; null: the server's own /preferences/{site}. */
  preferencesUrl: text('preferences_url'),
  /** Days an unconfirmed (double opt-in) signup is kept before it is purged. */
  pendingDays: integer('pending_days').notNull().default(7),
  createdAt: createdAt(),
});

export const purposes = sqliteTable(
  'purposes',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id').notNull().references(() => sites.id),
    key: text('key').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    channel: text('channel').$type<Channel>().notNull(),
    legalBasis: text('legal_basis').$type<LegalBasis>().notNull(),
    currentVersionId: text('current_version_id'),
    /** `purpose`, or `cookie-banner` for the banner's own text (one per site). */
    role: text('role').$type<PurposeRole>().notNull().default('purpose'),
    /** Cookie categories: the cookies they cover, whether GPC turns them off, their Consent Mode types. */
    cookies: text('cookies', { mode: 'json' }).$type<CookieInfo[]>().notNull().default(sql`'[]'`),
    marketing: integer('marketing', { mode: 'boolean' }).notNull().default(false),
    consentModeTypes: text('consent_mode_types', { mode: 'json' }).$type<ConsentModeType[]>().notNull().default(sql`'[]'`),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('purposes_site_key').on(t.siteId, t.key)],
);

export const wordingVersions = sqliteTable(
  'wording_versions',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id').notNull().references(() => sites.id),
    purposeId: text('purpose_id').notNull().references(() => purposes.id),
    version: integer('version').notNull(),
    status: text('status').$type<WordingStatus>().notNull(),
    createdAt: createdAt(),
    publishedAt: integer('published_at'),
    retiredAt: integer('retired_at'),
  },
  (t) => [uniqueIndex('wording_versions_purpose_version').on(t.purposeId, t.version)],
);

export const wordingTexts = sqliteTable(
  'wording_texts',
  {
    versionId: text('version_id').notNull().references(() => wordingVersions.id),
    lang: text('lang').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    /** SHA-256 (hex) of wordingDigestInput(lang, title, body); set on publish. */
    sha256: text('sha256'),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.lang] })],
);

export const sources = sqliteTable(
  'sources',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id').notNull().references(() => sites.id),
    key: text('key').notNull(),
    label: text('label').notNull(),
    archivedAt: integer('archived_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('sources_site_key').on(t.siteId, t.key)],
);

export const subjects = sqliteTable(
  'subjects',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id').notNull().references(() => sites.id),
    emailEnc: text('email_enc'),
    emailBidx: text('email_bidx'),
    phoneEnc: text('phone_enc'),
    phoneBidx: text('phone_bidx'),
    nameEnc: text('name_enc'),
    /** Language of the person's mails and pages (BCP 47 primary tag); null: the site's default. */
    lang: text('lang'),
    restricted: integer('restricted', { mode: 'boolean' }).notNull().default(false),
    erasedAt: integer('erased_at'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('subjects_site_email').on(t.siteId, t.emailBidx),
    uniqueIndex('subjects_site_phone').on(t.siteId, t.phoneBidx),
  ],
);

/** The ledger: append-only, hash-chained per site. */
export const consentEvents = sqliteTable(
  'consent_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: text('site_id').notNull().references(() => sites.id),
    seq: integer('seq').notNull(),
    subjectId: text('subject_id'),
    /** Anonymous cookie-consent visitors are keyed by a random id, never a subject. */
    visitorId: text('visitor_id'),
    purposeId: text('purpose_id'),
    action: text('action').$type<EventAction>().notNull(),
    wordingVersionId: text('wording_version_id'),
    sourceId: text('source_id'),
    actor: text('actor').notNull(),
    occurredAt: integer('occurred_at').notNull(),
    /** Encrypted JSON (page URL, form id, note, truncated IP, UA hash, nonce); null once scrubbed. */
    evidence: text('evidence'),
    evidenceHash: text('evidence_hash').notNull(),
    scrubbedAt: integer('scrubbed_at'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    uniqueIndex('consent_events_site_seq').on(t.siteId, t.seq),
    index('consent_events_subject').on(t.subjectId, t.id),
    index('consent_events_visitor').on(t.visitorId),
  ],
);

/** Current state per (subject, purpose), updated in the same transaction as its event. */
export const consentStates = sqliteTable(
  'consent_states',
  {
    subjectId: text('subject_id').notNull().references(() => subjects.id),
    purposeId: text('purpose_id').notNull().references(() => purposes.id),
    status: text('status').$type<ConsentStatus>().notNull(),
    wordingVersionId: text('wording_version_id'),
    sourceId: text('source_id'),
    eventId: integer('event_id').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.subjectId, t.purposeId] }),
    index('consent_states_purpose').on(t.purposeId, t.status),
    index('consent_states_status_updated').on(t.status, t.updatedAt),
  ],
);

/**
 * A new e-mail address waiting for its owner to confirm it (rectification). Encrypted like
 * the subject's; the confirmation link names the row, never the address.
 */
export const emailChanges = sqliteTable(
  'email_changes',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id').notNull().references(() => sites.id),
    subjectId: text('subject_id').notNull().references(() => subjects.id),
    emailEnc: text('email_enc').notNull(),
    emailBidx: text('email_bidx').notNull(),
    createdAt: createdAt(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('email_changes_subject').on(t.subjectId), index('email_changes_expires').on(t.expiresAt)],
);

/** Do-not-contact entries. Hold only blind-index hashes, so they outlive erasure. */
export const suppressions = sqliteTable(
  'suppressions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: text('site_id').notNull().references(() => sites.id),
    channel: text('channel').$type<Channel>().notNull(),
    bidx: text('bidx').notNull(),
    reason: text('reason').notNull(),
    /** Name of an imported list (e.g. `robinson`), '' otherwise. */
    list: text('list').notNull().default(''),
    /** Purpose the suppression is scoped to; null means all marketing on the channel. */
    purposeId: text('purpose_id'),
    createdAt: createdAt(),
  },
  (t) => [
    // One entry per scope: a person may unsubscribe from several purposes and from all of them.
    uniqueIndex('suppressions_unique_scope').on(t.siteId, t.channel, t.bidx, t.reason, t.list, sql`coalesce(${t.purposeId}, '')`),
    index('suppressions_site_created').on(t.siteId, t.createdAt),
  ],
);

/**
 * What changed for send checks, written only by triggers (migration 0007) on subjects,
 * consent_states and suppressions, so every writer (this process, another instance, the
 * CLI) is seen. The in-memory check index (services/check-index.ts) replays it to stay
 * exact. `kind` s: a subject (a = id, b and c = its e-mail and phone blind index before
 * the change); c: a consent state (a = subject id, b = purpose id); x: the suppressions of
 * an address (a = site, b = channel, c = blind index). Trimmed by the retention job to
 * its last day and at most its newest 200,000 entries: it links a person's id to their
 * blind indexes, which an erasure must not keep for long.
 */
export const checkChanges = sqliteTable('check_changes', {
  seq: integer('seq').primaryKey({ autoIncrement: true }),
  kind: text('kind').notNull(),
  a: text('a'),
  b: text('b'),
  c: text('c'),
  /** When the change was logged (ms): entries older than a day are trimmed (migration 0008). */
  at: integer('at'),
});

/** Outbound webhook endpoints of a site, told of every opt-out. */
export const webhooks = sqliteTable('webhooks', {
  id: text('id').primaryKey(),
  siteId: text('site_id').notNull().references(() => sites.id),
  url: text('url').notNull(),
  /** HMAC-SHA256 signing secret, encrypted (context `webhooks.secret`). */
  secretEnc: text('secret_enc').notNull(),
  /** Event types sent (empty: all). */
  events: text('events', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
  createdAt: createdAt(),
  disabledAt: integer('disabled_at'),
});

/**
 * Webhook outbox: one row per (webhook, event), written in the transaction of the event it
 * reports, claimed and retried by a delivery loop like mail. The payload may hold an
 * address, so it is encrypted (context `webhook_deliveries.payload`).
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id').notNull().references(() => webhooks.id),
    siteId: text('site_id').notNull().references(() => sites.id),
    eventType: text('event_type').notNull(),
    /** The person the event is about (erasure finds their deliveries by it); null before migration 0006. */
    subjectId: text('subject_id'),
    /** Encrypted JSON payload (context `webhook_deliveries.payload`); '' once delivered or given up. */
    payloadEnc: text('payload_enc').notNull(),
    status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lockedUntil: integer('locked_until'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_created').on(t.status, t.createdAt),
    index('webhook_deliveries_subject').on(t.subjectId),
  ],
);

export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  siteId: text('site_id').notNull().references(() => sites.id),
  name: text('name').notNull(),
  /** SHA-256 (hex) of the whole secret; the secret itself is shown once. */
  secretHash: text('secret_hash').notNull(),
  scopes: text('scopes', { mode: 'json' }).$type<KeyScope[]>().notNull(),
  createdAt: createdAt(),
  revokedAt: integer('revoked_at'),
});

/** Administrative actions, hash-chained per site like the ledger. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: text('site_id').notNull().references(() => sites.id),
    seq: integer('seq').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    occurredAt: integer('occurred_at').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [uniqueIndex('audit_log_site_seq').on(t.siteId, t.seq)],
);

/**
 * Inbound SMS already acted on, so a provider's retry of the same message records
 * nothing twice. The provider's message id is kept only as a keyed hash (it points at
 * the message, number and text, in the provider's logs); the answer is kept to repeat it.
 */
export const smsMessages = sqliteTable(
  'sms_messages',
  {
    siteId: text('site_id').notNull().references(() => sites.id),
    provider: text('provider').notNull(),
    messageKey: text('message_key').notNull(),
    action: text('action').notNull(),
    reply: text('reply'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.provider, t.messageKey] }), index('sms_messages_created').on(t.createdAt)],
);

/** First answers to writes sent with an Idempotency-Key header; kept 24 hours. */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    siteId: text('site_id').notNull(),
    apiKeyId: text('api_key_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: integer('status').notNull(),
    response: text('response').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.apiKeyId, t.key] })],
);

/**
 * Outgoing mail. The recipient and the message (subject, bodies, headers, attachments;
 * its links are capabilities) are encrypted; the delivery state is not. Rows with status
 * `pending` are claimed by a delivery loop (`locked_until`), so several instances never
 * send one message twice; `dev` rows form the development outbox when no SMTP_URL is set.
 */
export const mailOutbox = sqliteTable(
  'mail_outbox',
  {
    id: text('id').primaryKey(),
    siteId: text('site_id').references(() => sites.id),
    kind: text('kind').notNull(),
    /** The person the mail is to (erasure finds their mail by it); null for mail to no person or before migration 0006. */
    subjectId: text('subject_id'),
    /** Encrypted (context `mail_outbox.recipient`); '' once sent or given up. */
    recipientEnc: text('recipient_enc').notNull(),
    /** Encrypted JSON of subject, text, html, headers and attachments (context `mail_outbox.message`); '' once sent or given up. */
    messageEnc: text('message_enc').notNull(),
    status: text('status').$type<'pending' | 'sent' | 'failed' | 'dev'>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    /** Claimed by a delivery loop until then; a crashed sender's claim lapses. */
    lockedUntil: integer('locked_until'),
    /** A short error code, never the address. */
    lastError: text('last_error'),
    createdAt: createdAt(),
    sentAt: integer('sent_at'),
  },
  (t) => [index('mail_outbox_due').on(t.status, t.nextAttemptAt), index('mail_outbox_created').on(t.status, t.createdAt), index('mail_outbox_subject').on(t.subjectId)],
);
