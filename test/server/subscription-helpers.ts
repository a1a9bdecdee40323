/** Shared by the subscription tests: the signup form, signups from a given IP, the dev outbox and links in mails. */
import assert from 'node:assert/strict';
import { listDevOutbox, type DevOutboxEntry } from '../../server/services/mail';
import { signInbound } from '../../server/services/sms';
import type { SignupBody, SignupForm } from '../../shared/subscriptions';
import { json, type TestApp } from './helpers';

let ipCounter = 0;
/** A fresh client IP, so the per-IP limit of one test does not reach another. */
export const freshIp = () => `198.51.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

/** A request as it arrives from a client at `ip` (the Node adapter's socket, as app.request takes it). */
export function request(t: TestApp, path: string, init: RequestInit & { ip?: string } = {}): Promise<Response> {
  const { ip, ...rest } = init;
  return Promise.resolve(t.app.request(path, rest, { incoming: { socket: { remoteAddress: ip ?? freshIp() } } }));
}

export async function form(t: TestApp, purposes = 'e-marketing', lang = 'da'): Promise<SignupForm> {
  return json<SignupForm>(await request(t, `/v1/sites/acme/signup-form?purposes=${purposes}&lang=${lang}`), 200);
}

/** A signup body for the form's purposes as the widget builds it. */
export function bodyFor(f: SignupForm, extra: Partial<SignupBody> = {}): SignupBody {
  return {
    lang: f.lang,
    page: 'https://www.acme.dk/nyhedsbrev?utm_source=x',
    purposes: f.purposes.map((p) => ({ purpose: p.key, wordingVersion: p.version, lang: p.lang, sha256: p.sha256 })),
    ...extra,
  };
}

export async function signup(t: TestApp, body: unknown, options: { ip?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const res = await request(t, '/v1/sites/acme/signups', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'SignupTest/1.0', ...options.headers },
    body: JSON.stringify(body),
    ip: options.ip,
  });
  // The signup is written after the answer: wait for it.
  await t.services.queue.idle();
  return res;
}

export async function outbox(t: TestApp): Promise<DevOutboxEntry[]> {
  await t.services.queue.idle();
  return listDevOutbox(t.services);
}

export async function mailsTo(t: TestApp, to: string, kind?: string): Promise<DevOutboxEntry[]> {
  return (await outbox(t)).filter((m) => m.to === to && (kind === undefined || m.kind === kind));
}

/** The full stored message (attachments with content), newest first. */
export async function fullMails(t: TestApp, to: string, kind: string) {
  await t.services.queue.idle();
  const { rows } = await t.database.client.execute({ sql: 'SELECT recipient_enc, message_enc FROM mail_outbox WHERE kind = ? ORDER BY created_at DESC, rowid DESC', args: [kind] });
  return rows
    .filter((r) => t.services.mail.decryptRecipient(String(r.recipient_enc)) === to)
    .map((r) => t.services.mail.decryptMessage(String(r.message_enc)));
}

/** The first URL in `text` starting with `prefix`. */
export function linkIn(text: string, prefix: string): string {
  const match = new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\s<>"]+`).exec(text);
  assert.ok(match, `no link ${prefix} in:\n${text}`);
  return match[0];
}

export const pathOf = (url: string) => new URL(url).pathname;
export const tokenOf = (url: string) => url.split('#token=')[1] ?? url.split('/').pop()!;

export async function counts(t: TestApp): Promise<Record<string, number>> {
  await t.services.queue.idle();
  const out: Record<string, number> = {};
  for (const table of ['consent_events', 'consent_states', 'suppressions', 'subjects', 'mail_outbox', 'email_changes']) {
    const { rows } = await t.database.client.execute(`SELECT count(*) AS n FROM ${table}`);
    out[table] = Number(rows[0]!.n);
  }
  return out;
}

/** Everything that changes when anything is written: row counts and the ledger head. */
export async function snapshot(t: TestApp): Promise<string> {
  const c = await counts(t);
  const { rows } = await t.database.client.execute("SELECT ledger_seq, ledger_head FROM sites WHERE id = 'acme'");
  const states = await t.database.client.execute('SELECT subject_id, purpose_id, status, updated_at FROM consent_states ORDER BY subject_id, purpose_id');
  const supp = await t.database.client.execute('SELECT channel, bidx, reason, list, purpose_id FROM suppressions ORDER BY id');
  const subj = await t.database.client.execute('SELECT id, email_bidx, phone_bidx, name_enc, restricted, erased_at, updated_at FROM subjects ORDER BY id');
  return JSON.stringify({ c, head: rows[0], states: states.rows, supp: supp.rows, subj: subj.rows });
}

export async function subjectByEmail(t: TestApp, email: string) {
  const res = await t.call('GET', `/v1/sites/acme/subjects?email=${encodeURIComponent(email)}`);
  if (res.status === 404) return undefined;
  return json<{ id: string; erased: boolean; consents: { purpose: string; status: string }[]; history: { action: string; purpose: string | null; evidence: Record<string, unknown> | null }[] }>(res, 200);
}

export function statusOf(subject: { consents: { purpose: string; status: string }[] } | undefined, purpose: string): string | undefined {
  return subject?.consents.find((c) => c.purpose === purpose)?.status;
}

/** Adds an SMS purpose with a published wording (da and en). */
export async function addSmsPurpose(t: TestApp, key = 'sms-offers'): Promise<void> {
  await json(await t.call('POST', '/v1/sites/acme/purposes', { body: { key, name: 'SMS offers', channel: 'sms', legalBasis: '6-1-a' } }), 201);
  await json(
    await t.call('POST', `/v1/sites/acme/purposes/${key}/wordings`, {
      body: { texts: { da: { title: 'Tilbud på SMS', body: 'Ja tak til tilbud på SMS.' }, en: { title: 'Offers by text message', body: 'Yes, send me offers by SMS.' } } },
    }),
    201,
  );
  const res = await t.call('POST', `/v1/sites/acme/purposes/${key}/wordings/1/publish`);
  assert.ok(res.status === 200 || res.status === 201, `publish: ${res.status}`);
}

/** Signs up and confirms; returns the confirm URL and the receipt. */
export async function signUpConfirmed(t: TestApp, email: string, purposes = 'e-marketing', extra: Partial<SignupBody> = {}) {
  const f = await form(t, purposes);
  assert.equal((await signup(t, bodyFor(f, { email, ...extra }))).status, 202);
  const [confirm] = await mailsTo(t, email, 'confirm');
  assert.ok(confirm, 'a confirmation mail');
  const url = linkIn(confirm.text, 'http://localhost:8787/v1/confirm/');
  const res = await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  assert.equal(res.status, 200, await res.text());
  const [receipt] = await mailsTo(t, email, 'receipt');
  assert.ok(receipt, 'a receipt');
  return { confirmUrl: url, receipt };
}

/** A preference-page token for `email`, from the receipt's manage link. */
export async function prefsToken(t: TestApp, email: string): Promise<string> {
  const [receipt] = await mailsTo(t, email, 'receipt');
  assert.ok(receipt, 'a receipt');
  return tokenOf(linkIn(receipt.text, 'http://localhost:8787/preferences/acme#token='));
}

export const SMS_SECRET = 'subscription-tests-inbound-secret-0123456789abcdef';
let smsMessage = 0;

/**
 * A text message from `phone` to the site, through the signed JSON inbound webhook (the
 * site's inbound secret is set the first time): what the person's reply does and answers.
 */
export async function smsReply(t: TestApp, phone: string, body: string): Promise<{ action: string; reply: string | null }> {
  const site = await json<{ smsInboundConfigured: boolean }>(await t.call('GET', '/v1/sites/acme'), 200);
  if (!site.smsInboundConfigured) await json(await t.call('PATCH', '/v1/sites/acme', { body: { smsInboundSecret: SMS_SECRET } }), 200);
  const raw = JSON.stringify({ from: phone, to: '1999', body, messageId: `test-msg-${++smsMessage}` });
  const res = await request(t, '/v1/sites/acme/sms/inbound', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-samtykke-signature': signInbound(SMS_SECRET, raw, t.services.now()) },
    body: raw,
  });
  return json<{ action: string; reply: string | null }>(res, 200);
}

/** One person by phone number (admin API), or undefined. */
export async function subjectByPhone(t: TestApp, phone: string) {
  const res = await t.call('GET', `/v1/sites/acme/subjects?phone=${encodeURIComponent(phone)}`);
  if (res.status === 404) return undefined;
  return json<{ id: string; erased: boolean; consents: { purpose: string; status: string }[]; history: { action: string; purpose: string | null; actor: string; evidence: Record<string, unknown> | null }[] }>(res, 200);
}
