/**
 * The site's do-not-contact list: incremental export (scope `check`; addresses only with
 * `pii:read`) and import of a list (scope `admin` or `write`).
 */
import { Hono } from 'hono';
import { resolver } from 'hono-openapi';
import * as v from 'valibot';
import { SiteId } from '../../shared/api';
import { SuppressionEntry, SuppressionExportQuery, SuppressionImportAnswer, SuppressionImportQuery } from '../../shared/check-api';
import { exportSuppressions, importSuppressions } from '../services/suppressions';
import { csvLine } from '../services/csv';
import { requestBody } from './check';
import { requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { errorJson } from '../http/errors';
import { describeRoute, answers, bearer } from '../http/openapi';
import { validate } from '../http/validation';
import { header } from '../http/headers';

const SiteParam = v.object({ site: SiteId });
const tags = ['Suppressions'];
const CSV_COLUMNS = ['id', 'channel', 'address', 'hash', 'reason', 'list', 'purpose', 'createdAt'] as const;

export const suppressionsRoutes = new Hono<AppEnv>()
  .get(
    '/sites/:site/suppressions',
    requireScope('check', 'admin'),
    describeRoute({
      tags,
      summary: 'Export the do-not-contact list (incremental)',
      description:
        'Suppressions in the order they were added, as JSON lines (default; one `SuppressionEntry` object a line) or CSV (`format=csv`): channel, reason, list, purpose, time, ' +
        'the blind-index `hash`, and the `address` where the person still exists and the key has `pii:read`. ' +
        '`reason` speaks a send check\'s words: `unsubscribed`, `sms-stopped`, `erased`, `bounced`, `complained`, `listed` (with `list`), or `restricted`: ' +
        'the person restricted processing (GDPR art. 18), one entry per address they have (an e-mail address that changes meanwhile gets its own), removed when they lift it. ' +
        'Pass the `Samtykke-Next-Cursor` header of one page as `cursor` to get what came after it; `Samtykke-Has-More: true` means a full page. ' +
        'A suppression that is lifted (SMS START, a restriction lifted) is removed, not reported: re-sync from the start to see removals.',
      security: bearer,
      responses: {
        200: {
          description: 'One suppression per line: a JSON object (the schema is that of one line), or a CSV row with a header row',
          content: { 'application/x-ndjson': { schema: resolver(SuppressionEntry) }, 'text/csv': { schema: { type: 'string' } } },
        },
        ...answers(400, v.object({}), '', 400, 401, 403, 404),
      },
    }),
    validate('param', SiteParam),
    validate('query', SuppressionExportQuery),
    async (c) => {
      const q = c.req.valid('query');
      const page = await exportSuppressions(c.get('services'), c.req.valid('param').site, {
        channel: q.channel,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        after: q.cursor === undefined ? undefined : Number(q.cursor),
        limit: q.limit,
        withPii: c.get('key').scopes.has('pii:read'),
      });
      c.header('Samtykke-Next-Cursor', page.cursor);
      c.header('Samtykke-Has-More', String(page.more));
      c.header('Cache-Control', 'no-store');
      if (q.format === 'csv') {
        let out = csvLine(CSV_COLUMNS);
        for (const e of page.entries) out += csvLine(CSV_COLUMNS.map((k) => (e[k] === null ? '' : String(e[k]))));
        return c.body(out, 200, { 'content-type': 'text/csv; charset=utf-8' });
      }
      let out = '';
      for (const e of page.entries) out += `${JSON.stringify(e)}\n`;
      return c.body(out, 200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
    },
  )
  .post(
    '/sites/:site/suppressions/import',
    requireScope('admin', 'write'),
    describeRoute({
      tags,
      summary: 'Import a do-not-contact list (CSV)',
      description:
        'A CSV of e-mail addresses or phone numbers (streamed, any size; the address column as for check.csv) becomes suppressions with the list’s name ' +
        '(`reason` listed by default, or bounced or complained for an e-mail service’s export). Re-importing adds nothing twice. ' +
        'Answers with the counts: rows read, added, already present, invalid.',
      security: bearer,
      requestBody: { content: { 'text/csv': { schema: { type: 'string' } } } },
      responses: answers(200, SuppressionImportAnswer, 'Counts', 400, 401, 403, 404, 415),
    }),
    validate('param', SiteParam),
    validate('query', SuppressionImportQuery),
    async (c) => {
      const type = header(c, 'content-type') ?? '';
      if (!/^(text\/(csv|plain)|application\/(csv|octet-stream))\s*(;|$)/i.test(type)) {
        return errorJson(c, 415, 'unsupported_media_type', 'send the body as text/csv');
      }
      const q = c.req.valid('query');
      return c.json(await importSuppressions(c.get('services'), c.req.valid('param').site, requestBody(c), q));
    },
  );
