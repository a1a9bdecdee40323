/**
 * The server half of `npm run bench:check`: the real server (startServer) on the database
 * check.ts seeded, and a bare Hono route (the baseline) on another port, in this process,
 * so the load generator does not share its event loop. Driven over IPC by check.ts:
 *   → { type: 'ready', url, bareUrl }
 *   ← { type: 'rss' }   → { type: 'rss', maxRssMb, rssMb, phaseMaxRssMb }  (peaks sampled every 10 ms: overall,
 *                        and since the previous `rss`; not getrusage's maxrss, which on Linux keeps the
 *                        forking parent's peak, here the seeding process's, across exec)
 *   ← { type: 'cpu' }   → { type: 'cpu', userMs, systemMs }  (this process so far, all threads)
 *   ← { type: 'warm', site, purpose } → { type: 'warm', ready, seconds }  (builds the check index of the purpose)
 *   ← { type: 'stop' }  → exits after closing
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { loadConfig } from '../../server/config';
import { startServer } from '../../server/main';
import { warmCheckIndex } from '../../server/services/check';

export type CheckServerMessage =
  | { type: 'ready'; url: string; bareUrl: string }
  | { type: 'rss'; maxRssMb: number; rssMb: number; phaseMaxRssMb: number }
  | { type: 'cpu'; userMs: number; systemMs: number }
  | { type: 'warm'; ready: boolean; seconds: number };

const send = (message: CheckServerMessage) => process.send!(message);

async function main() {
  if (!process.send) throw new Error('check-server.ts is started by check.ts (it needs an IPC channel)');
  // The environment a production server would read; loadConfig fills in every default.
  const config = loadConfig(
    { PORT: '0', DATABASE_URL: process.env.BENCH_DATABASE_URL!, SAMTYKKE_SECRET: process.env.BENCH_SECRET!, PUBLIC_URL: 'http://localhost', NODE_ENV: 'production', LOG_LEVEL: 'silent' },
    { createSecret: false },
  );
  const running = await startServer(config, { hostname: '127.0.0.1' });
  // The baseline: a bare Hono route answering a small JSON body, same adapter, same process.
  const bare = new Hono().get('/check', (c) => c.json({ allowed: true, reason: 'consented' }));
  const bareServer: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: bare.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = bareServer.address();
  const barePort = typeof address === 'object' && address ? address.port : 0;
  let peak = process.memoryUsage.rss();
  let phasePeak = peak;
  setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    if (rss > phasePeak) phasePeak = rss;
  }, 10).unref();
  const mb = (bytes: number) => bytes / 1024 / 1024;
  process.on('message', (message: { type: string }) => {
    if (message.type === 'rss') {
      const rss = process.memoryUsage.rss();
      send({ type: 'rss', maxRssMb: mb(Math.max(peak, rss)), rssMb: mb(rss), phaseMaxRssMb: mb(Math.max(phasePeak, rss)) });
      phasePeak = rss;
    } else if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', userMs: user / 1000, systemMs: system / 1000 });
    } else if (message.type === 'warm') {
      const { site, purpose } = message as unknown as { site: string; purpose: string };
      const t0 = performance.now();
      void warmCheckIndex(running.services, site, purpose).then((ready) => send({ type: 'warm', ready, seconds: (performance.now() - t0) / 1000 }));
    } else if (message.type === 'stop') {
      bareServer.close();
      void running.close().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => void running.close().finally(() => process.exit(1)));
  send({ type: 'ready', url: running.url.replace('localhost', '127.0.0.1'), bareUrl: `http://127.0.0.1:${barePort}` });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
