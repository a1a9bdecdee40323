/**
 * Durable consent ingest benchmark (`npm run bench:ingest`).
 *
 * Compares, in one run on this machine:
 *  - direct: one row per transaction, inserted with @libsql/client into consent_events of
 *    a freshly migrated database file (WAL, `PRAGMA synchronous=FULL` on its only connection);
 *  - http: `POST /v1/sites/{site}/consents` against the real server (startServer, in a child
 *    process) at 50 concurrent keep-alive connections, driven by autocannon from this process.
 *    Every 201 is sent only after the transaction holding its event has committed; the server
 *    groups concurrent requests into one transaction (group commit).
 *
 * Target: http requests/s ≥ 1.5 × direct rows/s. Rounds alternate (direct, http, …) so both
 * see the same disk; each side reports its median. Exits non-zero when any request fails,
 * when the database does not hold exactly one event per 2xx, or when the writer is not
 * synchronous=FULL. Missing the target is reported, not an error (figures vary by machine).
 * Localhost only; stops by itself in well under two minutes.
 *
 * Knobs (environment): BENCH_ROUNDS (5), BENCH_DIRECT_SECONDS (3), BENCH_HTTP_SECONDS (4),
 * BENCH_SERVER_NODE_ARGS (extra node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { createClient, type Client } from '@libsql/client';
import { createServices } from '../../server/app';
import { migrate, openDatabase } from '../../server/db/client';
import { createSite } from '../../server/services/sites';
import type { ServerMessage } from './ingest-server';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DIRECT_SECONDS = Number(process.env.BENCH_DIRECT_SECONDS ?? 3);
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 4);
const WARMUP_REQUESTS_PER_CONNECTION = 10;
const CONNECTIONS = 50;
/** Share of requests that name someone already recorded (existing subject, state upsert). */
const REPEAT_SHARE = 0.1;
/** Share of requests that carry an Idempotency-Key (a fresh one each: no replays). */
const IDEMPOTENT_SHARE = 0.1;
const TARGET = 1.5;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

// ---------------------------------------------------------------------------------------
// Direct baseline

interface Direct {
  client: Client;
  seq: number;
  close(): void;
}

async function openDirect(dir: string): Promise<Direct> {
  const url = `file:${join(dir, 'direct.db')}`;
  // The real schema, and a real site row for the foreign key.
  const database = await openDatabase({ url });
  await migrate(database);
  await createSite(createServices({ database, secret: 'bench-direct-secret-0123456789abcdefghijklmnop' }), { id: 'bench', name: 'Bench' }, 'bench');
  database.close();
  // One connection, so the pragmas below hold for every statement.
  const client = createClient({ url, concurrency: 1 });
  await client.execute('PRAGMA journal_mode=WAL');
  await client.execute('PRAGMA synchronous=FULL');
  await client.execute('PRAGMA foreign_keys=ON');
  const sync = await client.execute('PRAGMA synchronous');
  if (Number(sync.rows[0]![0]) !== 2) throw new Error('direct baseline: PRAGMA synchronous is not FULL');
  return { client, seq: 0, close: () => client.close() };
}

const INSERT_EVENT =
  'INSERT INTO consent_events (site_id, seq, subject_id, purpose_id, action, wording_version_id, source_id, actor, occurred_at, evidence, evidence_hash, prev_hash, hash) ' +
  'VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)';

/** Rows of realistic size: ids, hashes and an evidence ciphertext like the server writes. */
function directArgs(direct: Direct, prevHash: string): (string | number)[] {
  const hash = randomBytes(32).toString('hex');
  return [
    'bench', ++direct.seq, randomBytes(16).toString('base64url'), 'purpose-id-0123456789', 'grant', 'wording-id-0123456789',
    'source-id-0123456789a', 'key:0123456789abcdefghijkl', Date.now(), `v1.${randomBytes(150).toString('base64url')}`,
    randomBytes(32).toString('hex'), prevHash, hash,
  ];
}

/** One autocommit INSERT per row, one after the other, for `seconds`. */
async function directRound(direct: Direct, seconds: number): Promise<number> {
  let prev = '0'.repeat(64);
  let rows = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    const args = directArgs(direct, prev);
    await direct.client.execute({ sql: INSERT_EVENT, args });
    prev = String(args[12]);
    rows++;
  }
  return rows / ((performance.now() - started) / 1000);
}

// ---------------------------------------------------------------------------------------
// HTTP path

interface ServerHandle {
  child: ChildProcess;
  ready: Extract<ServerMessage, { type: 'ready' }>;
  stats(): Promise<Extract<ServerMessage, { type: 'stats' }>>;
  stop(): Promise<void>;
}

async function startServerProcess(): Promise<ServerHandle> {
  const script = fileURLToPath(new URL('./ingest-server.ts', import.meta.url));
  const child = fork(script, [], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)], stdio: 'inherit' });
  const waiters: { resolve: (m: ServerMessage) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m: ServerMessage) => waiters.shift()?.resolve(m));
  child.on('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`the server process exited (${code})`));
  });
  const next = () => new Promise<ServerMessage>((resolve, reject) => waiters.push({ resolve, reject }));
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('unexpected message from the server process');
  return {
    child,
    ready,
    async stats() {
      const reply = next();
      child.send({ type: 'stats' });
      const m = await reply;
      if (m.type !== 'stats') throw new Error('unexpected message from the server process');
      return m;
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      });
    },
  };
}

interface HttpRound {
  rate: number;
  ok: number;
  failed: number;
  statusCodes: Record<string, { count: number }>;
  p50: number;
  p99: number;
  transactions: number;
  jobs: number;
  /** CPU time of the server process per 2xx, and of this (load generator) process. */
  serverCpuPerRequest: number;
  clientCpuPerRequest: number;
}

/** Distinct people, with a share of repeats and of Idempotency-Keys. */
function requestFactory(server: ServerHandle, tag: string) {
  const { site, key, wordingVersion } = server.ready;
  const baseHeaders = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    'user-agent': 'samtykke-bench/1 (autocannon)',
  };
  let n = 0;
  return {
    method: 'POST',
    path: `/v1/sites/${site}/consents`,
    setupRequest(req: { headers?: Record<string, string>; body?: string }) {
      const i = n++;
      const repeat = i > 100 && Math.random() < REPEAT_SHARE;
      const who = repeat ? Math.floor(Math.random() * i) : i;
      const body = {
        email: `person.${tag}.${who}@example.com`,
        purpose: 'e-marketing',
        action: repeat && Math.random() < 0.5 ? 'withdraw' : 'grant',
        wordingVersion,
        source: 'web-form',
        evidence: { pageUrl: 'https://shop.example/newsletter?utm_source=bench', formId: 'newsletter-footer' },
      };
      const headers: Record<string, string> =
        Math.random() < IDEMPOTENT_SHARE ? { ...baseHeaders, 'idempotency-key': `bench-${tag}-${i}` } : baseHeaders;
      return { ...req, headers, body: JSON.stringify(body) };
    },
  };
}

async function httpRound(server: ServerHandle, tag: string, load: { duration: number } | { amount: number }): Promise<HttpRound> {
  const before = await server.stats();
  const clientCpu = process.cpuUsage();
  const started = performance.now();
  let lastAnswer = started;
  const instance = autocannon({
    url: server.ready.url,
    connections: CONNECTIONS,
    pipelining: 1,
    timeout: 20,
    ...load,
    requests: [requestFactory(server, tag)],
  });
  // autocannon closes a run at its next 1 s sampling tick: time it to the last answer instead.
  instance.on('response', () => {
    lastAnswer = performance.now();
  });
  const result: Result = await instance;
  const clientUsed = process.cpuUsage(clientCpu);
  const after = await server.stats();
  const seconds = (lastAnswer - started) / 1000;
  const ok = result['2xx'];
  return {
    rate: ok / seconds,
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
    statusCodes: result.statusCodeStats,
    p50: result.latency.p50,
    p99: result.latency.p99,
    transactions: after.transactions - before.transactions,
    jobs: after.jobs - before.jobs,
    serverCpuPerRequest: (after.cpuMicros - before.cpuMicros) / Math.max(1, ok),
    clientCpuPerRequest: (clientUsed.user + clientUsed.system) / Math.max(1, ok),
  };
}

// ---------------------------------------------------------------------------------------

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-bench-direct-'));
  const direct = await openDirect(dir);
  const server = await startServerProcess();
  const problems: string[] = [];
  try {
    const initial = await server.stats();
    console.log(`ingest benchmark: ${CONNECTIONS} connections, ${ROUNDS} rounds (direct ${DIRECT_SECONDS} s, http ~${HTTP_SECONDS} s each)`);
    console.log(`server writer connection: synchronous=${initial.synchronous}, journal_mode=${initial.journalMode}`);
    console.log(`machine: ${availableParallelism()} cores, load average ${fmt(loadavg()[0]!, 2)} at start`);
    if (initial.synchronous !== 'FULL') problems.push(`the server's writer runs synchronous=${initial.synchronous}, not FULL`);

    // Warm-up (JIT, caches, sockets), also a first estimate of the rate. Every round sends a
    // fixed number of requests and waits for all answers, so no request is cut off in flight
    // and every event in the database must belong to a 2xx answer.
    const warm = await httpRound(server, 'warm', { amount: CONNECTIONS * WARMUP_REQUESTS_PER_CONNECTION });
    if (warm.failed > 0) problems.push(`warm-up: ${warm.failed} requests failed: ${JSON.stringify(warm.statusCodes)}`);
    let expected = warm.rate || 1000;

    const directRates: number[] = [];
    const http: HttpRound[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const d = await directRound(direct, DIRECT_SECONDS);
      directRates.push(d);
      console.log(`round ${r}  direct: ${fmt(d)} rows/s`);
      // A fixed number of requests (about HTTP_SECONDS' worth), so every request sent is
      // answered and can be checked against the database.
      const amount = Math.max(CONNECTIONS * 10, Math.round((expected * HTTP_SECONDS) / CONNECTIONS) * CONNECTIONS);
      const h = await httpRound(server, `r${r}`, { amount });
      http.push(h);
      expected = h.rate;
      console.log(
        `round ${r}  http:   ${fmt(h.rate)} req/s (${fmt(h.ok)} × 2xx, ${h.failed} failed), p50 ${fmt(h.p50)} ms, p99 ${fmt(h.p99)} ms, ` +
          `${fmt(h.transactions)} commits, mean batch ${fmt(h.jobs / Math.max(1, h.transactions), 1)}, ` +
          `CPU/request: server ${fmt(h.serverCpuPerRequest)} µs, load generator ${fmt(h.clientCpuPerRequest)} µs`,
      );
      if (h.failed > 0) problems.push(`round ${r}: ${h.failed} requests failed: ${JSON.stringify(h.statusCodes)}`);
    }

    const final = await server.stats();
    const answered = warm.ok + http.reduce((s, h) => s + h.ok, 0);
    const stored = final.events - initial.events;
    if (stored !== answered) problems.push(`the database holds ${stored} new events for ${answered} 2xx answers`);

    const directRate = median(directRates);
    const httpRate = median(http.map((h) => h.rate));
    const ratio = httpRate / directRate;
    const transactions = http.reduce((s, h) => s + h.transactions, 0);
    const jobs = http.reduce((s, h) => s + h.jobs, 0);
    console.log('');
    console.log(`direct, 1 row per transaction (synchronous=FULL): ${fmt(directRate)} rows/s   (median of ${ROUNDS})`);
    console.log(`http, POST /v1/sites/{site}/consents (2xx only):  ${fmt(httpRate)} req/s   (median of ${ROUNDS})`);
    console.log(`latency: p50 ${fmt(median(http.map((h) => h.p50)))} ms, p99 ${fmt(median(http.map((h) => h.p99)))} ms   (median of rounds)`);
    console.log(`commits: ${fmt(transactions)} for ${fmt(jobs)} writes, mean batch ${fmt(jobs / Math.max(1, transactions), 1)}`);
    console.log(`events stored: ${fmt(stored)}, 2xx answers (warm-up included): ${fmt(answered)} ${stored === answered ? '✓ equal' : '✗ differ'}`);
    console.log(`ratio http/direct: ${fmt(ratio, 2)}x   target ≥ ${TARGET}x: ${ratio >= TARGET ? 'met' : 'NOT met'}`);
    const load = loadavg()[0]!;
    console.log(`load average ${fmt(load, 2)} at the end${load > availableParallelism() ? ': other work competed for the CPU, so the CPU-bound http figure is understated' : ''}`);
  } finally {
    await server.stop();
    direct.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`FAIL: ${p}`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
