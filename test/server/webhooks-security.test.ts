/**
 * Webhook security: endpoint URLs cannot reach the deployment's own network (SSRF), at
 * creation or at delivery (DNS checked right before each request), unless the development
 * escape hatch is on; and a payload carries only the address of the channel opted out of.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookDelivery } from '../../server/services/webhooks';
import { isBlockedAddress, webhookUrlProblem } from '../../shared/check-api';
import { makeApp, type TestApp, json, expectError } from './helpers';
import { me, prefsTokenFor } from './check-flows';

const BAD_URLS: [string, string][] = [
  ['http://receiver.example/hook', 'plain http'],
  ['https://user:pass@receiver.example/hook', 'credentials'],
  ['https://receiver.example:secret@receiver.example/', 'credentials'],
  ['https://localhost/hook', 'localhost'],
  ['https://LOCALHOST./hook', 'localhost'],
  ['https://api.localhost/hook', '*.localhost'],
  ['https://127.0.0.1/hook', 'loopback'],
  ['https://127.1.2.3:6379/', 'loopback'],
  ['https://2130706433/', 'loopback (decimal)'],
  ['https://0x7f.0.0.1/', 'loopback (hex)'],
  ['https://10.0.0.1/', 'private'],
  ['https://172.16.5.4/', 'private'],
  ['https://172.31.255.255/', 'private'],
  ['https://192.168.1.1/', 'private'],
  ['https://169.254.169.254/latest/meta-data/', 'link-local (metadata)'],
  ['https://100.64.0.1/', 'CGNAT'],
  ['https://100.127.255.254/', 'CGNAT'],
  ['https://224.0.0.1/', 'multicast'],
  ['https://255.255.255.255/', 'broadcast'],
  ['https://0.0.0.0/', 'unspecified'],
  ['https://[::]/', 'IPv6 unspecified'],
  ['https://[::1]/', 'IPv6 loopback'],
  ['https://[fc00::1]/', 'IPv6 ULA'],
  ['https://[fd12:3456::1]/', 'IPv6 ULA'],
  ['https://[fe80::1]/', 'IPv6 link-local'],
  ['https://[ff02::1]/', 'IPv6 multicast'],
  ['https://[::ffff:127.0.0.1]/', 'IPv4-mapped loopback'],
  ['https://[::ffff:169.254.169.254]/', 'IPv4-mapped metadata'],
];

describe('webhook URL checks', () => {
  it('classifies addresses', () => {
    for (const ip of ['127.0.0.1', '10.9.8.7', '172.20.0.1', '192.168.0.1', '169.254.169.254', '100.64.1.1', '0.0.0.0', '239.1.1.1', '::', '::1', 'fd00::1', 'fe80::1%eth0', 'ff05::2', '::ffff:10.0.0.1', '::ffff:7f00:1', '[::1]']) {
      assert.equal(isBlockedAddress(ip), true, ip);
    }
    for (const ip of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', 'receiver.example']) {
      assert.equal(isBlockedAddress(ip), false, ip);
    }
  });

  it('the escape hatch allows http and private targets, never credentials', () => {
    assert.equal(webhookUrlProblem('http://127.0.0.1:9999/hook', true), undefined);
    assert.ok(webhookUrlProblem('http://u:p@127.0.0.1:9999/hook', true));
    assert.equal(webhookUrlProblem('https://receiver.example/hook?token=abc'), undefined);
  });
});

describe('webhook creation refuses private and insecure targets', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ app: { webhookAllowPrivate: false } });
  });
  after(() => t.close());

  for (const [url, what] of BAD_URLS) {
    it(`refuses ${what}: ${url}`, async () => {
      const body = await expectError(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url } }), 400);
      assert.equal(body.error.details[0]?.field, 'url', JSON.stringify(body));
      assert.match(body.error.details[0]!.message, /https|credentials|localhost|address/);
    });
  }

  it('accepts a public https URL, and stored nothing for the refused ones', async () => {
    await json(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url: 'https://receiver.example/hook?token=abc' } }), 201);
    const list = await json<{ webhooks: { url: string }[] }>(await t.call('GET', '/v1/sites/acme/webhooks'), 200);
    assert.deepEqual(list.webhooks.map((w) => w.url), ['https://receiver.example/hook?token=abc']);
  });
});

describe('webhook delivery refuses private addresses', () => {
  let t: TestApp;
  let server: Server;
  let port: number;
  let hits = 0;
  const record = async (email: string) => {
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email, purpose: 'e-marketing', action: 'grant', wordingVersion: 1 } }), 201);
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email, purpose: 'e-marketing', action: 'withdraw' } }), 201);
    await t.services.queue.idle();
  };
  const deliveries = async () => (await t.database.client.execute('SELECT status, last_error, payload_enc FROM webhook_deliveries ORDER BY created_at, rowid')).rows;
  const dropHooks = async () => {
    const list = await json<{ webhooks: { id: string }[] }>(await t.call('GET', '/v1/sites/acme/webhooks'), 200);
    for (const w of list.webhooks) assert.equal((await t.call('DELETE', `/v1/sites/acme/webhooks/${w.id}`)).status, 204);
    await t.database.client.execute('DELETE FROM webhook_deliveries');
  };

  before(async () => {
    // Created through the escape hatch (as tests and development do); delivered without it.
    t = await makeApp();
    server = createServer((req, res) => {
      hits++;
      req.resume().on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await t.close();
  });

  it('a host name resolving to 127.0.0.1 (localhost, real DNS) is refused: failed, blocked_address, nothing sent', async () => {
    await json(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url: `http://localhost:${port}/hook` } }), 201);
    await record('blocked@example.dk');
    const loop = new WebhookDelivery({ queue: t.services.queue, webhooks: t.services.webhooks, allowPrivateTargets: false });
    const report = await loop.runOnce();
    assert.deepEqual(report, { delivered: 0, retried: 0, failed: 1 });
    const rows = await deliveries();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'failed');
    assert.equal(rows[0]!.last_error, 'blocked_address');
    assert.equal(rows[0]!.payload_enc, '', 'a refused delivery keeps no payload');
    assert.equal(hits, 0, 'no request reached the receiver');
  });

  it('any one private address among those a name resolves to refuses it; an IP literal too', async () => {
    await dropHooks();
    const sent: string[] = [];
    const fetch = (async (url: string | URL | Request) => {
      sent.push(String(url));
      return new Response(null, { status: 204 });
    }) as typeof globalThis.fetch;
    const lookup = async (host: string) => (host === 'rebound.example' ? ['93.184.216.34', '10.0.0.5'] : host === 'public.example' ? ['93.184.216.34'] : []);
    for (const url of ['https://rebound.example/hook', 'https://public.example/hook', 'https://169.254.169.254/latest/meta-data/', 'https://nowhere.example/hook']) {
      await json(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url } }), 201);
    }
    await record('mixed@example.dk');
    const loop = new WebhookDelivery({ queue: t.services.queue, webhooks: t.services.webhooks, allowPrivateTargets: false, fetch, lookup });
    const report = await loop.runOnce();
    assert.deepEqual(report, { delivered: 1, retried: 0, failed: 3 });
    assert.deepEqual(sent, ['https://public.example/hook']);
    assert.deepEqual((await deliveries()).map((r) => r.last_error).sort(), ['blocked_address', 'blocked_address', 'blocked_address', null]);
  });

  it('a DNS failure is retried, not given up', async () => {
    await dropHooks();
    await json(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url: 'https://down.example/hook' } }), 201);
    await record('dns@example.dk');
    const lookup = async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN down.example'), { code: 'EAI_AGAIN' });
    };
    const loop = new WebhookDelivery({ queue: t.services.queue, webhooks: t.services.webhooks, allowPrivateTargets: false, lookup });
    assert.deepEqual(await loop.runOnce(), { delivered: 0, retried: 1, failed: 0 });
    const [row] = await deliveries();
    assert.equal(row!.status, 'pending');
    assert.equal(row!.last_error, 'EAI_AGAIN');
  });

  it('with the escape hatch (the default of a test app) the same receiver is reached', async () => {
    await dropHooks();
    await json(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url: `http://localhost:${port}/hook` } }), 201);
    await record('allowed@example.dk');
    const loop = new WebhookDelivery({ queue: t.services.queue, webhooks: t.services.webhooks });
    assert.deepEqual(await loop.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    assert.equal(hits, 1);
  });
});

describe('webhook payloads carry only the address of the channel', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await json(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url: 'https://receiver.example/hook' } }), 201);
  });
  after(() => t.close());

  const payloads = async () => {
    await t.services.queue.idle();
    const { rows } = await t.database.client.execute("SELECT payload_enc FROM webhook_deliveries WHERE payload_enc != '' ORDER BY created_at, rowid");
    return rows.map((r) => JSON.parse(t.services.webhooks.decryptPayload(String(r.payload_enc))) as Record<string, unknown>);
  };
  const clear = () => t.database.client.execute('DELETE FROM webhook_deliveries');

  it('an SMS unsubscribe with no purpose: channel sms, the phone number only', async () => {
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email: 'both@example.dk', phone: '+4520304050', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 } }), 201);
    await clear();
    const token = await prefsTokenFor(t, 'both@example.dk');
    await json(await me(t, token, 'POST', '/unsubscribe', { channel: 'sms' }), 200);
    const [p, ...rest] = await payloads();
    assert.equal(rest.length, 0);
    assert.equal(p!.type, 'unsubscribe');
    assert.equal(p!.purpose, null);
    assert.equal(p!.channel, 'sms');
    assert.equal(p!.phone, '+4520304050');
    assert.ok(!('email' in p!), 'no e-mail address in an SMS opt-out');
  });

  it('an e-mail unsubscribe with no purpose: channel email, the address only', async () => {
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email: 'both@example.dk', purpose: 'e-marketing', action: 'withdraw' } }), 201);
    await clear();
    const token = await prefsTokenFor(t, 'both@example.dk');
    await json(await me(t, token, 'POST', '/unsubscribe', { channel: 'email' }), 200);
    const [p, ...rest] = await payloads();
    assert.equal(rest.length, 0);
    assert.equal(p!.purpose, null);
    assert.equal(p!.channel, 'email');
    assert.equal(p!.email, 'both@example.dk');
    assert.ok(!('phone' in p!), 'no phone number in an e-mail opt-out');
  });

  it('unsubscribing from all: each payload names its own channel and address', async () => {
    await json(await t.call('POST', '/v1/sites/acme/consents', { body: { email: 'all@example.dk', phone: '+4525000001', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 } }), 201);
    await clear();
    const token = await prefsTokenFor(t, 'all@example.dk');
    await json(await me(t, token, 'POST', '/unsubscribe', { channel: 'all' }), 200);
    const ps = await payloads();
    assert.equal(ps.length, 2);
    for (const p of ps) {
      const keys = ['email', 'phone'].filter((k) => k in p);
      assert.equal(keys.length, 1, JSON.stringify(p));
      assert.equal(keys[0], p.channel === 'sms' ? 'phone' : 'email');
    }
    assert.deepEqual(ps.map((p) => p.channel).sort(), ['email', 'sms']);
  });
});
