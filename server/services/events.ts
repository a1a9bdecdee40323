/**
 * Appending to a site's consent ledger inside a write transaction: each event gets the
 * next sequence number and a hash over the previous hash and its content, and the
 * site's head moves in the same transaction, so a missing tail is detectable.
 */
import type { InValue, Transaction } from '@libsql/client';
import type { EventAction } from '../../shared/enums';
import { chainHash } from './chain';
import { AppError } from './errors';

export interface NewEvent {
  siteId: string;
  subjectId: string | null;
  visitorId: string | null;
  purposeId: string | null;
  action: EventAction;
  wordingVersionId: string | null;
  sourceId: string | null;
  actor: string;
  occurredAt: number;
  /** Encrypted evidence and the SHA-256 of its plaintext. */
  evidence: { sealed: string; hash: string };
}

export interface AppendedEvent {
  id: number;
  siteId: string;
  seq: number;
}

/** The fields a consent event's hash covers (evidence by its hash, so erasure can scrub it). */
export function eventHashContent(e: Omit<NewEvent, 'evidence'> & { seq: number; evidenceHash: string }) {
  return {
    site: e.siteId,
    seq: e.seq,
    subject: e.subjectId,
    visitor: e.visitorId,
    purpose: e.purposeId,
    action: e.action,
    wording: e.wordingVersionId,
    source: e.sourceId,
    actor: e.actor,
    at: e.occurredAt,
    evidence: e.evidenceHash,
  };
}

/**
 * Told of every batch of appended events, inside its transaction (the webhook outbox
 * registers one on its app's write queue). Called with the events and their ids in order.
 */
export type AppendHook = (tx: Transaction, events: readonly NewEvent[], appended: readonly AppendedEvent[]) => Promise<void>;

/** Where events are appended: a write transaction and the hooks of the queue running it. */
export interface AppendTarget {
  tx: Transaction;
  appendHooks?: readonly AppendHook[];
}

const COLUMNS =
  'site_id, seq, subject_id, visitor_id, purpose_id, action, wording_version_id, source_id, actor, occurred_at, evidence, evidence_hash, prev_hash, hash';
const ROWS_PER_INSERT = 140; // 14 columns: well under SQLite's bound-parameter limit

/** Appends events in order, chained per site; returns their ids and sequence numbers in input order. */
export async function appendEvents(w: AppendTarget, events: NewEvent[]): Promise<AppendedEvent[]> {
  const { tx } = w;
  if (events.length === 0) return [];
  const heads = new Map<string, { seq: number; hash: string }>();
  for (const siteId of new Set(events.map((e) => e.siteId))) {
    const { rows } = await tx.execute({ sql: 'SELECT ledger_seq, ledger_head FROM sites WHERE id = ?', args: [siteId] });
    if (!rows[0]) throw new AppError('not_found', 'not_found', 'site not found');
    heads.set(siteId, { seq: Number(rows[0].ledger_seq), hash: String(rows[0].ledger_head) });
  }
  const rows: InValue[][] = [];
  const placed: { siteId: string; seq: number }[] = [];
  for (const e of events) {
    const head = heads.get(e.siteId)!;
    const seq = head.seq + 1;
    const hash = chainHash(head.hash, eventHashContent({ ...e, seq, evidenceHash: e.evidence.hash }));
    rows.push([
      e.siteId, seq, e.subjectId, e.visitorId, e.purposeId, e.action, e.wordingVersionId, e.sourceId,
      e.actor, e.occurredAt, e.evidence.sealed, e.evidence.hash, head.hash, hash,
    ]);
    heads.set(e.siteId, { seq, hash });
    placed.push({ siteId: e.siteId, seq });
  }
  const ids = new Map<string, number>();
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    const result = await tx.execute({
      sql: `INSERT INTO consent_events (${COLUMNS}) VALUES ${chunk.map(() => '(?,?,?,?,?,?,?,?,?,?,?,?,?,?)').join(',')} RETURNING id, site_id, seq`,
      args: chunk.flat(),
    });
    // RETURNING gives no order guarantee: match rows by (site, seq).
    for (const r of result.rows) ids.set(`${r.site_id}\0${r.seq}`, Number(r.id));
  }
  for (const [siteId, head] of heads) {
    await tx.execute({ sql: 'UPDATE sites SET ledger_seq = ?, ledger_head = ? WHERE id = ?', args: [head.seq, head.hash, siteId] });
  }
  const appended = placed.map((p) => ({ id: ids.get(`${p.siteId}\0${p.seq}`)!, ...p }));
  for (const hook of w.appendHooks ?? []) await hook(tx, events, appended);
  return appended;
}
