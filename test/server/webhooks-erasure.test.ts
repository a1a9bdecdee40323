/**
 * An erasure asked for on the preference page (POST /me/erase) reaches a webhook receiver
 * as blind-index hashes, never as an address; so does any delivery of theirs (such as a
 * restriction) not made before it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normalizeEmail } from '../../server/services/contact';
import { WebhookDelivery } from '../../server/services/webhooks';
import type { WebhookPayload } from '../../shared/check-api';
import { json, makeApp, type TestApp } from './helpers';
import { addSmsPurpose } from './subscription-helpers';
import { confirmedSignup, erase, restrict, subjectIdOf } from './check-flows';

/** A webhook receiver that answers 204 and keeps what it got. */
class Receiver {
  server: Server;
  received: { headers: IncomingHttpHeaders; body: string }[] = [];
  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  close() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

function verifySignature(secret: string, header: string | undefined, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  return timingSafeEqual(createHmac('sha256', secret).update(`${m[1]}.${body}`).digest(), Buffer.from(m[2]!, 'hex'));
}

describe('erasure on the preference page, told to a webhook', () => {
  let t: TestApp;
  let receiver: Receiver;
  let loop: WebhookDelivery;
  let secret: string;

  const deliveries = async () => (await t.database.client.execute('SELECT event_type, status, payload_enc FROM webhook_deliveries ORDER BY created_at, rowid')).rows;

  before(async () => {
    t = await makeApp();
    await addSmsPurpose(t);
    receiver = new Receiver();
    const url = await receiver.listen();
    loop = new WebhookDelivery({ queue: t.services.queue, webhooks: t.services.webhooks, now: () => t.services.now() });
    secret = (await json<{ secret: string }>(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url } }), 201)).secret;
  });
  after(async () => {
    await loop.stop();
    await receiver.close();
    await t.close();
  });

  it('POST /me/erase delivers one erase payload with the e-mail and phone hashes, and nothing readable', async () => {
    const email = 'Erase.Me@Example.DK';
    const phone = '+4561626364';
    await confirmedSignup(t, email, 'e-marketing,sms-offers', { phone, name: 'Erik Erased' });
    assert.equal((await deliveries()).length, 0, 'a signup and its confirmation are no opt-outs');
    const emailHash = t.services.crypto.blindIndex('acme', 'email', normalizeEmail(email));
    const phoneHash = t.services.crypto.blindIndex('acme', 'phone', phone);

    const subjectId = await erase(t, email);
    assert.equal(await subjectIdOf(t, email), undefined);
    const rows = await deliveries();
    assert.deepEqual(
      rows.map((r) => r.event_type),
      ['erase'],
      'only the erasure: its scrubbing and suppression are not reported as unsubscribes',
    );
    for (const text of ['erase.me', 'Erase.Me', '61626364', 'Erik']) assert.doesNotMatch(String(rows[0]!.payload_enc), new RegExp(text, 'i'), 'encrypted at rest');

    assert.deepEqual(await loop.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    const got = receiver.received.at(-1)!;
    assert.ok(verifySignature(secret, got.headers['samtykke-signature'] as string, got.body), 'signed');
    assert.equal(got.headers['samtykke-event'], 'erase');
    const p = JSON.parse(got.body) as WebhookPayload;
    assert.ok(Number.isInteger(p.eventId) && p.eventId > 0);
    assert.deepEqual(
      { ...p, id: undefined, occurredAt: undefined, eventId: undefined },
      { id: undefined, occurredAt: undefined, eventId: undefined, type: 'erase', site: 'acme', purpose: null, channel: null, subjectId, emailHash, phoneHash },
      'hashes only: no email, phone or name',
    );
    for (const text of ['erase.me', '@example', '61626364', 'Erik']) assert.doesNotMatch(got.body, new RegExp(text, 'i'));
    // The hashes are the ones the do-not-contact list keeps: a receiver can match them against an export.
    const supp = await t.database.client.execute({ sql: "SELECT channel, bidx FROM suppressions WHERE reason = 'erased' ORDER BY channel", args: [] });
    assert.deepEqual(
      supp.rows.map((r) => [r.channel, r.bidx]),
      [
        ['email', emailHash],
        ['sms', phoneHash],
      ],
    );
  });

  it('a restriction not yet delivered when the person is erased goes out with the hashes, not the addresses', async () => {
    const email = 'restricted.then.gone@example.dk';
    const phone = '+4571727374';
    await confirmedSignup(t, email, 'e-marketing,sms-offers', { phone });
    await restrict(t, email);
    const pending = (await deliveries()).at(-1)!;
    assert.deepEqual([pending.event_type, pending.status], ['restrict', 'pending']);
    const emailHash = t.services.crypto.blindIndex('acme', 'email', email);
    const phoneHash = t.services.crypto.blindIndex('acme', 'phone', phone);
    const before = receiver.received.length;
    const subjectId = await erase(t, email);
    assert.deepEqual(await loop.runOnce(), { delivered: 2, retried: 0, failed: 0 });
    const got = receiver.received.slice(before);
    for (const r of got) for (const text of ['restricted.then', '@example', '71727374']) assert.doesNotMatch(r.body, new RegExp(text, 'i'));
    const restrictPayload = got.map((r) => JSON.parse(r.body) as WebhookPayload).find((p) => p.type === 'restrict')!;
    assert.deepEqual(
      { ...restrictPayload, id: undefined, occurredAt: undefined, eventId: undefined },
      { id: undefined, occurredAt: undefined, eventId: undefined, type: 'restrict', site: 'acme', purpose: null, channel: null, subjectId, emailHash, phoneHash },
    );
    // The restriction ended with the person: only their 'erased' hashes stay on the list.
    const supp = await t.database.client.execute({ sql: 'SELECT reason FROM suppressions WHERE bidx IN (?, ?) ORDER BY channel', args: [emailHash, phoneHash] });
    assert.deepEqual(supp.rows.map((r) => r.reason), ['erased', 'erased']);
  });

  it('a person with only an e-mail address: the e-mail hash alone', async () => {
    const email = 'only-mail@example.dk';
    await confirmedSignup(t, email);
    const before = receiver.received.length;
    const subjectId = await erase(t, email);
    assert.equal((await loop.runOnce()).delivered, 1);
    const [got] = receiver.received.slice(before).map((r) => JSON.parse(r.body) as WebhookPayload);
    assert.equal(got!.type, 'erase');
    assert.equal(got!.subjectId, subjectId);
    assert.equal(got!.emailHash, t.services.crypto.blindIndex('acme', 'email', email));
    assert.ok(!('phoneHash' in got!) && !('email' in got!) && !('phone' in got!));
  });
});
