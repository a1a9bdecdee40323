/**
 * Erasure and retention leave no decryptable personal data behind in the outboxes: every
 * remaining mail_outbox and webhook_deliveries row is decrypted with the app's own keys
 * and searched for the erased person's address, name and phone. Pending mail to an erased
 * person is never sent (the erasure receipt alone is); their undelivered opt-outs still
 * reach the webhook receiver, by hash; sent mail and made deliveries keep no content;
 * retention deletes old deliveries; an unconfirmed signup lapsing sends no 'erase' webhook.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { listDevOutbox, MailDelivery } from '../../server/services/mail';
import { runRetention, WEBHOOK_DELIVERY_TTL_MS } from '../../server/services/retention';
import { WebhookDelivery } from '../../server/services/webhooks';
import type { WebhookPayload } from '../../shared/check-api';
import { json, makeApp, type TestApp } from './helpers';
import { addSmsPurpose, bodyFor, form, linkIn, pathOf, request, signup } from './subscription-helpers';
import { confirmedSignup, erase, subjectIdOf, toggle, unsubscribe } from './check-flows';

const BASE = 'http://localhost:8787';
const DAY_MS = 24 * 60 * 60 * 1000;

const ERIK = { email: 'Erik.Erased@Example-Private.dk', name: 'Erik Erasmussen', phone: '+4561626364' };
/** What must not be readable anywhere once Erik is erased (matched case-insensitively). */
const NEEDLES = ['erik.erased@', 'example-private', 'Erik Erasmussen', '61626364'];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Found {
  table: 'mail_outbox' | 'webhook_deliveries';
  id: string;
  kind: string;
  status: string;
}

/** Every outbox row that, decrypted with the app's keys, holds one of `needles`. Cleared rows ('') are never decrypted. */
async function readable(t: TestApp, needles = NEEDLES): Promise<Found[]> {
  await t.services.queue.idle();
  const hit = (text: string) => needles.some((n) => text.toLowerCase().includes(n.toLowerCase()));
  const found: Found[] = [];
  const mail = await t.database.client.execute('SELECT id, kind, status, recipient_enc, message_enc FROM mail_outbox ORDER BY created_at, rowid');
  for (const r of mail.rows) {
    const recipient = String(r.recipient_enc) === '' ? '' : t.services.mail.decryptRecipient(String(r.recipient_enc));
    const message = String(r.message_enc) === '' ? '' : JSON.stringify(t.services.mail.decryptMessage(String(r.message_enc)));
    if (hit(recipient) || hit(message)) found.push({ table: 'mail_outbox', id: String(r.id), kind: String(r.kind), status: String(r.status) });
  }
  const hooks = await t.database.client.execute('SELECT id, event_type, status, payload_enc FROM webhook_deliveries ORDER BY created_at, rowid');
  for (const r of hooks.rows) {
    const payload = String(r.payload_enc) === '' ? '' : t.services.webhooks.decryptPayload(String(r.payload_enc));
    if (hit(payload)) found.push({ table: 'webhook_deliveries', id: String(r.id), kind: String(r.event_type), status: String(r.status) });
  }
  return found;
}

async function mailRows(t: TestApp, where = '1 = 1', args: (string | number)[] = []) {
  await t.services.queue.idle();
  const { rows } = await t.database.client.execute({ sql: `SELECT id, kind, status, subject_id, recipient_enc, message_enc FROM mail_outbox WHERE ${where} ORDER BY created_at, rowid`, args });
  return rows.map((r) => ({ id: String(r.id), kind: String(r.kind), status: String(r.status), subjectId: r.subject_id as string | null, recipientEnc: String(r.recipient_enc), messageEnc: String(r.message_enc) }));
}

async function deliveryRows(t: TestApp) {
  await t.services.queue.idle();
  const { rows } = await t.database.client.execute('SELECT id, event_type, status, subject_id, payload_enc FROM webhook_deliveries ORDER BY created_at, rowid');
  return rows.map((r) => ({ id: String(r.id), type: String(r.event_type), status: String(r.status), subjectId: r.subject_id as string | null, payloadEnc: String(r.payload_enc) }));
}

/** An app with SMTP configured: mail is `pending` until a MailDelivery sends it (here to an in-memory transport), and a webhook endpoint whose receiver is an in-memory fetch. */
async function smtpApp(clock?: { now: () => number }) {
  const t = await makeApp({ now: clock?.now, app: { smtpUrl: 'smtp://127.0.0.1:9', mailFrom: 'Acme <no-reply@acme.example>' } });
  const sent: { to: string; subject: string; text: string }[] = [];
  const transport = nodemailer.createTransport({ jsonTransport: true });
  const send = transport.sendMail.bind(transport);
  transport.sendMail = (async (mail: SendMailOptions) => {
    sent.push({ to: String(mail.to).toLowerCase(), subject: String(mail.subject), text: String(mail.text) });
    return send(mail);
  }) as typeof transport.sendMail;
  const mail = new MailDelivery({ queue: t.services.queue, mail: t.services.mail, smtpUrl: 'smtp://127.0.0.1:9', from: 'Acme <no-reply@acme.example>', transport, ...(clock ? { now: clock.now } : {}) });
  const received: { event: string; body: string }[] = [];
  const hooks = new WebhookDelivery({
    queue: t.services.queue,
    webhooks: t.services.webhooks,
    ...(clock ? { now: clock.now } : {}),
    fetch: (async (_url: string, init: RequestInit) => {
      received.push({ event: String((init.headers as Record<string, string>)['samtykke-event']), body: String(init.body) });
      return new Response(null, { status: 204 });
    }) as typeof fetch,
  });
  await json(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url: 'https://receiver.example/hook' } }), 201);
  cleanups.push(async () => {
    await hooks.stop();
    await mail.stop();
    await t.close();
  });
  return { t, sent, received, mail, hooks };
}

/** Signs up through the public route and confirms with the link from the mail actually sent. */
async function signUpOverSmtp(s: Awaited<ReturnType<typeof smtpApp>>, email: string, purposes: string, extra: { name?: string; phone?: string } = {}): Promise<string> {
  const { t, sent, mail } = s;
  assert.equal((await signup(t, bodyFor(await form(t, purposes), { email, ...extra }))).status, 202);
  await t.services.queue.idle();
  await mail.runOnce();
  const confirm = sent.filter((m) => m.to === email.toLowerCase()).at(-1);
  assert.ok(confirm, `a confirmation mail to ${email}`);
  const res = await request(t, pathOf(linkIn(confirm.text, `${BASE}/v1/confirm/`)), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  assert.equal(res.status, 200, await res.text());
  await t.services.queue.idle();
  await mail.runOnce(); // the receipt
  const id = await subjectIdOf(t, email);
  assert.ok(id);
  return id;
}

/** Asks for a preference link (the mail is queued after the 202) and waits until it is queued. */
async function askForLink(t: TestApp, email: string): Promise<void> {
  const before = (await mailRows(t, "kind = 'magic-link'")).length;
  const res = await request(t, '/v1/sites/acme/preference-links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
  assert.equal(res.status, 202);
  for (let i = 0; i < 100 && (await mailRows(t, "kind = 'magic-link'")).length === before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal((await mailRows(t, "kind = 'magic-link'")).length, before + 1, 'the link mail is queued');
}

describe('erasure leaves nothing readable in the outboxes', () => {
  it('SMTP: pending mail to the person is deleted and never sent; the erasure receipt alone goes out, then is cleared; undelivered opt-outs go out by hash', async () => {
    const s = await smtpApp();
    const { t, sent, received, mail, hooks } = s;
    await addSmsPurpose(t);
    const erikId = await signUpOverSmtp(s, ERIK.email, 'e-marketing,sms-offers', { name: ERIK.name, phone: ERIK.phone });
    const otherId = await signUpOverSmtp(s, 'other@example.dk', 'e-marketing', { name: 'Olga Other' });
    assert.ok(sent.some((m) => m.to === ERIK.email.toLowerCase() && m.text.includes(ERIK.name)), 'sanity: the mails named Erik');

    // Sent mail keeps no content.
    for (const r of await mailRows(t)) assert.deepEqual([r.status, r.recipientEnc, r.messageEnc], ['sent', '', ''], `${r.kind} is sent and cleared`);
    assert.deepEqual(await readable(t), []);

    // Erik withdraws the SMS offers (delivered: cleared), then unsubscribes by e-mail (not delivered yet).
    await toggle(t, ERIK.email, 'sms-offers', false);
    assert.deepEqual(await hooks.runOnce(), { delivered: 1, retried: 0, failed: 0 });
    assert.match(received.at(-1)!.body, /61626364/, 'sanity: the withdrawal carried the phone');
    await unsubscribe(t, ERIK.email);
    // Links asked for by Erik and by someone else, not sent yet.
    await askForLink(t, ERIK.email);
    await askForLink(t, 'other@example.dk');
    const before = await readable(t);
    assert.deepEqual(before.map((f) => [f.table, f.kind, f.status]), [
      ['mail_outbox', 'magic-link', 'pending'],
      ['webhook_deliveries', 'unsubscribe', 'pending'],
    ]);
    for (const d of await deliveryRows(t)) assert.equal(d.subjectId, erikId, 'each delivery names its person');
    for (const m of await mailRows(t)) assert.ok(m.subjectId === erikId || m.subjectId === otherId, 'each mail names its person');

    await erase(t, ERIK.email);

    // Only the erasure receipt is left of Erik's mail, pending; the unsubscribe is rewritten with the hash.
    const erikMail = await mailRows(t, 'subject_id = ?', [erikId]);
    assert.deepEqual(erikMail.map((m) => [m.kind, m.status]), [['erasure', 'pending']]);
    assert.deepEqual((await readable(t)).map((f) => [f.table, f.kind, f.status]), [['mail_outbox', 'erasure', 'pending']]);
    assert.deepEqual((await mailRows(t, 'subject_id = ?', [otherId])).filter((m) => m.status === 'pending').map((m) => m.kind), ['magic-link'], "another person's mail is untouched");

    const sentBefore = sent.length;
    assert.deepEqual(await mail.runOnce(), { sent: 2, retried: 0, failed: 0 });
    const toErik = sent.slice(sentBefore).filter((m) => m.to === ERIK.email.toLowerCase());
    assert.equal(toErik.length, 1, 'the erasure receipt, not the preference link');
    assert.doesNotMatch(toErik[0]!.text, /#token=/, 'no preference link went to an erased person');
    assert.deepEqual(await readable(t), [], 'once sent, the erasure receipt is cleared too');

    const receivedBefore = received.length;
    assert.deepEqual(await hooks.runOnce(), { delivered: 2, retried: 0, failed: 0 });
    const bodies = received.slice(receivedBefore);
    assert.deepEqual(bodies.map((b) => b.event).sort(), ['erase', 'unsubscribe']);
    const emailHash = t.services.crypto.blindIndex('acme', 'email', ERIK.email.toLowerCase());
    for (const b of bodies) {
      for (const n of NEEDLES) assert.ok(!b.body.toLowerCase().includes(n.toLowerCase()), `${b.event} body holds ${n}`);
      const p = JSON.parse(b.body) as WebhookPayload;
      assert.equal(p.subjectId, erikId);
      assert.equal(p.emailHash, emailHash, `${b.event} names the person by hash`);
    }
    const unsub = JSON.parse(bodies.find((b) => b.event === 'unsubscribe')!.body) as WebhookPayload;
    assert.equal(unsub.email, undefined);
    assert.equal(unsub.phone, undefined);
    assert.equal(unsub.channel, 'email');
    for (const d of await deliveryRows(t)) assert.deepEqual([d.status, d.payloadEnc], ['delivered', ''], `${d.type} delivered and cleared`);
    assert.deepEqual(await readable(t), []);
  });

  it('rows written before subject_id was recorded (migration 0006) are found by their address or payload', async () => {
    const s = await smtpApp();
    const { t, hooks } = s;
    await signUpOverSmtp(s, 'other@example.dk', 'e-marketing');
    const id = await signUpOverSmtp(s, ERIK.email, 'e-marketing', { name: ERIK.name });
    await hooks.runOnce();
    await unsubscribe(t, ERIK.email);
    await askForLink(t, ERIK.email);
    await askForLink(t, 'other@example.dk');
    await t.database.client.execute('UPDATE mail_outbox SET subject_id = NULL');
    await t.database.client.execute('UPDATE webhook_deliveries SET subject_id = NULL');
    assert.equal((await readable(t)).length, 2);

    await erase(t, ERIK.email);
    assert.deepEqual((await readable(t)).map((f) => [f.table, f.kind]), [['mail_outbox', 'erasure']]);
    const pending = await mailRows(t, "status = 'pending'");
    assert.deepEqual(pending.map((m) => m.kind).sort(), ['erasure', 'magic-link']);
    assert.equal(t.services.mail.decryptRecipient(pending.find((m) => m.kind === 'magic-link')!.recipientEnc), 'other@example.dk');
    const unsub = (await deliveryRows(t)).find((d) => d.type === 'unsubscribe')!;
    const p = JSON.parse(t.services.webhooks.decryptPayload(unsub.payloadEnc)) as WebhookPayload;
    assert.equal(p.subjectId, id);
    assert.equal(p.email, undefined);
    assert.equal(p.emailHash, t.services.crypto.blindIndex('acme', 'email', ERIK.email.toLowerCase()));
  });

  it('development outbox: the person\'s mail is deleted but the erasure receipt; a cleared row is not listed', async () => {
    const t = await makeApp({ app: { devOutbox: true } });
    cleanups.push(() => t.close());
    await confirmedSignup(t, ERIK.email, 'e-marketing', { name: ERIK.name });
    await confirmedSignup(t, 'other@example.dk');
    const erikMail = (await listDevOutbox(t.services)).filter((m) => m.to.toLowerCase() === ERIK.email.toLowerCase());
    assert.ok(erikMail.length >= 2, 'sanity: confirmation and receipt');
    const others = (await listDevOutbox(t.services)).filter((m) => m.to === 'other@example.dk').map((m) => m.id);

    await erase(t, ERIK.email);
    const after = await listDevOutbox(t.services);
    assert.deepEqual(after.filter((m) => m.to.toLowerCase() === ERIK.email.toLowerCase()).map((m) => m.kind), ['erasure']);
    assert.deepEqual(after.filter((m) => m.to === 'other@example.dk').map((m) => m.id), others);
    // The development outbox keeps the receipt's content for the developer; nothing else of Erik's is readable.
    assert.deepEqual((await readable(t)).map((f) => [f.table, f.kind, f.status]), [['mail_outbox', 'erasure', 'dev']]);

    // A cleared row is never decrypted: left out of the list and the page.
    await t.database.client.execute({ sql: "UPDATE mail_outbox SET recipient_enc = '', message_enc = '' WHERE id = ?", args: [others[0]!] });
    assert.ok(!(await listDevOutbox(t.services)).some((m) => m.id === others[0]));
    assert.equal((await t.call('GET', '/dev/outbox', { key: null })).status, 200);
    assert.equal((await t.call('GET', '/dev/outbox.json', { key: null })).status, 200);
  });
});

describe('retention and webhook deliveries', () => {
  it('an unconfirmed signup that lapses is erased without an erase webhook, and its confirmation mail is deleted', async () => {
    const c = { t: Date.UTC(2026, 5, 1), now: () => c.t };
    const s = await smtpApp(c);
    const { t, received, hooks } = s;
    assert.equal((await signup(t, bodyFor(await form(t, 'e-marketing'), { email: ERIK.email, name: ERIK.name }))).status, 202);
    await t.services.queue.idle();
    const erikId = await subjectIdOf(t, ERIK.email);
    assert.ok(erikId);
    assert.deepEqual((await mailRows(t, 'subject_id = ?', [erikId])).map((m) => [m.kind, m.status]), [['confirm', 'pending']]);

    c.t += 8 * DAY_MS; // past the default pendingDays
    const report = await runRetention(t.services);
    assert.equal(report.erasedUnconfirmed, 1);
    assert.deepEqual(await deliveryRows(t), [], 'the marketer never had this person: no erase webhook');
    assert.deepEqual(await mailRows(t, 'subject_id = ?', [erikId]), [], 'the confirmation mail is never sent');
    assert.deepEqual(await readable(t), []);
    assert.deepEqual(await hooks.runOnce(), { delivered: 0, retried: 0, failed: 0 });
    assert.equal(received.length, 0);

    // A person who asks to be erased is still told to the receiver.
    await signUpOverSmtp(s, 'other@example.dk', 'e-marketing');
    await erase(t, 'other@example.dk');
    assert.deepEqual((await deliveryRows(t)).map((d) => d.type), ['erase']);
  });

  it('deletes delivered and failed deliveries older than 30 days, never pending ones', async () => {
    const c = { t: Date.UTC(2026, 5, 1), now: () => c.t };
    const t = await makeApp({ now: c.now });
    cleanups.push(() => t.close());
    const hook = await json<{ id: string }>(await t.call('POST', '/v1/sites/acme/webhooks', { body: { url: 'https://receiver.example/hook' } }), 201);
    const insert = (id: string, status: string, at: number) =>
      t.database.client.execute({
        sql: "INSERT INTO webhook_deliveries (id, webhook_id, site_id, subject_id, event_type, payload_enc, status, attempts, next_attempt_at, created_at) VALUES (?, ?, 'acme', NULL, 'withdraw', '', ?, 1, ?, ?)",
        args: [id, hook.id, status, at, at],
      });
    await insert('old-delivered', 'delivered', c.t);
    await insert('old-failed', 'failed', c.t);
    await insert('old-pending', 'pending', c.t);
    c.t += WEBHOOK_DELIVERY_TTL_MS - 1;
    await insert('recent-delivered', 'delivered', c.t);
    assert.equal((await runRetention(t.services)).webhookDeliveries, 0);
    c.t += 2;
    const report = await runRetention(t.services);
    assert.equal(report.webhookDeliveries, 2);
    assert.equal(report.mail, 0);
    assert.deepEqual((await deliveryRows(t)).map((d) => d.id).sort(), ['old-pending', 'recent-delivered']);
    assert.equal((await runRetention(t.services)).webhookDeliveries, 0, 'idempotent');
  });
});
