/**
 * A site's do-not-contact list: imported lists (the Danish Robinson list, an e-mail
 * service's bounce or complaint export), the rows that stand for a restriction of
 * processing, and the incremental export that keeps an e-mail or SMS service in step.
 * Rows hold only blind indexes, so they outlive erasure.
 */
import type { InValue, Transaction } from '@libsql/client';
import type { ServiceContext } from './context';
import { normalizeEmail, normalizePhone } from './contact';
import { addressColumn, csvBatches, CsvParser, guessKind, isBlank, type AddressColumn } from './csv';
import { invalidField, notFound } from './errors';
import { SUBJECT_EMAIL, SUBJECT_PHONE } from './ledger';
import { EMAIL_PATTERN, PHONE_PATTERN } from '../../shared/check-api';
import { suppressionCheckReason, type SuppressionCheckReason } from '../../shared/enums';

export interface ImportOptions {
  list: string;
  reason?: 'listed' | 'bounced' | 'complained';
  /** Default: per row (an @ makes it e-mail, else a phone number for SMS). */
  channel?: 'email' | 'sms';
  column?: string;
  /** Told of the rows read so far (for a progress display). */
  onProgress?: (rows: number) => void;
}

export interface ImportReport {
  list: string;
  reason: string;
  rows: number;
  added: number;
  alreadyPresent: number;
  invalid: number;
}

const IMPORT_BATCH = 5000;
const ROWS_PER_INSERT = 250; // 7 columns each

/**
 * Streams a CSV of addresses or phone numbers into suppressions with the list's name.
 * Re-importing adds nothing twice (the unique index on site, channel, hash, reason, list).
 */
export async function importSuppressions(
  ctx: ServiceContext,
  siteId: string,
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: ImportOptions,
): Promise<ImportReport> {
  const catalog = await ctx.catalog.get(siteId);
  if (!catalog) throw notFound('site');
  const reason = options.reason ?? 'listed';
  const report: ImportReport = { list: options.list, reason, rows: 0, added: 0, alreadyPresent: 0, invalid: 0 };
  let column: AddressColumn | undefined;
  let headerPending = false;
  for await (const batch of csvBatches(body, new CsvParser(), IMPORT_BATCH)) {
    const rows: InValue[][] = [];
    const now = ctx.now();
    for (const record of batch) {
      if (isBlank(record)) continue;
      if (!column) {
        column = addressColumn(record.fields, options.column);
        if (!column) throw invalidField('column', 'no column of that name in the first row', 'unknown_column');
        headerPending = column.header;
      }
      if (headerPending) {
        headerPending = false;
        continue;
      }
      report.rows++;
      const value = (record.fields[column.index] ?? '').trim();
      const kind = options.channel === 'email' ? 'email' : options.channel === 'sms' ? 'phone' : column.kind === 'auto' ? guessKind(value) : column.kind;
      let bidx: string | undefined;
      if (!record.malformed && value) {
        if (kind === 'email' && value.length <= 254 && EMAIL_PATTERN.test(value)) bidx = ctx.crypto.blindIndex(siteId, 'email', normalizeEmail(value));
        else if (kind === 'phone' && PHONE_PATTERN.test(value)) {
          const phone = normalizePhone(value, catalog.defaultCountry);
          if (phone) bidx = ctx.crypto.blindIndex(siteId, 'phone', phone);
        }
      }
      if (!bidx) {
        report.invalid++;
        continue;
      }
      rows.push([siteId, kind === 'email' ? 'email' : 'sms', bidx, reason, options.list, null, now]);
    }
    if (rows.length) {
      const added = await ctx.queue.run(async ({ tx }) => {
        let n = 0;
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
          const chunk = rows.slice(i, i + ROWS_PER_INSERT);
          const result = await tx.execute({
            sql: `INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ${chunk.map(() => '(?,?,?,?,?,?,?)').join(',')} ON CONFLICT DO NOTHING`,
            args: chunk.flat(),
          });
          n += result.rowsAffected;
        }
        return n;
      });
      report.added += added;
      report.alreadyPresent += rows.length - added;
    }
    options.onProgress?.(report.rows);
  }
  return report;
}

// Restriction of processing (GDPR art. 18)

/** An address a person no longer has (the old one of an e-mail change, or every one on erasure). */
export interface GoneAddress {
  siteId: string;
  channel: 'email' | 'sms';
  bidx: string;
}

const DROP_RESTRICTED = "DELETE FROM suppressions WHERE site_id = ? AND channel = ? AND bidx = ? AND reason = 'restricted'";

/**
 * Keeps the 'restricted' suppressions in step with people, in the caller's transaction
 * (the one that changes a person's restriction or addresses): a restricted person who is
 * not erased has one row per address, e-mail (email_bidx) and SMS (phone_bidx), with no
 * purpose and no list; anyone else has none. `gone` names addresses just given up, whose
 * 'restricted' rows go first: a restriction follows the person, and a row left on an
 * address no longer theirs could never be lifted. The one place for this, used wherever
 * a restriction or an address changes: restricting and lifting it, a confirmed e-mail
 * change, erasure, and a person gaining an address. Returns the number of rows added.
 */
export async function syncRestrictedSuppressions(tx: Transaction, subjectIds: readonly string[], now: number, gone: readonly GoneAddress[] = []): Promise<number> {
  for (const g of gone) await tx.execute({ sql: DROP_RESTRICTED, args: [g.siteId, g.channel, g.bidx] });
  let added = 0;
  for (let i = 0; i < subjectIds.length; i += 500) {
    const chunk = subjectIds.slice(i, i + 500);
    const { rows } = await tx.execute({
      sql: `SELECT site_id, email_bidx, phone_bidx, restricted, erased_at FROM subjects WHERE id IN (${chunk.map(() => '?').join(',')})`,
      args: chunk,
    });
    for (const r of rows) {
      const restricted = Number(r.restricted) === 1 && r.erased_at === null;
      for (const [channel, bidx] of [['email', r.email_bidx], ['sms', r.phone_bidx]] as const) {
        if (bidx === null || bidx === undefined) continue;
        if (!restricted) {
          await tx.execute({ sql: DROP_RESTRICTED, args: [r.site_id, channel, bidx] });
          continue;
        }
        const result = await tx.execute({
          sql: "INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES (?, ?, ?, 'restricted', '', NULL, ?) ON CONFLICT DO NOTHING",
          args: [r.site_id, channel, bidx, now],
        });
        added += result.rowsAffected;
      }
    }
  }
  return added;
}

export interface ExportOptions {
  channel?: 'email' | 'sms';
  since?: number;
  /** The last id of the previous page. */
  after?: number;
  limit?: number;
  withPii: boolean;
}

export interface SuppressionEntry {
  id: number;
  channel: 'email' | 'sms';
  address: string | null;
  hash: string;
  /** In a send check's words (unsubscribed, sms-stopped, …), not storage's. */
  reason: SuppressionCheckReason;
  list: string | null;
  purpose: string | null;
  createdAt: string;
}

export interface ExportPage {
  entries: SuppressionEntry[];
  /** Pass as `cursor` for the next page (also when this one was short: new rows come after it). */
  cursor: string;
  more: boolean;
}

/** One page of the site's suppressions in the order they were added. */
export async function exportSuppressions(ctx: ServiceContext, siteId: string, options: ExportOptions): Promise<ExportPage> {
  const catalog = await ctx.catalog.get(siteId);
  if (!catalog) throw notFound('site');
  const purposeKeys = new Map([...catalog.purposesByKey.values()].map((p) => [p.id, p.key]));
  const limit = options.limit ?? 10_000;
  const where = ['sp.site_id = ?', 'sp.id > ?'];
  const args: InValue[] = [siteId, options.after ?? 0];
  if (options.channel) {
    where.push('sp.channel = ?');
    args.push(options.channel);
  }
  if (options.since !== undefined) {
    where.push('sp.created_at >= ?');
    args.push(options.since);
  }
  // The address only where the person still exists (erasure nulls the index) and may be shown.
  const pii = options.withPii
    ? ', se.email_enc, sph.phone_enc FROM suppressions sp' +
      " LEFT JOIN subjects se ON sp.channel = 'email' AND se.site_id = sp.site_id AND se.email_bidx = sp.bidx" +
      " LEFT JOIN subjects sph ON sp.channel = 'sms' AND sph.site_id = sp.site_id AND sph.phone_bidx = sp.bidx"
    : ' FROM suppressions sp';
  const { rows } = await ctx.db.$client.execute({
    sql: `SELECT sp.id, sp.channel, sp.bidx, sp.reason, sp.list, sp.purpose_id, sp.created_at${pii} WHERE ${where.join(' AND ')} ORDER BY sp.id LIMIT ?`,
    args: [...args, limit + 1],
  });
  const more = rows.length > limit;
  const entries = rows.slice(0, limit).map((r) => {
    let address: string | null = null;
    if (options.withPii) {
      if (r.email_enc) address = ctx.crypto.decrypt(String(r.email_enc), SUBJECT_EMAIL);
      else if (r.phone_enc) address = ctx.crypto.decrypt(String(r.phone_enc), SUBJECT_PHONE);
    }
    return {
      id: Number(r.id),
      channel: r.channel as 'email' | 'sms',
      address,
      hash: String(r.bidx),
      reason: suppressionCheckReason(String(r.reason)),
      list: r.list ? String(r.list) : null,
      purpose: r.purpose_id ? (purposeKeys.get(String(r.purpose_id)) ?? null) : null,
      createdAt: new Date(Number(r.created_at)).toISOString(),
    };
  });
  const last = entries.length ? entries[entries.length - 1]!.id : (options.after ?? 0);
  return { entries, cursor: String(last), more };
}
