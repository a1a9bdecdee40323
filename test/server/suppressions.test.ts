/**
 * Do-not-contact lists: import (idempotent, counted) and the incremental export, whose
 * reasons are a send check's words and which carries restrictions of processing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAll } from '../../server/services/verify';
import { makeApp, type TestApp, json, expectError } from './helpers';
import { erase, inboundSms, me, prefsTokenFor, restrict, unsubscribe } from './check-flows';
import { linkIn, mailsTo, pathOf, request } from './subscription-helpers';

interface Entry {
  id: number;
  channel: string;
  address: string | null;
  hash: string;
  reason: string;
  list: string | null;
  purpose: string | null;
  createdAt: string;
}

describe('suppression lists', () => {
  let t: TestApp;
  let checkKey: string;
  let piiKey: string;

  const importCsv = async (query: string, body: string, key?: string) =>
    t.call('POST', `/v1/sites/acme/suppressions/import?${query}`, { body, key, headers: { 'content-type': 'text/csv' } });
  const exportPage = async (query: string, key: string) => {
    const res = await t.call('GET', `/v1/sites/acme/suppressions?${query}`, { key });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return { text, res, entries: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Entry) };
  };

  before(async () => {
    t = await makeApp();
    const makeKey = async (name: string, scopes: string[]) =>
      (await json<{ secret: string }>(await t.call('POST', '/v1/sites/acme/keys', { body: { name, scopes } }), 201)).secret;
    checkKey = await makeKey('checker', ['check']);
    piiKey = await makeKey('pii', ['check', 'pii:read']);
  });
  after(() => t.close());

  it('imports a list: e-mails and phones, header, BOM, quotes; invalid rows counted; a re-import adds nothing', async () => {
    const body = '\uFEFFKontakt\r\n"Anna@Example.dk"\r\n+45 20 30 40 50\r\nnot valid\r\n\r\nbo@example.dk\r\nanna@example.dk\r\n';
    const first = await json<Record<string, unknown>>(await importCsv('list=robinson', body), 200);
    assert.deepEqual(first, { list: 'robinson', reason: 'listed', rows: 5, added: 3, alreadyPresent: 1, invalid: 1 });
    const again = await json<Record<string, unknown>>(await importCsv('list=robinson', body), 200);
    assert.deepEqual(again, { list: 'robinson', reason: 'listed', rows: 5, added: 0, alreadyPresent: 4, invalid: 1 });
    const bounced = await json<Record<string, unknown>>(await importCsv('list=esp&reason=bounced&channel=email', 'bo@example.dk\n'), 200);
    assert.equal(bounced.added, 1);
  });

  it('refuses a bad list name, reason or content type, and keys without the scope', async () => {
    await expectError(await importCsv('list=Robinson List', 'a@b.dk'), 400);
    await expectError(await importCsv('list=r&reason=erased', 'a@b.dk'), 400);
    await expectError(await importCsv('list=r', 'a@b.dk', checkKey), 403);
    await expectError(await t.call('POST', '/v1/sites/acme/suppressions/import?list=r', { body: { a: 1 } }), 415);
  });

  it('exports as JSON lines, in pages with a cursor, with hashes; addresses only with pii:read', async () => {
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email: 'anna@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 } }), 201);
    const all = await exportPage('', checkKey);
    assert.equal(all.entries.length, 4);
    assert.ok(all.entries.every((e) => e.address === null && /^[A-Za-z0-9_-]{43}$/.test(e.hash)));
    assert.doesNotMatch(all.text, /example\.dk|\+45/);
    assert.match(all.res.headers.get('content-type') ?? '', /ndjson/);

    const withPii = await exportPage('', piiKey);
    const anna = withPii.entries.find((e) => e.address === 'anna@example.dk');
    assert.ok(anna, 'the address of a person on record');
    assert.equal(withPii.entries.filter((e) => e.address !== null).length, 1, 'addresses nobody gave us stay hashes');

    const p1 = await exportPage('limit=3', checkKey);
    assert.equal(p1.entries.length, 3);
    assert.equal(p1.res.headers.get('samtykke-has-more'), 'true');
    const cursor = p1.res.headers.get('samtykke-next-cursor')!;
    const p2 = await exportPage(`limit=3&cursor=${cursor}`, checkKey);
    assert.equal(p2.entries.length, 1);
    assert.equal(p2.res.headers.get('samtykke-has-more'), 'false');
    const cursor2 = p2.res.headers.get('samtykke-next-cursor')!;
    assert.equal((await exportPage(`cursor=${cursor2}`, checkKey)).entries.length, 0, 'nothing new yet');
    // New entries come after the cursor.
    await importCsv('list=more', 'cy@example.dk\n');
    const p3 = await exportPage(`cursor=${cursor2}`, checkKey);
    assert.equal(p3.entries.length, 1);
    assert.equal(p3.entries[0]!.list, 'more');

    const sms = await exportPage('channel=sms', checkKey);
    assert.deepEqual(sms.entries.map((e) => e.channel), ['sms']);
    const since = await exportPage(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, checkKey);
    assert.equal(since.entries.length, 0);
  });

  it('exports CSV; an erased person is a hash, even with pii:read', async () => {
    await erase(t, 'anna@example.dk');
    const res = await t.call('GET', '/v1/sites/acme/suppressions?format=csv&channel=email', { key: piiKey });
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = text.trim().split('\r\n');
    assert.equal(lines[0], 'id,channel,address,hash,reason,list,purpose,createdAt');
    assert.doesNotMatch(text, /anna@/);
    assert.ok(lines.some((l) => l.includes(',erased,')));
    await expectError(await t.call('GET', '/v1/sites/acme/suppressions?cursor=abc', { key: checkKey }), 400);
  });
});

describe('the export speaks the check’s words, and carries restrictions of processing', () => {
  let t: TestApp;
  let piiKey: string;
  const SECRET = 'suppression-tests-inbound-secret-0123456789abcdef';
  const emailHash = (email: string) => t.services.crypto.blindIndex('acme', 'email', email);
  const phoneHash = (phone: string) => t.services.crypto.blindIndex('acme', 'phone', phone);

  /** The whole export from the start, as JSON lines and as CSV (with pii:read). */
  const exported = async () => {
    const res = await t.call('GET', '/v1/sites/acme/suppressions', { key: piiKey });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const csv = await t.call('GET', '/v1/sites/acme/suppressions?format=csv', { key: piiKey });
    const csvText = await csv.text();
    assert.equal(csv.status, 200, csvText);
    const [header, ...rows] = csvText.trim().split('\r\n');
    const columns = header!.split(',');
    return {
      entries: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Entry),
      csv: rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [columns[i], v]))),
    };
  };
  const restrictedOf = async () => (await exported()).entries.filter((e) => e.reason === 'restricted');
  const checkReason = async (query: string) => (await json<{ reason: string }>(await t.call('GET', `/v1/sites/acme/check?purpose=e-marketing&${query}`), 200)).reason;
  const grant = (body: Record<string, unknown>) => t.call('POST', '/v1/sites/acme/consents', { body: { purpose: 'e-marketing', action: 'grant', wordingVersion: 1, ...body } });

  before(async () => {
    t = await makeApp();
    piiKey = (await json<{ secret: string }>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'pii', scopes: ['check', 'pii:read'] } }), 201)).secret;
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { smsInboundSecret: SECRET } }), 200);
  });
  after(() => t.close());

  it('an unsubscribe is `unsubscribed` and an SMS STOP `sms-stopped`, in JSON lines and CSV, as the check says', async () => {
    await json(await grant({ email: 'ulla@example.dk' }), 201);
    await unsubscribe(t, 'ulla@example.dk');
    await inboundSms(t, SECRET, '+4550505050', 'STOP', 'supp-1');
    const { entries, csv } = await exported();
    assert.deepEqual(
      entries.map((e) => [e.channel, e.reason, e.address]),
      [
        ['email', 'unsubscribed', 'ulla@example.dk'],
        ['sms', 'sms-stopped', '+4550505050'],
      ],
    );
    assert.deepEqual(csv.map((r) => r.reason), ['unsubscribed', 'sms-stopped']);
    assert.equal(await checkReason('email=ulla@example.dk'), 'unsubscribed', 'the same word as the check');
    // Storage keeps its own words.
    const stored = await t.database.client.execute('SELECT reason FROM suppressions ORDER BY id');
    assert.deepEqual(stored.rows.map((r) => r.reason), ['unsubscribe', 'sms-stop']);
  });

  it('a restriction is one `restricted` entry per address, in the transaction of the event, and goes when it is lifted', async () => {
    await json(await grant({ email: 'rita@example.dk', phone: '+4521222324' }), 201);
    const before = (await exported()).entries.length;
    await restrict(t, 'rita@example.dk');
    const { entries, csv } = await exported();
    assert.equal(entries.length, before + 2);
    const added = entries.slice(before);
    assert.deepEqual(
      added.map((e) => ({ ...e, id: undefined, createdAt: undefined })),
      [
        { id: undefined, createdAt: undefined, channel: 'email', address: 'rita@example.dk', hash: emailHash('rita@example.dk'), reason: 'restricted', list: null, purpose: null },
        { id: undefined, createdAt: undefined, channel: 'sms', address: '+4521222324', hash: phoneHash('+4521222324'), reason: 'restricted', list: null, purpose: null },
      ],
    );
    assert.deepEqual(csv.slice(before).map((r) => [r.channel, r.reason, r.list, r.purpose]), [['email', 'restricted', '', ''], ['sms', 'restricted', '', '']]);
    // The same time as the 'restrict' event: written together.
    const event = await t.database.client.execute("SELECT occurred_at FROM consent_events WHERE action = 'restrict'");
    assert.ok(added.every((e) => Date.parse(e.createdAt) === Number(event.rows[0]!.occurred_at)));
    assert.equal(await checkReason('email=rita@example.dk'), 'restricted');

    // Restricting again changes nothing; lifting it removes both entries and nothing else.
    await json(await me(t, await prefsTokenFor(t, 'rita@example.dk'), 'POST', '/restrict', { restricted: true }), 200);
    assert.equal((await restrictedOf()).length, 2);
    await restrict(t, 'rita@example.dk', false);
    assert.deepEqual(await restrictedOf(), []);
    assert.equal((await exported()).entries.length, before);
    assert.equal(await checkReason('email=rita@example.dk'), 'consented');
  });

  it('an e-mail address changed while restricted gets its own entry; the old one goes', async () => {
    await json(await grant({ email: 'old.mail@example.dk' }), 201);
    await restrict(t, 'old.mail@example.dk');
    assert.deepEqual((await restrictedOf()).map((e) => e.hash), [emailHash('old.mail@example.dk')]);
    const token = await prefsTokenFor(t, 'old.mail@example.dk');
    await json(await me(t, token, 'PATCH', '', { email: 'new.mail@example.dk' }), 200);
    assert.deepEqual((await restrictedOf()).map((e) => e.hash), [emailHash('old.mail@example.dk')], 'not before the new address confirms');
    const [mail] = await mailsTo(t, 'new.mail@example.dk', 'email-change');
    assert.ok(mail, 'a confirmation to the new address');
    const done = await request(t, pathOf(linkIn(mail.text, 'http://localhost:8787/v1/email-change/')), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(done.status, 200);
    await t.services.queue.idle();
    const restricted = await restrictedOf();
    assert.deepEqual(restricted.map((e) => [e.hash, e.address]), [[emailHash('new.mail@example.dk'), 'new.mail@example.dk']]);
    assert.equal(await checkReason('email=new.mail@example.dk'), 'restricted');
    await restrict(t, 'new.mail@example.dk', false);
    assert.deepEqual(await restrictedOf(), []);
  });

  it('erasing a restricted person leaves `erased` hashes only, and the ledger still verifies', async () => {
    await json(await grant({ email: 'esther@example.dk', phone: '+4531323334' }), 201);
    await restrict(t, 'esther@example.dk');
    assert.equal((await restrictedOf()).length, 2);
    await erase(t, 'esther@example.dk');
    const mine = (await exported()).entries.filter((e) => e.hash === emailHash('esther@example.dk') || e.hash === phoneHash('+4531323334'));
    assert.deepEqual(
      mine.map((e) => [e.channel, e.reason, e.address]),
      [
        ['email', 'erased', null],
        ['sms', 'erased', null],
      ],
      'the restriction ended with the person: no restricted entry is left to block the address should it come back',
    );
    assert.equal(await checkReason('email=esther@example.dk'), 'erased');
    const reports = await verifyAll(t.database.db, t.services.crypto);
    assert.ok(reports.every((r) => r.ok), JSON.stringify(reports));
  });
});
