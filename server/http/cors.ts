/**
 * CORS for page routes (called by the widgets from the site's own pages). A site with
 * allowed origins accepts only those; a site without any accepts every origin, so a
 * new site works with one script tag (set allowedOrigins to lock it down).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './env';
import { errorJson } from './errors';
import { header } from './headers';

export interface PageCorsOptions {
  /** Request headers allowed besides Content-Type (e.g. `authorization` for the preference routes). */
  headers?: string[];
  /** Response headers a page script may read (e.g. `content-disposition`). */
  expose?: string[];
}

export function pageCors(methods: string[], options: PageCorsOptions = {}): MiddlewareHandler<AppEnv> {
  const allowHeaders = ['content-type', ...(options.headers ?? [])].join(', ');
  return async (c, next) => {
    const origin = header(c, 'origin');
    c.header('Vary', 'Origin', { append: true });
    if (origin) {
      const catalog = await c.get('services').catalog.get(c.req.param('site') ?? '');
      const allowed = catalog ? catalog.allowedOrigins.length === 0 || catalog.allowedOrigins.includes(origin) : false;
      if (!allowed) return errorJson(c, 403, 'origin_not_allowed', 'this origin is not among the site’s allowed origins');
      c.header('Access-Control-Allow-Origin', origin);
      if (options.expose?.length) c.header('Access-Control-Expose-Headers', options.expose.join(', '));
    }
    if (c.req.method === 'OPTIONS') {
      c.header('Access-Control-Allow-Methods', methods.join(', '));
      c.header('Access-Control-Allow-Headers', allowHeaders);
      c.header('Access-Control-Max-Age', '86400');
      return c.body(null, 204);
    }
    await next();
  };
}
