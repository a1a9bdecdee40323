/**
 * The mail outbox: delivery to a real in-process SMTP server (smtp-server), retries with
 * backoff on an injected clock, exactly-once delivery with two loops on one database,
 * the development outbox and its pages, encryption at rest, logs without addresses,
 * retention, and the SMTP_URL / MAIL_FROM settings.
 */
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { createServices } from '../../server/app';
import { ConfigError, loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/client';
import { enqueueMail, MailDelivery, type OutgoingMail } from '../../server/services/mail';
import { MAIL_TTL_MS, runRetention } from '../../server/services/retention';
import { makeApp, TEST_SECRET, tempDir, type TestApp } from './helpers';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

interface TestSmtp {
  port: number;
  url: string;
  received: Received[];
  /** Reply to RCPT TO with this code (4xx: try later; 5xx: refused), or accept (undefined). */
  rejectWith: number | undefined;
  close(): Promise<void>;
}

async function startSmtp(port = 0): Promise<TestSmtp> {
  const state = { rejectWith: undefined as number | undefined };
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    closeTimeout: 200,
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (state.rejectWith === undefined) return callback();
      const error = Object.assign(new Error('mailbox unavailable'), { responseCode: state.rejectWith });
      callback(error);
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `smtp://127.0.0.1:${actual}`,
    received,
    get rejectWith() {
      return state.rejectWith;
    },
    set rejectWith(code) {
      state.rejectWith = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An unfolded header's value from a raw message. */
function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

function clock(start = Date.UTC(2026, 0, 1)) {
  const c = { t: start, now: () => c.t };
  return c;
}

const MESSAGE: OutgoingMail = {
  siteId: 'acme',
  kind: 'confirm',
  to: 'Person.Mailtest@Example-Private.DK',
  subject: 'Confirm your subscription to Acme',
  text: 'Please confirm: https://consent.example/confirm/tok-abc123\n',
  html: '<p>Please <a href="https://consent.example/confirm/tok-abc123">confirm</a>.</p>',
  headers: {
    'List-Unsubscribe': '<https://consent.example/v1/unsubscribe/tok-unsub-xyz>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
  attachments: [{ filename: 'receipt.json', content: '{"version":"KI-CR-v1.1.0"}', contentType: 'application/json' }],
};

async function enqueue(t: TestApp, msg: OutgoingMail, now: number): Promise<string> {
  return t.services.queue.run((w) => enqueueMail(t.services, w, msg, now));
}

async function row(t: TestApp, id: string) {
  const r = await t.database.client.execute({ sql: 'SELECT * FROM mail_outbox WHERE id = ?', args: [id] });
  return r.rows[0] as unknown as {
    status: string;
    kind: string;
    attempts: number;
    next_attempt_at: number;
    last_error: string | null;
    sent_at: number | null;
    locked_until: number | null;
    recipient_enc: string;
    message_enc: string;
    subject_id: string | null;
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('mail over SMTP', () => {
  async function setup(options: { smtp?: TestSmtp; clock?: ReturnType<typeof clock> } = {}) {
    const smtp = options.smtp ?? (await startSmtp());
    const c = options.clock ?? clock();
    const t = await makeApp({ now: c.now, app: { smtpUrl: smtp.url, mailFrom: 'Acme <no-reply@acme.example>' } });
    const delivery = new MailDelivery({ queue: t.services.queue, mail: t.services.mail, smtpUrl: smtp.url, from: 'Acme <no-reply@acme.example>', now: c.now });
    cleanups.push(async () => {
      await delivery.stop();
      await smtp.close().catch(() => undefined);
      await t.close();
    });
    return { smtp, c, t, delivery };
  }

  it('delivers a queued message with its From, To, Subject, headers and attachment, and marks it sent', async () => {
    const { smtp, c, t, delivery } = await setup();
    const id = await enqueue(t, MESSAGE, c.t);
    assert.equal((await row(t, id)).status, 'pending');
    c.t += 1000;
    assert.deepEqual(await delivery.runOnce(), { sent: 1, retried: 0, failed: 0 });
    assert.equal(smtp.received.length, 1);
    const m = smtp.received[0]!;
    assert.equal(m.from, 'no-reply@acme.example');
    assert.deepEqual(m.to.map((a) => a.toLowerCase()), ['person.mailtest@example-private.dk']);
    assert.equal(header(m.raw, 'From'), 'Acme <no-reply@acme.example>');
    assert.equal(header(m.raw, 'To')!.toLowerCase(), 'person.mailtest@example-private.dk');
    assert.equal(header(m.raw, 'Subject'), MESSAGE.subject);
    assert.equal(header(m.raw, 'List-Unsubscribe'), '<https://consent.example/v1/unsubscribe/tok-unsub-xyz>');
    assert.equal(header(m.raw, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    assert.equal(header(m.raw, 'Message-ID'), `<${id}@acme.example>`);
    assert.match(m.raw, /receipt\.json/);
    assert.match(m.raw, /text\/html/);
    const r = await row(t, id);
    assert.equal(r.status, 'sent');
    assert.equal(r.sent_at, c.t);
    assert.equal(r.attempts, 1);
    assert.equal(r.locked_until, null);
    // Sent: the record stays, its recipient and content (links, receipt) do not.
    assert.deepEqual([r.recipient_enc, r.message_enc, r.kind], ['', '', 'confirm']);
    // Nothing more to do.
    assert.deepEqual(await delivery.runOnce(), { sent: 0, retried: 0, failed: 0 });
    assert.equal(smtp.received.length, 1);
  });

  it('a message and its write commit together: a rolled-back transaction queues nothing', async () => {
    const { t, c } = await setup();
    await assert.rejects(
      t.services.queue.run(async (w) => {
        await enqueueMail(t.services, w, MESSAGE, c.t);
        throw new Error('signup failed');
      }),
    );
    const r = await t.database.client.execute('SELECT COUNT(*) AS n FROM mail_outbox');
    assert.equal(Number(r.rows[0]!.n), 0);
  });

  it('refuses a malformed recipient or a header that would inject or override', async () => {
    const { t, c } = await setup();
    await assert.rejects(enqueue(t, { ...MESSAGE, to: 'not an address' }, c.t), /recipient/);
    await assert.rejects(enqueue(t, { ...MESSAGE, headers: { 'X-Evil': 'a\r\nBcc: victim@example.com' } }, c.t), /header/);
    await assert.rejects(enqueue(t, { ...MESSAGE, headers: { Bcc: 'victim@example.com' } }, c.t), /header/);
    await assert.rejects(enqueue(t, { ...MESSAGE, subject: 'two\nlines' }, c.t), /subject/);
  });

  it('nudge(): a started loop sends right after the enqueue, without waiting for the poll', async () => {
    const smtp = await startSmtp();
    const t = await makeApp({ app: { smtpUrl: smtp.url } });
    const delivery = new MailDelivery({ queue: t.services.queue, mail: t.services.mail, smtpUrl: smtp.url, from: 'x@acme.example', pollMs: 3_600_000 }).start();
    cleanups.push(async () => {
      await delivery.stop();
      await smtp.close();
      await t.close();
    });
    await new Promise((r) => setTimeout(r, 50)); // the first (empty) round
    const id = await enqueue(t, MESSAGE, Date.now());
    for (let i = 0; i < 100 && smtp.received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(smtp.received.length, 1);
    for (let i = 0; i < 50 && (await row(t, id)).status !== 'sent'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await row(t, id)).status, 'sent');
  });

  it('SMTP server down: retried with doubling backoff, then delivered when it is back', async () => {
    const { smtp, c, t, delivery } = await setup();
    const port = smtp.port;
    await smtp.close();
    const id = await enqueue(t, MESSAGE, c.t);

    assert.deepEqual(await delivery.runOnce(), { sent: 0, retried: 1, failed: 0 });
    let r = await row(t, id);
    assert.equal(r.status, 'pending');
    assert.equal(r.attempts, 1);
    assert.equal(r.next_attempt_at, c.t + 60_000);
    assert.match(r.last_error!, /^[A-Z0-9_ ]+$/);
    assert.ok(!r.last_error!.includes('@'));

    // Not due yet: nothing is tried.
    c.t += 59_000;
    assert.deepEqual(await delivery.runOnce(), { sent: 0, retried: 0, failed: 0 });
    c.t += 1_000;
    assert.deepEqual(await delivery.runOnce(), { sent: 0, retried: 1, failed: 0 });
    r = await row(t, id);
    assert.equal(r.attempts, 2);
    assert.equal(r.next_attempt_at, c.t + 120_000);

    const back = await startSmtp(port);
    cleanups.push(() => back.close());
    c.t += 120_000;
    assert.deepEqual(await delivery.runOnce(), { sent: 1, retried: 0, failed: 0 });
    assert.equal(back.received.length, 1);
    r = await row(t, id);
    assert.equal(r.status, 'sent');
    assert.equal(r.attempts, 3);
    assert.equal(r.last_error, null);
  });

  it('a temporary rejection (451) is retried; a refused recipient (550) fails at once', async () => {
    const { smtp, c, t, delivery } = await setup();
    smtp.rejectWith = 451;
    const id = await enqueue(t, MESSAGE, c.t);
    assert.deepEqual(await delivery.runOnce(), { sent: 0, retried: 1, failed: 0 });
    assert.equal((await row(t, id)).last_error, 'EENVELOPE 451');
    smtp.rejectWith = undefined;
    c.t += 60_000;
    assert.deepEqual(await delivery.runOnce(), { sent: 1, retried: 0, failed: 0 });
    assert.equal(smtp.received.length, 1);

    smtp.rejectWith = 550;
    const refused = await enqueue(t, { ...MESSAGE, to: 'gone@example-private.dk' }, c.t);
    assert.deepEqual(await delivery.runOnce(), { sent: 0, retried: 0, failed: 1 });
    const r = await row(t, refused);
    assert.equal(r.status, 'failed');
    assert.equal(r.last_error, 'EENVELOPE 550');
    assert.deepEqual([r.recipient_enc, r.message_enc], ['', ''], 'given up: nothing of the message is kept');
  });

  it('stores the subject id; a row whose content is gone is never decrypted or sent', async () => {
    const { smtp, c, t, delivery } = await setup();
    const id = await enqueue(t, { ...MESSAGE, subjectId: 'subject-1' }, c.t);
    assert.equal((await row(t, id)).subject_id, 'subject-1');
    assert.equal((await row(t, await enqueue(t, MESSAGE, c.t))).subject_id, null, 'mail to no person');
    await t.database.client.execute({ sql: "UPDATE mail_outbox SET recipient_enc = '', message_enc = '' WHERE id = ?", args: [id] });
    assert.deepEqual(await delivery.runOnce(), { sent: 1, retried: 0, failed: 1 });
    const r = await row(t, id);
    assert.deepEqual([r.status, r.last_error], ['failed', 'ECLEARED']);
    assert.equal(smtp.received.length, 1, 'only the other message');
  });

  it('gives up after about 24 hours of failures', async () => {
    const { smtp, c, t, delivery } = await setup();
    await smtp.close();
    const id = await enqueue(t, MESSAGE, c.t);
    const start = c.t;
    const delays: number[] = [];
    for (let i = 0; i < 40; i++) {
      const report = await delivery.runOnce();
      const r = await row(t, id);
      if (r.status === 'failed') break;
      assert.equal(report.retried, 1);
      delays.push(r.next_attempt_at - c.t);
      c.t = r.next_attempt_at;
    }
    assert.equal((await row(t, id)).status, 'failed');
    assert.deepEqual(delays.slice(0, 4), [60_000, 120_000, 240_000, 480_000]);
    assert.ok(Math.max(...delays) <= 2 * 60 * 60_000, 'backoff is capped');
    assert.ok(c.t - start <= 24 * 60 * 60_000 && c.t - start > 20 * 60 * 60_000, `gave up after ${(c.t - start) / 3_600_000} h`);
    // A failed message is never tried again.
    c.t += 7 * 24 * 60 * 60_000;
    assert.deepEqual(await delivery.runOnce(), { sent: 0, retried: 0, failed: 0 });
  });

  it('two delivery loops on one database (two connections) deliver every message exactly once', async () => {
    const smtp = await startSmtp();
    const t = await makeApp({ app: { smtpUrl: smtp.url } });
    const second = await openDatabase({ url: `file:${t.file}` });
    const other = createServices({ database: second, secret: TEST_SECRET, smtpUrl: smtp.url });
    const options = { smtpUrl: smtp.url, from: 'x@acme.example', batch: 3 };
    const a = new MailDelivery({ ...options, queue: t.services.queue, mail: t.services.mail });
    const b = new MailDelivery({ ...options, queue: other.queue, mail: other.mail });
    cleanups.push(async () => {
      await a.stop();
      await b.stop();
      await smtp.close();
      await other.queue.idle();
      second.close();
      await t.close();
    });
    const n = 24;
    const ids = await Promise.all(Array.from({ length: n }, (_, i) => enqueue(t, { ...MESSAGE, subject: `Message ${i}` }, Date.now())));
    let sent = 0;
    for (let round = 0; round < 30 && sent < n; round++) {
      const reports = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
      sent += reports[0].sent + reports[1].sent; // runOnce during a round answers that round's report
    }
    const subjects = smtp.received.map((m) => header(m.raw, 'Subject'));
    assert.equal(smtp.received.length, n, `received ${smtp.received.length}`);
    assert.equal(new Set(subjects).size, n);
    for (const id of ids) assert.equal((await row(t, id)).status, 'sent');
  });
});

describe('development outbox', () => {
  const HOSTILE: OutgoingMail = {
    siteId: 'acme',
    kind: 'magic-link',
    to: 'dev.person@example-private.dk',
    subject: 'Your <b>link</b> & "more"',
    text: 'Open https://consent.example/p/tok-123?a=1&b=2 within the hour. <script>alert(1)</script>',
    html: '<p>Open <a href="https://consent.example/p/tok-123">your page</a></p><script>alert(1)</script>',
  };

  it('without SMTP_URL: rows are `dev`, listed newest first at /dev/outbox(.json), escaped, links clickable', async () => {
    const c = clock();
    const t = await makeApp({ now: c.now, app: { devOutbox: true } });
    cleanups.push(() => t.close());
    const first = await enqueue(t, MESSAGE, c.t);
    c.t += 1000;
    const second = await enqueue(t, HOSTILE, c.t);
    assert.equal((await row(t, first)).status, 'dev');
    assert.equal((await row(t, second)).status, 'dev');

    const json = (await (await t.call('GET', '/dev/outbox.json', { key: null })).json()) as { messages: { id: string; to: string; subject: string; kind: string; text: string; headers: Record<string, string> }[] };
    assert.deepEqual(json.messages.map((m) => m.id), [second, first]);
    assert.equal(json.messages[1]!.to, MESSAGE.to);
    assert.equal(json.messages[1]!.subject, MESSAGE.subject);
    assert.equal(json.messages[1]!.headers['List-Unsubscribe'], MESSAGE.headers!['List-Unsubscribe']);
    assert.equal(json.messages[0]!.kind, 'magic-link');

    const res = await t.call('GET', '/dev/outbox', { key: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/html/);
    assert.match(res.headers.get('content-security-policy')!, /default-src 'none'/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const html = await res.text();
    assert.ok(html.indexOf('magic-link') < html.indexOf('Confirm your subscription'), 'newest first');
    assert.ok(html.includes('dev.person@example-private.dk'));
    assert.ok(html.includes('Your &#60;b&#62;link&#60;/b&#62; &#38; &#34;more&#34;'));
    assert.ok(!html.includes('<b>link</b>'));
    assert.ok(!html.includes('<script>alert(1)</script>'), 'no script reaches the page unescaped');
    assert.ok(html.includes('<a href="https://consent.example/p/tok-123?a=1&#38;b=2" target="_blank" rel="noopener noreferrer">'));
    assert.ok(html.includes('<a href="https://consent.example/confirm/tok-abc123"'));
    assert.match(html, /<iframe title="HTML body" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="[^"]*&#60;script&#62;/);
  });

  it('is not served in production (404), and not listed there', async () => {
    const t = await makeApp({ app: { devOutbox: false } });
    cleanups.push(() => t.close());
    await enqueue(t, MESSAGE, Date.now());
    for (const path of ['/dev/outbox', '/dev/outbox.json']) {
      const res = await t.call('GET', path, { key: null });
      assert.equal(res.status, 404, path);
      assert.ok(!(await res.text()).includes('example-private'));
    }
  });

  it('the queued log line has kind, id and outbox, never the address or the subject', async () => {
    const t = await makeApp({ app: { log: true } });
    cleanups.push(() => t.close());
    const lines: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    let id: string;
    try {
      id = await enqueue(t, MESSAGE, Date.now());
    } finally {
      console.log = original;
    }
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]!), { level: 'info', mail: 'queued', kind: 'confirm', id, outbox: 'dev' });
    for (const needle of ['@', 'mailtest', 'example-private', 'Confirm your', 'tok-']) assert.ok(!lines[0]!.toLowerCase().includes(needle.toLowerCase()), needle);
  });
});

describe('mail at rest and retention', () => {
  it('the raw database files hold no plaintext recipient, subject, body, link or header', async () => {
    const smtp = await startSmtp();
    const t = await makeApp({ app: { smtpUrl: smtp.url } });
    const delivery = new MailDelivery({ queue: t.services.queue, mail: t.services.mail, smtpUrl: smtp.url, from: 'x@acme.example' });
    cleanups.push(async () => {
      await delivery.stop();
      await smtp.close();
      await t.close();
    });
    await enqueue(t, MESSAGE, Date.now());
    await delivery.runOnce();
    const devApp = await makeApp();
    cleanups.push(() => devApp.close());
    await enqueue(devApp, MESSAGE, Date.now());
    await t.services.queue.idle();
    await devApp.services.queue.idle();
    const needles = ['person.mailtest', 'example-private', 'Confirm your subscription', 'tok-abc123', 'tok-unsub-xyz', 'KI-CR-v1.1.0', 'receipt.json', 'List-Unsubscribe'];
    for (const file of [t.file, devApp.file]) {
      const bytes = Buffer.concat([file, `${file}-wal`, `${file}-journal`].filter(existsSync).map((f) => readFileSync(f)));
      const haystack = bytes.toString('latin1').toLowerCase();
      const utf16 = bytes.toString('utf16le').toLowerCase();
      const found = needles.filter((n) => haystack.includes(n.toLowerCase()) || utf16.includes(n.toLowerCase()));
      assert.deepEqual(found, [], `${file} holds plaintext`);
    }
    assert.equal(smtp.received.length, 1, 'sanity: it was delivered');
  });

  it('runRetention deletes sent, failed and dev mail older than 30 days, never pending mail', async () => {
    const c = clock();
    const t = await makeApp({ now: c.now });
    cleanups.push(() => t.close());
    const old = await enqueue(t, MESSAGE, c.t);
    const copy = (id: string, status: string, attempts: number, sentAt: string) =>
      t.database.client.execute({
        sql: `INSERT INTO mail_outbox (id, site_id, kind, recipient_enc, message_enc, status, attempts, next_attempt_at, created_at, sent_at)
              SELECT ?, site_id, kind, recipient_enc, message_enc, ?, ?, next_attempt_at, created_at, ${sentAt} FROM mail_outbox WHERE id = ?`,
        args: [id, status, attempts, old],
      });
    await copy('old-sent', 'sent', 1, 'created_at');
    await copy('old-pending', 'pending', 0, 'NULL');
    await copy('old-failed', 'failed', 9, 'NULL');
    c.t += MAIL_TTL_MS - 1;
    const recent = await enqueue(t, MESSAGE, c.t);
    assert.deepEqual(await runRetention(t.services), { idempotencyKeys: 0, mail: 0, webhookDeliveries: 0, smsMessages: 0, checkChanges: 0, expiredSignups: 0, erasedUnconfirmed: 0, emailChanges: 0 });
    c.t += 2;
    assert.deepEqual(await runRetention(t.services), { idempotencyKeys: 0, mail: 3, webhookDeliveries: 0, smsMessages: 0, checkChanges: 0, expiredSignups: 0, erasedUnconfirmed: 0, emailChanges: 0 });
    const left = await t.database.client.execute('SELECT id FROM mail_outbox ORDER BY id');
    assert.deepEqual(left.rows.map((r) => r.id).sort(), ['old-pending', recent].sort());
  });
});

describe('SMTP_URL and MAIL_FROM', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  async function env(extra: Record<string, string>) {
    const dir = await tempDir('samtykke-mailconfig-');
    dirs.push(dir);
    return () => loadConfig({ SAMTYKKE_SECRET: TEST_SECRET, ...extra }, { dataDir: join(dir, 'data') });
  }

  it('defaults: no SMTP (development outbox) and the default From', async () => {
    const config = (await env({}))();
    assert.equal(config.smtpUrl, undefined);
    assert.equal(config.mailFrom, 'Samtykke <no-reply@localhost>');
  });

  it('accepts smtp:// and smtps:// URLs with credentials, and plain or named addresses', async () => {
    for (const url of ['smtp://127.0.0.1:2525', 'smtps://user:p%40ss@mail.example.com:465', 'smtp://mail.example.com']) {
      assert.equal((await env({ SMTP_URL: url }))().smtpUrl, url);
    }
    for (const from of ['no-reply@example.com', 'Acme Nyhedsbrev <nyt@acme.dk>']) {
      assert.equal((await env({ MAIL_FROM: from }))().mailFrom, from);
    }
  });

  it('refuses bad values naming the variable, never echoing the password', async () => {
    for (const url of ['http://user:hunter2secret@mail.example.com', 'smtp://', 'hunter2secret', 'smtp://user:hunter2secret@', 'imap://user:hunter2secret@mail.example.com']) {
      const load = await env({ SMTP_URL: url });
      assert.throws(load, (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.variable, 'SMTP_URL');
        assert.ok(!e.message.includes('hunter2secret'), e.message);
        return true;
      });
    }
    for (const from of ['not an address', 'Acme <nyt@acme.dk>\r\nBcc: x@y.z', 'a@b.c, d@e.f', '<>']) {
      assert.throws(await env({ MAIL_FROM: from }), (e: unknown) => e instanceof ConfigError && e.variable === 'MAIL_FROM');
    }
  });
});
