import { Hono } from 'hono';
import type { AppEnv } from '../http/env';
import { errorJson } from '../http/errors';
import { describeRoute } from '../http/openapi';

const tags = ['Health'];

export const healthRoutes = new Hono<AppEnv>()
  .get('/healthz', describeRoute({ tags, summary: 'The process is up', responses: { 200: { description: 'Up' } } }), (c) =>
    c.json({ status: 'ok' }),
  )
  .get(
    '/readyz',
    describeRoute({ tags, summary: 'The database answers', responses: { 200: { description: 'Ready' }, 503: { description: 'Database unreachable' } } }),
    async (c) => {
      try {
        await c.get('services').database.client.execute('SELECT 1');
        return c.json({ status: 'ready' });
      } catch {
        return errorJson(c, 503, 'not_ready', 'the database does not answer');
      }
    },
  );
