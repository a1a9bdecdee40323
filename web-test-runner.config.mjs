import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';

/**
 * Browser tests for the widget, in Debian's Chromium (see scripts/test.mjs, which runs this
 * under `node --import tsx` so the real server's TypeScript can be imported here).
 *
 * The real API runs inside the test runner: at start a temporary libSQL file is migrated,
 * site `acme` is created with the runner's origin allowed, and every `/v1/*` request of the
 * test pages goes to the in-process Hono app. Tests drive it with server commands
 * (`executeServerCommand` from @web/test-runner-commands):
 *
 *   samtykke:create-site {id, ...NewSite}      a fresh site (each test file can have its own)
 *   samtykke:admin {site, method, path, body}  an admin API call with the site's admin key
 *   samtykke:events {consentId}                the ledger rows of a visitor, evidence opened
 *   samtykke:sink                              the requests the sink received (and forget them)
 *   samtykke:build-widget                      builds dist/widget when missing or older than its sources
 *   samtykke:token {site, email, scope, expiresIn}  a link token for the person with that e-mail
 *                                              (created when unknown); scope default {kind:'prefs'},
 *                                              expiresIn seconds (default 3600; negative: expired)
 *
 * The sink (`/sink/*`) records what it is sent and answers 201 like the real API; tests of the
 * banner's UI with a config given as a property (hashes the server would refuse) point their
 * `api` at it. Everything that needs the server's answers uses the real app.
 *
 * Pages under test/widget/csp/ are served with a strict Content-Security-Policy (no
 * 'unsafe-inline', no 'unsafe-eval'; scripts only with the nonce `samtykke-test`).
 */

const SECRET = 'widget-test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
export const CSP_NONCE = 'samtykke-test';

function samtykkeServer() {
  /** @type {{ app: any, services: any, database: any, dir: string, origins: string[], keys: Map<string, string> } | undefined} */
  let server;
  /** @type {Promise<void> | undefined} */
  let starting;

  async function start(port) {
    const { createApp } = await import('./server/app.ts');
    const { migrate, openDatabase } = await import('./server/db/client.ts');
    const dir = mkdtempSync(join(tmpdir(), 'samtykke-widget-'));
    const database = await openDatabase({ url: `file:${join(dir, 'widget.db')}`, synchronous: 'NORMAL' });
    await migrate(database);
    const { app, services } = createApp({ database, secret: SECRET });
    server = { app, services, database, dir, origins: [`http://localhost:${port}`, `http://127.0.0.1:${port}`], keys: new Map() };
    await createSite({ id: 'acme', name: 'Acme' });
  }

  async function createSite(input) {
    const { createSite } = await import('./server/services/sites.ts');
    const { key, site } = await createSite(
      server.services,
      { allowedOrigins: server.origins, ...input },
      'widget-tests',
      { name: 'admin' },
    );
    server.keys.set(site.id, key.secret);
    return site;
  }

  async function admin({ site = 'acme', method = 'GET', path, body }) {
    const res = await server.app.request(path, {
      method,
      headers: { authorization: `Bearer ${server.keys.get(site)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  async function events({ consentId }) {
    const { openEvidence } = await import('./server/services/evidence.ts');
    await server.services.queue.idle();
    const { rows } = await server.database.client.execute({
      sql: `SELECT p.key AS purpose, e.action, e.actor, e.subject_id AS subjectId, v.version, e.evidence
            FROM consent_events e JOIN purposes p ON p.id = e.purpose_id
            LEFT JOIN wording_versions v ON v.id = e.wording_version_id
            WHERE e.visitor_id = ? ORDER BY e.id`,
      args: [consentId],
    });
    return rows.map((r) => ({
      purpose: r.purpose,
      action: r.action,
      actor: r.actor,
      subjectId: r.subjectId,
      version: r.version,
      evidence: r.evidence ? openEvidence(server.services.crypto, String(r.evidence)).evidence : null,
    }));
  }

  /** Signs a link token as the server's mails would, for the subject with `email` (created if new). */
  async function token({ site = 'acme', email, scope = { kind: 'prefs' }, expiresIn = 3600 }) {
    const { signToken } = await import('./server/services/tokens.ts');
    const { normalizeEmail } = await import('./server/services/contact.ts');
    const { SUBJECT_EMAIL } = await import('./server/services/ledger.ts');
    const { newId } = await import('./server/services/crypto.ts');
    const { crypto } = server.services;
    const normalized = normalizeEmail(email);
    const bidx = crypto.blindIndex(site, 'email', normalized);
    const { rows } = await server.database.client.execute({
      sql: 'SELECT id FROM subjects WHERE site_id = ? AND email_bidx = ?',
      args: [site, bidx],
    });
    let subject = rows[0]?.id;
    if (!subject) {
      subject = newId();
      const now = Date.now();
      await server.database.client.execute({
        sql: 'INSERT INTO subjects (id, site_id, email_enc, email_bidx, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        args: [subject, site, crypto.encrypt(normalized, SUBJECT_EMAIL), bidx, now, now],
      });
    }
    return {
      subject: String(subject),
      token: signToken(crypto, { site, subject: String(subject), scope, exp: Math.floor(Date.now() / 1000) + expiresIn }),
    };
  }

  /**
   * Koa middleware: /v1/* to the app, byte for byte (status, headers, body). Elements without
   * an `api` attribute look for the API next to the script, which in these tests is the source
   * file widget/lib/api-base.ts, so /widget/lib/v1/* is the API too (and /dist/widget/v1/* for
   * pages that load the built bundles).
   */
  async function proxy(ctx, next) {
    const at = ctx.url.search(/^\/((widget\/lib|dist\/widget)\/)?v1\//) === 0 ? ctx.url.indexOf('/v1/') : -1;
    if (at < 0) return next();
    await starting;
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const headers = new Headers();
    for (const [name, value] of Object.entries(ctx.req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const res = await server.app.fetch(
      new Request(new URL(ctx.url.slice(at), `http://${ctx.host}`), {
        method: ctx.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      }),
      // What @hono/node-server passes: the socket's address for the evidence's truncated IP.
      { incoming: ctx.req },
    );
    ctx.status = res.status;
    res.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'transfer-encoding') ctx.set(name, value);
    });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 304 && res.status !== 204) ctx.body = body;
  }

  /** @type {{ method: string, path: string, headers: Record<string, unknown>, body: string }[]} */
  let sunk = [];

  /** Koa middleware: records requests to /sink/* and answers like a recorded choice. */
  async function sink(ctx, next) {
    if (!ctx.path.startsWith('/sink/')) return next();
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    sunk.push({ method: ctx.method, path: ctx.path, headers: { ...ctx.req.headers }, body });
    ctx.status = 201;
    ctx.body = { consentId: JSON.parse(body || '{}').consentId ?? null, recordedAt: new Date().toISOString() };
  }

  /** Pages in test/widget/csp/ under a strict CSP. */
  async function cspPage(ctx, next) {
    if (!ctx.path.startsWith('/test/widget/csp/')) return next();
    await next();
    ctx.set(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'nonce-${CSP_NONCE}'; style-src 'self'; frame-src 'self'; base-uri 'none'; object-src 'none'`,
    );
  }

  return {
    plugin: {
      name: 'samtykke-server',
      serverStart({ config }) {
        starting = start(config.port);
        return starting;
      },
      async serverStop() {
        if (!server) return;
        await server.services.queue.idle();
        server.database.close();
        rmSync(server.dir, { recursive: true, force: true });
      },
      async executeCommand({ command, payload }) {
        if (!command.startsWith('samtykke:')) return undefined;
        await starting;
        switch (command) {
          case 'samtykke:create-site':
            return createSite(payload);
          case 'samtykke:admin':
            return admin(payload);
          case 'samtykke:events':
            return events(payload);
          case 'samtykke:build-widget':
            return buildWidget();
          case 'samtykke:token':
            return token(payload);
          case 'samtykke:sink': {
            const requests = sunk;
            sunk = [];
            return requests;
          }
          default:
            throw new Error(`unknown command ${command}`);
        }
      },
    },
    middleware: [proxy, sink, cspPage],
  };
}

/** Builds dist/widget (as `npm run build`) when it is missing or older than what it is built from. */
function buildWidget() {
  const root = new URL('.', import.meta.url).pathname;
  const newest = Math.max(
    ...['widget', 'shared'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs),
    ),
    statSync(join(root, 'vite.config.ts')).mtimeMs,
  );
  const built = join(root, 'dist/widget/samtykke-forms.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest && existsSync(join(root, 'dist/widget/samtykke.js'))) return false;
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'pipe' });
  return true;
}

const api = samtykkeServer();

export default {
  files: 'test/widget/**/*.test.ts',
  // The 'development' condition makes Lit load its dev build, which warns about misuse.
  // Production bundles (vite.config.ts) never use it.
  nodeResolve: { exportConditions: ['development'] },
  middleware: api.middleware,
  plugins: [esbuildPlugin({ ts: true, tsconfig: './tsconfig.json', target: 'auto' }), api.plugin],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-dev-shm-usage',
        ],
      },
    }),
  ],
  testFramework: { config: { timeout: 10000 } },
};
