/**
 * Outbound webhooks: every opt-out (withdraw, object, unsubscribe, SMS stop, erasure) of a
 * person, and a restriction of processing (GDPR art. 18) and its lifting, is told to each
 * of the site's webhook endpoints. A delivery row is written to the
 * `webhook_deliveries` outbox in the very transaction that appends the event (a hook on
 * the app's write queue, run by appendEvents), so an event and its deliveries commit
 * together or not at all, whichever flow wrote the event. A delivery loop (like the mail loop) claims due rows with
 * UPDATE … RETURNING and `locked_until`, so several instances never send one twice at the
 * same time, and retries with exponential backoff for up to 24 hours. A restart loses
 * nothing: the outbox is in the database.
 *
 * Each POST carries `Samtykke-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * The payload may hold an address, so it is encrypted at rest, and cleared ('') once the
 * delivery is made or given up; the rows themselves go after 30 days (retention). Erasure
 * sends only the blind-index hashes, and rewrites the person's deliveries not yet made
 * the same way (the receiver still learns of each opt-out, by hash). An erasure by
 * retention of a signup never confirmed is not sent: the marketer never had that person.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { InValue, Transaction } from '@libsql/client';
import type { WriteQueue } from '../db/write-queue';
import type { Db } from '../db/client';
import { WEBHOOK_EVENTS, isBlockedAddress, webhookUrlProblem, type WebhookEvent, type WebhookPayload } from '../../shared/check-api';
import type { Crypto } from './crypto';
import { newId } from './crypto';
import { invalidField, notFound } from './errors';
import type { AppendedEvent, NewEvent } from './events';
import { SUBJECT_EMAIL, SUBJECT_PHONE } from './ledger';
import { appendAudit } from './audit';
import { afterFailure, logFailure, OutboxLoop, type OutboxTiming } from './outbox-loop';

export const WEBHOOK_SECRET_CONTEXT = 'webhooks.secret';
export const WEBHOOK_PAYLOAD_CONTEXT = 'webhook_deliveries.payload';

/** The opt-outs, and restrict and unrestrict (no opt-out, but a sender must stop and may resume). */
const REPORTED: ReadonlySet<string> = new Set(WEBHOOK_EVENTS);

/** Events about the person as a whole rather than a channel: the payload carries every address they have. */
const WHOLE_PERSON: ReadonlySet<string> = new Set<WebhookEvent>(['restrict', 'unrestrict']);

/**
 * The actor of retention's erasure of a signup never confirmed: RETENTION_ACTOR in
 * expiry.ts (not imported: expiry imports people, which imports this module).
 */
const RETENTION_ERASE_ACTOR = 'system:retention';

/** A delivery made or given up keeps no payload. */
export const CLEARED_PAYLOAD = '';

/** Whether `e` is told to webhooks at all (before any endpoint's own filter). */
function isReported(e: NewEvent): boolean {
  // Cookie-banner visitors are not people we could contact: only subjects' events.
  if (e.subjectId === null || !REPORTED.has(e.action)) return false;
  // A signup never confirmed that lapsed: the marketer never had that person.
  return !(e.action === 'erase' && e.actor === RETENTION_ERASE_ACTOR);
}

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
}

/** One app's webhook settings: its key material and the hook telling a delivery loop that rows are waiting. */
export class Webhooks {
  readonly #listeners = new Set<() => void>();

  /**
   * Development only (WEBHOOK_ALLOW_PRIVATE, refused in production): endpoints may be http
   * and may point at loopback or private addresses. Off: https to public addresses only.
   */
  readonly allowPrivateTargets: boolean;

  constructor(
    readonly crypto: Crypto,
    readonly queue: WriteQueue,
    readonly db: Db,
    options: { allowPrivateTargets?: boolean } = {},
  ) {
    this.allowPrivateTargets = options.allowPrivateTargets ?? false;
    // Every event appended through this app's queue, whichever flow appends it.
    queue.onAppend(async (tx, events, appended) => {
      if (await this.enqueue(tx, events, appended)) this.nudge();
    });
  }

  onQueued(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Writes the deliveries of the reported events (opt-outs, restrictions) among `events`, in their transaction. */
  async enqueue(tx: Transaction, events: readonly NewEvent[], appended: readonly AppendedEvent[]): Promise<boolean> {
    const wanted: number[] = [];
    for (let i = 0; i < events.length; i++) {
      if (isReported(events[i]!)) wanted.push(i);
    }
    if (wanted.length === 0) return false;
    // Read in the transaction, not cached: an endpoint added on another instance a moment
    // ago must not miss an event.
    const sites = [...new Set(wanted.map((i) => events[i]!.siteId))];
    const hooks = new Map<string, { id: string; events: string[] }[]>();
    for (const siteId of sites) {
      const { rows } = await tx.execute({ sql: 'SELECT id, events FROM webhooks WHERE site_id = ? AND disabled_at IS NULL', args: [siteId] });
      if (rows.length) hooks.set(siteId, rows.map((r) => ({ id: String(r.id), events: JSON.parse(String(r.events)) as string[] })));
    }
    if (hooks.size === 0) return false;
    const todo = wanted.filter((i) => hooks.has(events[i]!.siteId));
    const subjectIds = [...new Set(todo.map((i) => events[i]!.subjectId!))];
    const purposeIds = [...new Set(todo.flatMap((i) => (events[i]!.purposeId ? [events[i]!.purposeId!] : [])))];
    const subjects = new Map<string, Record<string, unknown>>();
    const purposes = new Map<string, { key: string; channel: string }>();
    for (let i = 0; i < subjectIds.length; i += 500) {
      const chunk = subjectIds.slice(i, i + 500);
      const { rows } = await tx.execute({
        sql: `SELECT id, email_enc, phone_enc, email_bidx, phone_bidx FROM subjects WHERE id IN (${chunk.map(() => '?').join(',')})`,
        args: chunk,
      });
      for (const r of rows) subjects.set(String(r.id), r as unknown as Record<string, unknown>);
    }
    if (purposeIds.length) {
      const { rows } = await tx.execute({ sql: `SELECT id, key, channel FROM purposes WHERE id IN (${purposeIds.map(() => '?').join(',')})`, args: purposeIds });
      for (const r of rows) purposes.set(String(r.id), { key: String(r.key), channel: String(r.channel) });
    }
    const rows: InValue[][] = [];
    for (const i of todo) {
      const e = events[i]!;
      const type = e.action as WebhookEvent;
      const purpose = e.purposeId ? purposes.get(e.purposeId) : undefined;
      const s = subjects.get(e.subjectId!);
      let channel: string | null = purpose?.channel ?? (type === 'sms-stop' ? 'sms' : null);
      if (channel === null && type === 'unsubscribe') channel = await unsubscribedChannel(tx, e, s);
      const base: Omit<WebhookPayload, 'id'> = {
        type,
        site: e.siteId,
        purpose: purpose?.key ?? null,
        channel,
        subjectId: e.subjectId,
        occurredAt: new Date(e.occurredAt).toISOString(),
        eventId: appended[i]!.id,
      };
      if (s) {
        if (type === 'erase') {
          if (s.email_bidx) base.emailHash = String(s.email_bidx);
          if (s.phone_bidx) base.phoneHash = String(s.phone_bidx);
        } else if (WHOLE_PERSON.has(type)) {
          // A restriction is of the person, not of a channel: every address they have.
          if (s.email_enc) base.email = this.crypto.decrypt(String(s.email_enc), SUBJECT_EMAIL);
          if (s.phone_enc) base.phone = this.crypto.decrypt(String(s.phone_enc), SUBJECT_PHONE);
        } else {
          // Only the address of the channel opted out of; none when the channel is not known.
          if (s.email_enc && channel === 'email') base.email = this.crypto.decrypt(String(s.email_enc), SUBJECT_EMAIL);
          if (s.phone_enc && channel === 'sms') base.phone = this.crypto.decrypt(String(s.phone_enc), SUBJECT_PHONE);
        }
      }
      for (const hook of hooks.get(e.siteId)!) {
        if (hook.events.length > 0 && !hook.events.includes(type)) continue;
        const id = newId();
        const payload: WebhookPayload = { id, ...base };
        rows.push([id, hook.id, e.siteId, e.subjectId, type, this.crypto.encrypt(JSON.stringify(payload), WEBHOOK_PAYLOAD_CONTEXT), 'pending', 0, e.occurredAt, e.occurredAt]);
      }
    }
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200);
      await tx.execute({
        sql: `INSERT INTO webhook_deliveries (id, webhook_id, site_id, subject_id, event_type, payload_enc, status, attempts, next_attempt_at, created_at) VALUES ${chunk.map(() => '(?,?,?,?,?,?,?,?,?,?)').join(',')}`,
        args: chunk.flat(),
      });
    }
    return rows.length > 0;
  }

  /** Wakes this app's delivery loop once its write queue has committed what is pending. */
  nudge(): void {
    if (this.#listeners.size === 0) return;
    void this.queue.idle().then(() => {
      for (const listener of this.#listeners) listener();
    });
  }

  decryptPayload(enc: string): string {
    return this.crypto.decrypt(enc, WEBHOOK_PAYLOAD_CONTEXT);
  }

  decryptSecret(enc: string): string {
    return this.crypto.decrypt(enc, WEBHOOK_SECRET_CONTEXT);
  }
}

/**
 * The channel of an 'unsubscribe' without a purpose (unsubscribe from all marketing on a
 * channel: withdrawChannel, unsubscribeChannel). Such an event is appended right after its
 * suppression (reason 'unsubscribe', no purpose) in the same transaction, at the same
 * time, so the latest such row for one of the subject's addresses names the channel.
 * E-mail when none is found (unsubscribe links are e-mail's).
 */
async function unsubscribedChannel(tx: Transaction, e: NewEvent, s: Record<string, unknown> | undefined): Promise<'email' | 'sms'> {
  const emailBidx = s?.email_bidx ? String(s.email_bidx) : null;
  const phoneBidx = s?.phone_bidx ? String(s.phone_bidx) : null;
  if (!phoneBidx) return 'email';
  const { rows } = await tx.execute({
    sql: `SELECT channel FROM suppressions
          WHERE site_id = ? AND reason = 'unsubscribe' AND purpose_id IS NULL AND created_at = ?
            AND ((channel = 'email' AND bidx = ?) OR (channel = 'sms' AND bidx = ?))
          ORDER BY id DESC LIMIT 1`,
    args: [e.siteId, e.occurredAt, emailBidx ?? '', phoneBidx],
  });
  return rows[0]?.channel === 'sms' ? 'sms' : 'email';
}

// Erasure

/**
 * On erasing `subject` (inside the erasure's transaction, before its contact data is
 * removed): each delivery of theirs not yet made still goes out, since the receiver must
 * learn of the opt-out, but without the address: `email`/`phone` become the blind-index
 * hashes `emailHash`/`phoneHash`, as in the erase payload. A delivery made or given up
 * has no payload left. A pending row from before subject_id was recorded (migration 0006)
 * is found by its payload's subjectId. Returns the number of payloads rewritten.
 */
export async function scrubPendingDeliveries(
  crypto: Crypto,
  tx: Transaction,
  subject: { id: string; siteId: string; emailBidx: string | null; phoneBidx: string | null },
): Promise<number> {
  const { rows } = await tx.execute({
    sql: `SELECT id, payload_enc FROM webhook_deliveries
          WHERE status = 'pending' AND payload_enc != '' AND (subject_id = ? OR (subject_id IS NULL AND site_id = ?))`,
    args: [subject.id, subject.siteId],
  });
  let rewritten = 0;
  for (const r of rows) {
    const payload = JSON.parse(crypto.decrypt(String(r.payload_enc), WEBHOOK_PAYLOAD_CONTEXT)) as WebhookPayload;
    if (payload.subjectId !== subject.id || (payload.email === undefined && payload.phone === undefined)) continue;
    const { email, phone, ...rest } = payload;
    const scrubbed: WebhookPayload = { ...rest };
    if (email !== undefined && subject.emailBidx) scrubbed.emailHash = subject.emailBidx;
    if (phone !== undefined && subject.phoneBidx) scrubbed.phoneHash = subject.phoneBidx;
    await tx.execute({
      sql: 'UPDATE webhook_deliveries SET payload_enc = ?, subject_id = ? WHERE id = ?',
      args: [crypto.encrypt(JSON.stringify(scrubbed), WEBHOOK_PAYLOAD_CONTEXT), subject.id, r.id],
    });
    rewritten++;
  }
  return rewritten;
}

// Management (scope admin)

const present = (r: { id: string; url: string; events: string[]; createdAt: number }): WebhookView => ({
  id: r.id,
  url: r.url,
  events: r.events,
  createdAt: new Date(r.createdAt).toISOString(),
});

export interface WebhookServices {
  webhooks: Webhooks;
  queue: WriteQueue;
  db: Db;
  now: () => number;
}

export async function createWebhook(ctx: WebhookServices, siteId: string, input: { url: string; events?: string[] }, actor: string): Promise<WebhookView & { secret: string }> {
  const problem = webhookUrlProblem(input.url, ctx.webhooks.allowPrivateTargets);
  if (problem) throw invalidField('url', problem);
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  const id = newId();
  const events = [...new Set(input.events ?? [])];
  const row = await ctx.queue.run(async (w) => {
    const now = ctx.now();
    const found = await w.tx.execute({ sql: 'SELECT 1 FROM sites WHERE id = ?', args: [siteId] });
    if (!found.rows[0]) throw notFound('site');
    await w.tx.execute({
      sql: 'INSERT INTO webhooks (id, site_id, url, secret_enc, events, created_at) VALUES (?,?,?,?,?,?)',
      args: [id, siteId, input.url, ctx.webhooks.crypto.encrypt(secret, WEBHOOK_SECRET_CONTEXT), JSON.stringify(events), now],
    });
    // The URL's origin only: a path or query may carry the receiver's own token.
    await appendAudit(w, siteId, { actor, action: 'webhook.create', target: id, details: { origin: new URL(input.url).origin, events } }, now);
    return { id, url: input.url, events, createdAt: now };
  });
  return { ...present(row), secret };
}

export async function listWebhooks(ctx: WebhookServices, siteId: string): Promise<WebhookView[]> {
  const { rows } = await ctx.db.$client.execute({
    sql: 'SELECT id, url, events, created_at FROM webhooks WHERE site_id = ? AND disabled_at IS NULL ORDER BY created_at, rowid',
    args: [siteId],
  });
  return rows.map((r) => present({ id: String(r.id), url: String(r.url), events: JSON.parse(String(r.events)) as string[], createdAt: Number(r.created_at) }));
}

/** Disables the endpoint (its delivery history stays); deliveries not yet made are dropped. */
export async function deleteWebhook(ctx: WebhookServices, siteId: string, id: string, actor: string): Promise<void> {
  await ctx.queue.run(async (w) => {
    const now = ctx.now();
    const result = await w.tx.execute({ sql: 'UPDATE webhooks SET disabled_at = ? WHERE id = ? AND site_id = ? AND disabled_at IS NULL', args: [now, id, siteId] });
    if (result.rowsAffected === 0) throw notFound('webhook');
    await w.tx.execute({
      sql: "UPDATE webhook_deliveries SET status = 'failed', last_error = 'disabled', locked_until = NULL, payload_enc = '' WHERE webhook_id = ? AND status = 'pending'",
      args: [id],
    });
    await appendAudit(w, siteId, { actor, action: 'webhook.delete', target: id, details: {} }, now);
  });
}

// Delivery

/** The signature header's value for `body` sent at `t` (unix seconds). */
export function webhookSignature(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** Defaults: poll every 30 s, claims of 2 min, retries from 30 s doubling to 1 h, given up 24 h after the event, 20 a round (sent concurrently). */
export interface WebhookDeliveryOptions extends OutboxTiming {
  queue: WriteQueue;
  webhooks: Webhooks;
  now?: () => number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * Development only: send to http and to loopback/private addresses (default: the
   * Webhooks' own setting, WEBHOOK_ALLOW_PRIVATE). Off: every resolved address is checked.
   */
  allowPrivateTargets?: boolean;
  /** Resolves a host name to all its addresses (default node:dns lookup with {all: true}). */
  lookup?: (hostname: string) => Promise<string[]>;
}

export interface WebhookReport {
  delivered: number;
  retried: number;
  failed: number;
}

export class WebhookDelivery {
  readonly #o: Required<WebhookDeliveryOptions>;
  readonly #loop: OutboxLoop<WebhookReport>;
  /** Until the next retry is due, or the poll interval, whichever is sooner (set by each round). */
  #nextPoll = 0;

  constructor(options: WebhookDeliveryOptions) {
    this.#o = {
      now: Date.now,
      pollMs: 30_000,
      claimMs: 2 * 60_000,
      backoffMs: 30_000,
      maxBackoffMs: 60 * 60_000,
      giveUpMs: 24 * 60 * 60_000,
      batch: 20,
      timeoutMs: 10_000,
      log: false,
      fetch: globalThis.fetch,
      allowPrivateTargets: options.webhooks.allowPrivateTargets,
      lookup: async (hostname: string) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address),
      ...options,
    };
    this.#loop = new OutboxLoop({
      job: 'webhooks',
      round: () => this.#round(),
      handled: (r) => r.delivered + r.retried + r.failed,
      batch: this.#o.batch,
      nextPollMs: () => this.#nextPoll,
    });
  }

  /** Starts polling and listens for newly queued deliveries. */
  start(): this {
    this.#loop.start((listener) => this.#o.webhooks.onQueued(listener));
    return this;
  }

  /** Delivers due rows now rather than at the next poll. */
  nudge(): void {
    this.#loop.nudge();
  }

  /** Stops the loop and waits for a round in progress. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** One round: claim due deliveries, POST each, record the outcome. */
  runOnce(): Promise<WebhookReport> {
    return this.#loop.runOnce();
  }

  /**
   * Why `url` may not be called now, or undefined: 'blocked_address' (a host resolving to
   * any loopback/private/link-local/CGNAT/multicast/unspecified/ULA address, or named
   * localhost) or 'insecure_url' (not https, or with credentials), checked right before
   * each request. A DNS failure throws (retried with backoff).
   * Known residual: DNS rebinding; fetch resolves the name again, so a name answering
   * with a public address here and a private one a moment later is not caught.
   */
  async #refusedTarget(url: string): Promise<string | undefined> {
    if (this.#o.allowPrivateTargets) return undefined;
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // Every address the name has now (an IP literal is its own): one in a blocked range refuses.
    const addresses = isIP(host) ? [host] : await this.#o.lookup(host);
    if (addresses.length === 0 || addresses.some((a) => isBlockedAddress(a))) return 'blocked_address';
    const problem = webhookUrlProblem(url, false);
    if (problem) return problem.startsWith('must not point') ? 'blocked_address' : 'insecure_url';
    return undefined;
  }

  async #round(): Promise<WebhookReport> {
    const o = this.#o;
    const report: WebhookReport = { delivered: 0, retried: 0, failed: 0 };
    const now = o.now();
    const claimed = await o.queue.run(async ({ tx }) => {
      const result = await tx.execute({
        sql: `UPDATE webhook_deliveries SET locked_until = ?, attempts = attempts + 1
              WHERE id IN (SELECT id FROM webhook_deliveries
                           WHERE status = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?)
                           ORDER BY next_attempt_at LIMIT ?)
                AND status = 'pending'
              RETURNING id, webhook_id, event_type, payload_enc, attempts, created_at`,
        args: [now + o.claimMs, now, now, o.batch],
      });
      const rows = result.rows.map((r) => ({
        id: String(r.id),
        webhookId: String(r.webhook_id),
        type: String(r.event_type),
        payloadEnc: String(r.payload_enc),
        attempts: Number(r.attempts),
        createdAt: Number(r.created_at),
      }));
      const ids = [...new Set(rows.map((r) => r.webhookId))];
      const hooks = new Map<string, { url: string; secretEnc: string; disabled: boolean }>();
      if (ids.length) {
        const found = await tx.execute({ sql: `SELECT id, url, secret_enc, disabled_at FROM webhooks WHERE id IN (${ids.map(() => '?').join(',')})`, args: ids });
        for (const h of found.rows) hooks.set(String(h.id), { url: String(h.url), secretEnc: String(h.secret_enc), disabled: h.disabled_at !== null });
      }
      return rows.map((r) => ({ ...r, hook: hooks.get(r.webhookId) }));
    });
    await Promise.all(
      claimed.map(async (row) => {
        let error: string | undefined;
        let permanent = false;
        if (!row.hook || row.hook.disabled) {
          error = 'disabled';
          permanent = true;
        } else if (row.payloadEnc === CLEARED_PAYLOAD) {
          // Never decrypt '': nothing is left to send.
          error = 'cleared';
          permanent = true;
        } else {
          try {
            // Refused: given up at once, and nothing is sent.
            const refused = await this.#refusedTarget(row.hook.url);
            if (refused) {
              error = refused;
              permanent = true;
            }
          } catch (e) {
            error = errorCode(e);
          }
        }
        if (row.hook && !row.hook.disabled && row.payloadEnc !== CLEARED_PAYLOAD && error === undefined) {
          try {
            const body = this.#o.webhooks.decryptPayload(row.payloadEnc);
            const t = Math.floor(o.now() / 1000);
            const res = await o.fetch(row.hook.url, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'user-agent': 'Samtykke-Webhooks/1',
                'samtykke-signature': webhookSignature(this.#o.webhooks.decryptSecret(row.hook.secretEnc), t, body),
                'samtykke-delivery': row.id,
                'samtykke-event': row.type,
              },
              body,
              redirect: 'manual',
              signal: AbortSignal.timeout(o.timeoutMs),
            });
            await res.body?.cancel().catch(() => undefined);
            if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
          } catch (e) {
            error = errorCode(e);
          }
        }
        const done = o.now();
        if (error === undefined) {
          await o.queue.run(({ tx }) =>
            tx.execute({
              // Delivered: the payload (it may hold an address) is not kept.
              sql: "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = ?, locked_until = NULL, last_error = NULL, payload_enc = '' WHERE id = ?",
              args: [done, row.id],
            }),
          );
          report.delivered++;
          return;
        }
        const { giveUp, delay } = afterFailure(o, row, done, permanent);
        await o.queue.run(({ tx }) =>
          tx.execute(
            giveUp
              ? // Given up: nothing of the payload is kept but the error code.
                { sql: "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = ?, locked_until = NULL, last_error = ?, payload_enc = '' WHERE id = ?", args: [done, error, row.id] }
              : { sql: "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, locked_until = NULL, last_error = ? WHERE id = ?", args: [done + delay, error, row.id] },
          ),
        );
        if (giveUp) report.failed++;
        else report.retried++;
        if (o.log) logFailure({ webhook: giveUp ? 'failed' : 'retry', id: row.id, attempts: row.attempts, error }, giveUp, delay);
      }),
    );
    // Sleep until the next retry is due (or the poll interval, whichever is sooner).
    const { rows } = await o.webhooks.db.$client.execute("SELECT min(next_attempt_at) AS next FROM webhook_deliveries WHERE status = 'pending'");
    const next = rows[0]?.next;
    this.#nextPoll = next === null || next === undefined ? o.pollMs : Math.max(0, Math.min(o.pollMs, Number(next) - o.now()));
    return report;
  }
}

/** A short code for last_error, never the URL or the receiver's answer. */
function errorCode(e: unknown): string {
  const err = e as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | null;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timeout';
  // fetch's errors carry the code in cause; node:dns's (ENOTFOUND, EAI_AGAIN) on the error.
  const code = err?.cause?.code ?? err?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code)) return code;
  return 'ESEND';
}
