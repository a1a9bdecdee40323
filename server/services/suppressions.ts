/**
 * A site's do-not-contact list: imported lists (the Danish Robinson list, an e-mail
 * service's bounce or complaint export) and the incremental export that keeps an e-mail
 * or SMS service in step. Rows hold only blind indexes, so they outlive erasure.
 */
import type { InValue } from '@libsql/client';
import type { ServiceContext } from './context';
import { normalizeEmail, normalizePhone } from './contact';
import { addressColumn, csvBatches, CsvParser, guessKind, isBlank, type AddressColumn } from './csv';
import { invalidField, notFound } from './errors';
import { SUBJECT_EMAIL, SUBJECT_PHONE } from './ledger';
import { EMAIL_PATTERN, PHONE_PATTERN } from '../../shared/check-api';

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
  reason: string;
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
      reason: String(r.reason),
      list: r.list ? String(r.list) : null,
      purpose: r.purpose_id ? (purposeKeys.get(String(r.purpose_id)) ?? null) : null,
      createdAt: new Date(Number(r.created_at)).toISOString(),
    };
  });
  const last = entries.length ? entries[entries.length - 1]!.id : (options.after ?? 0);
  return { entries, cursor: String(last), more };
}
