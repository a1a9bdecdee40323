/**
 * Outgoing mail through a transactional outbox. A message is written to `mail_outbox`
 * inside the caller's write transaction (so a signup and its mail commit together, or
 * neither does), with the recipient and the message encrypted: a mail's links are
 * capabilities. With SMTP_URL, a delivery loop claims due rows and sends them with
 * nodemailer, retrying with exponential backoff; without it, rows are kept as the
 * development outbox (status `dev`), listed at /dev/outbox when not in production.
 * No log line and no stored error ever holds an address.
 *
 * Once a message is sent or given up, its recipient and content are cleared (''): only
 * its id, kind, status, times and error code are kept (for 30 days, see retention). A row
 * names the person it is to (`subject_id`), so erasing them deletes their mail not yet
 * sent, and every other row of theirs, except the erasure receipt itself.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Client, Transaction } from '@libsql/client';
import type { WriteContext, WriteQueue } from '../db/write-queue';
import { mailOutbox } from '../db/schema';
import type { Crypto } from './crypto';
import { newId } from './crypto';
import { AppError } from './errors';
import { afterFailure, logFailure, OutboxLoop, type OutboxTiming } from './outbox-loop';

export type MailKind = 'confirm' | 'receipt' | 'magic-link' | 'test' | (string & {});
export type MailStatus = 'pending' | 'sent' | 'failed' | 'dev';

export interface MailAttachment {
  filename: string;
  /** UTF-8 text (e.g. a JSON consent receipt). */
  content: string;
  contentType?: string;
}

export interface OutgoingMail {
  siteId?: string | null;
  /** The person it is to (subjects.id): erasing them deletes it. Omitted only for mail to no person. */
  subjectId?: string | null;
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. List-Unsubscribe; one line each. */
  headers?: Record<string, string>;
  attachments?: MailAttachment[];
}

/** What is stored encrypted as one JSON blob. */
export interface StoredMessage {
  subject: string;
  text: string;
  html?: string;
  headers: Record<string, string>;
  attachments: MailAttachment[];
}

export const RECIPIENT_CONTEXT = 'mail_outbox.recipient';
export const MESSAGE_CONTEXT = 'mail_outbox.message';

/** Headers the outbox sets itself; a caller may not override them. */
const RESERVED_HEADERS = new Set(['from', 'to', 'cc', 'bcc', 'subject', 'message-id', 'date', 'sender', 'reply-to', 'return-path', 'content-type', 'content-transfer-encoding', 'mime-version']);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const ADDRESS = /^[^\s<>@",;:]{1,64}@[A-Za-z0-9.-]{1,253}$/;

/** The app's mail settings and the hook that tells a delivery loop a message is waiting. */
export class Mail {
  readonly #listeners = new Set<() => void>();
  /** What each open write transaction queued (see queuedIn). */
  readonly #queued = new WeakMap<Transaction, QueuedMail[]>();

  constructor(
    readonly settings: { smtp: boolean; from: string; log: boolean },
    private readonly crypto: Crypto,
    private readonly queue: WriteQueue,
  ) {}

  get outbox(): 'smtp' | 'dev' {
    return this.settings.smtp ? 'smtp' : 'dev';
  }

  /** Called after a transaction holding a queued message has finished (committed or not). */
  onQueued(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Inserts the message in `w`'s transaction: `pending` when SMTP is configured, else
   * `dev`. Returns its id. Throws AppError('invalid') for a malformed address or header.
   */
  async enqueue(w: WriteContext, msg: OutgoingMail, now: number): Promise<string> {
    const to = msg.to.trim();
    if (!ADDRESS.test(to)) throw new AppError('invalid', 'invalid_recipient', 'the recipient is not an e-mail address');
    if (/[\r\n]/.test(msg.subject)) throw new AppError('invalid', 'invalid_mail', 'the subject must be one line');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(msg.headers ?? {})) {
      if (!HEADER_NAME.test(name) || RESERVED_HEADERS.has(name.toLowerCase()) || /[\r\n]/.test(value)) {
        throw new AppError('invalid', 'invalid_mail', `header ${HEADER_NAME.test(name) ? name : '(name)'} is not allowed`);
      }
      headers[name] = value;
    }
    const stored: StoredMessage = { subject: msg.subject, text: msg.text, html: msg.html, headers, attachments: msg.attachments ?? [] };
    const id = newId();
    await w.db.insert(mailOutbox).values({
      id,
      siteId: msg.siteId ?? null,
      subjectId: msg.subjectId ?? null,
      kind: msg.kind,
      recipientEnc: this.crypto.encrypt(to, RECIPIENT_CONTEXT),
      messageEnc: this.crypto.encrypt(JSON.stringify(stored), MESSAGE_CONTEXT),
      status: this.settings.smtp ? 'pending' : 'dev',
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    });
    const queued = this.#queued.get(w.tx);
    if (queued) queued.push({ id, kind: msg.kind, subjectId: msg.subjectId ?? null });
    else this.#queued.set(w.tx, [{ id, kind: msg.kind, subjectId: msg.subjectId ?? null }]);
    if (this.settings.log) {
      // Never the address, the subject or the body.
      console.log(JSON.stringify({ level: 'info', mail: 'queued', kind: msg.kind, id, outbox: this.outbox }));
    }
    if (this.settings.smtp && this.#listeners.size > 0) {
      // Once the transaction holding this insert is done, so the loop can see the row.
      void this.queue.idle().then(() => {
        for (const listener of this.#listeners) listener();
      });
    }
    return id;
  }

  /** The messages queued so far in `w`'s transaction (e.g. the erasure receipt an erasure keeps). */
  queuedIn(w: WriteContext): readonly QueuedMail[] {
    return this.#queued.get(w.tx) ?? [];
  }

  decryptRecipient(enc: string): string {
    return this.crypto.decrypt(enc, RECIPIENT_CONTEXT);
  }

  decryptMessage(enc: string): StoredMessage {
    return JSON.parse(this.crypto.decrypt(enc, MESSAGE_CONTEXT)) as StoredMessage;
  }
}

export interface QueuedMail {
  id: string;
  kind: MailKind;
  subjectId: string | null;
}

/** A sent or given-up message keeps no recipient and no content. */
export const CLEARED = '';

/** Queues `msg` inside the caller's write transaction `w`; see Mail.enqueue. */
export function enqueueMail(ctx: { mail: Mail }, w: WriteContext, msg: OutgoingMail, now: number): Promise<string> {
  return ctx.mail.enqueue(w, msg, now);
}

export interface DevOutboxEntry {
  id: string;
  siteId: string | null;
  kind: string;
  createdAt: number;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  headers: Record<string, string>;
  attachments: { filename: string; contentType: string | null; size: number }[];
}

/**
 * The development outbox, newest first (the developer's own machine: decrypted). A row
 * whose content was cleared is left out: there is nothing of it to show.
 */
export async function listDevOutbox(ctx: { db: { $client: Client }; mail: Mail }, limit = 200): Promise<DevOutboxEntry[]> {
  const result = await ctx.db.$client.execute({
    sql: "SELECT id, site_id, kind, created_at, recipient_enc, message_enc FROM mail_outbox WHERE status = 'dev' AND recipient_enc != '' AND message_enc != '' ORDER BY created_at DESC, rowid DESC LIMIT ?",
    args: [limit],
  });
  return result.rows.flatMap((r) => {
    if (!r.message_enc || !r.recipient_enc) return [];
    const message = ctx.mail.decryptMessage(String(r.message_enc));
    const entry: DevOutboxEntry = {
      id: String(r.id),
      siteId: r.site_id === null ? null : String(r.site_id),
      kind: String(r.kind),
      createdAt: Number(r.created_at),
      to: ctx.mail.decryptRecipient(String(r.recipient_enc)),
      subject: message.subject,
      text: message.text,
      html: message.html ?? null,
      headers: message.headers,
      attachments: message.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType ?? null, size: Buffer.byteLength(a.content) })),
    };
    return [entry];
  });
}

/** Defaults: poll every 30 s, claims of 10 min, retries from 1 min doubling to 2 h, given up after 24 h, 10 a round. */
export interface DeliveryOptions extends OutboxTiming {
  /** The write connection's queue: claims and outcomes are written through it. */
  queue: WriteQueue;
  mail: Mail;
  smtpUrl: string;
  from: string;
  now?: () => number;
  /** For tests: a ready transport instead of one built from smtpUrl. */
  transport?: Transporter;
}

export interface DeliveryReport {
  sent: number;
  retried: number;
  failed: number;
}

/**
 * Sends pending messages. A round claims due rows atomically (one UPDATE … RETURNING in a
 * write transaction sets `locked_until`), so loops in several instances on one database
 * never send a message twice; a sender that dies mid-send leaves a claim that lapses,
 * and the message is sent again then (at least once; its Message-ID stays the same).
 */
export class MailDelivery {
  readonly #o: Required<Omit<DeliveryOptions, 'transport'>>;
  readonly #transport: Transporter;
  readonly #loop: OutboxLoop<DeliveryReport>;

  constructor(options: DeliveryOptions) {
    this.#o = {
      now: Date.now,
      pollMs: 30_000,
      claimMs: 10 * 60_000,
      backoffMs: 60_000,
      maxBackoffMs: 2 * 60 * 60_000,
      giveUpMs: 24 * 60 * 60_000,
      batch: 10,
      log: false,
      ...options,
    };
    this.#transport = options.transport ?? nodemailer.createTransport(options.smtpUrl);
    this.#loop = new OutboxLoop({
      job: 'mail',
      round: () => this.#round(),
      handled: (r) => r.sent + r.retried + r.failed,
      batch: this.#o.batch,
      nextPollMs: () => this.#o.pollMs,
    });
  }

  /** Starts polling and listens for newly queued messages. */
  start(): this {
    this.#loop.start((listener) => this.#o.mail.onQueued(listener));
    return this;
  }

  /** Sends due messages now rather than at the next poll. */
  nudge(): void {
    this.#loop.nudge();
  }

  /** Stops the loop, waits for a round in progress, and closes the SMTP connections. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    this.#transport.close();
  }

  /** One round: claim due messages, send each, record the outcome. */
  runOnce(): Promise<DeliveryReport> {
    return this.#loop.runOnce();
  }

  async #round(): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: 0, retried: 0, failed: 0 };
    const now = this.#o.now();
    const claimed = await this.#o.queue.run(async (w) => {
      const result = await w.tx.execute({
        sql: `UPDATE mail_outbox SET locked_until = ?, attempts = attempts + 1
              WHERE id IN (SELECT id FROM mail_outbox
                           WHERE status = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?)
                           ORDER BY next_attempt_at LIMIT ?)
                AND status = 'pending'
              RETURNING id, kind, recipient_enc, message_enc, attempts, created_at`,
        args: [now + this.#o.claimMs, now, now, this.#o.batch],
      });
      return result.rows.map((r) => ({
        id: String(r.id),
        kind: String(r.kind),
        recipientEnc: String(r.recipient_enc),
        messageEnc: String(r.message_enc),
        attempts: Number(r.attempts),
        createdAt: Number(r.created_at),
      }));
    });
    for (const row of claimed) {
      let error: string | undefined;
      let permanent = false;
      // Never decrypt '': a row whose content is gone cannot be sent, now or later.
      if (row.messageEnc === CLEARED || row.recipientEnc === CLEARED) {
        error = 'ECLEARED';
        permanent = true;
      } else {
        try {
          const message = this.#o.mail.decryptMessage(row.messageEnc);
          await this.#transport.sendMail({
            from: this.#o.from,
            to: this.#o.mail.decryptRecipient(row.recipientEnc),
            subject: message.subject,
            text: message.text,
            html: message.html,
            headers: message.headers,
            attachments: message.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
            messageId: `<${row.id}@${domainOf(this.#o.from)}>`,
          });
        } catch (e) {
          ({ code: error, permanent } = errorCode(e));
        }
      }
      const done = this.#o.now();
      if (error === undefined) {
        await this.#o.queue.run((w) =>
          w.tx.execute({
            // Sent: the recipient and the content (links, receipt) are not kept.
            sql: "UPDATE mail_outbox SET status = 'sent', sent_at = ?, locked_until = NULL, last_error = NULL, next_attempt_at = ?, recipient_enc = '', message_enc = '' WHERE id = ?",
            args: [done, done, row.id],
          }),
        );
        report.sent++;
        continue;
      }
      const { giveUp, delay } = afterFailure(this.#o, row, done, permanent);
      await this.#o.queue.run((w) =>
        w.tx.execute(
          giveUp
            ? // Given up: nothing of the message is kept but its error code.
              { sql: "UPDATE mail_outbox SET status = 'failed', next_attempt_at = ?, locked_until = NULL, last_error = ?, recipient_enc = '', message_enc = '' WHERE id = ?", args: [done, error, row.id] }
            : { sql: "UPDATE mail_outbox SET status = 'pending', next_attempt_at = ?, locked_until = NULL, last_error = ? WHERE id = ?", args: [done + delay, error, row.id] },
        ),
      );
      if (giveUp) report.failed++;
      else report.retried++;
      if (this.#o.log) logFailure({ mail: giveUp ? 'failed' : 'retry', kind: row.kind, id: row.id, attempts: row.attempts, error }, giveUp, delay);
    }
    return report;
  }
}

function domainOf(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'localhost';
}

/**
 * A short code for last_error: nodemailer's error code and the SMTP reply code, never the
 * message (a server's reply may quote the address). A recipient refused with a 5xx reply
 * is permanent; everything else (connection, greeting, 4xx, authentication) is retried.
 */
function errorCode(e: unknown): { code: string; permanent: boolean } {
  const err = (e ?? {}) as { code?: unknown; responseCode?: unknown };
  const code = typeof err.code === 'string' && /^[A-Z0-9_]{1,32}$/.test(err.code) ? err.code : 'ESEND';
  const reply = typeof err.responseCode === 'number' && err.responseCode >= 200 && err.responseCode < 600 ? err.responseCode : undefined;
  return { code: reply ? `${code} ${reply}` : code, permanent: code === 'EENVELOPE' && reply !== undefined && reply >= 500 };
}
