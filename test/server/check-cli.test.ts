/**
 * `samtykke check` and `samtykke suppressions import`, run as child processes against a
 * real database file, locally and against a server (--url, --key).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../../server/app';
import { openDatabase, type Database } from '../../server/db/client';
import { TEST_SECRET, tempDir } from './helpers';

const BIN = fileURLToPath(new URL('../../bin/samtykke.mjs', import.meta.url));
const OURS = ['PORT', 'DATABASE_URL', 'DATABASE_AUTH_TOKEN', 'SAMTYKKE_SECRET', 'PUBLIC_URL', 'NODE_ENV', 'LOG_LEVEL', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS'];

function cli(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const e: NodeJS.ProcessEnv = { ...process.env };
    for (const k of OURS) delete e[k];
    Object.assign(e, { LOG_LEVEL: 'silent' }, env);
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('samtykke check and suppressions import', () => {
  let dir: string;
  let env: Record<string, string>;
  let database: Database;
  let server: ServerType;
  let url: string;
  let adminKey: string;

  before(async () => {
    dir = await tempDir();
    const file = join(dir, 'cli.db');
    env = { DATABASE_URL: `file:${file}`, SAMTYKKE_SECRET: TEST_SECRET };
    const init = await cli(['init', '--site', 'acme', '--json'], dir, env);
    assert.equal(init.code, 0, init.stderr);
    adminKey = (JSON.parse(init.stdout) as { key: string }).key;
    database = await openDatabase({ url: `file:${file}` });
    const { app } = createApp({ database, secret: TEST_SECRET });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const email of ['anna@example.dk', 'bo@example.dk', 'robinson@example.dk']) {
      assert.equal((await call('/v1/sites/acme/consents', { email, purpose: 'e-marketing', action: 'grant', wordingVersion: 1 })).status, 201);
    }
    assert.equal((await call('/v1/sites/acme/consents', { email: 'bo@example.dk', purpose: 'e-marketing', action: 'withdraw' })).status, 201);
    writeFileSync(join(dir, 'robinson.csv'), 'email\r\nrobinson@example.dk\r\nnot an address\r\n');
    writeFileSync(join(dir, 'recipients.csv'), '\uFEFFname,email\r\n"Anna A",anna@example.dk\r\nBo,bo@example.dk\r\nRo,robinson@example.dk\r\nNy,new@example.dk\r\n\r\nX,broken\r\n');
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a list, and a second import adds nothing', async () => {
    const first = await cli(['suppressions', 'import', 'robinson.csv', '--site', 'acme', '--list', 'robinson', '--json'], dir, env);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), { list: 'robinson', reason: 'listed', rows: 2, added: 1, alreadyPresent: 0, invalid: 1 });
    const again = await cli(['suppressions', 'import', 'robinson.csv', '--site', 'acme', '--list', 'robinson'], dir, env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 added, 1 already present, 1 invalid/);
    const bad = await cli(['suppressions', 'import', 'robinson.csv', '--site', 'acme'], dir, env);
    assert.equal(bad.code, 2);
  });

  for (const mode of ['local', 'remote'] as const) {
    it(`checks a CSV (${mode}): allowed rows, rejected rows with reasons, a summary and a progress bar`, async () => {
      const extra = mode === 'remote' ? ['--url', url, '--key', adminKey] : [];
      const r = await cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', '--out', `allowed-${mode}.csv`, '--rejected', `rejected-${mode}.csv`, ...extra], dir, env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /\[#+\] 100%/);
      assert.match(r.stdout, /Checked 5 rows: 1 allowed, 4 blocked/);
      assert.match(r.stdout, /withdrawn\s+1/);
      assert.equal(readFileSync(join(dir, `allowed-${mode}.csv`), 'utf8'), 'name,email\r\nAnna A,anna@example.dk\r\n');
      assert.equal(
        readFileSync(join(dir, `rejected-${mode}.csv`), 'utf8'),
        'name,email,reason\r\nBo,bo@example.dk,withdrawn\r\nRo,robinson@example.dk,listed\r\nNy,new@example.dk,no-consent\r\nX,broken,invalid\r\n',
      );
      const j = await cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', '--out', `a2-${mode}.csv`, '--json', ...extra], dir, env);
      assert.deepEqual(JSON.parse(j.stdout), { rows: 5, allowed: 1, blocked: 4, byReason: { withdrawn: 1, listed: 1, 'no-consent': 1, invalid: 1 } });
    });
  }

  for (const mode of ['local', 'remote'] as const) {
    it(`never writes a row that was not allowed to the allowed file, even a first row without a header (${mode})`, async () => {
      const extra = mode === 'remote' ? ['--url', url, '--key', adminKey] : [];
      writeFileSync(join(dir, `noheader-${mode}.csv`), 'Anna;anna@example.dk\r\nBo;bo@example.dk\r\n');
      const r = await cli(['check', `noheader-${mode}.csv`, '--site', 'acme', '--purpose', 'e-marketing', '--out', `nh-allowed-${mode}.csv`, '--rejected', `nh-rejected-${mode}.csv`, ...extra], dir, env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Checked 2 rows: 0 allowed, 2 blocked/);
      assert.equal(readFileSync(join(dir, `nh-allowed-${mode}.csv`), 'utf8'), '');
      assert.equal(readFileSync(join(dir, `nh-rejected-${mode}.csv`), 'utf8'), 'Anna;anna@example.dk;invalid\r\nBo;bo@example.dk;invalid\r\n');
    });
  }

  it('says what is wrong: unknown purpose, bad key', async () => {
    const r = await cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'nope', '--out', 'x.csv'], dir, env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such purpose/);
    const remote = await cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', '--out', 'x.csv', '--url', url, '--key', 'sk_bad'], dir, env);
    assert.equal(remote.code, 1);
    assert.match(remote.stderr, /401/);
  });
});
