/**
 * Send-check benchmark (`npm run bench:check`).
 *
 * Seeds a fresh database file with N subjects (default 1,000,000) of site `bench` and their
 * e-marketing state (80% granted, 10% withdrawn, 10% nothing; 1% on an imported list), with
 * direct multi-row inserts, then starts the real server (check-server.ts, its own process)
 * and measures, in one run:
 *  - single: GET /check at 50 concurrent connections (autocannon), against a bare Hono route
 *    in the same server process (target: ≥ 50% of its requests/s); p50 and p99;
 *  - csv: 1,000,000 rows streamed through POST /check.csv (target: ≤ 10 s, server peak RSS ≤ 250 MB);
 *  - bulk: batches of 100,000 contacts through POST /check (target: ≥ 200,000 contacts/s), each timed
 *    from sending it to the last byte of its answer.
 * 90% of checked addresses exist, 10% are unknown. Missing a target is reported, not an error;
 * a wrong answer (non-2xx, a row count that does not match) exits non-zero.
 *
 * On a machine with few cores the load generator (this process), the server and anything
 * else running share them: compare figures only within one run (hence the same-run bare
 * route), and read the server's CPU time per request or contact, which load elsewhere
 * disturbs far less than requests per second.
 *
 * Options: --subjects N, --csv-rows N, --batches N (bulk batches, default 5), --seconds S
 * (per single-check round, default 5), --rounds N (default 3), --db FILE (keep the seeded database there and reuse
 * it next time), --only single,csv,bulk (the parts to run). BENCH_SERVER_NODE_ARGS: extra node flags
 * for the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). Use small sizes while developing:
 *   npm run bench:check -- --subjects 100000 --csv-rows 100000 --batches 2 --seconds 2
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon, { type Result } from 'autocannon';
import { createClient, type InValue } from '@libsql/client';
import { createServices } from '../../server/app';
import { migrate, openDatabase } from '../../server/db/client';
import { SERVER_NODE_FLAGS } from '../../server/main';
import { createSite } from '../../server/services/sites';
import type { CheckServerMessage } from './check-server';

const { values } = parseArgs({
  options: {
    subjects: { type: 'string', default: process.env.BENCH_SUBJECTS ?? '1000000' },
    'csv-rows': { type: 'string', default: process.env.BENCH_CSV_ROWS ?? '1000000' },
    batches: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    db: { type: 'string' },
    only: { type: 'string', default: 'single,csv,bulk' },
  },
});
const ONLY = new Set(values.only.split(','));
const SUBJECTS = Number(values.subjects);
const CSV_ROWS = ONLY.has('csv') ? Number(values['csv-rows']) : 0;
const BATCHES = ONLY.has('bulk') ? Number(values.batches) : 0;
const SECONDS = Number(values.seconds);
const ROUNDS = ONLY.has('single') ? Number(values.rounds) : 0;
const BATCH = 100_000;
const CONNECTIONS = 50;
const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const SITE = 'bench';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** 90% existing subjects, 10% unknown addresses. */
const address = (i: number) => (i % 10 === 9 ? `unknown${i}@example.org` : `user${(i * 7919) % SUBJECTS}@example.dk`);

async function seed(url: string): Promise<string> {
  const t0 = performance.now();
  const database = await openDatabase({ url });
  await migrate(database);
  const services = createServices({ database, secret: SECRET });
  const { key } = await createSite(services, { id: SITE, name: 'Bench' }, 'bench', { name: 'bench', scopes: ['check', 'admin'] });
  const p = await database.client.execute("SELECT id, current_version_id FROM purposes WHERE site_id = ? AND key = 'e-marketing'", [SITE]);
  const s = await database.client.execute("SELECT id FROM sources WHERE site_id = ? AND key = 'import'", [SITE]);
  const purposeId = String(p.rows[0]!.id);
  const versionId = String(p.rows[0]!.current_version_id);
  const sourceId = String(s.rows[0]!.id);
  const crypto = services.crypto;
  database.close();

  const client = createClient({ url, concurrency: 1 });
  await client.execute('PRAGMA synchronous=OFF');
  const now = Date.now();
  const CHUNK = 300;
  for (let start = 0; start < SUBJECTS; start += 50_000) {
    const tx = await client.transaction('write');
    for (let i = start; i < Math.min(SUBJECTS, start + 50_000); i += CHUNK) {
      const subjects: InValue[] = [];
      const states: InValue[] = [];
      const suppressions: InValue[] = [];
      let nStates = 0;
      let nSupp = 0;
      const end = Math.min(SUBJECTS, i + CHUNK, start + 50_000);
      for (let j = i; j < end; j++) {
        const id = `s${String(j).padStart(21, '0')}`;
        const bidx = crypto.blindIndex(SITE, 'email', `user${j}@example.dk`);
        // Check never decrypts; a placeholder keeps seeding fast.
        subjects.push(id, SITE, 'v1.bench-placeholder', bidx, now, now);
        const kind = j % 10;
        if (kind < 9) {
          states.push(id, purposeId, kind < 8 ? 'granted' : 'withdrawn', versionId, sourceId, j + 1, now);
          nStates++;
        }
        if (j % 100 === 7) {
          suppressions.push(SITE, 'email', bidx, 'listed', 'robinson', null, now);
          nSupp++;
        }
      }
      const rows = (n: number, w: number) => Array(n).fill(`(${Array(w).fill('?').join(',')})`).join(',');
      await tx.execute({ sql: `INSERT INTO subjects (id, site_id, email_enc, email_bidx, created_at, updated_at) VALUES ${rows(end - i, 6)}`, args: subjects });
      if (nStates) {
        await tx.execute({
          sql: `INSERT INTO consent_states (subject_id, purpose_id, status, wording_version_id, source_id, event_id, updated_at) VALUES ${rows(nStates, 7)}`,
          args: states,
        });
      }
      if (nSupp) {
        await tx.execute({ sql: `INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES ${rows(nSupp, 7)}`, args: suppressions });
      }
    }
    await tx.commit();
    process.stderr.write(`\rseeding: ${fmt(Math.min(SUBJECTS, start + 50_000))} / ${fmt(SUBJECTS)} subjects`);
  }
  await client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
  await client.execute('ANALYZE');
  client.close();
  process.stderr.write(`\rseeded ${fmt(SUBJECTS)} subjects in ${fmt((performance.now() - t0) / 1000, 1)} s\n`);
  return key!.secret;
}

interface Server {
  ready: Extract<CheckServerMessage, { type: 'ready' }>;
  /** Peak RSS (sampled in the server): overall, and since the previous call. */
  rss(): Promise<{ maxRssMb: number; rssMb: number; phaseMaxRssMb: number }>;
  /** The server process's CPU time so far (ms, user + system, all threads). */
  cpu(): Promise<number>;
  /** Builds the check index of the purpose; how long it took. */
  warm(purpose: string): Promise<{ ready: boolean; seconds: number }>;
  stop(): Promise<void>;
}

async function startChild(url: string): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./check-server.ts', import.meta.url)), [], {
    // The flags the `samtykke` command runs the server with.
    execArgv: ['--import', 'tsx', ...SERVER_NODE_FLAGS, ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    env: { ...process.env, BENCH_DATABASE_URL: url, BENCH_SECRET: SECRET },
  });
  const next = <T extends CheckServerMessage['type']>(type: T) =>
    new Promise<Extract<CheckServerMessage, { type: T }>>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`server exited (${code})`));
      const onMessage = (m: CheckServerMessage) => {
        if (m.type === type) {
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m as Extract<CheckServerMessage, { type: T }>);
        }
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready');
  return {
    ready,
    async rss() {
      const m = next('rss');
      child.send({ type: 'rss' });
      return m;
    },
    async cpu() {
      const m = next('cpu');
      child.send({ type: 'cpu' });
      const { userMs, systemMs } = await m;
      return userMs + systemMs;
    },
    async warm(purpose: string) {
      const m = next('warm');
      child.send({ type: 'warm', site: SITE, purpose });
      return m;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

async function load(url: string, key: string | undefined, path: (i: number) => string, seconds: number): Promise<{ rate: number; p50: number; p99: number; failed: number; requests: number }> {
  let i = 0;
  let first = 0;
  let last = 0;
  const instance = autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 20,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path(i++) }) }],
  });
  instance.on('response', () => {
    const t = performance.now();
    first ||= t;
    last = t;
  });
  const result: Result = await instance;
  return {
    rate: result['2xx'] / ((last - first) / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
    requests: result['2xx'] + result.non2xx,
  };
}

async function main() {
  // --db FILE keeps the seeded database (and its key, in FILE.key) for the next run.
  const dir = values.db ? undefined : mkdtempSync(join(tmpdir(), 'samtykke-bench-check-'));
  const file = values.db ?? join(dir!, 'check.db');
  const url = `file:${file}`;
  let failed = false;
  try {
    let key: string;
    if (values.db && existsSync(`${file}.key`)) {
      key = readFileSync(`${file}.key`, 'utf8').trim();
      process.stderr.write(`reusing ${file}\n`);
    } else {
      key = await seed(url);
      if (values.db) writeFileSync(`${file}.key`, key);
    }
    const server = await startChild(url);
    try {
      const checkPath = (i: number) => `/v1/sites/${SITE}/check?purpose=e-marketing&email=${encodeURIComponent(address(i))}`;
      // The check index first (a server builds it in the background on a purpose's first check, reading the database meanwhile).
      const rssBeforeIndex = await server.rss();
      const warm = await server.warm('e-marketing');
      const rssAfterIndex = await server.rss();
      // Warm both up.
      await load(server.ready.bareUrl, undefined, () => '/check', 1);
      await load(server.ready.url, key, checkPath, 1);
      const bare: Awaited<ReturnType<typeof load>>[] = [];
      const app: Awaited<ReturnType<typeof load>>[] = [];
      // Server CPU per request (µs), per round.
      const bareCpu: number[] = [];
      const appCpu: number[] = [];
      const loadAtStart = loadavg()[0]!;
      for (let r = 0; r < ROUNDS; r++) {
        let c0 = await server.cpu();
        bare.push(await load(server.ready.bareUrl, undefined, () => '/check', SECONDS));
        bareCpu.push(((await server.cpu()) - c0) * 1000 / bare.at(-1)!.requests);
        c0 = await server.cpu();
        app.push(await load(server.ready.url, key, (i) => checkPath(i + r * 1_000_003), SECONDS));
        appCpu.push(((await server.cpu()) - c0) * 1000 / app.at(-1)!.requests);
      }
      if ([...bare, ...app].some((x) => x.failed > 0)) {
        failed = true;
        console.error('single: some requests failed', app.map((a) => a.failed));
      }
      const afterSingle = await server.rss();
      const bareRate = median(bare.map((b) => b.rate));
      const appRate = median(app.map((a) => a.rate));
      const ratio = appRate / bareRate;

      // CSV: generated as it is sent, read as it comes back.
      await server.rss(); // starts the CSV's own peak
      const csvCpu0 = await server.cpu();
      const csvStart = performance.now();
      async function* csvInput() {
        yield 'name,email\r\n';
        for (let i = 0; i < CSV_ROWS; i += 10_000) {
          let s = '';
          for (let j = i; j < Math.min(CSV_ROWS, i + 10_000); j++) s += `Person ${j},${address(j)}\r\n`;
          yield Buffer.from(s);
        }
      }
      const csvRes = await fetch(`${server.ready.url}/v1/sites/${SITE}/check.csv?purpose=e-marketing`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
        body: Readable.toWeb(Readable.from(csvInput())) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      let lines = 0;
      const reasons: Record<string, number> = {};
      let tail = '';
      for await (const chunk of csvRes.body! as unknown as AsyncIterable<Uint8Array>) {
        const text = tail + Buffer.from(chunk).toString('utf8');
        const parts = text.split('\r\n');
        tail = parts.pop()!;
        for (const line of parts) {
          lines++;
          const reason = line.slice(line.lastIndexOf(',') + 1);
          reasons[reason] = (reasons[reason] ?? 0) + 1;
        }
      }
      const csvSeconds = (performance.now() - csvStart) / 1000;
      const csvCpuUs = ((await server.cpu()) - csvCpu0) * 1000 / CSV_ROWS;
      const afterCsv = await server.rss();
      if (csvRes.status !== 200 || lines !== CSV_ROWS + 1) {
        failed = true;
        console.error(`csv: status ${csvRes.status}, ${lines} lines for ${CSV_ROWS} rows`);
      }

      // Bulk: batches of 100,000.
      const bulkTimes: number[] = [];
      let bulkAllowed = 0;
      let bulkCpu0 = 0;
      let bulkWarmup = 0;
      // One batch first, not counted (as the single checks are warmed up): the first bulk
      // check starts the hashing worker thread, and its code is compiled while it runs.
      for (let b = BATCHES > 0 ? -1 : 0; b < BATCHES; b++) {
        if (b === 0) bulkCpu0 = await server.cpu();
        const contacts = Array.from({ length: BATCH }, (_, i) => ({ email: address((b + 1) * BATCH + i + 17) }));
        const body = JSON.stringify({ purpose: 'e-marketing', contacts });
        const t0 = performance.now();
        const res = await fetch(`${server.ready.url}/v1/sites/${SITE}/check`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body,
        });
        // Timed to the answer's last byte: what the server delivers. Parsing 10 MB of JSON here
        // is the load generator's own work (it shares the cores), so it comes after.
        const text = await res.text();
        const seconds = (performance.now() - t0) / 1000;
        const answer = JSON.parse(text) as { results: unknown[]; counts: { allowed: number } };
        if (res.status !== 200 || answer.results.length !== BATCH) {
          failed = true;
          console.error(`bulk: status ${res.status}`);
        }
        if (b < 0) {
          bulkWarmup = seconds;
          continue;
        }
        bulkTimes.push(seconds);
        bulkAllowed += answer.counts?.allowed ?? 0;
      }
      const bulkRate = (BATCH * BATCHES) / bulkTimes.reduce((a, b) => a + b, 0);
      const bulkCpuUs = ((await server.cpu()) - bulkCpu0) * 1000 / (BATCH * BATCHES);
      const afterBulk = await server.rss();

      const row = (label: string, value: string, target: string, met: boolean) => `| ${label} | ${value} | ${target} | ${met ? 'met' : '**not met**'} |`;
      console.log(
        `\nbench:check — ${fmt(SUBJECTS)} subjects seeded; ${availableParallelism()} cores shared by the server, this load generator and anything else running; ` +
          `Node ${process.versions.node}; 1-minute load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`,
      );
      console.log('| | figure | target | |');
      console.log('|---|---|---|---|');
      // Rows only for the parts that ran (--only).
      const single = ONLY.has('single');
      const csv = ONLY.has('csv');
      const bulk = ONLY.has('bulk');
      if (single) {
        console.log(
          `| bare Hono route, 50 connections (median of ${ROUNDS} × ${SECONDS} s) | ${fmt(bareRate)} req/s (p50 ${median(bare.map((b) => b.p50))} ms, p99 ${median(bare.map((b) => b.p99))} ms; server CPU ${fmt(median(bareCpu))} µs/request) | | |`,
        );
        console.log(
          `| GET /check, 50 connections | ${fmt(appRate)} req/s (p50 ${median(app.map((a) => a.p50))} ms, p99 ${median(app.map((a) => a.p99))} ms; server CPU ${fmt(median(appCpu))} µs/request) | | |`,
        );
        console.log(row('single check / bare route', `${fmt(ratio, 2)}× (server CPU per request: ${fmt(median(bareCpu) / median(appCpu), 2)}×)`, '≥ 0.50×', ratio >= 0.5));
      }
      if (bulk) {
        console.log(
          row(
            `POST /check, ${BATCHES} × ${fmt(BATCH)} contacts`,
            `${fmt(bulkRate)} contacts/s (${bulkTimes.map((t) => t.toFixed(2)).join(', ')} s per batch, after a first batch of ${bulkWarmup.toFixed(2)} s not counted; server CPU ${fmt(bulkCpuUs, 1)} µs/contact, all threads)`,
            '≥ 200,000/s',
            bulkRate >= 200_000,
          ),
        );
      }
      if (csv) {
        console.log(
          row(`POST /check.csv, ${fmt(CSV_ROWS)} rows`, `${fmt(csvSeconds, 1)} s (${fmt(CSV_ROWS / csvSeconds)} rows/s; server CPU ${fmt(csvCpuUs, 1)} µs/row, all threads)`, '≤ 10 s', csvSeconds <= 10),
        );
      }
      console.log(
        `| check index of e-marketing built | ${warm.ready ? `${fmt(warm.seconds, 1)} s; server RSS ${fmt(rssBeforeIndex.rssMb)} → ${fmt(rssAfterIndex.rssMb)} MB (peak ${fmt(rssAfterIndex.phaseMaxRssMb)} MB)` : 'not built (CHECK_INDEX=off or no local file)'} | | |`,
      );
      if (single) console.log(`| server peak RSS during the single checks (sampled every 10 ms) | ${fmt(afterSingle.maxRssMb)} MB | | |`);
      if (csv) console.log(row('server peak RSS during the CSV', `${fmt(afterCsv.phaseMaxRssMb)} MB (process peak so far ${fmt(afterCsv.maxRssMb)} MB)`, '≤ 250 MB', afterCsv.maxRssMb <= 250));
      if (bulk) console.log(`| server peak RSS during bulk | ${fmt(afterBulk.phaseMaxRssMb)} MB | | |`);
      if (csv || bulk) console.log(`\ncsv reasons: ${JSON.stringify(reasons)}; bulk allowed ${fmt(bulkAllowed)} of ${fmt(BATCH * BATCHES)}`);
    } finally {
      await server.stop();
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exit(1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
