/**
 * Storage limitation: deletes what is kept only for a while. Idempotent, so every
 * instance may run it on its own timer and the CLI may run it at any time.
 */
import { and, inArray, lt } from 'drizzle-orm';
import { idempotencyKeys, mailOutbox, smsMessages, webhookDeliveries } from '../db/schema';
import type { ServiceContext } from './context';
import { CHANGES_KEPT, CHANGES_KEPT_MS, TRIM_CHANGES_SQL } from './check-index';
import { expirePending, type ExpiryReport } from './expiry';

/** How long a service's retry is answered from its first answer. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * How long sent, failed and development-outbox mail is kept: a sent or failed row only as
 * a record (its recipient and content are cleared once it is sent or given up), a
 * development-outbox row with its content, for the developer.
 */
export const MAIL_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** How long a delivered or given-up webhook delivery (its payload already cleared) is kept as a record. */
export const WEBHOOK_DELIVERY_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** How long an inbound SMS id is remembered to answer a provider's retry (they retry within hours). */
export const SMS_MESSAGE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface RetentionReport extends ExpiryReport {
  idempotencyKeys: number;
  /** Sent, failed and development-outbox messages older than MAIL_TTL_MS. */
  mail: number;
  /** Delivered and failed webhook deliveries older than WEBHOOK_DELIVERY_TTL_MS. */
  webhookDeliveries: number;
  /** Inbound SMS ids older than SMS_MESSAGE_TTL_MS. */
  smsMessages: number;
  /** Entries of the send checks' change log older than a day or beyond its newest CHANGES_KEPT (check-index.ts). */
  checkChanges: number;
}

export async function runRetention(ctx: ServiceContext): Promise<RetentionReport> {
  const now = ctx.now();
  const expiry = await expirePending(ctx);
  const kept = await ctx.queue.run(async (w) => {
    const keys = await w.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS));
    const mail = await w.db
      .delete(mailOutbox)
      .where(and(inArray(mailOutbox.status, ['sent', 'failed', 'dev']), lt(mailOutbox.createdAt, now - MAIL_TTL_MS)));
    const hooks = await w.db
      .delete(webhookDeliveries)
      .where(and(inArray(webhookDeliveries.status, ['delivered', 'failed']), lt(webhookDeliveries.createdAt, now - WEBHOOK_DELIVERY_TTL_MS)));
    const sms = await w.db.delete(smsMessages).where(lt(smsMessages.createdAt, now - SMS_MESSAGE_TTL_MS));
    const changes = await w.tx.execute({ sql: TRIM_CHANGES_SQL, args: [CHANGES_KEPT, now - CHANGES_KEPT_MS] });
    return { idempotencyKeys: keys.rowsAffected, mail: mail.rowsAffected, webhookDeliveries: hooks.rowsAffected, smsMessages: sms.rowsAffected, checkChanges: changes.rowsAffected };
  });
  return { ...kept, ...expiry };
}
