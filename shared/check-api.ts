/**
 * Send checks, suppression lists and outbound webhooks (issue 5): request and response
 * shapes as valibot schemas, for validation and the OpenAPI document.
 */
import * as v from 'valibot';
import { CHANNELS, CHECK_REASONS, LEGAL_BASES, SUPPRESSION_CHECK_REASONS } from './enums';
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
  /**
   * In a send check's words: unsubscribed, sms-stopped, erased, bounced, complained,
   * listed (with `list`), or restricted (the person restricted processing, GDPR art. 18).
   */
  reason: v.picklist(SUPPRESSION_CHECK_REASONS),
  list: v.nullable(v.string()),
  purpose: v.nullable(v.string()),
  createdAt: Iso,
});

// Webhooks
/**
 * What a webhook is told of: every opt-out of a person (withdraw, object, unsubscribe,
 * sms-stop, erase), and a restriction of processing (GDPR art. 18) and its lifting. The
 * lifting is no opt-in: other blocks of the address still hold, so a sender checks before
 * mailing again. An endpoint naming no events gets all of them.
 */
export const WEBHOOK_EVENTS = ['withdraw', 'object', 'unsubscribe', 'sms-stop', 'erase', 'restrict', 'unrestrict'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

// Webhook targets (SSRF). A webhook URL is ours to call from inside the deployment, so it
// must not point at the deployment's own network: loopback, private, link-local (cloud
// metadata at 169.254.169.254), CGNAT, multicast, unspecified, IPv6 ULA and link-local.

function parseIpv4(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

function parseIpv6(s: string): number[] | null {
  let t = s.toLowerCase();
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (!t.includes(':')) return null;
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIpv4(tail);
    if (!v4) return null;
    t = `${t.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (groups.flat().some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const head = groups[0]!.map((g) => parseInt(g, 16));
  if (halves.length === 1) return head.length === 8 ? head : null;
  const rest = groups[1]!.map((g) => parseInt(g, 16));
  const fill = 8 - head.length - rest.length;
  if (fill < 1) return null;
  return [...head, ...new Array<number>(fill).fill(0), ...rest];
}

function ipv4Blocked([a, b, c]: number[]): boolean {
  return (
    a === 0 || // unspecified, "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && c === 0) || // IETF protocol assignments
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a! >= 224 // multicast, reserved, broadcast
  );
}

/** Whether `ip` (an IPv4 or IPv6 literal, brackets allowed) is in a range a webhook must never reach; false for a host name. */
export function isBlockedAddress(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const v4 = parseIpv4(bare);
  if (v4) return ipv4Blocked(v4);
  const g = parseIpv6(bare);
  if (!g) return false;
  const embedded = [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff];
  if (g.slice(0, 6).every((x) => x === 0)) return g[6] === 0 && g[7]! <= 1 ? true : ipv4Blocked(embedded); // ::, ::1, IPv4-compatible
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return ipv4Blocked(embedded); // IPv4-mapped
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return ipv4Blocked(embedded); // NAT64
  return (
    (g[0]! & 0xfe00) === 0xfc00 || // ULA fc00::/7
    (g[0]! & 0xff80) === 0xfe80 || // link-local fe80::/10 and old site-local fec0::/10
    (g[0]! & 0xff00) === 0xff00 // multicast
  );
}

/**
 * Why `value` may not be a webhook URL, or undefined when it may. Always: an absolute
 * http(s) URL without credentials. Unless `allowPrivateTargets` (development only): https,
 * and no `localhost`/`*.localhost` or IP literal in a blocked range (isBlockedAddress).
 */
export function webhookUrlProblem(value: string, allowPrivateTargets = false): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivateTargets && url.protocol === 'http:')) return 'must be an https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not contain credentials (user:password@); put a token in the path or query instead';
  if (allowPrivateTargets) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must not point at localhost';
  if (isBlockedAddress(host)) return 'must not point at a loopback, private, link-local, CGNAT, multicast or unspecified address';
  return undefined;
}

export const NewWebhook = v.strictObject({
  /** https, no credentials, no private or loopback target (checked again, with the deployment's settings, by the service). */
  url: v.pipe(
    v.string(),
    v.maxLength(2048, 'must be at most 2048 characters'),
    v.url('must be an absolute URL'),
    v.regex(/^https?:\/\//, 'must be an https:// URL'),
    v.check((u) => webhookUrlProblem(u, true) === undefined, 'must not contain credentials (user:password@); put a token in the path or query instead'),
  ),
  /** Event types to send (default: all, including any added later). */
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
  /**
   * The address of the channel opted out of (none when the channel is not known); for
   * restrict and unrestrict (channel null), every address the person has.
   */
  email?: string;
  phone?: string;
  /** For erasure: the blind-index hashes the suppression list holds, never the address. */
  emailHash?: string;
  phoneHash?: string;
}
