/**
 * Inbound SMS: Twilio's signed webhook and the JSON variant; STOP, START and HELP
 * keywords against the real ledger, suppressions and consent states; retries; and no
 * plaintext phone number or secret at rest.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_PUBLIC_URL } from '../../server/app';
import { matchKeyword, signInbound, twilioSignature, twiml, verifyInboundSignature, verifyTwilioSignature } from '../../server/services/sms';
import { verifyAll } from '../../server/services/verify';
import { makeApp, type TestApp, json } from './helpers';
import { bodyFor, form, signup } from './subscription-helpers';

const TOKEN = 'twilio-auth-token-0123456789abcdef';
const SECRET = 'inbound-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const TWILIO_PATH = '/v1/sites/acme/sms/twilio';
const INBOUND_PATH = '/v1/sites/acme/sms/inbound';


/** Signed independently of the server's helper: Twilio's documented algorithm written out. */
function sign(token: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

let sid = 0;
const nextSid = () => `SM${String(++sid).padStart(32, '0')}`;

function twilio(t: TestApp, fields: { From: string; Body: string; MessageSid?: string }, options: { token?: string; signature?: string | null; url?: string; query?: string } = {}) {
  const params: Record<string, string> = { AccountSid: 'AC00000000000000000000000000000000', To: '+4570707070', NumSegments: '1', MessageSid: nextSid(), ...fields };
  const query = options.query ?? '';
  const signature = options.signature === undefined ? sign(options.token ?? TOKEN, (options.url ?? DEFAULT_PUBLIC_URL + TWILIO_PATH) + query, params) : options.signature;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signature !== null) headers['x-twilio-signature'] = signature;
  // The Host the request arrives with is not the public URL: it must not matter.
  return Promise.resolve(t.app.request(`http://10.0.0.7:8787${TWILIO_PATH}${query}`, { method: 'POST', headers, body: new URLSearchParams(params).toString() }));
}

function inbound(t: TestApp, body: unknown, options: { secret?: string; header?: string | null; at?: number } = {}) {
  const raw = JSON.stringify(body);
  const header = options.header === undefined ? signInbound(options.secret ?? SECRET, raw, options.at ?? Date.now()) : options.header;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (header !== null) headers['x-samtykke-signature'] = header;
  return Promise.resolve(t.app.request(INBOUND_PATH, { method: 'POST', headers, body: raw }));
}

async function counts(t: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['consent_events', 'consent_states', 'suppressions', 'subjects', 'sms_messages']) {
    const { rows } = await t.database.client.execute(`SELECT count(*) AS n FROM ${table}`);
    out[table] = Number(rows[0]!.n);
  }
  return out;
}

async function phoneState(t: TestApp, phone: string) {
  const res = await t.call('GET', `/v1/sites/acme/subjects?phone=${encodeURIComponent(phone)}`);
  if (res.status === 404) return undefined;
  return json<{ id: string; consents: { purpose: string; status: string }[]; history: { action: string; purpose: string | null; actor: string; source: string | null; evidence: { note?: string } | null }[] }>(res, 200);
}

async function suppressedCount(t: TestApp, phone: string): Promise<number> {
  const bidx = t.services.crypto.blindIndex('acme', 'phone', phone);
  const { rows } = await t.database.client.execute({ sql: "SELECT count(*) AS n FROM suppressions WHERE channel = 'sms' AND bidx = ? AND reason = 'sms-stop'", args: [bidx] });
  return Number(rows[0]!.n);
}

function message(xml: string): string | null {
  const m = /<Message>([\s\S]*)<\/Message>/.exec(xml);
  return m ? m[1]! : null;
}

describe('SMS signatures (units)', () => {
  it("reproduces Twilio's published test vector (twilio-csharp RequestValidatorTest)", () => {
    const params: [string, string][] = [
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+14158675309'],
      ['Digits', '1234'],
      ['From', '+14158675309'],
      ['To', '+18005551212'],
    ];
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    assert.equal(twilioSignature('12345', url, params), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    // Order of the parameters as sent does not matter; the signature sorts them.
    assert.equal(verifyTwilioSignature('12345', url, [...params].reverse(), 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), true);
    assert.equal(verifyTwilioSignature('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), true);
    assert.equal(verifyTwilioSignature('12346', url, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), false);
    assert.equal(verifyTwilioSignature('12345', url + '&x=1', params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), false);
    assert.equal(verifyTwilioSignature('12345', url, params, undefined), false);
    assert.equal(verifyTwilioSignature('12345', url, params, 'short'), false);
  });

  it("reproduces the example in Twilio's security docs (twilio-ruby snippet)", () => {
    const params: [string, string][] = [
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+12349013030'],
      ['Digits', '1234'],
      ['From', '+12349013030'],
      ['To', '+18005551212'],
    ];
    assert.equal(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params), '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('checks the JSON variant: t and v1, a five-minute window, timing-safe', () => {
    const now = 1_800_000_000_000;
    const raw = '{"from":"+4512345678"}';
    const t = Math.floor(now / 1000);
    const v1 = createHmac('sha256', SECRET).update(`${t}.${raw}`).digest('hex');
    assert.equal(signInbound(SECRET, raw, now), `t=${t},v1=${v1}`);
    assert.equal(verifyInboundSignature(SECRET, `t=${t},v1=${v1}`, raw, now), true);
    assert.equal(verifyInboundSignature(SECRET, `t=${t}, v1=deadbeef, v1=${v1}`, raw, now + 299_000), true, 'rotation: any v1 may match');
    assert.equal(verifyInboundSignature(SECRET, `t=${t},v1=${v1}`, raw, now + 301_000), false, 'stale');
    assert.equal(verifyInboundSignature(SECRET, `t=${t},v1=${v1}`, raw, now - 301_000), false, 'from the future');
    assert.equal(verifyInboundSignature(SECRET, `t=${t},v1=${v1}`, raw + ' ', now), false, 'body changed');
    assert.equal(verifyInboundSignature(SECRET, `t=${t + 1},v1=${v1}`, raw, now), false, 'timestamp changed');
    assert.equal(verifyInboundSignature('another-secret', `t=${t},v1=${v1}`, raw, now), false);
    assert.equal(verifyInboundSignature(SECRET, `v1=${v1}`, raw, now), false);
    assert.equal(verifyInboundSignature(SECRET, undefined, raw, now), false);
  });

  it('matches whole-message keywords only', () => {
    assert.deepEqual(matchKeyword('  stop \n'), { kind: 'stop', word: 'STOP' });
    assert.deepEqual(matchKeyword('Afmeld'), { kind: 'stop', word: 'AFMELD' });
    assert.equal(matchKeyword('please stop')?.kind, undefined);
    assert.equal(matchKeyword('yes')?.kind, 'start');
    assert.deepEqual(matchKeyword(' Ja '), { kind: 'confirm', word: 'JA' });
    assert.equal(matchKeyword('ok')?.kind, 'confirm');
    assert.equal(matchKeyword('ja tak'), null, 'single words only');
    assert.equal(matchKeyword('info')?.kind, 'help');
    assert.equal(matchKeyword('SLUT', { stop: ['SLUT'], start: [] })?.kind, 'stop');
    assert.equal(matchKeyword(''), null);
  });

  it('escapes the TwiML reply', () => {
    assert.equal(twiml('a & <b> "c"'), '<?xml version="1.0" encoding="UTF-8"?><Response><Message>a &amp; &lt;b&gt; &quot;c&quot;</Message></Response>');
    assert.equal(twiml(null), '<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
  });
});

describe('SMS webhooks', () => {
  let t: TestApp;

  before(async () => {
    t = await makeApp();
    // An SMS purpose with a published Danish wording.
    await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'sms-offers', channel: 'sms', legalBasis: '6-1-a', name: 'SMS offers' } }), 201);
    await json(
      await t.call('POST', '/v1/sites/acme/purposes/sms-offers/wordings', {
        body: { texts: { da: { title: 'Tilbud på SMS', body: 'Ja tak, send mig tilbud på SMS. Svar STOP for at afmelde.' }, en: { title: 'Offers by SMS', body: 'Yes, send me offers by SMS. Reply STOP to unsubscribe.' } } },
      }),
      201,
    );
    await json(await t.call('POST', '/v1/sites/acme/purposes/sms-offers/wordings/1/publish', { body: {} }), 200);
  });
  after(() => t.close());

  async function grantSms(phone: string) {
    return json<{ subjectId: string }>(
      await t.call('POST', '/v1/sites/acme/consents', { body: { phone, purpose: 'sms-offers', action: 'grant', wordingVersion: 1, source: 'web-form' } }),
      201,
    );
  }

  describe('site settings', () => {
    it('starts with no Twilio token, no inbound secret and the built-in help texts', async () => {
      const site = await json<Record<string, unknown>>(await t.call('GET', '/v1/sites/acme'), 200);
      assert.equal(site.twilioConfigured, false);
      assert.equal(site.smsInboundConfigured, false);
      assert.deepEqual(site.smsHelpText, {});
      assert.deepEqual(site.smsKeywords, { stop: [], start: [] });
    });

    it('refuses every webhook while no secret is set (403, nothing recorded)', async () => {
      const before = await counts(t);
      const res = await twilio(t, { From: '+4520000001', Body: 'STOP' });
      assert.equal(res.status, 403);
      assert.equal((await res.json()).error.code, 'bad_signature');
      assert.equal((await inbound(t, { from: '+4520000001', body: 'STOP', messageId: 'x-1' })).status, 403);
      assert.deepEqual(await counts(t), before);
    });

    it('stores the secrets write-only and encrypted; validates them', async () => {
      const site = await json<Record<string, unknown>>(await t.call('PATCH', '/v1/sites/acme', { body: { twilioAuthToken: TOKEN, smsInboundSecret: SECRET } }), 200);
      assert.equal(site.twilioConfigured, true);
      assert.equal(site.smsInboundConfigured, true);
      assert.ok(!JSON.stringify(site).includes(TOKEN) && !JSON.stringify(site).includes(SECRET));
      const { rows } = await t.database.client.execute("SELECT twilio_auth_token_enc, sms_inbound_secret_enc FROM sites WHERE id = 'acme'");
      assert.match(String(rows[0]!.twilio_auth_token_enc), /^v1\./);
      assert.ok(!String(rows[0]!.twilio_auth_token_enc).includes(TOKEN));
      const { rows: audit } = await t.database.client.execute("SELECT details FROM audit_log WHERE action = 'site.update'");
      assert.ok(!JSON.stringify(audit).includes(TOKEN), 'the audit names fields, not values');
      assert.equal((await t.call('PATCH', '/v1/sites/acme', { body: { smsInboundSecret: 'too short' } })).status, 400);
      assert.equal((await t.call('PATCH', '/v1/sites/acme', { body: { smsKeywords: { stop: ['HELP'], start: [] } } })).status, 400);
      assert.equal((await t.call('PATCH', '/v1/sites/acme', { body: { smsKeywords: { stop: ['slut'], start: ['SLUT'] } } })).status, 400);
      assert.equal((await t.call('PATCH', '/v1/sites/acme', { body: { smsHelpText: { da: '' } } })).status, 400);
    });
  });

  describe('Twilio', () => {
    it('accepts a signed webhook and answers TwiML in Danish; STOP suppresses and records', async () => {
      const phone = '+4521000001';
      const { subjectId } = await grantSms(phone);
      const res = await twilio(t, { From: phone, Body: 'STOP' });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/xml/);
      const xml = await res.text();
      assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>'));
      assert.match(message(xml)!, /afmeldt SMS fra Acme/);
      assert.equal(await suppressedCount(t, phone), 1);
      const s = (await phoneState(t, phone))!;
      assert.equal(s.id, subjectId);
      assert.equal(s.consents.find((c) => c.purpose === 'sms-offers')!.status, 'withdrawn');
      const stop = s.history.at(-1)!;
      assert.equal(stop.action, 'sms-stop');
      assert.equal(stop.purpose, 'sms-offers');
      assert.equal(stop.actor, 'sms:twilio');
      assert.equal(stop.source, 'sms');
      assert.match(stop.evidence!.note!, /SMS keyword STOP/);
      // The e-mail purposes were not touched.
      assert.notEqual(s.consents.find((c) => c.purpose === 'e-marketing')!.status, 'withdrawn');
    });

    it('refuses a bad, missing or foreign-URL signature with 403 and changes nothing', async () => {
      const phone = '+4521000002';
      await grantSms(phone);
      const before = await counts(t);
      const cases = [
        await twilio(t, { From: phone, Body: 'STOP' }, { signature: null }),
        await twilio(t, { From: phone, Body: 'STOP' }, { signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }),
        await twilio(t, { From: phone, Body: 'STOP' }, { token: 'another-token-0123456789' }),
        // Signed for the address the request came in at (the Host header), not PUBLIC_URL.
        await twilio(t, { From: phone, Body: 'STOP' }, { url: `http://10.0.0.7:8787${TWILIO_PATH}` }),
        // Signed without the query the request carries.
        await twilio(t, { From: phone, Body: 'STOP' }, { query: '?x=1', url: `${DEFAULT_PUBLIC_URL}${TWILIO_PATH}?y=2` }),
      ];
      for (const res of cases) assert.equal(res.status, 403);
      assert.deepEqual(await counts(t), before);
      assert.equal(await suppressedCount(t, phone), 0);
      // A signed body that was altered in transit.
      const params = { From: phone, Body: 'HELLO', MessageSid: nextSid() };
      const sig = sign(TOKEN, DEFAULT_PUBLIC_URL + TWILIO_PATH, params);
      const tampered = await t.app.request(TWILIO_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig },
        body: new URLSearchParams({ ...params, Body: 'STOP' }).toString(),
      });
      assert.equal(tampered.status, 403);
      assert.deepEqual(await counts(t), before);
    });

    it('signs over the query string too', async () => {
      const res = await twilio(t, { From: '+4521000003', Body: 'HELP' }, { query: '?tenant=acme' });
      assert.equal(res.status, 200);
    });

    it('honours every STOP word in any case and with surrounding space', async () => {
      const words = ['STOP', 'stop', '  Stop  ', 'STOPALL', 'unsubscribe', 'Cancel', 'END', 'quit', 'Stopp', 'afmeld', 'AVMELD', '\tAfmeld\n'];
      for (const [i, word] of words.entries()) {
        const phone = `+452200${String(i).padStart(4, '0')}`;
        await grantSms(phone);
        const res = await twilio(t, { From: phone, Body: word });
        assert.equal(res.status, 200, word);
        assert.match(message(await res.text()) ?? '', /afmeldt/, word);
        assert.equal(await suppressedCount(t, phone), 1, word);
        const s = (await phoneState(t, phone))!;
        assert.equal(s.history.at(-1)!.action, 'sms-stop', word);
        assert.equal(s.consents.find((c) => c.purpose === 'sms-offers')!.status, 'withdrawn', word);
      }
    });

    it('honours a STOP from a number nobody is known by, and makes it provable', async () => {
      const phone = '+4523000001';
      assert.equal(await phoneState(t, phone), undefined);
      const res = await twilio(t, { From: phone, Body: 'stop' });
      assert.equal(res.status, 200);
      assert.equal(await suppressedCount(t, phone), 1);
      const s = (await phoneState(t, phone))!;
      assert.deepEqual(s.history.map((h) => [h.action, h.purpose]), [['sms-stop', null]]);
      assert.ok(s.consents.every((c) => c.status === 'none'));
      // A national-format number reaches the same person.
      assert.equal((await phoneState(t, '23 00 00 01'))!.id, s.id);
    });

    it('START after STOP restores only the earlier grant and lifts the suppression', async () => {
      const phone = '+4524000001';
      await grantSms(phone);
      // Another SMS purpose the person never granted.
      await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'sms-service', channel: 'sms', legalBasis: '6-1-b', name: 'SMS service' } }), 201);
      await twilio(t, { From: phone, Body: 'STOP' });
      assert.equal(await suppressedCount(t, phone), 1);
      const res = await twilio(t, { From: phone, Body: 'Start' });
      assert.equal(res.status, 200);
      assert.match(message(await res.text())!, /tilmeldt SMS fra Acme igen/);
      assert.equal(await suppressedCount(t, phone), 0);
      const s = (await phoneState(t, phone))!;
      assert.equal(s.consents.find((c) => c.purpose === 'sms-offers')!.status, 'granted');
      assert.equal(s.consents.find((c) => c.purpose === 'sms-service')!.status, 'none');
      assert.deepEqual(s.history.map((h) => h.action), ['grant', 'sms-stop', 'sms-start']);
      // A second START finds nothing more to restore.
      const again = await twilio(t, { From: phone, Body: 'YES' });
      assert.match(message(await again.text())!, /intet er ændret/);
      assert.equal((await phoneState(t, phone))!.history.length, 3);
    });

    it('START does not restore a purpose the person withdrew themselves before the STOP', async () => {
      const phone = '+4524000002';
      await grantSms(phone);
      await json(await t.call('POST', '/v1/sites/acme/consents', { body: { phone, purpose: 'sms-offers', action: 'withdraw' } }), 201);
      await twilio(t, { From: phone, Body: 'STOP' });
      const before = await counts(t);
      const res = await twilio(t, { From: phone, Body: 'UNSTOP' });
      assert.match(message(await res.text())!, /intet er ændret/);
      const after = await counts(t);
      assert.deepEqual({ ...after, sms_messages: 0 }, { ...before, sms_messages: 0 });
      assert.equal(await suppressedCount(t, phone), 1);
      assert.equal((await phoneState(t, phone))!.consents.find((c) => c.purpose === 'sms-offers')!.status, 'withdrawn');
    });

    it('START with no earlier grant changes nothing', async () => {
      const before = await counts(t);
      const res = await twilio(t, { From: '+4524000003', Body: 'START' });
      assert.equal(res.status, 200);
      assert.match(message(await res.text())!, /ingen tidligere tilmelding/);
      const after = await counts(t);
      assert.deepEqual({ ...after, sms_messages: 0 }, { ...before, sms_messages: 0 });
      assert.equal(await phoneState(t, '+4524000003'), undefined);
    });

    it('HELP answers with the built-in text, then with the site text; other messages get an empty answer', async () => {
      const before = await counts(t);
      const help = await twilio(t, { From: '+4525000001', Body: 'help' });
      assert.match(message(await help.text())!, /^Acme: Send STOP/);
      await json(await t.call('PATCH', '/v1/sites/acme', { body: { smsHelpText: { da: 'Acme & Co: skriv STOP <for> at afmelde', en: 'Acme: reply STOP' } } }), 200);
      const custom = await (await twilio(t, { From: '+4525000001', Body: ' INFO ' })).text();
      assert.equal(message(custom), 'Acme &amp; Co: skriv STOP &lt;for&gt; at afmelde');
      const other = await twilio(t, { From: '+4525000001', Body: 'Hvornår åbner I?' });
      assert.equal(await other.text(), '<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
      assert.deepEqual(await counts(t), before);
    });

    it('answers in the site language', async () => {
      await json(await t.call('PATCH', '/v1/sites/acme', { body: { defaultLanguage: 'nb' } }), 200);
      try {
        const res = await twilio(t, { From: '+4525000002', Body: 'STOPP' });
        assert.match(message(await res.text())!, /meldt av SMS fra Acme/);
      } finally {
        await json(await t.call('PATCH', '/v1/sites/acme', { body: { defaultLanguage: 'da' } }), 200);
      }
    });

    it('site STOP and START words work like the built-in ones', async () => {
      await json(await t.call('PATCH', '/v1/sites/acme', { body: { smsKeywords: { stop: ['slut'], start: ['igen'] } } }), 200);
      const phone = '+4525000003';
      await grantSms(phone);
      await twilio(t, { From: phone, Body: 'Slut' });
      assert.equal(await suppressedCount(t, phone), 1);
      await twilio(t, { From: phone, Body: 'IGEN' });
      assert.equal(await suppressedCount(t, phone), 0);
      assert.equal((await phoneState(t, phone))!.consents.find((c) => c.purpose === 'sms-offers')!.status, 'granted');
    });

    it('a retried MessageSid is answered the same and recorded once', async () => {
      const phone = '+4526000001';
      await grantSms(phone);
      const MessageSid = nextSid();
      const first = await (await twilio(t, { From: phone, Body: 'STOP', MessageSid })).text();
      const before = await counts(t);
      const [a, b] = await Promise.all([twilio(t, { From: phone, Body: 'STOP', MessageSid }), twilio(t, { From: phone, Body: 'STOP', MessageSid })]);
      assert.equal(await a.text(), first);
      assert.equal(await b.text(), first);
      assert.deepEqual(await counts(t), before);
      // Replaying an old STOP after a START does not stop the person again.
      await twilio(t, { From: phone, Body: 'START' });
      await twilio(t, { From: phone, Body: 'STOP', MessageSid });
      assert.equal(await suppressedCount(t, phone), 0);
      const history = (await phoneState(t, phone))!.history.map((h) => h.action);
      assert.deepEqual(history, ['grant', 'sms-stop', 'sms-start']);
    });

    it('refuses other content types and unknown sites', async () => {
      const res = await t.app.request(TWILIO_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 415);
      const unknown = await t.app.request('/v1/sites/nope/sms/twilio', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'From=1' });
      assert.equal(unknown.status, 404);
    });
  });

  describe('JSON variant', () => {
    it('acts on a well-signed message and answers what it did', async () => {
      const phone = '+4527000001';
      await grantSms(phone);
      const stop = await json<{ action: string; reply: string }>(await inbound(t, { from: phone, to: '1234', body: ' Stop ', messageId: 'prov-msg-7f3a9c' }), 200);
      assert.equal(stop.action, 'stopped');
      assert.match(stop.reply, /afmeldt/);
      assert.equal(await suppressedCount(t, phone), 1);
      const s = (await phoneState(t, phone))!;
      assert.equal(s.history.at(-1)!.actor, 'sms:inbound');
      const retry = await json<{ action: string }>(await inbound(t, { from: phone, to: '1234', body: ' Stop ', messageId: 'prov-msg-7f3a9c' }), 200);
      assert.equal(retry.action, 'stopped');
      assert.equal((await phoneState(t, phone))!.history.length, s.history.length);
      const start = await json<{ action: string }>(await inbound(t, { from: phone, body: 'start', messageId: 'm-2' }), 200);
      assert.equal(start.action, 'started');
      assert.deepEqual(await json(await inbound(t, { from: phone, body: 'hello', messageId: 'm-3' }), 200), { action: 'none', reply: null });
      assert.equal((await json<{ action: string }>(await inbound(t, { from: phone, body: 'help', messageId: 'm-4' }), 200)).action, 'help');
    });

    it('refuses bad, missing and stale signatures with 403 and records nothing', async () => {
      const phone = '+4527000002';
      await grantSms(phone);
      const before = await counts(t);
      const body = { from: phone, body: 'STOP', messageId: 'm-bad' };
      const raw = JSON.stringify(body);
      const stale = signInbound(SECRET, raw, Date.now() - 6 * 60_000);
      for (const res of [
        await inbound(t, body, { header: null }),
        await inbound(t, body, { secret: 'another-secret-0123456789abcdefghijklmnop' }),
        await inbound(t, body, { header: stale }),
        await inbound(t, body, { at: Date.now() + 6 * 60_000 }),
        await inbound(t, body, { header: signInbound(SECRET, JSON.stringify({ ...body, body: 'HELP' }), Date.now()) }),
        await inbound(t, body, { header: 'garbage' }),
      ]) {
        assert.equal(res.status, 403);
      }
      assert.deepEqual(await counts(t), before);
      assert.equal(await suppressedCount(t, phone), 0);
    });

    it('validates a signed body', async () => {
      const res = await inbound(t, { from: '+4527000003', body: 'STOP' });
      const err = await json<{ error: { code: string; details: { field?: string }[] } }>(res, 400);
      assert.equal(err.error.details[0]!.field, 'messageId');
      const raw = 'not json';
      const bad = await t.app.request(INBOUND_PATH, { method: 'POST', headers: { 'content-type': 'application/json', 'x-samtykke-signature': signInbound(SECRET, raw, Date.now()) }, body: raw });
      assert.equal(bad.status, 400);
    });
  });

  describe('afterwards', () => {
    it('documents both routes under SMS', async () => {
      const doc = await json<{ paths: Record<string, Record<string, { tags: string[] }>> }>(await t.call('GET', '/openapi.json', { key: null }), 200);
      assert.deepEqual(doc.paths['/v1/sites/{site}/sms/twilio']?.post?.tags, ['SMS']);
      assert.deepEqual(doc.paths['/v1/sites/{site}/sms/inbound']?.post?.tags, ['SMS']);
    });

    it('keeps no plaintext phone number, message id, token or secret at rest', async () => {
      await t.services.queue.idle();
      const needles = ['+4521000001', '21000001', '+4523000001', '23000001', '+4527000001', 'prov-msg-7f3a9c', TOKEN, SECRET, 'Hvornår åbner I'];
      const files = [t.file, `${t.file}-wal`, `${t.file}-shm`, `${t.file}-journal`].filter(existsSync);
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
      const text = bytes.toString('latin1');
      const utf16 = bytes.toString('utf16le');
      assert.ok(text.includes('SQLite format 3'));
      assert.ok(bytes.includes(Buffer.from('Tilbud på SMS')), 'sanity: wording texts are in the clear');
      for (const n of needles) assert.ok(!bytes.includes(Buffer.from(n)) && !text.includes(n) && !utf16.includes(n), `found ${n}`);
      const { rows } = await t.database.client.execute('SELECT * FROM sms_messages');
      assert.ok(rows.length > 0);
      assert.ok(!JSON.stringify(rows).includes('SM0000'), 'message ids are kept only as keyed hashes');
    });

    it('leaves the hash-chained ledger verifiable', async () => {
      const reports = await verifyAll(t.database.db, t.services.crypto);
      assert.ok(reports.every((r) => r.ok), JSON.stringify(reports));
      const rows = reports.find((r) => r.site === 'acme')!.chains.find((c) => c.chain === 'consent_events')!.rows;
      assert.ok(rows > 20);
    });
  });
});

describe('SMS: confirming a web signup from the phone', () => {
  let t: TestApp;
  const addSms = async (key: string) => {
    await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key, channel: 'sms', legalBasis: '6-1-a', name: key } }), 201);
    await json(await t.call('POST', `/v1/sites/acme/purposes/${key}/wordings`, { body: { texts: { da: { title: `SMS ${key}`, body: 'Ja tak.' } } } }), 201);
    await json(await t.call('POST', `/v1/sites/acme/purposes/${key}/wordings/1/publish`, { body: {} }), 200);
  };
  const status = async (phone: string, purpose: string) => (await phoneState(t, phone))?.consents.find((c) => c.purpose === purpose)?.status;

  before(async () => {
    t = await makeApp();
    await addSms('sms-offers');
    await addSms('sms-news');
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { smsInboundSecret: SECRET } }), 200);
  });
  after(() => t.close());

  it('JA confirms the pending SMS purposes only: a confirm event with the keyword, the e-mail purposes left to the mail; a retry acts once', async () => {
    const phone = '+4528000001';
    await signup(t, bodyFor(await form(t, 'e-marketing,sms-offers'), { email: 'phone-yes@example.dk', phone }));
    assert.equal(await status(phone, 'sms-offers'), 'pending');
    const answer = await json<{ action: string; reply: string }>(await inbound(t, { from: '28 00 00 01', body: 'Ja', messageId: 'c-1' }), 200);
    assert.equal(answer.action, 'confirmed');
    assert.equal(answer.reply, 'Tak! Din tilmelding til SMS fra Acme er bekræftet. Send STOP for at afmelde.');
    const s = (await phoneState(t, phone))!;
    assert.equal(await status(phone, 'sms-offers'), 'granted');
    assert.equal(await status(phone, 'e-marketing'), 'pending', 'the phone does not confirm the mailbox');
    const confirm = s.history.at(-1)!;
    assert.deepEqual([confirm.action, confirm.purpose, confirm.actor, confirm.source], ['confirm', 'sms-offers', 'sms:inbound', 'sms']);
    assert.match(confirm.evidence!.note!, /SMS keyword JA \(inbound message c-1\)/);
    const before = await counts(t);
    assert.deepEqual(await json(await inbound(t, { from: phone, body: 'Ja', messageId: 'c-1' }), 200), answer);
    assert.deepEqual(await counts(t), before);
    // Nothing left pending: JA and OK are plain text again, and nothing is recorded.
    assert.deepEqual(await json(await inbound(t, { from: phone, body: 'OK', messageId: 'c-2' }), 200), { action: 'none', reply: null });
    assert.deepEqual(await counts(t), before);
  });

  it('OK after a STOP confirms what is pending and lifts the STOP; YES also restores what the STOP took', async () => {
    const phone = '+4528000002';
    await signup(t, bodyFor(await form(t, 'sms-news'), { email: 'phone-ok@example.dk', phone }));
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { phone, purpose: 'sms-offers', action: 'grant', wordingVersion: 1, source: 'web-form' } }), 201);
    await inbound(t, { from: phone, body: 'STOP', messageId: 'c-3' });
    assert.equal(await status(phone, 'sms-offers'), 'withdrawn');
    assert.equal(await status(phone, 'sms-news'), 'pending', 'a STOP withdraws granted purposes only');
    assert.equal(await suppressedCount(t, phone), 1);
    const ok = await json<{ action: string }>(await inbound(t, { from: phone, body: 'ok', messageId: 'c-4' }), 200);
    assert.equal(ok.action, 'confirmed');
    assert.equal(await status(phone, 'sms-news'), 'granted');
    assert.equal(await status(phone, 'sms-offers'), 'withdrawn', 'OK restores nothing');
    assert.equal(await suppressedCount(t, phone), 0, 'the number opted in itself: the STOP is lifted');

    const other = '+4528000003';
    await signup(t, bodyFor(await form(t, 'sms-news'), { email: 'phone-yes2@example.dk', phone: other }));
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { phone: other, purpose: 'sms-offers', action: 'grant', wordingVersion: 1, source: 'web-form' } }), 201);
    await inbound(t, { from: other, body: 'STOP', messageId: 'c-5' });
    const yes = await json<{ action: string }>(await inbound(t, { from: other, body: 'YES', messageId: 'c-6' }), 200);
    assert.equal(yes.action, 'confirmed');
    assert.equal(await status(other, 'sms-news'), 'granted');
    assert.equal(await status(other, 'sms-offers'), 'granted');
    assert.deepEqual((await phoneState(t, other))!.history.slice(-2).map((h) => [h.action, h.purpose]), [['confirm', 'sms-news'], ['sms-start', 'sms-offers']]);
    assert.equal(await suppressedCount(t, other), 0);
    assert.ok((await verifyAll(t.database.db, t.services.crypto)).every((r) => r.ok));
  });
});
