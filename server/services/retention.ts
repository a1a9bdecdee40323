/**
 * Storage limitation: deletes what is kept only for a while. Idempotent, so every
 * instance may run it on its own timer and the CLI may run it at any time.
 */
import { and, inArray, lt } from 'drizzle-orm';
import { idempotencyKeys, mailOutbox } from '../db/schema';
import type { ServiceContext } from './context';

/** How long a service's retry is answered from its first answer. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** How long sent and development-outbox mail (encrypted, but personal data) is kept. */
export const MAIL_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface RetentionReport {
  idempotencyKeys: number;
  /** Sent and development-outbox messages older than MAIL_TTL_MS. */
  mail: number;
}

export async function runRetention(ctx: ServiceContext): Promise<RetentionReport> {
  const now = ctx.now();
  return ctx.queue.run(async (w) => {
    const keys = await w.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS));
    const mail = await w.db
      .delete(mailOutbox)
      .where(and(inArray(mailOutbox.status, ['sent', 'dev']), lt(mailOutbox.createdAt, now - MAIL_TTL_MS)));
    return { idempotencyKeys: keys.rowsAffected, mail: mail.rowsAffected };
  });
}
