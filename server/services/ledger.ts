/**
 * The consent ledger's write path. A recorded consent is validated against the site's
 * catalog, its contact points are blind-indexed and encrypted, and then it is written
 * with every other consent of the same group commit: subjects resolved with one query,
 * events appended to each site's hash chain, current state upserted, all in the one
 * transaction whose commit is the caller's answer.
 */
import type { InArgs, InValue, Transaction } from '@libsql/client';
import { and, eq } from 'drizzle-orm';
import { idempotencyKeys } from '../db/schema';
import { basisNeedsConsent, type ConsentStatus, type RecordableAction } from '../../shared/enums';
import type { BatchWriter, Outcome, WriteContext } from '../db/write-queue';
import type { ServiceContext } from './context';
import { newId, type Crypto } from './crypto';
import { normalizeEmail, normalizePhone } from './contact';
import { conflict, invalidField, notFound } from './errors';
import { buildEvidence, sealEvidence, type EvidenceInput, type RequestMeta } from './evidence';
import { appendEvents } from './events';
import { syncRestrictedSuppressions } from './suppressions';

export const SUBJECT_EMAIL = 'subjects.email';
export const SUBJECT_PHONE = 'subjects.phone';

export interface RecordConsentInput {
  email?: string;
  phone?: string;
  purpose: string;
  action: RecordableAction;
  wordingVersion?: number;
  source?: string;
  evidence?: EvidenceInput;
}

export interface IdempotencyInput {
  apiKeyId: string;
  key: string;
  /** Hash of what was asked, so a reused key with another request is refused. */
  requestHash: string;
}

export interface RecordedConsent {
  eventId: number;
  subjectId: string;
  seq: number;
  purpose: string;
  action: RecordableAction;
  status: ConsentStatus;
  occurredAt: string;
}

export interface RecordResult {
  consent: RecordedConsent;
  /** True when an Idempotency-Key matched an earlier request: nothing new was written. */
  replayed: boolean;
}

interface ContactKey {
  bidx: string;
  enc: string;
}

interface PreparedConsent {
  siteId: string;
  purposeId: string;
  purposeKey: string;
  action: RecordableAction;
  status: ConsentStatus;
  wordingVersionId: string | null;
  sourceId: string;
  actor: string;
  email?: ContactKey;
  phone?: ContactKey;
  evidence: { sealed: string; hash: string };
  idempotency?: IdempotencyInput;
}

const STATUS_AFTER: Record<RecordableAction, ConsentStatus> = {
  grant: 'granted',
  withdraw: 'withdrawn',
  object: 'objected',
};

/** Validates a consent against the site's definitions and seals its personal data. */
async function prepare(
  ctx: ServiceContext,
  siteId: string,
  input: RecordConsentInput,
  actor: string,
  meta: RequestMeta,
): Promise<PreparedConsent> {
  let catalog = await ctx.catalog.get(siteId);
  if (!catalog) throw notFound('site');
  const sourceKey = input.source ?? 'api';
  const wordingKey = (purposeId: string) => `${purposeId}:${input.wordingVersion}`;
  let purpose = catalog.purposesByKey.get(input.purpose);
  // Something just defined on another instance may not be in this copy yet.
  if (
    !purpose ||
    !catalog.sourcesByKey.has(sourceKey) ||
    (input.wordingVersion !== undefined && !catalog.wordings.has(wordingKey(purpose.id)))
  ) {
    catalog = (await ctx.catalog.get(siteId, { fresh: true }))!;
    purpose = catalog.purposesByKey.get(input.purpose);
  }
  if (!purpose) throw invalidField('purpose', 'no such purpose on this site', 'unknown_purpose');
  const source = catalog.sourcesByKey.get(sourceKey);
  if (!source) throw invalidField('source', 'no such source on this site', 'unknown_source');
  if (source.archived) throw invalidField('source', 'this source is archived', 'archived_source');

  let wordingVersionId: string | null = null;
  if (input.wordingVersion !== undefined) {
    const wording = catalog.wordings.get(wordingKey(purpose.id));
    if (!wording) throw invalidField('wordingVersion', 'no such wording version for this purpose', 'unknown_wording');
    if (wording.status === 'draft') throw conflict('wording_not_published', 'a draft wording cannot be consented to');
    if (wording.status === 'retired' && input.action === 'grant') {
      throw conflict('wording_retired', 'this wording version is retired; grants must name a current one');
    }
    wordingVersionId = wording.id;
  } else if (input.action === 'grant' && basisNeedsConsent(purpose.legalBasis)) {
    throw invalidField('wordingVersion', 'required to grant a consent-based purpose: name the wording the person saw', 'wording_required');
  }

  const prepared: PreparedConsent = {
    siteId,
    purposeId: purpose.id,
    purposeKey: purpose.key,
    action: input.action,
    status: STATUS_AFTER[input.action],
    wordingVersionId,
    sourceId: source.id,
    actor,
    evidence: sealEvidence(ctx.crypto, buildEvidence(input.evidence, meta)),
  };
  if (input.email !== undefined) {
    const email = normalizeEmail(input.email);
    prepared.email = { bidx: ctx.crypto.blindIndex(siteId, 'email', email), enc: ctx.crypto.encrypt(email, SUBJECT_EMAIL) };
  }
  if (input.phone !== undefined) {
    const phone = normalizePhone(input.phone, catalog.defaultCountry);
    if (!phone) throw invalidField('phone', 'not a valid phone number', 'invalid_phone');
    prepared.phone = { bidx: ctx.crypto.blindIndex(siteId, 'phone', phone), enc: ctx.crypto.encrypt(phone, SUBJECT_PHONE) };
  }
  if (!prepared.email && !prepared.phone) throw invalidField('email', 'an e-mail address or a phone number is required');
  return prepared;
}

export async function recordConsent(
  ctx: ServiceContext,
  siteId: string,
  input: RecordConsentInput,
  actor: string,
  meta: RequestMeta,
  idempotency?: IdempotencyInput,
): Promise<RecordResult> {
  if (idempotency) {
    // A retry is answered as it was first answered, even if the site's definitions have
    // changed since (a source archived, a wording retired).
    const [row] = await ctx.db
      .select({ requestHash: idempotencyKeys.requestHash, response: idempotencyKeys.response })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.siteId, siteId), eq(idempotencyKeys.apiKeyId, idempotency.apiKeyId), eq(idempotencyKeys.key, idempotency.key)));
    if (row) {
      if (row.requestHash !== idempotency.requestHash) throw reusedError();
      return { consent: JSON.parse(row.response) as RecordedConsent, replayed: true };
    }
  }
  const prepared = await prepare(ctx, siteId, input, actor, meta);
  if (idempotency) prepared.idempotency = idempotency;
  return ctx.queue.runBatched(consentWriter(ctx.now), prepared);
}

/** One writer per clock, so all consents of a transaction are handed to the same batch. */
const writers = new WeakMap<() => number, BatchWriter<PreparedConsent, RecordResult>>();

function consentWriter(now: () => number): BatchWriter<PreparedConsent, RecordResult> {
  let writer = writers.get(now);
  if (!writer) {
    writer = { name: 'consents', write: (ctx, inputs) => writeConsents(ctx, inputs, now()) };
    writers.set(now, writer);
  }
  return writer;
}

interface SubjectRef {
  id: string;
  emailBidx: string | null;
  phoneBidx: string | null;
  isNew: boolean;
}

async function writeConsents(w: WriteContext, items: PreparedConsent[], now: number): Promise<Outcome<RecordResult>[]> {
  const { tx } = w;
  const outcomes: (Outcome<RecordResult> | undefined)[] = new Array(items.length);

  // 1. Idempotency: earlier answers (one query per site and key), and repeats inside this batch.
  const seenKeys = new Map<string, number>();
  const lookups = new Map<string, { siteId: string; apiKeyId: string; keys: Map<string, number> }>();
  for (const [i, item] of items.entries()) {
    const idem = item.idempotency;
    if (!idem) continue;
    const mapKey = `${item.siteId}\0${idem.apiKeyId}\0${idem.key}`;
    const earlier = seenKeys.get(mapKey);
    if (earlier !== undefined) {
      outcomes[i] = items[earlier]!.idempotency!.requestHash === idem.requestHash ? { ok: true, value: undefined as never } : reused();
      continue;
    }
    seenKeys.set(mapKey, i);
    const owner = `${item.siteId}\0${idem.apiKeyId}`;
    let lookup = lookups.get(owner);
    if (!lookup) lookups.set(owner, (lookup = { siteId: item.siteId, apiKeyId: idem.apiKeyId, keys: new Map() }));
    lookup.keys.set(idem.key, i);
  }
  for (const { siteId, apiKeyId, keys } of lookups.values()) {
    for (const chunk of chunks([...keys.keys()], 500)) {
      const { rows } = await tx.execute({
        sql: `SELECT key, request_hash, response FROM idempotency_keys WHERE site_id = ? AND api_key_id = ? AND key IN (${chunk.map(() => '?').join(',')})`,
        args: [siteId, apiKeyId, ...chunk],
      });
      for (const row of rows) {
        const i = keys.get(String(row.key))!;
        outcomes[i] =
          row.request_hash === items[i]!.idempotency!.requestHash
            ? { ok: true, value: { consent: JSON.parse(String(row.response)) as RecordedConsent, replayed: true } }
            : reused();
      }
    }
  }

  // 2. Subjects: everyone named in the batch, found with one query per site and channel.
  const bySite = groupBy(items.filter((_, i) => !outcomes[i]), (it) => it.siteId);
  const subjectsByKey = new Map<string, SubjectRef>();
  for (const [siteId, list] of bySite) {
    for (const channel of ['email', 'phone'] as const) {
      const bidxs = [...new Set(list.flatMap((it) => (it[channel] ? [it[channel]!.bidx] : [])))];
      for (const chunk of chunks(bidxs, 500)) {
        const { rows } = await tx.execute({
          sql: `SELECT id, email_bidx, phone_bidx FROM subjects WHERE site_id = ? AND ${channel}_bidx IN (${chunk.map(() => '?').join(',')})`,
          args: [siteId, ...chunk],
        });
        for (const r of rows) {
          const ref: SubjectRef = { id: String(r.id), emailBidx: r.email_bidx as string | null, phoneBidx: r.phone_bidx as string | null, isNew: false };
          if (ref.emailBidx) subjectsByKey.set(`${siteId}\0e\0${ref.emailBidx}`, ref);
          if (ref.phoneBidx) subjectsByKey.set(`${siteId}\0p\0${ref.phoneBidx}`, ref);
        }
      }
    }
  }

  const newSubjects: InValue[][] = [];
  const subjectUpdates: { id: string; column: 'email' | 'phone'; key: ContactKey }[] = [];
  const subjectOf = new Map<number, string>();
  for (const [i, item] of items.entries()) {
    if (outcomes[i]) continue;
    const byEmail = item.email ? subjectsByKey.get(`${item.siteId}\0e\0${item.email.bidx}`) : undefined;
    const byPhone = item.phone ? subjectsByKey.get(`${item.siteId}\0p\0${item.phone.bidx}`) : undefined;
    if (byEmail && byPhone && byEmail !== byPhone) {
      outcomes[i] = { ok: false, error: conflict('contact_conflict', 'the e-mail address and the phone number belong to two different people') };
      continue;
    }
    let subject = byEmail ?? byPhone;
    if (!subject) {
      subject = { id: newId(), emailBidx: item.email?.bidx ?? null, phoneBidx: item.phone?.bidx ?? null, isNew: true };
      newSubjects.push([subject.id, item.siteId, item.email?.enc ?? null, subject.emailBidx, item.phone?.enc ?? null, subject.phoneBidx, now, now]);
    } else {
      // A contact point the person did not have yet is added to them.
      for (const column of ['email', 'phone'] as const) {
        const key = item[column];
        const field = column === 'email' ? 'emailBidx' : 'phoneBidx';
        if (key && !subject[field]) {
          subject[field] = key.bidx;
          if (subject.isNew) {
            const row = newSubjects.find((r) => r[0] === subject!.id)!;
            row[column === 'email' ? 2 : 4] = key.enc;
            row[column === 'email' ? 3 : 5] = key.bidx;
          } else subjectUpdates.push({ id: subject.id, column, key });
        }
      }
    }
    // Only contact points the person really has lead to them: a second phone that was not
    // attached must not route a later request in this batch to this person.
    if (item.email && subject.emailBidx === item.email.bidx) subjectsByKey.set(`${item.siteId}\0e\0${item.email.bidx}`, subject);
    if (item.phone && subject.phoneBidx === item.phone.bidx) subjectsByKey.set(`${item.siteId}\0p\0${item.phone.bidx}`, subject);
    subjectOf.set(i, subject.id);
  }

  // 3. Events, appended to each site's chain, and the state they lead to.
  await insertRows(tx, 'subjects (id, site_id, email_enc, email_bidx, phone_enc, phone_bidx, created_at, updated_at)', newSubjects);
  for (const u of subjectUpdates) {
    await tx.execute({
      sql: `UPDATE subjects SET ${u.column}_enc = ?, ${u.column}_bidx = ?, updated_at = ? WHERE id = ?`,
      args: [u.key.enc, u.key.bidx, now, u.id],
    });
  }
  // A restricted person's new address joins the do-not-contact export at once.
  if (subjectUpdates.length) await syncRestrictedSuppressions(tx, [...new Set(subjectUpdates.map((u) => u.id))], now);
  const toWrite = [...items.keys()].filter((i) => !outcomes[i]);
  const appended = await appendEvents(
    w,
    toWrite.map((i) => {
      const item = items[i]!;
      return {
        siteId: item.siteId,
        subjectId: subjectOf.get(i)!,
        visitorId: null,
        purposeId: item.purposeId,
        action: item.action,
        wordingVersionId: item.wordingVersionId,
        sourceId: item.sourceId,
        actor: item.actor,
        occurredAt: now,
        evidence: item.evidence,
      };
    }),
  );
  const written = toWrite.map((index, n) => ({ index, ...appended[n]! }));
  const states = written.map(({ index, id }) => {
    const item = items[index]!;
    return [subjectOf.get(index)!, item.purposeId, item.status, item.wordingVersionId, item.sourceId, id, now];
  });
  for (const chunk of chunks(states, 300)) {
    await tx.execute({
      sql:
        'INSERT INTO consent_states (subject_id, purpose_id, status, wording_version_id, source_id, event_id, updated_at) VALUES ' +
        chunk.map(() => '(?,?,?,?,?,?,?)').join(',') +
        ' ON CONFLICT (subject_id, purpose_id) DO UPDATE SET status = excluded.status,' +
        ' wording_version_id = coalesce(excluded.wording_version_id, consent_states.wording_version_id),' +
        ' source_id = excluded.source_id, event_id = excluded.event_id, updated_at = excluded.updated_at',
      args: chunk.flat(),
    });
  }

  // 4. Answers, remembered under their idempotency keys.
  const idemRows: InValue[][] = [];
  for (const { index, siteId, seq, id } of written) {
    const item = items[index]!;
    const consent: RecordedConsent = {
      eventId: id,
      subjectId: subjectOf.get(index)!,
      seq,
      purpose: item.purposeKey,
      action: item.action,
      status: item.status,
      occurredAt: new Date(now).toISOString(),
    };
    outcomes[index] = { ok: true, value: { consent, replayed: false } };
    const idem = item.idempotency;
    if (idem) idemRows.push([siteId, idem.apiKeyId, idem.key, idem.requestHash, 201, JSON.stringify(consent), now]);
  }
  await insertRows(tx, 'idempotency_keys (site_id, api_key_id, key, request_hash, status, response, created_at)', idemRows);

  // Repeats of a key inside this batch answer like the first of them.
  for (const [i, item] of items.entries()) {
    const o = outcomes[i];
    if (o?.ok && o.value === undefined) {
      const first = seenKeys.get(`${item.siteId}\0${item.idempotency!.apiKeyId}\0${item.idempotency!.key}`)!;
      const firstOutcome = outcomes[first]!;
      outcomes[i] = firstOutcome.ok ? { ok: true, value: { consent: firstOutcome.value.consent, replayed: true } } : firstOutcome;
    }
  }
  return outcomes as Outcome<RecordResult>[];
}

const reusedError = () => conflict('idempotency_key_reused', 'this Idempotency-Key was used for a different request');

function reused(): Outcome<never> {
  return { ok: false, error: reusedError() };
}

async function insertRows(tx: Transaction, into: string, rows: InValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const width = rows[0]!.length;
  const placeholders = `(${Array(width).fill('?').join(',')})`;
  for (const chunk of chunks(rows, Math.floor(2000 / width))) {
    await tx.execute({ sql: `INSERT INTO ${into} VALUES ${chunk.map(() => placeholders).join(',')}`, args: chunk.flat() as InArgs });
  }
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function groupBy<T, K>(list: T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of list) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * Fingerprint of a request for idempotency: method, path and body, keyed with the
 * server secret, since the body holds an e-mail address a plain hash would let anyone
 * with the database confirm by guessing.
 */
export function requestFingerprint(crypto: Crypto, method: string, path: string, body: unknown): string {
  return crypto.sign(`${method} ${path}\n${JSON.stringify(body)}`);
}
