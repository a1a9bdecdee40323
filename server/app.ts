/**
 * Builds the HTTP app from its dependencies, so tests build it in-process on their own
 * database. Startup (config, migrations, listening) lives in main.ts and cli.ts.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Database } from './db/client';
import { WriteQueue } from './db/write-queue';
import type { AppEnv } from './http/env';
import { errorJson, handleError } from './http/errors';
import { header, stampResponse } from './http/headers';
import { Catalog } from './services/catalog';
import type { ServiceContext } from './services/context';
import { createCrypto } from './services/crypto';
import { Mail } from './services/mail';
import { DEFAULT_MAIL_FROM } from './config';
import { devOutboxRoutes } from './routes/dev-outbox';
import { CookieConfigs } from './services/cookie-banner';
import { consentsRoutes } from './routes/consents';
import { cookieBannerRoutes } from './routes/cookie-banner';
import { mountDocs } from './routes/docs';
import { mountWidgetAssets } from './routes/widget-assets';
import { healthRoutes } from './routes/health';
import { keysRoutes } from './routes/keys';
import { purposesRoutes } from './routes/purposes';
import { sitesRoutes } from './routes/sites';
import { smsRoutes } from './routes/sms';
import { sourcesRoutes } from './routes/sources';
import { subjectsRoutes } from './routes/subjects';
import { meRoutes } from './routes/me';
import { preferencesPageRoutes, subscriptionsRoutes } from './routes/subscriptions';
import { CHECK_PATH, checkRoutes, OWN_BODY_LIMIT, singleCheck } from './routes/check';
import { suppressionsRoutes } from './routes/suppressions';
import { webhooksRoutes } from './routes/webhooks';
import { Webhooks } from './services/webhooks';

export interface AppOptions {
  database: Database;
  /** SAMTYKKE_SECRET: key material for encryption, blind indexes and link signing. */
  secret: string;
  publicUrl?: string;
  now?: () => number;
  /** One JSON line per request on stdout (never with personal data). */
  log?: boolean;
  /** Serve the demo website at / (npm start only; production serves none). */
  demo?: boolean;
  /** Folder of the built widget bundles (default dist/widget). */
  widgetDir?: string;
  /** SMTP_URL: with it, mail is queued for delivery (MailDelivery, started by startServer); without it, kept in the development outbox. */
  smtpUrl?: string;
  /** MAIL_FROM (default `Samtykke <no-reply@localhost>`). */
  mailFrom?: string;
  /** Serve the development outbox at /dev/outbox (never in production). */
  devOutbox?: boolean;
  /** TRUST_PROXY: reverse proxies in front of the server (client addresses come from X-Forwarded-For). */
  trustProxy?: number;
  /** CHECK_WORKERS: worker threads for bulk and CSV send checks (default: one per spare core, at most 3). */
  checkWorkers?: number;
  /**
   * CHECK_INDEX: answer send checks from the in-memory check index (check-index.ts), built in
   * the background on a purpose's first check. 'await': the first check waits for it (tests).
   * Default off here (a one-shot CLI run would not gain); the server turns it on.
   */
  checkIndex?: boolean | 'await';
  /** WEBHOOK_ALLOW_PRIVATE (development and tests only): webhook endpoints may be http and loopback/private addresses. */
  webhookAllowPrivate?: boolean;
}

export interface Services extends ServiceContext {
  database: Database;
  /** PUBLIC_URL without a trailing slash: the base of URLs others call us at (signed webhooks are checked against it). */
  publicUrl: string;
  cookieConfigs: CookieConfigs;
  /** Reverse proxies whose X-Forwarded-For entries are believed (0: the socket's peer is the client). */
  trustProxy: number;
  checkWorkers: number | undefined;
  checkIndex: boolean | 'await';
  /** Outbound webhooks: the outbox hook on the ledger and the delivery loop's wake-up. */
  webhooks: Webhooks;
}

export const MAX_BODY_BYTES = 1024 * 1024;

/** Where the API's routes are mounted. */
const API_BASE = '/v1';

const root = fileURLToPath(new URL('..', import.meta.url));

export const DEFAULT_PUBLIC_URL = 'http://localhost:8787';

export function createServices(
  options: Pick<AppOptions, 'database' | 'secret' | 'now' | 'publicUrl' | 'smtpUrl' | 'mailFrom' | 'log' | 'trustProxy' | 'checkWorkers' | 'checkIndex' | 'webhookAllowPrivate'>,
): Services {
  const now = options.now ?? Date.now;
  const queue = new WriteQueue(options.database.writer);
  const crypto = createCrypto(options.secret);
  const context: ServiceContext = {
    db: options.database.db,
    queue,
    crypto,
    catalog: new Catalog(options.database.db, now),
    now,
    mail: new Mail({ smtp: options.smtpUrl !== undefined, from: options.mailFrom ?? DEFAULT_MAIL_FROM, log: options.log ?? false }, crypto, queue),
  };
  const cookieConfigs = new CookieConfigs(context);
  context.catalog.onInvalidate((siteId) => cookieConfigs.invalidate(siteId));
  const publicUrl = (options.publicUrl ?? DEFAULT_PUBLIC_URL).replace(/\/+$/, '');
  const webhooks = new Webhooks(crypto, queue, options.database.db, { allowPrivateTargets: options.webhookAllowPrivate ?? false });
  return { ...context, database: options.database, cookieConfigs, publicUrl, webhooks, trustProxy: options.trustProxy ?? 0, checkWorkers: options.checkWorkers, checkIndex: options.checkIndex ?? false };
}

export function createApp(options: AppOptions) {
  const services = createServices(options);
  const app = new Hono<AppEnv>();

  /** What every request starts with: its id, the services, the headers every answer carries. */
  const start = (c: Context<AppEnv>) => {
    // The caller's X-Request-Id when it is a plain token, else a new one; echoed back.
    let id = header(c, 'x-request-id');
    if (!id || id.length > 255 || /[^\w\-=]/.test(id)) id = randomUUID();
    c.set('requestId', id);
    c.set('services', services);
    // Before the handler runs: headers set afterwards make Hono rebuild the response.
    stampResponse(c, id);
    return id;
  };
  const logRequest = (c: Context<AppEnv>, id: string, status: number, started: number) =>
    // The route pattern, never the path or query: those can hold an address.
    console.log(
      JSON.stringify({ level: 'info', requestId: id, method: c.req.method, route: c.req.routePath, status, ms: Math.round((performance.now() - started) * 10) / 10 }),
    );

  // Plain functions, not async ones, here and below: a request waits a turn for each.
  app.use((c, next) => {
    const id = start(c);
    if (!options.log) return next();
    const started = performance.now();
    return next().then(() => logRequest(c, id, c.res.status, started));
  });
  const tooLarge = (c: Context) => errorJson(c, 413, 'payload_too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
  const streamedBodyLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });
  app.use(`${API_BASE}/*`, (c, next) => {
    // Bulk and CSV checks and list imports set their own limits (CSV: none, read as a stream).
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || OWN_BODY_LIMIT.test(c.req.path)) return next();
    // A declared length is checked without touching the stream (which would make the
    // Node adapter build a full web Request); only chunked bodies are counted as they come.
    const length = header(c, 'content-length');
    if (length !== undefined && header(c, 'transfer-encoding') === undefined) {
      return Number(length) > MAX_BODY_BYTES ? Promise.resolve(tooLarge(c)) : next();
    }
    return streamedBodyLimit(c, next);
  });

  const api = new Hono<AppEnv>()
    .route('/', sitesRoutes)
    .route('/', purposesRoutes)
    .route('/', sourcesRoutes)
    .route('/', keysRoutes)
    .route('/', consentsRoutes)
    .route('/', subjectsRoutes)
    .route('/', cookieBannerRoutes)
    .route('/', smsRoutes)
    .route('/', subscriptionsRoutes)
    .route('/', meRoutes)
    .route('/', checkRoutes)
    .route('/', suppressionsRoutes)
    .route('/', webhooksRoutes);
  app.route(API_BASE, api);
  app.route('/', healthRoutes);
  app.route('/', preferencesPageRoutes);
  // Decrypted mail, links and all: the developer's own machine only, never production.
  if (options.devOutbox) app.route('/', devOutboxRoutes);
  mountDocs(app, api, services.publicUrl);

  const widget = mountWidgetAssets(app, options.widgetDir ?? `${root}dist/widget`);
  if (options.demo && existsSync(`${root}demo`)) {
    app.use('/*', serveStatic({ root: `${root}demo` }));
  } else {
    app.get('/', (c) =>
      c.json({
        name: 'Samtykke',
        docs: '/docs',
        openapi: '/openapi.json',
        // Content-hashed bundle names, cacheable for a year: pin a page to one of these.
        widget: Object.fromEntries(Object.entries(widget.hashedNames).filter(([n]) => n.endsWith('.js')).map(([n, h]) => [n, `/${h}`])),
      }),
    );
  }

  const routes = app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method, pattern: toRegExp(r.path) }));
  app.notFound((c) => {
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      c.header('Allow', allowed.join(', '));
      return errorJson(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use ${allowed.join(' or ')}`);
    }
    return errorJson(c, 404, 'not_found', 'no such route');
  });
  app.onError(handleError);

  // The send check senders call before every message (GET) is answered in front of the
  // app by one handler, the documented route's steps in one function (routes/check.ts
  // singleCheck): 18 µs of its 170 µs of server CPU go to the chain of middleware that
  // the app runs otherwise. HEAD and everything else go to the app.
  const front = new Hono<AppEnv>();
  front.get(SINGLE_CHECK_PATH, (c): Response | Promise<Response> => {
    const id = start(c);
    if (!options.log) return singleCheck(c);
    // Logged with the status it ends with, an error's included (handled here, as onError would).
    const started = performance.now();
    const logged = (res: Response) => {
      logRequest(c, id, res.status, started);
      return res;
    };
    let res: Response | Promise<Response>;
    try {
      res = singleCheck(c);
    } catch (error) {
      res = handleError(error, c);
    }
    return res instanceof Promise ? res.catch((error: unknown) => handleError(error, c)).then(logged) : logged(res);
  });
  front.onError(handleError);
  const inner = app.fetch;
  front.notFound((c) => inner(c.req.raw, c.env));
  app.fetch = (request, env, executionCtx) =>
    request.method === 'GET' && SINGLE_CHECK_URL.test(request.url) ? front.fetch(request, env, executionCtx) : inner(request, env, executionCtx);

  return { app, services, widget };
}

/** The single check's path in the app, and its URLs (the query aside). */
const SINGLE_CHECK_PATH = `${API_BASE}${CHECK_PATH}`;
const SINGLE_CHECK_URL = new RegExp(`^[a-z][a-z0-9+.-]*://[^/]+${SINGLE_CHECK_PATH.replace(':site', '[^/?#]+')}(?:[?#]|$)`);

function toRegExp(path: string): RegExp {
  const escaped = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}
