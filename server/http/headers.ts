/**
 * Request and response headers without a web `Headers` object where Node gives them.
 *
 * Under @hono/node-server, `c.req.header()` makes the adapter copy every request header
 * into a web `Headers` (validating each name), and `c.header()` before the response does
 * the same for the response: together a fifth of a small request's CPU time here. Read
 * from Node's own parsed headers, and set the headers every response carries on Node's
 * response instead (Node merges them with the ones the adapter writes). Elsewhere
 * (`app.request()` in tests, other runtimes) the web objects are used as before.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';

interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

const node = (c: Context): NodeBindings | undefined => c.env as NodeBindings | undefined;

/**
 * A request header (name in lower case). Repeated headers read as Node joins them (with
 * `, `; for the few it does not allow twice, such as Authorization, the first).
 */
export function header(c: Context, name: string): string | undefined {
  const incoming = node(c)?.incoming;
  if (!incoming?.headers) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Sets a response header now, for whatever response the request ends with (set it before the handler runs). */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = node(c)?.outgoing;
  if (outgoing && typeof outgoing.setHeader === 'function' && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}
