/**
 * The client address behind reverse proxies (TRUST_PROXY): the unit rule, and the app using
 * it for rate limits, so one busy proxy never throttles everyone behind it.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { clientAddress } from '../../server/http/request-meta';
import { makeApp, type TestApp } from './helpers';

describe('clientAddress', () => {
  it('without trusted proxies the socket peer is the client, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddress('10.0.0.5', '203.0.113.7', 0), '10.0.0.5');
    assert.equal(clientAddress('10.0.0.5', undefined, 1), '10.0.0.5');
  });

  it('walks back one entry per trusted proxy; entries the client wrote are never believed', () => {
    // client → proxy A (appends the client) → server
    assert.equal(clientAddress('10.0.0.5', '203.0.113.7', 1), '203.0.113.7');
    // a client forging an entry: the proxy still appends the real address last
    assert.equal(clientAddress('10.0.0.5', '198.51.100.1, 203.0.113.7', 1), '203.0.113.7');
    // client → CDN → load balancer → server: two proxies
    assert.equal(clientAddress('10.0.0.5', '198.51.100.1, 203.0.113.7, 192.0.2.10', 2), '203.0.113.7');
    // fewer entries than trusted proxies: the left-most there is
    assert.equal(clientAddress('10.0.0.5', '203.0.113.7', 3), '203.0.113.7');
    assert.equal(clientAddress('10.0.0.5', '2001:db8::1', 1), '2001:db8::1');
  });

  it('a malformed entry falls back to the socket peer', () => {
    assert.equal(clientAddress('10.0.0.5', 'not-an-ip', 1), '10.0.0.5');
    assert.equal(clientAddress('10.0.0.5', '', 1), '10.0.0.5');
  });
});

describe('rate limits behind a proxy (TRUST_PROXY=1)', () => {
  let t: TestApp;
  let server: ServerType;
  let base: string;
  after(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    await t?.close();
  });

  it('counts each forwarded client on its own, not the proxy', async () => {
    t = await makeApp({ app: { trustProxy: 1 } });
    server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => server.once('listening', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ask = (client: string) =>
      fetch(`${base}/v1/sites/acme/preference-links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
        body: JSON.stringify({ email: `someone-${client}@example.dk`, lang: 'en' }),
      });
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await ask('203.0.113.7');
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 202);
    }
    assert.ok(limited, 'one client is limited');
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal((await ask('203.0.113.8')).status, 202, 'another client behind the same proxy is not');
  });
});
