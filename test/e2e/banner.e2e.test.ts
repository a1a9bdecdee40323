/**
 * End to end: the real server, started as `samtykke dev` starts it (startServer with the demo
 * website) on a fresh database file, the demo site seeded by the same code, and the demo page
 * driven in headless Chromium. Every choice is checked in the page (banner, gated script and
 * iframe, the choice cookie) and in the ledger (one event per category naming the published
 * wording, sealed evidence without personal data, intact hash chains).
 *
 * Run with `node scripts/test.mjs e2e` (builds the widget first if dist/widget is missing or stale).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { seedDemo } from '../../server/cli';
import { loadConfig } from '../../server/config';
import { startServer, type RunningServer } from '../../server/main';
import { openEvidence, type Evidence } from '../../server/services/evidence';
import { verifyAll } from '../../server/services/verify';
import { CONSENT_COOKIE, type CookieConfig, type CookieConsentBody, type StoredChoice } from '../../shared/cookies';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHROME = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
const SECRET = 'e2e-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const SITE = 'demo';
const OPTIONAL = ['preferences', 'statistics', 'marketing'] as const;
/** How long a page may take to show or close the banner, or to record a choice. */
const WAIT = 10_000;

let dir: string;
let server: RunningServer;
let browser: Browser;
let adminKey: string;

/** Newest modification time of the widget's sources (what `vite build` bundles). */
function newestSource(): number {
  const dirs = ['widget', 'shared'].map((d) => join(root, d));
  const files = dirs.flatMap((d) => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name)));
  return Math.max(...[...files, join(root, 'vite.config.ts'), join(root, 'package.json')].map((f) => statSync(f).mtimeMs));
}

before(async () => {
  // The server serves dist/widget: build it when missing, or older than the sources it is built from.
  const bundle = join(root, 'dist/widget/samtykke.js');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSource()) {
    // Piped, not inherited: the test runner reads this process's stdout.
    execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'pipe' });
  }
  dir = mkdtempSync(join(tmpdir(), 'samtykke-e2e-'));
  // The environment `samtykke dev` would read, with port 0: the system picks a free port.
  const config = loadConfig(
    { PORT: '0', DATABASE_URL: `file:${join(dir, 'e2e.db')}`, SAMTYKKE_SECRET: SECRET, LOG_LEVEL: 'silent' },
    { dataDir: dir, createSecret: false },
  );
  server = await startServer(config, { demo: true });
  // The demo site allows the public URL's origin; here that is where the server really listens.
  ({ secret: adminKey } = await seedDemo(server.database, { ...config, publicUrl: server.url }, dir));
  browser = await chromium.launch({ executablePath: CHROME, headless: true, args: ARGS });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Browser helpers

interface Visit {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and the widget's own console warnings ("samtykke: …"). */
  problems: string[];
}

type VisitOptions = BrowserContextOptions & {
  /** A script run before the page's own, as source text (a compiled function would carry tsx's helpers along). */
  initScript?: string;
};

/** A fresh browser context (empty cookie jar and HTTP cache) with one page. */
async function newVisit({ initScript, ...options }: VisitOptions = {}): Promise<Visit> {
  const context = await browser.newContext(options);
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.text().startsWith('samtykke:')) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  return { context, page, problems };
}

/** Runs `work` in a fresh context, closes it, and fails on any page error or widget warning. */
async function withVisit(options: VisitOptions, work: (v: Visit) => Promise<void>): Promise<void> {
  const visit = await newVisit(options);
  try {
    await work(visit);
    assert.deepEqual(visit.problems, [], 'no page errors and no widget warnings');
  } finally {
    await visit.context.close();
  }
}

const dialog = (page: Page) => page.getByRole('dialog');
const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

async function openDemo(page: Page, path = '/'): Promise<void> {
  await page.goto(`${server.url}${path}`);
  await dialog(page).waitFor({ state: 'visible', timeout: WAIT });
}

/** Does `act` and waits for the proof it sends; returns the server's answer and what the widget sent. */
async function recorded(page: Page, act: () => Promise<unknown>): Promise<{ consentId: string; recordedAt: string; sent: CookieConsentBody }> {
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/v1/sites/${SITE}/cookie-consents`,
    { timeout: WAIT },
  );
  await act();
  const response = await posted;
  assert.equal(response.status(), 201, `the choice was recorded: ${await response.text()}`);
  const answer = (await response.json()) as { consentId: string; recordedAt: string };
  return { ...answer, sent: response.request().postDataJSON() as CookieConsentBody };
}

async function choiceCookie(context: BrowserContext): Promise<(StoredChoice & { expires: number }) | undefined> {
  const cookie = (await context.cookies()).find((c) => c.name === CONSENT_COOKIE);
  if (!cookie) return undefined;
  return { ...(JSON.parse(Buffer.from(cookie.value, 'base64url').toString('utf8')) as StoredChoice), expires: cookie.expires };
}

const statisticsRan = (page: Page) => page.evaluate(() => (window as Window & { demoStatisticsRan?: number }).demoStatisticsRan ?? 0);

// ---------------------------------------------------------------------------------------------
// Server and database helpers

async function admin(method: string, path: string, body?: unknown): Promise<globalThis.Response> {
  return fetch(`${server.url}/v1/sites/${SITE}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The config the server hands out now (straight from the server: no browser cache involved). */
async function serverConfig(): Promise<CookieConfig> {
  const res = await fetch(`${server.url}/v1/sites/${SITE}/config?lang=en`);
  assert.equal(res.status, 200);
  return (await res.json()) as CookieConfig;
}

/** Polls until `check` holds (the server caches the config for up to 5 s). */
async function eventually<T>(what: string, get: () => Promise<T>, check: (value: T) => boolean, ms = 7_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (check(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface EventRow {
  seq: number;
  purpose: string;
  action: string;
  occurredAt: number;
  wordingVersionId: string;
  wordingVersion: number;
  wordingStatus: string;
  /** The purpose's current (published) wording version id, now. */
  currentVersionId: string;
  subjectId: string | null;
  evidence: Evidence;
}

/** The ledger's events for one consent id, through the running server's database client. */
async function eventsOf(consentId: string): Promise<EventRow[]> {
  const result = await server.database.client.execute({
    sql: `SELECT e.seq, p.key AS purpose, e.action, e.occurred_at, e.wording_version_id, w.version, w.status,
                 p.current_version_id, e.subject_id, e.evidence
            FROM consent_events e
            JOIN purposes p ON p.id = e.purpose_id
            LEFT JOIN wording_versions w ON w.id = e.wording_version_id
           WHERE e.site_id = ? AND e.visitor_id = ?
           ORDER BY e.seq`,
    args: [SITE, consentId],
  });
  return result.rows.map((r) => ({
    seq: Number(r.seq),
    purpose: String(r.purpose),
    action: String(r.action),
    occurredAt: Number(r.occurred_at),
    wordingVersionId: String(r.wording_version_id),
    wordingVersion: Number(r.version),
    wordingStatus: String(r.status),
    currentVersionId: String(r.current_version_id),
    subjectId: r.subject_id === null ? null : String(r.subject_id),
    evidence: openEvidence(server.services.crypto, String(r.evidence)).evidence,
  }));
}

/**
 * The events of the latest recorded choice of `consentId`: one per optional category plus the
 * banner's text, recorded together, each naming the wording version published now.
 */
async function latestChoice(consentId: string): Promise<Map<string, EventRow>> {
  const all = await eventsOf(consentId);
  const last = all.filter((e) => e.occurredAt === all.at(-1)?.occurredAt);
  assert.deepEqual(last.map((e) => e.purpose).sort(), [...OPTIONAL, 'cookie-banner'].sort(), 'one event per optional category and one for the banner text');
  for (const e of last) {
    assert.equal(e.subjectId, null, 'a visitor is never a subject');
    assert.equal(e.wordingStatus, 'published');
    assert.equal(e.wordingVersionId, e.currentVersionId, `${e.purpose}: names the wording version published now`);
  }
  return new Map(last.map((e) => [e.purpose, e]));
}

function assertActions(events: Map<string, EventRow>, expected: Record<(typeof OPTIONAL)[number], 'grant' | 'withdraw'>): void {
  const actual = Object.fromEntries(OPTIONAL.map((k) => [k, events.get(k)!.action]));
  assert.deepEqual(actual, expected);
  const banner = events.get('cookie-banner')!.action;
  assert.equal(banner, Object.values(expected).includes('grant') ? 'grant' : 'withdraw', 'the banner text event');
}

/** Evidence without personal data: page without query or fragment, IP truncated, user agent hashed. */
async function assertEvidence(page: Page, events: Map<string, EventRow>, gpc: boolean, revision: string): Promise<void> {
  const userAgent = await page.evaluate(() => navigator.userAgent);
  const uaHash = createHash('sha256').update(userAgent).digest('hex').slice(0, 32);
  for (const { evidence, purpose } of events.values()) {
    assert.equal(evidence.pageUrl, `${server.url}/`, `${purpose}: page URL without query or fragment`);
    assert.equal(evidence.gpc, gpc, `${purpose}: GPC flag`);
    assert.equal(evidence.revision, revision);
    assert.match(evidence.ip ?? '', /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.0|[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/48)$/, `${purpose}: truncated IP`);
    assert.equal(evidence.userAgentHash, uaHash, `${purpose}: hashed user agent`);
    const stored = JSON.stringify(evidence);
    assert.ok(!stored.includes(userAgent) && !stored.includes('utm_source') && !stored.includes('e2e@example.com'), 'no user agent, query or address stored');
  }
}

async function assertLedgerIntact(): Promise<void> {
  const reports = await verifyAll(server.database.db, server.services.crypto, SITE);
  assert.equal(reports.length, 1);
  assert.ok(reports[0]!.ok, `audit verify: ${JSON.stringify(reports[0]!.chains)}`);
}

// ---------------------------------------------------------------------------------------------

describe('cookie banner end to end: the demo page in Chromium against the real server', { timeout: 120_000 }, () => {
  test('accept all: banner closes, gated script runs, cookie set, a grant per category with its evidence', async () => {
    await withVisit({}, async ({ context, page }) => {
      // Query and fragment on purpose: they must not reach the evidence.
      await openDemo(page, '/?utm_source=e2e&email=e2e@example.com#top');
      assert.equal(await statisticsRan(page), 0, 'no gated script before consent');
      assert.equal(await choiceCookie(context), undefined, 'no choice cookie yet');
      assert.equal(await page.locator('#statistics-output').textContent(), '');

      const answer = await recorded(page, () => button(page, 'Accept all').click());
      assert.equal(answer.sent.pageUrl, `${server.url}/`, 'the widget sends the page URL without query or fragment');
      assert.equal(answer.sent.gpc, false);
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      await page.locator('#statistics-output', { hasText: 'The statistics script ran' }).waitFor({ timeout: WAIT });
      assert.equal(await statisticsRan(page), 1, 'the gated statistics script ran once');

      const cookie = await choiceCookie(context);
      assert.ok(cookie, 'choice cookie set');
      assert.equal(cookie.id, answer.consentId);
      assert.deepEqual([...cookie.cats].sort(), [...OPTIONAL].sort());
      const config = await serverConfig();
      assert.equal(cookie.rev, config.revision);
      const days = (cookie.expires * 1000 - Date.now()) / 864e5;
      assert.ok(days > 181 && days <= 182, `cookie kept for the site's 182 days (${days.toFixed(2)})`);

      const events = await latestChoice(cookie.id);
      assertActions(events, { preferences: 'grant', statistics: 'grant', marketing: 'grant' });
      for (const k of config.categories.filter((c) => !c.required)) {
        assert.equal(events.get(k.key)!.wordingVersion, k.version, `${k.key}: the version the banner showed`);
      }
      await assertEvidence(page, events, false, config.revision);
      await assertLedgerIntact();
    });
  });

  test('reject all: nothing gated runs, a withdraw per category', async () => {
    await withVisit({}, async ({ context, page }) => {
      await openDemo(page);
      const answer = await recorded(page, () => button(page, 'Reject all').click());
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      assert.equal(await statisticsRan(page), 0, 'the statistics script did not run');
      assert.equal(await page.locator('script[type="text/plain"][data-category="statistics"]').count(), 1, 'still inert');
      assert.equal(await page.locator('iframe[data-category="marketing"]').getAttribute('src'), null, 'the video is not loaded');
      assert.equal(await page.locator('#statistics-output').textContent(), '');
      const cookie = await choiceCookie(context);
      assert.ok(cookie);
      assert.deepEqual(cookie.cats, []);
      const events = await latestChoice(answer.consentId);
      assertActions(events, { preferences: 'withdraw', statistics: 'withdraw', marketing: 'withdraw' });
      await assertEvidence(page, events, false, (await serverConfig()).revision);
      await assertLedgerIntact();
    });
  });

  test('customise: only statistics on', async () => {
    await withVisit({}, async ({ context, page }) => {
      await openDemo(page);
      await button(page, 'Customize').click();
      const statistics = page.getByRole('switch', { name: 'Statistics' });
      await statistics.waitFor({ timeout: WAIT });
      assert.equal(await page.getByRole('switch', { name: 'Necessary' }).isDisabled(), true, 'necessary is always on');
      assert.equal(await page.getByRole('switch', { name: 'Necessary' }).isChecked(), true);
      for (const name of ['Preferences', 'Statistics', 'Marketing']) {
        assert.equal(await page.getByRole('switch', { name }).isChecked(), false, `${name} off until chosen`);
      }
      await statistics.check();
      const answer = await recorded(page, () => button(page, 'Save choices').click());
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      await page.locator('#statistics-output', { hasText: 'The statistics script ran' }).waitFor({ timeout: WAIT });
      assert.equal(await page.locator('iframe[data-category="marketing"]').getAttribute('src'), null, 'marketing stays off');
      assert.deepEqual((await choiceCookie(context))?.cats, ['statistics']);
      const events = await latestChoice(answer.consentId);
      assertActions(events, { preferences: 'withdraw', statistics: 'grant', marketing: 'withdraw' });
      await assertLedgerIntact();
    });
  });

  test('Global Privacy Control: the note is shown, accept all leaves marketing off, the proof records it', async () => {
    const options: VisitOptions = {
      extraHTTPHeaders: { 'Sec-GPC': '1' },
      initScript: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });`,
    };
    await withVisit(options, async ({ context, page }) => {
      const configResponse = page.waitForResponse((r) => new URL(r.url()).pathname === `/v1/sites/${SITE}/config`, { timeout: WAIT });
      await openDemo(page);
      assert.equal(((await (await configResponse).json()) as CookieConfig).gpc, true, 'the server saw Sec-GPC: 1');
      assert.equal(await page.evaluate(() => (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl), true);
      await page.getByText('Marketing is off: your browser sends Global Privacy Control.').waitFor({ timeout: WAIT });

      const answer = await recorded(page, () => button(page, 'Accept all').click());
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      await page.locator('#statistics-output', { hasText: 'The statistics script ran' }).waitFor({ timeout: WAIT });
      assert.equal(await page.locator('iframe[data-category="marketing"]').getAttribute('src'), null, 'the marketing video stays gated');
      assert.deepEqual([...((await choiceCookie(context))?.cats ?? [])].sort(), ['preferences', 'statistics']);
      const events = await latestChoice(answer.consentId);
      assertActions(events, { preferences: 'grant', statistics: 'grant', marketing: 'withdraw' });
      await assertEvidence(page, events, true, (await serverConfig()).revision);
      await assertLedgerIntact();
    });
  });

  test('keyboard: focus moves into the banner, Tab reaches the three buttons in order, Enter on "Reject all" works', async () => {
    await withVisit({}, async ({ page }) => {
      await openDemo(page);
      const focusedPart = () =>
        page.evaluate(() => {
          const banner = document.querySelector('consent-banner');
          if (document.activeElement !== banner) return `outside: ${document.activeElement?.tagName}`;
          const el = banner!.shadowRoot!.activeElement;
          return el?.getAttribute('part') ?? el?.getAttribute('role') ?? 'nothing';
        });
      await page.waitForFunction(() => document.activeElement === document.querySelector('consent-banner'), undefined, { timeout: WAIT });
      assert.equal(await focusedPart(), 'dialog', 'the dialog itself has focus on open');
      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        await page.keyboard.press('Tab');
        order.push(await focusedPart());
      }
      assert.deepEqual(order, ['button accept', 'button reject', 'button customize', 'button accept'], 'Tab cycles within the banner');
      await page.keyboard.press('Shift+Tab');
      assert.equal(await focusedPart(), 'button customize', 'Shift+Tab cycles backwards');
      await page.keyboard.press('Shift+Tab');
      assert.equal(await focusedPart(), 'button reject');
      const answer = await recorded(page, () => page.keyboard.press('Enter'));
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      assertActions(await latestChoice(answer.consentId), { preferences: 'withdraw', statistics: 'withdraw', marketing: 'withdraw' });
    });
  });

  test('settings button: reopens the choices; withdrawing statistics records it and deletes its listed cookie', async () => {
    // List a statistics cookie (the default categories list none) and wait until the config has it.
    const patched = await admin('PATCH', '/purposes/statistics', {
      cookies: [{ name: 'e2e_stats*', provider: 'This website', purpose: 'E2E statistics cookie', duration: 'session' }],
    });
    assert.equal(patched.status, 200, await patched.text());
    await eventually('the listed cookie in the config', serverConfig, (c) => c.categories.some((k) => k.cookies.some((x) => x.name === 'e2e_stats*')));

    await withVisit({}, async ({ context, page }) => {
      await openDemo(page);
      const first = await recorded(page, () => button(page, 'Accept all').click());
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      await page.evaluate(() => {
        document.cookie = 'e2e_stats_id=1; Path=/';
        document.cookie = 'e2e_unlisted=1; Path=/';
      });
      assert.ok((await context.cookies()).some((c) => c.name === 'e2e_stats_id'));

      await button(page, 'Cookie settings').click();
      await dialog(page).waitFor({ state: 'visible', timeout: WAIT });
      const statistics = page.getByRole('switch', { name: 'Statistics' });
      assert.equal(await statistics.isChecked(), true, 'the switches show the current choice');
      await statistics.uncheck();
      const second = await recorded(page, () => button(page, 'Save choices').click());
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      assert.equal(second.consentId, first.consentId, 'the same consent id');

      const names = (await context.cookies()).map((c) => c.name);
      assert.ok(!names.includes('e2e_stats_id'), `the listed statistics cookie is deleted (${names.join(', ')})`);
      assert.ok(names.includes('e2e_unlisted'), 'other cookies are left alone');
      assert.deepEqual([...((await choiceCookie(context))?.cats ?? [])].sort(), ['marketing', 'preferences']);
      assertActions(await latestChoice(first.consentId), { preferences: 'grant', statistics: 'withdraw', marketing: 'grant' });
      const statisticsEvents = (await eventsOf(first.consentId)).filter((e) => e.purpose === 'statistics').map((e) => e.action);
      assert.deepEqual(statisticsEvents, ['grant', 'withdraw'], 'granted, then withdrawn');
      await assertLedgerIntact();
    });
  });

  test('the gated video: its placeholder button loads the iframe and records a grant for marketing', async () => {
    await withVisit({}, async ({ context, page }) => {
      await openDemo(page);
      const placeholder = page.locator('button[data-samtykke-placeholder="marketing"]');
      assert.equal(await placeholder.textContent(), 'Allow Marketing cookies to load this content');
      const answer = await recorded(page, () => placeholder.click());
      await page.locator('iframe[title="Demo video"][src="/video.html"]').waitFor({ timeout: WAIT });
      await page.frameLocator('iframe[title="Demo video"]').getByText('A third-party video player would load here').waitFor({ timeout: WAIT });
      assert.equal(await placeholder.count(), 0, 'the placeholder is gone');
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      assert.equal(await statisticsRan(page), 0, 'only marketing was asked for');
      assert.deepEqual((await choiceCookie(context))?.cats, ['marketing']);
      assertActions(await latestChoice(answer.consentId), { preferences: 'withdraw', statistics: 'withdraw', marketing: 'grant' });
    });
  });

  test('first visit: one request for the script and one for the config; a repeat visit gets the config from the cache or a 304', async () => {
    await withVisit({}, async ({ context, page }) => {
      const paths = ['/samtykke.js', `/v1/sites/${SITE}/config`];
      const requests: string[] = [];
      page.on('request', (r) => {
        const path = new URL(r.url()).pathname;
        if (paths.includes(path)) requests.push(path);
      });
      // What the browser itself reports about each response (cache, revalidation).
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      const fromCache = new Set<string>();
      const network: { id: string; path: string; status: number; diskCache: boolean }[] = [];
      cdp.on('Network.requestServedFromCache', (e) => fromCache.add(e.requestId));
      cdp.on('Network.responseReceived', (e) => {
        const path = new URL(e.response.url).pathname;
        if (paths.includes(path)) network.push({ id: e.requestId, path, status: e.response.status, diskCache: !!e.response.fromDiskCache });
      });

      await openDemo(page);
      await page.waitForLoadState('networkidle');
      assert.deepEqual(requests.sort(), [...paths].sort(), 'exactly one request each on a first visit');
      assert.deepEqual(
        network.map((n) => [n.path, n.status, n.diskCache || fromCache.has(n.id)]).sort(),
        paths.map((p) => [p, 200, false]).sort(),
        'both came from the server',
      );

      requests.length = 0;
      network.length = 0;
      await openDemo(page); // the visitor has not chosen yet, so the banner shows again
      await page.waitForLoadState('networkidle');
      const config = network.filter((n) => n.path === `/v1/sites/${SITE}/config`);
      assert.equal(config.length, 1, 'one config request on the repeat visit');
      assert.ok(config[0]!.diskCache || fromCache.has(config[0]!.id) || config[0]!.status === 304, `config from the cache or a 304: ${JSON.stringify(config[0])}`);
    });
  });

  // Last: it publishes a new wording, which the other tests would then see.
  test('a changed wording asks again, and the new choice names the new version', async () => {
    const before = await serverConfig();
    let oldCookies: Awaited<ReturnType<BrowserContext['cookies']>> = [];
    let consentId = '';
    await withVisit({}, async ({ context, page }) => {
      await openDemo(page);
      consentId = (await recorded(page, () => button(page, 'Accept all').click())).consentId;
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      oldCookies = await context.cookies();
    });
    // Control: while the wording is unchanged, a page load with that cookie does not ask.
    await withVisit({}, async ({ context, page }) => {
      await context.addCookies(oldCookies);
      const config = page.waitForResponse((r) => new URL(r.url()).pathname === `/v1/sites/${SITE}/config`, { timeout: WAIT });
      await page.goto(`${server.url}/`);
      assert.equal((await (await config).json() as CookieConfig).revision, before.revision);
      await page.waitForLoadState('networkidle');
      assert.equal(await dialog(page).count(), 0, 'not asked again while the wording is unchanged');
      assert.equal(await statisticsRan(page), 1, 'the stored choice applies at once');
    });

    const newBody = 'Help us understand how the website is used (visits and pages, counted without names), so we can make it better.';
    const draft = await admin('POST', '/purposes/statistics/wordings', { texts: { en: { title: 'Statistics', body: newBody } } });
    const draftText = await draft.text();
    assert.equal(draft.status, 201, draftText);
    const { version } = JSON.parse(draftText) as { version: number };
    assert.equal(version, 2);
    const published = await admin('POST', `/purposes/statistics/wordings/${version}/publish`);
    assert.equal(published.status, 200, await published.text());
    // The server caches the config for up to 5 s.
    const after = await eventually('the new revision', serverConfig, (c) => c.revision !== before.revision);
    assert.equal(after.categories.find((k) => k.key === 'statistics')!.version, 2);

    // A new context with the old choice cookie: the browser's own cache of the config is empty.
    await withVisit({}, async ({ context, page }) => {
      await context.addCookies(oldCookies);
      assert.equal((await choiceCookie(context))?.rev, before.revision);
      await openDemo(page);
      await button(page, 'Customize').click();
      await page.getByText(newBody).waitFor({ timeout: WAIT });
      assert.equal(await page.getByRole('switch', { name: 'Statistics' }).isChecked(), true, 'the earlier choice is the starting point');
      const answer = await recorded(page, () => button(page, 'Accept all').click());
      await dialog(page).waitFor({ state: 'hidden', timeout: WAIT });
      assert.equal(answer.consentId, consentId, 'the same consent id');
      assert.equal((await choiceCookie(context))?.rev, after.revision, 'the cookie names the new revision');
      const events = await latestChoice(consentId);
      assertActions(events, { preferences: 'grant', statistics: 'grant', marketing: 'grant' });
      assert.equal(events.get('statistics')!.wordingVersion, 2, 'the new choice names version 2');
      assert.equal(events.get('preferences')!.wordingVersion, 1);
      const history = (await eventsOf(consentId)).filter((e) => e.purpose === 'statistics').map((e) => e.wordingVersion);
      assert.deepEqual(history, [1, 2], 'the first choice still names version 1');
      await assertLedgerIntact();
    });
  });
});
