/**
 * `npm run bench:widget`: the cookie banner's budgets, measured against
 * vanilla-cookieconsent 3.1 (installed as a devDependency for this benchmark only) in
 * the same run.
 *  - Bytes: the script-tag bundle (JS with its CSS and every language), brotli 11,
 *    against vanilla-cookieconsent's UMD script plus its stylesheet.
 *  - Time to banner visible: median of 11 fresh loads (new browser context, empty
 *    cache) each, from localhost, in headless Chromium, interleaved, after one untimed
 *    load of each.
 *  - Requests on a first and a repeat visit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { chromium, type Browser } from 'playwright-core';
import { createApp, createServices } from '../../server/app';
import { migrate, openDatabase } from '../../server/db/client';
import { createSite } from '../../server/services/sites';

const root = new URL('../../', import.meta.url).pathname;
const LOADS = 11;
const CHROME = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

const brotli = (file: string) => brotliCompressSync(readFileSync(file), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).byteLength;
const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  if (!existsSync(join(root, 'dist/widget/samtykke.js'))) execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  const vanillaDir = join(root, 'node_modules/vanilla-cookieconsent/dist');
  const ours = brotli(join(root, 'dist/widget/samtykke.js'));
  const oursIife = brotli(join(root, 'dist/widget/samtykke.iife.js'));
  const theirs = brotli(join(vanillaDir, 'cookieconsent.umd.js')) + brotli(join(vanillaDir, 'cookieconsent.css'));

  // The real server on a fresh database, plus the two benchmark pages and vanilla's files.
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-bench-widget-'));
  const database = await openDatabase({ url: `file:${join(dir, 'bench.db')}` });
  await migrate(database);
  const secret = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';
  await createSite(createServices({ database, secret }), { id: 'bench', name: 'Bench', defaultLanguage: 'en' }, 'bench');
  const { app } = createApp({ database, secret });
  const outer = new Hono();
  const page = (name: string) => readFileSync(join(root, 'test/bench/pages', name), 'utf8');
  outer.get('/bench/ours.html', (c) => c.html(page('ours.html')));
  outer.get('/bench/vanilla.html', (c) => c.html(page('vanilla.html')));
  outer.get('/vendor/:file', (c) => {
    const file = c.req.param('file');
    if (!/^cookieconsent\.(esm\.js|umd\.js|css)$/.test(file)) return c.notFound();
    return c.body(readFileSync(join(vanillaDir, file), 'utf8'), 200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
  });
  outer.route('/', app as unknown as Hono);
  const server = serve({ fetch: outer.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const browser = await chromium.launch({ executablePath: CHROME, headless: true, args: ARGS });
  try {
    // One untimed load of each first: our server compresses a bundle on its first request and
    // starts with cold caches, which no visitor after the very first one waits for.
    for (const which of ['ours', 'vanilla'] as const) await timeToBanner(browser, `${base}/bench/${which}.html`, which);
    const times = { ours: [] as number[], vanilla: [] as number[] };
    for (let i = 0; i < LOADS; i++) {
      for (const which of i % 2 ? (['vanilla', 'ours'] as const) : (['ours', 'vanilla'] as const)) {
        times[which].push(await timeToBanner(browser, `${base}/bench/${which}.html`, which));
      }
    }
    const requests = await countRequests(browser, `${base}/bench/ours.html`);
    const tOurs = median(times.ours);
    const tVanilla = median(times.vanilla);
    console.log('Cookie banner budgets (same run)');
    console.log(`  bytes, brotli:  samtykke.js ${kb(ours)} (iife ${kb(oursIife)}) | vanilla-cookieconsent 3.1 js+css ${kb(theirs)} | ratio ${(ours / theirs).toFixed(2)} | budget ≤ 10 KB: ${ours <= 10_000 ? 'met' : 'MISSED'}`);
    console.log(`  time to banner, median of ${LOADS} fresh loads: samtykke ${tOurs.toFixed(1)} ms | vanilla-cookieconsent ${tVanilla.toFixed(1)} ms | ratio ${(tOurs / tVanilla).toFixed(2)} | budget ≤ 0.6: ${tOurs / tVanilla <= 0.6 ? 'met' : 'MISSED'}`);
    console.log(`    samtykke runs: ${times.ours.map((t) => t.toFixed(0)).join(' ')}`);
    console.log(`    vanilla runs:  ${times.vanilla.map((t) => t.toFixed(0)).join(' ')}`);
    console.log(`  requests to our server: first visit ${requests.first.join(', ')} | repeat visit ${requests.repeat.join(', ') || 'none'}`);
  } finally {
    await browser.close();
    server.close();
    database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * In-page probe, as source text (a compiled function would carry the transpiler's
 * helpers into the page): records performance.now() at the first animation frame in
 * which the banner is visible.
 */
function bannerProbe(which: 'ours' | 'vanilla'): string {
  const selector =
    which === 'ours'
      ? `document.querySelector('consent-banner')?.shadowRoot?.querySelector('[role="dialog"], [role="region"]')`
      : `document.querySelector('#cc-main .cm')`;
  return `(() => {
    const visible = (el) => {
      if (!el) return false;
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && Number(s.opacity) > 0;
    };
    const tick = () => {
      if (visible(${selector})) window.__bannerAt = performance.now();
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })();`;
}

/** Milliseconds from navigation start to the first animation frame with the banner visible. */
async function timeToBanner(browser: Browser, url: string, which: 'ours' | 'vanilla'): Promise<number> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(bannerProbe(which));
  await page.goto(url);
  const at = await page.waitForFunction('window.__bannerAt', undefined, { timeout: 10_000 });
  const ms = (await at.jsonValue()) as number;
  await context.close();
  return ms;
}

/**
 * Requests for our files on a first visit and on a repeat visit in the same context, as the
 * browser reports them: "(cache)" marks one the HTTP cache answered without asking our server.
 */
async function countRequests(browser: Browser, url: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen: string[] = [];
  // Playwright reports a cached response as a 200 like any other; Chromium's own events tell them apart.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const fromCache = new Set<string>();
  const responses = new Map<string, { path: string; status: number; cached: boolean }>();
  cdp.on('Network.requestServedFromCache', (e) => fromCache.add(e.requestId));
  cdp.on('Network.responseReceived', (e) => {
    const path = new URL(e.response.url).pathname;
    if (!path.startsWith('/bench/')) responses.set(e.requestId, { path, status: e.response.status, cached: !!e.response.fromDiskCache });
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = responses.get(e.requestId);
    if (r) seen.push(`${r.path} ${r.status}${r.cached || fromCache.has(e.requestId) ? ' (cache)' : ''}`);
  });
  await page.goto(url);
  await page.waitForFunction(`!!document.querySelector('consent-banner')?.shadowRoot?.querySelector('[role="dialog"], [role="region"]')`);
  const first = [...seen];
  seen.length = 0;
  await page.reload();
  await page.waitForTimeout(500);
  const repeat = [...seen];
  await context.close();
  return { first, repeat };
}

await main();
