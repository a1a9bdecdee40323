/**
 * The app behind the real Node adapter, over raw HTTP: headers are read from Node's own
 * parsed request and the common response headers set on Node's response there
 * (server/http/headers.ts), which app.request() in the other tests never reaches.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { makeApp, type TestApp } from './helpers';

/** One request as written (headers may repeat); the status line and headers of the answer, and its body. */
function raw(port: number, lines: string[], body = ''): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', rest = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = new Map(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest });
    });
    const length = body ? [`Content-Length: ${Buffer.byteLength(body)}`] : [];
    socket.write([...lines, 'Host: 127.0.0.1', 'Connection: close', ...length, '', body].join('\r\n'));
  });
}

describe('over the Node adapter', () => {
  let t: TestApp;
  let server: ServerType;
  let port: number;
  let checkKey: string;

  before(async () => {
    t = await makeApp();
    const res = await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'checker', scopes: ['check'] } });
    checkKey = ((await res.json()) as { secret: string }).secret;
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await t.close();
  });

  it('authenticates from the Authorization header, and refuses a request that names two keys', async () => {
    const path = 'GET /v1/sites/acme/check?purpose=e-marketing&email=nobody%40example.dk HTTP/1.1';
    const one = await raw(port, [path, `Authorization: Bearer ${checkKey}`]);
    assert.equal(one.status, 200, one.body);
    assert.equal((JSON.parse(one.body) as { reason: string }).reason, 'no-consent');
    // Node keeps only the first Authorization; the app must still see both, as a web Headers would.
    for (const pair of [
      [`Authorization: Bearer ${checkKey}`, 'Authorization: Bearer sk_AAAAAAAAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['Authorization: Bearer nonsense', `Authorization: Bearer ${checkKey}`],
    ]) {
      const two = await raw(port, [path, ...pair]);
      assert.equal(two.status, 401, two.body);
    }
  });

  it('refuses a body that declares two content types', async () => {
    const body = JSON.stringify({ purpose: 'e-marketing', contacts: [{ email: 'a@example.dk' }] });
    const res = await raw(port, ['POST /v1/sites/acme/check HTTP/1.1', `Authorization: Bearer ${checkKey}`, 'Content-Type: application/json', 'Content-Type: text/plain'], body);
    assert.equal(res.status, 415, res.body);
    const ok = await raw(port, ['POST /v1/sites/acme/check HTTP/1.1', `Authorization: Bearer ${checkKey}`, 'Content-Type: application/json'], body);
    assert.equal(ok.status, 200, ok.body);
  });

  it('gives every answer a request id and nosniff: success, 404, 405, 401; echoes a plain request id, replaces another', async () => {
    for (const [line, status] of [
      ['GET /healthz HTTP/1.1', 200],
      ['GET /no/such/route HTTP/1.1', 404],
      ['DELETE /healthz HTTP/1.1', 405],
      ['GET /v1/sites/acme/check?purpose=e-marketing&email=a%40example.dk HTTP/1.1', 401],
    ] as const) {
      const res = await raw(port, [line]);
      assert.equal(res.status, status, `${line}: ${res.body}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', line);
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, line);
    }
    const mine = await raw(port, ['GET /healthz HTTP/1.1', 'X-Request-Id: trace-42=a']);
    assert.equal(mine.headers.get('x-request-id'), 'trace-42=a');
    const odd = await raw(port, ['GET /healthz HTTP/1.1', 'X-Request-Id: two words']);
    assert.match(odd.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});
