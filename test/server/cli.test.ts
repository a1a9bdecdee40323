/**
 * The real `samtykke` command, run as a child process (`node bin/samtykke.mjs …`) in a
 * temporary folder, against real database files; what it creates is checked through
 * an app built in-process on the same file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@libsql/client';
import { createApp } from '../../server/app';
import { openDatabase, type Database } from '../../server/db/client';
import { createCrypto } from '../../server/services/crypto';
import { SERVER_NODE_FLAGS } from '../../server/main';
import { TEST_SECRET, tempDir } from './helpers';

const BIN = fileURLToPath(new URL('../../bin/samtykke.mjs', import.meta.url));
const MIGRATIONS_JOURNAL = fileURLToPath(new URL('../../server/db/migrations/meta/_journal.json', import.meta.url));

/** Variables of ours (and of the test runner) that must not leak from this process into the child. */
const OURS = ['PORT', 'DATABASE_URL', 'DATABASE_AUTH_TOKEN', 'SAMTYKKE_SECRET', 'PUBLIC_URL', 'NODE_ENV', 'LOG_LEVEL', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS'];

function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const k of OURS) delete out[k];
  out.LOG_LEVEL = 'silent';
  for (const [k, value] of Object.entries(env)) {
    if (value === undefined) delete out[k];
    else out[k] = value;
  }
  return out;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
function cli(args: string[], options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: childEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`samtykke ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The one JSON object a `--json` command prints, after checking it is the whole of stdout. */
function oneJson(run: Run): Record<string, unknown> {
  assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected exactly one line of JSON, got:\n${run.stdout}`);
  const value: unknown = JSON.parse(lines[0]!);
  assert.ok(value && typeof value === 'object' && !Array.isArray(value), 'a JSON object');
  return value as Record<string, unknown>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

interface Served {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code and how long it took. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Starts `samtykke serve` on a free port and waits until it says it listens. */
async function serve(cwd: string, env: Record<string, string | undefined>): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd, env: childEnv({ ...env, PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 30_000;
  while (!/listening on/.test(stdout)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve exited early (${child.exitCode})\n${stdout}\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      const started = Date.now();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return { ...result, ms: Date.now() - started };
    },
  };
}

const dirs: string[] = [];
async function workDir(): Promise<string> {
  const dir = await tempDir('samtykke-cli-');
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An app built in-process on the same database file, as the server would be. */
async function appOn(file: string, secret = TEST_SECRET): Promise<{ database: Database; app: ReturnType<typeof createApp>['app']; close(): Promise<void> }> {
  const database = await openDatabase({ url: `file:${file}` });
  const { app, services } = createApp({ database, secret });
  return {
    database,
    app,
    async close() {
      await services.queue.idle();
      database.close();
    },
  };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

it('the samtykke command and npm start run node with the server flags (V8 reads them only there)', () => {
  const shebang = readFileSync(BIN, 'utf8').split('\n')[0]!;
  assert.equal(shebang, `#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
  const start = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { scripts: { start: string } }).scripts.start;
  assert.ok(start.includes(`node ${SERVER_NODE_FLAGS.join(' ')} bin/samtykke.mjs dev`), start);
});

describe('samtykke CLI on one database', () => {
  let dir: string;
  let file: string;
  let env: Record<string, string>;
  let acmeKey: string;
  let acmeKeyId: string;
  let inProcess: Awaited<ReturnType<typeof appOn>>;

  before(async () => {
    dir = await workDir();
    file = join(dir, 'x.db');
    env = { DATABASE_URL: `file:${file}`, SAMTYKKE_SECRET: TEST_SECRET };
  });
  after(async () => {
    await inProcess?.close();
  });

  it('init --site acme --json prints exactly one JSON object {site, key, keyId}, and the key works', async () => {
    const run = await cli(['init', '--site', 'acme', '--json'], { cwd: dir, env });
    const out = oneJson(run);
    assert.deepEqual(Object.keys(out).sort(), ['key', 'keyId', 'site']);
    assert.equal(out.site, 'acme');
    assert.equal(typeof out.key, 'string');
    assert.equal(typeof out.keyId, 'string');
    assert.ok((out.key as string).includes(out.keyId as string));
    assert.equal(run.stderr, '');
    acmeKey = out.key as string;
    acmeKeyId = out.keyId as string;
    assert.ok(existsSync(file), 'the database is the file DATABASE_URL names');
    assert.equal(existsSync(join(dir, 'data', 'secret')), false, 'a given SAMTYKKE_SECRET is not written anywhere');

    inProcess = await appOn(file);
    const purposes = await inProcess.app.request('/v1/sites/acme/purposes', { headers: bearer(acmeKey) });
    assert.equal(purposes.status, 200);
    const body = (await purposes.json()) as { purposes: { key: string }[] };
    assert.ok(body.purposes.some((p) => p.key === 'e-marketing'));
    assert.equal((await inProcess.app.request('/v1/sites/acme/purposes', { headers: bearer(`${acmeKey}x`) })).status, 401);

    // A consent through the same key, for the backup further down.
    const recorded = await inProcess.app.request('/v1/sites/acme/consents', {
      method: 'POST',
      headers: { ...bearer(acmeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'Ada@Example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1, evidence: { formId: 'signup' } }),
    });
    assert.equal(recorded.status, 201);
  });

  it('migrate twice is fine, and records each migration once', async () => {
    const journal = JSON.parse(readFileSync(MIGRATIONS_JOURNAL, 'utf8')) as { entries: unknown[] };
    const first = await cli(['migrate'], { cwd: dir, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Migrations applied/);
    const second = await cli(['migrate', '--json'], { cwd: dir, env });
    assert.deepEqual(oneJson(second), { migrated: true });
    const { rows } = await inProcess.database.client.execute('SELECT count(*) AS n FROM __drizzle_migrations');
    assert.equal(Number(rows[0]!.n), journal.entries.length);
  });

  it('site create shop --name Shop --origin https://shop.example --json', async () => {
    const run = await cli(['site', 'create', 'shop', '--name', 'Shop', '--origin', 'https://shop.example', '--json'], { cwd: dir, env });
    const out = oneJson(run);
    assert.deepEqual(Object.keys(out).sort(), ['key', 'keyId', 'site']);
    assert.equal(out.site, 'shop');
    const site = await inProcess.app.request('/v1/sites/shop', { headers: bearer(out.key as string) });
    assert.equal(site.status, 200);
    const body = (await site.json()) as { id: string; name: string; allowedOrigins: string[] };
    assert.equal(body.name, 'Shop');
    assert.deepEqual(body.allowedOrigins, ['https://shop.example']);
    // The new key belongs to shop only.
    assert.equal((await inProcess.app.request('/v1/sites/acme/purposes', { headers: bearer(out.key as string) })).status, 404);

    const again = await cli(['site', 'create', 'shop', '--name', 'Shop'], { cwd: dir, env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  it('key create --site acme --name ci --scopes check --json, then key revoke', async () => {
    const run = await cli(['key', 'create', '--site', 'acme', '--name', 'ci', '--scopes', 'check', '--json'], { cwd: dir, env });
    const out = oneJson(run);
    assert.equal(out.site, 'acme');
    assert.deepEqual(out.scopes, ['check']);
    const key = out.key as string;
    const id = out.keyId as string;
    assert.notEqual(id, acmeKeyId);
    // Known key without the admin scope: 403, not 401.
    assert.equal((await inProcess.app.request('/v1/sites/acme/purposes', { headers: bearer(key) })).status, 403);

    const revoked = await cli(['key', 'revoke', id, '--site', 'acme'], { cwd: dir, env });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`${id}.*revoked`));
    assert.equal((await inProcess.app.request('/v1/sites/acme/purposes', { headers: bearer(key) })).status, 401);
    // The admin key is untouched.
    assert.equal((await inProcess.app.request('/v1/sites/acme/purposes', { headers: bearer(acmeKey) })).status, 200);

    const unknown = await cli(['key', 'revoke', 'no-such-key', '--site', 'acme'], { cwd: dir, env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /key not found/);
  });

  it('bad usage exits 2 with a usage message', async () => {
    const cases = [
      [],
      ['frobnicate'],
      ['--no-such-option'],
      ['site', 'create', 'Not_A_Site_Id', '--name', 'x'],
      ['key', 'create', '--site', 'acme', '--name', 'ci', '--scopes', 'everything'],
      ['backup'],
    ];
    const runs = await Promise.all(cases.map((args) => cli(args, { cwd: dir, env })));
    runs.forEach((run, i) => {
      const args = cases[i]!.join(' ');
      assert.equal(run.code, 2, `samtykke ${args}: exit ${run.code}\n${run.stderr}`);
      assert.match(`${run.stdout}${run.stderr}`, /Usage: samtykke <command>/, `samtykke ${args} shows the usage`);
      assert.doesNotMatch(run.stderr, /\n\s+at /, `samtykke ${args}: no stack trace`);
    });
  });

  it('an unknown site is a clear error', async () => {
    const runs = await Promise.all([
      cli(['key', 'create', '--site', 'nope', '--name', 'ci', '--scopes', 'check', '--json'], { cwd: dir, env }),
      cli(['audit', 'verify', '--site', 'nope'], { cwd: dir, env }),
    ]);
    for (const run of runs) {
      assert.notEqual(run.code, 0);
      assert.match(run.stderr.split('\n')[0]!, /^samtykke: no site 'nope'$/);
      assert.equal(run.stdout, '', 'nothing a script could mistake for a result');
    }
  });

  it('audit verify --json: ok on a healthy database, exit 0', async () => {
    const run = await cli(['audit', 'verify', '--json'], { cwd: dir, env });
    const out = oneJson(run) as { ok: boolean; sites: { site: string; ok: boolean; chains: { chain: string; rows: number; ok: boolean }[] }[] };
    assert.equal(out.ok, true);
    assert.deepEqual(out.sites.map((s) => s.site), ['acme', 'shop']);
    const acme = out.sites[0]!;
    assert.equal(acme.chains.find((c) => c.chain === 'consent_events')!.rows, 1);
    assert.ok(acme.chains.find((c) => c.chain === 'audit_log')!.rows >= 3);

    const words = await cli(['audit', 'verify', '--site', 'acme'], { cwd: dir, env });
    assert.equal(words.code, 0, words.stderr);
    assert.match(words.stdout, /^ok {4}acme consent_events: 1 rows/m);
    assert.doesNotMatch(words.stdout, /shop/, '--site limits the check to that site');
  });

  it('retention run --json deletes nothing that is still within its time', async () => {
    const run = await cli(['retention', 'run', '--json'], { cwd: dir, env });
    assert.deepEqual(oneJson(run), { idempotencyKeys: 0, mail: 0, webhookDeliveries: 0, smsMessages: 0, checkChanges: 0, expiredSignups: 0, erasedUnconfirmed: 0, emailChanges: 0 });
  });

  it('backup FILE --json writes a normal, complete database and refuses an existing file', async () => {
    const backupFile = join(dir, 'copy.db');
    const ok = await cli(['backup', 'copy.db', '--json'], { cwd: dir, env }); // relative to the working folder
    const out = oneJson(ok);
    assert.equal(out.file, backupFile);
    assert.equal(out.bytes, statSync(backupFile).size);

    const copy = createClient({ url: `file:${backupFile}` });
    try {
      const integrity = await copy.execute('PRAGMA integrity_check');
      assert.equal(integrity.rows[0]![0], 'ok');
      const tables = (await copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map((r) => String(r.name));
      for (const t of ['sites', 'purposes', 'wording_versions', 'subjects', 'consent_events', 'consent_states', 'api_keys', 'audit_log', '__drizzle_migrations']) {
        assert.ok(tables.includes(t), `backup has table ${t}`);
      }
      assert.equal(out.tables, tables.length);
      const events = await copy.execute("SELECT action, subject_id FROM consent_events WHERE site_id = 'acme'");
      assert.equal(events.rows.length, 1);
      assert.equal(events.rows[0]!.action, 'grant');
      const bidx = createCrypto(TEST_SECRET).blindIndex('acme', 'email', 'ada@example.dk');
      const subject = await copy.execute({ sql: 'SELECT id FROM subjects WHERE email_bidx = ?', args: [bidx] });
      assert.equal(subject.rows[0]?.id, events.rows[0]!.subject_id, 'the recorded consent is in the backup');
    } finally {
      copy.close();
    }

    const verify = await cli(['audit', 'verify', '--json'], { cwd: dir, env: { ...env, DATABASE_URL: `file:${backupFile}` } });
    const report = oneJson(verify) as { ok: boolean; sites: { site: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(report.sites.map((s) => s.site), ['acme', 'shop']);

    const before = readFileSync(backupFile);
    const again = await cli(['backup', backupFile, '--json'], { cwd: dir, env });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists/);
    assert.equal(again.stdout, '');
    assert.ok(readFileSync(backupFile).equals(before), 'the existing file is left as it was');
  });

  it('a DATABASE_URL naming no database is refused, not created and then checked or copied as empty', async () => {
    const missing = join(dir, 'typo.db');
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const [verify, backup, key] = await Promise.all([
      cli(['audit', 'verify', '--json'], { cwd: dir, env: { ...env, DATABASE_URL: `file:${missing}` } }),
      cli(['backup', join(dir, 'typo-backup.db'), '--json'], { cwd: dir, env: { ...env, DATABASE_URL: `file:${missing}` } }),
      cli(['key', 'create', '--site', 'acme', '--name', 'x', '--scopes', 'check'], { cwd: dir, env: { ...env, DATABASE_URL: `file:${empty}` } }),
    ]);
    for (const run of [verify, backup]) {
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`^samtykke: no database at ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    assert.equal(existsSync(missing), false, 'no empty database left behind');
    assert.equal(existsSync(join(dir, 'typo-backup.db')), false, 'no backup of nothing');
    assert.equal(key.code, 1);
    assert.match(key.stderr, /^samtykke: .*no Samtykke tables; run `samtykke migrate`/);
    assert.doesNotMatch(key.stderr, /Failed query/);
  });

  it('audit verify needs the secret: without one it stops, and does not invent one', async () => {
    const elsewhere = await workDir();
    const run = await cli(['audit', 'verify'], { cwd: elsewhere, env: { DATABASE_URL: `file:${file}` } });
    assert.notEqual(run.code, 0);
    assert.equal(run.code, 78);
    assert.match(run.stderr, /SAMTYKKE_SECRET/);
    assert.equal(existsSync(join(elsewhere, 'data', 'secret')), false, 'no new key material is written by a check');
  });

  it('audit verify with another secret says the evidence cannot be read with it', async () => {
    const run = await cli(['audit', 'verify', '--site', 'acme'], { cwd: dir, env: { ...env, SAMTYKKE_SECRET: 'another-secret-0123456789abcdefghijklmnopqrstuvwxyz' } });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /BAD {3}acme consent_events: row 1 .*SAMTYKKE_SECRET/);
  });
});

describe('samtykke serve', () => {
  it('answers /healthz and /readyz, and stops with exit 0 on SIGTERM', async () => {
    const dir = await workDir();
    const server = await serve(dir, { DATABASE_URL: `file:${join(dir, 'x.db')}`, SAMTYKKE_SECRET: TEST_SECRET });
    try {
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.ok(!server.stdout().includes(TEST_SECRET) && !server.stderr().includes(TEST_SECRET), 'the secret is never printed');
      assert.doesNotMatch(server.stdout(), /sk_/, 'production serve seeds no key');
    } finally {
      const stopped = await server.stop();
      assert.equal(stopped.signal, null, `exited by ${stopped.signal}`);
      assert.equal(stopped.code, 0);
      assert.ok(stopped.ms < 5000, `stopped in ${stopped.ms} ms`);
    }
  });

  it('a port in use stops start-up with a one-line message, not a crash', async () => {
    const dir = await workDir();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    const address = holder.address();
    assert.ok(address && typeof address === 'object');
    try {
      const run = await cli(['serve'], { cwd: dir, env: { DATABASE_URL: `file:${join(dir, 'x.db')}`, SAMTYKKE_SECRET: TEST_SECRET, PORT: String(address.port) } });
      assert.notEqual(run.code, 0);
      assert.equal(run.signal, null);
      assert.match(run.stderr, /^samtykke: .*(EADDRINUSE|in use)/);
      assert.doesNotMatch(run.stderr, /Unhandled 'error' event|\n\s+at /);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('without SAMTYKKE_SECRET the first start writes ./data/secret (0600) and later starts reuse it', async () => {
    const dir = await workDir();
    const secretFile = join(dir, 'data', 'secret');
    const dbFile = join(dir, 'data', 'samtykke.db');
    // No DATABASE_URL either: the default is ./data/samtykke.db in the working folder.
    const first = await serve(dir, {});
    const stopped = await first.stop();
    assert.equal(stopped.code, 0);
    assert.ok(existsSync(secretFile), './data/secret was written');
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    assert.ok(existsSync(dbFile), './data/samtykke.db was created');
    const secret = readFileSync(secretFile, 'utf8').trim();
    assert.ok(secret.length >= 32);
    assert.ok(!first.stdout().includes(secret) && !first.stderr().includes(secret), 'the generated secret is never printed');

    const init = await cli(['init', '--site', 'acme', '--json'], { cwd: dir });
    const { key } = oneJson(init) as { key: string };
    assert.equal(readFileSync(secretFile, 'utf8').trim(), secret, 'init reused it');

    // A consent recorded in-process with the file's secret ...
    const app = await appOn(dbFile, secret);
    let subjectId: string;
    try {
      const res = await app.app.request('/v1/sites/acme/consents', {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'bo@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }),
      });
      assert.equal(res.status, 201);
      subjectId = ((await res.json()) as { subjectId: string }).subjectId;
    } finally {
      await app.close();
    }
    // ... is found by its e-mail address (a blind index keyed by the secret) after a restart.
    const second = await serve(dir, {});
    try {
      const res = await fetch(`${second.url}/v1/sites/acme/subjects?email=bo@example.dk`, { headers: bearer(key) });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { id: string; email: string | null };
      assert.equal(body.id, subjectId);
      assert.equal(body.email, 'bo@example.dk', 'and decrypted with the same key');
    } finally {
      assert.equal((await second.stop()).code, 0);
    }
    assert.equal(readFileSync(secretFile, 'utf8').trim(), secret, 'the second start did not replace it');
  });
});

describe('samtykke: configuration errors stop start-up', { concurrency: true }, () => {
  const cases: { variable: string; value: string }[] = [
    { variable: 'PORT', value: 'abc' },
    { variable: 'DATABASE_URL', value: 'postgres://x' },
    { variable: 'SAMTYKKE_SECRET', value: 'short-Secret-Value' },
    { variable: 'PUBLIC_URL', value: 'notaurl' },
  ];
  for (const { variable, value } of cases) {
    it(`${variable}=${value}`, async () => {
      const dir = await workDir();
      const env = { DATABASE_URL: `file:${join(dir, 'x.db')}`, SAMTYKKE_SECRET: TEST_SECRET, [variable]: value };
      const run = await cli(['serve'], { cwd: dir, env });
      assert.notEqual(run.code, 0);
      assert.equal(run.signal, null);
      assert.match(run.stderr, new RegExp(`\\b${variable}\\b`), 'the message names the variable');
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(run.stdout, /listening/);
      const output = run.stdout + run.stderr;
      assert.ok(!output.includes(TEST_SECRET), 'the secret is never printed');
      if (variable === 'SAMTYKKE_SECRET') assert.ok(!output.includes(value), 'not even a bad one');
      assert.equal(existsSync(join(dir, 'x.db')), false, 'nothing was created');
    });
  }
});
