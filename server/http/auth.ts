/**
 * Service callers authenticate with `Authorization: Bearer <key>`. A key sees only its
 * own site: anything of another site is 404, as if it did not exist; a key without the
 * route's scope is 403.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { KeyScope } from '../../shared/enums';
import { authenticate, type AuthenticatedKey } from '../services/keys';
import type { AppEnv } from './env';
import { errorJson } from './errors';
import { header } from './headers';

/** The token of `Authorization: Bearer <token>`, else undefined. */
export function bearerToken(c: Context): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header(c, 'authorization') ?? '')?.[1];
}

/**
 * The request's key when it has any of `scopes` (also set as the context's `key`), else
 * the error answer. Immediate on a local database file; a promise against a libSQL server.
 */
export function authorize(c: Context<AppEnv>, scopes: readonly KeyScope[]): AuthenticatedKey | Response | Promise<AuthenticatedKey | Response> {
  const token = bearerToken(c);
  const key = token !== undefined ? authenticate(c.get('services'), token) : undefined;
  return key instanceof Promise ? key.then((k) => admit(c, scopes, k, true)) : admit(c, scopes, key, token !== undefined);
}

function admit(c: Context<AppEnv>, scopes: readonly KeyScope[], key: AuthenticatedKey | undefined, named: boolean): AuthenticatedKey | Response {
  if (!key) {
    c.header('WWW-Authenticate', 'Bearer realm="samtykke"');
    return errorJson(c, 401, 'unauthorized', named ? 'the API key is unknown or revoked' : 'send an API key as Authorization: Bearer <key>');
  }
  const site = c.req.param('site');
  if (site !== undefined && site !== key.siteId) return errorJson(c, 404, 'not_found', 'site not found');
  if (!scopes.some((s) => key.scopes.has(s))) {
    return errorJson(c, 403, 'forbidden', `this key needs the ${scopes.map((s) => `'${s}'`).join(' or ')} scope`);
  }
  c.set('key', key);
  return key;
}

/** Lets the request through when the key has any of `scopes`. */
export function requireScope(...scopes: KeyScope[]): MiddlewareHandler<AppEnv> {
  // A plain function, not an async one: each wait is a turn of the request's CPU time.
  return (c, next) => {
    const key = authorize(c, scopes);
    if (key instanceof Promise) return key.then<Response | void>((k) => (k instanceof Response ? k : next()));
    return key instanceof Response ? Promise.resolve(key) : next();
  };
}

/** How a key appears as the actor of what it did. */
export const keyActor = (key: { id: string }) => `key:${key.id}`;
