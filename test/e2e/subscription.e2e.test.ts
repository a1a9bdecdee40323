/**
 * End to end, the whole life of a subscription: sign up on the demo page → the confirmation
 * mail arrives at a real SMTP server started here (smtp-server) → confirm with the button
 * on the link's page (the e-mail purpose) → the person replies YES by SMS through the signed
 * inbound webhook (the SMS purpose) → the receipt arrives → the preference page from its link → withdraw
 * one purpose → one-click unsubscribe (RFC 8058) with the URL from the receipt's
 * List-Unsubscribe header, posted as a mailbox provider posts it → the person's state shows
 * unsubscribed and the address suppressed.
 *
 * Run with `node scripts/test.mjs e2e` (builds the widget first if dist/widget is stale).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { seedDemo } from '../../server/cli';
import { loadConfig } from '../../server/config';
import { startServer, type RunningServer } from '../../server/main';
import { verifyAll } from '../../server/services/verify';
import { readMail } from './mime';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHROME = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
const SECRET = 'e2e-subscription-secret-0123456789abcdefghijklmnop';
const SITE = 'demo';
const EMAIL = 'lise.jensen@example.dk';
const PHONE = '+45 20 30 40 50';
const WAIT = 15_000;

interface Received {
  to: string[];
  raw: string;
}

let dir: string;
let server: RunningServer;
let browser: Browser;
let adminKey: string;
let smtp: SMTPServer;
const inbox: Received[] = [];

function newestSource(): number {
  const dirs = ['widget', 'shared'].map((d) => join(root, d));
  const files = dirs.flatMap((d) => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name)));
  return Math.max(...[...files, join(root, 'vite.config.ts'), join(root, 'package.json')].map((f) => statSync(f).mtimeMs));
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

before(async () => {
  const bundle = join(root, 'dist/widget/samtykke.js');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSource()) {
    execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'pipe' });
  }
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    closeTimeout: 200,
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(0, '127.0.0.1', () => resolve());
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  dir = mkdtempSync(join(tmpdir(), 'samtykke-e2e-sub-'));
  // Links in mails are built from PUBLIC_URL, so the port is chosen before the server starts.
  const port = await freePort();
  const config = loadConfig(
    {
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      DATABASE_URL: `file:${join(dir, 'e2e.db')}`,
      SAMTYKKE_SECRET: SECRET,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_FROM: 'Samtykke demo <nyhedsbrev@example.dk>',
      LOG_LEVEL: 'silent',
    },
    { dataDir: dir, createSecret: false },
  );
  server = await startServer(config, { demo: true });
  ({ secret: adminKey } = await seedDemo(server.database, config, dir));
  browser = await chromium.launch({ executablePath: CHROME, headless: true, args: ARGS });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function waitForMail(what: string, match: (m: ReturnType<typeof readMail>) => boolean, since: number) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    for (const received of inbox.slice(since)) {
      const mail = readMail(received.raw);
      if (match(mail)) return { ...mail, to: received.to };
    }
    if (Date.now() > deadline) assert.fail(`no ${what} mail arrived (inbox: ${inbox.length})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/v1/sites/${SITE}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as unknown };
}

interface SubjectState {
  consents: { purpose: string; status: string; wordingVersion: number | null; source: string | null }[];
  history: { action: string; purpose: string | null }[];
}

async function eventually<T>(what: string, get: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const value = await get().catch(() => undefined);
    if (value !== undefined && check(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function person(): Promise<SubjectState> {
  const res = await admin('GET', `/subjects?email=${encodeURIComponent(EMAIL)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as SubjectState;
}

const statusOf = (s: SubjectState, purpose: string) => s.consents.find((c) => c.purpose === purpose)?.status;

/** The first link in a text that starts with `prefix`. */
function linkIn(text: string, prefix: string): string {
  const found = text.match(/https?:\/\/[^\s<>"')\]]+/g)?.find((u) => u.startsWith(prefix));
  assert.ok(found, `a link starting with ${prefix} in:\n${text}`);
  return found;
}

describe('a subscription from signup to one-click unsubscribe', { timeout: 120_000 }, () => {
  test('sign up, confirm, receipt, preferences, withdraw, one-click unsubscribe', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

    // 1. Sign up on the demo page.
    await page.goto(`${server.url}/signup.html`);
    const form = page.locator('consent-signup');
    await form.getByLabel(/e-mail/i).first().waitFor({ state: 'visible', timeout: WAIT });
    await form.getByLabel(/e-mail/i).first().fill(EMAIL);
    await form.getByLabel(/mobile|phone/i).first().fill(PHONE);
    const boxes = form.getByRole('checkbox');
    assert.equal(await boxes.count(), 2, 'one checkbox per purpose');
    for (const box of await boxes.all()) assert.equal(await box.isChecked(), false, 'unchecked by default');
    await form.getByRole('checkbox', { name: /e-mail/i }).check();
    await form.getByRole('checkbox', { name: /sms|text/i }).check();
    const mailsBefore = inbox.length;
    await form.getByRole('button', { name: /sign up|subscribe/i }).click();
    await form.getByText(/inbox/i).first().waitFor({ timeout: WAIT });

    // Pending until confirmed. The 202 comes before the write (so its timing says nothing
    // about the address), so the state is polled for.
    let state = await eventually('the pending signup', person, (s) => statusOf(s, 'e-marketing') === 'pending');
    assert.equal(statusOf(state, 'sms-offers'), 'pending');

    // 2. The confirmation mail, at the real SMTP server.
    const confirmMail = await waitForMail('confirmation', (m) => /confirm/i.test(m.header('subject') ?? ''), mailsBefore);
    assert.deepEqual(confirmMail.to, [EMAIL]);
    const confirmUrl = linkIn(confirmMail.text, `${server.url}/v1/confirm/`);
    assert.ok(confirmMail.html.includes(confirmUrl.replace(/&/g, '&amp;')), 'the HTML part carries the same link');

    // 3. Opening the link shows a button; the GET alone confirms nothing (link scanners).
    await page.goto(confirmUrl);
    state = await person();
    assert.equal(statusOf(state, 'e-marketing'), 'pending', 'a GET changes nothing');
    const receiptsBefore = inbox.length;
    await page.getByRole('button').first().click();
    await page.waitForLoadState('load');
    state = await person();
    assert.equal(statusOf(state, 'e-marketing'), 'granted');
    // The mailbox does not prove the phone: the SMS purpose waits for a YES from the number.
    assert.equal(statusOf(state, 'sms-offers'), 'pending');
    assert.ok(state.history.some((h) => h.action === 'confirm' && h.purpose === 'e-marketing'), 'a confirm event is recorded');
    assert.match(confirmMail.text, /reply YES|svar JA/i, 'the mail says how the SMS purpose is confirmed');

    // 3b. The person replies YES to the site's text message: the provider forwards it to the
    // signed JSON inbound webhook.
    const smsSecret = 'e2e-inbound-sms-secret-0123456789abcdefghij';
    assert.equal((await admin('PATCH', '', { smsInboundSecret: smsSecret })).status, 200);
    const raw = JSON.stringify({ from: PHONE, to: '1999', body: 'YES', messageId: 'e2e-sms-1' });
    const t = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', smsSecret).update(`${t}.${raw}`).digest('hex');
    const reply = await fetch(`${server.url}/v1/sites/${SITE}/sms/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-samtykke-signature': `t=${t},v1=${signature}` },
      body: raw,
    });
    assert.equal(reply.status, 200);
    const answer = (await reply.json()) as { action: string; reply: string | null };
    assert.equal(answer.action, 'confirmed');
    assert.ok(answer.reply, 'a confirmation text to send back');
    state = await person();
    assert.equal(statusOf(state, 'sms-offers'), 'granted');
    assert.ok(state.history.some((h) => h.action === 'confirm' && h.purpose === 'sms-offers'), 'the phone’s confirm event is recorded');

    // 4. The receipt: the wording, a Kantara JSON attachment, and the one-click headers.
    const receipt = await waitForMail('receipt', (m) => /receipt/i.test(m.header('subject') ?? ''), receiptsBefore);
    const listUnsubscribe = receipt.header('list-unsubscribe') ?? '';
    assert.match(listUnsubscribe, /^<https?:\/\/[^>]+>$/);
    assert.equal(receipt.header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    const kantara = receipt.attachments.find((a) => a.filename.endsWith('.json'));
    assert.ok(kantara, 'a JSON consent receipt is attached');
    const cr = JSON.parse(kantara.content) as Record<string, unknown>;
    for (const field of ['version', 'jurisdiction', 'consentTimestamp', 'collectionMethod', 'consentReceiptID', 'language', 'piiPrincipalId', 'piiControllers', 'policyUrl', 'services', 'sensitive', 'spiCat']) {
      assert.ok(field in cr, `Kantara CR v1.1 field ${field}`);
    }
    assert.ok(!JSON.stringify(cr).includes(EMAIL), 'the principal is named by id, not by address');
    const prefsUrl = linkIn(receipt.text, `${server.url}/profile.html#token=`);

    // 5. The preference page from the receipt's link: withdraw SMS offers.
    await page.goto(prefsUrl);
    const prefs = page.locator('consent-preferences');
    const sms = prefs.getByRole('switch', { name: /sms|text/i }).or(prefs.getByRole('checkbox', { name: /sms|text/i }));
    await sms.first().waitFor({ timeout: WAIT });
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
    assert.equal(await sms.first().isChecked(), true);
    await sms.first().click();
    await eventually('the withdrawal from the preference page', person, (s) => statusOf(s, 'sms-offers') === 'withdrawn');
    assert.equal(statusOf(await person(), 'e-marketing'), 'granted', 'the other purpose is untouched');

    // 6. One-click unsubscribe with the URL from the receipt's header, as a mailbox provider sends it:
    // a POST with the one field, no cookies, no authorisation, no redirect followed.
    const unsubscribeUrl = listUnsubscribe.slice(1, -1);
    const res = await fetch(unsubscribeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    assert.equal(res.status, 200);
    state = await person();
    assert.equal(statusOf(state, 'e-marketing'), 'withdrawn');
    assert.ok(state.history.some((h) => h.action === 'unsubscribe' && h.purpose === 'e-marketing'), 'an unsubscribe event is recorded');
    await server.services.queue.idle();
    const { rows } = await server.database.client.execute({
      sql: "SELECT reason FROM suppressions WHERE site_id = ? AND channel = 'email'",
      args: [SITE],
    });
    assert.deepEqual(rows.map((r) => r.reason), ['unsubscribe'], 'the address is suppressed');

    // The same POST again changes nothing.
    const again = await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click', redirect: 'manual' });
    assert.equal(again.status, 200);
    assert.equal((await person()).history.length, state.history.length, 'idempotent');

    const [report] = await verifyAll(server.database.db, server.services.crypto, SITE);
    assert.ok(report?.ok, `audit verify: ${JSON.stringify(report?.chains)}`);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
