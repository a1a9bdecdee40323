/**
 * Signups with double opt-in: the form, the 202 that never tells who is known, the
 * confirmation mail and page (a GET changes nothing), the receipt with its Kantara JSON,
 * rate limits, the honeypot, wording hashes, never downgrading, and expiry.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRetention } from '../../server/services/retention';
import { verifyAll } from '../../server/services/verify';
import type { PreferencesView, SignupForm } from '../../shared/subscriptions';
import { expectError, json, makeApp, type TestApp } from './helpers';
import {
  addSmsPurpose,
  bodyFor,
  counts,
  form,
  freshIp,
  fullMails,
  linkIn,
  mailsTo,
  pathOf,
  request,
  signup,
  signUpConfirmed,
  smsReply,
  snapshot,
  statusOf,
  subjectByEmail,
  subjectByPhone,
  tokenOf,
} from './subscription-helpers';

const CONFIRM = 'http://localhost:8787/v1/confirm/';

describe('signups', () => {
  let t: TestApp;
  let f: SignupForm;

  before(async () => {
    t = await makeApp();
    await json(
      await t.call('PATCH', '/v1/sites/acme', {
        body: { controllerEmail: 'privacy@acme.dk', controllerAddress: 'Acme A/S, Vestergade 1, 1456 København K', privacyPolicyUrl: 'https://www.acme.dk/privatliv' },
      }),
      200,
    );
    f = await form(t);
  });
  after(() => t.close());

  it('serves the form: current wording in the language asked for, its hash, and the fields to show', async () => {
    assert.equal(f.site, 'acme');
    assert.equal(f.name, 'Acme');
    assert.equal(f.doubleOptIn, true);
    assert.deepEqual(f.fields, { email: 'required', phone: 'none' });
    assert.equal(f.privacyPolicyUrl, 'https://www.acme.dk/privatliv');
    assert.equal(f.purposes.length, 1);
    const p = f.purposes[0]!;
    assert.equal(p.key, 'e-marketing');
    assert.equal(p.lang, 'da');
    assert.equal(p.version, 1);
    assert.match(p.sha256, /^[0-9a-f]{64}$/);
    const en = await form(t, 'e-marketing', 'en');
    assert.equal(en.purposes[0]!.lang, 'en');
    assert.notEqual(en.purposes[0]!.sha256, p.sha256);
    await expectError(await request(t, '/v1/sites/acme/signup-form?purposes=nope'), 400, 'unknown_purpose');
    await expectError(await request(t, '/v1/sites/acme/signup-form?purposes=statistics'), 400, 'unknown_purpose');
    await expectError(await request(t, '/v1/sites/acme/signup-form'), 400);
    await expectError(await request(t, '/v1/sites/acme/signup-form?purposes=a,,b'), 400);
    await expectError(await request(t, '/v1/sites/nope/signup-form?purposes=e-marketing'), 404);
  });

  it('double opt-in: 202, a confirmation mail; the GET page changes nothing; the POST confirms; then a receipt with List-Unsubscribe and Kantara JSON', async () => {
    const email = 'Ditte.Doi@Example.DK';
    const res = await signup(t, bodyFor(f, { email, name: 'Ditte <b>Doi</b>' }));
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { status: 'accepted', confirmationSent: true });
    const subject = await subjectByEmail(t, email);
    assert.equal(statusOf(subject, 'e-marketing'), 'pending');
    assert.deepEqual(subject!.history.map((h) => h.action), ['grant']);

    const [mail] = await mailsTo(t, 'ditte.doi@example.dk', 'confirm');
    assert.ok(mail);
    assert.match(mail.subject, /Acme/);
    assert.ok(mail.text.includes(f.purposes[0]!.title), 'the wording is in the mail');
    // The address is not verified yet: the mail never greets with the name the form gave.
    assert.ok(!mail.text.includes('Ditte') && !mail.html!.includes('Ditte'), 'no name in the confirmation mail');
    assert.match(mail.text, /^Hej,$/m);
    const url = linkIn(mail.text, CONFIRM);

    const before = await snapshot(t);
    const page = await request(t, pathOf(url));
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(html, /<form method="post">/);
    assert.match(html, /<button type="submit">/);
    assert.ok(html.includes(f.purposes[0]!.title));
    assert.ok(!html.includes('<script'));
    // Scanners open links, some twice: nothing changes.
    await request(t, pathOf(url));
    await request(t, pathOf(url), { method: 'HEAD' });
    assert.equal(await snapshot(t), before, 'GET changed nothing');

    const done = await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'ConfirmBrowser/2' }, body: '' });
    assert.equal(done.status, 200);
    assert.equal(done.headers.get('location'), null);
    const after = await subjectByEmail(t, email);
    assert.equal(statusOf(after, 'e-marketing'), 'granted');
    assert.deepEqual(after!.history.map((h) => h.action), ['grant', 'confirm']);
    const confirm = after!.history[1]!;
    assert.ok(confirm.evidence?.userAgentHash, 'the confirmation has its own evidence');
    assert.notEqual(confirm.evidence?.userAgentHash, after!.history[0]!.evidence?.userAgentHash);
    assert.equal(after!.history[0]!.evidence?.pageUrl, 'https://www.acme.dk/nyhedsbrev', 'the query is not kept');

    const [receipt] = await fullMails(t, 'ditte.doi@example.dk', 'receipt');
    assert.ok(receipt, 'a receipt');
    assert.ok(receipt.html!.includes('Ditte &#60;b&#62;Doi&#60;/b&#62;'), 'once confirmed, the name is used, escaped in HTML');
    assert.ok(!receipt.html!.includes('<b>Doi'));
    const unsubscribe = receipt.headers['List-Unsubscribe'];
    assert.match(unsubscribe ?? '', /^<http:\/\/localhost:8787\/v1\/unsubscribe\/[A-Za-z0-9_-]+>$/);
    assert.equal(receipt.headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
    assert.ok(receipt.text.includes('http://localhost:8787/preferences/acme#token='), 'a visible preference link');
    assert.ok(receipt.html!.includes('preferences/acme#token='));
    assert.ok(receipt.text.includes(f.purposes[0]!.body), 'the wording agreed to');
    assert.ok(receipt.text.includes('privacy@acme.dk') && receipt.text.includes('Vestergade 1'), 'the controller and contact');
    assert.equal(receipt.attachments.length, 1);
    const attachment = receipt.attachments[0]!;
    assert.equal(attachment.contentType, 'application/json');
    const cr = JSON.parse(attachment.content) as Record<string, unknown>;
    for (const field of ['version', 'jurisdiction', 'consentTimestamp', 'collectionMethod', 'consentReceiptID', 'language', 'piiPrincipalId', 'piiControllers', 'policyUrl', 'services', 'sensitive', 'spiCat']) {
      assert.ok(field in cr, `Kantara field ${field}`);
    }
    assert.equal(cr.version, 'KI-CR-v1.1.0');
    assert.equal(cr.jurisdiction, 'DK');
    assert.equal(cr.piiPrincipalId, after!.id, 'the subject id, never the address');
    assert.ok(!attachment.content.includes('ditte'), 'no address in the receipt');
    assert.equal(typeof cr.consentTimestamp, 'number');
    assert.equal(cr.policyUrl, 'https://www.acme.dk/privatliv');
    const controllers = cr.piiControllers as Record<string, unknown>[];
    for (const k of ['piiController', 'contact', 'address', 'email', 'phone', 'piiControllerUrl']) assert.ok(k in controllers[0]!, k);
    assert.equal(controllers[0]!.email, 'privacy@acme.dk');
    const services = cr.services as { service: string; purposes: Record<string, unknown>[] }[];
    for (const k of ['purpose', 'purposeCategory', 'consentType', 'piiCategory', 'primaryPurpose', 'termination', 'thirdPartyDisclosure']) assert.ok(k in services[0]!.purposes[0]!, k);
    assert.equal(services[0]!.purposes[0]!.consentType, 'EXPLICIT');

    // Confirming again: nothing left, nothing recorded, no second receipt.
    const snap = await snapshot(t);
    const again = await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(again.status, 200);
    assert.equal(await snapshot(t), snap);
    assert.equal((await mailsTo(t, 'ditte.doi@example.dk', 'receipt')).length, 1);
    assert.ok((await verifyAll(t.services.db, t.services.crypto)).every((r) => r.ok));
  });

  it('answers the same status and body for a new, a pending, a confirmed and a suppressed address', async () => {
    await signUpConfirmed(t, 'confirmed@example.dk');
    await signup(t, bodyFor(f, { email: 'pending@example.dk' }));
    await t.services.queue.run((w) =>
      w.tx.execute({ sql: "INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ('acme', 'email', ?, 'listed', 'robinson', NULL, 0)", args: [t.services.crypto.blindIndex('acme', 'email', 'listed@example.dk')] }),
    );
    const answers = [];
    for (const email of ['new@example.dk', 'pending@example.dk', 'confirmed@example.dk', 'listed@example.dk']) {
      const res = await signup(t, bodyFor(f, { email }));
      answers.push({ status: res.status, body: await res.text(), type: res.headers.get('content-type') });
    }
    for (const a of answers) assert.deepEqual(a, answers[0]);
    assert.equal(answers[0]!.status, 202);
    // The listed address: nothing recorded, nothing sent.
    assert.equal(await subjectByEmail(t, 'listed@example.dk'), undefined);
    assert.equal((await mailsTo(t, 'listed@example.dk')).length, 0);
    // The confirmed one: no mail (nothing new to confirm), still granted.
    assert.equal((await mailsTo(t, 'confirmed@example.dk', 'confirm')).length, 1);
    assert.equal(statusOf(await subjectByEmail(t, 'confirmed@example.dk'), 'e-marketing'), 'granted');
  });

  it('never downgrades a confirmed address, and records nothing for it', async () => {
    const email = 'never-down@example.dk';
    await signUpConfirmed(t, email);
    const before = await snapshot(t);
    for (let i = 0; i < 2; i++) assert.equal((await signup(t, bodyFor(f, { email }))).status, 202);
    assert.equal(await snapshot(t), before);
    assert.equal(statusOf(await subjectByEmail(t, email), 'e-marketing'), 'granted');
  });

  it('serves its own preference page: the widget and nothing else, with a strict CSP', async () => {
    const res = await request(t, '/preferences/acme');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<html lang="da">/);
    assert.match(html, /<title>[^<]+<\/title>/);
    assert.match(html, /<script type="module" src="\/samtykke\.js"><\/script>/);
    assert.match(html, /<consent-preferences site="acme"/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-eval|script-src[^;]*unsafe-inline/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    await expectError(await request(t, '/preferences/nope'), 404);
    await expectError(await request(t, '/preferences/..%2F..'), 404);
  });

  it('answers CORS preflights for the widget routes and documents the new routes', async () => {
    for (const path of ['/v1/sites/acme/signups', '/v1/sites/acme/signup-form', '/v1/sites/acme/preference-links']) {
      const res = await request(t, path, { method: 'OPTIONS', headers: { origin: 'https://www.acme.dk', 'access-control-request-method': 'POST' } });
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://www.acme.dk');
    }
    const spec = await json<{ paths: Record<string, Record<string, unknown>> }>(await request(t, '/openapi.json'), 200);
    for (const [path, method] of [
      ['/v1/sites/{site}/signup-form', 'get'],
      ['/v1/sites/{site}/signups', 'post'],
      ['/v1/sites/{site}/preference-links', 'post'],
      ['/v1/sites/{site}/subjects/{subject}/links', 'get'],
      ['/v1/confirm/{token}', 'post'],
      ['/v1/unsubscribe/{token}', 'post'],
      ['/v1/email-change/{token}', 'post'],
      ['/v1/sites/{site}/me', 'get'],
      ['/v1/sites/{site}/me', 'patch'],
      ['/v1/sites/{site}/me/consents/{purpose}', 'put'],
      ['/v1/sites/{site}/me/unsubscribe', 'post'],
      ['/v1/sites/{site}/me/restrict', 'post'],
      ['/v1/sites/{site}/me/export', 'get'],
      ['/v1/sites/{site}/me/erase', 'post'],
    ] as const) {
      assert.ok(spec.paths[path]?.[method], `${method} ${path} documented`);
    }
  });

  it('validates the new site settings, and links to the site’s own preference page when it has one', async () => {
    for (const body of [{ pendingDays: 0 }, { pendingDays: 91 }, { pendingDays: 2.5 }, { preferencesUrl: 'ftp://x.dk/p' }, { preferencesUrl: 'not a url' }, { controllerEmail: 'nope' }, { controllerAddress: 'a\nb' }]) {
      await expectError(await t.call('PATCH', '/v1/sites/acme', { body }), 400);
    }
    const site = await json<{ preferencesUrl: string; pendingDays: number; controllerEmail: string }>(
      await t.call('PATCH', '/v1/sites/acme', { body: { preferencesUrl: 'https://www.acme.dk/profil#top', pendingDays: 14 } }),
      200,
    );
    assert.equal(site.preferencesUrl, 'https://www.acme.dk/profil#top');
    assert.equal(site.pendingDays, 14);
    assert.equal(site.controllerEmail, 'privacy@acme.dk');
    const { receipt } = await signUpConfirmed(t, 'own-page@example.dk');
    assert.ok(receipt.text.includes('https://www.acme.dk/profil#token='), 'the site’s page, token in the fragment');
    assert.ok(!receipt.text.includes('localhost:8787/preferences'));
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { preferencesUrl: null, pendingDays: 7 } }), 200);
  });

  it('honeypot: 202 and nothing recorded', async () => {
    const before = await counts(t);
    const res = await signup(t, bodyFor(f, { email: 'bot@example.dk', website: 'http://spam.example' }));
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { status: 'accepted', confirmationSent: true });
    assert.deepEqual(await counts(t), before);
  });

  it('refuses a hash that is not the published text (409) and bad input (400), never 500', async () => {
    const body = bodyFor(f, { email: 'hash@example.dk' });
    body.purposes[0]!.sha256 = 'a'.repeat(64);
    await expectError(await signup(t, body), 409, 'wording_mismatch');
    const wrongLang = bodyFor(f, { email: 'hash@example.dk' });
    wrongLang.purposes[0]!.lang = 'en';
    await expectError(await signup(t, wrongLang), 409, 'wording_mismatch');
    const good = bodyFor(f, { email: 'hash@example.dk' });
    const bad: unknown[] = [
      { ...good, email: 'not-an-address' },
      { ...good, purposes: [] },
      { ...good, purposes: [{ ...good.purposes[0], wordingVersion: 99 }] },
      { ...good, purposes: [{ ...good.purposes[0], purpose: 'nope' }] },
      { ...good, purposes: [good.purposes[0], good.purposes[0]] },
      { ...good, lang: 'dansk' },
      { ...good, extra: 1 },
      { ...good, email: undefined },
      { ...good, phone: '12' },
      { ...good, name: 'x'.repeat(201) },
      { ...good, source: 'nope' },
      [],
      'null',
    ];
    for (const b of bad) {
      const res = await signup(t, b);
      assert.equal(res.status, 400, `${JSON.stringify(b)} → ${res.status}`);
    }
    const raw = await request(t, '/v1/sites/acme/signups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
    assert.equal(raw.status, 400);
    const text = await request(t, '/v1/sites/acme/signups', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(text.status, 415);
    assert.equal(await subjectByEmail(t, 'hash@example.dk'), undefined);
  });

  it('rate limits per address (3 an hour) and per IP (20 in 10 minutes) with Retry-After', async () => {
    const email = 'limited@example.dk';
    for (let i = 0; i < 3; i++) assert.equal((await signup(t, bodyFor(f, { email }), { ip: freshIp() })).status, 202);
    const limited = await signup(t, bodyFor(f, { email: 'LIMITED@example.dk' }), { ip: freshIp() });
    await expectError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await mailsTo(t, email, 'confirm')).length, 3);

    const ip = freshIp();
    for (let i = 0; i < 20; i++) assert.equal((await signup(t, bodyFor(f, { email: `ip-${i}@example.dk` }), { ip })).status, 202);
    const byIp = await signup(t, bodyFor(f, { email: 'ip-21@example.dk' }), { ip });
    await expectError(byIp, 429, 'rate_limited');
    const wait = Number(byIp.headers.get('retry-after'));
    assert.ok(wait > 0 && wait <= 600);
    assert.equal(await subjectByEmail(t, 'ip-21@example.dk'), undefined);
  });

  it('a tampered or foreign confirm link is a 403 page, and changes nothing', async () => {
    await signup(t, bodyFor(f, { email: 'tamper@example.dk' }));
    const [mail] = await mailsTo(t, 'tamper@example.dk', 'confirm');
    const url = linkIn(mail!.text, CONFIRM);
    const token = url.slice(CONFIRM.length);
    const tampered = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    const before = await snapshot(t);
    for (const tok of [tampered, 'garbage', 'x'.repeat(2000)]) {
      const res = await request(t, `/v1/confirm/${tok}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      assert.equal(res.status, 403);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.equal((await request(t, `/v1/confirm/${tok}`)).status, 403);
    }
    assert.equal(await snapshot(t), before);
  });
});

describe('signups without double opt-in, SMS, resubscribing, and expiry', () => {
  let t: TestApp;
  let now = Date.parse('2026-03-01T10:00:00Z');

  before(async () => {
    t = await makeApp({ now: () => now });
    await addSmsPurpose(t);
  });
  after(() => t.close());

  it('needs an e-mail with double opt-in, a phone for an SMS purpose (400 otherwise)', async () => {
    const f = await form(t, 'e-marketing,sms-offers');
    assert.deepEqual(f.fields, { email: 'required', phone: 'optional' });
    const noPhone = bodyFor(f, { email: 'sms@example.dk' });
    await expectError(await signup(t, noPhone), 400, 'phone_required');
    const smsOnly = bodyFor(await form(t, 'sms-offers'), { phone: '+45 20 30 40 50' });
    await expectError(await signup(t, smsOnly), 400, 'email_required');
    await expectError(await signup(t, bodyFor(f, { email: 'sms@example.dk', phone: '123456789012' })), 400, 'invalid_phone');
    // With both: the mail confirms the e-mail purpose; the SMS one waits for a YES from the phone.
    assert.equal((await signup(t, bodyFor(f, { email: 'sms@example.dk', phone: '20 30 40 50' }))).status, 202);
    const subject = await subjectByEmail(t, 'sms@example.dk');
    assert.equal(statusOf(subject, 'sms-offers'), 'pending');
    const [mail] = await mailsTo(t, 'sms@example.dk', 'confirm');
    assert.ok(mail!.text.includes('Tilbud på SMS'));
    assert.ok(mail!.text.includes('Tilmelding til SMS bekræfter du fra din telefon: svar JA på SMS’en fra Acme.'));
  });

  it('without double opt-in: granted at once and a receipt at once; a phone alone is enough for SMS', async () => {
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { doubleOptIn: false } }), 200);
    const f = await form(t, 'e-marketing');
    const res = await signup(t, bodyFor(f, { email: 'direct@example.dk' }));
    assert.deepEqual(await res.json(), { status: 'accepted', confirmationSent: false });
    assert.equal(statusOf(await subjectByEmail(t, 'direct@example.dk'), 'e-marketing'), 'granted');
    assert.equal((await mailsTo(t, 'direct@example.dk', 'confirm')).length, 0);
    const [receipt] = await fullMails(t, 'direct@example.dk', 'receipt');
    assert.ok(receipt?.headers['List-Unsubscribe']);
    assert.equal(receipt!.attachments.length, 1);

    const sms = await form(t, 'sms-offers');
    assert.deepEqual(sms.fields, { email: 'none', phone: 'required' });
    assert.equal((await signup(t, bodyFor(sms, { phone: '+45 31 32 33 34' }))).status, 202);
    const person = await json<{ consents: { purpose: string; status: string }[] }>(await t.call('GET', `/v1/sites/acme/subjects?phone=${encodeURIComponent('+4531323334')}`), 200);
    assert.equal(statusOf(person, 'sms-offers'), 'granted');
  });

  it('an address the person unsubscribed must confirm again, even without double opt-in; confirming lifts their own suppression', async () => {
    const email = 'comeback@example.dk';
    const f = await form(t, 'e-marketing');
    await signup(t, bodyFor(f, { email }));
    const [receipt] = await fullMails(t, email, 'receipt');
    const unsubscribe = receipt!.headers['List-Unsubscribe']!.slice(1, -1);
    const res = await request(t, pathOf(unsubscribe), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    assert.equal(res.status, 200);
    assert.equal(statusOf(await subjectByEmail(t, email), 'e-marketing'), 'withdrawn');

    const again = await signup(t, bodyFor(f, { email }));
    assert.deepEqual(await again.json(), { status: 'accepted', confirmationSent: false }, 'the same answer as anyone');
    assert.equal(statusOf(await subjectByEmail(t, email), 'e-marketing'), 'pending');
    const [confirm] = await mailsTo(t, email, 'confirm');
    assert.ok(confirm, 'a confirmation is required');
    const bidx = t.services.crypto.blindIndex('acme', 'email', email);
    const suppressed = async () => Number((await t.database.client.execute({ sql: 'SELECT count(*) AS n FROM suppressions WHERE bidx = ?', args: [bidx] })).rows[0]!.n);
    assert.equal(await suppressed(), 1);
    const url = linkIn(confirm!.text, CONFIRM);
    assert.equal((await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })).status, 200);
    assert.equal(statusOf(await subjectByEmail(t, email), 'e-marketing'), 'granted');
    assert.equal(await suppressed(), 0, 'their own unsubscribe is lifted');
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { doubleOptIn: true } }), 200);
  });

  it('expires unconfirmed signups after pendingDays: expire events, states deleted, the person erased', async () => {
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { pendingDays: 3 } }), 200);
    const f = await form(t, 'e-marketing');
    await signup(t, bodyFor(f, { email: 'lapse@example.dk' }));
    const subject = await subjectByEmail(t, 'lapse@example.dk');
    assert.equal(statusOf(subject, 'e-marketing'), 'pending');
    const [mail] = await mailsTo(t, 'lapse@example.dk', 'confirm');
    const url = linkIn(mail!.text, CONFIRM);

    now += 2 * 24 * 3600_000;
    let report = await runRetention(t.services);
    assert.equal(report.expiredSignups, 0);
    now += 2 * 24 * 3600_000;
    report = await runRetention(t.services);
    assert.ok(report.expiredSignups >= 1);
    assert.ok(report.erasedUnconfirmed >= 1);
    assert.equal(await subjectByEmail(t, 'lapse@example.dk'), undefined, 'no longer findable by address');
    const erased = await json<{ erased: boolean; consents: { status: string }[]; history: { action: string; evidence: unknown }[] }>(await t.call('GET', `/v1/sites/acme/subjects/${subject!.id}`), 200);
    assert.equal(erased.erased, true);
    assert.deepEqual(erased.history.map((h) => h.action), ['grant', 'expire', 'erase']);
    assert.equal(erased.history[0]!.evidence, null, 'evidence scrubbed');
    assert.ok(erased.consents.every((c) => c.status === 'none'));
    const { rows } = await t.database.client.execute({ sql: 'SELECT count(*) AS n FROM suppressions WHERE bidx = ?', args: [t.services.crypto.blindIndex('acme', 'email', 'lapse@example.dk')] });
    assert.equal(Number(rows[0]!.n), 0, 'no erasure suppression: they may sign up again');
    // The confirm link lapsed with it.
    assert.equal((await request(t, pathOf(url))).status, 410);
    assert.ok((await verifyAll(t.services.db, t.services.crypto)).every((r) => r.ok));
    // Idempotent.
    const again = await runRetention(t.services);
    assert.equal(again.expiredSignups, 0);
  });

  it('keeps a person who has other consents: only the pending purpose lapses', async () => {
    const f = await form(t, 'e-marketing');
    const sms = await form(t, 'sms-offers');
    await signup(t, bodyFor(sms, { email: 'keep@example.dk', phone: '+45 41 42 43 44' }));
    const [c1] = await mailsTo(t, 'keep@example.dk', 'confirm');
    assert.ok(c1!.text.includes('svar JA'), 'the mail says how SMS is confirmed');
    assert.deepEqual((await smsReply(t, '+4541424344', 'ja')).action, 'confirmed');
    await signup(t, bodyFor(f, { email: 'keep@example.dk' }));
    now += 4 * 24 * 3600_000;
    await runRetention(t.services);
    const s = await subjectByEmail(t, 'keep@example.dk');
    assert.ok(s && !s.erased);
    assert.equal(statusOf(s, 'sms-offers'), 'granted');
    assert.equal(statusOf(s, 'e-marketing'), 'none');
  });
});

/** Regressions of the security review of the subscription flows (issue 4). */
describe('signups: security review', () => {
  let t: TestApp;
  let now = Date.parse('2026-06-01T09:00:00Z');
  const post = (url: string) => request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  const suppressionRows = async (channel: string, bidx: string) =>
    (await t.database.client.execute({ sql: 'SELECT reason, purpose_id FROM suppressions WHERE channel = ? AND bidx = ? ORDER BY id', args: [channel, bidx] })).rows.map((r) => [
      String(r.reason),
      r.purpose_id === null ? null : String(r.purpose_id),
    ]);
  const insertSuppression = (channel: string, bidx: string, reason: string, purposeId: string | null = null) =>
    t.services.queue.run((w) =>
      w.tx.execute({ sql: "INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ('acme', ?, ?, ?, '', ?, 0)", args: [channel, bidx, reason, purposeId] }),
    );
  const phoneBidx = (phone: string) => t.services.crypto.blindIndex('acme', 'phone', phone);
  const emailBidx = (email: string) => t.services.crypto.blindIndex('acme', 'email', email);
  const purposeId = async (key: string) => String((await t.database.client.execute({ sql: "SELECT id FROM purposes WHERE site_id = 'acme' AND key = ?", args: [key] })).rows[0]!.id);

  before(async () => {
    t = await makeApp({ now: () => now });
    await addSmsPurpose(t);
    // A second e-mail purpose.
    await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'e-news', name: 'News', channel: 'email', legalBasis: '6-1-a' } }), 201);
    await json(await t.call('POST', '/v1/sites/acme/purposes/e-news/wordings', { body: { texts: { da: { title: 'Ugebrev', body: 'Ja tak til ugebrevet.' } } } }), 201);
    await json(await t.call('POST', '/v1/sites/acme/purposes/e-news/wordings/1/publish', { body: {} }), 200);
  });
  after(() => t.close());

  it('1: the mail confirms only e-mail purposes; a victim’s number is never granted by someone else’s mailbox; a YES from the phone confirms', async () => {
    const f = await form(t, 'e-marketing,sms-offers');
    assert.equal((await signup(t, bodyFor(f, { email: 'attacker@example.dk', phone: '+45 20 11 22 33' }))).status, 202);
    const [mail] = await mailsTo(t, 'attacker@example.dk', 'confirm');
    assert.ok(mail!.text.includes('svar JA på SMS’en fra Acme'), 'the mail says how SMS is confirmed');
    const url = linkIn(mail!.text, CONFIRM);
    const page = await (await request(t, pathOf(url))).text();
    assert.ok(page.includes('Tilbud på SMS') && page.includes('svar JA'), 'the page lists the SMS purpose with how it is confirmed');
    assert.equal((await post(url)).status, 200);
    let victim = await subjectByPhone(t, '+4520112233');
    assert.equal(statusOf(victim, 'e-marketing'), 'granted');
    assert.equal(statusOf(victim, 'sms-offers'), 'pending', 'the mailbox does not prove the phone');
    const [receipt] = await mailsTo(t, 'attacker@example.dk', 'receipt');
    assert.ok(!receipt!.text.includes('Tilbud på SMS'), 'the receipt names only what was confirmed');

    // The mailbox's preference link cannot grant it either: it waits for the phone.
    const token = tokenOf(linkIn(receipt!.text, 'http://localhost:8787/preferences/acme#token='));
    const view = await json<PreferencesView>(await request(t, '/v1/sites/acme/me', { headers: { authorization: `Bearer ${token}` } }), 200);
    const current = view.purposes.find((p) => p.key === 'sms-offers')!.current!;
    const toggled = await json<PreferencesView>(
      await request(t, '/v1/sites/acme/me/consents/sms-offers', {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ granted: true, wordingVersion: current.version, lang: current.lang, sha256: current.sha256 }),
      }),
      200,
    );
    assert.equal(toggled.purposes.find((p) => p.key === 'sms-offers')!.status, 'pending');

    // JA, OK mean nothing from a number with nothing pending; YES from the number confirms.
    assert.deepEqual(await smsReply(t, '+4520999999', 'ok'), { action: 'none', reply: null });
    const yes = await smsReply(t, '+45 20 11 22 33', ' yes ');
    assert.equal(yes.action, 'confirmed');
    assert.match(yes.reply!, /SMS fra Acme er bekræftet/);
    victim = await subjectByPhone(t, '+4520112233');
    assert.equal(statusOf(victim, 'sms-offers'), 'granted');
    const confirm = victim!.history.at(-1)!;
    assert.equal(confirm.action, 'confirm');
    assert.equal(confirm.purpose, 'sms-offers');
    assert.equal(confirm.actor, 'sms:inbound');
    assert.match(String(confirm.evidence?.note), /SMS keyword YES/);
    // The number's answer proves it: a grant on the page is now at once.
    assert.ok((await verifyAll(t.services.db, t.services.crypto)).every((r) => r.ok));
  });

  it('2: a confirm link confirms only what its mail showed, never a purpose signed up for later', async () => {
    const email = 'bound@example.dk';
    await signup(t, bodyFor(await form(t, 'e-marketing'), { email }));
    const [first] = await mailsTo(t, email, 'confirm');
    const firstUrl = linkIn(first!.text, CONFIRM);
    // Someone else adds another purpose before the person confirms.
    await signup(t, bodyFor(await form(t, 'e-news'), { email }));
    const mails = await mailsTo(t, email, 'confirm');
    assert.equal(mails.length, 2);
    const page = await (await request(t, pathOf(firstUrl))).text();
    assert.ok(!page.includes('Ugebrev'), 'the first page does not show the later purpose');
    assert.match(page, /<form method="post">/);
    assert.equal((await post(firstUrl)).status, 200);
    let s = await subjectByEmail(t, email);
    assert.equal(statusOf(s, 'e-marketing'), 'granted');
    assert.equal(statusOf(s, 'e-news'), 'pending', 'not confirmed by the earlier link');
    // The first link has nothing more to confirm; the second mail's link confirms the rest.
    const before = await snapshot(t);
    assert.equal((await post(firstUrl)).status, 200);
    assert.equal(await snapshot(t), before);
    const second = mails.find((m) => m.text.includes('Ugebrev'))!;
    assert.equal((await post(linkIn(second.text, CONFIRM))).status, 200);
    s = await subjectByEmail(t, email);
    assert.equal(statusOf(s, 'e-news'), 'granted');
  });

  it('3: a signup never changes a known person: no phone, name or language written, no SMS purpose for someone else’s number, no name in the mail', async () => {
    const email = 'known@example.dk';
    await signUpConfirmed(t, email, 'e-marketing', { name: 'Vera Known' });
    const subject = await subjectByEmail(t, email);
    const row = async () => (await t.database.client.execute({ sql: 'SELECT phone_bidx, phone_enc, name_enc, lang, updated_at FROM subjects WHERE id = ?', args: [subject!.id] })).rows[0];
    const before = await row();
    const f = await form(t, 'e-news,sms-offers', 'en');
    assert.equal((await signup(t, bodyFor(f, { email, phone: '+45 20 99 88 77', name: 'Click https://evil.example now' }))).status, 202);
    assert.deepEqual(await row(), before, 'the person’s row is untouched');
    const after = await subjectByEmail(t, email);
    assert.equal(statusOf(after, 'sms-offers'), 'none', 'no SMS purpose: the number is not theirs');
    assert.equal(statusOf(after, 'e-news'), 'pending');
    assert.equal(await subjectByPhone(t, '+4520998877'), undefined, 'the number is stored nowhere');
    const [mail] = await mailsTo(t, email, 'confirm');
    assert.ok(!mail!.text.includes('evil') && !mail!.text.includes('Vera'), 'greets without a name');
    assert.match(mail!.text, /^Hej,$/m, 'in the person’s language, not the form’s');

    // A person with a number: another number in the form does not sign up theirs.
    const withPhone = 'has-phone@example.dk';
    await signUpConfirmed(t, withPhone, 'e-marketing', { phone: '+45 20 12 12 12' });
    await signup(t, bodyFor(await form(t, 'sms-offers'), { email: withPhone, phone: '+45 20 34 34 34' }));
    assert.equal(statusOf(await subjectByEmail(t, withPhone), 'sms-offers'), 'none');
  });

  it('4: SMS opt-outs count: a STOP, list, bounce or complaint drops the SMS purposes; the person’s own unsubscribe or erasure needs a YES even without double opt-in', async () => {
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { doubleOptIn: false } }), 200);
    try {
      const sms = await form(t, 'sms-offers');
      // A STOP: the number becomes a person with only the STOP.
      await smsReply(t, '+4520600001', 'STOP');
      await insertSuppression('sms', phoneBidx('+4520600002'), 'listed');
      await insertSuppression('sms', phoneBidx('+4520600003'), 'complained');
      for (const phone of ['+4520600001', '+4520600002', '+4520600003']) {
        const res = await signup(t, bodyFor(sms, { phone }));
        assert.equal(res.status, 202, phone);
        assert.deepEqual(await res.json(), { status: 'accepted', confirmationSent: false });
        assert.equal(statusOf(await subjectByPhone(t, phone), 'sms-offers') ?? 'none', 'none', phone);
      }
      // With an e-mail too: the e-mail purpose is granted, the SMS one left out.
      await signup(t, bodyFor(await form(t, 'e-marketing,sms-offers'), { email: 'listed-phone@example.dk', phone: '+4520600002' }));
      const mixed = await subjectByEmail(t, 'listed-phone@example.dk');
      assert.equal(statusOf(mixed, 'e-marketing'), 'granted');
      assert.equal(statusOf(mixed, 'sms-offers'), 'none');

      // Their own erasure of the number: pending until a YES, which lifts it.
      const erased = '+4520600004';
      await insertSuppression('sms', phoneBidx(erased), 'erased');
      await signup(t, bodyFor(sms, { phone: erased }));
      assert.equal(statusOf(await subjectByPhone(t, erased), 'sms-offers'), 'pending');
      assert.equal((await smsReply(t, erased, 'JA')).action, 'confirmed');
      assert.equal(statusOf(await subjectByPhone(t, erased), 'sms-offers'), 'granted');
      assert.deepEqual(await suppressionRows('sms', phoneBidx(erased)), [], 'their erasure is lifted by their own YES');

      // An own unsubscribe from another purpose does not apply; from this one (or all) it does.
      const other = '+4520600005';
      await insertSuppression('sms', phoneBidx(other), 'unsubscribe', await purposeId('e-news'));
      await signup(t, bodyFor(sms, { phone: other }));
      assert.equal(statusOf(await subjectByPhone(t, other), 'sms-offers'), 'granted');
      const own = '+4520600006';
      await insertSuppression('sms', phoneBidx(own), 'unsubscribe', await purposeId('sms-offers'));
      await signup(t, bodyFor(sms, { phone: own }));
      assert.equal(statusOf(await subjectByPhone(t, own), 'sms-offers'), 'pending');
      // Without any: granted at once, the owner's choice.
      await signup(t, bodyFor(sms, { phone: '+4520600007' }));
      assert.equal(statusOf(await subjectByPhone(t, '+4520600007'), 'sms-offers'), 'granted');
    } finally {
      await json(await t.call('PATCH', '/v1/sites/acme', { body: { doubleOptIn: true } }), 200);
    }
  });

  it('5: confirming lifts only the opt-outs it answers, never an unsubscribe from another purpose', async () => {
    const email = 'scoped@example.dk';
    await signUpConfirmed(t, email, 'e-marketing');
    const subject = await subjectByEmail(t, email);
    const links = await json<{ unsubscribeUrl: string }>(await t.call('GET', `/v1/sites/acme/subjects/${subject!.id}/links?purpose=e-marketing`), 200);
    await request(t, pathOf(links.unsubscribeUrl), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    const emarketing = await purposeId('e-marketing');
    assert.deepEqual(await suppressionRows('email', emailBidx(email)), [['unsubscribe', emarketing]]);
    // Signs up for another purpose and confirms it.
    await signup(t, bodyFor(await form(t, 'e-news'), { email }));
    const mails = await mailsTo(t, email, 'confirm');
    assert.equal((await post(linkIn(mails[0]!.text, CONFIRM))).status, 200);
    const after = await subjectByEmail(t, email);
    assert.equal(statusOf(after, 'e-news'), 'granted');
    assert.equal(statusOf(after, 'e-marketing'), 'withdrawn');
    assert.deepEqual(await suppressionRows('email', emailBidx(email)), [['unsubscribe', emarketing]], 'the e-marketing unsubscribe stays');
  });

  it('7: expiry erases only a person the signup created; someone on record before keeps their record', async () => {
    // On record through the API, with no consent left (a withdrawal).
    const email = 'on-record@example.dk';
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email, purpose: 'e-marketing', action: 'withdraw' } }), 201);
    now += 60_000;
    await signup(t, bodyFor(await form(t, 'e-marketing'), { email }));
    const before = await subjectByEmail(t, email);
    assert.equal(statusOf(before, 'e-marketing'), 'pending');
    // And one the signup itself created.
    await signup(t, bodyFor(await form(t, 'e-marketing'), { email: 'fresh-lapse@example.dk' }));
    now += 8 * 24 * 3600_000;
    const report = await runRetention(t.services);
    assert.ok(report.expiredSignups >= 2);
    const kept = await subjectByEmail(t, email);
    assert.ok(kept && !kept.erased, 'still on record, findable by address');
    assert.equal(kept.id, before!.id);
    assert.equal(statusOf(kept, 'e-marketing'), 'none', 'the pending state is gone');
    assert.deepEqual(kept.history.map((h) => h.action), ['withdraw', 'grant', 'expire']);
    assert.ok(kept.history[0]!.evidence, 'nothing scrubbed');
    assert.equal(await subjectByEmail(t, 'fresh-lapse@example.dk'), undefined, 'the person the signup created is erased');
    assert.ok((await verifyAll(t.services.db, t.services.crypto)).every((r) => r.ok));
  });
});
