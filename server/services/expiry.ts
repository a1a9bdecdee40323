/**
 * Unconfirmed signups lapse: a pending (double opt-in) consent older than the site's
 * pendingDays gets an 'expire' event and its state is deleted; a person the signup itself
 * created, left with no consent state and no do-not-contact entry of their own, is erased
 * (without a suppression and without a mail: they never confirmed, so nothing of theirs is
 * kept). A person on record before the signup is never erased by it. Expired e-mail
 * changes are deleted. Idempotent, like the rest of retention.
 */
import type { ServiceContext } from './context';
import { appendEvents } from './events';
import { DAY_MS, eraseSubjectTx, PERSON_ACTOR, sealedEvidence } from './people';
import { subjects } from '../db/schema';
import { eq } from 'drizzle-orm';

export const RETENTION_ACTOR = 'system:retention';
const BATCH = 500;

export interface ExpiryReport {
  /** Pending consents that lapsed. */
  expiredSignups: number;
  /** People erased because nothing of theirs was left. */
  erasedUnconfirmed: number;
  /** E-mail changes never confirmed. */
  emailChanges: number;
}

export async function expirePending(ctx: ServiceContext): Promise<ExpiryReport> {
  const report: ExpiryReport = { expiredSignups: 0, erasedUnconfirmed: 0, emailChanges: 0 };
  for (;;) {
    const done = await ctx.queue.run(async (w) => {
      const now = ctx.now();
      const { rows } = await w.tx.execute({
        sql: `SELECT cs.subject_id, cs.purpose_id, cs.wording_version_id, s.site_id, si.pending_days
              FROM consent_states cs
              JOIN subjects s ON s.id = cs.subject_id
              JOIN sites si ON si.id = s.site_id
              WHERE cs.status = 'pending' AND cs.updated_at < ? AND cs.updated_at < ? - si.pending_days * ?
              LIMIT ?`,
        args: [now - DAY_MS, now, DAY_MS, BATCH],
      });
      if (rows.length === 0) return 0;
      const appended = await appendEvents(
        w,
        rows.map((r) => ({
          siteId: String(r.site_id),
          subjectId: String(r.subject_id),
          visitorId: null,
          purposeId: String(r.purpose_id),
          action: 'expire' as const,
          wordingVersionId: r.wording_version_id === null ? null : String(r.wording_version_id),
          sourceId: null,
          actor: RETENTION_ACTOR,
          occurredAt: now,
          evidence: sealedEvidence(ctx, { note: `not confirmed within ${Number(r.pending_days)} days` }, {}),
        })),
      );
      void appended;
      for (const r of rows) {
        await w.tx.execute({ sql: "DELETE FROM consent_states WHERE subject_id = ? AND purpose_id = ? AND status = 'pending'", args: [r.subject_id, r.purpose_id] });
      }
      for (const subjectId of new Set(rows.map((r) => String(r.subject_id)))) {
        const left = await w.tx.execute({ sql: 'SELECT 1 FROM consent_states WHERE subject_id = ? LIMIT 1', args: [subjectId] });
        if (left.rows.length) continue;
        const [subject] = await w.db.select().from(subjects).where(eq(subjects.id, subjectId));
        if (!subject || subject.erasedAt !== null) continue;
        // Only a person the lapsed signup itself created: their first event is that signup's
        // grant, at their creation. Someone on record before (through the API, a STOP, an
        // earlier consent) keeps what they had; only the pending states lapse.
        const first = await w.tx.execute({ sql: 'SELECT action, actor, occurred_at FROM consent_events WHERE subject_id = ? ORDER BY id LIMIT 1', args: [subjectId] });
        const f = first.rows[0];
        if (!f || String(f.action) !== 'grant' || String(f.actor) !== PERSON_ACTOR || subject.createdAt < Number(f.occurred_at)) continue;
        const own = await w.tx.execute({
          sql: "SELECT 1 FROM suppressions WHERE site_id = ? AND ((channel = 'email' AND bidx = ?) OR (channel = 'sms' AND bidx = ?)) LIMIT 1",
          args: [subject.siteId, subject.emailBidx ?? '', subject.phoneBidx ?? ''],
        });
        if (own.rows.length) continue;
        await eraseSubjectTx(ctx, w, subject, { suppress: false, actor: RETENTION_ACTOR, note: 'expired: signup never confirmed', sourceId: null }, now);
        report.erasedUnconfirmed++;
      }
      report.expiredSignups += rows.length;
      return rows.length;
    });
    if (done < BATCH) break;
  }
  report.emailChanges = await ctx.queue.run(async (w) => {
    const result = await w.tx.execute({ sql: 'DELETE FROM email_changes WHERE expires_at <= ?', args: [ctx.now()] });
    return result.rowsAffected;
  });
  return report;
}
