/** Outbound webhook endpoints of a site (scope `admin`); the signing secret is shown once. */
import { Hono } from 'hono';
import * as v from 'valibot';
import { SiteId } from '../../shared/api';
import { CreatedWebhook, NewWebhook, WebhookList, WebhookParam } from '../../shared/check-api';
import { createWebhook, deleteWebhook, listWebhooks } from '../services/webhooks';
import { keyActor, requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { describeRoute, answers, bearer } from '../http/openapi';
import { jsonBody, validate } from '../http/validation';

const SiteParam = v.object({ site: SiteId });
const tags = ['Webhooks'];

export const webhooksRoutes = new Hono<AppEnv>()
  .get(
    '/sites/:site/webhooks',
    requireScope('admin'),
    describeRoute({ tags, summary: 'List webhook endpoints', security: bearer, responses: answers(200, WebhookList, 'Endpoints', 400, 401, 403, 404) }),
    validate('param', SiteParam),
    async (c) => c.json({ webhooks: await listWebhooks(c.get('services'), c.req.valid('param').site) }),
  )
  .post(
    '/sites/:site/webhooks',
    requireScope('admin'),
    describeRoute({
      tags,
      summary: 'Add a webhook endpoint',
      description:
        'Every opt-out (withdraw, object, unsubscribe, sms-stop, erase) of a person, and a restriction of processing (restrict, GDPR art. 18) and its lifting (unrestrict), is POSTed as JSON ' +
        '`{id, type, site, purpose, channel, subjectId, occurredAt, eventId, email?, phone?}`: the address of the channel opted out of; for restrict and unrestrict (channel null) every address the person has; ' +
        'erase: `emailHash`/`phoneHash` only. Signed with ' +
        '`Samtykke-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. A non-2xx answer is retried with backoff for up to 24 hours. ' +
        '`events` limits the types sent; without it an endpoint gets every type, also types added later. The secret is returned once.',
      security: bearer,
      responses: answers(201, CreatedWebhook, 'Created; the secret is shown only now', 400, 401, 403, 404, 415),
    }),
    validate('param', SiteParam),
    ...jsonBody(NewWebhook),
    async (c) => c.json(await createWebhook(c.get('services'), c.req.valid('param').site, c.req.valid('json'), keyActor(c.get('key'))), 201),
  )
  .delete(
    '/sites/:site/webhooks/:id',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Remove a webhook endpoint', security: bearer, responses: { 204: { description: 'Removed' }, ...answers(404, v.object({}), '', 400, 401, 403, 404) } }),
    validate('param', v.object({ ...WebhookParam.entries, site: SiteId })),
    async (c) => {
      const { site, id } = c.req.valid('param');
      await deleteWebhook(c.get('services'), site, id, keyActor(c.get('key')));
      return c.body(null, 204);
    },
  );
