/**
 * Test harness: a real libSQL database file in a fresh temporary folder per call, the
 * app built in-process on it, and a seeded site with an admin key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../server/app';
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

export async function makeApp(options: { now?: () => number; site?: string } = {}): Promise<TestApp> {
  const dir = await tempDir();
  const file = join(dir, 'test.db');
  const database = await openDatabase({ url: `file:${file}` });
  await migrate(database);
  const { app, services } = createApp({ database, secret: TEST_SECRET, now: options.now });
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
