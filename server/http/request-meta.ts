import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { RequestMeta } from '../services/evidence';

/** The caller's address and user agent, for evidence (truncated and hashed there). */
export function requestMeta(c: Context): RequestMeta {
  let ip: string | undefined;
  try {
    ip = getConnInfo(c).remote.address;
  } catch {
    ip = undefined; // app.request() in tests has no socket
  }
  return { ip, userAgent: c.req.header('user-agent') };
}
