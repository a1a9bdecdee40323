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

interface ChainRow {
  id: number;
  seq: number;
  prevHash: string;
  hash: string;
}

type Bad = { seq: number; id: number | null; reason: string };

/**
 * Walks one chain in sequence order, a page at a time: checks numbering, links and each
 * row's hash, then `check` (for row-specific rules, returning a reason when bad), then
 * `finish`, then that the chain ends at the head recorded with the site.
 */
async function walkChain<R extends ChainRow>(options: {
  chain: ChainReport['chain'];
  page: (afterSeq: number) => Promise<R[]>;
  content: (row: R) => unknown;
  check?: (row: R) => string | undefined;
  finish?: () => Bad | undefined;
  recorded: { seq: number; head: string };
}): Promise<ChainReport> {
  let expected = 1;
  let head = '';
  let count = 0;
  const bad = ({ seq, id, reason }: Bad): ChainReport => ({ chain: options.chain, rows: count, ok: false, head, firstBad: { seq, id, reason } });
  for (;;) {
    const page = await options.page(expected - 1);
    for (const row of page) {
      if (row.seq !== expected) return bad({ seq: expected, id: null, reason: `row ${expected} is missing (next row found is ${row.seq})` });
      if (row.prevHash !== head) return bad({ seq: row.seq, id: row.id, reason: 'prev_hash does not match the previous row (rows removed, inserted or reordered)' });
      if (chainHash(head, options.content(row)) !== row.hash) return bad({ seq: row.seq, id: row.id, reason: 'row content does not match its hash (edited)' });
      const reason = options.check?.(row);
      if (reason) return bad({ seq: row.seq, id: row.id, reason });
      head = row.hash;
      expected++;
      count++;
    }
    if (page.length < PAGE) break;
  }
  const late = options.finish?.();
  if (late) return bad(late);
  const end = chainEnd(count, head, options.recorded.seq, options.recorded.head, options.chain === 'audit_log' ? 'log' : 'chain');
  if (end) return bad({ ...end, id: null });
  return { chain: options.chain, rows: count, ok: true, head };
}

function verifyEvents(db: Db, crypto: Crypto, site: SiteRow): Promise<ChainReport> {
  const scrubbedSubjects = new Map<string, { seq: number; id: number }>();
  const erasedSubjects = new Set<string>();
  return walkChain<typeof consentEvents.$inferSelect>({
    chain: 'consent_events',
    recorded: { seq: site.ledgerSeq, head: site.ledgerHead },
    page: (after) =>
      db.select().from(consentEvents).where(and(eq(consentEvents.siteId, site.id), gt(consentEvents.seq, after))).orderBy(asc(consentEvents.seq)).limit(PAGE),
    content: eventHashContent,
    check(row) {
      if (row.action === 'erase' && row.subjectId) erasedSubjects.add(row.subjectId);
      if (row.evidence !== null) {
        let evidenceHash: string;
        try {
          evidenceHash = openEvidence(crypto, row.evidence).hash;
        } catch {
          return 'evidence cannot be decrypted (edited, or SAMTYKKE_SECRET is not the key it was written with)';
        }
        return evidenceHash !== row.evidenceHash ? 'evidence does not match its hash (edited)' : undefined;
      }
      if (row.scrubbedAt === null) return 'evidence removed without an erasure';
      // Only a person's erasure may scrub evidence; a visitor's cookie choice has no person to erase.
      if (!row.subjectId) return 'evidence scrubbed from an event of no person (nothing to erase)';
      if (!scrubbedSubjects.has(row.subjectId)) scrubbedSubjects.set(row.subjectId, { seq: row.seq, id: row.id });
      return undefined;
    },
    finish() {
      for (const [subject, at] of scrubbedSubjects) {
        if (!erasedSubjects.has(subject)) return { ...at, reason: 'evidence scrubbed, but no erasure of this person is recorded' };
      }
      return undefined;
    },
  });
}

function verifyAudit(db: Db, site: SiteRow): Promise<ChainReport> {
  return walkChain<typeof auditLog.$inferSelect>({
    chain: 'audit_log',
    recorded: { seq: site.auditSeq, head: site.auditHead },
    page: (after) => db.select().from(auditLog).where(and(eq(auditLog.siteId, site.id), gt(auditLog.seq, after))).orderBy(asc(auditLog.seq)).limit(PAGE),
    content: auditHashContent,
  });
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
