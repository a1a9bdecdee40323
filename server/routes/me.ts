/**
 * The preference routes (`<consent-preferences>`): a person, authenticated by the token in
 * their link (`Authorization: Bearer <token>`, scope `prefs`), sees and changes their own
 * consents and data, exports it and can be forgotten. CORS as for the other page routes,
 * with the Authorization header allowed.
 */
import { Hono, type Context } from 'hono';
import { resolver } from 'hono-openapi';
import * as v from 'valibot';
import {
  ErasedAnswer,
  ErrorBody,
  MeEraseBody,
  MeExportQuery,
  MePatchBody,
  MeRestrictBody,
  MeUnsubscribeBody,
  PreferencesViewSchema,
  PreferenceToggleBody,
  PurposeKey,
  SiteId,
} from '../../shared/api';
import { bearerToken } from '../http/auth';
import { pageCors } from '../http/cors';
import type { AppEnv } from '../http/env';
import { describeRoute, answers } from '../http/openapi';
import { requestMeta } from '../http/request-meta';
import { jsonBody, validate } from '../http/validation';
import { normalizeEmail } from '../services/contact';
import {
  authenticatePerson,
  erasePerson,
  exportCsv,
  exportPerson,
  preferencesView,
  rectify,
  setRestricted,
  togglePurpose,
  unsubscribeChannel,
  type Person,
} from '../services/preferences';
import type { FixedWindow } from '../http/rate-limit';
import { limitsOf, tooMany } from './subscriptions';

const SiteParam = v.object({ site: SiteId });
const PurposeParam = v.object({ site: SiteId, purpose: PurposeKey });
const tags = ['Preferences'];
const token = [{ linkToken: [] }];
const ERRORS = {
  401: { description: 'Missing, tampered, foreign-site or expired link token (`invalid_token`, `token_expired`)', content: { 'application/json': { schema: resolver(ErrorBody) } } },
  410: { description: 'The person has been erased (`erased`)', content: { 'application/json': { schema: resolver(ErrorBody) } } },
};

async function person(c: Context<AppEnv>): Promise<Person> {
  c.header('Cache-Control', 'no-store');
  return authenticatePerson(c.get('services'), c.req.param('site') ?? '', bearerToken(c));
}

const view = async (c: Context<AppEnv>, p: Person) => c.json(await preferencesView(c.get('services'), p));

const cors = pageCors(['GET', 'PUT', 'POST', 'PATCH'], { headers: ['authorization'], expose: ['content-disposition'] });

export const meRoutes = new Hono<AppEnv>()
  .use('/sites/:site/me', cors)
  .use('/sites/:site/me/*', cors)
  .get(
    '/sites/:site/me',
    describeRoute({
      tags,
      summary: 'What the preference page shows',
      description: 'The person, every purpose they can manage with its status, the wording they agreed to and the current one, do-not-contact entries this page cannot lift, and channel-wide unsubscribes.',
      security: token,
      responses: { ...answers(200, PreferencesViewSchema, 'The view', 400), ...ERRORS },
    }),
    validate('param', SiteParam),
    async (c) => view(c, await person(c)),
  )
  .put(
    '/sites/:site/me/consents/:purpose',
    describeRoute({
      tags,
      summary: 'Grant or withdraw one purpose',
      description:
        'Granting a consent-based purpose names the wording shown (`wordingVersion`, `lang`, `sha256`; 409 `wording_mismatch` when the hash is not the published text) and is granted at once (the link proves the mailbox); ' +
        "it lifts the person's own unsubscribes on that channel, never an SMS STOP, a list, a bounce or a complaint. The link does not prove the phone: an SMS purpose is granted at once only when the number has answered by SMS before, " +
        "otherwise it is `pending` until the number replies YES. Withdrawing records 'withdraw'; for purposes not based on consent, 'object'.",
      security: token,
      requestBody: { content: { 'application/json': { schema: resolver(PreferenceToggleBody) } } },
      responses: { ...answers(200, PreferencesViewSchema, 'The view after the change', 400, 404, 409, 415), ...ERRORS },
    }),
    validate('param', PurposeParam),
    ...jsonBody(PreferenceToggleBody),
    async (c) => {
      const p = await person(c);
      await togglePurpose(c.get('services'), p, c.req.valid('param').purpose, c.req.valid('json'), requestMeta(c));
      return view(c, p);
    },
  )
  .post(
    '/sites/:site/me/unsubscribe',
    describeRoute({
      tags,
      summary: 'Unsubscribe from all marketing on a channel',
      description: "Records 'unsubscribe' for every granted or pending purpose of the channel (`email`, `sms` or `all`) and suppresses the address or number for all marketing on it.",
      security: token,
      requestBody: { content: { 'application/json': { schema: resolver(MeUnsubscribeBody) } } },
      responses: { ...answers(200, PreferencesViewSchema, 'The view after the change', 400, 415), ...ERRORS },
    }),
    validate('param', SiteParam),
    ...jsonBody(MeUnsubscribeBody),
    async (c) => {
      const p = await person(c);
      await unsubscribeChannel(c.get('services'), p, c.req.valid('json').channel, requestMeta(c));
      return view(c, p);
    },
  )
  .patch(
    '/sites/:site/me',
    describeRoute({
      tags,
      summary: 'Correct name or e-mail address',
      description:
        "A name is changed at once (a 'rectify' event names the field, never the value; null removes it). A new e-mail address is not applied: a confirmation link valid 24 hours goes to it, " +
        'and `person.pendingEmailChange` turns true; the mail does not carry the name. At most 10 change requests per client IP, 3 per person and 3 per new address an hour (429 with Retry-After).',
      security: token,
      requestBody: { content: { 'application/json': { schema: resolver(MePatchBody) } } },
      responses: { ...answers(200, PreferencesViewSchema, 'The view after the change', 400, 415), ...ERRORS, 429: { description: 'Too many e-mail change requests from this client, for this person or for this address' } },
    }),
    validate('param', SiteParam),
    ...jsonBody(MePatchBody),
    async (c) => {
      const services = c.get('services');
      const p = await person(c);
      const patch = c.req.valid('json');
      if (patch.email !== undefined) {
        // Only token holders get here, so a 429 tells nothing about who is known. Each limit
        // keeps the change mail from being a relay: per client, per person, per new address.
        const limits = limitsOf(services);
        const now = services.now();
        const address = `${p.site.id}\0${services.crypto.blindIndex(p.site.id, 'email', normalizeEmail(patch.email))}`;
        const checks: [FixedWindow, string, string][] = [
          [limits.changeIp, requestMeta(c).ip ?? 'unknown', 'change requests from this address'],
          [limits.changePerson, `${p.site.id}\0${p.subject.id}`, 'change requests for this person'],
          [limits.changeAddress, address, 'change mails for this address'],
        ];
        for (const [limit, key, what] of checks) {
          const wait = limit.hit(key, now);
          if (wait) return tooMany(c, wait, what);
        }
      }
      await rectify(services, p, patch, requestMeta(c));
      return view(c, p);
    },
  )
  .post(
    '/sites/:site/me/restrict',
    describeRoute({
      tags,
      summary: 'Restrict processing (or lift the restriction)',
      description:
        "Records 'restrict' or 'unrestrict' and sets the person's flag; send checks answer `restricted` while it is set. " +
        'While it lasts, each address the person has is on the do-not-contact list with reason `restricted` (the suppression export), also an e-mail address they change to; ' +
        'lifting it removes those entries. Both are reported to webhooks (`restrict`, `unrestrict`), with the addresses.',
      security: token,
      requestBody: { content: { 'application/json': { schema: resolver(MeRestrictBody) } } },
      responses: { ...answers(200, PreferencesViewSchema, 'The view after the change', 400, 415), ...ERRORS },
    }),
    validate('param', SiteParam),
    ...jsonBody(MeRestrictBody),
    async (c) => {
      const p = await person(c);
      await setRestricted(c.get('services'), p, c.req.valid('json').restricted, requestMeta(c));
      return view(c, p);
    },
  )
  .get(
    '/sites/:site/me/export',
    describeRoute({
      tags,
      summary: 'Download everything held about me',
      description:
        'Contact data, name, language, restriction, every purpose state, the full consent history (wording version and text hashes, source, actor, time, evidence) and do-not-contact entries, ' +
        'as JSON (default) or CSV (every cell quoted), as an attachment.',
      security: token,
      responses: {
        200: { description: 'The export', content: { 'application/json': { schema: { type: 'object' } }, 'text/csv': { schema: { type: 'string' } } } },
        400: { description: 'Invalid request', content: { 'application/json': { schema: resolver(ErrorBody) } } },
        ...ERRORS,
      },
    }),
    validate('param', SiteParam),
    validate('query', MeExportQuery),
    async (c) => {
      const services = c.get('services');
      const p = await person(c);
      const format = c.req.valid('query').format ?? 'json';
      const data = await exportPerson(services, p, format);
      const filename = `samtykke-${p.site.id}-${new Date(services.now()).toISOString().slice(0, 10)}.${format}`;
      c.header('Content-Disposition', `attachment; filename="${filename}"`);
      if (format === 'csv') return c.body(exportCsv(data), 200, { 'content-type': 'text/csv; charset=utf-8' });
      return c.body(JSON.stringify(data, null, 2), 200, { 'content-type': 'application/json; charset=utf-8' });
    },
  )
  .post(
    '/sites/:site/me/erase',
    describeRoute({
      tags,
      summary: 'Forget me',
      description:
        "The erasure receipt is mailed first, then an 'erase' event is recorded and the person is scrubbed: contact data and name removed, the evidence of every earlier event removed, " +
        'consent states and pending changes deleted. The address and number stay on the do-not-contact list as keyed hashes (reason `erased`), so the person is never contacted again.',
      security: token,
      requestBody: { content: { 'application/json': { schema: resolver(MeEraseBody) } } },
      responses: { ...answers(200, ErasedAnswer, 'Erased', 400, 415), ...ERRORS },
    }),
    validate('param', SiteParam),
    ...jsonBody(MeEraseBody),
    async (c) => {
      const p = await person(c);
      await erasePerson(c.get('services'), p, requestMeta(c));
      return c.json({ erased: true as const });
    },
  );
