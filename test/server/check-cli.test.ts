/**
 * `samtykke check` and `samtykke suppressions import`, run as child processes against a
 * real database file, locally and against a server (--url, with the key from SAMTYKKE_API_KEY,
 * --key-file or --key).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../../server/app';
import { openDatabase, type Database } from '../../server/db/client';
import { TEST_SECRET, tempDir } from './helpers';

const BIN = fileURLToPath(new URL('../../bin/samtykke.mjs', import.meta.url));
const OURS = ['PORT', 'DATABASE_URL', 'DATABASE_AUTH_TOKEN', 'SAMTYKKE_SECRET', 'PUBLIC_URL', 'NODE_ENV', 'LOG_LEVEL', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'SAMTYKKE_API_KEY'];

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
      const extra = mode === 'remote' ? ['--url', url] : [];
      const withKey = mode === 'remote' ? { ...env, SAMTYKKE_API_KEY: adminKey } : env;
      const r = await cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', '--out', `allowed-${mode}.csv`, '--rejected', `rejected-${mode}.csv`, ...extra], dir, withKey);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /\[#+\] 100%/);
      assert.match(r.stdout, /Checked 5 rows: 1 allowed, 4 blocked/);
      assert.match(r.stdout, /withdrawn\s+1/);
      assert.equal(readFileSync(join(dir, `allowed-${mode}.csv`), 'utf8'), 'name,email\r\nAnna A,anna@example.dk\r\n');
      assert.equal(
        readFileSync(join(dir, `rejected-${mode}.csv`), 'utf8'),
        'name,email,reason\r\nBo,bo@example.dk,withdrawn\r\nRo,robinson@example.dk,listed\r\nNy,new@example.dk,no-consent\r\nX,broken,invalid\r\n',
      );
      const j = await cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', '--out', `a2-${mode}.csv`, '--json', ...extra], dir, withKey);
      assert.deepEqual(JSON.parse(j.stdout), { rows: 5, allowed: 1, blocked: 4, byReason: { withdrawn: 1, listed: 1, 'no-consent': 1, invalid: 1 } });
    });
  }

  for (const mode of ['local', 'remote'] as const) {
    it(`never writes a row that was not allowed to the allowed file, even a first row without a header (${mode})`, async () => {
      const extra = mode === 'remote' ? ['--url', url] : [];
      const withKey = mode === 'remote' ? { ...env, SAMTYKKE_API_KEY: adminKey } : env;
      writeFileSync(join(dir, `noheader-${mode}.csv`), 'Anna;anna@example.dk\r\nBo;bo@example.dk\r\n');
      const r = await cli(['check', `noheader-${mode}.csv`, '--site', 'acme', '--purpose', 'e-marketing', '--out', `nh-allowed-${mode}.csv`, '--rejected', `nh-rejected-${mode}.csv`, ...extra], dir, withKey);
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
  const check = (out: string, extra: string[], e: Record<string, string> = env) =>
    cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', '--out', out, '--json', ...extra], dir, e);
  const SUMMARY = { rows: 5, allowed: 1, blocked: 4, byReason: { withdrawn: 1, listed: 1, 'no-consent': 1, invalid: 1 } };
  /** Neither the key nor anyone's address is ever printed on stderr (progress bars and warnings are). */
  const assertQuiet = (stderr: string) => {
    assert.ok(!stderr.includes(adminKey), 'the key was printed');
    assert.ok(!/@example\.dk/.test(stderr), 'an address was printed');
  };

  it('takes the key from --key-file, then SAMTYKKE_API_KEY, then --key (with a warning)', async () => {
    writeFileSync(join(dir, 'key.txt'), `  ${adminKey}\n\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'empty-key.txt'), '\n');
    const [fromEnv, fromFile, fileFirst, fromFlag, envFirst, none, missingFile, emptyFile] = await Promise.all([
      check('k-env.csv', ['--url', url], { ...env, SAMTYKKE_API_KEY: adminKey }),
      check('k-file.csv', ['--url', url, '--key-file', 'key.txt']),
      check('k-file-first.csv', ['--url', url, '--key-file', 'key.txt'], { ...env, SAMTYKKE_API_KEY: 'sk_bad' }),
      check('k-flag.csv', ['--url', url, '--key', adminKey]),
      check('k-env-first.csv', ['--url', url, '--key', 'sk_bad'], { ...env, SAMTYKKE_API_KEY: adminKey }),
      check('k-none.csv', ['--url', url]),
      check('k-missing.csv', ['--url', url, '--key-file', 'no-such-key.txt']),
      check('k-empty.csv', ['--url', url, '--key-file', 'empty-key.txt']),
    ]);
    for (const r of [fromEnv, fromFile, fileFirst, fromFlag, envFirst]) {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), SUMMARY);
      assertQuiet(r.stderr);
    }
    for (const r of [fromEnv, fromFile, fileFirst]) assert.doesNotMatch(r.stderr, /warning/);
    assert.match(fromFlag.stderr, /warning: --key puts the API key on the command line, where other users of this machine can see it/);
    assert.match(envFirst.stderr, /warning: --key .*\(--key is ignored: SAMTYKKE_API_KEY comes first\)/);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--url needs an API key .*SAMTYKKE_API_KEY.*--key-file/);
    assert.equal(missingFile.code, 2);
    assert.match(missingFile.stderr, /cannot read the --key-file \(ENOENT\)/);
    assert.doesNotMatch(missingFile.stderr, /no-such-key/, "the path is not printed: a key passed there by mistake would be");
    assert.equal(emptyFile.code, 2);
    assert.match(emptyFile.stderr, /--key-file: the API key is empty/);
    for (const r of [none, missingFile, emptyFile]) assert.equal(existsSync(join(dir, r === none ? 'k-none.csv' : r === missingFile ? 'k-missing.csv' : 'k-empty.csv')), false);
    const local = await cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', '--out', 'k-local.csv', '--key-file', 'key.txt'], dir, env);
    assert.equal(local.code, 2);
    assert.match(local.stderr, /--key, --key-file and --insecure go with --url/);
  });

  it('keeps a path prefix in --url, with or without a trailing slash', async () => {
    const seen: string[] = [];
    // A reverse proxy serving Samtykke under /samtykke/ and nothing else.
    const proxy: Server = createServer((req, res) => {
      seen.push(req.url!);
      if (!req.url!.startsWith('/samtykke/')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not behind the proxy"}}');
        return;
      }
      const upstream = request(`${url}${req.url!.slice('/samtykke'.length)}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const withKey = { ...env, SAMTYKKE_API_KEY: adminKey };
      for (const [i, prefixed] of [`${base}/samtykke`, `${base}/samtykke/`, `${base}/samtykke//`].entries()) {
        const r = await check(`prefix-${i}.csv`, ['--url', prefixed], withKey);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), SUMMARY);
      }
      assert.deepEqual(seen, Array(3).fill('/samtykke/v1/sites/acme/check.csv?purpose=e-marketing'));
      // Without the prefix the proxy answers 404, and that is what the user is told.
      const bare = await check('prefix-bare.csv', ['--url', base], withKey);
      assert.equal(bare.code, 1);
      assert.match(bare.stderr, /the server answered 404: not behind the proxy/);
      assert.equal(existsSync(join(dir, 'prefix-bare.csv')), false);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('refuses plain http:// except to loopback, unless --insecure', async () => {
    const refused = ['http://example.invalid/samtykke', 'http://10.0.0.1:3000', 'http://127.0.0.1.example.invalid', 'http://localhost.:8787']; // localhost. is asked of DNS
    // Loopback passes the scheme check and then stops for want of a key: no request is made either way.
    const loopback = ['http://localhost:9', 'http://127.1.2.3:9', 'http://[::1]:9'];
    const [refusals, passes, insecure, odd] = await Promise.all([
      Promise.all(refused.map((u, i) => check(`http-refused-${i}.csv`, ['--url', u], { ...env, SAMTYKKE_API_KEY: adminKey }))),
      Promise.all(loopback.map((u, i) => check(`http-loopback-${i}.csv`, ['--url', u]))),
      check('http-insecure.csv', ['--url', 'http://example.invalid', '--insecure']),
      Promise.all(
        ['ftp://example.org', 'https://user:pw@example.org', 'https://example.org/?x=1'].map((u, i) =>
          check(`http-odd-${i}.csv`, ['--url', u], { ...env, SAMTYKKE_API_KEY: adminKey }),
        ),
      ),
    ]);
    refusals.forEach((r, i) => {
      assert.equal(r.code, 2, `${refused[i]}: ${r.stderr}`);
      assert.match(r.stderr, /--url must be https:\/\/: plain http:\/\/ would send the API key and the addresses unencrypted.*--insecure/, refused[i]);
      assertQuiet(r.stderr);
      assert.equal(existsSync(join(dir, `http-refused-${i}.csv`)), false);
    });
    passes.forEach((r, i) => {
      assert.equal(r.code, 2, `${loopback[i]}: ${r.stderr}`);
      assert.match(r.stderr, /--url needs an API key/, loopback[i]);
    });
    assert.equal(insecure.code, 2);
    assert.match(insecure.stderr, /warning: --insecure: the API key and the addresses go to example\.invalid unencrypted/);
    assert.match(insecure.stderr, /--url needs an API key/);
    const expected = [/--url must be an https:\/\/ URL/, /--url must not contain a user name or password/, /--url must be the server's base URL, without \? or #/];
    odd.forEach((r, i) => {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, expected[i]!);
      assert.doesNotMatch(r.stderr, /pw|sk_/);
    });
  });

  it('leaves the previous --out and --rejected files as they were when the check fails, and no temporary file', async () => {
    const before = { 'keep-allowed.csv': 'the previous allowed list\n', 'keep-rejected.csv': 'the previous rejected list\n' };
    for (const [name, text] of Object.entries(before)) writeFileSync(join(dir, name), text);
    const files = ['--out', 'keep-allowed.csv', '--rejected', 'keep-rejected.csv'];
    const run = (extra: string[], e: Record<string, string>) => cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', ...files, ...extra], dir, e);
    const closed = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => r(port));
      });
    });
    const failures = [
      { what: 'a wrong key', run: () => run(['--url', url], { ...env, SAMTYKKE_API_KEY: 'sk_bad' }), code: 1, message: /the server answered 401/ },
      { what: 'an unknown site', run: () => cli(['check', 'recipients.csv', '--site', 'nosuch', '--purpose', 'e-marketing', ...files, '--url', url], dir, { ...env, SAMTYKKE_API_KEY: adminKey }), code: 1, message: /the server answered 40[34]/ },
      { what: 'no server', run: () => run(['--url', `http://127.0.0.1:${closed}`], { ...env, SAMTYKKE_API_KEY: adminKey }), code: 1, message: /could not reach the server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/ },
      { what: 'an unknown purpose (local)', run: () => cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'nope', ...files], dir, env), code: 1, message: /no such purpose/ },
    ];
    for (const f of failures) {
      const r = await f.run();
      assert.equal(r.code, f.code, `${f.what}: ${r.stderr}`);
      assert.match(r.stderr, f.message, f.what);
      assertQuiet(r.stderr);
      for (const [name, text] of Object.entries(before)) assert.equal(readFileSync(join(dir, name), 'utf8'), text, `${f.what}: ${name}`);
      assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), [], f.what);
    }
    // A successful check replaces both, keeping their permissions.
    chmodSync(join(dir, 'keep-allowed.csv'), 0o600);
    const ok = await run(['--url', url], { ...env, SAMTYKKE_API_KEY: adminKey });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(readFileSync(join(dir, 'keep-allowed.csv'), 'utf8'), /^name,email\r\nAnna A,anna@example.dk\r\n/);
    assert.match(readFileSync(join(dir, 'keep-rejected.csv'), 'utf8'), /^name,email,reason\r\n/);
    assert.equal(statSync(join(dir, 'keep-allowed.csv')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);
    // The input is never one of the outputs.
    const same = await cli(['check', 'recipients.csv', '--site', 'acme', '--purpose', 'e-marketing', '--out', './recipients.csv'], dir, env);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /FILE, --out and --rejected must be different files/);
  });
});
