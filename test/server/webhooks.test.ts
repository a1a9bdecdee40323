/**
 * Outbound webhooks: managed per site, written to the outbox in the transaction of each
 * opt-out (and restriction of processing), signed, retried with backoff after a failure, delivered after a restart.
 * A receiver runs in the test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createApp } from '../../server/app';
import { openDatabase } from '../../server/db/client';
import { WebhookDelivery } from '../../server/services/webhooks';
import { signInbound } from '../../server/services/sms';
import { makeApp, type TestApp, json, expectError, TEST_SECRET } from './helpers';
import { erase, restrict, unsubscribe } from './check-flows';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: answers `fail` times with 500, then 204. */
class Receiver {
  server: Server;
  received: Received[] = [];
  fail = 0;
  #waiters: (() => void)[] = [];
  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        if (this.fail > 0) {
          this.fail--;
          res.writeHead(500).end('no');
          return;
        }
        this.received.push({ headers: req.headers, body });
        res.writeHead(204).end();
        for (const w of this.#waiters.splice(0)) w();
      });
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook?token=abc`;
  }
  next(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no delivery arrived')), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  close() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** What a receiver does: check the signature and its age. */
function verify(secret: string, header: string | undefined, body: string, nowSeconds: number): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(nowSeconds - Number(m[1])) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

const SMS_SECRET = 'inbound-secret-0123456789abcdefghijklmnopqrstuvwxyz';

describe('outbound webhooks', () => {
  let t: TestApp;
  let receiver: Receiver;
  let url: string;
  let secret: string;
  let hookId: string;
  let clock = Date.now();
  const now = () => clock;
  let loop: WebhookDelivery;

  const record = async (body: Record<string, unknown>) => json(await t.call('POST', '/v1/sites/acme/consents', { body }), 201);
  const deliveries = async () =>
    (await t.database.client.execute('SELECT id, status, attempts, event_type, next_attempt_at, last_error, payload_enc FROM webhook_deliveries ORDER BY created_at, rowid')).rows;
  const payloadOf = (r: Received) => JSON.parse(r.body) as Record<string, unknown>;

  before(async () => {
    t = await makeApp({ now });
    receiver = new Receiver();
    url = await receiver.listen();
    loop = new WebhookDelivery({ queue: t.services.queue, webhooks: t.services.webhooks, now, backoffMs: 60_000 });
  });
  after(async () => {
    await loop.stop();
    await receiver.close();
    await t.close();
  });

  it('writes nothing while the site has no webhook', async () => {
    await record({ email: 'early@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    await record({ email: 'early@example.dk', purpose: 'e-marketing', action: 'withdraw' });
    assert.equal((await deliveries()).length, 0);
  });

  it('manages endpoints (scope admin); the secret is shown once', async () => {
    const created = await json<{ id: string; url: string; events: string[]; secret: string }>(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url } }), 201);
    assert.match(created.secret, /^whsec_/);
    assert.deepEqual(created.events, []);
    secret = created.secret;
    hookId = created.id;
    const list = await json<{ webhooks: Record<string, unknown>[] }>(await t.call('GET', '/v1/sites/acme/webhooks'), 200);
    assert.equal(list.webhooks.length, 1);
    assert.equal(list.webhooks[0]!.url, url);
    assert.ok(!('secret' in list.webhooks[0]!));
    await expectError(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url: 'ftp://x' } }), 400);
    const key = await json<{ secret: string }>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'c', scopes: ['check', 'write'] } }), 201);
    await expectError(await t.call('GET', '/v1/sites/acme/webhooks', { key: key.secret }), 403);
    // The secret is stored encrypted.
    const raw = readFileSync(t.file).toString('latin1');
    assert.ok(!raw.includes(secret));
  });

  it('a withdrawal is delivered, signed, with the address; the outbox holds it encrypted', async () => {
    await record({ email: 'anna@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    assert.equal((await deliveries()).length, 0, 'a grant is not an opt-out');
    const w = await json<{ eventId: number; subjectId: string }>(await t.call('POST', '/v1/sites/acme/consents', { body: { email: 'anna@example.dk', purpose: 'e-marketing', action: 'withdraw' } }), 201);
    const rows = await deliveries();
    assert.equal(rows.length, 1);
    assert.doesNotMatch(String(rows[0]!.payload_enc), /anna/);
    const report = await loop.runOnce();
    assert.deepEqual(report, { delivered: 1, retried: 0, failed: 0 });
    const got = receiver.received.at(-1)!;
    assert.ok(verify(secret, got.headers['samtykke-signature'] as string, got.body, Math.floor(clock / 1000)), 'the signature verifies');
    assert.ok(!verify('whsec_wrong', got.headers['samtykke-signature'] as string, got.body, Math.floor(clock / 1000)));
    const p = payloadOf(got);
    assert.deepEqual(
      { ...p, id: undefined },
      { id: undefined, type: 'withdraw', site: 'acme', purpose: 'e-marketing', channel: 'email', subjectId: w.subjectId, occurredAt: new Date(clock).toISOString(), eventId: w.eventId, email: 'anna@example.dk' },
    );
    assert.equal(got.headers['samtykke-delivery'], p.id);
    assert.equal(got.headers['samtykke-event'], 'withdraw');
    const [done] = await deliveries();
    assert.equal(done!.status, 'delivered');
    assert.equal(done!.payload_enc, '', 'a delivered payload (it held the address) is not kept');
  });

  it('retries with backoff after a failure, then delivers', async () => {
    receiver.fail = 1;
    await record({ email: 'bo@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    await record({ email: 'bo@example.dk', purpose: 'e-marketing', action: 'object' });
    const before = receiver.received.length;
    assert.deepEqual(await loop.runOnce(), { delivered: 0, retried: 1, failed: 0 });
    let row = (await deliveries()).at(-1)!;
    assert.deepEqual([row.status, row.attempts, row.last_error], ['pending', 1, 'HTTP 500']);
    assert.equal(Number(row.next_attempt_at), clock + 60_000);
    assert.deepEqual(await loop.runOnce(), { delivered: 0, retried: 0, failed: 0 }, 'not due yet');
    clock += 61_000;
    assert.deepEqual(await loop.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    row = (await deliveries()).at(-1)!;
    assert.deepEqual([row.status, row.attempts], ['delivered', 2]);
    assert.equal(receiver.received.length, before + 1);
    assert.equal(payloadOf(receiver.received.at(-1)!).type, 'object');
  });

  it('reports unsubscribe, SMS STOP and erasure (hashes only, no address)', async () => {
    await record({ email: 'cy@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    await unsubscribe(t, 'cy@example.dk', { suppress: true });
    await json(await t.call('PATCH', '/v1/sites/acme', { body: { smsInboundSecret: SMS_SECRET } }), 200);
    const raw = JSON.stringify({ from: '+4540404040', to: '1234', body: 'STOP', messageId: 'w-1' });
    const res = await t.app.request('/v1/sites/acme/sms/inbound', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-samtykke-signature': signInbound(SMS_SECRET, raw, clock) },
      body: raw,
    });
    assert.equal(res.status, 200);
    await erase(t, 'cy@example.dk');
    const start = receiver.received.length;
    assert.equal((await loop.runOnce()).delivered, 3);
    const got = receiver.received.slice(start).map(payloadOf);
    const byType = Object.fromEntries(got.map((p) => [p.type, p]));
    // The unsubscribe was still undelivered when cy was erased: it goes out with the hash, not the address.
    assert.equal(byType.unsubscribe!.email, undefined);
    assert.equal(byType.unsubscribe!.emailHash, t.services.crypto.blindIndex('acme', 'email', 'cy@example.dk'));
    assert.equal(byType['sms-stop']!.phone, '+4540404040');
    assert.equal(byType['sms-stop']!.channel, 'sms');
    const erased = byType.erase!;
    assert.equal(erased.email, undefined);
    assert.match(String(erased.emailHash), /^[A-Za-z0-9_-]{43}$/);
    assert.doesNotMatch(JSON.stringify(erased), /cy@example/);
  });

  it('reports restrict and unrestrict with every address the person has, like the opt-outs', async () => {
    const w = await json<{ subjectId: string }>(
      await t.call('POST', '/v1/sites/acme/consents', { body: { email: 'rie@example.dk', phone: '+4542424242', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 } }),
      201,
    );
    const count = (await deliveries()).length;
    await restrict(t, 'rie@example.dk');
    let rows = await deliveries();
    assert.deepEqual(rows.slice(count).map((r) => r.event_type), ['restrict'], 'written with the event, to the endpoint that named no events');
    assert.doesNotMatch(String(rows.at(-1)!.payload_enc), /rie@|42424242/, 'encrypted at rest');
    const start = receiver.received.length;
    assert.deepEqual(await loop.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    let got = receiver.received.at(-1)!;
    assert.ok(verify(secret, got.headers['samtykke-signature'] as string, got.body, Math.floor(clock / 1000)), 'the signature verifies');
    assert.equal(got.headers['samtykke-event'], 'restrict');
    const event = await t.database.client.execute("SELECT id FROM consent_events WHERE action = 'restrict' ORDER BY id DESC LIMIT 1");
    assert.deepEqual(
      { ...payloadOf(got), id: undefined },
      {
        id: undefined,
        type: 'restrict',
        site: 'acme',
        purpose: null,
        channel: null,
        subjectId: w.subjectId,
        occurredAt: new Date(clock).toISOString(),
        eventId: Number(event.rows[0]!.id),
        email: 'rie@example.dk',
        phone: '+4542424242',
      },
    );
    assert.equal((await deliveries()).at(-1)!.payload_enc, '', 'a delivered payload is not kept');

    // Lifted: a sync tool may resume.
    await restrict(t, 'rie@example.dk', false);
    rows = await deliveries();
    assert.equal(rows.at(-1)!.event_type, 'unrestrict');
    assert.deepEqual(await loop.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    got = receiver.received.at(-1)!;
    assert.equal(got.headers['samtykke-event'], 'unrestrict');
    const p = payloadOf(got);
    assert.deepEqual([p.type, p.purpose, p.channel, p.subjectId, p.email, p.phone], ['unrestrict', null, null, w.subjectId, 'rie@example.dk', '+4542424242']);
    assert.equal(receiver.received.length, start + 2);
  });

  it('an endpoint naming its events gets restrict and unrestrict only when it names them', async () => {
    const optOuts = await json<{ id: string }>(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url, events: ['withdraw', 'erase'] } }), 201);
    const restrictions = await json<{ id: string; events: string[] }>(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url, events: ['restrict', 'unrestrict'] } }), 201);
    assert.deepEqual(restrictions.events, ['restrict', 'unrestrict']);
    await expectError(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url, events: ['rectify'] } }), 400);
    await record({ email: 'rut@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    const count = (await deliveries()).length;
    await restrict(t, 'rut@example.dk');
    const { rows } = await t.database.client.execute({ sql: 'SELECT webhook_id, event_type FROM webhook_deliveries ORDER BY created_at, rowid LIMIT -1 OFFSET ?', args: [count] });
    assert.deepEqual(rows.map((r) => [r.webhook_id, r.event_type]).sort(), [[hookId, 'restrict'], [restrictions.id, 'restrict']].sort());
    assert.equal((await loop.runOnce()).delivered, 2);
    for (const id of [optOuts.id, restrictions.id]) assert.equal((await t.call('DELETE', `/v1/sites/acme/webhooks/${id}`)).status, 204);
  });

  it('a filtered endpoint gets only its types; a removed one nothing', async () => {
    const filtered = await json<{ id: string }>(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url, events: ['object'] } }), 201);
    const count = (await deliveries()).length;
    await record({ email: 'di@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    await record({ email: 'di@example.dk', purpose: 'e-marketing', action: 'withdraw' });
    const rows = await deliveries();
    assert.equal(rows.length, count + 1, 'only the unfiltered endpoint');
    await loop.runOnce();
    assert.equal((await t.call('DELETE', `/v1/sites/acme/webhooks/${filtered.id}`)).status, 204);
    await expectError(await t.call('DELETE', `/v1/sites/acme/webhooks/${filtered.id}`), 404);
  });

  it('gives up after 24 hours', async () => {
    receiver.fail = 1000;
    await record({ email: 'ed@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    await record({ email: 'ed@example.dk', purpose: 'e-marketing', action: 'withdraw' });
    for (let i = 0; i < 40; i++) {
      await loop.runOnce();
      clock += 60 * 60_000;
    }
    const row = (await deliveries()).at(-1)!;
    assert.equal(row.status, 'failed');
    assert.equal(row.last_error, 'HTTP 500');
    assert.equal(row.payload_enc, '', 'a given-up payload is not kept either');
    receiver.fail = 0;
  });

  it('a grant-only site with no webhooks pays nothing', async () => {
    assert.equal((await t.call('DELETE', `/v1/sites/acme/webhooks/${hookId}`)).status, 204);
    const n = (await deliveries()).length;
    await record({ email: 'gu@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    await record({ email: 'gu@example.dk', purpose: 'e-marketing', action: 'withdraw' });
    assert.equal((await deliveries()).length, n);
  });
  it('is delivered after a restart, from the outbox in the database', async () => {
    await json(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url } }), 201);
    // Written, not yet sent, when this instance goes away.
    await record({ email: 'fi@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 });
    await record({ email: 'fi@example.dk', purpose: 'e-marketing', action: 'withdraw' });
    await t.services.queue.idle();
    t.database.close();
    const database = await openDatabase({ url: `file:${t.file}` });
    const restarted = createApp({ database, secret: TEST_SECRET, now, webhookAllowPrivate: true });
    const arrived = receiver.next();
    const fresh = new WebhookDelivery({ queue: restarted.services.queue, webhooks: restarted.services.webhooks, now, pollMs: 50 }).start();
    await arrived;
    await fresh.stop();
    const p = payloadOf(receiver.received.at(-1)!);
    assert.equal(p.email, 'fi@example.dk');
    // Delivered once: the row is done.
    const { rows } = await database.client.execute("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'");
    assert.equal(Number(rows[0]!.n), 0);
    await restarted.services.queue.idle();
    database.close();
  });

});
