import { Hono } from 'hono';
import * as v from 'valibot';
import { SiteId, Subject, SubjectQuery } from '../../shared/api';
import { getSubject } from '../services/subjects';
import { requireScope } from '../http/auth';
import type { AppEnv } from '../http/env';
import { describeRoute, answers, bearer } from '../http/openapi';
import { validate } from '../http/validation';

const SiteParam = v.object({ site: SiteId });
const SubjectParam = v.object({ site: SiteId, subject: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/, 'must be a subject id')) });
const tags = ['People'];
const description =
  'Current state per purpose and the full history: action, wording version with its text hashes, source, actor, time and evidence. ' +
  'E-mail, phone and free-text notes are shown only to keys with the `pii:read` scope.';

export const subjectsRoutes = new Hono<AppEnv>()
  .get(
    '/sites/:site/subjects',
    requireScope('admin', 'write', 'pii:read'),
    describeRoute({ tags, summary: 'Find a person by e-mail or phone', description, security: bearer, responses: answers(200, Subject, 'The person', 400, 401, 403, 404) }),
    validate('param', SiteParam),
    validate('query', SubjectQuery),
    async (c) => {
      const q = c.req.valid('query');
      const lookup = q.email !== undefined ? { email: q.email } : { phone: q.phone! };
      return c.json(await getSubject(c.get('services'), c.req.valid('param').site, lookup, c.get('key').scopes.has('pii:read')));
    },
  )
  .get(
    '/sites/:site/subjects/:subject',
    requireScope('admin', 'write', 'pii:read'),
    describeRoute({ tags, summary: 'Get a person by id', description, security: bearer, responses: answers(200, Subject, 'The person', 400, 401, 403, 404) }),
    validate('param', SubjectParam),
    async (c) => {
      const { site, subject } = c.req.valid('param');
      return c.json(await getSubject(c.get('services'), site, { id: subject }, c.get('key').scopes.has('pii:read')));
    },
  );
