/**
 * Storage limitation: deletes what is kept only for a while. Idempotent, so every
 * instance may run it on its own timer and the CLI may run it at any time.
 */
import { lt } from 'drizzle-orm';
import { idempotencyKeys } from '../db/schema';
import type { ServiceContext } from './context';

/** How long a service's retry is answered from its first answer. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface RetentionReport {
  idempotencyKeys: number;
}

export async function runRetention(ctx: ServiceContext): Promise<RetentionReport> {
  const cutoff = ctx.now() - IDEMPOTENCY_TTL_MS;
  const deleted = await ctx.queue.run(async (w) => {
    const result = await w.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, cutoff));
    return result.rowsAffected;
  });
  return { idempotencyKeys: deleted };
}
