/**
 * Fixed-window rate limit per client address, in this process's memory. With several
 * instances behind a load balancer each counts on its own, so the effective limit is
 * the per-instance limit times the number of instances.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './env';
import { errorJson } from './errors';
import { requestMeta } from './request-meta';

export function rateLimit(options: { name: string; max: number; windowMs: number }): MiddlewareHandler<AppEnv> {
  const windows = new Map<string, { start: number; count: number }>();
  return async (c, next) => {
    const now = c.get('services').now();
    const key = requestMeta(c).ip ?? 'unknown';
    let w = windows.get(key);
    if (!w || now - w.start >= options.windowMs) {
      if (windows.size > 100_000) windows.clear(); // bound memory under a flood of addresses
      w = { start: now, count: 0 };
      windows.set(key, w);
    }
    w.count++;
    if (w.count > options.max) {
      c.header('Retry-After', String(Math.max(1, Math.ceil((w.start + options.windowMs - now) / 1000))));
      return errorJson(c, 429, 'rate_limited', `too many ${options.name} requests; try again later`);
    }
    await next();
  };
}

/**
 * A fixed-window counter per key (an IP address, or an address's blind index: never the
 * address itself), for limits that are checked inside a handler rather than as middleware.
 */
export class FixedWindow {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Counts one hit; answers the seconds to wait when over the limit, else 0. */
  hit(key: string, now: number): number {
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.#windows.size > 100_000) this.#windows.clear();
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    w.count++;
    return w.count > this.max ? Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)) : 0;
  }
}
