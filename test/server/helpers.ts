/**
 * Test harness: a real libSQL database file in a fresh temporary folder per call, the
 * app built in-process on it, and a seeded site with an admin key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type AppOptions } from '../../server/app';
import { migrate, openDatabase, type Database } from '../../server/db/client';
import { createServices } from '../../server/app';
import { createSite } from '../../server/services/sites';

export const TEST_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export interface TestApp {
  dir: string;
  file: string;
  database: Database;
  app: ReturnType<typeof createApp>['app'];
  services: ReturnType<typeof createApp>['services'];
  /** Admin key (all scopes) of site `acme`. */
  adminKey: string;
  /** Sends a request with the admin key unless `key` is given (null: no Authorization header). */
  call(method: string, path: string, options?: { body?: unknown; key?: string | null; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

export async function tempDir(prefix = 'samtykke-test-'): Promise<string> {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function makeApp(
  options: { now?: () => number; site?: string; app?: Pick<AppOptions, 'smtpUrl' | 'mailFrom' | 'devOutbox' | 'log' | 'trustProxy' | 'webhookAllowPrivate' | 'checkIndex' | 'checkWorkers' | 'widgetDir'> } = {},
): Promise<TestApp> {
  const dir = await tempDir();
  const file = join(dir, 'test.db');
  const database = await openDatabase({ url: `file:${file}` });
  await migrate(database);
  // Test receivers listen on http://127.0.0.1: the development escape hatch (WEBHOOK_ALLOW_PRIVATE).
  // Send checks from the in-memory index, as the server does (the first check of a purpose waits for it here).
  const { app, services } = createApp({ database, secret: TEST_SECRET, now: options.now, webhookAllowPrivate: true, checkIndex: 'await', ...options.app });
  const { key } = await createSite(createServices({ database, secret: TEST_SECRET, now: options.now }), { id: options.site ?? 'acme', name: 'Acme' }, 'test', { name: 'admin' });
  const adminKey = key!.secret;
  return {
    dir,
    file,
    database,
    app,
    services,
    adminKey,
    call(method, path, { body, key, headers = {} } = {}) {
      const h: Record<string, string> = { ...headers };
      const k = key === undefined ? adminKey : key;
      if (k !== null) h.authorization = `Bearer ${k}`;
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      return Promise.resolve(app.request(path, { method, headers: h, body: payload }));
    },
    async close() {
      await services.queue.idle();
      database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An ISO 8601 timestamp as the API writes them. */
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface ErrorBody {
  error: { code: string; message: string; details: { field?: string; message: string }[] };
}

/** The body of `res` as JSON, after asserting its status (the body is in the failure message). */
export async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Asserts the one error shape every route answers with: `{ error: { code, message, details } }` and nothing else. */
export function assertErrorShape(body: unknown, context = ''): asserts body is ErrorBody {
  const e = (body as ErrorBody | null)?.error;
  assert.ok(e && typeof e === 'object', `error object ${context}: ${JSON.stringify(body)}`);
  assert.equal(typeof e.code, 'string', context);
  assert.ok(e.code.length > 0, context);
  assert.equal(typeof e.message, 'string', context);
  assert.ok(Array.isArray(e.details), context);
  for (const d of e.details) {
    assert.equal(typeof d.message, 'string', context);
    if ('field' in d) assert.equal(typeof d.field, 'string', context);
  }
  assert.deepEqual(Object.keys(body as object), ['error'], context);
}

/** Asserts a JSON error answer with `status` (and `code`, when given) and returns it. */
export async function expectError(res: Response, status: number, code?: string): Promise<ErrorBody> {
  const body = await json<unknown>(res, status);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assertErrorShape(body);
  if (code) assert.equal(body.error.code, code, body.error.message);
  return body;
}
