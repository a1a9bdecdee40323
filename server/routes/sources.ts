import { Hono } from 'hono';
import * as v from 'valibot';
import { NewSource, SiteId, Source, SourceKey, SourceList, SourcePatch } from '../../shared/api';
import { createSource, listSources, updateSource } from '../services/sources';
import { keyActor, requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { describeRoute, answers, bearer } from '../http/openapi';
import { jsonBody, validate } from '../http/validation';

const SiteParam = v.object({ site: SiteId });
const SourceParam = v.object({ site: SiteId, source: SourceKey });
const tags = ['Sources'];

export const sourcesRoutes = new Hono<AppEnv>()
  .get(
    '/sites/:site/sources',
    requireScope('admin'),
    describeRoute({ tags, summary: 'List sources', security: bearer, responses: answers(200, SourceList, 'Sources', 401, 403, 404) }),
    validate('param', SiteParam),
    async (c) => c.json({ sources: await listSources(c.get('services'), c.req.valid('param').site) }),
  )
  .post(
    '/sites/:site/sources',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Add a source', security: bearer, responses: answers(201, Source, 'Created', 400, 401, 403, 404, 409, 415) }),
    validate('param', SiteParam),
    ...jsonBody(NewSource),
    async (c) => c.json(await createSource(c.get('services'), c.req.valid('param').site, c.req.valid('json'), keyActor(c.get('key'))), 201),
  )
  .patch(
    '/sites/:site/sources/:source',
    requireScope('admin'),
    describeRoute({ tags, summary: 'Relabel or archive a source', description: 'Sources are archived, never deleted: recorded consents keep naming them.', security: bearer, responses: answers(200, Source, 'The changed source', 400, 401, 403, 404, 415) }),
    validate('param', SourceParam),
    ...jsonBody(SourcePatch),
    async (c) => {
      const { site, source } = c.req.valid('param');
      return c.json(await updateSource(c.get('services'), site, source, c.req.valid('json'), keyActor(c.get('key'))));
    },
  );
