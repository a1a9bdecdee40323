/**
 * The app behind the real Node adapter, over raw HTTP: headers are read from Node's own
 * parsed request and the common response headers set on Node's response there
 * (server/http/headers.ts), which app.request() in the other tests never reaches.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { createServer } from 'node:http';
import { serverOptions, StampedResponse } from '../../server/http/headers';
import { makeApp, tempDir, type TestApp } from './helpers';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One request as written (headers may repeat); the status line and headers of the answer, and its body. */
function raw(port: number, lines: string[], body = ''): Promise<{ status: number; headers: Map<string, string>; head: string; body: string }> {
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
      resolve({ status: Number(statusLine.split(' ')[1]), headers, head, body: rest });
    });
    const length = body ? [`Content-Length: ${Buffer.byteLength(body)}`] : [];
    socket.write([...lines, 'Host: 127.0.0.1', 'Connection: close', ...length, '', body].join('\r\n'));
  });
}

describe('over the Node adapter', () => {
  let t: TestApp;
  let server: ServerType;
  let port: number;
  /** The same app on a server made without serverOptions (the headers are then set on Node's response beforehand). */
  let plain: ServerType;
  let plainPort: number;
  let checkKey: string;

  before(async () => {
    const widgetDir = await tempDir();
    await writeFile(join(widgetDir, 'samtykke.js'), 'customElements.define("x-y", class extends HTMLElement {});\n'.repeat(20));
    t = await makeApp({ app: { widgetDir } });
    const res = await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'checker', scopes: ['check'] } });
    checkKey = ((await res.json()) as { secret: string }).secret;
    const listen = (options: Parameters<typeof serve>[0]) => new Promise<[ServerType, number]>((resolve) => {
      const s = serve(options, (info) => resolve([s, info.port]));
    });
    // As startServer makes it (server/main.ts).
    [server, port] = await listen({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1', serverOptions });
    [plain, plainPort] = await listen({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await new Promise((r) => plain.close(r));
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
      for (const at of [port, plainPort]) {
        const res = await raw(at, [line]);
        const where = `${line} (${at === port ? 'serverOptions' : 'plain server'})`;
        assert.equal(res.status, status, `${where}: ${res.body}`);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', where);
        assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, where);
        // Once each, not once from the app and again from the server.
        assert.equal(res.head.match(/^x-request-id:/gim)?.length, 1, where);
        assert.equal(res.head.match(/^x-content-type-options:/gim)?.length, 1, where);
      }
    }
    for (const at of [port, plainPort]) {
      const mine = await raw(at, ['GET /healthz HTTP/1.1', 'X-Request-Id: trace-42=a']);
      assert.equal(mine.headers.get('x-request-id'), 'trace-42=a');
      const odd = await raw(at, ['GET /healthz HTTP/1.1', 'X-Request-Id: two words']);
      assert.match(odd.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  it('serves a widget file with its own headers and the request id, each once', async () => {
    const res = await raw(port, ['GET /samtykke.js HTTP/1.1', 'Accept-Encoding: gzip']);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.equal(res.head.match(/^x-request-id:/gim)?.length, 1);
    assert.equal(res.head.match(/^content-type:/gim)?.length, 1);
  });

  it('stamps every form of writeHead, and the 500 written after a head that failed', async () => {
    const plainServer = createServer(serverOptions, (_req, res) => {
      const stamped = res as StampedResponse;
      stamped.requestId = 'req-1';
      const path = _req.url;
      if (path === '/reason') stamped.writeHead(201, 'Made', { 'x-a': '1' });
      else if (path === '/undefined-reason') stamped.writeHead(202, undefined as unknown as string, { 'x-a': '2' });
      else if (path === '/raw') stamped.writeHead(203, ['x-a', '3']);
      else {
        assert.throws(() => stamped.writeHead(200, { 'x-bad': 'a\nb' }));
        stamped.writeHead(500, { 'content-type': 'text/plain' });
      }
      res.end('ok');
    });
    await new Promise<void>((resolve) => plainServer.listen(0, '127.0.0.1', resolve));
    const at = (plainServer.address() as { port: number }).port;
    try {
      for (const [path, status, a] of [['/reason', 201, '1'], ['/undefined-reason', 202, '2'], ['/raw', 203, '3'], ['/bad', 500, undefined]] as const) {
        const res = await raw(at, [`GET ${path} HTTP/1.1`]);
        assert.equal(res.status, status, path);
        assert.equal(res.headers.get('x-a'), a, path);
        assert.equal(res.head.match(/^x-request-id: req-1$/gim)?.length, 1, path);
        assert.equal(res.head.match(/^x-content-type-options: nosniff$/gim)?.length, 1, path);
      }
    } finally {
      await new Promise((r) => plainServer.close(r));
    }
  });
});
