/**
 * Send checks (issue 5): every reason, produced by a real sequence of events, answered
 * alike by the single check, the bulk check and the CSV check; bulk and CSV edge cases.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CHECK_REASONS } from '../../shared/enums';
import { CsvParser } from '../../server/services/csv';
import { makeApp, type TestApp, json, expectError, ISO, TEST_SECRET } from './helpers';
import { confirmedSignup, confirmLink, erase, importList, inboundSms, oneClick, pendingSignup, restrict, subjectIdOf, toggle, unsubscribe } from './check-flows';
import { fullMails, pathOf, request } from './subscription-helpers';

const SMS_SECRET = 'inbound-secret-0123456789abcdefghijklmnopqrstuvwxyz';

interface Answer {
  allowed: boolean;
  reason: string;
  channel: string;
  purpose: string;
  since: string | null;
  legalBasis: string;
  wordingVersion: number | null;
  source: string | null;
  list?: string;
}
interface Bulk {
  counts: { allowed: number; blocked: number; invalid: number };
  results: (Omit<Answer, 'channel' | 'purpose' | 'legalBasis'> | { allowed: false; error: { code: string; message: string } })[];
}

type Contact = { email: string } | { phone: string };

// Answered from the in-memory index (as the server does) and straight from the database.
for (const checkIndex of ['await', false] as const) describe(`send checks (${checkIndex ? 'in-memory index' : 'database'})`, () => {
  let t: TestApp;
  let checkKey: string;
  let writeKey: string;

  const record = async (body: Record<string, unknown>) => json(await t.call('POST', '/v1/sites/acme/consents', { body }), 201);
  const single = async (purpose: string, c: Contact, key = checkKey) => {
    const q = 'email' in c ? `email=${encodeURIComponent(c.email)}` : `phone=${encodeURIComponent(c.phone)}`;
    return json<Answer>(await t.call('GET', `/v1/sites/acme/check?purpose=${purpose}&${q}`, { key }), 200);
  };
  const bulk = async (purpose: string, contacts: unknown[], key = checkKey) =>
    json<Bulk>(await t.call('POST', '/v1/sites/acme/check', { body: { purpose, contacts }, key }), 200);
  const csv = async (purpose: string, body: string, query = '', key = checkKey) => {
    const res = await t.call('POST', `/v1/sites/acme/check.csv?purpose=${purpose}${query}`, { body, key, headers: { 'content-type': 'text/csv' } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    return text;
  };
  const rows = (text: string) => {
    const p = new CsvParser();
    return [...p.push(text), ...p.end()].map((r) => r.fields);
  };
  /** The same verdict from all three forms. */
  const expectAll = async (purpose: string, c: Contact, reason: string, allowed: boolean) => {
    const one = await single(purpose, c);
    assert.equal(one.reason, reason, `single check of ${JSON.stringify(c)}`);
    assert.equal(one.allowed, allowed);
    const many = await bulk(purpose, [c, { email: 'nobody-else@example.dk' }]);
    const r = many.results[0]!;
    assert.ok(!('error' in r));
    assert.equal(r.reason, reason, 'bulk');
    assert.equal(r.allowed, allowed);
    assert.deepEqual({ ...r }, { allowed: one.allowed, reason: one.reason, since: one.since, wordingVersion: one.wordingVersion, source: one.source, ...(one.list ? { list: one.list } : {}) });
    const column = 'email' in c ? 'email' : 'phone';
    const out = rows(await csv(purpose, `${column}\r\n${'email' in c ? c.email : c.phone}\r\n`));
    assert.deepEqual(out[0], [column, 'allowed', 'reason']);
    assert.deepEqual(out[1]!.slice(1), [String(allowed), reason], 'csv');
    return one;
  };
  const seen = new Set<string>();
  /** Every (purpose, contact) checked, for the comparison of index and database at the end. */
  const asked: [string, Contact][] = [];
  const check = async (purpose: string, c: Contact, reason: string, allowed = false) => {
    seen.add(reason);
    asked.push([purpose, c]);
    return expectAll(purpose, c, reason, allowed);
  };

  before(async () => {
    // One worker thread whatever the machine: a bulk check larger than a slice hashes on it.
    t = await makeApp({ app: { checkIndex, checkWorkers: 1 } });
    const makeKey = async (name: string, scopes: string[]) =>
      (await json<{ secret: string }>(await t.call('POST', '/v1/sites/acme/keys', { body: { name, scopes } }), 201)).secret;
    checkKey = await makeKey('checker', ['check']);
    writeKey = await makeKey('writer', ['write']);
    await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'sms-offers', channel: 'sms', legalBasis: '6-1-a', name: 'SMS offers' } }), 201);
    await json(await t.call('POST', '/v1/sites/acme/purposes/sms-offers/wordings', { body: { texts: { da: { title: 'Tilbud på SMS', body: 'Ja tak. Svar STOP for at stoppe.' } } } }), 201);
    await json(await t.call('POST', '/v1/sites/acme/purposes/sms-offers/wordings/1/publish', { body: {} }), 200);
    await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'newsletter', channel: 'email', legalBasis: '6-1-a', name: 'Newsletter' } }), 201);
    await json(await t.call('POST', '/v1/sites/acme/purposes/newsletter/wordings', { body: { texts: { da: { title: 'Nyhedsbrev', body: 'Ja tak til nyhedsbrevet.' } } } }), 201);
    await json(await t.call('POST', '/v1/sites/acme/purposes/newsletter/wordings/1/publish', { body: {} }), 200);
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { smsInboundSecret: SMS_SECRET } }), 200);
  });
  after(() => t.close());

  describe('every reason, produced through the public routes, answered through GET, POST and CSV alike', () => {
    it('pending-confirmation: a double opt-in signup, not confirmed yet', async () => {
      await pendingSignup(t, 'pending@example.dk');
      const a = await check('e-marketing', { email: 'pending@example.dk' }, 'pending-confirmation');
      assert.deepEqual([a.wordingVersion, a.source], [1, 'web-form'], 'the wording shown on the form, the form as the source');
      // A purpose not ticked on the form is not pending.
      await check('newsletter', { email: 'pending@example.dk' }, 'no-consent');
    });

    it('consented: the signup confirmed by a POST on the link in the confirmation mail', async () => {
      await confirmedSignup(t, 'yes@example.dk');
      const a = await check('e-marketing', { email: ' Yes@Example.DK ' }, 'consented', true);
      assert.deepEqual([a.channel, a.purpose, a.legalBasis, a.wordingVersion, a.source], ['email', 'e-marketing', '6-1-a', 1, 'web-form']);
      assert.match(a.since!, ISO);
      assert.deepEqual(Object.keys(a).sort(), ['allowed', 'channel', 'legalBasis', 'purpose', 'reason', 'since', 'source', 'wordingVersion']);
      // Opening the link (GET, as a link scanner does) confirms nothing: only the POST did.
      await pendingSignup(t, 'scanned@example.dk');
      assert.equal((await request(t, pathOf(await confirmLink(t, 'scanned@example.dk')))).status, 200);
      await t.services.queue.idle();
      await check('e-marketing', { email: 'scanned@example.dk' }, 'pending-confirmation');
    });

    it('no-consent: an unknown address, and a person without a grant for this purpose', async () => {
      const a = await check('e-marketing', { email: 'stranger@example.dk' }, 'no-consent');
      assert.deepEqual([a.since, a.wordingVersion, a.source], [null, null, null]);
      await record({ email: 'other-purpose@example.dk', purpose: 'sales-and-service', action: 'grant' });
      await check('e-marketing', { email: 'other-purpose@example.dk' }, 'no-consent');
      await check('newsletter', { email: 'yes@example.dk' }, 'no-consent');
    });

    it('legal-basis: a purpose on contract needs no grant, but a person on record beyond an unconfirmed signup', async () => {
      await check('sales-and-service', { email: 'other-purpose@example.dk' }, 'legal-basis', true);
      await check('sales-and-service', { email: 'yes@example.dk' }, 'legal-basis', true);
      // Nobody on record, or only an unconfirmed signup: nothing vouches for a relationship.
      await check('sales-and-service', { email: 'stranger2@example.dk' }, 'no-consent');
      await check('sales-and-service', { email: 'pending@example.dk' }, 'no-consent');
    });

    it('withdrawn and objected, through the consents API', async () => {
      await record({ email: 'w@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
      await record({ email: 'w@example.dk', purpose: 'e-marketing', action: 'withdraw' });
      const w = await check('e-marketing', { email: 'w@example.dk' }, 'withdrawn');
      assert.equal(w.wordingVersion, 1, 'the wording last agreed to is kept');
      await record({ email: 'o@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
      await record({ email: 'o@example.dk', purpose: 'e-marketing', action: 'object' });
      await check('e-marketing', { email: 'o@example.dk' }, 'objected');
      // An objection stops a purpose on a basis other than consent too.
      await record({ email: 'o@example.dk', purpose: 'sales-and-service', action: 'object' });
      await check('sales-and-service', { email: 'o@example.dk' }, 'objected');
    });

    it('withdrawn and objected, by the person on the preference page', async () => {
      await confirmedSignup(t, 'toggler@example.dk');
      await check('e-marketing', { email: 'toggler@example.dk' }, 'consented', true);
      const v = await toggle(t, 'toggler@example.dk', 'e-marketing', false);
      assert.equal(v.purposes.find((p) => p.key === 'e-marketing')!.status, 'withdrawn');
      const w = await check('e-marketing', { email: 'toggler@example.dk' }, 'withdrawn');
      assert.equal(w.source, 'email-link', 'the preference page, reached by a link in a mail');
      assert.equal(w.wordingVersion, 1, 'the wording last agreed to is kept');
      await toggle(t, 'toggler@example.dk', 'sales-and-service', false);
      await check('sales-and-service', { email: 'toggler@example.dk' }, 'objected');
      // Granted again on the page, with the current wording's hash.
      await toggle(t, 'toggler@example.dk', 'e-marketing', true);
      await check('e-marketing', { email: 'toggler@example.dk' }, 'consented', true);
    });

    it('unsubscribed: by the suppression a one-click unsubscribe leaves, and by the withdrawal’s cause', async () => {
      // RFC 8058 POST on the link of the receipt mail (all e-mail marketing).
      await confirmedSignup(t, 'u1@example.dk', 'e-marketing,newsletter');
      const [receipt] = await fullMails(t, 'u1@example.dk', 'receipt');
      const listUnsubscribe = receipt!.headers['List-Unsubscribe']!;
      assert.match(listUnsubscribe, /^<http:\/\/localhost:8787\/v1\/unsubscribe\/[A-Za-z0-9_-]+>$/);
      await oneClick(t, listUnsubscribe.slice(1, -1));
      const a = await check('e-marketing', { email: 'u1@example.dk' }, 'unsubscribed');
      assert.equal(a.wordingVersion, null, 'decided by the suppression');
      await check('newsletter', { email: 'u1@example.dk' }, 'unsubscribed');
      // A grant through the API after an unsubscribe does not beat the suppression.
      await record({ email: 'u1@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
      await check('e-marketing', { email: 'u1@example.dk' }, 'unsubscribed');

      // The person grants the newsletter again on the preference page: that lifts their own
      // unsubscribe from all e-mail, and e-marketing is blocked by the withdrawal's cause alone.
      await confirmedSignup(t, 'u2@example.dk', 'e-marketing,newsletter');
      await unsubscribe(t, 'u2@example.dk');
      await toggle(t, 'u2@example.dk', 'newsletter', true);
      await check('newsletter', { email: 'u2@example.dk' }, 'consented', true);
      const b = await check('e-marketing', { email: 'u2@example.dk' }, 'unsubscribed');
      assert.equal(b.wordingVersion, 1, 'decided by the state: the wording last agreed to is kept');

      // A link for one purpose unsubscribes from that purpose only.
      await confirmedSignup(t, 'u3@example.dk', 'e-marketing,newsletter');
      await unsubscribe(t, 'u3@example.dk', { purpose: 'newsletter' });
      await check('newsletter', { email: 'u3@example.dk' }, 'unsubscribed');
      await check('e-marketing', { email: 'u3@example.dk' }, 'consented', true);
    });

    it('sms-stopped: a STOP text, for the number and for the person checked by e-mail', async () => {
      // SMS purposes of a signup are confirmed from the phone (a YES), never by the mail.
      await pendingSignup(t, 'sms@example.dk', 'sms-offers', { phone: '+4520304050' });
      assert.equal((await inboundSms(t, SMS_SECRET, '+4520304050', 'YES', 'm-0')).action, 'confirmed');
      await check('sms-offers', { phone: '20 30 40 50' }, 'consented', true);
      assert.equal((await inboundSms(t, SMS_SECRET, '+4520304050', 'STOP', 'm-1')).action, 'stopped');
      await check('sms-offers', { phone: '+45 20 30 40 50' }, 'sms-stopped');
      await check('sms-offers', { email: 'sms@example.dk' }, 'sms-stopped');
      // The suppression alone (a number nobody had recorded) blocks too.
      await inboundSms(t, SMS_SECRET, '+4521212121', 'stop', 'm-2');
      await check('sms-offers', { phone: '21212121' }, 'sms-stopped');
      // A STOP does not reach the e-mail channel.
      await check('e-marketing', { email: 'sms@example.dk' }, 'no-consent');
    });

    it('listed, bounced, complained: imported lists, named', async () => {
      await confirmedSignup(t, 'robinson@example.dk');
      await importList(t, 'robinson', 'listed', 'email\nrobinson@example.dk\n');
      const l = await check('e-marketing', { email: 'robinson@example.dk' }, 'listed');
      assert.equal(l.list, 'robinson');
      await confirmedSignup(t, 'bounced@example.dk');
      await importList(t, 'esp-bounces', 'bounced', 'bounced@example.dk\n');
      const b = await check('e-marketing', { email: 'bounced@example.dk' }, 'bounced');
      assert.equal(b.list, 'esp-bounces');
      await importList(t, 'esp-complaints', 'complained', 'complained@example.dk\n');
      const c = await check('e-marketing', { email: 'complained@example.dk' }, 'complained');
      assert.equal(c.list, 'esp-complaints');
      // An e-mail suppression holds for purposes on the e-mail channel, not for a purpose on another channel.
      await check('sales-and-service', { email: 'bounced@example.dk' }, 'legal-basis', true);
    });

    it('restricted: asked for on the preference page; beats a grant and a legal basis; lifted there too', async () => {
      await confirmedSignup(t, 'r@example.dk');
      await restrict(t, 'r@example.dk');
      await check('e-marketing', { email: 'r@example.dk' }, 'restricted');
      await check('sales-and-service', { email: 'r@example.dk' }, 'restricted');
      await restrict(t, 'r@example.dk', false);
      assert.equal((await single('e-marketing', { email: 'r@example.dk' })).reason, 'consented');
      await restrict(t, 'r@example.dk');
      assert.equal((await single('e-marketing', { email: 'r@example.dk' })).reason, 'restricted');
    });

    it('erased: asked for on the preference page; found only through the suppression; beats everything', async () => {
      await confirmedSignup(t, 'gone@example.dk', 'e-marketing,sms-offers', { phone: '+4522334455' });
      const subjectId = await erase(t, 'gone@example.dk');
      assert.equal(await subjectIdOf(t, 'gone@example.dk'), undefined, 'the address is no longer on record');
      const a = await check('e-marketing', { email: 'gone@example.dk' }, 'erased');
      assert.deepEqual([a.wordingVersion, a.source], [null, null]);
      assert.match(a.since!, ISO);
      await check('sales-and-service', { email: 'GONE@example.dk' }, 'erased');
      await check('sms-offers', { phone: '22 33 44 55' }, 'erased');
      const bySubject = await bulk('e-marketing', [{ subjectId }]);
      assert.equal((bySubject.results[0] as Answer).reason, 'erased');
      // A new signup with the erased address is pending until confirmed, and still erased to a check.
      await pendingSignup(t, 'gone@example.dk');
      await check('e-marketing', { email: 'gone@example.dk' }, 'erased');
    });

    it('covers every reason', () => {
      assert.deepEqual([...seen].sort(), [...CHECK_REASONS].sort());
    });
  });

  describe('precedence', () => {
    it('a suppression beats a grant; erased beats a list', async () => {
      await confirmedSignup(t, 'both@example.dk');
      await importList(t, 'robinson', 'listed', 'both@example.dk\n');
      assert.equal((await single('e-marketing', { email: 'both@example.dk' })).reason, 'listed');
      await erase(t, 'both@example.dk');
      assert.equal((await single('e-marketing', { email: 'both@example.dk' })).reason, 'erased');
    });

    it('an SMS purpose checked by e-mail needs the person’s number on record (its STOP could not be seen otherwise)', async () => {
      await record({ email: 'nophone@example.dk', purpose: 'sms-offers', action: 'grant', wordingVersion: 1 });
      assert.deepEqual(await bulk('sms-offers', [{ email: 'nophone@example.dk' }]).then((b) => b.results[0]), { allowed: false, reason: 'no-consent', since: null, wordingVersion: null, source: null });
      assert.equal((await single('sms-offers', { email: 'nophone@example.dk' })).reason, 'no-consent');
      await record({ email: 'nophone@example.dk', phone: '+4531313131', purpose: 'sms-offers', action: 'grant', wordingVersion: 1 });
      assert.equal((await single('sms-offers', { email: 'nophone@example.dk' })).reason, 'consented');
      assert.equal((await single('sms-offers', { phone: '31313131' })).reason, 'consented');
    });

    it('a phone number checked for an e-mail purpose finds the person’s e-mail state', async () => {
      await record({ phone: '+4530303030', email: 'dual@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
      assert.equal((await single('e-marketing', { phone: '30303030' })).reason, 'consented');
      await t.call('POST', '/v1/sites/acme/suppressions/import?list=bl&reason=bounced', { body: 'dual@example.dk\n', headers: { 'content-type': 'text/csv' } });
      assert.equal((await single('e-marketing', { phone: '30303030' })).reason, 'bounced');
    });
  });

  describe('errors', () => {
    it('needs the check scope', async () => {
      await expectError(await t.call('GET', '/v1/sites/acme/check?purpose=e-marketing&email=a@example.dk', { key: writeKey }), 403);
      await expectError(await t.call('GET', '/v1/sites/acme/check?purpose=e-marketing&email=a@example.dk', { key: null }), 401);
    });

    it('GET (one handler in front of the app) and HEAD (the documented chain of middleware) answer alike', async () => {
      const cases: [string, string | null][] = [
        ['?purpose=e-marketing&email=yes%40example.dk', checkKey],
        ['?purpose=e-marketing&email=stranger%40example.dk', checkKey],
        ['?purpose=e-marketing&email=a%40example.dk', writeKey],
        ['?purpose=e-marketing&email=a%40example.dk', null],
        ['?purpose=e-marketing&email=a%40example.dk', 'sk_AAAAAAAAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
        ['?purpose=e-marketing&email=not-an-address', checkKey],
        ['?purpose=e-marketing&email=a%40example.dk&extra=1', checkKey],
        ['?purpose=nope&email=a%40example.dk', checkKey],
        ['?purpose=marketing&email=a%40example.dk', checkKey],
      ];
      const statuses: number[] = [];
      for (const [query, key] of cases) {
        for (const path of [`/v1/sites/acme/check${query}`, `/v1/sites/other/check${query}`]) {
          const got = await t.call('GET', path, { key });
          const head = await t.call('HEAD', path, { key });
          assert.equal(head.status, got.status, `${path} ${key?.slice(0, 8)}`);
          for (const name of ['content-type', 'www-authenticate', 'x-content-type-options']) assert.equal(head.headers.get(name), got.headers.get(name), `${name}: ${path}`);
          assert.equal(await head.text(), '');
          statuses.push(got.status);
        }
      }
      // Every answer the route has: allowed or not (200), 400, 401, 403, 404.
      assert.deepEqual([...new Set(statuses)].sort(), [200, 400, 401, 403, 404]);
    });

    it('answers 400 for a bad query, an unknown purpose or a cookie category, without echoing the address', async () => {
      const e1 = await expectError(await t.call('GET', '/v1/sites/acme/check?purpose=e-marketing&email=not-an-address', { key: checkKey }), 400);
      assert.doesNotMatch(JSON.stringify(e1), /not-an-address/);
      await expectError(await t.call('GET', '/v1/sites/acme/check?purpose=e-marketing', { key: checkKey }), 400);
      await expectError(await t.call('GET', '/v1/sites/acme/check?purpose=e-marketing&email=a@example.dk&phone=12345678', { key: checkKey }), 400);
      await expectError(await t.call('GET', '/v1/sites/acme/check?purpose=nope&email=a@example.dk', { key: checkKey }), 400, 'unknown_purpose');
      await expectError(await t.call('GET', '/v1/sites/acme/check?purpose=marketing&email=a@example.dk', { key: checkKey }), 400, 'not_checkable');
      const e2 = await expectError(await t.call('GET', '/v1/sites/acme/check?purpose=sms-offers&phone=12', { key: checkKey }), 400);
      assert.doesNotMatch(JSON.stringify(e2), /"12"/);
    });
  });

  describe('bulk', () => {
    it('answers in input order; a malformed entry gets its own error', async () => {
      const b = await bulk('e-marketing', [
        { email: 'yes@example.dk' },
        { email: 'not an address' },
        null,
        { email: 'a@example.dk', phone: '+4520304050' },
        { phone: 12345678 },
        { phone: 'abc' },
        { subjectId: 'x' },
        'yes@example.dk',
        { email: 'stranger@example.dk' },
      ]);
      assert.equal(b.results.length, 9);
      assert.equal((b.results[0] as Answer).reason, 'consented');
      for (const i of [1, 2, 3, 4, 5, 6, 7]) {
        const r = b.results[i]!;
        assert.ok('error' in r, `entry ${i} is an error`);
        assert.equal(r.allowed, false);
        assert.doesNotMatch(r.error.message, /not an address|example|abc/);
      }
      assert.equal((b.results[8] as Answer).reason, 'no-consent');
      assert.deepEqual(b.counts, { allowed: 1, blocked: 1, invalid: 7 });
    });

    it('checks by subject id', async () => {
      const s = await json<{ id: string }>(await t.call('GET', '/v1/sites/acme/subjects?email=yes@example.dk'), 200);
      const b = await bulk('e-marketing', [{ subjectId: s.id }, { subjectId: 'AAAAAAAAAAAAAAAAAAAAAA' }]);
      assert.equal((b.results[0] as Answer).reason, 'consented');
      assert.equal((b.results[1] as Answer).reason, 'no-consent');
    });

    it('a batch hashed on the worker thread answers as a small one hashed here, errors and subject ids in place', async () => {
      const s = await json<{ id: string }>(await t.call('GET', '/v1/sites/acme/subjects?email=yes@example.dk'), 200);
      const kinds: unknown[] = [
        ...asked.filter(([p]) => p === 'e-marketing').map(([, c]) => c),
        { email: 'not an address' },
        { subjectId: s.id },
        { phone: 'abc' },
        { email: '  YES@Example.DK ' },
        { email: 'ærø@eksempel.dk' },
        null,
      ];
      assert.ok(kinds.length > 15);
      // Small batches stay on this thread: the expected answer for each kind of entry.
      const expected = (await bulk('e-marketing', kinds)).results;
      const contacts = Array.from({ length: 12_345 }, (_, i) => kinds[(i * 7) % kinds.length]);
      const big = await bulk('e-marketing', contacts);
      assert.equal(big.results.length, contacts.length);
      for (let i = 0; i < contacts.length; i++) assert.deepEqual(big.results[i], expected[(i * 7) % kinds.length], `entry ${i}: ${JSON.stringify(contacts[i])}`);
      const allowed = big.results.filter((r) => r.allowed).length;
      assert.ok(allowed > 0 && allowed < contacts.length);
    });

    it('refuses more than 100,000 contacts with 413 too_many_contacts; takes exactly 100,000', async () => {
      const contacts = Array.from({ length: 100_001 }, (_, i) => ({ email: `p${i}@example.dk` }));
      await expectError(await t.call('POST', '/v1/sites/acme/check', { body: { purpose: 'e-marketing', contacts }, key: checkKey }), 413, 'too_many_contacts');
      const ok = await bulk('e-marketing', contacts.slice(0, 100_000));
      assert.equal(ok.results.length, 100_000);
      assert.equal(ok.counts.blocked, 100_000);
    });

    it('validates the envelope', async () => {
      await expectError(await t.call('POST', '/v1/sites/acme/check', { body: { purpose: 'e-marketing' }, key: checkKey }), 400);
      await expectError(await t.call('POST', '/v1/sites/acme/check', { body: { purpose: 'e-marketing', contacts: {} }, key: checkKey }), 400);
      await expectError(await t.call('POST', '/v1/sites/acme/check', { body: '{"purpose":', key: checkKey }), 400);
      await expectError(await t.call('POST', '/v1/sites/acme/check', { body: 'x', key: checkKey, headers: { 'content-type': 'text/plain' } }), 415);
    });
  });

  describe('CSV', () => {
    it('keeps the rows, quoting, BOM and CRLF; drops blank lines; marks malformed rows invalid', async () => {
      const input =
        '\uFEFFname,email,note\r\n' +
        '"Hansen, Anne",yes@example.dk,"said ""yes"""\r\n' +
        '\r\n' +
        'Bo,stranger@example.dk,"two\r\nlines"\r\n' +
        'Cy,,empty address\r\n' +
        'Di,not-an-address,x\r\n' +
        'Ed,"yes@example.dk"junk,broken\r\n' +
        '   \r\n' +
        'Fi,robinson@example.dk';
      const out = await csv('e-marketing', input);
      assert.ok(!out.startsWith('\uFEFF'));
      assert.ok(out.includes('\r\n'));
      assert.deepEqual(rows(out), [
        ['name', 'email', 'note', 'allowed', 'reason'],
        ['Hansen, Anne', 'yes@example.dk', 'said "yes"', 'true', 'consented'],
        ['Bo', 'stranger@example.dk', 'two\r\nlines', 'false', 'no-consent'],
        ['Cy', '', 'empty address', 'false', 'invalid'],
        ['Di', 'not-an-address', 'x', 'false', 'invalid'],
        ['Ed', 'yes@example.dkjunk', 'broken', 'false', 'invalid'],
        ['Fi', 'robinson@example.dk', 'false', 'listed'],
      ]);
    });

    it('takes the first column without a header, LF line ends, phones and e-mails mixed', async () => {
      const out = await csv('sms-offers', '+4520304050\n21212121,x\nsms@example.dk\n');
      assert.deepEqual(rows(out), [
        ['+4520304050', 'false', 'sms-stopped'],
        ['21212121', 'x', 'false', 'sms-stopped'],
        ['sms@example.dk', 'false', 'sms-stopped'],
      ]);
      assert.ok(!out.includes('\r'));
    });

    it('uses the column named in the query; an unknown one is 400', async () => {
      const out = await csv('e-marketing', 'id;x,Kontakt\n1,yes@example.dk\n', '&column=kontakt');
      assert.deepEqual(rows(out), [['id;x', 'Kontakt', 'allowed', 'reason'], ['1', 'yes@example.dk', 'true', 'consented']]);
      const res = await t.call('POST', '/v1/sites/acme/check.csv?purpose=e-marketing&column=nope', { body: 'a,b\n1,2\n', key: checkKey, headers: { 'content-type': 'text/csv' } });
      await expectError(res, 400, 'unknown_column');
    });

    it('says whether the first row is the header; a first row without a known column name is data', async () => {
      const call = (body: string) => t.call('POST', '/v1/sites/acme/check.csv?purpose=e-marketing', { body, key: checkKey, headers: { 'content-type': 'text/csv' } });
      const data = await call('Anna,yes@example.dk\nBo,stranger@example.dk\n');
      assert.equal(data.headers.get('samtykke-csv-header'), 'absent');
      assert.deepEqual(rows(await data.text()), [
        ['Anna', 'yes@example.dk', 'false', 'invalid'],
        ['Bo', 'stranger@example.dk', 'false', 'invalid'],
      ]);
      const named = await call('name,email\nAnna,yes@example.dk\n');
      assert.equal(named.headers.get('samtykke-csv-header'), 'present');
      assert.deepEqual(rows(await named.text()), [['name', 'email', 'allowed', 'reason'], ['Anna', 'yes@example.dk', 'true', 'consented']]);
    });

    it('reads and answers ;-separated CSV (Danish Excel); an overlong row is invalid', async () => {
      const out = await csv('e-marketing', 'navn;email\r\n"Hansen; Anne";yes@example.dk\r\nBo, B;stranger@example.dk\r\n');
      assert.equal(out, 'navn;email;allowed;reason\r\n"Hansen; Anne";yes@example.dk;true;consented\r\nBo, B;stranger@example.dk;false;no-consent\r\n');
      const long = rows(await csv('e-marketing', `email\n${'x'.repeat(200_000)}\nyes@example.dk\n`));
      assert.equal(long.length, 3);
      assert.deepEqual(long[1]!.slice(-2), ['false', 'invalid']);
      assert.deepEqual(long[2], ['yes@example.dk', 'true', 'consented']);
    });

    it('answers an empty body with an empty CSV; refuses other content types', async () => {
      assert.equal(await csv('e-marketing', ''), '');
      await expectError(await t.call('POST', '/v1/sites/acme/check.csv?purpose=e-marketing', { body: '{}', key: checkKey }), 415);
      await expectError(await t.call('POST', '/v1/sites/acme/check.csv?purpose=nope', { body: 'a@b.dk', key: checkKey, headers: { 'content-type': 'text/csv' } }), 400, 'unknown_purpose');
    });

    it('is not held to the 1 MB body limit (streamed, answered in batches)', async () => {
      const lines = ['email'];
      for (let i = 0; i < 60_000; i++) lines.push(`"person${i}@example.dk"`);
      const body = lines.join('\n');
      assert.ok(body.length > 1024 * 1024);
      const out = rows(await csv('e-marketing', body));
      assert.equal(out.length, 60_001);
      assert.deepEqual(out[60_000], ['person59999@example.dk', 'false', 'no-consent']);
    });
  });
  it('a freshly built index, the running one and the database agree on everyone checked above', async () => {
    const { openDatabase } = await import('../../server/db/client');
    const { createApp } = await import('../../server/app');
    const apps = [];
    for (const mode of ['await', false] as const) {
      const database = await openDatabase({ url: `file:${t.file}` });
      apps.push({ database, app: createApp({ database, secret: TEST_SECRET, checkIndex: mode }).app });
    }
    try {
      assert.ok(asked.length > 30);
      const body = (purpose: string) => ({ purpose, contacts: asked.filter(([p]) => p === purpose).map(([, c]) => c) });
      for (const purpose of new Set(asked.map(([p]) => p))) {
        const answers = [];
        for (const a of [t.app, ...apps.map((x) => x.app)]) {
          const res = await a.request('/v1/sites/acme/check', {
            method: 'POST',
            headers: { authorization: `Bearer ${checkKey}`, 'content-type': 'application/json' },
            body: JSON.stringify(body(purpose)),
          });
          answers.push((await json<Bulk>(res, 200)).results);
        }
        assert.deepEqual(answers[1], answers[0], `${purpose}: fresh index vs running index`);
        assert.deepEqual(answers[2], answers[0], `${purpose}: database vs running index`);
      }
    } finally {
      for (const { database } of apps) database.close();
    }
  });
});
