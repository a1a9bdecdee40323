/**
 * Privacy at rest and in logs: after consents with distinctive e-mails, phones and notes,
 * neither the raw database files nor the request log hold any of them in plaintext.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createApp } from '../../server/app';
import { makeApp, TEST_SECRET, type TestApp, json } from './helpers';


/** Each person: what is sent, and every plaintext form that must not be found at rest. */
const PEOPLE = [
  { email: 'Zelda.Quixotic-Privacy@Example-Secret.DK', phone: '+45 29 87 65 43', note: 'Spoke with Zelda Quixotic about her order', forms: ['zelda.quixotic-privacy@example-secret.dk', 'Zelda.Quixotic-Privacy', 'quixotic-privacy', '+4529876543', '29876543', '29 87 65 43', 'Zelda Quixotic'] },
  { email: 'xavier.plaintextcheck@example-secret.dk', phone: '31 41 59 26', note: 'Met Xavier Marmalade at the fair, booth 12', forms: ['xavier.plaintextcheck', 'plaintextcheck', '+4531415926', '31415926', 'Xavier Marmalade', 'booth 12'] },
  { email: 'yvonne@unguessable-domain-7731.dk', phone: '0045 42 71 82 81', note: 'Yvonne Vesterbro-Hemmelig, cpr not given', forms: ['yvonne@unguessable-domain-7731.dk', 'unguessable-domain-7731', '+4542718281', '42718281', 'Vesterbro-Hemmelig'] },
];

function readDatabaseFiles(file: string): Buffer {
  return Buffer.concat([file, `${file}-wal`, `${file}-shm`, `${file}-journal`].filter(existsSync).map((f) => readFileSync(f)));
}

function findings(bytes: Buffer, needles: string[]): string[] {
  const haystack = bytes.toString('latin1').toLowerCase();
  const utf16 = bytes.toString('utf16le').toLowerCase();
  return needles.filter((n) => haystack.includes(n.toLowerCase()) || utf16.includes(n.toLowerCase()));
}

/** The first consent each person gives, with their address in every field that could hold it. */
const signupBody = (p: (typeof PEOPLE)[number]) => ({
  email: p.email,
  purpose: 'e-marketing',
  action: 'grant',
  wordingVersion: 1,
  source: 'web-form',
  evidence: { pageUrl: `https://www.acme.dk/signup?email=${encodeURIComponent(p.email)}`, formId: 'footer', note: p.note },
});

describe('privacy', () => {
  let t: TestApp;
  const subjectIds: string[] = [];

  before(async () => {
    t = await makeApp();
    for (const [i, p] of PEOPLE.entries()) {
      const first = await json<{ subjectId: string }>(
        await t.call('POST', '/v1/sites/acme/consents', {
          body: signupBody(p),
          headers: { 'idempotency-key': `privacy-${i}` },
        }),
        201,
      );
      subjectIds.push(first.subjectId);
      // The phone arrives later, on its own and then with the e-mail.
      await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email: p.email, phone: p.phone, purpose: 'sales-and-service', action: 'grant', evidence: { note: p.note } } }), 201);
      await json(await t.call('POST', '/v1/sites/acme/consents', { body: { phone: p.phone, purpose: 'e-marketing', action: 'withdraw' }, headers: { 'idempotency-key': `privacy-phone-${i}` } }), 201);
      // Lookups and a refused request with the data in it.
      await json(await t.call('GET', `/v1/sites/acme/subjects?email=${encodeURIComponent(p.email)}`), 200);
      await json(await t.call('GET', `/v1/sites/acme/subjects?phone=${encodeURIComponent(p.phone)}`), 200);
      await t.call('POST', '/v1/sites/acme/consents', { body: { email: p.email, purpose: 'e-marketing', action: 'grant' } });
    }
    await t.services.queue.idle();
  });
  after(() => t.close());

  it('sanity: the data is there, readable through the API with pii:read', async () => {
    for (const [i, p] of PEOPLE.entries()) {
      const s = await json<{ id: string; email: string; phone: string; history: { evidence: { note?: string } | null }[] }>(
        await t.call('GET', `/v1/sites/acme/subjects/${subjectIds[i]}`),
        200,
      );
      assert.equal(s.email, p.email.toLowerCase());
      assert.equal(s.phone, p.forms.find((f) => f.startsWith('+45')));
      assert.equal(s.history[0]!.evidence?.note, p.note);
      assert.equal(s.history.length, 3);
    }
  });

  it('keeps no plaintext e-mail, phone or note in any table', async () => {
    const { rows: tables } = await t.database.client.execute("SELECT name FROM sqlite_master WHERE type = 'table'");
    assert.ok(tables.length > 5);
    const needles = PEOPLE.flatMap((p) => [p.email, p.note, ...p.forms]);
    for (const { name } of tables) {
      const { rows } = await t.database.client.execute(`SELECT * FROM "${String(name)}"`);
      const dump = JSON.stringify(rows);
      assert.deepEqual(findings(Buffer.from(dump), needles), [], `table ${String(name)}`);
    }
  });

  it('keeps no plaintext e-mail, phone or note in the raw database file, its WAL or shared memory', async () => {
    // First without a checkpoint: what sits in the WAL counts too.
    const needles = PEOPLE.flatMap((p) => [p.email, p.note, ...p.forms]);
    const walBytes = readDatabaseFiles(t.file);
    assert.ok(walBytes.length > 0);
    assert.deepEqual(findings(walBytes, needles), []);

    await t.database.client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(t.file);
    // Sanity: the file is the database and holds the data we expect in the clear.
    assert.equal(bytes.subarray(0, 15).toString('latin1'), 'SQLite format 3');
    assert.ok(bytes.includes(Buffer.from('Nyheder og tilbud')), 'wording texts are stored in the clear');
    assert.ok(bytes.includes(Buffer.from(subjectIds[0]!)), 'subject ids are stored');
    assert.deepEqual(findings(readDatabaseFiles(t.file), needles), []);
  });

  it('stores no unkeyed hash of a contact point that a dictionary could reverse', async () => {
    // What an attacker with the database but not SAMTYKKE_SECRET could compute from a list of addresses.
    const sha = (s: string) => createHash('sha256').update(s).digest();
    const candidates: Buffer[] = [];
    for (const p of PEOPLE) {
      for (const form of [p.email, p.email.toLowerCase(), ...p.forms]) {
        candidates.push(sha(form));
      }
    }
    const { rows } = await t.database.client.execute('SELECT * FROM idempotency_keys');
    assert.equal(rows.length, PEOPLE.length * 2, 'the idempotent requests were remembered');
    const bytes = readDatabaseFiles(t.file);
    for (const h of candidates) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        assert.ok(!bytes.includes(Buffer.from(h.toString(encoding))), `a plain SHA-256 of a contact point is stored (${encoding})`);
      }
      assert.ok(!bytes.includes(h), 'a raw SHA-256 of a contact point is stored');
    }
    // The idempotency fingerprint covers the whole request, e-mail included; it must be keyed
    // so that guessing the e-mail and the rest of the (predictable) request cannot confirm it.
    for (const [i, p] of PEOPLE.entries()) {
      const guess = createHash('sha256').update(`POST /v1/sites/acme/consents\n${JSON.stringify(signupBody(p))}`).digest('hex');
      const row = rows.find((r) => r.key === `privacy-${i}`);
      assert.ok(row);
      assert.notEqual(row.request_hash, guess, 'the stored fingerprint is a plain SHA-256 of the request');
      const phoneGuess = createHash('sha256')
        .update(`POST /v1/sites/acme/consents\n${JSON.stringify({ phone: p.phone, purpose: 'e-marketing', action: 'withdraw' })}`)
        .digest('hex');
      assert.notEqual(rows.find((r) => r.key === `privacy-phone-${i}`)!.request_hash, phoneGuess);
    }
  });

  it('writes no personal data into the request log', async () => {
    const { app } = createApp({ database: t.database, secret: TEST_SECRET, log: true });
    const checkKey = ((await (await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'log-check', scopes: ['check'] } })).json()) as { secret: string }).secret;
    const lines: string[] = [];
    const original = { log: console.log, error: console.error, warn: console.warn, info: console.info };
    const capture = (...args: unknown[]) => lines.push(args.map(String).join(' '));
    console.log = console.error = console.warn = console.info = capture;
    try {
      const p = PEOPLE[0]!;
      const auth = { authorization: `Bearer ${t.adminKey}` };
      const requests: [string, RequestInit][] = [
        [`/v1/sites/acme/subjects?email=${encodeURIComponent(p.email)}`, { headers: auth }],
        [`/v1/sites/acme/subjects?phone=${encodeURIComponent(p.phone)}`, { headers: auth }],
        [`/v1/sites/acme/subjects?email=${encodeURIComponent('unknown-' + p.email)}`, { headers: auth }],
        [
          '/v1/sites/acme/consents',
          {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json', 'user-agent': 'LogCheck Zelda Quixotic' },
            body: JSON.stringify({ email: p.email, phone: p.phone, purpose: 'sales-and-service', action: 'grant', evidence: { note: p.note } }),
          },
        ],
        ['/v1/sites/acme/consents', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ email: `${p.email}@@`, purpose: 'x' }) }],
        ['/v1/sites/acme/consents', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: `{"email":"${p.email}"` }],
        [`/v1/nope/${encodeURIComponent(p.email)}`, { headers: auth }],
        // The send check, answered in front of the app (app.ts): allowed or not, a malformed address, an unknown purpose, an unknown key.
        ...[`email=${encodeURIComponent(p.email)}&purpose=sales-and-service`, `email=${encodeURIComponent(p.email)}@@&purpose=e-marketing`, `email=${encodeURIComponent(p.email)}&purpose=nope`]
          .map((q): [string, RequestInit] => [`/v1/sites/acme/check?${q}`, { headers: { authorization: `Bearer ${checkKey}` } }]),
        [`/v1/sites/acme/check?email=${encodeURIComponent(p.email)}&purpose=e-marketing`, { headers: { authorization: 'Bearer sk_unknown' } }],
      ];
      for (const [path, init] of requests) await app.request(path, init);
    } finally {
      Object.assign(console, original);
    }
    assert.ok(lines.length >= 11, `one line per request (${lines.length})`);
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.equal(typeof parsed.status, 'number');
    }
    const checks = lines.map((l) => JSON.parse(l) as { route?: string; status: number }).filter((l) => l.route === '/v1/sites/:site/check');
    assert.deepEqual(checks.map((l) => l.status), [200, 400, 400, 401]);
    const log = lines.join('\n');
    const needles = PEOPLE.flatMap((p) => [p.email, encodeURIComponent(p.email), p.note, ...p.forms]);
    assert.deepEqual(findings(Buffer.from(log), needles), [], log);
    assert.ok(!log.includes('LogCheck'));
  });
});
