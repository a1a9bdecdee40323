/**
 * loadConfig(): defaults, every accepted form, and every refusal, on a real temporary
 * data folder (the generated secret is a real file).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { TEST_SECRET, tempDir } from './helpers';

const dirs: string[] = [];
async function dataDir(): Promise<string> {
  const dir = await tempDir('samtykke-config-');
  dirs.push(dir);
  return join(dir, 'data');
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs loadConfig expecting a ConfigError; returns it. */
function refused(env: Record<string, string>, options: { dataDir: string; createSecret?: boolean }): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  return caught;
}

describe('loadConfig: defaults', () => {
  it('port 8787, a file: database under the data folder, a local public URL, info logging', async () => {
    const dir = await dataDir();
    const config = loadConfig({ SAMTYKKE_SECRET: TEST_SECRET }, { dataDir: dir });
    assert.equal(config.port, 8787);
    assert.equal(config.databaseUrl, `file:${join(dir, 'samtykke.db')}`);
    assert.equal(config.databaseAuthToken, undefined);
    assert.equal(config.secret, TEST_SECRET);
    assert.equal(config.publicUrl, 'http://localhost:8787');
    assert.equal(config.production, false);
    assert.equal(config.logLevel, 'info');
    // The folder for the database file exists, so libSQL can create the file.
    assert.ok(statSync(dir).isDirectory());
    // A given secret is used as it is: nothing is written.
    assert.equal(existsSync(join(dir, 'secret')), false);
  });

  it('the default public URL follows PORT', async () => {
    const config = loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, PORT: '3000' }, { dataDir: await dataDir() });
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl, 'http://localhost:3000');
  });

  it('PORT=0 (any free port) and 65535 are accepted', async () => {
    const dir = await dataDir();
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, PORT: '0' }, { dataDir: dir }).port, 0);
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, PORT: '65535' }, { dataDir: dir }).port, 65535);
  });

  it('an empty variable counts as unset', async () => {
    const dir = await dataDir();
    const config = loadConfig(
      { SAMTYKKE_SECRET: TEST_SECRET, PORT: '', DATABASE_URL: '', PUBLIC_URL: '', DATABASE_AUTH_TOKEN: '' },
      { dataDir: dir },
    );
    assert.equal(config.port, 8787);
    assert.equal(config.databaseUrl, `file:${join(dir, 'samtykke.db')}`);
    assert.equal(config.publicUrl, 'http://localhost:8787');
    assert.equal(config.databaseAuthToken, undefined);
  });

  it('PUBLIC_URL loses its trailing slashes, keeps its path', async () => {
    const dir = await dataDir();
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, PUBLIC_URL: 'https://consent.example.com/' }, { dataDir: dir }).publicUrl, 'https://consent.example.com');
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, PUBLIC_URL: 'https://consent.example.com///' }, { dataDir: dir }).publicUrl, 'https://consent.example.com');
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, PUBLIC_URL: 'https://example.com/samtykke/' }, { dataDir: dir }).publicUrl, 'https://example.com/samtykke');
  });

  it('NODE_ENV=production and LOG_LEVEL=silent', async () => {
    const config = loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, NODE_ENV: 'production', LOG_LEVEL: 'silent' }, { dataDir: await dataDir() });
    assert.equal(config.production, true);
    assert.equal(config.logLevel, 'silent');
  });
});

describe('loadConfig: TRUST_PROXY and mail links', () => {
  it('TRUST_PROXY defaults to 0 and takes a hop count', async () => {
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET }, { dataDir: await dataDir() }).trustProxy, 0);
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, TRUST_PROXY: '2' }, { dataDir: await dataDir() }).trustProxy, 2);
  });

  it('CHECK_WORKERS is unset by default (one per spare core) and takes 0–16', async () => {
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET }, { dataDir: await dataDir() }).checkWorkers, undefined);
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, CHECK_WORKERS: '0' }, { dataDir: await dataDir() }).checkWorkers, 0);
  });

  it('production mail with an https PUBLIC_URL is accepted; development may use http', async () => {
    const prod = loadConfig(
      { SAMTYKKE_SECRET: TEST_SECRET, NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example.com', PUBLIC_URL: 'https://consent.example.com' },
      { dataDir: await dataDir() },
    );
    assert.equal(prod.publicUrl, 'https://consent.example.com');
    const dev = loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, SMTP_URL: 'smtp://127.0.0.1:2525' }, { dataDir: await dataDir() });
    assert.equal(dev.publicUrl, 'http://localhost:8787');
  });
});

describe('loadConfig: DATABASE_URL', () => {
  for (const url of ['libsql://samtykke-acme.turso.io', 'https://db.example.com:8080', 'http://127.0.0.1:8080', 'wss://db.example.com']) {
    it(`accepts ${url} with DATABASE_AUTH_TOKEN`, async () => {
      const dir = await dataDir();
      const config = loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, DATABASE_URL: url, DATABASE_AUTH_TOKEN: 'token-123' }, { dataDir: dir });
      assert.equal(config.databaseUrl, url);
      assert.equal(config.databaseAuthToken, 'token-123');
    });
  }

  it('accepts a file: URL elsewhere and creates its folder', async () => {
    const dir = await dataDir();
    const file = join(dir, '..', 'elsewhere', 'nested', 'x.db');
    const config = loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, DATABASE_URL: `file:${file}` }, { dataDir: dir });
    assert.equal(config.databaseUrl, `file:${file}`);
    assert.ok(statSync(join(dir, '..', 'elsewhere', 'nested')).isDirectory());
  });
});

describe('loadConfig: a bad value names its variable and never echoes a secret', () => {
  const cases: { name: string; env: Record<string, string>; variable: string }[] = [
    { name: 'PORT=abc', env: { PORT: 'abc' }, variable: 'PORT' },
    { name: 'PORT=70000', env: { PORT: '70000' }, variable: 'PORT' },
    { name: 'PORT=-1', env: { PORT: '-1' }, variable: 'PORT' },
    { name: 'PORT=80.5', env: { PORT: '80.5' }, variable: 'PORT' },
    { name: 'DATABASE_URL=postgres://x', env: { DATABASE_URL: 'postgres://x' }, variable: 'DATABASE_URL' },
    { name: 'DATABASE_URL=./data/x.db (no scheme)', env: { DATABASE_URL: './data/x.db' }, variable: 'DATABASE_URL' },
    { name: 'PUBLIC_URL=notaurl', env: { PUBLIC_URL: 'notaurl' }, variable: 'PUBLIC_URL' },
    { name: 'PUBLIC_URL=ftp://files.example.com', env: { PUBLIC_URL: 'ftp://files.example.com' }, variable: 'PUBLIC_URL' },
    { name: 'LOG_LEVEL=loud', env: { LOG_LEVEL: 'loud' }, variable: 'LOG_LEVEL' },
    { name: 'NODE_ENV=staging', env: { NODE_ENV: 'staging' }, variable: 'NODE_ENV' },
    { name: 'TRUST_PROXY=-1', env: { TRUST_PROXY: '-1' }, variable: 'TRUST_PROXY' },
    { name: 'TRUST_PROXY=11', env: { TRUST_PROXY: '11' }, variable: 'TRUST_PROXY' },
    { name: 'TRUST_PROXY=yes', env: { TRUST_PROXY: 'yes' }, variable: 'TRUST_PROXY' },
    { name: 'CHECK_WORKERS=17', env: { CHECK_WORKERS: '17' }, variable: 'CHECK_WORKERS' },
    { name: 'CHECK_WORKERS=two', env: { CHECK_WORKERS: 'two' }, variable: 'CHECK_WORKERS' },
    {
      name: 'SMTP_URL in production without an https PUBLIC_URL',
      env: { NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example.com', PUBLIC_URL: 'http://consent.example.com' },
      variable: 'PUBLIC_URL',
    },
    { name: 'SMTP_URL in production with no PUBLIC_URL', env: { NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example.com' }, variable: 'PUBLIC_URL' },
    { name: 'WEBHOOK_ALLOW_PRIVATE=yes', env: { WEBHOOK_ALLOW_PRIVATE: 'yes' }, variable: 'WEBHOOK_ALLOW_PRIVATE' },
    { name: 'WEBHOOK_ALLOW_PRIVATE=true in production', env: { NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'true' }, variable: 'WEBHOOK_ALLOW_PRIVATE' },
  ];
  it('WEBHOOK_ALLOW_PRIVATE: off unless true outside production', async () => {
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET }, { dataDir: await dataDir() }).webhookAllowPrivate, false);
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' }, { dataDir: await dataDir() }).webhookAllowPrivate, true);
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'false' }, { dataDir: await dataDir() }).webhookAllowPrivate, false);
  });
  for (const c of cases) {
    it(c.name, async () => {
      const e = refused({ SAMTYKKE_SECRET: TEST_SECRET, ...c.env }, { dataDir: await dataDir() });
      assert.equal(e.variable, c.variable);
      assert.match(e.message, new RegExp(`^${c.variable}: \\S`));
      assert.ok(!e.message.includes(TEST_SECRET), 'the secret is never in an error');
    });
  }

  it('SAMTYKKE_SECRET shorter than 32 characters: named, value not shown', async () => {
    const short = 'Tiny-Secret-Val_42';
    const e = refused({ SAMTYKKE_SECRET: short }, { dataDir: await dataDir() });
    assert.equal(e.variable, 'SAMTYKKE_SECRET');
    assert.match(e.message, /^SAMTYKKE_SECRET: .*32/);
    assert.ok(!e.message.includes(short));
    assert.ok(!String(e.stack).includes(short));
  });

  it('a bad variable is reported even when the secret is fine, and the secret is not in the message', async () => {
    const e = refused({ SAMTYKKE_SECRET: TEST_SECRET, PUBLIC_URL: 'notaurl', PORT: '8080' }, { dataDir: await dataDir() });
    assert.equal(e.variable, 'PUBLIC_URL');
    assert.ok(!e.message.includes(TEST_SECRET));
  });
});

describe('loadConfig: the generated secret', () => {
  it('is created on first start as <dataDir>/secret, mode 0600, and reused afterwards', async () => {
    const dir = await dataDir();
    const first = loadConfig({}, { dataDir: dir });
    const file = join(dir, 'secret');
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(first.secret.length >= 32);
    assert.equal(readFileSync(file, 'utf8').trim(), first.secret);
    const second = loadConfig({}, { dataDir: dir });
    assert.equal(second.secret, first.secret);
    // Another data folder gets another secret: it is random, not derived.
    assert.notEqual(loadConfig({}, { dataDir: await dataDir() }).secret, first.secret);
  });

  it('SAMTYKKE_SECRET wins over the file', async () => {
    const dir = await dataDir();
    loadConfig({}, { dataDir: dir });
    assert.equal(loadConfig({ SAMTYKKE_SECRET: TEST_SECRET }, { dataDir: dir }).secret, TEST_SECRET);
  });

  it('with createSecret: false and no file, stops naming SAMTYKKE_SECRET and writes nothing', async () => {
    const dir = await dataDir();
    const e = refused({}, { dataDir: dir, createSecret: false });
    assert.equal(e.variable, 'SAMTYKKE_SECRET');
    assert.equal(existsSync(join(dir, 'secret')), false);
  });

  it('a secret file that is too short is refused without showing its content', async () => {
    const dir = await dataDir();
    loadConfig({ SAMTYKKE_SECRET: TEST_SECRET }, { dataDir: dir }); // creates the folder
    writeFileSync(join(dir, 'secret'), 'Short-File-Secret\n', { mode: 0o600 });
    const e = refused({}, { dataDir: dir });
    assert.equal(e.variable, 'SAMTYKKE_SECRET');
    assert.ok(!e.message.includes('Short-File-Secret'));
  });
});
