/**
 * The flows behind the send-check reasons, each driven only through the public routes a
 * person, a mailbox provider, an SMS provider or a marketer calls: signups with double
 * opt-in, the confirm link, RFC 8058 one-click unsubscribe, the preference routes with a
 * link token, the SMS inbound webhook and the suppression-list import. Nothing here writes
 * to the database or appends events itself, so a check answers what the real flows wrote
 * (and the ledger hooks, such as webhooks, see what they really see).
 */
import assert from 'node:assert/strict';
import { signInbound } from '../../server/services/sms';
import { signToken } from '../../server/services/tokens';
import type { PreferencesView, SignupAnswer } from '../../shared/subscriptions';
import { json, type TestApp } from './helpers';
import { bodyFor, form, linkIn, outbox, pathOf, request, signup } from './subscription-helpers';

const BASE = 'http://localhost:8787';

/** The subject id of `email` (admin API), or undefined when the address is not a person of the site. */
export async function subjectIdOf(t: TestApp, email: string): Promise<string | undefined> {
  const res = await t.call('GET', `/v1/sites/acme/subjects?email=${encodeURIComponent(email)}`);
  if (res.status === 404) return undefined;
  return (await json<{ id: string }>(res, 200)).id;
}

async function mustSubject(t: TestApp, email: string): Promise<string> {
  const id = await subjectIdOf(t, email);
  assert.ok(id, `${email} is a person of the site`);
  return id;
}

/**
 * The signup is written after the 202: wait until the queue is idle, then until the
 * person is on record (a write started after the answer may take a turn to be queued).
 */
async function settled(t: TestApp, email: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    await t.services.queue.idle();
    const id = await subjectIdOf(t, email);
    if (id) return id;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`the signup of ${email} was never written`);
}

/**
 * A double opt-in signup (POST /v1/sites/acme/signups, the site default) not confirmed yet:
 * 202 with a confirmation mail on its way; every purpose ticked is pending.
 */
export async function pendingSignup(t: TestApp, email: string, purposes = 'e-marketing', extra: { phone?: string; name?: string } = {}): Promise<string> {
  const f = await form(t, purposes);
  assert.equal(f.doubleOptIn, true, 'the site asks for double opt-in');
  const res = await signup(t, bodyFor(f, { email, ...extra }));
  const answer = await json<SignupAnswer>(res, 202);
  assert.deepEqual(answer, { status: 'accepted', confirmationSent: true });
  return settled(t, email);
}

/** The confirm link of the latest confirmation mail to `email`. */
export async function confirmLink(t: TestApp, email: string): Promise<string> {
  // Addresses are kept as normalised (lower-cased): match the mail's recipient the same way.
  const mails = (await outbox(t)).filter((m) => m.kind === 'confirm' && m.to.toLowerCase() === email.trim().toLowerCase());
  assert.ok(mails.length > 0, `a confirmation mail to ${email}`);
  return linkIn(mails.at(-1)!.text, `${BASE}/v1/confirm/`);
}

/** Signs up (double opt-in) and presses the button behind the confirm link (a POST; a GET changes nothing). */
export async function confirmedSignup(t: TestApp, email: string, purposes = 'e-marketing', extra: { phone?: string; name?: string } = {}): Promise<string> {
  const subjectId = await pendingSignup(t, email, purposes, extra);
  const url = await confirmLink(t, email);
  const res = await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  assert.equal(res.status, 200, await res.text());
  await t.services.queue.idle();
  return subjectId;
}

/**
 * The one-click unsubscribe link for a person, as a marketer gets it for their own mails
 * (GET /subjects/{id}/links): for one purpose, or (purpose omitted) all e-mail marketing.
 */
export async function unsubscribeLink(t: TestApp, email: string, purpose?: string): Promise<string> {
  const subjectId = await mustSubject(t, email);
  const links = await json<{ unsubscribeUrl: string; headers: Record<string, string> }>(
    await t.call('GET', `/v1/sites/acme/subjects/${subjectId}/links${purpose ? `?purpose=${purpose}` : ''}`),
    200,
  );
  assert.equal(links.headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
  return links.unsubscribeUrl;
}

/** What a mailbox provider sends for List-Unsubscribe-Post (RFC 8058): a form POST with no cookies and no Authorization. */
export async function oneClick(t: TestApp, url: string, body = 'List-Unsubscribe=One-Click'): Promise<void> {
  const res = await request(t, pathOf(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  assert.equal(res.status, 200, await res.text());
  await t.services.queue.idle();
}

/**
 * One-click unsubscribe through the link a marketer puts in their mails: every granted or
 * pending purpose in scope gets an 'unsubscribe' event and the address is suppressed (the
 * route always suppresses; `suppress: true` is accepted for callers written before it existed).
 */
export async function unsubscribe(t: TestApp, email: string, options: { purpose?: string; suppress?: true } = {}): Promise<void> {
  await oneClick(t, await unsubscribeLink(t, email, options.purpose));
}

/**
 * A preference-page token for `email` (scope `prefs`, expiring in an hour), sealed as the
 * server seals the ones it mails: the same thing a magic link or a receipt's manage link holds.
 */
export async function prefsTokenFor(t: TestApp, email: string): Promise<string> {
  const subject = await mustSubject(t, email);
  return signToken(t.services.crypto, { site: 'acme', subject, scope: { kind: 'prefs' }, exp: Math.floor(t.services.now() / 1000) + 3600 });
}

/** A preference route called with the person's link token. */
export function me(t: TestApp, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return request(t, `/v1/sites/acme/me${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** PUT /me/consents/{purpose}: withdraw (consent-based) or object (any other basis); or grant with the current wording's hash. */
export async function toggle(t: TestApp, email: string, purpose: string, granted: boolean): Promise<PreferencesView> {
  const token = await prefsTokenFor(t, email);
  let body: Record<string, unknown> = { granted };
  if (granted) {
    const view = await json<PreferencesView>(await me(t, token, 'GET', ''), 200);
    const current = view.purposes.find((p) => p.key === purpose)?.current;
    if (current) body = { granted, wordingVersion: current.version, lang: current.lang, sha256: current.sha256 };
  }
  const view = await json<PreferencesView>(await me(t, token, 'PUT', `/consents/${purpose}`, body), 200);
  await t.services.queue.idle();
  return view;
}

/** POST /me/restrict: processing restricted (GDPR art. 18). */
export async function restrict(t: TestApp, email: string, restricted = true): Promise<void> {
  const view = await json<PreferencesView>(await me(t, await prefsTokenFor(t, email), 'POST', '/restrict', { restricted }), 200);
  assert.equal(view.person.restricted, restricted);
  await t.services.queue.idle();
}

/** POST /me/erase: the person is forgotten; returns their (former) subject id. */
export async function erase(t: TestApp, email: string): Promise<string> {
  const subjectId = await mustSubject(t, email);
  const token = await prefsTokenFor(t, email);
  assert.deepEqual(await json(await me(t, token, 'POST', '/erase', { confirm: true }), 200), { erased: true });
  await t.services.queue.idle();
  return subjectId;
}

/** An inbound text through the signed JSON SMS webhook (the site's smsInboundSecret must be `secret`). */
export async function inboundSms(t: TestApp, secret: string, from: string, body: string, messageId: string): Promise<{ action: string; reply: string | null }> {
  const raw = JSON.stringify({ from, to: '1234', body, messageId });
  const res = await t.app.request('/v1/sites/acme/sms/inbound', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-samtykke-signature': signInbound(secret, raw, t.services.now()) },
    body: raw,
  });
  const answer = await json<{ action: string; reply: string | null }>(res, 200);
  await t.services.queue.idle();
  return answer;
}

/** POST /suppressions/import: a list (listed, bounced, complained) imported as CSV. */
export async function importList(t: TestApp, list: string, reason: 'listed' | 'bounced' | 'complained', csv: string): Promise<Record<string, number>> {
  const res = await t.call('POST', `/v1/sites/acme/suppressions/import?list=${encodeURIComponent(list)}&reason=${reason}`, { body: csv, headers: { 'content-type': 'text/csv' } });
  const answer = await json<Record<string, number>>(res, 200);
  await t.services.queue.idle();
  return answer;
}
