/**
 * One-click unsubscribe (RFC 8058) as mailbox providers send it, the unsubscribe page,
 * forged and foreign tokens, and the links a marketer puts in their own mails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCrypto } from '../../server/services/crypto';
import { signToken } from '../../server/services/tokens';
import { verifyAll } from '../../server/services/verify';
import { expectError, json, makeApp, TEST_SECRET, type TestApp } from './helpers';
import { fullMails, pathOf, request, signUpConfirmed, snapshot, statusOf, subjectByEmail } from './subscription-helpers';

async function unsubscribeUrlOf(t: TestApp, email: string): Promise<string> {
  const [receipt] = await fullMails(t, email, 'receipt');
  const header = receipt!.headers['List-Unsubscribe']!;
  return header.slice(1, -1);
}

/** Exactly what a mailbox provider sends: a form POST with that one field, no cookies, no Authorization, no Origin. */
function oneClick(t: TestApp, url: string, kind: 'urlencoded' | 'multipart' = 'urlencoded', body?: string) {
  if (kind === 'multipart') {
    const data = new FormData();
    data.set('List-Unsubscribe', 'One-Click');
    return request(t, pathOf(url), { method: 'POST', body: data, headers: { 'user-agent': 'GoogleImageProxy' } });
  }
  return request(t, pathOf(url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Mozilla/5.0 (compatible; MailboxUnsubscriber)' },
    body: body ?? 'List-Unsubscribe=One-Click',
  });
}

async function suppressionsOf(t: TestApp, email: string) {
  const { rows } = await t.database.client.execute({
    sql: 'SELECT channel, reason, purpose_id FROM suppressions WHERE bidx = ? ORDER BY id',
    args: [t.services.crypto.blindIndex('acme', 'email', email)],
  });
  return rows.map((r) => ({ channel: r.channel, reason: r.reason, purposeId: r.purpose_id }));
}

async function purposeId(t: TestApp, key: string): Promise<string> {
  const { rows } = await t.database.client.execute({ sql: "SELECT id FROM purposes WHERE site_id = 'acme' AND key = ?", args: [key] });
  return String(rows[0]!.id);
}

describe('one-click unsubscribe', () => {
  let t: TestApp;

  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('POST as a mailbox provider sends it (form-urlencoded): 200, no redirect, withdrawn, suppressed; a repeat changes nothing', async () => {
    const email = 'oneclick@example.dk';
    await signUpConfirmed(t, email);
    const url = await unsubscribeUrlOf(t, email);
    const res = await oneClick(t, url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('location'), null);
    assert.equal(res.headers.get('set-cookie'), null);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const subject = await subjectByEmail(t, email);
    assert.equal(statusOf(subject, 'e-marketing'), 'withdrawn');
    assert.equal(subject!.history.at(-1)!.action, 'unsubscribe');
    assert.deepEqual(await suppressionsOf(t, email), [{ channel: 'email', reason: 'unsubscribe', purposeId: null }]);

    const before = await snapshot(t);
    const again = await oneClick(t, url);
    assert.equal(again.status, 200);
    assert.equal(await snapshot(t), before, 'idempotent');
    assert.ok((await verifyAll(t.services.db, t.services.crypto)).every((r) => r.ok));
  });

  it('POST as multipart/form-data works the same', async () => {
    const email = 'multipart@example.dk';
    await signUpConfirmed(t, email);
    const url = await unsubscribeUrlOf(t, email);
    const res = await oneClick(t, url, 'multipart');
    assert.equal(res.status, 200, await res.text());
    assert.equal(statusOf(await subjectByEmail(t, email), 'e-marketing'), 'withdrawn');
    assert.equal((await suppressionsOf(t, email)).length, 1);
    const before = await snapshot(t);
    assert.equal((await oneClick(t, url, 'multipart')).status, 200);
    assert.equal(await snapshot(t), before);
  });

  it('GET shows the choice and a POST form, and changes nothing', async () => {
    const email = 'look@example.dk';
    await signUpConfirmed(t, email);
    const url = await unsubscribeUrlOf(t, email);
    const before = await snapshot(t);
    const res = await request(t, pathOf(url));
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<form method="post">/);
    assert.match(html, /name="List-Unsubscribe" value="One-Click"/);
    assert.match(html, /<button type="submit">/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.ok(!html.includes('<script'));
    assert.equal(await snapshot(t), before);
    assert.equal(statusOf(await subjectByEmail(t, email), 'e-marketing'), 'granted');
  });

  it('a purpose link suppresses that purpose only; the page can widen it to all e-mail marketing', async () => {
    const email = 'scoped@example.dk';
    await signUpConfirmed(t, email);
    const subject = await subjectByEmail(t, email);
    const links = await json<{ unsubscribeUrl: string; preferencesUrl: string; headers: Record<string, string> }>(
      await t.call('GET', `/v1/sites/acme/subjects/${subject!.id}/links?purpose=e-marketing`),
      200,
    );
    assert.equal(links.headers['List-Unsubscribe'], `<${links.unsubscribeUrl}>`);
    assert.equal(links.headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
    assert.match(links.preferencesUrl, /^http:\/\/localhost:8787\/preferences\/acme#token=/);
    const page = await (await request(t, pathOf(links.unsubscribeUrl))).text();
    assert.match(page, /value="purpose" checked/);
    assert.match(page, /value="all"/);

    assert.equal((await oneClick(t, links.unsubscribeUrl)).status, 200);
    const emarketing = await purposeId(t, 'e-marketing');
    assert.deepEqual(await suppressionsOf(t, email), [{ channel: 'email', reason: 'unsubscribe', purposeId: emarketing }]);
    assert.equal((await oneClick(t, links.unsubscribeUrl, 'urlencoded', 'List-Unsubscribe=One-Click&scope=all')).status, 200);
    assert.deepEqual(await suppressionsOf(t, email), [
      { channel: 'email', reason: 'unsubscribe', purposeId: emarketing },
      { channel: 'email', reason: 'unsubscribe', purposeId: null },
    ]);
  });

  it('a tampered, foreign or wrong-kind token is 403 and changes nothing', async () => {
    const email = 'forged@example.dk';
    await signUpConfirmed(t, email);
    const url = await unsubscribeUrlOf(t, email);
    const token = url.split('/').pop()!;
    const subject = await subjectByEmail(t, email);
    const other = createCrypto('another-secret-0123456789abcdefghijklmnopq');
    const candidates = [
      token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21),
      token.slice(0, -2),
      signToken(other, { site: 'acme', subject: subject!.id, scope: { kind: 'unsubscribe', purpose: null } }),
      signToken(createCrypto(TEST_SECRET), { site: 'shop', subject: subject!.id, scope: { kind: 'unsubscribe', purpose: null } }),
      signToken(createCrypto(TEST_SECRET), { site: 'acme', subject: 'AAAAAAAAAAAAAAAAAAAAAA', scope: { kind: 'unsubscribe', purpose: null } }),
      signToken(createCrypto(TEST_SECRET), { site: 'acme', subject: subject!.id, scope: { kind: 'prefs' } }),
      'not-a-token',
    ];
    const before = await snapshot(t);
    for (const candidate of candidates) {
      const res = await oneClick(t, `http://localhost:8787/v1/unsubscribe/${candidate}`);
      assert.equal(res.status, 403, candidate);
      assert.equal((await request(t, `/v1/unsubscribe/${candidate}`)).status, 403);
    }
    assert.equal(await snapshot(t), before);
    assert.equal(statusOf(await subjectByEmail(t, email), 'e-marketing'), 'granted');
  });

  it("a link naming nobody speaks the browser's language when we have it, else English", async () => {
    const page = async (acceptLanguage?: string) => {
      const res = await request(t, '/v1/unsubscribe/not-a-token', acceptLanguage ? { headers: { 'accept-language': acceptLanguage } } : {});
      assert.equal(res.status, 403);
      return res.text();
    };
    assert.match(await page('da-DK,da;q=0.9,en;q=0.8'), /<html lang="da">[\s\S]*Dette link er ikke gyldigt/);
    assert.match(await page('fr-FR, sv;q=0.5'), /<html lang="sv">/);
    assert.match(await page('no'), /<html lang="nb">/);
    assert.match(await page('fr, <script>'), /<html lang="en">[\s\S]*This link is not valid/);
    assert.match(await page(), /<html lang="en">/);
  });

  it('refuses a body that is not List-Unsubscribe=One-Click (400) or not a form (415), never 500', async () => {
    const email = 'badbody@example.dk';
    await signUpConfirmed(t, email);
    const url = await unsubscribeUrlOf(t, email);
    const before = await snapshot(t);
    await expectError(await oneClick(t, url, 'urlencoded', ''), 400);
    await expectError(await oneClick(t, url, 'urlencoded', 'List-Unsubscribe=Yes'), 400);
    await expectError(await oneClick(t, url, 'urlencoded', 'List-Unsubscribe=One-Click&scope=everything'), 400);
    await expectError(await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 415);
    const broken = await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: '--xyz\r\nbroken' });
    assert.ok(broken.status === 400, `broken multipart → ${broken.status}`);
    assert.equal(await snapshot(t), before);
  });

  it('the links endpoint needs a write or admin key and refuses unknown purposes and erased people', async () => {
    const email = 'links@example.dk';
    await signUpConfirmed(t, email);
    const subject = await subjectByEmail(t, email);
    const check = await json<{ secret: string }>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'checker', scopes: ['check'] } }), 201);
    await expectError(await t.call('GET', `/v1/sites/acme/subjects/${subject!.id}/links`, { key: check.secret }), 403);
    await expectError(await t.call('GET', `/v1/sites/acme/subjects/${subject!.id}/links`, { key: null }), 401);
    await expectError(await t.call('GET', `/v1/sites/acme/subjects/${subject!.id}/links?purpose=nope`), 400, 'unknown_purpose');
    await expectError(await t.call('GET', `/v1/sites/acme/subjects/${subject!.id}/links?purpose=BAD!`), 400);
    await expectError(await t.call('GET', '/v1/sites/acme/subjects/AAAAAAAAAAAAAAAAAAAAAA/links'), 404);
    const all = await json<{ unsubscribeUrl: string }>(await t.call('GET', `/v1/sites/acme/subjects/${subject!.id}/links`), 200);
    const page = await (await request(t, pathOf(all.unsubscribeUrl))).text();
    assert.doesNotMatch(page, /value="purpose"/, 'an all-marketing link offers no narrower choice');
  });
});
