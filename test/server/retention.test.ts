import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRetention, IDEMPOTENCY_TTL_MS, SMS_MESSAGE_TTL_MS } from '../../server/services/retention';
import { makeApp, type TestApp } from './helpers';

describe('retention', () => {
  let t: TestApp;
  let now = Date.parse('2026-11-01T12:00:00Z');
  before(async () => {
    t = await makeApp({ now: () => now });
  });
  after(() => t.close());

  const post = (key: string, email: string) =>
    t.call('POST', '/v1/sites/acme/consents', {
      body: { email, purpose: 'sales-and-service', action: 'grant' },
      headers: { 'idempotency-key': key },
    });

  it('keeps idempotency keys for 24 hours, then deletes them and a retry is a new request', async () => {
    assert.equal((await post('k-old', 'old@example.dk')).status, 201);
    now += IDEMPOTENCY_TTL_MS - 1000;
    assert.equal((await post('k-new', 'new@example.dk')).status, 201);
    assert.deepEqual(await runRetention(t.services), { idempotencyKeys: 0, mail: 0, webhookDeliveries: 0, smsMessages: 0, checkChanges: 0, expiredSignups: 0, erasedUnconfirmed: 0, emailChanges: 0 });
    now += 2000;
    assert.deepEqual(await runRetention(t.services), { idempotencyKeys: 1, mail: 0, webhookDeliveries: 0, smsMessages: 0, checkChanges: 0, expiredSignups: 0, erasedUnconfirmed: 0, emailChanges: 0 });
    const { rows } = await t.database.client.execute('SELECT key FROM idempotency_keys ORDER BY key');
    assert.deepEqual(rows.map((r) => r.key), ['k-new']);
    const retry = await post('k-old', 'old@example.dk');
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), null);
    const replay = await post('k-new', 'new@example.dk');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  });

  it('forgets inbound SMS ids after 30 days', async () => {
    const insert = (key: string) =>
      t.database.client.execute({
        sql: "INSERT INTO sms_messages (site_id, provider, message_key, action, reply, created_at) VALUES ('acme', 'twilio', ?, 'none', NULL, ?)",
        args: [key, now],
      });
    await insert('old');
    now += SMS_MESSAGE_TTL_MS - 1000;
    await insert('recent');
    assert.equal((await runRetention(t.services)).smsMessages, 0);
    now += 2000;
    assert.equal((await runRetention(t.services)).smsMessages, 1);
    const { rows } = await t.database.client.execute('SELECT message_key FROM sms_messages');
    assert.deepEqual(rows.map((r) => r.message_key), ['recent']);
  });
});
