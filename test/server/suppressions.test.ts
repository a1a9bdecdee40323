/** Do-not-contact lists: import (idempotent, counted) and the incremental export. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeApp, type TestApp, json, expectError } from './helpers';
import { erase } from './check-flows';

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
