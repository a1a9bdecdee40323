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
 * Headers Node keeps only the first of when a request repeats them (IncomingMessage.headers).
 * The web `Headers` joins every copy; so does header(), so that a request naming two API
 * keys, or two content types, reads as the malformed request it is.
 */
const FIRST_ONLY = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

/** A request header, `name` in lower case; repeated headers joined with `, `, as the web `Headers` does. */
export function header(c: Context, name: string): string | undefined {
  const incoming = node(c)?.incoming;
  if (!incoming?.headers) return c.req.header(name);
  const value = incoming.headers[name];
  if (value !== undefined && FIRST_ONLY.has(name)) {
    // Node kept the first copy: gather every copy from the raw headers (names as sent).
    const raw = incoming.rawHeaders;
    let all: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) all = all === undefined ? raw[i + 1]! : `${all}, ${raw[i + 1]!}`;
    }
    return all ?? String(value);
  }
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Sets a response header now, for whatever response the request ends with (set it before the handler runs). */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = node(c)?.outgoing;
  if (outgoing && typeof outgoing.setHeader === 'function' && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}
