/**
 * The API's edges: cross-site isolation, scopes, authentication, the error shape, and
 * a fuzz loop checking that no input produces a 500.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSite } from '../../server/services/sites';
import { makeApp, type TestApp, json, expectError, assertErrorShape } from './helpers';





type Route = { method: string; path: string; body?: unknown };

/** Every service route of a site, with a body that would be valid. */
function siteRoutes(site: string, ids: { subject: string; key: string }): Route[] {
  const s = `/v1/sites/${site}`;
  return [
    { method: 'GET', path: s },
    { method: 'PATCH', path: s, body: { name: 'Renamed' } },
    { method: 'GET', path: `${s}/purposes` },
    { method: 'POST', path: `${s}/purposes`, body: { key: 'intruder', name: 'Intruder', channel: 'email', legalBasis: '6-1-a' } },
    { method: 'GET', path: `${s}/purposes/e-marketing` },
    { method: 'PATCH', path: `${s}/purposes/e-marketing`, body: { name: 'Renamed' } },
    { method: 'GET', path: `${s}/purposes/e-marketing/wordings` },
    { method: 'POST', path: `${s}/purposes/e-marketing/wordings`, body: { texts: { da: { title: 't', body: 'b' } } } },
    { method: 'GET', path: `${s}/purposes/e-marketing/wordings/1` },
    { method: 'PUT', path: `${s}/purposes/e-marketing/wordings/2`, body: { texts: { da: { title: 't', body: 'b' } } } },
    { method: 'POST', path: `${s}/purposes/e-marketing/wordings/2/publish` },
    { method: 'POST', path: `${s}/purposes/e-marketing/wordings/1/retire` },
    { method: 'GET', path: `${s}/sources` },
    { method: 'POST', path: `${s}/sources`, body: { key: 'intruder', label: 'Intruder' } },
    { method: 'PATCH', path: `${s}/sources/api`, body: { archived: true } },
    { method: 'GET', path: `${s}/keys` },
    { method: 'POST', path: `${s}/keys`, body: { name: 'intruder', scopes: ['admin'] } },
    { method: 'DELETE', path: `${s}/keys/${ids.key}` },
    { method: 'POST', path: `${s}/consents`, body: { email: 'victim@example.dk', purpose: 'sales-and-service', action: 'object' } },
    { method: 'GET', path: `${s}/subjects?email=victim%40example.dk` },
    { method: 'GET', path: `${s}/subjects/${ids.subject}` },
  ];
}

const ADMIN_ONLY = (r: Route) => !r.path.includes('/consents') && !r.path.includes('/subjects');

describe('cross-site isolation', () => {
  let t: TestApp;
  let betaKey: string;
  let acmeIds: { subject: string; key: string };
  let betaIds: { subject: string; key: string };

  before(async () => {
    t = await makeApp();
    const beta = await createSite(t.services, { id: 'beta', name: 'Beta' }, 'test', { name: 'beta admin' });
    betaKey = beta.key!.secret;
    const rec = async (site: string, key: string) =>
      json<{ subjectId: string }>(
        await t.call('POST', `/v1/sites/${site}/consents`, { key, body: { email: 'victim@example.dk', purpose: 'sales-and-service', action: 'grant' } }),
        201,
      );
    const acmeSubject = (await rec('acme', t.adminKey)).subjectId;
    const betaSubject = (await rec('beta', betaKey)).subjectId;
    const keyOf = async (site: string, key: string) =>
      (await json<{ keys: { id: string }[] }>(await t.call('GET', `/v1/sites/${site}/keys`, { key }), 200)).keys[0]!.id;
    acmeIds = { subject: acmeSubject, key: await keyOf('acme', t.adminKey) };
    betaIds = { subject: betaSubject, key: await keyOf('beta', betaKey) };
  });
  after(() => t.close());

  it('keeps the same e-mail as two separate people on two sites', () => {
    assert.notEqual(acmeIds.subject, betaIds.subject);
  });

  it('answers 404 to a key of beta for every route of acme', async () => {
    const acmeEventsBefore = await t.database.client.execute("SELECT count(*) AS n FROM consent_events WHERE site_id = 'acme'");
    for (const r of siteRoutes('acme', acmeIds)) {
      const res = await t.call(r.method, r.path, { key: betaKey, body: r.body });
      const body = await expectError(res, 404);
      assert.equal(body.error.code, 'not_found', `${r.method} ${r.path}`);
    }
    const after = await t.database.client.execute("SELECT count(*) AS n FROM consent_events WHERE site_id = 'acme'");
    assert.equal(after.rows[0]!.n, acmeEventsBefore.rows[0]!.n, 'nothing written to acme');
    // acme is untouched and its key still works.
    const site = await json<{ name: string }>(await t.call('GET', '/v1/sites/acme'), 200);
    assert.equal(site.name, 'Acme');
    const { sources } = await json<{ sources: { key: string; archived: boolean }[] }>(await t.call('GET', '/v1/sites/acme/sources'), 200);
    assert.equal(sources.find((s) => s.key === 'api')?.archived, false);
    assert.ok(!sources.some((s) => s.key === 'intruder'));
  });

  it('answers 404 to a key of acme for every route of beta', async () => {
    for (const r of siteRoutes('beta', betaIds)) {
      await expectError(await t.call(r.method, r.path, { key: t.adminKey, body: r.body }), 404, 'not_found');
    }
    await json(await t.call('GET', '/v1/sites/beta', { key: betaKey }), 200);
  });

  it('does not reach acme’s people or keys through beta’s own paths', async () => {
    await expectError(await t.call('GET', `/v1/sites/beta/subjects/${acmeIds.subject}`, { key: betaKey }), 404, 'not_found');
    await expectError(await t.call('DELETE', `/v1/sites/beta/keys/${acmeIds.key}`, { key: betaKey }), 404, 'not_found');
    await json(await t.call('GET', '/v1/sites/acme'), 200);
    // Beta's lookup by the same e-mail finds beta's own person.
    const s = await json<{ id: string; history: unknown[] }>(await t.call('GET', '/v1/sites/beta/subjects?email=victim%40example.dk', { key: betaKey }), 200);
    assert.equal(s.id, betaIds.subject);
    assert.equal(s.history.length, 1);
  });

  it('lists only the key’s own site', async () => {
    const { sites } = await json<{ sites: { id: string }[] }>(await t.call('GET', '/v1/sites', { key: betaKey }), 200);
    assert.deepEqual(
      sites.map((s) => s.id),
      ['beta'],
    );
  });
});

describe('scopes and authentication', () => {
  let t: TestApp;
  const keys: Record<string, { id: string; secret: string }> = {};
  let ids: { subject: string; key: string };

  before(async () => {
    t = await makeApp();
    for (const scope of ['check', 'write', 'pii:read']) {
      keys[scope] = await json(await t.call('POST', '/v1/sites/acme/keys', { body: { name: scope, scopes: [scope] } }), 201);
    }
    const r = await json<{ subjectId: string }>(
      await t.call('POST', '/v1/sites/acme/consents', { body: { email: 'victim@example.dk', purpose: 'sales-and-service', action: 'grant' } }),
      201,
    );
    ids = { subject: r.subjectId, key: keys.check!.id };
  });
  after(() => t.close());

  it('answers 403 to a check-only key on every admin route, on consents and on people', async () => {
    for (const r of siteRoutes('acme', ids)) {
      const body = await expectError(await t.call(r.method, r.path, { key: keys.check!.secret, body: r.body }), 403, 'forbidden');
      assert.match(body.error.message, /scope/);
    }
    await expectError(await t.call('GET', '/v1/sites', { key: keys.check!.secret }), 403, 'forbidden');
    // Nothing was changed by those attempts.
    const { keys: list } = await json<{ keys: { id: string; revokedAt: string | null }[] }>(await t.call('GET', '/v1/sites/acme/keys'), 200);
    assert.equal(list.find((k) => k.id === keys.check!.id)?.revokedAt, null);
  });

  it('answers 403 to write-only and pii:read-only keys on admin routes; pii:read may not record', async () => {
    for (const r of siteRoutes('acme', ids).filter(ADMIN_ONLY)) {
      await expectError(await t.call(r.method, r.path, { key: keys.write!.secret, body: r.body }), 403, 'forbidden');
      await expectError(await t.call(r.method, r.path, { key: keys['pii:read']!.secret, body: r.body }), 403, 'forbidden');
    }
    await expectError(
      await t.call('POST', '/v1/sites/acme/consents', {
        key: keys['pii:read']!.secret,
        body: { email: 'victim@example.dk', purpose: 'sales-and-service', action: 'object' },
      }),
      403,
      'forbidden',
    );
    await json(await t.call('GET', `/v1/sites/acme/subjects/${ids.subject}`, { key: keys.write!.secret }), 200);
    await json(await t.call('GET', `/v1/sites/acme/subjects/${ids.subject}`, { key: keys['pii:read']!.secret }), 200);
  });

  it('answers 401 with WWW-Authenticate for a missing, garbled, unknown or revoked key', async () => {
    const revoked = await json<{ id: string; secret: string }>(await t.call('POST', '/v1/sites/acme/keys', { body: { name: 'gone', scopes: ['admin'] } }), 201);
    await json(await t.call('DELETE', `/v1/sites/acme/keys/${revoked.id}`), 200);
    const valid = t.adminKey;
    const wrongSecret = valid.slice(0, -5) + (valid.endsWith('AAAAA') ? 'BBBBB' : 'AAAAA');
    const headers: (Record<string, string> | null)[] = [
      null,
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: 'bearer nonsense' },
      { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
      { authorization: `Bearer ${valid} extra` },
      { authorization: `Bearer ${wrongSecret}` },
      { authorization: `Bearer sk_AAAAAAAAAAAAAAAAAAAAAA_${'A'.repeat(43)}` },
      { authorization: `Bearer ${revoked.secret}` },
      { authorization: `Token ${valid}` },
      { authorization: `Bearer ${valid.toUpperCase()}` },
    ];
    for (const routes of [siteRoutes('acme', ids), [{ method: 'GET', path: '/v1/sites' }]]) {
      for (const r of routes) {
        for (const h of headers) {
          const res = await t.call(r.method, r.path, { key: null, body: r.body, headers: h ?? {} });
          await expectError(res, 401, 'unauthorized');
          assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/, `${r.method} ${r.path} ${JSON.stringify(h)}`);
        }
      }
    }
    // A 401 never says whether the site exists.
    await expectError(await t.call('GET', '/v1/sites/does-not-exist', { key: null }), 401);
    // The real key, sent with a lower-case scheme, works.
    await json(await t.call('GET', '/v1/sites/acme', { key: null, headers: { authorization: `bearer ${valid}` } }), 200);
  });
});

describe('error shape and request hygiene', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('answers 400 naming the field, and never echoes the personal data sent', async () => {
    const badEmail = 'not-an-email-secret@@x';
    const badPhone = '+45 secret';
    const cases: { body: Record<string, unknown>; fields: string[]; secrets: string[] }[] = [
      { body: { email: badEmail, purpose: 'sales-and-service', action: 'grant' }, fields: ['email'], secrets: [badEmail, 'email-secret'] },
      { body: { phone: badPhone, purpose: 'sales-and-service', action: 'grant' }, fields: ['phone'], secrets: [badPhone, 'secret'] },
      { body: { email: badEmail, phone: badPhone, purpose: 'sales-and-service', action: 'grant' }, fields: ['email', 'phone'], secrets: ['secret'] },
      { body: { email: `${'longsecret'.repeat(30)}@example.dk`, purpose: 'sales-and-service', action: 'grant' }, fields: ['email'], secrets: ['longsecret'] },
      { body: { phone: '+45 2012 3456 7890 1234 5678 9012 3456', purpose: 'sales-and-service', action: 'grant' }, fields: ['phone'], secrets: ['2012 3456'] },
      { body: { phone: '99 99', purpose: 'sales-and-service', action: 'grant' }, fields: ['phone'], secrets: ['99 99', '9999'] },
      { body: { email: 'ok@example.dk', purpose: 'sales-and-service', action: 'grant', evidence: { pageUrl: 'not a url secret-path', note: 'n' } }, fields: ['evidence.pageUrl'], secrets: ['secret-path'] },
      { body: { email: 'ok@example.dk', purpose: 'sales-and-service', action: 'grant', evidence: { note: 'secret-note '.repeat(200) } }, fields: ['evidence.note'], secrets: ['secret-note'] },
      { body: { email: 'ok@example.dk', purpose: 'Secret Purpose', action: 'grant' }, fields: ['purpose'], secrets: ['Secret Purpose'] },
      { body: { email: 'ok@example.dk', purpose: 'sales-and-service', action: 'secret-action' }, fields: ['action'], secrets: ['secret-action'] },
      { body: { email: 12345678, purpose: 'sales-and-service', action: 'grant' }, fields: ['email'], secrets: ['12345678'] },
    ];
    for (const c of cases) {
      const res = await t.call('POST', '/v1/sites/acme/consents', { body: c.body });
      const text = await res.clone().text();
      const body = await expectError(res, 400);
      const fields = body.error.details.map((d) => d.field);
      for (const f of c.fields) assert.ok(fields.includes(f), `${f} named in ${text}`);
      assert.ok(body.error.message.startsWith(`${c.fields[0]}:`), body.error.message);
      for (const s of c.secrets) assert.ok(!text.includes(s), `"${s}" echoed in ${text}`);
    }
    // The same for the lookup query.
    for (const [q, secret] of [
      [`email=${encodeURIComponent(badEmail)}`, 'email-secret'],
      [`phone=${encodeURIComponent(badPhone)}`, 'secret'],
      [`phone=${encodeURIComponent('12 34 56 78')}`, '12 34 56 78'],
      [`phone=${encodeURIComponent('12 34 56 78')}`, '12345678'],
    ] as const) {
      const res = await t.call('GET', `/v1/sites/acme/subjects?${q}`);
      const text = await res.clone().text();
      await expectError(res, 400);
      assert.ok(!text.includes(secret), text);
    }
  });

  it('refuses unknown fields in every body (strict objects)', async () => {
    const cases: Route[] = [
      { method: 'POST', path: '/v1/sites/acme/consents', body: { email: 'a@example.dk', purpose: 'sales-and-service', action: 'grant', extra: 1 } },
      { method: 'POST', path: '/v1/sites/acme/consents', body: { email: 'a@example.dk', purpose: 'sales-and-service', action: 'grant', evidence: { extra: 1 } } },
      { method: 'PATCH', path: '/v1/sites/acme', body: { name: 'x', extra: 1 } },
      { method: 'POST', path: '/v1/sites/acme/purposes', body: { key: 'p1', name: 'P', channel: 'email', legalBasis: '6-1-a', extra: 1 } },
      { method: 'PATCH', path: '/v1/sites/acme/purposes/e-marketing', body: { name: 'x', extra: 1 } },
      { method: 'POST', path: '/v1/sites/acme/purposes/e-marketing/wordings', body: { texts: { da: { title: 't', body: 'b' } }, extra: 1 } },
      { method: 'POST', path: '/v1/sites/acme/sources', body: { key: 's1', label: 'S', extra: 1 } },
      { method: 'PATCH', path: '/v1/sites/acme/sources/api', body: { label: 'x', extra: 1 } },
      { method: 'POST', path: '/v1/sites/acme/keys', body: { name: 'k', scopes: ['check'], extra: 1 } },
    ];
    for (const r of cases) {
      const body = await expectError(await t.call(r.method, r.path, { body: r.body }), 400);
      assert.ok(
        body.error.details.some((d) => d.field?.endsWith('extra')),
        `${r.method} ${r.path}: ${JSON.stringify(body)}`,
      );
    }
    const { purposes } = await json<{ purposes: { key: string }[] }>(await t.call('GET', '/v1/sites/acme/purposes'), 200);
    assert.ok(!purposes.some((p) => p.key === 'p1'));
    const { rows } = await t.database.client.execute('SELECT count(*) AS n FROM consent_events');
    assert.equal(Number(rows[0]!.n), 0);
  });

  it('answers 400 to malformed JSON and to a JSON body that is not an object', async () => {
    for (const raw of ['{', '{"email": }', "{'a':1}", 'nul', '\u0000', '{"a":1}}', '']) {
      await expectError(await t.call('POST', '/v1/sites/acme/consents', { body: raw }), 400);
    }
    for (const raw of ['null', '[]', '"grant"', '42', 'true', '[{"email":"a@example.dk"}]']) {
      await expectError(await t.call('POST', '/v1/sites/acme/sources', { body: raw }), 400);
    }
  });

  it('answers 415 to a body that is not sent as JSON', async () => {
    const body = JSON.stringify({ email: 'a@example.dk', purpose: 'sales-and-service', action: 'grant' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'json', 'application/jsonx']) {
      const res = await t.call('POST', '/v1/sites/acme/consents', { body, headers: { 'content-type': type } });
      await expectError(res, 415, 'unsupported_media_type');
    }
    // No content type at all (a raw request without the helper's default).
    const res = await t.app.request('/v1/sites/acme/consents', { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}` }, body });
    await expectError(res, 415);
    // JSON with a charset, or a +json type, is accepted.
    await json(await t.call('POST', '/v1/sites/acme/consents', { body, headers: { 'content-type': 'application/json; charset=utf-8' } }), 201);
  });

  it('answers 413 to a body over 1 MB, with or without Content-Length', async () => {
    const big = JSON.stringify({ email: 'a@example.dk', purpose: 'sales-and-service', action: 'grant', evidence: { note: 'x'.repeat(1024 * 1024) } });
    const withLength = await t.app.request('/v1/sites/acme/consents', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) },
      body: big,
    });
    await expectError(withLength, 413, 'payload_too_large');

    const encoder = new TextEncoder();
    const chunks = Array.from({ length: 20 }, () => encoder.encode('x'.repeat(64 * 1024)));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const streamed = await t.app.request('/v1/sites/acme/consents', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectError(streamed, 413, 'payload_too_large');

    // Just under the limit passes the size check (and then fails validation on the note's length).
    const under = JSON.stringify({ email: 'a@example.dk', purpose: 'sales-and-service', action: 'grant', evidence: { note: 'x'.repeat(1000 * 1000) } });
    await expectError(await t.call('POST', '/v1/sites/acme/consents', { body: under }), 400);
  });

  it('answers unknown routes with a JSON 404', async () => {
    for (const path of ['/nope', '/v1', '/v1/', '/v1/nope', '/v1/sites/acme/nope', '/v1/sites/acme/purposes/e-marketing/wordings/1/unpublish', '/v2/sites', '/healthz/deep']) {
      const res = await t.call('GET', path);
      await expectError(res, 404, 'not_found');
      assert.equal(res.headers.get('allow'), null);
    }
    await expectError(await t.call('POST', '/v1/nope', { body: {} }), 404);
  });

  it('answers a wrong method on a known route with 405 and an Allow header', async () => {
    const cases: [string, string, string[]][] = [
      ['PUT', '/v1/sites/acme/consents', ['POST']],
      ['GET', '/v1/sites/acme/consents', ['POST']],
      ['DELETE', '/v1/sites/acme', ['GET', 'PATCH']],
      ['POST', '/v1/sites', ['GET']],
      ['DELETE', '/v1/sites/acme/purposes/e-marketing', ['GET', 'PATCH']],
      ['GET', '/v1/sites/acme/purposes/e-marketing/wordings/1/publish', ['POST']],
      ['PATCH', '/v1/sites/acme/purposes/e-marketing/wordings/1', ['GET', 'PUT']],
      ['GET', '/v1/sites/acme/keys/AAAAAAAAAAAAAAAAAAAAAA', ['DELETE']],
      ['POST', '/healthz', ['GET']],
      ['DELETE', '/openapi.json', ['GET']],
    ];
    for (const [method, path, allowed] of cases) {
      const res = await t.call(method, path);
      const body = await expectError(res, 405, 'method_not_allowed');
      const allow = (res.headers.get('allow') ?? '').split(/,\s*/).filter(Boolean).sort();
      assert.deepEqual(allow, [...allowed].sort(), `${method} ${path}`);
      assert.ok(body.error.message.includes(method));
    }
  });

  it('never answers 500, and always in the JSON error shape, to ~200 random requests', async () => {
    let seed = Number(process.env.FUZZ_SEED ?? 0x5eed);
    const rand = () => {
      // mulberry32: reproducible runs
      seed |= 0;
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const nasty = [
      '', ' ', 'a', '%', '%ZZ', '%E0%A4%A', '..', '../..', 'acme', 'ACME', 'e-marketing', 'null', 'undefined', '__proto__', 'constructor',
      'x'.repeat(300), '😀', 'æøå', '\u0000', '\u202e', "' OR 1=1 --", '<script>', '1e400', '-1', '0', '1', '99999999999', 'NaN',
      'AAAAAAAAAAAAAAAAAAAAAA', '+4520123456', 'a@b.dk', '{"a":1}', '[]',
    ];
    const segment = () => encodeURIComponent(pick(nasty)).replace(/%25/g, rand() < 0.5 ? '%' : '%25');
    // [methods the route answers, path]
    const paths: [string[], () => string][] = [
      [['GET'], () => '/v1/sites'],
      [['GET', 'PATCH'], () => `/v1/sites/${pick(['acme', 'acme', segment()])}`],
      [['GET', 'POST'], () => `/v1/sites/${pick(['acme', 'acme', segment()])}/purposes`],
      [['GET', 'PATCH'], () => `/v1/sites/acme/purposes/${pick(['e-marketing', segment()])}`],
      [['GET', 'PUT'], () => `/v1/sites/acme/purposes/${pick(['e-marketing', 'sales-and-service', segment()])}/wordings/${pick(['1', '2', segment()])}`],
      [['POST'], () => `/v1/sites/acme/purposes/e-marketing/wordings/${pick(['1', '2', '3', segment()])}/${pick(['publish', 'retire'])}`],
      [['GET', 'POST'], () => `/v1/sites/acme/purposes/${pick(['e-marketing', segment()])}/wordings`],
      [['PATCH'], () => `/v1/sites/acme/sources/${pick(['api', 'web-form', segment()])}`],
      [['GET', 'POST'], () => '/v1/sites/acme/sources'],
      [['DELETE'], () => `/v1/sites/acme/keys/${pick(['AAAAAAAAAAAAAAAAAAAAAA', segment()])}`],
      [['GET', 'POST'], () => '/v1/sites/acme/keys'],
      [['POST'], () => '/v1/sites/acme/consents'],
      [['POST'], () => '/v1/sites/acme/consents'],
      [['POST'], () => '/v1/sites/acme/consents'],
      [['POST'], () => `/v1/sites/${segment()}/consents`],
      [['GET'], () => `/v1/sites/acme/subjects/${segment()}`],
      [['GET'], () => `/v1/sites/acme/subjects?${pick(['email', 'phone', 'id', segment()])}=${segment()}&${segment()}=${segment()}`],
      [['GET'], () => `/v1/sites/acme/subjects?email=${pick(['a%40example.dk', segment()])}`],
      [['GET'], () => `/v1/sites/acme/subjects?phone=${pick(['20123456', segment()])}`],
      [['GET'], () => `/${segment()}`],
      [['GET', 'POST'], () => `/v1/${segment()}/${segment()}`],
      [['GET'], () => '/healthz'],
      [['GET'], () => '/readyz'],
      [['GET'], () => `/openapi.json?${segment()}=${segment()}`],
    ];
    const value = (depth = 0): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.25) return pick(nasty);
      if (r < 0.35) return pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1]);
      if (r < 0.42) return pick([true, false, null]);
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 5); i > 0; i--) o[pick([...nasty, 'email', 'phone', 'purpose', 'action', 'texts', 'scopes', 'name', 'key', 'evidence'])] = value(depth + 1);
      return o;
    };
    const consentish = () => {
      const b: Record<string, unknown> = {
        email: pick(['a@example.dk', ' A@Example.dk ', 'fuzz@example.dk']),
        phone: pick([undefined, '+45 20 12 34 56', '20123456']),
        purpose: pick(['e-marketing', 'sales-and-service']),
        action: pick(['grant', 'withdraw', 'object']),
        wordingVersion: pick([undefined, 1, 2]),
        source: pick([undefined, 'api', 'web-form']),
        evidence: pick([undefined, { pageUrl: 'https://acme.dk/x?y=1', note: 'n' }]),
      };
      const field = pick(Object.keys(b));
      if (rand() < 0.7) b[field] = value();
      return b;
    };
    const bodies = [
      () => undefined,
      () => JSON.stringify(value()),
      () => JSON.stringify(consentish()),
      () => JSON.stringify(consentish()),
      () => pick(['{', '}', '{"a":', 'null', '[1,2', '"', '\\', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{}}}', '\u0000\u0001']),
      () => JSON.stringify({ texts: value() }),
      () => JSON.stringify({ name: value(), scopes: value() }),
      () => JSON.stringify({ key: value(), label: value() }),
    ];
    const printable = () => Array.from({ length: Math.floor(rand() * 40) }, () => String.fromCharCode(32 + Math.floor(rand() * 95))).join('');
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
    const keys = [t.adminKey, t.adminKey, t.adminKey, t.adminKey, t.adminKey, t.adminKey, null, `Bearer-ish ${printable()}`, 'sk_' + printable()];

    let ok = 0;
    let errors = 0;
    for (let i = 0; i < Number(process.env.FUZZ_N ?? 240); i++) {
      const [routeMethods, makePath] = pick(paths);
      const method = rand() < 0.8 ? pick(routeMethods) : pick(methods);
      const path = makePath();
      const headers: Record<string, string> = {};
      const body = method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? undefined : pick(bodies)();
      if (body !== undefined) headers['content-type'] = pick(['application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', printable() || 'x']);
      if (rand() < 0.3) headers['idempotency-key'] = pick([printable(), 'k'.repeat(300), 'fuzz-key', 'fuzz-key']);
      if (rand() < 0.2) headers['accept'] = printable();
      if (rand() < 0.2) headers['user-agent'] = printable();
      if (rand() < 0.1) headers['x-forwarded-for'] = printable();
      const key = pick(keys);
      const context = `#${i} ${method} ${path} ${JSON.stringify(headers)} ${String(body).slice(0, 200)}`;
      let res: Response;
      try {
        res = await t.app.request(path, {
          method,
          headers: { ...headers, ...(key === null ? {} : { authorization: key.startsWith('sk_') && key.length > 60 ? `Bearer ${key}` : key }) },
          body,
        });
      } catch (err) {
        assert.fail(`the app threw instead of answering: ${context}: ${String(err)}`);
      }
      assert.ok(res.status < 500, `status ${res.status} for ${context}: ${await res.clone().text()}`);
      const text = await res.text();
      if (method === 'HEAD') {
        assert.equal(text, '', context);
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        assert.fail(`not JSON (${res.status}) for ${context}: ${text.slice(0, 200)}`);
      }
      if (res.status >= 400) {
        assertErrorShape(parsed, context);
        errors++;
      } else {
        assert.ok(res.status >= 200 && res.status < 300, context);
        ok++;
      }
    }
    assert.ok(errors > 100, `mostly refused (${errors})`);
    assert.ok(ok > 0, `some succeeded (${ok})`);
  });
});
