import { Hono } from 'hono';
import * as v from 'valibot';
import { RecordConsent, RecordedConsent, SiteId } from '../../shared/api';
import { recordConsent, requestFingerprint } from '../services/ledger';
import { keyActor, requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { describeRoute, answers, bearer } from '../http/openapi';
import { requestMeta } from '../http/request-meta';
import { jsonBody, validate } from '../http/validation';

const SiteParam = v.object({ site: SiteId });
const IdempotencyHeader = v.object({
  'idempotency-key': v.optional(v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 visible ASCII characters'))),
});

export const consentsRoutes = new Hono<AppEnv>().post(
  '/sites/:site/consents',
  requireScope('write'),
  describeRoute({
    tags: ['Consents'],
    summary: 'Record a consent, withdrawal or objection',
    description:
      'Appends an event to the hash-chained ledger and updates the current state in the same transaction; the answer is sent after the commit. ' +
      'A grant of a consent-based purpose must name the wording version the person saw. ' +
      'With an `Idempotency-Key` header a retry returns the first answer (header `Idempotent-Replayed: true`) without a second event; the same key with another body is 409.',
    security: bearer,
    responses: answers(201, RecordedConsent, 'Recorded', 400, 401, 403, 404, 409, 413, 415),
  }),
  validate('param', SiteParam),
  validate('header', IdempotencyHeader),
  ...jsonBody(RecordConsent),
  async (c) => {
    const { site } = c.req.valid('param');
    const body = c.req.valid('json');
    const key = c.get('key');
    const idemKey = c.req.valid('header')['idempotency-key'];
    const idempotency = idemKey
      ? { apiKeyId: key.id, key: idemKey, requestHash: requestFingerprint(c.get('services').crypto, 'POST', c.req.path, body) }
      : undefined;
    const result = await recordConsent(c.get('services'), site, body, keyActor(key), requestMeta(c), idempotency);
    if (result.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(result.consent, 201);
  },
);

