/**
 * The send checks' in-memory index (services/check-index.ts) stays exact: what another
 * instance (a second connection to the same file) writes is answered by the very next
 * check, and an index whose change log was trimmed past it gives way to the database
 * until it is rebuilt. (check.test.ts runs every reason through the index and the
 * database alike and compares them with a freshly built index.)
 */
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { createApp } from '../../server/app';
import { openDatabase, type Database } from '../../server/db/client';
import { checkPlan } from '../../server/services/check';
import { checkIndexFor } from '../../server/services/check-index';
import { checkReader, EXTERNAL_WRITES_SEEN_WITHIN_MS } from '../../server/services/check-reader';
import { json, makeApp, TEST_SECRET, type TestApp } from './helpers';

/** The native binding under @libsql/client: synchronous writes that land exactly between two steps of a build. */
const Native = createRequire(import.meta.resolve('@libsql/client'))('libsql') as new (file: string, options: { timeout: number }) => {
  prepare(sql: string): { run(...args: unknown[]): unknown };
  close(): void;
};

describe('check index', () => {
  let t: TestApp;
  let other: { database: Database; call: (method: string, path: string, body?: string | object, type?: string) => Promise<Response> };
  let checkKey: string;

  const verdict = async (email: string, purpose = 'e-marketing') =>
    json<{ allowed: boolean; reason: string }>(await t.call('GET', `/v1/sites/acme/check?purpose=${purpose}&email=${encodeURIComponent(email)}`, { key: checkKey }), 200);
  const index = async () => {
    const plan = await checkPlan(t.services, 'acme', 'e-marketing');
    return checkIndexFor(checkReader(t.services), 'acme', plan.purpose.id, false)!;
  };

  before(async () => {
    t = await makeApp({ app: { checkIndex: 'await' } });
    checkKey = (await json<{ secret: string }>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'checker', scopes: ['check'] } }), 201)).secret;
    // Another instance: its own connections to the same file, its own app.
    const database = await openDatabase({ url: `file:${t.file}` });
    const { app } = createApp({ database, secret: TEST_SECRET, checkIndex: 'await' });
    other = {
      database,
      call: (method, path, body, type = 'application/json') =>
        Promise.resolve(
          app.request(path, {
            method,
            headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': type },
            body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
          }),
        ),
    };
    // The first check builds the index (on an empty site).
    assert.equal((await verdict('anna@example.dk')).reason, 'no-consent');
    assert.ok((await index()).ready);
  });
  after(async () => {
    other.database.close();
    await t.close();
  });

  it('answers what another instance wrote with the very next check', async () => {
    await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'anna@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
    assert.deepEqual(await verdict('anna@example.dk').then((v) => [v.allowed, v.reason]), [true, 'consented']);
    await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'anna@example.dk', purpose: 'e-marketing', action: 'withdraw' }), 201);
    assert.equal((await verdict('anna@example.dk')).reason, 'withdrawn');
    // A do-not-contact list imported elsewhere blocks at once, for a known and an unknown address.
    await json(await other.call('POST', '/v1/sites/acme/suppressions/import?list=robinson', 'anna@example.dk\nbo@example.dk\n', 'text/csv'), 200);
    assert.equal((await verdict('anna@example.dk')).reason, 'listed');
    assert.equal((await verdict('bo@example.dk')).reason, 'listed');
    // The answers came from memory: the index is up to date without a rebuild.
    assert.equal((await index()).refresh(), true);
  });

  it('follows a person whose address changed: the old address is nobody now', async () => {
    await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'cleo@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
    assert.equal((await verdict('cleo@example.dk')).reason, 'consented');
    const { id } = await json<{ id: string }>(await t.call('GET', '/v1/sites/acme/subjects?email=cleo%40example.dk'), 200);
    // Rewritten by the other connection, as a migration or an admin tool might.
    const moved = t.services.crypto.blindIndex('acme', 'email', 'cleo.new@example.dk');
    await other.database.client.execute({ sql: 'UPDATE subjects SET email_bidx = ? WHERE id = ?', args: [moved, id] });
    // A check reflects what was committed before its event-loop turn began (the change log is
    // read once a turn): this commit, made inside the current turn, counts from the next.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await verdict('cleo@example.dk')).reason, 'no-consent');
    assert.equal((await verdict('cleo.new@example.dk')).reason, 'consented');
  });

  it('gives way to the database when its change log was trimmed past it, and is rebuilt', async () => {
    const idx = await index();
    assert.equal(idx.refresh(), true);
    await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'dora@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
    await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'emil@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
    // Keep only the newest entry: dora's changes are gone from the log before the index saw them.
    await other.database.client.execute({ sql: 'DELETE FROM check_changes WHERE seq < (SELECT max(seq) FROM check_changes)', args: [] });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idx.refresh(), false, 'the index knows it missed changes');
    // Answered by the database meanwhile, and right.
    assert.equal((await verdict('dora@example.dk')).reason, 'consented');
    await idx.build();
    assert.equal(idx.refresh(), true);
    assert.equal((await verdict('dora@example.dk')).reason, 'consented');
    assert.equal((await verdict('emil@example.dk')).reason, 'consented');
  });

  it('is trimmed by the retention job to its last day, keeping the newest entry', async () => {
    const { runRetention } = await import('../../server/services/retention');
    const { createServices } = await import('../../server/app');
    const count = async () => Number((await t.database.client.execute('SELECT count(*), count(at) FROM check_changes')).rows[0]![0]);
    await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'fred@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
    assert.equal((await verdict('fred@example.dk')).reason, 'consented');
    const before = await count();
    assert.ok(before > 1);
    assert.equal(Number((await t.database.client.execute('SELECT count(*) FROM check_changes WHERE at IS NULL')).rows[0]![0]), 0, 'every entry has its time');
    assert.equal((await runRetention(t.services)).checkChanges, 0, 'all from today, fewer than kept: nothing trimmed');
    // A day later: every entry but the newest goes (it links people's ids to their blind indexes).
    const later = createServices({ database: t.database, secret: TEST_SECRET, now: () => Date.now() + 25 * 60 * 60 * 1000 });
    assert.equal((await runRetention(later)).checkChanges, before - 1);
    assert.equal(await count(), 1);
    // The index had seen everything: it goes on answering from memory.
    const idx = await index();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idx.refresh(), true);
    assert.equal((await verdict('emil@example.dk')).reason, 'consented');
  });

  it('keeps every row when rows are added while it is being built (sized from counts taken first)', async () => {
    // 1000 people with a phone: the build's first phone page is full, so it yields a turn.
    const native = new Native(t.file, { timeout: 5000 });
    try {
      const insert = native.prepare("INSERT INTO subjects (id, site_id, phone_bidx, restricted, created_at, updated_at) VALUES (?, 'acme', ?, 0, 0, 0)");
      for (let i = 0; i < 1000; i++) insert.run(`phone-only-${i}`, randomBytes(32).toString('base64url'));
      await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'gus@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
      await json(await other.call('POST', '/v1/sites/acme/suppressions/import?list=robinson', 'gus@example.dk\n', 'text/csv'), 200);
      const idx = await index();
      const building = idx.build(); // counts taken, the first page read; now waiting for a turn
      // Meanwhile a suppression whose blind index sorts before every other, and a person likewise.
      native.prepare("INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ('acme', 'email', ?, 'bounced', '', NULL, 1)").run('-'.repeat(43));
      native.prepare("INSERT INTO subjects (id, site_id, email_bidx, restricted, created_at, updated_at) VALUES ('first-person', 'acme', ?, 0, 0, 0)").run('-'.repeat(43));
      await building;
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(idx.refresh(), true, 'answered from memory');
      // Gus's list entry and consent were there before the build: none is pushed out.
      assert.equal((await verdict('gus@example.dk')).reason, 'listed');
      for (const email of ['anna@example.dk', 'bo@example.dk', 'cleo@example.dk', 'cleo.new@example.dk', 'dora@example.dk', 'emil@example.dk', 'fred@example.dk', 'gus@example.dk']) {
        const database = createApp({ database: t.database, secret: TEST_SECRET, checkIndex: false }).app;
        const expected = await json<{ reason: string }>(
          await database.request(`/v1/sites/acme/check?purpose=e-marketing&email=${encodeURIComponent(email)}`, { headers: { authorization: `Bearer ${checkKey}` } }),
          200,
        );
        assert.equal((await verdict(email)).reason, expected.reason, email);
      }
    } finally {
      native.close();
    }
  });

  it('answers a write this process acknowledged with the very next check, whenever in the event loop it committed', async () => {
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email: 'hans@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 } }), 201);
    assert.equal((await verdict('hans@example.dk')).reason, 'consented');
    // fs callbacks run in the poll phase: there data_version is read (a request's key), a
    // check follows in the check phase, and the write queue commits the withdrawal after it,
    // in that same check phase. The caller, told 201, checks at once, in the next poll
    // phase, well within the time a data_version read is reused.
    const [status, reason] = await new Promise<[number, string]>((resolve, reject) => {
      setTimeout(() =>
        stat(t.file, () => {
          checkReader(t.services).sync!.version();
          setImmediate(() => void verdict('hans@example.dk').catch(reject));
          void t
            .call('POST', '/v1/sites/acme/consents', { body: { email: 'hans@example.dk', purpose: 'e-marketing', action: 'withdraw' } })
            .then((res) => stat(t.file, () => void verdict('hans@example.dk').then((v) => resolve([res.status, v.reason]), reject)), reject);
        }),
      );
    });
    assert.deepEqual([status, reason], [201, 'withdrawn']);
  });

  it(`sees a write committed elsewhere ${EXTERNAL_WRITES_SEEN_WITHIN_MS} ms before a check, even late in a long turn`, async () => {
    await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'ida@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
    const bidx = t.services.crypto.blindIndex('acme', 'email', 'ida@example.dk');
    const native = new Native(t.file, { timeout: 5000 });
    // A socket pair: what the client writes is read in a poll phase, as a request is.
    let serverSide: Socket | undefined;
    const server = createServer((socket) => (serverSide = socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    await new Promise<void>((resolve) => client.on('connect', resolve));
    while (!serverSide) await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      const reason = await new Promise<string>((resolve, reject) => {
        setImmediate(async () => {
          try {
            // A check in the check phase (a bulk check's later slice runs there), which reads data_version ...
            assert.equal((await verdict('ida@example.dk')).reason, 'consented');
            // ... then another process lists the address, and the sender asks a little later: in
            // the next poll phase, still the same turn.
            native.prepare("INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ('acme', 'email', ?, 'listed', 'robinson', NULL, 1)").run(bidx);
            const until = performance.now() + EXTERNAL_WRITES_SEEN_WITHIN_MS + 1;
            while (performance.now() < until);
            serverSide!.once('data', () => void verdict('ida@example.dk').then((v) => resolve(v.reason), reject));
            client.write('GET /check');
          } catch (error) {
            reject(error);
          }
        });
      });
      assert.equal(reason, 'listed');
    } finally {
      client.destroy();
      serverSide?.destroy();
      server.close();
      native.close();
    }
  });

  it('gives way to the database when the change log was emptied by hand', async () => {
    await json(await other.call('POST', '/v1/sites/acme/consents', { email: 'jens@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
    assert.equal((await verdict('jens@example.dk')).reason, 'consented');
    const native = new Native(t.file, { timeout: 5000 });
    try {
      const bidx = t.services.crypto.blindIndex('acme', 'email', 'jens@example.dk');
      native.prepare("UPDATE consent_states SET status = 'withdrawn' WHERE subject_id = (SELECT id FROM subjects WHERE email_bidx = ?)").run(bidx);
      native.prepare('DELETE FROM check_changes').run();
    } finally {
      native.close();
    }
    // Written elsewhere: seen once the last data_version read is old enough.
    await new Promise((resolve) => setTimeout(resolve, EXTERNAL_WRITES_SEEN_WITHIN_MS + 1));
    assert.equal((await index()).refresh(), false, 'the index knows it missed changes');
    assert.equal((await verdict('jens@example.dk')).reason, 'withdrawn');
  });
});
