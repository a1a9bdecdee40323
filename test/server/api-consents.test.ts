/**
 * Recording consents and reading people back: the ledger's write path through HTTP,
 * contact normalisation, idempotency, concurrency and what a key may see.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { SubjectView } from '../../server/services/subjects';
import { makeApp, type TestApp, ISO, json, expectError } from './helpers';

interface Recorded {
  eventId: number;
  subjectId: string;
  seq: number;
  purpose: string;
  action: string;
  status: string;
  occurredAt: string;
}

const CONSENTS = '/v1/sites/acme/consents';



async function eventCount(t: TestApp, site = 'acme'): Promise<number> {
  const { rows } = await t.database.client.execute({ sql: 'SELECT count(*) AS n FROM consent_events WHERE site_id = ?', args: [site] });
  return Number(rows[0]!.n);
}

describe('recording consents', () => {
  let t: TestApp;
  let writeKey: { id: string; secret: string };
  let piiKey: { id: string; secret: string };

  const record = (body: Record<string, unknown>, options: { key?: string; headers?: Record<string, string> } = {}) =>
    t.call('POST', CONSENTS, { body, ...options });
  const subjectByEmail = async (email: string, key?: string) =>
    json<SubjectView>(await t.call('GET', `/v1/sites/acme/subjects?email=${encodeURIComponent(email)}`, { key }), 200);
  const subjectByPhone = async (phone: string, key?: string) =>
    json<SubjectView>(await t.call('GET', `/v1/sites/acme/subjects?phone=${encodeURIComponent(phone)}`, { key }), 200);
  const subjectById = async (id: string, key?: string) => json<SubjectView>(await t.call('GET', `/v1/sites/acme/subjects/${id}`, { key }), 200);
  const statusOf = (s: SubjectView, purpose: string) => s.consents.find((c) => c.purpose === purpose)?.status;

  before(async () => {
    t = await makeApp();
    const makeKey = async (name: string, scopes: string[]) => {
      const k = await json<{ id: string; secret: string }>(await t.call('POST', '/v1/sites/acme/keys', { body: { name, scopes } }), 201);
      return { id: k.id, secret: k.secret };
    };
    writeKey = await makeKey('writer', ['write']);
    piiKey = await makeKey('reader', ['pii:read']);
  });
  after(() => t.close());

  describe('grant, withdraw, object', () => {
    it('records a grant and answers 201 with the event and the subject', async () => {
      const before = await eventCount(t);
      const r = await json<Recorded>(await record({ email: 'grant@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
      assert.ok(Number.isInteger(r.eventId) && r.eventId > 0);
      assert.match(r.subjectId, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(r.seq, before + 1);
      assert.equal(r.purpose, 'e-marketing');
      assert.equal(r.action, 'grant');
      assert.equal(r.status, 'granted');
      assert.match(r.occurredAt, ISO);
      assert.equal(await eventCount(t), before + 1);

      const s = await subjectByEmail('grant@example.dk');
      assert.equal(s.id, r.subjectId);
      const state = s.consents.find((c) => c.purpose === 'e-marketing')!;
      assert.deepEqual([state.status, state.wordingVersion, state.source], ['granted', 1, 'api']);
      assert.equal(statusOf(s, 'sales-and-service'), 'none', 'other purposes are untouched');
    });

    it('withdraws and objects, each as its own event; the state follows the latest', async () => {
      const email = 'changes@example.dk';
      const g = await json<Recorded>(await record({ email, purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
      const w = await json<Recorded>(await record({ email, purpose: 'e-marketing', action: 'withdraw' }), 201);
      assert.equal(w.status, 'withdrawn');
      assert.equal(w.subjectId, g.subjectId);
      assert.equal(statusOf(await subjectByEmail(email), 'e-marketing'), 'withdrawn');

      const o = await json<Recorded>(await record({ email, purpose: 'sales-and-service', action: 'object' }), 201);
      assert.equal(o.status, 'objected');
      const s = await subjectByEmail(email);
      assert.equal(statusOf(s, 'sales-and-service'), 'objected');
      assert.equal(statusOf(s, 'e-marketing'), 'withdrawn');
      assert.deepEqual(
        s.history.map((h) => [h.action, h.purpose]),
        [
          ['grant', 'e-marketing'],
          ['withdraw', 'e-marketing'],
          ['object', 'sales-and-service'],
        ],
      );
      assert.ok(s.history[0]!.seq < s.history[1]!.seq && s.history[1]!.seq < s.history[2]!.seq);
    });

    it('needs the wording version to grant a consent-based purpose, but not for sales-and-service (6-1-b)', async () => {
      const before = await eventCount(t);
      const err = await expectError(await record({ email: 'nowording@example.dk', purpose: 'e-marketing', action: 'grant' }), 400, 'wording_required');
      assert.deepEqual(
        err.error.details.map((d) => d.field),
        ['wordingVersion'],
      );
      assert.equal(await eventCount(t), before, 'nothing written');
      await expectError(await t.call('GET', `/v1/sites/acme/subjects?email=nowording%40example.dk`), 404);

      const ok = await json<Recorded>(await record({ email: 'nowording@example.dk', purpose: 'sales-and-service', action: 'grant' }), 201);
      assert.equal(ok.status, 'granted');
      // Withdrawing never needs a wording.
      await json(await record({ email: 'nowording@example.dk', purpose: 'e-marketing', action: 'withdraw' }), 201);
    });

    it('refuses a draft wording with 409, and a retired one for grants only', async () => {
      await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'newsletter', name: 'Newsletter', channel: 'email', legalBasis: '6-1-a' } }), 201);
      const wordings = '/v1/sites/acme/purposes/newsletter/wordings';
      await json(await t.call('POST', wordings, { body: { texts: { da: { title: 'Nyhedsbrev 1', body: 'Første udgave.' } } } }), 201);

      const before = await eventCount(t);
      await expectError(await record({ email: 'drafty@example.dk', purpose: 'newsletter', action: 'grant', wordingVersion: 1 }), 409, 'wording_not_published');
      await expectError(await record({ email: 'drafty@example.dk', purpose: 'newsletter', action: 'withdraw', wordingVersion: 1 }), 409, 'wording_not_published');
      await expectError(await record({ email: 'drafty@example.dk', purpose: 'newsletter', action: 'grant', wordingVersion: 7 }), 400, 'unknown_wording');
      assert.equal(await eventCount(t), before);

      await json(await t.call('POST', `${wordings}/1/publish`), 200);
      await json(await record({ email: 'drafty@example.dk', purpose: 'newsletter', action: 'grant', wordingVersion: 1 }), 201);

      await json(await t.call('POST', wordings, { body: { texts: { da: { title: 'Nyhedsbrev 2', body: 'Anden udgave.' } } } }), 201);
      await json(await t.call('POST', `${wordings}/2/publish`), 200);
      await json(await t.call('POST', `${wordings}/1/retire`), 200);
      await expectError(await record({ email: 'late@example.dk', purpose: 'newsletter', action: 'grant', wordingVersion: 1 }), 409, 'wording_retired');
      // A withdrawal may still name what the person once saw.
      const w = await json<Recorded>(await record({ email: 'drafty@example.dk', purpose: 'newsletter', action: 'withdraw', wordingVersion: 1 }), 201);
      assert.equal(w.status, 'withdrawn');
      await json(await record({ email: 'late@example.dk', purpose: 'newsletter', action: 'grant', wordingVersion: 2 }), 201);
    });

    it('keeps old consents pointing at the wording the person saw after a new version is published', async () => {
      await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key: 'offers', name: 'Offers', channel: 'email', legalBasis: '6-1-a' } }), 201);
      const wordings = '/v1/sites/acme/purposes/offers/wordings';
      const v1 = await json<{ id: string }>(await t.call('POST', wordings, { body: { texts: { da: { title: 'Tilbud', body: 'v1' } } } }), 201);
      await json(await t.call('POST', `${wordings}/1/publish`), 200);
      await json(await record({ email: 'saw-v1@example.dk', purpose: 'offers', action: 'grant', wordingVersion: 1 }), 201);
      const v2 = await json<{ id: string }>(await t.call('POST', wordings, { body: { texts: { da: { title: 'Tilbud', body: 'v2' } } } }), 201);
      await json(await t.call('POST', `${wordings}/2/publish`), 200);

      const s = await subjectByEmail('saw-v1@example.dk');
      assert.equal(s.consents.find((c) => c.purpose === 'offers')?.wordingVersion, 1);
      assert.equal(s.history.at(-1)!.wording?.id, v1.id);

      await json(await record({ email: 'saw-v1@example.dk', purpose: 'offers', action: 'grant', wordingVersion: 2 }), 201);
      const again = await subjectByEmail('saw-v1@example.dk');
      assert.equal(again.consents.find((c) => c.purpose === 'offers')?.wordingVersion, 2);
      assert.deepEqual(
        again.history.filter((h) => h.purpose === 'offers').map((h) => h.wording?.id),
        [v1.id, v2.id],
      );
    });

    it('refuses unknown purposes and sources (400) and archived sources', async () => {
      await expectError(await record({ email: 'x@example.dk', purpose: 'nope', action: 'grant' }), 400, 'unknown_purpose');
      await expectError(await record({ email: 'x@example.dk', purpose: 'sales-and-service', action: 'grant', source: 'nope' }), 400, 'unknown_source');

      await json(await t.call('POST', '/v1/sites/acme/sources', { body: { key: 'fair-2024', label: 'Trade fair 2024' } }), 201);
      await json(await record({ email: 'fair@example.dk', purpose: 'sales-and-service', action: 'grant', source: 'fair-2024' }), 201);
      await json(await t.call('PATCH', '/v1/sites/acme/sources/fair-2024', { body: { archived: true } }), 200);
      const before = await eventCount(t);
      const err = await expectError(await record({ email: 'fair2@example.dk', purpose: 'sales-and-service', action: 'grant', source: 'fair-2024' }), 400, 'archived_source');
      assert.equal(err.error.details[0]?.field, 'source');
      assert.equal(await eventCount(t), before);
      // Earlier consents still name the archived source.
      const s = await subjectByEmail('fair@example.dk');
      assert.equal(s.history[0]!.source, 'fair-2024');
      assert.equal(s.consents.find((c) => c.purpose === 'sales-and-service')?.source, 'fair-2024');
      // Unarchived, it can be used again.
      await json(await t.call('PATCH', '/v1/sites/acme/sources/fair-2024', { body: { archived: false } }), 200);
      await json(await record({ email: 'fair2@example.dk', purpose: 'sales-and-service', action: 'grant', source: 'fair-2024' }), 201);
    });

    it('needs an e-mail address or a phone number', async () => {
      const err = await expectError(await record({ purpose: 'sales-and-service', action: 'grant' }), 400);
      assert.match(err.error.message, /e-mail|phone/);
      await expectError(await record({ email: 'x@example.dk', purpose: 'sales-and-service', action: 'subscribe' }), 400);
      await expectError(await record({ email: 'x@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1.5 }), 400);
      await expectError(await record({ email: 'x@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: '1' }), 400);
    });
  });

  describe('contact points', () => {
    it('normalises e-mail (case and surrounding spaces) to one person', async () => {
      const a = await json<Recorded>(await record({ email: '  Mixed.Case@Example.DK ', purpose: 'sales-and-service', action: 'grant' }), 201);
      const b = await json<Recorded>(await record({ email: 'mixed.case@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
      assert.equal(a.subjectId, b.subjectId);
      const s = await subjectByEmail('MIXED.case@example.dk');
      assert.equal(s.id, a.subjectId);
      assert.equal(s.email, 'mixed.case@example.dk', 'stored normalised');
      assert.equal(s.history.length, 2);
    });

    it('normalises phone numbers to E.164 using the site’s default country (DK)', async () => {
      const forms = ['20 12 34 56', '+45 20123456', '+4520123456', '0045 20 12 34 56', '+45 (20) 12-34-56'];
      const ids = new Set<string>();
      for (const phone of forms) {
        const r = await json<Recorded>(await record({ phone, purpose: 'sales-and-service', action: 'grant' }), 201);
        ids.add(r.subjectId);
      }
      assert.equal(ids.size, 1, 'every spelling is the same person');
      const s = await subjectByPhone('20123456');
      assert.equal(s.phone, '+4520123456');
      assert.equal(s.history.length, forms.length);
      assert.equal((await subjectByPhone('+45 20 12 34 56')).id, s.id);
    });

    it('refuses a number that is not valid in the numbering plan, without echoing it', async () => {
      // 12 34 56 78 is not a Danish subscriber number (1x are service numbers).
      for (const phone of ['12 34 56 78', '+45 12345678', '123456789012345']) {
        const res = await record({ phone, purpose: 'sales-and-service', action: 'grant' });
        const text = await res.clone().text();
        await expectError(res, 400, 'invalid_phone');
        assert.ok(!text.includes(phone) && !text.includes(phone.replace(/\D/g, '')), text);
      }
    });

    it('reads national numbers in the country the site is set to', async () => {
      await json(await t.call('PATCH', '/v1/sites/acme', { body: { defaultCountry: 'NO' } }), 200);
      try {
        const r = await json<Recorded>(await record({ phone: '412 34 567', purpose: 'sales-and-service', action: 'grant' }), 201);
        const s = await subjectById(r.subjectId);
        assert.equal(s.phone, '+4741234567');
        assert.equal((await subjectByPhone('+47 41 23 45 67')).id, r.subjectId);
      } finally {
        await json(await t.call('PATCH', '/v1/sites/acme', { body: { defaultCountry: 'DK' } }), 200);
      }
    });

    it('attaches a new e-mail or phone to the person already known by the other', async () => {
      const first = await json<Recorded>(await record({ email: 'attach@example.dk', purpose: 'sales-and-service', action: 'grant' }), 201);
      const before = await subjectById(first.subjectId);
      assert.equal(before.hasPhone, false);

      const second = await json<Recorded>(await record({ email: 'attach@example.dk', phone: '30 11 22 33', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }), 201);
      assert.equal(second.subjectId, first.subjectId);
      const byPhone = await subjectByPhone('+4530112233');
      assert.equal(byPhone.id, first.subjectId);
      assert.equal(byPhone.hasPhone, true);
      assert.equal(byPhone.hasEmail, true);
      assert.equal(byPhone.email, 'attach@example.dk');
      assert.equal(byPhone.phone, '+4530112233');

      // Phone first, e-mail later: the same.
      const p = await json<Recorded>(await record({ phone: '30 44 55 66', purpose: 'sales-and-service', action: 'grant' }), 201);
      const both = await json<Recorded>(await record({ phone: '+4530445566', email: 'later@example.dk', purpose: 'sales-and-service', action: 'grant' }), 201);
      assert.equal(both.subjectId, p.subjectId);
      assert.equal((await subjectByEmail('later@example.dk')).id, p.subjectId);
      const { rows } = await t.database.client.execute('SELECT count(*) AS n FROM subjects');
      const { rows: dup } = await t.database.client.execute({
        sql: 'SELECT count(*) AS n FROM subjects WHERE id IN (?, ?)',
        args: [first.subjectId, p.subjectId],
      });
      assert.equal(Number(dup[0]!.n), 2);
      assert.ok(Number(rows[0]!.n) >= 2);
    });

    it(
      'puts a consent given by phone alone on the person found by that phone, however requests are batched',
      async () => {
        // Several triples at once so that each lands in one group commit.
        const triples = Array.from({ length: 5 }, (_, i) => ({
          email: `batch-${i}@example.dk`,
          first: `+45 70 00 0${i} 01`,
          second: `+45 70 00 0${i} 02`,
        }));
        const responses = await Promise.all(
          triples.flatMap((x) => [
            record({ email: x.email, phone: x.first, purpose: 'sales-and-service', action: 'grant' }),
            record({ email: x.email, phone: x.second, purpose: 'sales-and-service', action: 'grant' }),
            record({ phone: x.second, purpose: 'e-marketing', action: 'object' }),
          ]),
        );
        const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Recorded>));
        assert.deepEqual(
          responses.map((r) => r.status),
          Array(15).fill(201),
        );
        for (const [i, x] of triples.entries()) {
          const objection = bodies[i * 3 + 2]!;
          const res = await t.call('GET', `/v1/sites/acme/subjects?phone=${encodeURIComponent(x.second)}`);
          const found = await json<SubjectView>(res, 200);
          assert.equal(found.id, objection.subjectId, 'the objection is on the person with that phone');
          assert.equal(statusOf(found, 'e-marketing'), 'objected');
        }
      },
    );

    it('answers 409 contact_conflict when the e-mail and the phone belong to two different people', async () => {
      const a = await json<Recorded>(await record({ email: 'conflict-a@example.dk', purpose: 'sales-and-service', action: 'grant' }), 201);
      const b = await json<Recorded>(await record({ phone: '40 11 22 33', purpose: 'sales-and-service', action: 'grant' }), 201);
      assert.notEqual(a.subjectId, b.subjectId);
      const before = await eventCount(t);
      await expectError(
        await record({ email: 'conflict-a@example.dk', phone: '+45 40 11 22 33', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }),
        409,
        'contact_conflict',
      );
      assert.equal(await eventCount(t), before, 'no event');
      assert.equal((await subjectById(a.subjectId)).hasPhone, false, 'nothing merged');
      assert.equal((await subjectById(b.subjectId)).hasEmail, false);
    });
  });

  describe('Idempotency-Key', () => {
    it('returns the first answer on a retry, marked Idempotent-Replayed, without a second event', async () => {
      const body = { email: 'idem@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 };
      const headers = { 'idempotency-key': 'order-4711-consent' };
      const before = await eventCount(t);
      const first = await record(body, { headers });
      assert.equal(first.status, 201);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const firstText = await first.text();

      const retry = await record(body, { headers });
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(await retry.text(), firstText, 'the same body');

      assert.equal(await eventCount(t), before + 1, 'one event only');
      const s = await subjectByEmail('idem@example.dk');
      assert.equal(s.history.length, 1);

      // The same key with another body is refused and writes nothing.
      const other = await record({ ...body, action: 'withdraw' }, { headers });
      await expectError(other, 409, 'idempotency_key_reused');
      assert.equal(await eventCount(t), before + 1);
      assert.equal((await subjectByEmail('idem@example.dk')).history.length, 1);

      // Without the header, the same body is a new event.
      await json(await record(body), 201);
      assert.equal(await eventCount(t), before + 2);
    });

    it('answers concurrent repeats of one key with one event', async () => {
      const body = { email: 'idem-burst@example.dk', purpose: 'sales-and-service', action: 'grant' };
      const before = await eventCount(t);
      const responses = await Promise.all(Array.from({ length: 20 }, () => record(body, { headers: { 'idempotency-key': 'burst-1' } })));
      const texts = await Promise.all(responses.map((r) => r.text()));
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(20).fill(201),
      );
      assert.equal(new Set(texts).size, 1, 'every answer is the first one');
      assert.equal(responses.filter((r) => r.headers.get('idempotent-replayed') !== 'true').length, 1, 'exactly one was not a replay');
      assert.equal(await eventCount(t), before + 1);
    });

    it('scopes keys to the API key that sent them', async () => {
      const headers = { 'idempotency-key': 'shared-name' };
      const body = { email: 'idem-scope@example.dk', purpose: 'sales-and-service', action: 'grant' };
      const a = await json<Recorded>(await record(body, { headers }), 201);
      const resB = await record(body, { headers, key: writeKey.secret });
      const b = await json<Recorded>(resB, 201);
      assert.equal(resB.headers.get('idempotent-replayed'), null);
      assert.notEqual(a.eventId, b.eventId);
    });

    it(
      'replays the first answer even when the source or wording has since been archived or retired',
      async () => {
        await json(await t.call('POST', '/v1/sites/acme/sources', { body: { key: 'retry-src', label: 'Retry source' } }), 201);
        const body = { email: 'idem-retry@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1, source: 'retry-src' };
        const headers = { 'idempotency-key': 'retry-after-archive' };
        const first = await record(body, { headers });
        assert.equal(first.status, 201);
        const firstText = await first.text();
        await json(await t.call('PATCH', '/v1/sites/acme/sources/retry-src', { body: { archived: true } }), 200);
        const before = await eventCount(t);
        const retry = await record(body, { headers });
        const retryText = await retry.text();
        assert.equal(retry.status, 201, retryText);
        assert.equal(retry.headers.get('idempotent-replayed'), 'true');
        assert.equal(retryText, firstText);
        assert.equal(await eventCount(t), before);
      },
    );

    it('refuses a malformed Idempotency-Key header', async () => {
      const body = { email: 'idem-bad@example.dk', purpose: 'sales-and-service', action: 'grant' };
      const long = await expectError(await record(body, { headers: { 'idempotency-key': 'k'.repeat(256) } }), 400);
      assert.ok(long.error.details.some((d) => d.field === 'idempotency-key'));
      await expectError(await record(body, { headers: { 'idempotency-key': 'has space' } }), 400);
      await expectError(await t.call('GET', '/v1/sites/acme/subjects?email=idem-bad%40example.dk'), 404);
    });
  });

  describe('people', () => {
    it('finds a person by e-mail, phone or id, and 404s for anyone unknown', async () => {
      const r = await json<Recorded>(await record({ email: 'lookup@example.dk', phone: '50 60 70 80', purpose: 'sales-and-service', action: 'grant' }), 201);
      assert.equal((await subjectByEmail('lookup@example.dk')).id, r.subjectId);
      assert.equal((await subjectByPhone('50607080')).id, r.subjectId);
      const byId = await subjectById(r.subjectId);
      assert.equal(byId.restricted, false);
      assert.equal(byId.erased, false);
      assert.match(byId.createdAt, ISO);
      // Every purpose of the site is listed, with 'none' where nothing was recorded.
      const { purposes } = await json<{ purposes: { key: string }[] }>(await t.call('GET', '/v1/sites/acme/purposes'), 200);
      assert.deepEqual(
        byId.consents.map((c) => c.purpose).sort(),
        purposes.map((p) => p.key).sort(),
      );

      await expectError(await t.call('GET', '/v1/sites/acme/subjects?email=nobody%40example.dk'), 404, 'not_found');
      await expectError(await t.call('GET', '/v1/sites/acme/subjects?phone=%2B4599999999'), 404, 'not_found');
      await expectError(await t.call('GET', '/v1/sites/acme/subjects/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
      await expectError(await t.call('GET', '/v1/sites/acme/subjects/not-an-id'), 400);
      await expectError(await t.call('GET', '/v1/sites/acme/subjects'), 400);
      await expectError(await t.call('GET', '/v1/sites/acme/subjects?email=lookup%40example.dk&phone=50607080'), 400);
      await expectError(await t.call('GET', '/v1/sites/acme/subjects?name=lookup'), 400);
    });

    it('shows plaintext e-mail, phone and notes only to keys with pii:read', async () => {
      const r = await json<Recorded>(
        await record({
          email: 'pii-person@example.dk',
          phone: '60 70 80 90',
          purpose: 'sales-and-service',
          action: 'grant',
          evidence: { note: 'Called in about order 77, asked for Kim', formId: 'counter' },
        }),
        201,
      );
      const withPii = await subjectById(r.subjectId);
      assert.equal(withPii.email, 'pii-person@example.dk');
      assert.equal(withPii.phone, '+4560708090');
      assert.equal(withPii.history[0]!.evidence?.note, 'Called in about order 77, asked for Kim');

      const readerView = await subjectById(r.subjectId, piiKey.secret);
      assert.equal(readerView.email, 'pii-person@example.dk');
      assert.equal(readerView.history[0]!.evidence?.note, 'Called in about order 77, asked for Kim');

      for (const view of [await subjectById(r.subjectId, writeKey.secret), await subjectByEmail('pii-person@example.dk', writeKey.secret)]) {
        assert.equal(view.id, r.subjectId);
        assert.equal(view.email, null);
        assert.equal(view.phone, null);
        assert.equal(view.hasEmail, true);
        assert.equal(view.hasPhone, true);
        assert.equal(view.history[0]!.evidence?.formId, 'counter', 'non-personal evidence stays visible');
        assert.equal(view.history[0]!.evidence && 'note' in view.history[0]!.evidence, false);
        const text = JSON.stringify(view);
        for (const secret of ['pii-person@example.dk', '60708090', 'Kim', 'order 77']) assert.ok(!text.includes(secret), secret);
      }
    });

    it('shows the history: wording version with its SHA-256 per language, source, actor, time and minimal evidence', async () => {
      const email = 'history@example.dk';
      const userAgent = 'Mozilla/5.0 (X11; Linux x86_64) HistoryTest/1.0';
      // The node server hands the socket to Hono as env.incoming; app.request takes the same env.
      const res = await t.app.request(
        CONSENTS,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${writeKey.secret}`, 'content-type': 'application/json', 'user-agent': userAgent },
          body: JSON.stringify({
            email,
            purpose: 'e-marketing',
            action: 'grant',
            wordingVersion: 1,
            source: 'web-form',
            evidence: { pageUrl: 'https://www.acme.dk/tilmeld?email=history%40example.dk&utm=x#top', formId: 'newsletter-footer' },
          }),
        },
        { incoming: { socket: { remoteAddress: '203.0.113.77', remotePort: 50000, remoteFamily: 'IPv4' } } },
      );
      const recorded = await json<Recorded>(res, 201);

      const s = await subjectByEmail(email);
      assert.equal(s.history.length, 1);
      const h = s.history[0]!;
      assert.equal(h.eventId, recorded.eventId);
      assert.equal(h.seq, recorded.seq);
      assert.equal(h.action, 'grant');
      assert.equal(h.purpose, 'e-marketing');
      assert.equal(h.source, 'web-form');
      assert.equal(h.actor, `key:${writeKey.id}`);
      assert.equal(h.occurredAt, recorded.occurredAt);

      const wording = await json<{ id: string; texts: { lang: string; title: string; body: string }[] }>(
        await t.call('GET', '/v1/sites/acme/purposes/e-marketing/wordings/1'),
        200,
      );
      assert.equal(h.wording?.id, wording.id);
      assert.equal(h.wording?.version, 1);
      const expected = Object.fromEntries(
        wording.texts.map((x) => [x.lang, createHash('sha256').update(JSON.stringify([x.lang, x.title, x.body])).digest('hex')]),
      );
      assert.deepEqual(Object.keys(expected).sort(), ['da', 'en']);
      assert.deepEqual(h.wording?.sha256, expected);

      assert.equal(h.evidence?.pageUrl, 'https://www.acme.dk/tilmeld', 'query and fragment stripped');
      assert.equal(h.evidence?.formId, 'newsletter-footer');
      assert.equal(h.evidence?.ip, '203.0.113.0', 'IPv4 truncated to its /24');
      assert.match(h.evidence?.userAgentHash ?? '', /^[0-9a-f]{32}$/);
      const text = JSON.stringify(s);
      assert.ok(!text.includes('203.0.113.77'), 'no raw IP');
      assert.ok(!text.includes('HistoryTest'), 'no raw user agent');
      assert.ok(!text.includes('utm='), 'no query string');
    });

    it('truncates IPv6 addresses to their /48', async () => {
      const res = await t.app.request(
        CONSENTS,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'ipv6@example.dk', purpose: 'sales-and-service', action: 'grant' }),
        },
        { incoming: { socket: { remoteAddress: '2001:db8:abcd:12:34:56:78:9a', remotePort: 1, remoteFamily: 'IPv6' } } },
      );
      await json(res, 201);
      const s = await subjectByEmail('ipv6@example.dk');
      assert.equal(s.history[0]!.evidence?.ip, '2001:db8:abcd::/48');
      assert.ok(!JSON.stringify(s).includes(':78:9a'));
    });
  });
});

describe('concurrent consents', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('answers 200 concurrent requests with 201 each, on seq 1..N with no gaps and an unbroken chain', async () => {
    const N = 200;
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        t.call('POST', CONSENTS, {
          body:
            i % 3 === 0
              ? { email: `burst-${i}@example.dk`, purpose: 'e-marketing', action: 'grant', wordingVersion: 1 }
              : i % 3 === 1
                ? { email: `burst-${i % 10}@example.dk`, purpose: 'sales-and-service', action: 'grant' }
                : { phone: `+45 2${String(10000000 + i).slice(1)}`, purpose: 'sales-and-service', action: 'object' },
        }),
      ),
    );
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Recorded>));
    assert.deepEqual(
      responses.map((r) => r.status),
      Array(N).fill(201),
      JSON.stringify(bodies.find((b) => !('seq' in b))),
    );
    const seqs = bodies.map((b) => b.seq).sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: N }, (_, i) => i + 1),
    );
    assert.equal(new Set(bodies.map((b) => b.eventId)).size, N);

    const { rows } = await t.database.client.execute({ sql: 'SELECT id, seq, prev_hash, hash FROM consent_events WHERE site_id = ? ORDER BY seq', args: ['acme'] });
    assert.equal(rows.length, N);
    rows.forEach((r, i) => {
      assert.equal(Number(r.seq), i + 1);
      if (i > 0) assert.equal(r.prev_hash, rows[i - 1]!.hash, `chain link at seq ${i + 1}`);
    });
    const { rows: head } = await t.database.client.execute({ sql: 'SELECT ledger_seq, ledger_head FROM sites WHERE id = ?', args: ['acme'] });
    assert.equal(Number(head[0]!.ledger_seq), N);
    assert.equal(head[0]!.ledger_head, rows.at(-1)!.hash);

    // Repeated e-mails in the burst are one person each.
    const { rows: people } = await t.database.client.execute('SELECT count(*) AS n FROM subjects');
    const distinct = new Set<string>();
    for (let i = 0; i < N; i++) distinct.add(i % 3 === 0 ? `e${i}` : i % 3 === 1 ? `e${i % 10}` : `p${i}`);
    assert.equal(Number(people[0]!.n), distinct.size);
  });
});
