/** The audit log of administrative actions, hash-chained per site. */
import { eq, sql } from 'drizzle-orm';
import { auditLog, sites } from '../db/schema';
import type { WriteContext } from '../db/write-queue';
import { chainHash } from './chain';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  siteId: string;
  seq: number;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  occurredAt: number;
}

/** The fields an audit row's hash covers. */
export function auditHashContent(row: AuditRow) {
  return {
    site: row.siteId,
    seq: row.seq,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: row.details,
    at: row.occurredAt,
  };
}

/** Appends inside the caller's write transaction, so the action and its record commit together. */
export async function appendAudit(ctx: WriteContext, siteId: string, entry: AuditEntry, now: number): Promise<void> {
  const [head] = await ctx.db
    .select({ seq: sites.auditSeq, hash: sites.auditHead })
    .from(sites)
    .where(eq(sites.id, siteId));
  if (!head) throw new Error(`audit: unknown site`);
  const row: AuditRow = {
    siteId,
    seq: head.seq + 1,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    details: entry.details ?? {},
    occurredAt: now,
  };
  const hash = chainHash(head.hash, auditHashContent(row));
  await ctx.db.insert(auditLog).values({ ...row, prevHash: head.hash, hash });
  await ctx.db
    .update(sites)
    .set({ auditSeq: sql`${row.seq}`, auditHead: hash })
    .where(eq(sites.id, siteId));
}
