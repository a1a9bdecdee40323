import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeApp, type TestApp } from './helpers';

describe('smoke', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('records a grant and reads it back', async () => {
    const res = await t.call('POST', '/v1/sites/acme/consents', {
      body: { email: 'a@example.dk', purpose: 'e-marketing', action: 'grant', wordingVersion: 1 },
    });
    assert.equal(res.status, 201);
    const person = await t.call('GET', '/v1/sites/acme/subjects?email=A@example.dk');
    assert.equal(person.status, 200);
    const body = (await person.json()) as { consents: { purpose: string; status: string }[] };
    assert.equal(body.consents.find((c) => c.purpose === 'e-marketing')?.status, 'granted');
  });
});
