/**
 * The ledger's integrity: consents recorded through the API, then the raw database file
 * tampered with SQL; `verifyAll` (and the real `samtykke audit verify`) must name the
 * first bad row. Also: consent state follows the last event, migrations apply cleanly,
 * and concurrent writes share transactions.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate as drizzleMigrate } from 'drizzle-orm/libsql/migrator';
import { MIGRATIONS_FOLDER, migrate, openDatabase, type Database } from '../../server/db/client';
import * as schema from '../../server/db/schema';
import { createApp, createServices } from '../../server/app';
import { createSite } from '../../server/services/sites';
import { verifyAll, type ChainReport, type SiteReport } from '../../server/services/verify';
import { makeApp, TEST_SECRET, tempDir, type TestApp } from './helpers';

const BIN = fileURLToPath(new URL('../../bin/samtykke.mjs', import.meta.url));

const apps: TestApp[] = [];
const dirs: string[] = [];
after(async () => {
  for (const t of apps) await t.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function app(): Promise<TestApp> {
  const t = await makeApp();
  apps.push(t);
  return t;
}

interface Recorded {
  eventId: number;
  subjectId: string;
  seq: number;
  status: string;
}

async function record(t: TestApp, body: Record<string, unknown>): Promise<Recorded> {
  const res = await t.call('POST', '/v1/sites/acme/consents', { body });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as Recorded;
}

const grant = (email: string, extra: Record<string, unknown> = {}) => ({
  email,
  purpose: 'e-marketing',
  action: 'grant',
  wordingVersion: 1,
  evidence: { formId: `form-${email}`, pageUrl: 'https://acme.example/signup' },
  ...extra,
});

/** An app with `n` consents of n people, recorded one after another: event seq i is person i's grant. */
async function ledger(n = 5): Promise<TestApp> {
  const t = await app();
  for (let i = 1; i <= n; i++) {
    const r = await record(t, grant(`person${i}@example.dk`));
    assert.equal(r.seq, i);
  }
  return t;
}

async function sql(t: TestApp, statement: string, args: (string | number | null)[] = []) {
  return t.database.client.execute({ sql: statement, args });
}

async function idAt(t: TestApp, table: 'consent_events' | 'audit_log', seq: number): Promise<number> {
  const { rows } = await sql(t, `SELECT id FROM ${table} WHERE site_id = 'acme' AND seq = ?`, [seq]);
  assert.ok(rows[0], `${table} row ${seq} exists`);
  return Number(rows[0].id);
}

async function report(t: TestApp, site = 'acme'): Promise<SiteReport> {
  const reports = await verifyAll(t.database.db, t.services.crypto);
  const r = reports.find((s) => s.site === site);
  assert.ok(r, `a report for ${site}`);
  return r;
}

const chain = (r: SiteReport, name: ChainReport['chain']) => r.chains.find((c) => c.chain === name)!;

/** Asserts the chain is reported bad at exactly `seq` (and `id`, when given), for a reason matching `reason`. */
function assertBad(r: SiteReport, name: ChainReport['chain'], seq: number, reason: RegExp, id?: number | null) {
  assert.equal(r.ok, false, 'the site is reported bad');
  const c = chain(r, name);
  assert.equal(c.ok, false, `${name} is reported bad`);
  assert.ok(c.firstBad, 'names a first bad row');
  assert.equal(c.firstBad.seq, seq, `first bad row: ${JSON.stringify(c.firstBad)}`);
  assert.match(c.firstBad.reason, reason);
  if (id !== undefined) assert.equal(c.firstBad.id, id);
  const other = chain(r, name === 'consent_events' ? 'audit_log' : 'consent_events');
  assert.equal(other.ok, true, 'the other chain is untouched');
}

function cliVerify(t: TestApp, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `file:${t.file}`, SAMTYKKE_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' };
    for (const k of ['NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'PORT', 'PUBLIC_URL', 'DATABASE_AUTH_TOKEN', 'NODE_ENV']) delete env[k];
    const child = spawn(process.execPath, [BIN, 'audit', 'verify', ...args], { cwd: t.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('audit verify: an untouched ledger', () => {
  it('verifies ok with the right row counts and heads', async () => {
    const t = await ledger(5);
    const r = await report(t);
    assert.equal(r.ok, true);
    const { rows } = await sql(t, "SELECT ledger_seq, ledger_head, audit_seq, audit_head FROM sites WHERE id = 'acme'");
    const site = rows[0]!;
    const events = chain(r, 'consent_events');
    assert.deepEqual({ ok: events.ok, rows: events.rows, head: events.head }, { ok: true, rows: 5, head: String(site.ledger_head) });
    assert.equal(Number(site.ledger_seq), 5);
    const audit = chain(r, 'audit_log');
    const auditRows = Number((await sql(t, "SELECT count(*) AS n FROM audit_log WHERE site_id = 'acme'")).rows[0]!.n);
    assert.ok(auditRows >= 3, 'site creation wrote audit rows');
    assert.deepEqual({ ok: audit.ok, rows: audit.rows, head: audit.head }, { ok: true, rows: auditRows, head: String(site.audit_head) });
    assert.equal(Number(site.audit_seq), auditRows);
  });

  it('a new site with no consents verifies ok (empty chain)', async () => {
    const t = await app();
    const r = await report(t);
    assert.equal(r.ok, true);
    assert.equal(chain(r, 'consent_events').rows, 0);
    assert.equal(chain(r, 'consent_events').head, '');
  });
});

describe('audit verify: tampered consent events', () => {
  it('an edited action', async () => {
    const t = await ledger(5);
    const id = await idAt(t, 'consent_events', 3);
    await sql(t, "UPDATE consent_events SET action = 'withdraw' WHERE site_id = 'acme' AND seq = 3");
    assertBad(await report(t), 'consent_events', 3, /content does not match its hash/, id);
  });

  it('an edited time', async () => {
    const t = await ledger(5);
    const id = await idAt(t, 'consent_events', 2);
    await sql(t, "UPDATE consent_events SET occurred_at = occurred_at - 86400000 WHERE site_id = 'acme' AND seq = 2");
    assertBad(await report(t), 'consent_events', 2, /content does not match its hash/, id);
  });

  it('a consent moved to another person', async () => {
    const t = await ledger(5);
    await sql(t, "UPDATE consent_events SET subject_id = (SELECT subject_id FROM consent_events WHERE site_id = 'acme' AND seq = 1) WHERE site_id = 'acme' AND seq = 4");
    assertBad(await report(t), 'consent_events', 4, /content does not match its hash/);
  });

  it('evidence swapped between two rows', async () => {
    const t = await ledger(5);
    const id = await idAt(t, 'consent_events', 2);
    await sql(
      t,
      `UPDATE consent_events SET evidence = CASE seq
         WHEN 2 THEN (SELECT evidence FROM consent_events WHERE site_id = 'acme' AND seq = 4)
         ELSE (SELECT evidence FROM consent_events WHERE site_id = 'acme' AND seq = 2) END
       WHERE site_id = 'acme' AND seq IN (2, 4)`,
    );
    assertBad(await report(t), 'consent_events', 2, /evidence does not match its hash/, id);
  });

  it('garbled evidence', async () => {
    const t = await ledger(5);
    await sql(t, "UPDATE consent_events SET evidence = substr(evidence, 1, length(evidence) - 4) || 'AAAA' WHERE site_id = 'acme' AND seq = 3");
    assertBad(await report(t), 'consent_events', 3, /evidence cannot be decrypted/);
  });

  it('a deleted middle row', async () => {
    const t = await ledger(5);
    await sql(t, "DELETE FROM consent_events WHERE site_id = 'acme' AND seq = 3");
    assertBad(await report(t), 'consent_events', 3, /row 3 is missing/, null);
  });

  it('a deleted first row', async () => {
    const t = await ledger(3);
    await sql(t, "DELETE FROM consent_events WHERE site_id = 'acme' AND seq = 1");
    assertBad(await report(t), 'consent_events', 1, /row 1 is missing/, null);
  });

  it('a deleted last row (caught by the head recorded with the site)', async () => {
    const t = await ledger(5);
    await sql(t, "DELETE FROM consent_events WHERE site_id = 'acme' AND seq = 5");
    const r = await report(t);
    assertBad(r, 'consent_events', 5, /removed at the end/, null);
    assert.equal(chain(r, 'consent_events').rows, 4);
  });

  it('every row deleted', async () => {
    const t = await ledger(2);
    await sql(t, "DELETE FROM consent_events WHERE site_id = 'acme'");
    assertBad(await report(t), 'consent_events', 1, /removed at the end/, null);
  });

  it('two rows swapped (their seq exchanged)', async () => {
    const t = await ledger(5);
    const id3 = await idAt(t, 'consent_events', 3);
    await sql(t, "UPDATE consent_events SET seq = 1000000 WHERE site_id = 'acme' AND seq = 2");
    await sql(t, "UPDATE consent_events SET seq = 2 WHERE site_id = 'acme' AND seq = 3");
    await sql(t, "UPDATE consent_events SET seq = 3 WHERE site_id = 'acme' AND seq = 1000000");
    // Row 2 is now the old row 3: its prev_hash points at the old row 2, not at row 1.
    assertBad(await report(t), 'consent_events', 2, /prev_hash does not match/, id3);
  });

  it('evidence set to NULL without an erasure (scrubbed_at not set)', async () => {
    const t = await ledger(5);
    const id = await idAt(t, 'consent_events', 4);
    await sql(t, "UPDATE consent_events SET evidence = NULL WHERE site_id = 'acme' AND seq = 4");
    assertBad(await report(t), 'consent_events', 4, /evidence removed without an erasure/, id);
  });

  it('evidence set to NULL with scrubbed_at, but no erasure of the person recorded', async () => {
    const t = await ledger(5);
    const id = await idAt(t, 'consent_events', 4);
    await sql(t, "UPDATE consent_events SET evidence = NULL, scrubbed_at = 1 WHERE site_id = 'acme' AND seq = 4");
    assertBad(await report(t), 'consent_events', 4, /no erasure of this person/, id);
  });

  it("evidence scrubbed from a visitor's cookie choice (no person, so no erasure can explain it)", async () => {
    const t = await ledger(1);
    // A visitor's choice through the public banner API, naming the texts its config showed.
    const config = (await (await t.call('GET', '/v1/sites/acme/config?lang=en', { key: null })).json()) as {
      lang: string;
      revision: string;
      banner: { version: number; sha256: string };
      categories: { key: string; required: boolean; version: number; sha256: string }[];
    };
    const res = await t.call('POST', '/v1/sites/acme/cookie-consents', {
      key: null,
      body: {
        consentId: randomUUID(),
        categories: Object.fromEntries(config.categories.filter((c) => !c.required).map((c) => [c.key, true])),
        wordings: [
          { purpose: 'cookie-banner', version: config.banner.version, lang: config.lang, sha256: config.banner.sha256 },
          ...config.categories.map((c) => ({ purpose: c.key, version: c.version, lang: config.lang, sha256: c.sha256 })),
        ],
        revision: config.revision,
        gpc: false,
        pageUrl: 'https://acme.example/',
      },
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { rows } = await sql(t, "SELECT seq, id FROM consent_events WHERE site_id = 'acme' AND visitor_id IS NOT NULL ORDER BY seq LIMIT 1");
    assert.ok(rows[0], 'a visitor event was recorded');
    assert.equal((await report(t)).ok, true);
    await sql(t, 'UPDATE consent_events SET evidence = NULL, scrubbed_at = 1 WHERE id = ?', [Number(rows[0].id)]);
    assertBad(await report(t), 'consent_events', Number(rows[0].seq), /no person/, Number(rows[0].id));
  });

  it('a row appended past the head recorded with the site', async () => {
    const t = await ledger(5);
    // The chain itself is intact up to row 5, but the site's head says the ledger ended at row 4.
    await sql(
      t,
      "UPDATE sites SET ledger_seq = 4, ledger_head = (SELECT hash FROM consent_events WHERE site_id = 'acme' AND seq = 4) WHERE id = 'acme'",
    );
    const r = await report(t);
    assertBad(r, 'consent_events', 5, /added after the recorded head/, null);
  });

  it('the head recorded with the site edited', async () => {
    const t = await ledger(3);
    await sql(t, "UPDATE sites SET ledger_head = 'f00d' WHERE id = 'acme'");
    assertBad(await report(t), 'consent_events', 3, /head recorded with the site/);
  });

  it('tampering in one site leaves another site ok', async () => {
    const t = await ledger(3);
    await createSite(createServices({ database: t.database, secret: TEST_SECRET }), { id: 'shop', name: 'Shop' }, 'test');
    await sql(t, "UPDATE consent_events SET action = 'object' WHERE site_id = 'acme' AND seq = 1");
    assertBad(await report(t), 'consent_events', 1, /content does not match/);
    assert.equal((await report(t, 'shop')).ok, true);
  });
});

describe('audit verify: tampered audit log', () => {
  it('an edited audit row', async () => {
    const t = await ledger(1);
    const id = await idAt(t, 'audit_log', 2);
    await sql(t, "UPDATE audit_log SET actor = 'someone-else' WHERE site_id = 'acme' AND seq = 2");
    assertBad(await report(t), 'audit_log', 2, /content does not match its hash/, id);
  });

  it('edited audit details', async () => {
    const t = await ledger(1);
    await sql(t, "UPDATE audit_log SET details = '{\"name\":\"other\"}' WHERE site_id = 'acme' AND seq = 1");
    assertBad(await report(t), 'audit_log', 1, /content does not match its hash/);
  });

  it('a deleted audit row in the middle', async () => {
    const t = await ledger(1);
    await sql(t, "DELETE FROM audit_log WHERE site_id = 'acme' AND seq = 2");
    assertBad(await report(t), 'audit_log', 2, /row 2 is missing/, null);
  });

  it('the last audit row deleted', async () => {
    const t = await ledger(1);
    const last = Number((await sql(t, "SELECT audit_seq FROM sites WHERE id = 'acme'")).rows[0]!.audit_seq);
    await sql(t, "DELETE FROM audit_log WHERE site_id = 'acme' AND seq = ?", [last]);
    assertBad(await report(t), 'audit_log', last, /removed at the end/, null);
  });
});

describe('samtykke audit verify (the real CLI) on a tampered file', () => {
  it('exits 0 before, then exits 1 and names the bad row', async () => {
    const t = await ledger(4);
    const clean = await cliVerify(t);
    assert.equal(clean.code, 0, clean.stderr + clean.stdout);
    assert.match(clean.stdout, /^ok {4}acme consent_events: 4 rows/m);

    const id = await idAt(t, 'consent_events', 3);
    await sql(t, "UPDATE consent_events SET action = 'withdraw' WHERE site_id = 'acme' AND seq = 3");
    const [words, json] = await Promise.all([cliVerify(t), cliVerify(t, ['--json'])]);
    assert.equal(words.code, 1, words.stderr);
    assert.match(words.stdout, new RegExp(`^BAD {3}acme consent_events: row 3 \\(id ${id}\\): row content does not match its hash`, 'm'));
    assert.match(words.stdout, /^ok {4}acme audit_log:/m);

    assert.equal(json.code, 1);
    const out = JSON.parse(json.stdout) as { ok: boolean; sites: SiteReport[] };
    assert.equal(out.ok, false);
    assert.deepEqual(chain(out.sites[0]!, 'consent_events').firstBad, { seq: 3, id, reason: 'row content does not match its hash (edited)' });
  });
});

describe('consent state', () => {
  /** Every state row next to the last event of its (subject, purpose). */
  async function statesWithLastEvents(t: TestApp) {
    const { rows } = await sql(
      t,
      `SELECT s.subject_id, s.purpose_id, s.status, s.event_id, s.wording_version_id AS s_wording, s.source_id AS s_source,
              e.id AS e_id, e.action, e.wording_version_id AS e_wording, e.source_id AS e_source
         FROM consent_states s
         JOIN consent_events e ON e.seq = (SELECT max(seq) FROM consent_events x
                                            WHERE x.site_id = e.site_id AND x.subject_id = s.subject_id AND x.purpose_id = s.purpose_id)
                              AND e.subject_id = s.subject_id AND e.purpose_id = s.purpose_id`,
    );
    return rows;
  }

  const STATUS = { grant: 'granted', withdraw: 'withdrawn', object: 'objected' } as Record<string, string>;

  async function assertStatesFollowLastEvents(t: TestApp) {
    const rows = await statesWithLastEvents(t);
    const pairs = Number((await sql(t, 'SELECT count(*) AS n FROM (SELECT DISTINCT subject_id, purpose_id FROM consent_events WHERE subject_id IS NOT NULL)')).rows[0]!.n);
    const states = Number((await sql(t, 'SELECT count(*) AS n FROM consent_states')).rows[0]!.n);
    assert.equal(states, pairs, 'one state row per (subject, purpose) with events');
    assert.equal(rows.length, states);
    for (const r of rows) {
      assert.equal(r.event_id, r.e_id, 'the state points at the last event');
      assert.equal(r.status, STATUS[String(r.action)], 'the status is what the last event did');
      assert.equal(r.s_source, r.e_source);
      if (r.e_wording !== null) assert.equal(r.s_wording, r.e_wording);
    }
    return rows;
  }

  it('grant → withdraw → grant: the state row follows each last event', async () => {
    const t = await app();
    const email = 'state@example.dk';
    const steps: [string, Record<string, unknown>][] = [
      ['granted', grant(email)],
      ['withdrawn', { email, purpose: 'e-marketing', action: 'withdraw', source: 'email-link' }],
      ['granted', grant(email, { source: 'web-form' })],
    ];
    let subjectId = '';
    for (const [status, body] of steps) {
      const r = await record(t, body);
      subjectId ||= r.subjectId;
      assert.equal(r.subjectId, subjectId, 'the same person');
      assert.equal(r.status, status);
      const rows = await assertStatesFollowLastEvents(t);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.status, status);
      assert.equal(rows[0]!.event_id, r.eventId);
    }
    const person = (await (await t.call('GET', `/v1/sites/acme/subjects/${subjectId}`)).json()) as {
      consents: { purpose: string; status: string; source: string | null }[];
      history: unknown[];
    };
    assert.equal(person.history.length, 3);
    const c = person.consents.find((x) => x.purpose === 'e-marketing')!;
    assert.equal(c.status, 'granted');
    assert.equal(c.source, 'web-form');
  });

  it('concurrent changes of one person in one transaction: the state is the last event by sequence', async () => {
    const t = await app();
    const email = 'busy@example.dk';
    await record(t, grant(email));
    const actions = ['withdraw', 'grant', 'object', 'withdraw', 'grant', 'object', 'grant', 'withdraw'];
    await Promise.all(actions.map((action) => record(t, { email, purpose: 'e-marketing', action, ...(action === 'grant' ? { wordingVersion: 1 } : {}) })));
    // And another purpose of the same person, alongside.
    await Promise.all([
      record(t, { email, purpose: 'sales-and-service', action: 'grant' }),
      record(t, { email, purpose: 'sales-and-service', action: 'object' }),
    ]);
    const rows = await assertStatesFollowLastEvents(t);
    assert.equal(rows.length, 2);
    assert.equal((await report(t)).ok, true);
  });
});

describe('migrations', () => {
  async function tablesAndColumns(database: Database): Promise<Record<string, string[]>> {
    const { rows } = await database.client.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
    const out: Record<string, string[]> = {};
    for (const r of rows) {
      const cols = await database.client.execute(`PRAGMA table_info(${JSON.stringify(String(r.name))})`);
      out[String(r.name)] = cols.rows.map((c) => `${c.name} ${c.type} ${c.notnull} ${c.dflt_value} ${c.pk}`);
    }
    return out;
  }

  const journal = () =>
    JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };

  async function freshFile(): Promise<string> {
    const dir = await tempDir('samtykke-migrate-');
    dirs.push(dir);
    return join(dir, 'm.db');
  }

  it('apply to an empty database; a second migrate() is a no-op', async () => {
    const database = await openDatabase({ url: `file:${await freshFile()}` });
    try {
      await migrate(database);
      const first = await tablesAndColumns(database);
      for (const table of ['sites', 'purposes', 'wording_versions', 'wording_texts', 'sources', 'subjects', 'consent_events', 'consent_states', 'suppressions', 'api_keys', 'audit_log']) {
        assert.ok(first[table], `table ${table}`);
      }
      const applied = async () => (await database.client.execute('SELECT hash, created_at FROM __drizzle_migrations ORDER BY id')).rows.map((r) => `${r.hash}@${r.created_at}`);
      const once = await applied();
      assert.equal(once.length, journal().entries.length);
      const schemaSql = async () => (await database.client.execute('SELECT type, name, sql FROM sqlite_master ORDER BY type, name')).rows.map((r) => `${r.type} ${r.name} ${r.sql}`);
      const before = await schemaSql();
      await migrate(database);
      assert.deepEqual(await applied(), once, 'nothing applied twice');
      assert.deepEqual(await schemaSql(), before, 'schema unchanged');
    } finally {
      database.close();
    }
  });

  it('apply on top of every earlier migration, keeping the data, to the same schema as a fresh database', async () => {
    const entries = journal().entries;
    const fresh = await openDatabase({ url: `file:${await freshFile()}` });
    let expected: Record<string, string[]>;
    try {
      await migrate(fresh);
      expected = await tablesAndColumns(fresh);
    } finally {
      fresh.close();
    }
    for (let k = 1; k < entries.length; k++) {
      // A migrations folder as it was after the first k migrations.
      const parent = await tempDir('samtykke-migrations-');
      dirs.push(parent);
      const folder = join(parent, 'migrations');
      mkdirSync(join(folder, 'meta'), { recursive: true });
      const full = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
      writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify({ ...full, entries: full.entries.slice(0, k) }));
      for (const e of full.entries.slice(0, k)) copyFileSync(join(MIGRATIONS_FOLDER, `${e.tag}.sql`), join(folder, `${e.tag}.sql`));

      const database = await openDatabase({ url: `file:${await freshFile()}` });
      try {
        await drizzleMigrate(drizzle(database.writer, { schema }), { migrationsFolder: folder });
        await database.client.execute("INSERT INTO sites (id, name, created_at) VALUES ('old', 'Old site', 1)");
        await migrate(database);
        assert.deepEqual(await tablesAndColumns(database), expected, `after ${k} migration(s), then all`);
        const { rows } = await database.client.execute("SELECT name FROM sites WHERE id = 'old'");
        assert.equal(rows[0]?.name, 'Old site', 'data kept');
        const applied = await database.client.execute('SELECT count(*) AS n FROM __drizzle_migrations');
        assert.equal(Number(applied.rows[0]!.n), entries.length);
      } finally {
        database.close();
      }
    }
  });
});

describe('migration 0009', () => {
  it('puts people restricted before it on the suppression list, one restricted entry per address', async () => {
    const full = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    const k = full.entries.findIndex((e) => e.tag.startsWith('0009_'));
    assert.ok(k > 0);
    const parent = await tempDir('samtykke-migrations-');
    dirs.push(parent);
    const folder = join(parent, 'migrations');
    mkdirSync(join(folder, 'meta'), { recursive: true });
    writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify({ ...full, entries: full.entries.slice(0, k) }));
    for (const e of full.entries.slice(0, k)) copyFileSync(join(MIGRATIONS_FOLDER, `${e.tag}.sql`), join(folder, `${e.tag}.sql`));
    const dir = await tempDir('samtykke-migrate-');
    dirs.push(dir);
    const database = await openDatabase({ url: `file:${join(dir, 'm.db')}` });
    try {
      await drizzleMigrate(drizzle(database.writer, { schema }), { migrationsFolder: folder });
      await database.client.execute("INSERT INTO sites (id, name, created_at) VALUES ('old', 'Old site', 1)");
      const person = (id: string, email: string | null, phone: string | null, restricted: number, erasedAt: number | null) =>
        database.client.execute({
          sql: 'INSERT INTO subjects (id, site_id, email_bidx, phone_bidx, restricted, erased_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, 1)',
          args: [id, 'old', email, phone, restricted, erasedAt],
        });
      await person('both', 'e-both', 'p-both', 1, null);
      await person('mail-only', 'e-mail-only', null, 1, null);
      await person('free', 'e-free', 'p-free', 0, null);
      await person('erased', null, null, 1, 5);
      await migrate(database);
      const { rows } = await database.client.execute("SELECT channel, bidx, list, purpose_id FROM suppressions WHERE reason = 'restricted' ORDER BY bidx");
      assert.deepEqual(
        rows.map((r) => [r.channel, r.bidx, r.list, r.purpose_id]),
        [
          ['email', 'e-both', '', null],
          ['email', 'e-mail-only', '', null],
          ['sms', 'p-both', '', null],
        ],
      );
    } finally {
      database.close();
    }
  });
});

describe('write queue', () => {
  it('100 concurrent consents share a few transactions, and all 100 events are there, chained', async () => {
    const t = await app();
    const before = { ...t.services.queue.stats };
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => record(t, grant(`many${i}@example.dk`))));
    const transactions = t.services.queue.stats.transactions - before.transactions;
    assert.ok(transactions < 20, `${transactions} transactions for 100 consents`);
    assert.ok(transactions >= 1);
    assert.equal(t.services.queue.stats.jobs - before.jobs, 100);
    assert.deepEqual(
      results.map((r) => r.seq).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 1),
      'each answer names its own sequence number',
    );
    const { rows } = await sql(t, "SELECT count(*) AS n, count(DISTINCT subject_id) AS people FROM consent_events WHERE site_id = 'acme'");
    assert.equal(Number(rows[0]!.n), 100);
    assert.equal(Number(rows[0]!.people), 100);
    const r = await report(t);
    assert.equal(r.ok, true);
    assert.equal(chain(r, 'consent_events').rows, 100);
  });

  it('two app instances on one database file write concurrently into one intact chain', async () => {
    const t = await app();
    const database = await openDatabase({ url: `file:${t.file}` });
    const second = createApp({ database, secret: TEST_SECRET });
    try {
      const post = (a: { request: TestApp['app']['request'] }, email: string) =>
        Promise.resolve(
          a.request('/v1/sites/acme/consents', {
            method: 'POST',
            headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
            body: JSON.stringify(grant(email)),
          }),
        );
      const responses = await Promise.all(
        Array.from({ length: 60 }, (_, i) => post(i % 2 === 0 ? t.app : second.app, `twice${i}@example.dk`)),
      );
      assert.deepEqual(responses.map((r) => r.status), Array(60).fill(201));
      const seqs = (await Promise.all(responses.map(async (r) => ((await r.json()) as Recorded).seq))).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: 60 }, (_, i) => i + 1));
      const r = await report(t);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(chain(r, 'consent_events').rows, 60);
    } finally {
      await second.services.queue.idle();
      database.close();
    }
  });
});
