/**
 * Send checks (scope `check`): one address, a JSON batch of up to 100,000, or a CSV
 * stream of any length. The answers name no one beyond what was asked.
 */
import type { IncomingMessage } from 'node:http';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as v from 'valibot';
import { SiteId } from '../../shared/api';
import { BulkCheckAnswer, BulkCheckBody, CheckAnswer, CheckQuery, CsvCheckQuery, MAX_BULK_CONTACTS } from '../../shared/check-api';
import { CHECK_REASONS } from '../../shared/enums';
import { checkBulk, checkCsv, checkOne } from '../services/check';
import type { AuthenticatedKey } from '../services/keys';
import { authorize, requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { errorJson } from '../http/errors';
import { describeRoute, answers, bearer } from '../http/openapi';
import { jsonBody, parseInput, validate } from '../http/validation';
import { header } from '../http/headers';

/** Response header of POST check.csv: `present` when the answer's first row is the input's header row, else `absent`. */
export const CSV_HEADER_HEADER = 'Samtykke-Csv-Header';

/** Single and bulk checks, under the API's base path (app.ts serves GET of it with singleCheck). */
export const CHECK_PATH = '/sites/:site/check';

/** Routes that set their own body limit instead of the app-wide 1 MB (see app.ts). */
export const OWN_BODY_LIMIT = /^\/v1\/sites\/[^/]+\/(check|check\.csv|suppressions\/import)$/;

/** 100,000 contacts of the longest e-mail address allowed, with room for whitespace. */
export const MAX_BULK_BODY_BYTES = 32 * 1024 * 1024;

const SiteParam = v.object({ site: SiteId });
const tags = ['Send checks'];
const rules =
  'Reasons, first match wins: erased, restricted, a suppression on the channel (listed, bounced, complained, sms-stopped, unsubscribed), objected, ' +
  'withdrawn (unsubscribed or sms-stopped when withdrawn that way), pending-confirmation, then consented or legal-basis, else no-consent. ' +
  'Only consented and legal-basis allow contact. Consent-based purposes (and e-mail or SMS purposes on legitimate interests) need an active, confirmed grant. ' +
  `Reasons: ${CHECK_REASONS.join(', ')}.`;

const csvContent = (description: string) => ({ description, content: { 'text/csv': { schema: { type: 'string' as const } } } });

export const checkRoutes = new Hono<AppEnv>()
  .get(
    CHECK_PATH,
    requireScope('check'),
    describeRoute({
      tags,
      summary: 'May we contact this person for this purpose?',
      description: `One e-mail address or phone number. An unknown address is not allowed for a consent-based purpose (no-consent). ${rules}`,
      security: bearer,
      responses: answers(200, CheckAnswer, 'The verdict', 400, 401, 403, 404),
    }),
    validate('param', SiteParam),
    validate('query', CheckQuery),
    (c) => answerCheck(c, c.req.valid('param').site, c.req.valid('query')),
  )
  .post(
    CHECK_PATH,
    requireScope('check'),
    describeRoute({
      tags,
      summary: 'Check many contacts at once',
      description:
        `Up to ${MAX_BULK_CONTACTS.toLocaleString('en-US')} contacts, each \`{email}\`, \`{phone}\` or \`{subjectId}\`; results in input order. ` +
        `A malformed entry gets its own error; the batch does not fail. More contacts is 413 \`too_many_contacts\`. ${rules}`,
      security: bearer,
      responses: answers(200, BulkCheckAnswer, 'One result per contact, in order', 400, 401, 403, 404, 413, 415),
    }),
    bodyLimit({
      maxSize: MAX_BULK_BODY_BYTES,
      onError: (c) => errorJson(c, 413, 'payload_too_large', `the body is larger than ${MAX_BULK_BODY_BYTES} bytes`),
    }),
    validate('param', SiteParam),
    ...jsonBody(BulkCheckBody),
    async (c) => {
      const body = c.req.valid('json');
      if (body.contacts.length > MAX_BULK_CONTACTS) {
        return errorJson(c, 413, 'too_many_contacts', `at most ${MAX_BULK_CONTACTS} contacts per request; split the list`);
      }
      return c.json(await checkBulk(c.get('services'), c.req.valid('param').site, body.purpose, body.contacts));
    },
  )
  .post(
    '/sites/:site/check.csv',
    requireScope('check'),
    describeRoute({
      tags,
      summary: 'Check a CSV of recipients (streamed)',
      description:
        'Send `text/csv` of any size; the same rows come back as they are checked, with `allowed` and `reason` columns appended ' +
        '(`invalid` for a row without a usable address; blank lines are dropped). The address column is `column`, else one named email, phone, mobile or subjectId, ' +
        'else the first; the first row is a header only when one of its cells names such a column (or is `column`), else it is checked as data. ' +
        'The response header `Samtykke-Csv-Header` is `present` when the first row of the answer is that header row, else `absent`. ' +
        `The separator is \`,\`, \`;\` or a tab, whichever the first line holds most of (\`,\` on a tie), and is kept in the answer. ` +
        `A row longer than 64 KiB is answered \`false,invalid\` with its text cut. Quotes, a BOM and CRLF are understood. ${rules}`,
      security: bearer,
      requestBody: { content: { 'text/csv': { schema: { type: 'string' } } } },
      responses: {
        200: csvContent('The CSV with allowed and reason appended'),
        ...answers(400, v.object({}), '', 400, 401, 403, 404, 415),
      },
    }),
    validate('param', SiteParam),
    validate('query', CsvCheckQuery),
    async (c) => {
      const type = header(c, 'content-type') ?? '';
      if (!/^(text\/(csv|plain)|application\/(csv|octet-stream))\s*(;|$)/i.test(type)) {
        return errorJson(c, 415, 'unsupported_media_type', 'send the body as text/csv');
      }
      const q = c.req.valid('query');
      const stream = await checkCsv(c.get('services'), c.req.valid('param').site, q.purpose, requestBody(c), { column: q.column });
      return c.body(stream, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'cache-control': 'no-store',
        [CSV_HEADER_HEADER]: stream.header ? 'present' : 'absent',
      });
    },
  );

function answerCheck(c: Context<AppEnv>, site: string, query: v.InferOutput<typeof CheckQuery>) {
  const answer = checkOne(c.get('services'), site, query.purpose, query);
  return answer instanceof Promise ? answer.then((a) => c.json(a)) : c.json(answer);
}


/**
 * GET check as one handler: the documented route's steps (key, path, query, check) in one
 * function instead of a chain of middleware, so that on a local database file the answer
 * is ready in the same call. App.ts serves it in front of the app, where it is the only
 * handler of its path: Hono then calls it directly and the Node adapter writes its answer
 * at once, where a chain is composed with a promise for each step (18 µs of a check's
 * 170 µs of server CPU).
 */
export function singleCheck(c: Context<AppEnv>): Response | Promise<Response> {
  const key = authorize(c, ['check']);
  if (key instanceof Promise) return key.then((k) => (k instanceof Response ? k : checkWithKey(c, k)));
  return key instanceof Response ? key : checkWithKey(c, key);
}

function checkWithKey(c: Context<AppEnv>, key: AuthenticatedKey): Response | Promise<Response> {
  // The path's site is the key's own (authorize answers 404 for any other), so it needs no further check.
  const query = parseInput(c, 'query', CheckQuery);
  if (query instanceof Response) return query;
  return answerCheck(c, key.siteId, query);
}

/**
 * The request body as a stream that is read only as fast as it is checked: under Node the
 * socket itself (a Node stream pauses the socket when not read; the web stream the adapter
 * builds from it reads ahead without limit on Node 20), else the web stream.
 */
export function requestBody(c: Context<AppEnv>): AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && !incoming.readableDidRead) return incoming;
  return c.req.raw.body ?? new ReadableStream({ start: (controller) => controller.close() });
}
