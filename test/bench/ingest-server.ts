/**
 * The server half of `npm run bench:ingest`: the real server (startServer) on a fresh
 * temporary database, with a seeded site and admin key, in its own process so the load
 * generator does not share its event loop. Driven over IPC by ingest.ts:
 *   → { type: 'ready', url, site, key, wordingVersion }
 *   ← { type: 'stats' }  → { type: 'stats', transactions, jobs, events, synchronous, journalMode }
 *   ← { type: 'stop' }   → exits after closing (every accepted write committed first)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config';
import { startServer } from '../../server/main';
import { createSite } from '../../server/services/sites';
import { listPurposes } from '../../server/services/purposes';

export type ServerMessage =
  | { type: 'ready'; url: string; site: string; key: string; wordingVersion: number }
  | { type: 'stats'; transactions: number; jobs: number; events: number; synchronous: string; journalMode: string; cpuMicros: number };

const SITE = 'bench';
const SYNCHRONOUS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

const send = (message: ServerMessage) => process.send!(message);

async function main() {
  if (!process.send) throw new Error('ingest-server.ts is started by ingest.ts (it needs an IPC channel)');
  const dir = mkdtempSync(join(tmpdir(), 'samtykke-bench-http-'));
  // The environment a production server would read; loadConfig fills in every default.
  const config = loadConfig(
    { PORT: '0', DATABASE_URL: `file:${join(dir, 'bench.db')}`, SAMTYKKE_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz', PUBLIC_URL: 'http://localhost', NODE_ENV: 'production', LOG_LEVEL: 'silent' },
    { createSecret: false },
  );
  const running = await startServer(config, { hostname: '127.0.0.1' });
  const { services, database } = running;
  const { key } = await createSite(services, { id: SITE, name: 'Bench' }, 'bench', { name: 'bench', scopes: ['admin', 'write'] });
  const marketing = (await listPurposes(services, SITE)).find((p) => p.key === 'e-marketing');
  const wordingVersion = marketing?.currentWording?.version;
  if (!wordingVersion) throw new Error('the seeded site has no published e-marketing wording');

  let stopping = false;
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') {
      void (async () => {
        await services.queue.idle();
        const cpu = process.cpuUsage();
        // The writer connection is the one that commits: its pragma is what makes a 2xx durable.
        const sync = await database.writer.execute('PRAGMA synchronous');
        const journal = await database.writer.execute('PRAGMA journal_mode');
        const events = await database.client.execute('SELECT count(*) AS n FROM consent_events');
        send({
          type: 'stats',
          transactions: services.queue.stats.transactions,
          jobs: services.queue.stats.jobs,
          events: Number(events.rows[0]!.n),
          synchronous: SYNCHRONOUS[Number(sync.rows[0]![0])] ?? String(sync.rows[0]![0]),
          journalMode: String(journal.rows[0]![0]),
          cpuMicros: cpu.user + cpu.system,
        });
      })();
    } else if (message.type === 'stop' && !stopping) {
      stopping = true;
      void running.close().then(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  // The parent going away (Ctrl-C, crash) ends this process too.
  process.on('disconnect', () => {
    if (!stopping) void running.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(1);
    });
  });
  send({ type: 'ready', url: running.url.replace('localhost', '127.0.0.1'), site: SITE, key: key!.secret, wordingVersion });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
