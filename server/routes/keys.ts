import { Hono } from 'hono';
import * as v from 'valibot';
import { ApiKey, ApiKeyList, CreatedApiKey, NewApiKey, SiteId } from '../../shared/api';
import { createKey, listKeys, revokeKey } from '../services/keys';
import { keyActor, requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { describeRoute, answers, bearer } from '../http/openapi';
import { jsonBody, validate } from '../http/validation';

const SiteParam = v.object({ site: SiteId });
const KeyParam = v.object({ site: SiteId, key: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/, 'must be a key id')) });
const tags = ['API keys'];

export const keysRoutes = new Hono<AppEnv>()
  .get(
    '/sites/:site/keys',
    requireScope('admin'),
    describeRoute({ tags, summary: 'List API keys', description: 'Secrets are never shown again after creation.', security: bearer, responses: answers(200, ApiKeyList, 'Keys', 401, 403, 404) }),
    validate('param', SiteParam),
    async (c) => c.json({ keys: await listKeys(c.get('services'), c.req.valid('param').site) }),
  )
  .post(
    '/sites/:site/keys',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Create an API key', description: 'The answer holds the secret: it is shown this once and stored only as a hash.', security: bearer, responses: answers(201, CreatedApiKey, 'Created', 400, 401, 403, 404, 415) }),
    validate('param', SiteParam),
    ...jsonBody(NewApiKey),
    async (c) => {
      const { name, scopes } = c.req.valid('json');
      const { key, secret } = await createKey(c.get('services'), c.req.valid('param').site, name, scopes, keyActor(c.get('key')));
      return c.json({ ...key, secret }, 201);
    },
  )
  .delete(
    '/sites/:site/keys/:key',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Revoke an API key', description: "Takes effect at once; the key's past actions stay in the audit log.", security: bearer, responses: answers(200, ApiKey, 'The revoked key', 400, 401, 403, 404) }),
    validate('param', KeyParam),
    async (c) => {
      const { site, key } = c.req.valid('param');
      return c.json(await revokeKey(c.get('services'), site, key, keyActor(c.get('key'))));
    },
  );
