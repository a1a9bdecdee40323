/**
 * Send checks, suppression lists and outbound webhooks (issue 5): request and response
 * shapes as valibot schemas, for validation and the OpenAPI document.
 */
import * as v from 'valibot';
import { CHANNELS, CHECK_REASONS, LEGAL_BASES } from './enums';
import { PurposeKey } from './api';

/** valibot's own e-mail pattern (v.email), for the bulk paths' per-entry check without a schema call each. */
export const EMAIL_PATTERN = /^[\w+-]+(?:\.[\w+-]+)*@[\da-zA-Z]+(?:[.-][\da-zA-Z]+)*\.[a-zA-Z]{2,}$/u;
export const PHONE_PATTERN = /^[+0-9 ()./-]{4,32}$/;
export const SUBJECT_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** Contacts per POST /check; more is 413 `too_many_contacts`. */
export const MAX_BULK_CONTACTS = 100_000;

const Email = v.pipe(v.string(), v.trim(), v.maxLength(254, 'must be at most 254 characters'), v.email('must be an e-mail address'));
const Phone = v.pipe(v.string(), v.maxLength(32, 'must be at most 32 characters'), v.regex(/^[+0-9 ()./-]{4,}$/, 'must be a phone number'));
const SubjectId = v.pipe(v.string(), v.regex(SUBJECT_ID_PATTERN, 'must be a subject id'));
const Iso = v.pipe(v.string(), v.isoTimestamp());

export const CheckQuery = v.pipe(
  v.strictObject({ purpose: PurposeKey, email: v.optional(Email), phone: v.optional(Phone) }),
  v.check((q) => (q.email === undefined) !== (q.phone === undefined), 'give exactly one of email or phone'),
);

/** What one check finds, without the request-wide fields. */
const Verdict = {
  allowed: v.boolean(),
  reason: v.picklist(CHECK_REASONS),
  /** When the deciding fact began (consent given, suppression added, …); null when nothing is on record. */
  since: v.nullable(Iso),
  /** The wording version the person agreed to (consented) or last acted on. */
  wordingVersion: v.nullable(v.number()),
  /** The source key of the deciding consent event. */
  source: v.nullable(v.string()),
  /** The imported list's name, for reason `listed` (and imported bounce or complaint lists). */
  list: v.optional(v.string()),
};

export const CheckAnswer = v.object({
  ...Verdict,
  channel: v.picklist(CHANNELS),
  purpose: v.string(),
  legalBasis: v.picklist(LEGAL_BASES),
});

/** One entry of a bulk check: exactly one of these. */
export const BulkContact = v.union([v.strictObject({ email: Email }), v.strictObject({ phone: Phone }), v.strictObject({ subjectId: SubjectId })]);

export const BulkCheckBody = v.strictObject({
  purpose: PurposeKey,
  /** Up to 100,000 entries, each `{email}`, `{phone}` or `{subjectId}`; a malformed entry gets its own error. */
  contacts: v.array(v.unknown()),
});

export const BulkCheckAnswer = v.object({
  purpose: v.string(),
  channel: v.picklist(CHANNELS),
  legalBasis: v.picklist(LEGAL_BASES),
  counts: v.object({ allowed: v.number(), blocked: v.number(), invalid: v.number() }),
  /** In input order: a verdict, or an error for a malformed entry. */
  results: v.array(
    v.union([
      v.object(Verdict),
      v.object({ allowed: v.literal(false), error: v.object({ code: v.string(), message: v.string() }) }),
    ]),
  ),
});

export const CsvCheckQuery = v.strictObject({
  purpose: PurposeKey,
  /** The address column's header; default: a column named email, phone, mobile or subjectId, else the first. */
  column: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
});

// Suppressions
export const SUPPRESSION_IMPORT_REASONS = ['listed', 'bounced', 'complained'] as const;

const ListName = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1–63 lower-case letters, digits, dots, dashes or underscores'));

export const SuppressionImportQuery = v.strictObject({
  /** The list's name, e.g. `robinson`; stored as the suppression's list. */
  list: ListName,
  /** Reason recorded (default `listed`): `bounced` or `complained` for an e-mail service's export. */
  reason: v.optional(v.picklist(SUPPRESSION_IMPORT_REASONS)),
  /** Default: per row, an address with @ is e-mail, anything else a phone number (SMS). */
  channel: v.optional(v.picklist(['email', 'sms'])),
  column: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
});

export const SuppressionImportAnswer = v.object({
  list: v.string(),
  reason: v.string(),
  rows: v.number(),
  added: v.number(),
  alreadyPresent: v.number(),
  invalid: v.number(),
});

export const SuppressionExportQuery = v.strictObject({
  channel: v.optional(v.picklist(['email', 'sms'])),
  since: v.optional(Iso),
  /** From the previous page's `Samtykke-Next-Cursor` header. */
  cursor: v.optional(v.pipe(v.string(), v.regex(/^[0-9]{1,15}$/, 'must be a cursor from a previous page'))),
  limit: v.optional(v.pipe(v.string(), v.regex(/^[0-9]{1,6}$/, 'must be a whole number'), v.transform(Number), v.minValue(1), v.maxValue(100_000))),
  format: v.optional(v.picklist(['jsonl', 'csv'])),
});

export const SuppressionEntry = v.object({
  id: v.number(),
  channel: v.picklist(['email', 'sms']),
  /** The address or number, when the person still exists and the key has `pii:read`. */
  address: v.nullable(v.string()),
  /** The site's keyed blind index of the normalised address (HMAC-SHA256, base64url). */
  hash: v.string(),
  reason: v.string(),
  list: v.nullable(v.string()),
  purpose: v.nullable(v.string()),
  createdAt: Iso,
});

// Webhooks
export const WEBHOOK_EVENTS = ['withdraw', 'object', 'unsubscribe', 'sms-stop', 'erase'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const NewWebhook = v.strictObject({
  url: v.pipe(v.string(), v.maxLength(2048, 'must be at most 2048 characters'), v.url('must be an absolute URL'), v.regex(/^https?:\/\//, 'must be http(s)')),
  /** Event types to send (default: all). */
  events: v.optional(v.pipe(v.array(v.picklist(WEBHOOK_EVENTS)), v.maxLength(WEBHOOK_EVENTS.length))),
});

export const Webhook = v.object({
  id: v.string(),
  url: v.string(),
  events: v.array(v.string()),
  createdAt: Iso,
});
export const WebhookList = v.object({ webhooks: v.array(Webhook) });
export const CreatedWebhook = v.object({ ...Webhook.entries, secret: v.string() });
export const WebhookParam = v.object({ site: v.string(), id: v.pipe(v.string(), v.regex(SUBJECT_ID_PATTERN, 'must be a webhook id')) });

/** What a receiver gets (JSON), signed with `Samtykke-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export interface WebhookPayload {
  id: string;
  type: WebhookEvent;
  site: string;
  purpose: string | null;
  channel: string | null;
  subjectId: string | null;
  occurredAt: string;
  eventId: number;
  email?: string;
  phone?: string;
  /** For erasure: the blind-index hashes the suppression list holds, never the address. */
  emailHash?: string;
  phoneHash?: string;
}
