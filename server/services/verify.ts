/**
 * `audit verify`: walks each site's consent ledger and audit log from the first row,
 * recomputing every hash, and names the first row that does not fit: edited, deleted,
 * inserted or reordered rows, tampered evidence, or rows cut off the end (the head
 * stored with the site no longer matches).
 */
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { auditLog, consentEvents, sites } from '../db/schema';
import { auditHashContent } from './audit';
import { chainHash } from './chain';
import type { Crypto } from './crypto';
import { openEvidence } from './evidence';
import { eventHashContent } from './events';

export interface ChainReport {
  chain: 'consent_events' | 'audit_log';
  rows: number;
  ok: boolean;
  /** Hash of the last row: record it elsewhere to anchor the chain. */
  head: string;
  firstBad?: { seq: number; id: number | null; reason: string };
}

export interface SiteReport {
  site: string;
  ok: boolean;
  chains: ChainReport[];
}

const PAGE = 2000;

export async function verifyAll(db: Db, crypto: Crypto, siteId?: string): Promise<SiteReport[]> {
  const rows = await db.select().from(sites).where(siteId ? eq(sites.id, siteId) : undefined).orderBy(asc(sites.id));
  const reports: SiteReport[] = [];
  for (const site of rows) {
    const chains = [await verifyEvents(db, crypto, site), await verifyAudit(db, site)];
    reports.push({ site: site.id, ok: chains.every((c) => c.ok), chains });
  }
  return reports;
}

type SiteRow = typeof sites.$inferSelect;

async function verifyEvents(db: Db, crypto: Crypto, site: SiteRow): Promise<ChainReport> {
  let expected = 1;
  let head = '';
  let count = 0;
  const scrubbedSubjects = new Map<string, { seq: number; id: number }>();
  const erasedSubjects = new Set<string>();
  const bad = (seq: number, id: number | null, reason: string): ChainReport => ({
    chain: 'consent_events', rows: count, ok: false, head, firstBad: { seq, id, reason },
  });
  for (;;) {
    const page = await db
      .select()
      .from(consentEvents)
      .where(and(eq(consentEvents.siteId, site.id), gt(consentEvents.seq, expected - 1)))
      .orderBy(asc(consentEvents.seq))
      .limit(PAGE);
    for (const row of page) {
      if (row.seq !== expected) return bad(expected, null, `row ${expected} is missing (next row found is ${row.seq})`);
      if (row.prevHash !== head) return bad(row.seq, row.id, 'prev_hash does not match the previous row (rows removed, inserted or reordered)');
      if (chainHash(head, eventHashContent(row)) !== row.hash) return bad(row.seq, row.id, 'row content does not match its hash (edited)');
      if (row.evidence !== null) {
        let evidenceHash: string;
        try {
          evidenceHash = openEvidence(crypto, row.evidence).hash;
        } catch {
          return bad(row.seq, row.id, 'evidence cannot be decrypted (edited, or SAMTYKKE_SECRET is not the key it was written with)');
        }
        if (evidenceHash !== row.evidenceHash) return bad(row.seq, row.id, 'evidence does not match its hash (edited)');
      } else if (row.scrubbedAt === null) {
        return bad(row.seq, row.id, 'evidence removed without an erasure');
      } else if (!row.subjectId) {
        // Only a person's erasure may scrub evidence; a visitor's cookie choice has no person to erase.
        return bad(row.seq, row.id, 'evidence scrubbed from an event of no person (nothing to erase)');
      } else if (!scrubbedSubjects.has(row.subjectId)) {
        scrubbedSubjects.set(row.subjectId, { seq: row.seq, id: row.id });
      }
      if (row.action === 'erase' && row.subjectId) erasedSubjects.add(row.subjectId);
      head = row.hash;
      expected++;
      count++;
    }
    if (page.length < PAGE) break;
  }
  for (const [subject, at] of scrubbedSubjects) {
    if (!erasedSubjects.has(subject)) return bad(at.seq, at.id, 'evidence scrubbed, but no erasure of this person is recorded');
  }
  const end = chainEnd(count, head, site.ledgerSeq, site.ledgerHead, 'chain');
  if (end) return bad(end.seq, null, end.reason);
  return { chain: 'consent_events', rows: count, ok: true, head };
}

async function verifyAudit(db: Db, site: SiteRow): Promise<ChainReport> {
  let expected = 1;
  let head = '';
  let count = 0;
  const bad = (seq: number, id: number | null, reason: string): ChainReport => ({
    chain: 'audit_log', rows: count, ok: false, head, firstBad: { seq, id, reason },
  });
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.siteId, site.id), gt(auditLog.seq, expected - 1)))
      .orderBy(asc(auditLog.seq))
      .limit(PAGE);
    for (const row of page) {
      if (row.seq !== expected) return bad(expected, null, `row ${expected} is missing (next row found is ${row.seq})`);
      if (row.prevHash !== head) return bad(row.seq, row.id, 'prev_hash does not match the previous row (rows removed, inserted or reordered)');
      if (chainHash(head, auditHashContent(row)) !== row.hash) return bad(row.seq, row.id, 'row content does not match its hash (edited)');
      head = row.hash;
      expected++;
      count++;
    }
    if (page.length < PAGE) break;
  }
  const end = chainEnd(count, head, site.auditSeq, site.auditHead, 'log');
  if (end) return bad(end.seq, null, end.reason);
  return { chain: 'audit_log', rows: count, ok: true, head };
}

/** Compares where a chain ends with the head recorded with the site; names the first row that does not fit. */
function chainEnd(count: number, head: string, recordedSeq: number, recordedHead: string, what: string): { seq: number; reason: string } | undefined {
  if (count < recordedSeq) {
    return { seq: count + 1, reason: `the ${what} ends at row ${count}, but the site records ${recordedSeq} rows (rows removed at the end)` };
  }
  if (count > recordedSeq) {
    return { seq: recordedSeq + 1, reason: `the site records ${recordedSeq} rows, but the ${what} goes on to row ${count} (rows added after the recorded head)` };
  }
  if (head !== recordedHead) {
    return { seq: count, reason: `the last row's hash does not match the head recorded with the site (rows replaced at the end)` };
  }
  return undefined;
}
