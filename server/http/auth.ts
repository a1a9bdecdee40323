/**
 * Service callers authenticate with `Authorization: Bearer <key>`. A key sees only its
 * own site: anything of another site is 404, as if it did not exist; a key without the
 * route's scope is 403.
 */
import type { MiddlewareHandler } from 'hono';
import type { KeyScope } from '../../shared/enums';
import { authenticate } from '../services/keys';
import type { AppEnv } from './env';
import { errorJson } from './errors';
import { header } from './headers';

/** Lets the request through when the key has any of `scopes`. */
export function requireScope(...scopes: KeyScope[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header(c, 'authorization') ?? '');
    let key = match ? authenticate(c.get('services'), match[1]!) : undefined;
    // Awaited only when it has to be (a remote database): each wait is a turn of the request's CPU time.
    if (key instanceof Promise) key = await key;
    if (!key) {
      c.header('WWW-Authenticate', 'Bearer realm="samtykke"');
      return errorJson(c, 401, 'unauthorized', match ? 'the API key is unknown or revoked' : 'send an API key as Authorization: Bearer <key>');
    }
    const site = c.req.param('site');
    if (site !== undefined && site !== key.siteId) return errorJson(c, 404, 'not_found', 'site not found');
    if (!scopes.some((s) => key.scopes.has(s))) {
      return errorJson(c, 403, 'forbidden', `this key needs the ${scopes.map((s) => `'${s}'`).join(' or ')} scope`);
    }
    c.set('key', key);
    await next();
  };
}

/** How a key appears as the actor of what it did. */
export const keyActor = (key: { id: string }) => `key:${key.id}`;
