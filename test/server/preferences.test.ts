/**
 * The preference routes with a link token: view, toggles with wording hashes, unsubscribe,
 * rectification (name at once, e-mail after confirmation), restriction, export, erasure;
 * magic links; and nothing readable left after erasure.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createCrypto } from '../../server/services/crypto';
import { authenticatePerson, exportPerson } from '../../server/services/preferences';
import { signToken } from '../../server/services/tokens';
import { verifyAll } from '../../server/services/verify';
import type { PreferencesView } from '../../shared/subscriptions';
import { expectError, json, makeApp, TEST_SECRET, type TestApp } from './helpers';
import {
  bodyFor,
  form,
  freshIp,
  linkIn,
  mailsTo,
  pathOf,
  prefsToken,
  request,
  signup,
  signUpConfirmed,
  snapshot,
  statusOf,
  subjectByEmail,
  tokenOf,
} from './subscription-helpers';

function me(t: TestApp, token: string | null, method = 'GET', path = '', body?: unknown, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  return request(t, `/v1/sites/acme/me${path}`, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
}

async function view(t: TestApp, token: string, method = 'GET', path = '', body?: unknown): Promise<PreferencesView> {
  const res = await me(t, token, method, path, body);
  const v = await json<PreferencesView>(res, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return v;
}

const purpose = (v: PreferencesView, key: string) => v.purposes.find((p) => p.key === key)!;

describe('preference page API', () => {
  let t: TestApp;
  let now = Date.parse('2026-05-01T08:00:00Z');
  const email = 'prefs.person@example.dk';
  let token: string;

  before(async () => {
    t = await makeApp({ now: () => now });
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { controllerEmail: 'dpo@acme.dk' } }), 200);
    await signUpConfirmed(t, email, 'e-marketing', { name: 'Petra Prefs' });
    token = await prefsToken(t, email);
  });
  after(() => t.close());

  it('shows the person, their purposes with the wording agreed to and the current one, and when the token expires', async () => {
    const v = await view(t, token);
    assert.deepEqual(v.site, { id: 'acme', name: 'Acme', privacyPolicyUrl: null, controllerEmail: 'dpo@acme.dk' });
    assert.equal(v.lang, 'da');
    assert.deepEqual(v.person, { email, phone: null, name: 'Petra Prefs', restricted: false, pendingEmailChange: false });
    const em = purpose(v, 'e-marketing');
    assert.equal(em.status, 'granted');
    assert.equal(em.needsConsent, true);
    assert.equal(em.channel, 'email');
    assert.equal(em.agreed?.version, 1);
    assert.equal(em.current?.version, 1);
    assert.match(em.current!.sha256, /^[0-9a-f]{64}$/);
    assert.equal(em.blocked, null);
    assert.equal(em.source, 'web-form');
    const sales = purpose(v, 'sales-and-service');
    assert.equal(sales.needsConsent, false);
    assert.equal(sales.status, 'none');
    assert.ok(!v.purposes.some((p) => p.channel === 'cookie'), 'cookie categories are the banner’s business');
    assert.deepEqual(v.unsubscribed, { email: false, sms: false });
    assert.equal(v.tokenExpiresAt, new Date(now + 30 * 24 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '.000Z'));
  });

  it('refuses a missing, tampered, foreign-site, wrong-kind or expired token with 401', async () => {
    await expectError(await me(t, null), 401, 'invalid_token');
    await expectError(await me(t, token.slice(0, -3) + 'AAA'), 401, 'invalid_token');
    await expectError(await me(t, 'garbage'), 401, 'invalid_token');
    const subject = await subjectByEmail(t, email);
    const c = createCrypto(TEST_SECRET);
    await expectError(await me(t, signToken(c, { site: 'shop', subject: subject!.id, scope: { kind: 'prefs' } })), 401, 'invalid_token');
    await expectError(await me(t, signToken(c, { site: 'acme', subject: subject!.id, scope: { kind: 'confirm', upTo: 1 } })), 401, 'invalid_token');
    await expectError(await me(t, signToken(c, { site: 'acme', subject: subject!.id, scope: { kind: 'prefs' }, exp: Math.floor(now / 1000) - 1 })), 401, 'token_expired');
    const res = await request(t, '/v1/sites/acme/me', { method: 'OPTIONS', headers: { origin: 'https://www.acme.dk', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type' } });
    assert.equal(res.status, 204);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /PATCH/);
    const sub = await request(t, '/v1/sites/acme/me/consents/e-marketing', { method: 'OPTIONS', headers: { origin: 'https://www.acme.dk', 'access-control-request-method': 'PUT' } });
    assert.equal(sub.status, 204);
  });

  it('withdraws and grants again with the wording hash; a wrong hash is 409, a missing wording 400', async () => {
    let v = await view(t, token, 'PUT', '/consents/e-marketing', { granted: false });
    assert.equal(purpose(v, 'e-marketing').status, 'withdrawn');
    const current = purpose(v, 'e-marketing').current!;
    await expectError(await me(t, token, 'PUT', '/consents/e-marketing', { granted: true }), 400, 'wording_required');
    await expectError(await me(t, token, 'PUT', '/consents/e-marketing', { granted: true, wordingVersion: current.version, lang: current.lang, sha256: 'b'.repeat(64) }), 409, 'wording_mismatch');
    await expectError(await me(t, token, 'PUT', '/consents/nope', { granted: false }), 404);
    await expectError(await me(t, token, 'PUT', '/consents/e-marketing', { granted: 'yes' }), 400);
    v = await view(t, token, 'PUT', '/consents/e-marketing', { granted: true, wordingVersion: current.version, lang: current.lang, sha256: current.sha256 });
    assert.equal(purpose(v, 'e-marketing').status, 'granted');
    // Repeating the same grant records nothing.
    const before = await snapshot(t);
    await view(t, token, 'PUT', '/consents/e-marketing', { granted: true, wordingVersion: current.version, lang: current.lang, sha256: current.sha256 });
    assert.equal(await snapshot(t), before);
    // A purpose on another legal basis is objected to, not withdrawn.
    v = await view(t, token, 'PUT', '/consents/sales-and-service', { granted: false });
    assert.equal(purpose(v, 'sales-and-service').status, 'objected');
    const history = (await subjectByEmail(t, email))!.history.map((h) => h.action);
    assert.deepEqual(history.slice(-3), ['withdraw', 'grant', 'object']);
  });

  it('unsubscribes from all e-mail; a grant on the page lifts that, but never a bounce (shown as blocked)', async () => {
    let v = await view(t, token, 'POST', '/unsubscribe', { channel: 'email' });
    assert.equal(purpose(v, 'e-marketing').status, 'withdrawn');
    assert.deepEqual(v.unsubscribed, { email: true, sms: false });
    assert.equal((await subjectByEmail(t, email))!.history.at(-1)!.action, 'unsubscribe');
    await expectError(await me(t, token, 'POST', '/unsubscribe', { channel: 'fax' }), 400);
    const current = purpose(v, 'e-marketing').current!;
    v = await view(t, token, 'PUT', '/consents/e-marketing', { granted: true, wordingVersion: current.version, lang: current.lang, sha256: current.sha256 });
    assert.equal(purpose(v, 'e-marketing').status, 'granted');
    assert.deepEqual(v.unsubscribed, { email: false, sms: false });

    await t.services.queue.run((w) =>
      w.tx.execute({ sql: "INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ('acme', 'email', ?, 'bounced', '', NULL, 0)", args: [t.services.crypto.blindIndex('acme', 'email', email)] }),
    );
    v = await view(t, token);
    assert.equal(purpose(v, 'e-marketing').blocked, 'bounced');
    v = await view(t, token, 'PUT', '/consents/e-marketing', { granted: false });
    v = await view(t, token, 'PUT', '/consents/e-marketing', { granted: true, wordingVersion: current.version, lang: current.lang, sha256: current.sha256 });
    assert.equal(purpose(v, 'e-marketing').blocked, 'bounced', 'a bounce is not lifted here');
    await t.services.queue.run((w) => w.tx.execute("DELETE FROM suppressions WHERE reason = 'bounced'"));
  });

  it('rectifies the name at once; the event names the field, never the value', async () => {
    const v = await view(t, token, 'PATCH', '', { name: 'Petra Rettet' });
    assert.equal(v.person.name, 'Petra Rettet');
    const subject = await json<{ history: { action: string; evidence: { note?: string } | null }[] }>(
      await t.call('GET', `/v1/sites/acme/subjects/${(await subjectByEmail(t, email))!.id}`),
      200,
    );
    const last = subject.history.at(-1)!;
    assert.equal(last.action, 'rectify');
    assert.equal(last.evidence?.note, 'rectified: name');
    assert.ok(!JSON.stringify(subject.history).includes('Rettet'));
    await expectError(await me(t, token, 'PATCH', '', {}), 400);
    await expectError(await me(t, token, 'PATCH', '', { email: 'not-an-address' }), 400);
    await expectError(await me(t, token, 'PATCH', '', { name: 'x'.repeat(201) }), 400);
  });

  it('changes the e-mail only after the new address confirms (GET page changes nothing); 409 when the address is taken', async () => {
    const newEmail = 'prefs.new@example.dk';
    let v = await view(t, token, 'PATCH', '', { email: newEmail });
    assert.equal(v.person.email, email, 'not applied yet');
    assert.equal(v.person.pendingEmailChange, true);
    const [mail] = await mailsTo(t, newEmail, 'email-change');
    assert.ok(mail, 'the confirmation goes to the new address');
    const url = linkIn(mail.text, 'http://localhost:8787/v1/email-change/');
    const before = await snapshot(t);
    const page = await request(t, pathOf(url));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<form method="post">/);
    assert.equal(await snapshot(t), before);

    // Someone else takes the address meanwhile: the change is refused.
    await signUpConfirmed(t, 'taken@example.dk');
    await view(t, token, 'PATCH', '', { email: 'taken@example.dk' });
    const [taken] = await mailsTo(t, 'taken@example.dk', 'email-change');
    const takenRes = await request(t, pathOf(linkIn(taken!.text, 'http://localhost:8787/v1/email-change/')), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(takenRes.status, 409);
    assert.equal((await view(t, token)).person.email, email);
    // The older link was replaced by the newer request.
    assert.equal((await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })).status, 403);

    v = await view(t, token, 'PATCH', '', { email: newEmail });
    const [latest] = await mailsTo(t, newEmail, 'email-change');
    const done = await request(t, pathOf(linkIn(latest!.text, 'http://localhost:8787/v1/email-change/')), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(done.status, 200);
    v = await view(t, token);
    assert.equal(v.person.email, newEmail);
    assert.equal(v.person.pendingEmailChange, false);
    assert.equal(await subjectByEmail(t, email), undefined);
    const subject = await subjectByEmail(t, newEmail);
    assert.equal(subject!.history.at(-1)!.action, 'rectify');
    assert.equal(subject!.history.at(-1)!.evidence?.note, 'rectified: email');
    assert.ok(!JSON.stringify(subject!.history).includes('prefs.new'));
    // A change link expires after 24 hours (an hour on: at most 3 change requests per person an hour).
    now += 3600_000;
    await view(t, token, 'PATCH', '', { email: 'later@example.dk' });
    const [later] = await mailsTo(t, 'later@example.dk', 'email-change');
    now += 25 * 3600_000;
    assert.equal((await request(t, pathOf(linkIn(later!.text, 'http://localhost:8787/v1/email-change/')))).status, 410);
  });

  it('restricts processing and lifts it, one event per change', async () => {
    const restrictedRows = async () =>
      (await t.database.client.execute("SELECT channel, bidx, list, purpose_id FROM suppressions WHERE reason = 'restricted'")).rows.map((r) => [r.channel, r.bidx, r.list, r.purpose_id]);
    let v = await view(t, token, 'POST', '/restrict', { restricted: true });
    assert.equal(v.person.restricted, true);
    // On the do-not-contact list while it lasts (the person has an e-mail address only), but
    // not shown as a block the page cannot lift: the page lifts it.
    assert.deepEqual(await restrictedRows(), [['email', t.services.crypto.blindIndex('acme', 'email', 'prefs.new@example.dk'), '', null]]);
    assert.ok(v.purposes.every((p) => p.blocked === null));
    const count = (await subjectByEmail(t, 'prefs.new@example.dk'))!.history.length;
    v = await view(t, token, 'POST', '/restrict', { restricted: true });
    assert.equal((await subjectByEmail(t, 'prefs.new@example.dk'))!.history.length, count, 'no change, no event');
    v = await view(t, token, 'POST', '/restrict', { restricted: false });
    assert.equal(v.person.restricted, false);
    assert.deepEqual(await restrictedRows(), []);
    assert.deepEqual((await subjectByEmail(t, 'prefs.new@example.dk'))!.history.slice(-2).map((h) => h.action), ['restrict', 'unrestrict']);
    await expectError(await me(t, token, 'POST', '/restrict', { restricted: 'yes' }), 400);
  });

  it('exports everything as JSON and as CSV (every cell quoted)', async () => {
    await view(t, token, 'PATCH', '', { name: '=HYPERLINK("x"), "Petra"' });
    const res = await me(t, token, 'GET', '/export');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="samtykke-acme-\d{4}-\d{2}-\d{2}\.json"$/);
    const data = (await res.json()) as { person: Record<string, unknown>; consents: { purpose: string; status: string }[]; history: { action: string; wordingVersion: number | null; wordingSha256: Record<string, string> | null; source: string | null; evidence: Record<string, unknown> | null }[] };
    assert.equal(data.person.email, 'prefs.new@example.dk');
    assert.equal(data.person.name, '=HYPERLINK("x"), "Petra"');
    assert.equal(data.person.lang, 'da');
    assert.ok(data.consents.some((c) => c.purpose === 'e-marketing'));
    const grant = data.history.find((h) => h.action === 'grant')!;
    assert.equal(grant.wordingVersion, 1);
    assert.match(grant.wordingSha256!.da!, /^[0-9a-f]{64}$/);
    assert.equal(grant.source, 'web-form');
    assert.ok(grant.evidence && !('nonce' in grant.evidence));

    const csv = await me(t, token, 'GET', '/export?format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(csv.headers.get('content-disposition') ?? '', /\.csv"$/);
    const text = await csv.text();
    const lines = text.trimEnd().split('\r\n');
    assert.equal(lines[0], 'record,field,value,purpose,status_or_action,wording_version,wording_sha256,source,actor,time,evidence');
    for (const line of lines.slice(1)) assert.match(line, /^("([^"]|"")*")(,"([^"]|"")*")*$/, line);
    assert.ok(lines.includes('"person","name","\'=HYPERLINK(""x""), ""Petra""","","","","","","","",""'), 'quoted, and no formula');
    assert.ok(lines.some((l) => l.startsWith('"event",') && l.includes('"grant"')));
    await expectError(await me(t, token, 'GET', '/export?format=xml'), 400);

    // Each answered access request is in the audit log, naming the person by id only.
    const subject = await subjectByEmail(t, 'prefs.new@example.dk');
    const audit = (await t.database.client.execute({ sql: "SELECT actor, target, details FROM audit_log WHERE action = 'subject.export' ORDER BY seq", args: [] })).rows;
    assert.deepEqual(audit.map((r) => [r.actor, r.target, JSON.parse(String(r.details)).format]), [
      ['person', subject!.id, 'json'],
      ['person', subject!.id, 'csv'],
    ]);
  });

  it('magic link: always 202; a mail only for a known person, valid one hour', async () => {
    const ask = (address: unknown) =>
      request(t, '/v1/sites/acme/preference-links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: address, lang: 'en' }) });
    const known = await ask('PREFS.NEW@example.dk');
    const unknown = await ask('nobody@example.dk');
    assert.equal(known.status, 202);
    assert.equal(unknown.status, 202);
    assert.deepEqual(await known.json(), await unknown.json());
    await t.services.queue.idle();
    assert.equal((await mailsTo(t, 'nobody@example.dk')).length, 0);
    const [mail] = await mailsTo(t, 'prefs.new@example.dk', 'magic-link');
    assert.ok(mail);
    const magic = tokenOf(linkIn(mail.text, 'http://localhost:8787/preferences/acme#token='));
    const v = await view(t, magic);
    assert.equal(v.tokenExpiresAt, new Date(now + 3600_000).toISOString().replace(/\.\d{3}Z$/, '.000Z'));
    await expectError(await ask('not-an-address'), 400);
    await expectError(await request(t, '/v1/sites/acme/preference-links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }), 400);
    now += 3601_000;
    await expectError(await me(t, magic), 401, 'token_expired');
  });

  it('erases: receipt mail queued first, PII gone, evidence scrubbed, erase event, suppressions kept; the ledger verifies; a later signup must confirm', async () => {
    const current = 'prefs.new@example.dk';
    // An own unsubscribe that must survive erasure.
    await view(t, token, 'POST', '/unsubscribe', { channel: 'email' });
    const subject = await subjectByEmail(t, current);
    await expectError(await me(t, token, 'POST', '/erase', { confirm: false }), 400);
    await expectError(await me(t, token, 'POST', '/erase', {}), 400);
    const res = await me(t, token, 'POST', '/erase', { confirm: true });
    assert.deepEqual(await json(res, 200), { erased: true });

    const [receipt] = await mailsTo(t, current, 'erasure');
    assert.ok(receipt, 'the erasure receipt went to the address');
    const row = (await t.database.client.execute({ sql: 'SELECT * FROM subjects WHERE id = ?', args: [subject!.id] })).rows[0]!;
    for (const col of ['email_enc', 'email_bidx', 'phone_enc', 'phone_bidx', 'name_enc']) assert.equal(row[col], null, col);
    assert.notEqual(row.erased_at, null);
    const events = (await t.database.client.execute({ sql: 'SELECT action, evidence, scrubbed_at FROM consent_events WHERE subject_id = ? ORDER BY seq', args: [subject!.id] })).rows;
    assert.equal(events.at(-1)!.action, 'erase');
    for (const e of events.slice(0, -1)) {
      assert.equal(e.evidence, null);
      assert.notEqual(e.scrubbed_at, null);
    }
    assert.equal(Number((await t.database.client.execute({ sql: 'SELECT count(*) AS n FROM consent_states WHERE subject_id = ?', args: [subject!.id] })).rows[0]!.n), 0);
    const bidx = t.services.crypto.blindIndex('acme', 'email', current);
    const reasons = (await t.database.client.execute({ sql: 'SELECT reason FROM suppressions WHERE bidx = ? ORDER BY reason', args: [bidx] })).rows.map((r) => r.reason);
    assert.deepEqual(reasons, ['erased', 'unsubscribe']);
    assert.ok((await verifyAll(t.services.db, t.services.crypto)).every((r) => r.ok), 'audit verify still passes');
    const erasures = (await t.database.client.execute({ sql: "SELECT actor, target FROM audit_log WHERE action = 'subject.erase'", args: [] })).rows;
    assert.deepEqual(erasures.map((r) => [r.actor, r.target]), [['person', subject!.id]], 'the erasure is in the audit log');
    await expectError(await me(t, token), 410, 'erased');
    await expectError(await me(t, token, 'PUT', '/consents/e-marketing', { granted: false }), 410, 'erased');

    // No plaintext of the address or the name in the database files (mail in the outbox is encrypted).
    await t.database.client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    const bytes = Buffer.concat([t.file, `${t.file}-wal`].filter(existsSync).map((f) => readFileSync(f))).toString('latin1').toLowerCase();
    for (const needle of ['prefs.new@example.dk', 'prefs.person@example.dk', 'prefs.new', 'petra']) assert.ok(!bytes.includes(needle), needle);

    // Signing up again: a new person, and a confirmation is required even without double opt-in.
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { doubleOptIn: false } }), 200);
    const f = await form(t);
    assert.equal((await signup(t, bodyFor(f, { email: current }))).status, 202);
    const again = await subjectByEmail(t, current);
    assert.notEqual(again!.id, subject!.id);
    assert.equal(statusOf(again, 'e-marketing'), 'pending');
    assert.equal((await mailsTo(t, current, 'confirm')).length, 1);
  });
});

/** Regressions of the security review of the subscription flows (issue 4). */
describe('preference page API: security review', () => {
  let t: TestApp;
  let now = Date.parse('2026-07-01T08:00:00Z');
  const tokens = new Map<string, string>();

  before(async () => {
    t = await makeApp({ now: () => now });
    for (const [i, email] of ['a', 'b', 'c', 'd', 'e'].map((x) => `change-${x}@example.dk`).entries()) {
      await signUpConfirmed(t, email, 'e-marketing', { name: `Nora Name${i}` });
      const subject = await subjectByEmail(t, email);
      tokens.set(email, signToken(t.services.crypto, { site: 'acme', subject: subject!.id, scope: { kind: 'prefs' }, exp: Math.floor(now / 1000) + 86400 }));
    }
  });
  after(() => t.close());

  const change = (from: string, to: string, ip = freshIp()) =>
    request(t, '/v1/sites/acme/me', {
      method: 'PATCH',
      headers: { authorization: `Bearer ${tokens.get(from)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: to }),
      ip,
    });

  it('6: e-mail change mails have their own limits (per person, per address, per client IP), apart from magic links, and carry no name', async () => {
    // Magic links used up for an address do not block a change to it, and the other way round.
    const target = 'new-home@example.dk';
    for (let i = 0; i < 3; i++) {
      await request(t, '/v1/sites/acme/preference-links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'change-a@example.dk' }) });
    }
    assert.equal((await change('change-a@example.dk', target)).status, 200);
    const [mail] = await mailsTo(t, target, 'email-change');
    assert.ok(mail, 'the change mail');
    assert.ok(!mail.text.includes('Nora') && !mail.html!.includes('Nora'), 'no name in a mail to an unverified address');
    assert.match(mail.text, /^Hej,$/m);

    // Per person: 3 an hour.
    for (const to of ['p2@example.dk', 'p3@example.dk']) assert.equal((await change('change-a@example.dk', to)).status, 200);
    const person = await expectError(await change('change-a@example.dk', 'p4@example.dk'), 429, 'rate_limited');
    void person;
    assert.equal((await mailsTo(t, 'p4@example.dk')).length, 0);

    // Per new address: 3 an hour, whoever asks.
    for (const from of ['change-b@example.dk', 'change-c@example.dk']) assert.equal((await change(from, target)).status, 200, from);
    const address = await change('change-d@example.dk', target);
    await expectError(address, 429, 'rate_limited');
    assert.ok(Number(address.headers.get('retry-after')) > 0);
    assert.equal((await mailsTo(t, target, 'email-change')).length, 3);

    // An hour on, per client IP: 10 an hour.
    now += 3600_000;
    const ip = freshIp();
    let sent = 0;
    for (const from of ['change-a', 'change-b', 'change-c', 'change-d'].map((x) => `${x}@example.dk`)) {
      for (let i = 0; i < 3 && sent < 10; i++, sent++) assert.equal((await change(from, `ip-${sent}@example.dk`, ip)).status, 200, `${from} ${i}`);
    }
    const byIp = await change('change-e@example.dk', 'ip-10@example.dk', ip);
    await expectError(byIp, 429, 'rate_limited');
    const wait = Number(byIp.headers.get('retry-after'));
    assert.ok(wait > 0 && wait <= 3600);
    assert.equal((await mailsTo(t, 'ip-10@example.dk')).length, 0);
    // The same person from elsewhere is fine.
    assert.equal((await change('change-e@example.dk', 'ip-10@example.dk')).status, 200);
  });

  it('8: an export that fails records no access in the audit log; one that succeeds does, once', async () => {
    const email = 'change-e@example.dk';
    const audits = async () => Number((await t.database.client.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'subject.export'")).rows[0]!.n);
    const person = await authenticatePerson(t.services, 'acme', tokens.get(email));
    await assert.rejects(exportPerson(t.services, { ...person, subject: { ...person.subject, id: 'AAAAAAAAAAAAAAAAAAAAAA' } }, 'json'));
    assert.equal(await audits(), 0);
    const res = await request(t, '/v1/sites/acme/me/export', { headers: { authorization: `Bearer ${tokens.get(email)}` } });
    assert.equal(res.status, 200);
    assert.equal(await audits(), 1);
  });
});
