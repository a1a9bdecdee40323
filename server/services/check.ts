/**
 * Send checks: may this person be contacted for this purpose on this channel?
 *
 * One decision function, fed by two queries per chunk of up to 500 contacts on the read
 * pool (the person with their state for the purpose, and the channel's suppressions), so
 * a single check, a bulk check of 100,000 and a streamed CSV of any length answer alike.
 *
 * Precedence, first match wins:
 *  1. erased: the person was erased (or an `erased` suppression holds the address);
 *  2. restricted: processing restricted (GDPR art. 18);
 *  3. a suppression on the purpose's channel, for this purpose or every purpose
 *     (purpose-scoped first, then the earliest): listed, bounced, complained,
 *     sms-stopped, unsubscribed;
 *  4. objected;
 *  5. withdrawn, reported as unsubscribed or sms-stopped when the withdrawal came from
 *     an unsubscribe link or an SMS STOP;
 *  6. pending-confirmation: double opt-in not yet confirmed (consent-based purposes);
 *  7. consented (consent-based purpose, granted) or legal-basis (any other basis);
 *  8. no-consent.
 * Only `consented` and `legal-basis` allow contact. A purpose on the e-mail or SMS
 * channel based on legitimate interests (6(1)(f)) is treated as needing consent:
 * electronic marketing needs prior consent (Danish marketing act §10).
 */
import type { Client, InValue } from '@libsql/client';
import * as v from 'valibot';
import { basisNeedsConsent, type Channel, type CheckReason, type LegalBasis } from '../../shared/enums';
import { BulkContact, EMAIL_PATTERN, PHONE_PATTERN, SUBJECT_ID_PATTERN } from '../../shared/check-api';
import type { CatalogPurpose, SiteCatalog } from './catalog';
import type { ServiceContext } from './context';
import { normalizeEmail, normalizePhone } from './contact';
import { AppError, invalidField, notFound } from './errors';
import { addressColumn, csvBatches, csvLine, CsvParser, guessKind, isBlank, type AddressColumn, type CsvRecord } from './csv';

export interface Verdict {
  allowed: boolean;
  reason: CheckReason;
  since: string | null;
  wordingVersion: number | null;
  source: string | null;
  list?: string;
}

export interface ContactError {
  allowed: false;
  error: { code: string; message: string };
}

export type CheckResult = Verdict | ContactError;

export interface CheckPlan {
  siteId: string;
  purpose: CatalogPurpose;
  channel: Channel;
  legalBasis: LegalBasis;
  needsConsent: boolean;
  defaultCountry: string;
  sourceKeys: Map<string, string>;
  wordingVersions: Map<string, number>;
}

export type ContactKind = 'email' | 'phone' | 'subjectId';

/** A contact ready to look up: a blind index (email, phone) or a subject id; or why it cannot be. */
export type PreparedContact = { kind: 'email' | 'phone'; bidx: string } | { kind: 'subjectId'; id: string } | ContactError;

const plans = new WeakMap<SiteCatalog, Map<string, CheckPlan>>();

/** What a check of `purposeKey` needs from the site's definitions (cached with the catalog copy). */
export async function checkPlan(ctx: ServiceContext, siteId: string, purposeKey: string): Promise<CheckPlan> {
  let catalog = await ctx.catalog.get(siteId);
  if (!catalog) throw notFound('site');
  if (!catalog.purposesByKey.has(purposeKey)) catalog = (await ctx.catalog.get(siteId, { fresh: true }))!;
  let byKey = plans.get(catalog);
  if (!byKey) plans.set(catalog, (byKey = new Map()));
  const cached = byKey.get(purposeKey);
  if (cached) return cached;
  const purpose = catalog.purposesByKey.get(purposeKey);
  if (!purpose) throw invalidField('purpose', 'no such purpose on this site', 'unknown_purpose');
  if (purpose.role !== 'purpose' || purpose.channel === 'cookie') {
    throw invalidField('purpose', 'cookie-banner categories are not checked per person', 'not_checkable');
  }
  const needsConsent = basisNeedsConsent(purpose.legalBasis) || (purpose.legalBasis === '6-1-f' && (purpose.channel === 'email' || purpose.channel === 'sms'));
  const plan: CheckPlan = {
    siteId,
    purpose,
    channel: purpose.channel,
    legalBasis: purpose.legalBasis,
    needsConsent,
    defaultCountry: catalog.defaultCountry,
    sourceKeys: new Map([...catalog.sourcesByKey.values()].map((s) => [s.id, s.key])),
    wordingVersions: new Map([...catalog.wordingsById.values()].map((w) => [w.id, w.version])),
  };
  byKey.set(purposeKey, plan);
  return plan;
}

const invalid = (code: string, message: string): ContactError => ({ allowed: false, error: { code, message } });

/** Normalises and blind-indexes one address; `kind` says what it is. */
export function prepareContact(ctx: ServiceContext, plan: CheckPlan, kind: ContactKind, raw: string): PreparedContact {
  if (kind === 'email') {
    const email = raw.trim();
    if (email.length > 254 || !EMAIL_PATTERN.test(email)) return invalid('invalid_email', 'email: must be an e-mail address');
    return { kind, bidx: ctx.crypto.blindIndex(plan.siteId, 'email', normalizeEmail(email)) };
  }
  if (kind === 'phone') {
    if (!PHONE_PATTERN.test(raw)) return invalid('invalid_phone', 'phone: must be a phone number');
    const phone = normalizePhone(raw, plan.defaultCountry);
    if (!phone) return invalid('invalid_phone', 'phone: not a valid phone number');
    return { kind, bidx: ctx.crypto.blindIndex(plan.siteId, 'phone', phone) };
  }
  if (!SUBJECT_ID_PATTERN.test(raw)) return invalid('invalid_subject_id', 'subjectId: must be a subject id');
  return { kind, id: raw };
}

/** One entry of a bulk body: `{email}`, `{phone}` or `{subjectId}`; the usual shapes skip the schema call. */
export function prepareEntry(ctx: ServiceContext, plan: CheckPlan, entry: unknown): PreparedContact {
  if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
    let only: string | undefined;
    let n = 0;
    for (const k in entry) {
      only = k;
      if (++n > 1) break;
    }
    if (n === 1 && (only === 'email' || only === 'phone' || only === 'subjectId')) {
      const value = (entry as Record<string, unknown>)[only];
      if (typeof value === 'string') return prepareContact(ctx, plan, only, value);
    }
  }
  // Something unusual: the schema says what is wrong (without echoing the value).
  const parsed = v.safeParse(BulkContact, entry);
  if (parsed.success) {
    const [kind, value] = Object.entries(parsed.output)[0] as [ContactKind, string];
    return prepareContact(ctx, plan, kind, value);
  }
  return invalid('invalid_contact', 'each contact is an object with exactly one of email, phone or subjectId, a string');
}

interface SubjectRow {
  id: string;
  emailBidx: string | null;
  phoneBidx: string | null;
  restricted: boolean;
  erasedAt: number | null;
  status: string | null;
  updatedAt: number | null;
  wordingVersionId: string | null;
  sourceId: string | null;
  action: string | null;
}

interface SuppressionRow {
  id: number;
  channel: string;
  reason: string;
  list: string;
  purposeId: string | null;
  createdAt: number;
}

export const CHUNK = 500;
const placeholderCache = new Map<number, string>();
const placeholders = (n: number) => {
  let s = placeholderCache.get(n);
  if (!s) placeholderCache.set(n, (s = Array(n).fill('?').join(',')));
  return s;
};

const SUBJECT_SELECT =
  'SELECT s.id, s.email_bidx, s.phone_bidx, s.restricted, s.erased_at, cs.status, cs.updated_at, cs.wording_version_id, cs.source_id, e.action' +
  ' FROM subjects s LEFT JOIN consent_states cs ON cs.subject_id = s.id AND cs.purpose_id = ?' +
  " LEFT JOIN consent_events e ON e.id = cs.event_id AND cs.status = 'withdrawn'" +
  ' WHERE s.site_id = ? AND ';

function toSubject(r: Record<string, unknown>): SubjectRow {
  return {
    id: r.id as string,
    emailBidx: r.email_bidx as string | null,
    phoneBidx: r.phone_bidx as string | null,
    restricted: Number(r.restricted) === 1,
    erasedAt: r.erased_at === null ? null : Number(r.erased_at),
    status: r.status as string | null,
    updatedAt: r.updated_at === null ? null : Number(r.updated_at),
    wordingVersionId: r.wording_version_id as string | null,
    sourceId: r.source_id as string | null,
    action: r.action as string | null,
  };
}

async function subjectsBy(client: Client, plan: CheckPlan, column: 'email_bidx' | 'phone_bidx' | 'id', keys: string[], into: Map<string, SubjectRow>) {
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    const { rows } = await client.execute({
      sql: `${SUBJECT_SELECT}s.${column} IN (${placeholders(chunk.length)})`,
      args: [plan.purpose.id, plan.siteId, ...chunk] as InValue[],
    });
    for (const r of rows) {
      const s = toSubject(r as unknown as Record<string, unknown>);
      const key = column === 'id' ? s.id : column === 'email_bidx' ? s.emailBidx : s.phoneBidx;
      into.set(key!, s);
    }
  }
}

async function suppressionsBy(client: Client, plan: CheckPlan, channel: 'email' | 'sms', bidxs: string[], into: Map<string, SuppressionRow[]>) {
  for (let i = 0; i < bidxs.length; i += CHUNK) {
    const chunk = bidxs.slice(i, i + CHUNK);
    const { rows } = await client.execute({
      sql: `SELECT id, bidx, reason, list, purpose_id, created_at FROM suppressions WHERE site_id = ? AND channel = ? AND bidx IN (${placeholders(chunk.length)})`,
      args: [plan.siteId, channel, ...chunk],
    });
    for (const r of rows) {
      const row: SuppressionRow = {
        id: Number(r.id),
        channel,
        reason: r.reason as string,
        list: r.list as string,
        purposeId: r.purpose_id as string | null,
        createdAt: Number(r.created_at),
      };
      const key = `${channel}\0${r.bidx as string}`;
      const list = into.get(key);
      if (list) list.push(row);
      else into.set(key, [row]);
    }
  }
}

const SUPPRESSION_REASON: Record<string, CheckReason> = {
  unsubscribe: 'unsubscribed',
  'sms-stop': 'sms-stopped',
  bounced: 'bounced',
  complained: 'complained',
  listed: 'listed',
  erased: 'erased',
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const blocked = (reason: CheckReason, since: number | null): Verdict => ({ allowed: false, reason, since: iso(since), wordingVersion: null, source: null });

/** The decision, from what is on record (see the precedence at the top of this file). */
export function decide(plan: CheckPlan, subject: SubjectRow | undefined, suppressions: SuppressionRow[]): Verdict {
  let erased: SuppressionRow | undefined;
  let best: SuppressionRow | undefined;
  for (const s of suppressions) {
    if (s.reason === 'erased') {
      erased ??= s;
      continue;
    }
    if (s.channel !== plan.channel || (s.purposeId !== null && s.purposeId !== plan.purpose.id)) continue;
    if (
      !best ||
      (s.purposeId !== null && best.purposeId === null) ||
      ((s.purposeId !== null) === (best.purposeId !== null) && (s.createdAt < best.createdAt || (s.createdAt === best.createdAt && s.id < best.id)))
    ) {
      best = s;
    }
  }
  if (subject?.erasedAt != null) return blocked('erased', subject.erasedAt);
  if (erased) return blocked('erased', erased.createdAt);
  if (subject?.restricted) return blocked('restricted', null);
  if (best) {
    const verdict = blocked(SUPPRESSION_REASON[best.reason] ?? 'listed', best.createdAt);
    if (best.list) verdict.list = best.list;
    return verdict;
  }
  const state = subject?.status ? subject : undefined;
  const fromState = (allowed: boolean, reason: CheckReason): Verdict => ({
    allowed,
    reason,
    since: iso(state!.updatedAt),
    wordingVersion: state!.wordingVersionId ? (plan.wordingVersions.get(state!.wordingVersionId) ?? null) : null,
    source: state!.sourceId ? (plan.sourceKeys.get(state!.sourceId) ?? null) : null,
  });
  if (state) {
    if (state.status === 'objected') return fromState(false, 'objected');
    if (state.status === 'withdrawn') {
      return fromState(false, state.action === 'unsubscribe' ? 'unsubscribed' : state.action === 'sms-stop' ? 'sms-stopped' : 'withdrawn');
    }
    if (plan.needsConsent) return state.status === 'granted' ? fromState(true, 'consented') : state.status === 'pending' ? fromState(false, 'pending-confirmation') : fromState(false, 'no-consent');
    return state.status === 'granted' ? fromState(true, 'legal-basis') : { allowed: true, reason: 'legal-basis', since: null, wordingVersion: null, source: null };
  }
  if (plan.needsConsent) return { allowed: false, reason: 'no-consent', since: null, wordingVersion: null, source: null };
  return { allowed: true, reason: 'legal-basis', since: null, wordingVersion: null, source: null };
}

const SUPPRESSION_CHANNEL = { email: 'email', phone: 'sms' } as const;

/** Checks prepared contacts; answers in input order. */
export async function checkPrepared(ctx: ServiceContext, plan: CheckPlan, contacts: PreparedContact[]): Promise<CheckResult[]> {
  const client = ctx.db.$client;
  const keys = { email: new Set<string>(), phone: new Set<string>(), subjectId: new Set<string>() };
  for (const c of contacts) {
    if ('error' in c) continue;
    if (c.kind === 'subjectId') keys.subjectId.add(c.id);
    else keys[c.kind].add(c.bidx);
  }
  const byEmail = new Map<string, SubjectRow>();
  const byPhone = new Map<string, SubjectRow>();
  const byId = new Map<string, SubjectRow>();
  if (keys.email.size) await subjectsBy(client, plan, 'email_bidx', [...keys.email], byEmail);
  if (keys.phone.size) await subjectsBy(client, plan, 'phone_bidx', [...keys.phone], byPhone);
  if (keys.subjectId.size) await subjectsBy(client, plan, 'id', [...keys.subjectId], byId);

  // The suppressions to look at: the address asked about, and the person's address on the
  // purpose's channel when that is another one (a phone number checked for e-mail marketing).
  const purposeChannel = plan.channel === 'email' || plan.channel === 'sms' ? plan.channel : undefined;
  const lookups = { email: new Set<string>(keys.email), sms: new Set<string>(keys.phone) };
  const subjects: (SubjectRow | undefined)[] = new Array(contacts.length);
  for (let i = 0; i < contacts.length; i++) {
    const c = contacts[i]!;
    if ('error' in c) continue;
    const s = c.kind === 'subjectId' ? byId.get(c.id) : (c.kind === 'email' ? byEmail : byPhone).get(c.bidx);
    subjects[i] = s;
    if (s && purposeChannel) {
      const own = purposeChannel === 'email' ? s.emailBidx : s.phoneBidx;
      if (own) lookups[purposeChannel].add(own);
    }
  }
  const suppressions = new Map<string, SuppressionRow[]>();
  if (lookups.email.size) await suppressionsBy(client, plan, 'email', [...lookups.email], suppressions);
  if (lookups.sms.size) await suppressionsBy(client, plan, 'sms', [...lookups.sms], suppressions);

  const none: SuppressionRow[] = [];
  return contacts.map((c, i) => {
    if ('error' in c) return c;
    const s = subjects[i];
    let found: SuppressionRow[] = none;
    if (c.kind !== 'subjectId') found = suppressions.get(`${SUPPRESSION_CHANNEL[c.kind]}\0${c.bidx}`) ?? none;
    if (s && purposeChannel && SUPPRESSION_CHANNEL[c.kind as 'email' | 'phone'] !== purposeChannel) {
      const own = purposeChannel === 'email' ? s.emailBidx : s.phoneBidx;
      const more = own ? suppressions.get(`${purposeChannel}\0${own}`) : undefined;
      if (more) found = found.length ? [...found, ...more] : more;
    }
    return decide(plan, s, found);
  });
}

export interface CheckAnswer extends Verdict {
  channel: Channel;
  purpose: string;
  legalBasis: LegalBasis;
}

/** GET /check: one address. */
export async function checkOne(ctx: ServiceContext, siteId: string, purposeKey: string, contact: { email?: string; phone?: string }): Promise<CheckAnswer> {
  const plan = await checkPlan(ctx, siteId, purposeKey);
  const kind = contact.email !== undefined ? 'email' : 'phone';
  const prepared = prepareContact(ctx, plan, kind, contact.email ?? contact.phone!);
  if ('error' in prepared) throw new AppError('invalid', prepared.error.code, prepared.error.message, [{ field: kind, message: prepared.error.message.replace(/^\w+: /, '') }]);
  const [result] = await checkPrepared(ctx, plan, [prepared]);
  return { ...(result as Verdict), channel: plan.channel, purpose: plan.purpose.key, legalBasis: plan.legalBasis };
}

export interface BulkAnswer {
  purpose: string;
  channel: Channel;
  legalBasis: LegalBasis;
  counts: { allowed: number; blocked: number; invalid: number };
  results: CheckResult[];
}

/** POST /check: many entries, each answered on its own. */
export async function checkBulk(ctx: ServiceContext, siteId: string, purposeKey: string, entries: unknown[]): Promise<BulkAnswer> {
  const plan = await checkPlan(ctx, siteId, purposeKey);
  const prepared = entries.map((e) => prepareEntry(ctx, plan, e));
  const results = await checkPrepared(ctx, plan, prepared);
  const counts = { allowed: 0, blocked: 0, invalid: 0 };
  for (const r of results) {
    if ('error' in r) counts.invalid++;
    else if (r.allowed) counts.allowed++;
    else counts.blocked++;
  }
  return { purpose: plan.purpose.key, channel: plan.channel, legalBasis: plan.legalBasis, counts, results };
}

/** Rows checked at a time by the CSV check: memory stays flat whatever the file's size. */
export const CSV_BATCH = 2000;

export interface CsvCheckOptions {
  column?: string;
  batch?: number;
}

/**
 * POST /check.csv and `samtykke check`: the same CSV back, row by row, with `allowed` and
 * `reason` appended (`invalid` for a row without a usable address). Blank lines are
 * dropped. Reads and answers in batches, so it runs in constant memory; the answer is
 * pulled, so a slow reader slows the reading of the input instead of filling memory.
 * Throws before anything is answered for an unknown purpose or column.
 */
export async function checkCsv(
  ctx: ServiceContext,
  siteId: string,
  purposeKey: string,
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: CsvCheckOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  const plan = await checkPlan(ctx, siteId, purposeKey);
  const parser = new CsvParser();
  const batches = csvBatches(body, parser, options.batch ?? CSV_BATCH);
  let first = await batches.next();
  // Skip leading blank lines to find the header (or first row).
  while (!first.done && first.value.every(isBlank)) first = await batches.next();
  let column: AddressColumn | undefined;
  if (!first.done) {
    const firstRecord = first.value.find((r) => !isBlank(r))!;
    column = addressColumn(firstRecord.fields, options.column);
    if (!column) {
      await batches.return(undefined);
      throw invalidField('column', 'no column of that name in the first row', 'unknown_column');
    }
  }
  const encoder = new TextEncoder();
  let pending: CsvRecord[] | undefined = first.done ? undefined : first.value;
  let headerDone = !column?.header;
  const checkCsvBatch = async (batch: CsvRecord[]): Promise<string> => {
    const lineEnd = parser.lineEnd ?? '\r\n';
    let out = '';
    const rows: { record: CsvRecord; at: number }[] = [];
    const prepared: PreparedContact[] = [];
    for (const record of batch) {
      if (isBlank(record)) continue;
      if (!headerDone) {
        headerDone = true;
        out += csvLine([...record.fields, 'allowed', 'reason'], lineEnd);
        continue;
      }
      const value = (record.fields[column!.index] ?? '').trim();
      let contact: PreparedContact;
      if (record.malformed || value === '') contact = invalid('invalid_row', 'no usable address in this row');
      else contact = prepareContact(ctx, plan, column!.kind === 'auto' ? guessKind(value) : column!.kind, value);
      rows.push({ record, at: prepared.length });
      prepared.push(contact);
    }
    const results = prepared.length ? await checkPrepared(ctx, plan, prepared) : [];
    for (const { record, at } of rows) {
      const r = results[at]!;
      out += csvLine([...record.fields, 'error' in r ? 'false' : r.allowed ? 'true' : 'false', 'error' in r ? 'invalid' : r.reason], lineEnd);
    }
    return out;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // Loop until something is sent: a pull that enqueues nothing would not be repeated.
          for (;;) {
            let batch = pending;
            pending = undefined;
            if (!batch) {
              const next = await batches.next();
              if (next.done) {
                controller.close();
                return;
              }
              batch = next.value;
            }
            const out = await checkCsvBatch(batch);
            if (out) {
              controller.enqueue(encoder.encode(out));
              return;
            }
          }
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await batches.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}

export interface SplitSummary {
  rows: number;
  allowed: number;
  blocked: number;
  byReason: Record<string, number>;
}

/** Where `samtykke check` writes: allowed rows as they came in; rejected rows with their reason appended. */
export interface SplitSinks {
  allowed: (text: string) => Promise<void>;
  rejected?: (text: string) => Promise<void>;
}

/** Reads a checked CSV (the answer of checkCsv or POST check.csv) and splits it into allowed and rejected rows. */
export async function splitCheckedCsv(checked: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, sinks: SplitSinks): Promise<SplitSummary> {
  const summary: SplitSummary = { rows: 0, allowed: 0, blocked: 0, byReason: {} };
  const parser = new CsvParser();
  let first = true;
  for await (const batch of csvBatches(checked, parser, CSV_BATCH)) {
    const lineEnd = parser.lineEnd ?? '\r\n';
    let allowed = '';
    let rejected = '';
    for (const record of batch) {
      const f = record.fields;
      const verdict = f[f.length - 2];
      const reason = f[f.length - 1]!;
      const row = f.slice(0, -2);
      if (first) {
        first = false;
        if (verdict === 'allowed' && reason === 'reason') {
          allowed += csvLine(row, lineEnd);
          rejected += csvLine([...row, 'reason'], lineEnd);
          continue;
        }
      }
      summary.rows++;
      if (verdict === 'true') {
        summary.allowed++;
        allowed += csvLine(row, lineEnd);
      } else {
        summary.blocked++;
        summary.byReason[reason] = (summary.byReason[reason] ?? 0) + 1;
        rejected += csvLine([...row, reason], lineEnd);
      }
    }
    if (allowed) await sinks.allowed(allowed);
    if (rejected && sinks.rejected) await sinks.rejected(rejected);
  }
  return summary;
}
