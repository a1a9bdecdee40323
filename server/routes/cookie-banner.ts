import { Hono } from 'hono';
import { resolver } from 'hono-openapi';
import * as v from 'valibot';
import { ConfigQuery, CookieConfigSchema, CookieConsent, CookieConsentAnswer, SiteId } from '../../shared/api';
import { recordCookieChoice } from '../services/cookie-banner';
import { sha256Hex } from '../services/crypto';
import { pageCors } from '../http/cors';
import type { AppEnv } from '../http/env';
import { errorJson } from '../http/errors';
import { describeRoute, answers } from '../http/openapi';
import { rateLimit } from '../http/rate-limit';
import { requestMeta } from '../http/request-meta';
import { validate, validationError } from '../http/validation';
import { header } from '../http/headers';

const SiteParam = v.object({ site: SiteId });
const tags = ['Cookie banner'];

export const cookieBannerRoutes = new Hono<AppEnv>()
  .use('/sites/:site/config', pageCors(['GET']))
  .use('/sites/:site/cookie-consents', pageCors(['POST']))
  .get(
    '/sites/:site/config',
    rateLimit({ name: 'config', max: 1200, windowMs: 60_000 }),
    describeRoute({
      tags,
      summary: "The cookie banner's configuration",
      description:
        'Public, for the `<consent-banner>` widget: cookie categories with their current wording in `lang` (else the site default), the wording versions and text hashes, and a revision that changes with any wording. ' +
        'Cached by browsers for 5 minutes and revalidated with its ETag. `Sec-GPC: 1` sets `gpc`.',
      responses: answers(200, CookieConfigSchema, 'The configuration', 400, 404),
    }),
    validate('param', SiteParam),
    validate('query', ConfigQuery),
    async (c) => {
      const gpc = header(c, 'sec-gpc') === '1';
      const config = await c.get('services').cookieConfigs.get(c.req.valid('param').site, c.req.valid('query').lang, gpc);
      const body = JSON.stringify(config);
      const etag = `"${sha256Hex(body).slice(0, 32)}"`;
      c.header('ETag', etag);
      c.header('Cache-Control', 'public, max-age=300, stale-while-revalidate=3600');
      c.header('Vary', 'Sec-GPC', { append: true });
      const match = header(c, 'if-none-match');
      if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return c.body(null, 304);
      return c.body(body, 200, { 'content-type': 'application/json' });
    },
  )
  .post(
    '/sites/:site/cookie-consents',
    rateLimit({ name: 'cookie consent', max: 120, windowMs: 60_000 }),
    describeRoute({
      tags,
      summary: "Record a visitor's cookie choice",
      description:
        'Public, for the `<consent-banner>` widget. One ledger event per optional category (grant or withdraw) keyed by the random consent id, naming the wording version of each text shown. ' +
        'Every `sha256` must match the published text (409 otherwise). No personal data is stored: the IP is truncated and the user agent hashed. ' +
        'The body may be sent as `text/plain` (no CORS preflight) or `application/json`.',
      requestBody: { content: { 'application/json': { schema: resolver(CookieConsent) } } },
      responses: answers(201, CookieConsentAnswer, 'Recorded', 400, 403, 409, 413, 415),
    }),
    validate('param', SiteParam),
    async (c) => {
      const type = header(c, 'content-type') ?? '';
      if (!/^(text\/plain|application\/json)\s*(;|$)/i.test(type)) {
        return errorJson(c, 415, 'unsupported_media_type', 'send the body as application/json or text/plain');
      }
      let raw: unknown;
      try {
        raw = JSON.parse(await c.req.text());
      } catch {
        return errorJson(c, 400, 'malformed_request', 'the body is not JSON');
      }
      const parsed = v.safeParse(CookieConsent, raw);
      if (!parsed.success) return validationError(c, parsed.issues, 'body');
      const answer = await recordCookieChoice(c.get('services'), c.req.valid('param').site, parsed.output, requestMeta(c));
      return c.json(answer, 201);
    },
  );
