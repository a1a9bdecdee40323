import { isIP } from 'node:net';
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { RequestMeta } from '../services/evidence';
import type { AppEnv } from './env';
import { header } from './headers';

/**
 * The client's address as seen through `trustProxy` reverse proxies. Each proxy appends the
 * address it received the request from to X-Forwarded-For, so walking back from the socket's
 * peer one entry per trusted proxy reaches the client; entries further left were written by
 * the client itself and are never believed.
 */
export function clientAddress(socket: string | undefined, forwardedFor: string | undefined, trustProxy: number): string | undefined {
  if (trustProxy <= 0 || !forwardedFor) return socket;
  const chain = forwardedFor
    .split(',')
    .map((part) => part.trim())
    .reverse();
  const candidate = chain[Math.min(trustProxy, chain.length) - 1];
  return candidate && isIP(candidate) ? candidate : socket;
}

/** The caller's address and user agent, for evidence (truncated and hashed there) and rate limits. */
export function requestMeta(c: Context<AppEnv>): RequestMeta {
  let socket: string | undefined;
  try {
    socket = getConnInfo(c).remote.address;
  } catch {
    socket = undefined; // app.request() in tests has no socket
  }
  const ip = clientAddress(socket, header(c, 'x-forwarded-for'), c.get('services')?.trustProxy ?? 0);
  return { ip, userAgent: header(c, 'user-agent') };
}
