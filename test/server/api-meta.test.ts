/**
 * The unauthenticated edges: health checks, the OpenAPI document and the API reference.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../server/app';
import { migrate, openDatabase } from '../../server/db/client';
import { makeApp, TEST_SECRET, type TestApp } from './helpers';

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; enum?: unknown[]; $ref?: string; [k: string]: unknown };
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, unknown>; security?: unknown[]; parameters?: { name: string; in: string }[] }>>;
  components?: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, unknown> };
}

describe('health, OpenAPI and docs', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('GET /healthz answers 200 without a key', async () => {
    const res = await t.call('GET', '/healthz', { key: null });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('GET /readyz answers 200 when the database answers, 503 when it does not', async () => {
    const res = await t.call('GET', '/readyz', { key: null });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ready' });

    // A second app on its own database, which is then closed under it.
    const dir = t.dir;
    const database = await openDatabase({ url: `file:${dir}/readyz.db` });
    await migrate(database);
    const { app } = createApp({ database, secret: TEST_SECRET });
    assert.equal((await app.request('/readyz')).status, 200);
    database.close();
    const down = await app.request('/readyz');
    assert.equal(down.status, 503);
    const body = (await down.json()) as { error: { code: string; message: string; details: unknown[] } };
    assert.equal(body.error.code, 'not_ready');
    assert.deepEqual(body.error.details, []);
    // The process itself is still up.
    assert.equal((await app.request('/healthz')).status, 200);
  });

  it('serves an OpenAPI 3.1 document whose paths are the real /v1 routes', async () => {
    const res = await t.call('GET', '/openapi.json', { key: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const doc = (await res.json()) as OpenApi;
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.ok(doc.components?.securitySchemes?.bearerAuth, 'bearer auth is described');

    // Every documented path, joined to the server URL, must be a route this app answers.
    const base = new URL(doc.servers?.[0]?.url ?? 'http://localhost/').pathname.replace(/\/$/, '');
    const paths = Object.keys(doc.paths);
    assert.ok(paths.length >= 10, paths.join(' '));
    for (const path of paths) {
      for (const method of Object.keys(doc.paths[path]!)) {
        const real = `${base}${path}`.replace(/\{site\}/g, 'acme').replace(/\{[^}]+\}/g, 'x');
        const r = await t.call(method.toUpperCase(), real, { key: null });
        assert.ok(r.status !== 404 || (await r.clone().json() as { error: { message: string } }).error.message !== 'no such route', `${method.toUpperCase()} ${real} (from ${path}) is not a route`);
        assert.notEqual(r.status, 405, `${method.toUpperCase()} ${real}`);
      }
    }

    const consentPath = paths.find((p) => /\/sites\/\{site\}\/consents$/.test(p));
    assert.ok(consentPath, 'the consent route is documented');
    assert.equal(`${base}${consentPath}`, '/v1/sites/{site}/consents');
    const op = doc.paths[consentPath]!.post!;
    assert.ok(op, 'as POST');
    assert.ok(op.responses['201'], '201 documented');
    for (const status of ['400', '401', '403', '404', '409', '413', '415']) assert.ok(op.responses[status], `${status} documented`);
    assert.ok(op.security && op.security.length > 0);
    const schema = op.requestBody?.content['application/json']?.schema;
    assert.ok(schema, 'request body schema');
    const resolved = schema.$ref ? doc.components!.schemas![schema.$ref.split('/').pop()!]! : schema;
    assert.equal(resolved.type, 'object');
    for (const field of ['email', 'phone', 'purpose', 'action', 'wordingVersion', 'source', 'evidence']) {
      assert.ok(resolved.properties?.[field], `body field ${field}`);
    }
    assert.deepEqual([...(resolved.properties!.action!.enum ?? [])].sort(), ['grant', 'object', 'withdraw']);
    assert.ok(resolved.required?.includes('purpose') && resolved.required.includes('action'));
    assert.equal(resolved.additionalProperties, false, 'unknown fields are refused, and documented so');

    // Path and query validators document their parameters too (validation.ts runs them itself).
    const check = doc.paths[consentPath.replace(/consents$/, 'check')]?.get;
    assert.ok(check, 'the send check is documented');
    const params = (check.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();
    assert.deepEqual(params, ['path:site', 'query:email', 'query:phone', 'query:purpose']);
  });

  it('serves /docs as HTML that loads the locally served RapiDoc script', async () => {
    const res = await t.call('GET', '/docs', { key: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /<rapi-doc[^>]+spec-url="\/openapi\.json"/);
    const src = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    assert.ok(src, 'a script tag');
    assert.ok(src.startsWith('/'), 'served from this server, not a CDN');
    assert.ok(!/https?:\/\//.test(html.replace(/xmlns="[^"]*"/g, '')), 'nothing loaded from a third party');

    const script = await t.call('GET', src, { key: null });
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^(text|application)\/javascript/);
    const code = await script.text();
    assert.ok(code.length > 100_000, 'the real bundle');
    assert.ok(code.includes('rapi-doc'));
  });
});
