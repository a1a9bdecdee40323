/**
 * Send checks: may this person be contacted for this purpose on this channel?
 *
 * One decision function, fed alike for a single check, a bulk check of 100,000 and a
 * streamed CSV of any length: the people asked about with their state for the purpose,
 * and the suppressions of their addresses. A single address is one statement; many are
 * looked up in sorted chunks, each key list one JSON parameter and each answer one JSON
 * text (check-reader.ts: its own connection with prepared statements, and worker
 * threads for the big lookups, on a local database file).
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
import * as v from 'valibot';
import { basisNeedsConsent, suppressionCheckReason, type Channel, type CheckReason, type LegalBasis } from '../../shared/enums';
import { BulkContact, EMAIL_PATTERN, PHONE_PATTERN, SUBJECT_ID_PATTERN } from '../../shared/check-api';
import type { CatalogPurpose, SiteCatalog } from './catalog';
import type { ServiceContext } from './context';
import { normalizeEmail, normalizePhone } from './contact';
import { AppError, invalidField, notFound } from './errors';
import { checkIndexFor, KNOWN_SQL, STATE_JOIN, type CheckIndex, type IndexedSubject, type IndexedSuppression } from './check-index';
import { checkReader, type CheckReader } from './check-reader';
import { BLIND_INDEX_LENGTH } from './check-hmac';
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
  return planOf(catalog, siteId, purposeKey);
}

/** The plan at once, from a loaded catalog copy that knows the purpose; else undefined (ask checkPlan). */
function cachedPlan(ctx: ServiceContext, siteId: string, purposeKey: string): CheckPlan | undefined {
  const catalog = ctx.catalog.peek(siteId);
  return catalog?.purposesByKey.has(purposeKey) ? planOf(catalog, siteId, purposeKey) : undefined;
}

function planOf(catalog: SiteCatalog, siteId: string, purposeKey: string): CheckPlan {
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

/** A contact checked for form and normalised, not yet blind-indexed. */
export type NormalizedContact = { kind: 'email' | 'phone'; value: string } | { kind: 'subjectId'; id: string } | ContactError;

/** Checks and normalises one address; `kind` says what it is. */
export function normalizeContact(plan: CheckPlan, kind: ContactKind, raw: string): NormalizedContact {
  if (kind === 'email') {
    const email = raw.trim();
    if (email.length > 254 || !EMAIL_PATTERN.test(email)) return invalid('invalid_email', 'email: must be an e-mail address');
    return { kind, value: normalizeEmail(email) };
  }
  if (kind === 'phone') {
    if (!PHONE_PATTERN.test(raw)) return invalid('invalid_phone', 'phone: must be a phone number');
    const phone = normalizePhone(raw, plan.defaultCountry);
    if (!phone) return invalid('invalid_phone', 'phone: not a valid phone number');
    return { kind, value: phone };
  }
  if (!SUBJECT_ID_PATTERN.test(raw)) return invalid('invalid_subject_id', 'subjectId: must be a subject id');
  return { kind, id: raw };
}

/** The blind index of a normalised address (on this thread). */
function hashed(ctx: ServiceContext, plan: CheckPlan, c: NormalizedContact): PreparedContact {
  return 'value' in c ? { kind: c.kind, bidx: ctx.crypto.blindIndex(plan.siteId, c.kind, c.value) } : c;
}

/** Normalises and blind-indexes one address; `kind` says what it is. */
export function prepareContact(ctx: ServiceContext, plan: CheckPlan, kind: ContactKind, raw: string): PreparedContact {
  return hashed(ctx, plan, normalizeContact(plan, kind, raw));
}

/** One entry of a bulk body: `{email}`, `{phone}` or `{subjectId}`; the usual shapes skip the schema call. */
export function prepareEntry(ctx: ServiceContext, plan: CheckPlan, entry: unknown): PreparedContact {
  return hashed(ctx, plan, normalizeEntry(plan, entry));
}

function normalizeEntry(plan: CheckPlan, entry: unknown): NormalizedContact {
  if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
    let only: string | undefined;
    let n = 0;
    for (const k in entry) {
      only = k;
      if (++n > 1) break;
    }
    if (n === 1 && (only === 'email' || only === 'phone' || only === 'subjectId')) {
      const value = (entry as Record<string, unknown>)[only];
      if (typeof value === 'string') return normalizeContact(plan, only, value);
    }
  }
  // Something unusual: the schema says what is wrong (without echoing the value).
  const parsed = v.safeParse(BulkContact, entry);
  if (parsed.success) {
    const [kind, value] = Object.entries(parsed.output)[0] as [ContactKind, string];
    return normalizeContact(plan, kind, value);
  }
  return invalid('invalid_contact', 'each contact is an object with exactly one of email, phone or subjectId, a string');
}

/** What is on record for one person, for the plan's purpose (the fields the index keeps too). */
interface SubjectRow extends IndexedSubject {
  /** The person's blind index on the purpose's channel, when that is not the channel asked about. */
  own: string | null;
}

type SuppressionRow = IndexedSuppression;

/** Keys per statement: sorted, so neighbouring lookups share index pages; the event loop gets a turn between chunks. */
export const CHUNK = 10_000;

type SubjectColumn = 'email_bidx' | 'phone_bidx' | 'id';

const subjectSqlCache = new Map<string, string>();
/**
 * People by `by` (one JSON array of keys, ?3), with their state for the purpose (?1) on
 * the site (?2), their address on the purpose's channel (`own`) and (`known`) whether
 * they are on record beyond an unconfirmed signup; one JSON text back.
 */
function subjectSql(by: SubjectColumn, own: 'email_bidx' | 'phone_bidx' | null, known: boolean): string {
  const cacheKey = `${by}:${own}:${known}`;
  let sql = subjectSqlCache.get(cacheKey);
  if (!sql) {
    sql =
      `SELECT json_group_array(json_array(j.key, s.restricted, s.erased_at, cs.status, cs.updated_at, cs.wording_version_id, cs.source_id, e.action, ${own ? `s.${own}` : 'NULL'}, ${known ? KNOWN_SQL : 'NULL'}))` +
      ` FROM json_each(?3) j JOIN subjects s ON s.site_id = ?2 AND s.${by} = j.value${STATE_JOIN}`;
    subjectSqlCache.set(cacheKey, sql);
  }
  return sql;
}

/** Suppressions on a channel (?2) of the site (?1) for a JSON array of blind indexes (?3); one JSON text back. */
const SUPPRESSION_SQL =
  'SELECT json_group_array(json_array(j.key, x.id, x.reason, x.list, x.purpose_id, x.created_at))' +
  ' FROM json_each(?3) j JOIN suppressions x ON x.site_id = ?1 AND x.channel = ?2 AND x.bidx = j.value';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

type SubjectTuple = [number, number, number | null, string | null, number | null, string | null, string | null, string | null, string | null, number | null];
type SuppressionTuple = [number, number, string, string, string | null, number];

/** Keys from which a lookup goes to the worker threads (fewer are not worth the messages). */
const HEAVY_LOOKUP = 2000;

/** Runs `lookup` over sorted `keys` in chunks: on the worker threads, all at once, when there are many. */
async function inChunks(reader: CheckReader, keys: string[], lookup: (chunk: string[], heavy: boolean) => Promise<void>): Promise<void> {
  keys.sort();
  if (keys.length >= HEAVY_LOOKUP && reader.parallelism > 0) {
    const size = Math.min(CHUNK, Math.ceil(keys.length / reader.parallelism));
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < keys.length; i += size) jobs.push(lookup(keys.slice(i, i + size), true));
    await Promise.all(jobs);
    return;
  }
  for (let i = 0; i < keys.length; i += CHUNK) {
    if (i > 0) await nextTurn();
    await lookup(keys.length <= CHUNK ? keys : keys.slice(i, i + CHUNK), false);
  }
}

function subjectsBy(reader: CheckReader, plan: CheckPlan, by: SubjectColumn, own: 'email_bidx' | 'phone_bidx' | null, keys: string[], into: Map<string, SubjectRow>) {
  const sql = subjectSql(by, own, !plan.needsConsent);
  return inChunks(reader, keys, async (chunk, heavy) => {
    const rows = JSON.parse(await reader.json(sql, [plan.purpose.id, plan.siteId, JSON.stringify(chunk)], heavy)) as SubjectTuple[];
    for (const r of rows) {
      into.set(chunk[r[0]]!, {
        restricted: Number(r[1]) === 1,
        erasedAt: r[2],
        status: r[3],
        updatedAt: r[4],
        wordingVersionId: r[5],
        sourceId: r[6],
        action: r[7],
        own: r[8],
        known: Number(r[9]) === 1,
      });
    }
  });
}

function suppressionsBy(reader: CheckReader, plan: CheckPlan, channel: 'email' | 'sms', bidxs: string[], into: Map<string, SuppressionRow[]>) {
  return inChunks(reader, bidxs, async (chunk, heavy) => {
    const rows = JSON.parse(await reader.json(SUPPRESSION_SQL, [plan.siteId, channel, JSON.stringify(chunk)], heavy)) as SuppressionTuple[];
    for (const r of rows) {
      const row: SuppressionRow = { id: r[1], channel, reason: r[2], list: r[3], purposeId: r[4], createdAt: r[5] };
      const key = `${channel}\0${chunk[r[0]]!}`;
      const list = into.get(key);
      if (list) list.push(row);
      else into.set(key, [row]);
    }
  });
}

/** Timestamps repeat (a list imported at once, a campaign's grants): remember the last one formatted. */
let lastMs: number | null = null;
let lastIso: string | null = null;
const iso = (ms: number | null) => {
  if (ms === null) return null;
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
};
const blocked = (reason: CheckReason, since: number | null): Verdict => ({ allowed: false, reason, since: iso(since), wordingVersion: null, source: null });

/** A verdict from the person's state for the purpose. */
function fromState(plan: CheckPlan, state: IndexedSubject, allowed: boolean, reason: CheckReason): Verdict {
  return {
    allowed,
    reason,
    since: iso(state.updatedAt),
    wordingVersion: state.wordingVersionId ? (plan.wordingVersions.get(state.wordingVersionId) ?? null) : null,
    source: state.sourceId ? (plan.sourceKeys.get(state.sourceId) ?? null) : null,
  };
}

/** The decision, from what is on record (see the precedence at the top of this file). */
export function decide(plan: CheckPlan, subject: IndexedSubject | undefined, suppressions: SuppressionRow[], reachable = true): Verdict {
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
    const verdict = blocked(suppressionCheckReason(best.reason), best.createdAt);
    if (best.list) verdict.list = best.list;
    return verdict;
  }
  const state = subject?.status ? subject : undefined;
  if (state) {
    if (state.status === 'objected') return fromState(plan, state, false, 'objected');
    if (state.status === 'withdrawn') {
      return fromState(plan, state, false, state.action === 'unsubscribe' ? 'unsubscribed' : state.action === 'sms-stop' ? 'sms-stopped' : 'withdrawn');
    }
    if (state.status === 'pending') return fromState(plan, state, false, 'pending-confirmation');
    // Nothing blocks. Allowed only on a channel we can vouch for: an SMS purpose checked by
    // e-mail needs the person's number on record (its STOP would otherwise go unseen).
    if (!reachable) return NO_CONSENT;
    if (state.status === 'granted') return fromState(plan, state, true, plan.needsConsent ? 'consented' : 'legal-basis');
    if (plan.needsConsent) return fromState(plan, state, false, 'no-consent');
  }
  if (plan.needsConsent || !reachable) return NO_CONSENT;
  // Another basis than consent: the person must be on record beyond an unconfirmed signup.
  return subject?.known ? { allowed: true, reason: 'legal-basis', since: null, wordingVersion: null, source: null } : NO_CONSENT;
}

const NO_CONSENT: Readonly<Verdict> = Object.freeze({ allowed: false, reason: 'no-consent', since: null, wordingVersion: null, source: null });

const SUPPRESSION_CHANNEL = { email: 'email', phone: 'sms', subjectId: undefined } as const;
const OWN_COLUMN = { email: 'email_bidx', sms: 'phone_bidx' } as const;

/** What check.ts reads of the full services (the HTTP app, the CLI), when present. */
type CheckContext = ServiceContext & { database?: { url: string }; checkWorkers?: number; checkIndex?: boolean | 'await' };

/** The in-memory index of the plan's (site, purpose), when checks use one (CHECK_INDEX, a local database file). */
function indexOf(ctx: CheckContext, reader: CheckReader, plan: CheckPlan): CheckIndex | undefined {
  return ctx.checkIndex ? checkIndexFor(reader, plan.siteId, plan.purpose.id, !plan.needsConsent) : undefined;
}

/** The plan's index, brought up to date; undefined when checks must read the database. */
async function usableIndex(ctx: CheckContext, reader: CheckReader, plan: CheckPlan): Promise<CheckIndex | undefined> {
  const index = indexOf(ctx, reader, plan);
  if (!index) return undefined;
  if (ctx.checkIndex === 'await' && !index.ready) await index.build();
  return index.refresh() ? index : undefined;
}

/** The verdict for one address from the index (refreshed in this turn). */
function fromIndex(index: CheckIndex, plan: CheckPlan, contact: { kind: 'email' | 'phone'; bidx: string }): Verdict {
  const found = index.lookup(SUPPRESSION_CHANNEL[contact.kind], contact.bidx, plan.channel === 'email' || plan.channel === 'sms' ? plan.channel : undefined);
  return decide(plan, found.subject, found.suppressions, found.reachable);
}

/**
 * Builds the in-memory index of (site, purpose) now, instead of on its first check (the
 * benchmark, and a deployment that wants it warm). False when checks read the database.
 */
export async function warmCheckIndex(ctx: ServiceContext, siteId: string, purposeKey: string): Promise<boolean> {
  const plan = await checkPlan(ctx, siteId, purposeKey);
  const index = indexOf(ctx as CheckContext, checkReader(ctx as CheckContext), plan);
  if (!index) return false;
  if (!index.ready) await index.build();
  return index.ready;
}

/** Checks prepared contacts; answers in input order. */
export async function checkPrepared(ctx: ServiceContext, plan: CheckPlan, contacts: PreparedContact[]): Promise<CheckResult[]> {
  const reader = checkReader(ctx as CheckContext);
  const index = await usableIndex(ctx as CheckContext, reader, plan);
  if (!index) return checkFromDatabase(reader, plan, contacts);
  // Synchronously, in one turn: every answer reflects the same moment.
  const results: CheckResult[] = new Array(contacts.length);
  let byId: number[] | undefined;
  for (let i = 0; i < contacts.length; i++) {
    const c = contacts[i]!;
    if ('error' in c) results[i] = c;
    else if (c.kind === 'subjectId') (byId ??= []).push(i);
    else results[i] = fromIndex(index, plan, c);
  }
  // Subject ids are not indexed (erased people have no address left to index them by).
  if (byId) {
    const answers = await checkFromDatabase(reader, plan, byId.map((i) => contacts[i]!));
    byId.forEach((i, k) => (results[i] = answers[k]!));
  }
  return results;
}

/** Checks prepared contacts by reading the database; answers in input order. */
async function checkFromDatabase(reader: CheckReader, plan: CheckPlan, contacts: PreparedContact[]): Promise<CheckResult[]> {
  const keys = { email: new Set<string>(), phone: new Set<string>(), subjectId: new Set<string>() };
  for (const c of contacts) {
    if ('error' in c) continue;
    if (c.kind === 'subjectId') keys.subjectId.add(c.id);
    else keys[c.kind].add(c.bidx);
  }
  // The suppressions to look at: the address asked about, and the person's address on the
  // purpose's channel when that is another one (a phone number checked for e-mail marketing).
  const purposeChannel = plan.channel === 'email' || plan.channel === 'sms' ? plan.channel : undefined;
  const ownFor = (kind: ContactKind) => (purposeChannel && SUPPRESSION_CHANNEL[kind] !== purposeChannel ? OWN_COLUMN[purposeChannel] : null);
  const byEmail = new Map<string, SubjectRow>();
  const byPhone = new Map<string, SubjectRow>();
  const byId = new Map<string, SubjectRow>();
  const suppressions = new Map<string, SuppressionRow[]>();
  // The addresses asked about and the people behind them, looked up side by side.
  const first: Promise<void>[] = [];
  if (keys.email.size) {
    first.push(subjectsBy(reader, plan, 'email_bidx', ownFor('email'), [...keys.email], byEmail));
    first.push(suppressionsBy(reader, plan, 'email', [...keys.email], suppressions));
  }
  if (keys.phone.size) {
    first.push(subjectsBy(reader, plan, 'phone_bidx', ownFor('phone'), [...keys.phone], byPhone));
    first.push(suppressionsBy(reader, plan, 'sms', [...keys.phone], suppressions));
  }
  if (keys.subjectId.size) first.push(subjectsBy(reader, plan, 'id', ownFor('subjectId'), [...keys.subjectId], byId));
  await Promise.all(first);

  // Then the people's addresses on the purpose's channel that were not asked about.
  const more = new Set<string>();
  const asked = purposeChannel === 'email' ? keys.email : keys.phone;
  const subjects: (SubjectRow | undefined)[] = new Array(contacts.length);
  for (let i = 0; i < contacts.length; i++) {
    const c = contacts[i]!;
    if ('error' in c) continue;
    const s = c.kind === 'subjectId' ? byId.get(c.id) : (c.kind === 'email' ? byEmail : byPhone).get(c.bidx);
    subjects[i] = s;
    if (s?.own && !asked.has(s.own)) more.add(s.own);
  }
  if (more.size && purposeChannel) await suppressionsBy(reader, plan, purposeChannel, [...more], suppressions);

  const none: SuppressionRow[] = [];
  const results: CheckResult[] = new Array(contacts.length);
  for (let i = 0; i < contacts.length; i++) {
    const c = contacts[i]!;
    if ('error' in c) {
      results[i] = c;
      continue;
    }
    const s = subjects[i];
    let found: SuppressionRow[] = none;
    if (c.kind !== 'subjectId') found = suppressions.get(`${SUPPRESSION_CHANNEL[c.kind]}\0${c.bidx}`) ?? none;
    if (s?.own && purposeChannel) {
      const more = suppressions.get(`${purposeChannel}\0${s.own}`);
      if (more) found = found.length ? [...found, ...more] : more;
    }
    const cross = purposeChannel !== undefined && SUPPRESSION_CHANNEL[c.kind] !== purposeChannel;
    results[i] = decide(plan, s, found, !cross || !s || s.own !== null);
  }
  return results;
}

const singleSqlCache = new Map<string, string>();
/**
 * One address in one statement: the person found by it (?3 in `by`) with their state for
 * the purpose (?1) on the site (?2), and the address's suppressions on its channel (?4)
 * as JSON. Always one row; its first column is null when no one has the address.
 */
function singleSql(by: 'email_bidx' | 'phone_bidx', own: 'email_bidx' | 'phone_bidx' | null, known: boolean): string {
  const cacheKey = `${by}:${own}:${known}`;
  let sql = singleSqlCache.get(cacheKey);
  if (!sql) {
    sql =
      `SELECT s.id, s.restricted, s.erased_at, cs.status, cs.updated_at, cs.wording_version_id, cs.source_id, e.action, ${own ? `s.${own}` : 'NULL'},` +
      ' (SELECT json_group_array(json_array(x.id, x.reason, x.list, x.purpose_id, x.created_at)) FROM suppressions x WHERE x.site_id = ?2 AND x.channel = ?4 AND x.bidx = ?3),' +
      ` ${known ? KNOWN_SQL : 'NULL'}` +
      ` FROM (SELECT 1) LEFT JOIN subjects s ON s.site_id = ?2 AND s.${by} = ?3${STATE_JOIN}`;
    singleSqlCache.set(cacheKey, sql);
  }
  return sql;
}

/** A single e-mail address or phone number: one statement (two when the person's address on another channel must be looked at too). */
async function checkSingle(ctx: ServiceContext, plan: CheckPlan, contact: { kind: 'email' | 'phone'; bidx: string }): Promise<Verdict> {
  const reader = checkReader(ctx as CheckContext);
  const index = await usableIndex(ctx as CheckContext, reader, plan);
  if (index) return fromIndex(index, plan, contact);
  const purposeChannel = plan.channel === 'email' || plan.channel === 'sms' ? plan.channel : undefined;
  const channel = SUPPRESSION_CHANNEL[contact.kind];
  const own = purposeChannel && channel !== purposeChannel ? OWN_COLUMN[purposeChannel] : null;
  const by = contact.kind === 'email' ? 'email_bidx' : 'phone_bidx';
  const r = await reader.row(singleSql(by, own, !plan.needsConsent), [plan.purpose.id, plan.siteId, contact.bidx, channel]);
  if (!r) throw new Error('the check statement returned no row');
  const subject: SubjectRow | undefined =
    r[0] === null || r[0] === undefined
      ? undefined
      : {
          restricted: Number(r[1]) === 1,
          erasedAt: r[2] === null ? null : Number(r[2]),
          status: r[3] as string | null,
          updatedAt: r[4] === null ? null : Number(r[4]),
          wordingVersionId: r[5] as string | null,
          sourceId: r[6] as string | null,
          action: r[7] as string | null,
          own: (r[8] as string | null) ?? null,
          known: Number(r[10]) === 1,
        };
  const found: SuppressionRow[] = (JSON.parse(String(r[9] ?? '[]')) as [number, string, string, string | null, number][]).map((x) => ({
    id: x[0],
    channel,
    reason: x[1],
    list: x[2],
    purposeId: x[3],
    createdAt: x[4],
  }));
  if (subject?.own && purposeChannel) {
    const more = new Map<string, SuppressionRow[]>();
    await suppressionsBy(reader, plan, purposeChannel, [subject.own], more);
    found.push(...(more.get(`${purposeChannel}\0${subject.own}`) ?? []));
  }
  return decide(plan, subject, found, own === null || !subject || subject.own !== null);
}

export interface CheckAnswer extends Verdict {
  channel: Channel;
  purpose: string;
  legalBasis: LegalBasis;
}

/** GET /check: one address. */
export function checkOne(ctx: ServiceContext, siteId: string, purposeKey: string, contact: { email?: string; phone?: string }): CheckAnswer | Promise<CheckAnswer> {
  // At once when the site's definitions and the purpose's index are at hand (the usual
  // case): no turn is waited, which is most of what a single check would cost.
  const plan = cachedPlan(ctx, siteId, purposeKey);
  if (!plan) return checkPlan(ctx, siteId, purposeKey).then((p) => checkOneLater(ctx, p, contact));
  const index = indexOf(ctx as CheckContext, checkReader(ctx as CheckContext), plan);
  if (index?.ready && index.refresh()) return answerOf(plan, fromIndex(index, plan, prepareSingle(ctx, plan, contact)));
  return checkOneLater(ctx, plan, contact);
}

async function checkOneLater(ctx: ServiceContext, plan: CheckPlan, contact: { email?: string; phone?: string }): Promise<CheckAnswer> {
  return answerOf(plan, await checkSingle(ctx, plan, prepareSingle(ctx, plan, contact)));
}

function prepareSingle(ctx: ServiceContext, plan: CheckPlan, contact: { email?: string; phone?: string }): { kind: 'email' | 'phone'; bidx: string } {
  const kind = contact.email !== undefined ? 'email' : 'phone';
  const prepared = prepareContact(ctx, plan, kind, contact.email ?? contact.phone!);
  if ('error' in prepared) throw new AppError('invalid', prepared.error.code, prepared.error.message, [{ field: kind, message: prepared.error.message.replace(/^\w+: /, '') }]);
  return prepared as { kind: 'email' | 'phone'; bidx: string };
}

/** The verdict with the request-wide fields (written out, not spread: verdicts come in several shapes, and a spread of them is slow). */
function answerOf(plan: CheckPlan, v: Verdict): CheckAnswer {
  const answer: CheckAnswer = { allowed: v.allowed, reason: v.reason, since: v.since, wordingVersion: v.wordingVersion, source: v.source, channel: plan.channel, purpose: plan.purpose.key, legalBasis: plan.legalBasis };
  if (v.list !== undefined) answer.list = v.list;
  return answer;
}

export interface BulkAnswer {
  purpose: string;
  channel: Channel;
  legalBasis: LegalBasis;
  counts: { allowed: number; blocked: number; invalid: number };
  results: CheckResult[];
}

/** Contacts a bulk check hashes before their lookups start. */
const BULK_SLICE = 20_000;

let warnedHashWorker = false;
/** Says once that bulk checks hash on the main thread, because the worker failed (never with anything personal). */
function warnHashWorker(error: unknown) {
  if (warnedHashWorker) return;
  warnedHashWorker = true;
  console.error(JSON.stringify({ level: 'warn', event: 'hash_worker_failed', error: error instanceof Error ? error.name : 'unknown', note: 'bulk checks hash on the main thread' }));
}

/** Contacts a worker thread hashes per message in a bulk check (the first lookups wait for one). */
const HASH_SLICE = 5_000;

/** POST /check: many entries, each answered on its own. */
export async function checkBulk(ctx: ServiceContext, siteId: string, purposeKey: string, entries: unknown[]): Promise<BulkAnswer> {
  const plan = await checkPlan(ctx, siteId, purposeKey);
  const slices: Promise<CheckResult[]>[] = [];
  if (entries.length > HASH_SLICE && checkReader(ctx as CheckContext).parallelism > 0) {
    // Two threads: a worker hashes a slice while this one looks up the slice before (and
    // checks and normalises the one after: two slices are with the worker at a time).
    const send = (i: number) => {
      const contacts = entries.slice(i, i + HASH_SLICE).map((entry) => normalizeEntry(plan, entry));
      const kinds = new Uint8Array(contacts.length);
      const values: string[] = [];
      for (const c of contacts) if ('value' in c) kinds[values.push(c.value) - 1] = c.kind === 'email' ? 0 : 1;
      const hashes = ctx.crypto.blindIndexesOffThread(plan.siteId, kinds.subarray(0, values.length), values);
      hashes.catch(() => undefined); // handled where it is awaited
      return { contacts, hashes };
    };
    const pending = [send(0)];
    for (let i = 0; i < entries.length; i += HASH_SLICE) {
      if (i + HASH_SLICE < entries.length) pending.push(send(i + HASH_SLICE));
      const { contacts, hashes } = pending.shift()!;
      let text: string | undefined;
      try {
        text = await hashes;
      } catch (error) {
        text = undefined; // the worker failed: this thread hashes
        warnHashWorker(error);
      }
      let k = 0;
      const prepared = contacts.map((c): PreparedContact => {
        if (!('value' in c)) return c;
        if (text === undefined) return hashed(ctx, plan, c);
        const at = k++ * BLIND_INDEX_LENGTH;
        return { kind: c.kind, bidx: text.slice(at, at + BLIND_INDEX_LENGTH) };
      });
      slices.push(checkPrepared(ctx, plan, prepared));
    }
  } else {
    // In slices: while the worker threads look one slice up (from the database), this thread hashes the next.
    for (let i = 0; i < entries.length; i += BULK_SLICE) {
      if (i > 0) await nextTurn();
      const prepared = new Array<PreparedContact>(Math.min(BULK_SLICE, entries.length - i));
      for (let j = 0; j < prepared.length; j++) prepared[j] = prepareEntry(ctx, plan, entries[i + j]);
      slices.push(checkPrepared(ctx, plan, prepared));
    }
  }
  const results = slices.length === 1 ? await slices[0]! : (await Promise.all(slices)).flat();
  const counts = { allowed: 0, blocked: 0, invalid: 0 };
  for (const r of results) {
    if ('error' in r) counts.invalid++;
    else if (r.allowed) counts.allowed++;
    else counts.blocked++;
  }
  return { purpose: plan.purpose.key, channel: plan.channel, legalBasis: plan.legalBasis, counts, results };
}

/**
 * Rows checked at a time by the CSV check: memory stays flat whatever the file's size.
 * Small batches die young (5,000 kept enough alive across the answer's back-pressure to
 * reach the old generation: 230–283 MB peak for a million rows, against 182–202 MB with
 * 2,000). Whether they do also depends on the young generation's size: see SERVER_NODE_FLAGS.
 */
export const CSV_BATCH = 2000;
/** Batches checked at once by the CSV check (see checkCsv). */
const CSV_IN_FLIGHT = 2;

export interface CsvCheckOptions {
  column?: string;
  batch?: number;
}

/**
 * POST /check.csv and `samtykke check`: the same CSV back, row by row, with `allowed` and
 * `reason` appended (`invalid` for a row without a usable address). Blank lines are
 * dropped. Reads and answers in batches, so it runs in constant memory; the answer is
 * pulled, so a slow reader slows the reading of the input instead of filling memory.
 * The separator of the input (`,`, `;` or tab) is kept. `header` on the answer tells
 * whether its first row is the input's header row (with `allowed` and `reason` appended).
 * Throws before anything is answered for an unknown purpose or column.
 */
export async function checkCsv(
  ctx: ServiceContext,
  siteId: string,
  purposeKey: string,
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: CsvCheckOptions = {},
): Promise<CsvCheckStream> {
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
    const delimiter = parser.delimiter ?? ',';
    let out = '';
    const rows: { record: CsvRecord; at: number }[] = [];
    const prepared: PreparedContact[] = [];
    for (const record of batch) {
      if (isBlank(record)) continue;
      if (!headerDone) {
        headerDone = true;
        out += csvLine([...record.fields, 'allowed', 'reason'], lineEnd, delimiter);
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
      out += csvLine([...record.fields, 'error' in r ? 'false' : r.allowed ? 'true' : 'false', 'error' in r ? 'invalid' : r.reason], lineEnd, delimiter);
    }
    return out;
  };
  // Up to CSV_IN_FLIGHT batches are checked at once: while the worker threads look one
  // up, the main thread reads, hashes and writes the others. Memory stays bounded by it.
  const inFlight: Promise<string>[] = [];
  let inputDone = false;
  const fill = async () => {
    while (!inputDone && inFlight.length < CSV_IN_FLIGHT) {
      let batch = pending;
      pending = undefined;
      if (!batch) {
        const next = await batches.next();
        if (next.done) {
          inputDone = true;
          return;
        }
        batch = next.value;
      }
      const checking = checkCsvBatch(batch);
      checking.catch(() => {}); // awaited in order below; this keeps an early failure from going unhandled
      inFlight.push(checking);
    }
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // Loop until something is sent: a pull that enqueues nothing would not be repeated.
          for (;;) {
            await fill();
            const next = inFlight.shift();
            if (!next) {
              controller.close();
              return;
            }
            const out = await next;
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
        inputDone = true;
        await batches.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
  return Object.assign(stream, { header: column?.header ?? false });
}

/** The answer of checkCsv: the checked CSV, and whether its first row is the header row. */
export type CsvCheckStream = ReadableStream<Uint8Array> & { header: boolean };

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

/**
 * Reads a checked CSV (the answer of checkCsv or POST check.csv) and splits it into allowed
 * and rejected rows. Only a row whose verdict is `true` goes to the allowed file. `header`:
 * whether the first row is the header row (checkCsv's `header`, or the server's
 * Samtykke-Csv-Header); when not known, a first row ending in `allowed,reason` is taken as one.
 */
export async function splitCheckedCsv(
  checked: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  sinks: SplitSinks,
  options: { header?: boolean } = {},
): Promise<SplitSummary> {
  const summary: SplitSummary = { rows: 0, allowed: 0, blocked: 0, byReason: {} };
  const parser = new CsvParser();
  let first = true;
  for await (const batch of csvBatches(checked, parser, CSV_BATCH)) {
    const lineEnd = parser.lineEnd ?? '\r\n';
    const delimiter = parser.delimiter ?? ',';
    const line = (fields: string[]) => csvLine(fields, lineEnd, delimiter);
    let allowed = '';
    let rejected = '';
    for (const record of batch) {
      const f = record.fields;
      const verdict = f[f.length - 2];
      const reason = f[f.length - 1]!;
      const row = f.slice(0, -2);
      if (first) {
        first = false;
        if (options.header ?? (verdict === 'allowed' && reason === 'reason')) {
          allowed += line(row);
          rejected += line([...row, 'reason']);
          continue;
        }
      }
      summary.rows++;
      if (verdict === 'true') {
        summary.allowed++;
        allowed += line(row);
      } else {
        summary.blocked++;
        summary.byReason[reason] = (summary.byReason[reason] ?? 0) + 1;
        rejected += line([...row, reason]);
      }
    }
    if (allowed) await sinks.allowed(allowed);
    if (rejected && sinks.rejected) await sinks.rejected(rejected);
  }
  return summary;
}
