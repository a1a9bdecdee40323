/**
 * The widget bundles, as built by Vite into dist/widget. Each is served under its plain
 * name (revalidated after 5 minutes) and under a content-hashed name that never changes
 * (cached for a year), compressed once, on first request, with brotli and gzip. Module scripts
 * are fetched with CORS, so every bundle is served to any origin.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Context, Hono } from 'hono';
import { sha256Hex } from '../services/crypto';
import type { AppEnv } from '../http/env';
import { errorJson } from '../http/errors';
import { header } from '../http/headers';

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  readonly br: Uint8Array<ArrayBuffer>;
  readonly gzip: Uint8Array<ArrayBuffer>;
  etag: string;
  type: string;
  hashedName: string;
}

export interface WidgetAssets {
  /** Plain name → content-hashed name, e.g. samtykke.js → samtykke.3f9a1c2b.js */
  hashedNames: Record<string, string>;
}

/** Reads the bundles once; each is compressed the first time it is asked for. */
function load(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    if (!/\.(js|map)$/.test(name)) continue;
    const body = new Uint8Array(readFileSync(join(dir, name)));
    const hash = sha256Hex(Buffer.from(body).toString('latin1')).slice(0, 10);
    let br: Uint8Array<ArrayBuffer> | undefined;
    let gzip: Uint8Array<ArrayBuffer> | undefined;
    assets.set(name, {
      body,
      get br() {
        return (br ??= new Uint8Array(brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })));
      },
      get gzip() {
        return (gzip ??= new Uint8Array(gzipSync(body, { level: 9 })));
      },
      etag: `"${hash}"`,
      type: name.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8',
      hashedName: name.replace(/\.(js|map)$/, (ext) => `.${hash}${ext}`).replace(/\.js\.([0-9a-f]+)\.map$/, '.$1.js.map'),
    });
  }
  return assets;
}

function send(c: Context<AppEnv>, asset: Asset, cacheControl: string) {
  c.header('Cache-Control', cacheControl);
  c.header('ETag', asset.etag);
  c.header('Access-Control-Allow-Origin', '*');
  c.header('Cross-Origin-Resource-Policy', 'cross-origin');
  c.header('Vary', 'Accept-Encoding');
  if (header(c, 'if-none-match') === asset.etag) return c.body(null, 304);
  const accepts = header(c, 'accept-encoding') ?? '';
  const headers: Record<string, string> = { 'content-type': asset.type };
  if (/\bbr\b/.test(accepts)) return c.body(asset.br, 200, { ...headers, 'content-encoding': 'br' });
  if (/\bgzip\b/.test(accepts)) return c.body(asset.gzip, 200, { ...headers, 'content-encoding': 'gzip' });
  return c.body(asset.body, 200, headers);
}

const WIDGET_FILE = /^samtykke[a-z0-9.-]*\.(?:js|map)$/;

export function mountWidgetAssets(app: Hono<AppEnv>, dir: string): WidgetAssets {
  const assets = load(dir);
  const byHashedName = new Map([...assets.values()].map((a) => [a.hashedName, a]));
  const serve = (c: Context<AppEnv>, file: string) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      c.header('Allow', 'GET, HEAD');
      return errorJson(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use GET`);
    }
    const plain = assets.get(file);
    if (plain) return send(c, plain, 'public, max-age=300, stale-while-revalidate=86400');
    const hashed = byHashedName.get(file);
    if (hashed) return send(c, hashed, 'public, max-age=31536000, immutable');
    if (assets.size === 0) return errorJson(c, 503, 'widget_not_built', 'the widget bundle is not built; run `npm run build`');
    return errorJson(c, 404, 'not_found', 'no such widget file');
  };
  // Middleware, not a route: a route pattern that tells these names apart (a regular
  // expression, or a bare /:file beside the app's fixed paths) puts the whole app on Hono's
  // slower trie router (4–8 µs a request in profiles).
  app.use('/*', (c, next) => {
    const file = c.req.path.slice(1);
    if (!WIDGET_FILE.test(file)) return next();
    return Promise.resolve(serve(c, file));
  });
  return { hashedNames: Object.fromEntries([...assets].map(([name, a]) => [name, a.hashedName])) };
}
