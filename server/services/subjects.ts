/** Reading one person: current state per purpose and the full history behind it. */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { ConsentStatus, EventAction } from '../../shared/enums';
import { consentEvents, consentStates, purposes, sources, subjects } from '../db/schema';
import type { ServiceContext } from './context';
import { normalizeEmail, normalizePhone } from './contact';
import { invalidField, notFound } from './errors';
import { openEvidence, type Evidence } from './evidence';
import { SUBJECT_EMAIL, SUBJECT_PHONE } from './ledger';
import { wordingsById } from './wordings';

export type SubjectLookup = { id: string } | { email: string } | { phone: string };

export interface SubjectView {
  id: string;
  /** Plaintext only for keys with `pii:read`; otherwise null (see hasEmail / hasPhone). */
  email: string | null;
  phone: string | null;
  hasEmail: boolean;
  hasPhone: boolean;
  restricted: boolean;
  erased: boolean;
  createdAt: string;
  consents: {
    purpose: string;
    status: ConsentStatus | 'none';
    since: string | null;
    wordingVersion: number | null;
    source: string | null;
  }[];
  history: {
    eventId: number;
    seq: number;
    action: EventAction;
    purpose: string | null;
    wording: { id: string; version: number; sha256: Record<string, string> } | null;
    source: string | null;
    actor: string;
    occurredAt: string;
    evidence: Partial<Evidence> | null;
  }[];
}

async function findSubjectRow(ctx: ServiceContext, siteId: string, lookup: SubjectLookup) {
  let where;
  if ('id' in lookup) where = eq(subjects.id, lookup.id);
  else if ('email' in lookup) where = eq(subjects.emailBidx, ctx.crypto.blindIndex(siteId, 'email', normalizeEmail(lookup.email)));
  else {
    const catalog = await ctx.catalog.get(siteId);
    const phone = normalizePhone(lookup.phone, catalog?.defaultCountry ?? 'DK');
    if (!phone) throw invalidField('phone', 'not a valid phone number', 'invalid_phone');
    where = eq(subjects.phoneBidx, ctx.crypto.blindIndex(siteId, 'phone', phone));
  }
  const [row] = await ctx.db.select().from(subjects).where(and(eq(subjects.siteId, siteId), where));
  return row;
}

export async function getSubject(ctx: ServiceContext, siteId: string, lookup: SubjectLookup, withPii: boolean): Promise<SubjectView> {
  const row = await findSubjectRow(ctx, siteId, lookup);
  if (!row) throw notFound('subject');

  const [purposeRows, sourceRows, stateRows, eventRows] = await Promise.all([
    ctx.db.select({ id: purposes.id, key: purposes.key }).from(purposes).where(eq(purposes.siteId, siteId)).orderBy(asc(purposes.createdAt), sql`rowid`),
    ctx.db.select({ id: sources.id, key: sources.key }).from(sources).where(eq(sources.siteId, siteId)),
    ctx.db.select().from(consentStates).where(eq(consentStates.subjectId, row.id)),
    ctx.db.select().from(consentEvents).where(eq(consentEvents.subjectId, row.id)).orderBy(asc(consentEvents.seq)),
  ]);
  const purposeKey = new Map(purposeRows.map((p) => [p.id, p.key]));
  const sourceKey = new Map(sourceRows.map((s) => [s.id, s.key]));
  const wordings = await wordingsById(ctx.db, [
    ...eventRows.flatMap((e) => (e.wordingVersionId ? [e.wordingVersionId] : [])),
    ...stateRows.flatMap((s) => (s.wordingVersionId ? [s.wordingVersionId] : [])),
  ]);
  const states = new Map(stateRows.map((s) => [s.purposeId, s]));
  const iso = (ms: number) => new Date(ms).toISOString();

  return {
    id: row.id,
    email: withPii && row.emailEnc ? ctx.crypto.decrypt(row.emailEnc, SUBJECT_EMAIL) : null,
    phone: withPii && row.phoneEnc ? ctx.crypto.decrypt(row.phoneEnc, SUBJECT_PHONE) : null,
    hasEmail: row.emailEnc !== null,
    hasPhone: row.phoneEnc !== null,
    restricted: row.restricted,
    erased: row.erasedAt !== null,
    createdAt: iso(row.createdAt),
    consents: purposeRows.map((p) => {
      const s = states.get(p.id);
      return {
        purpose: p.key,
        status: s?.status ?? 'none',
        since: s ? iso(s.updatedAt) : null,
        wordingVersion: s?.wordingVersionId ? (wordings.get(s.wordingVersionId)?.version ?? null) : null,
        source: s?.sourceId ? (sourceKey.get(s.sourceId) ?? null) : null,
      };
    }),
    history: eventRows.map((e) => {
      const wording = e.wordingVersionId ? wordings.get(e.wordingVersionId) : undefined;
      let evidence: Partial<Evidence> | null = null;
      if (e.evidence) {
        const { nonce: _nonce, note, ...rest } = openEvidence(ctx.crypto, e.evidence).evidence;
        // A free-text note may name the person, so it is personal data.
        evidence = withPii && note !== undefined ? { ...rest, note } : rest;
      }
      return {
        eventId: e.id,
        seq: e.seq,
        action: e.action,
        purpose: e.purposeId ? (purposeKey.get(e.purposeId) ?? null) : null,
        wording:
          wording && e.wordingVersionId
            ? {
                id: e.wordingVersionId,
                version: wording.version,
                sha256: Object.fromEntries(wording.texts.flatMap((t) => (t.sha256 ? [[t.lang, t.sha256]] : []))),
              }
            : null,
        source: e.sourceId ? (sourceKey.get(e.sourceId) ?? null) : null,
        actor: e.actor,
        occurredAt: iso(e.occurredAt),
        evidence,
      };
    }),
  };
}
