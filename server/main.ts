/** Startup: read config, open and migrate the database, serve; stop cleanly on a signal. */
import { serve, type ServerType } from '@hono/node-server';
import { createApp, type Services } from './app';
import { serverOptions } from './http/headers';
import type { Config } from './config';
import { runRetention } from './services/retention';
import { MailDelivery } from './services/mail';
import { WebhookDelivery } from './services/webhooks';
import { migrate, openDatabase, type Database } from './db/client';

export interface RunningServer {
  url: string;
  database: Database;
  /** The running app's services (write queue and its stats, catalog, …). */
  services: Services;
  close(): Promise<void>;
}

/**
 * Node flags the server runs with (the `samtykke` command's first line and `npm start`
 * pass them; V8 reads them only on the command line, so a server started another way
 * should pass them too). `--min-semi-space-size=16`: V8 starts the young generation at a
 * few MB and grows it as it sees fit; while it is small, the rows a CSV check holds for a
 * few milliseconds outlive two scavenges and move to the old generation, which then grows
 * to some 130 MB before it is collected. A million-row CSV check peaked at 263–299 MB in
 * 6 of 11 runs without it (else 188–208 MB); with it, at 185–249 MB in 8 of 9 runs, 263 MB
 * in one. `--no-allocation-site-pretenuring`: the rest. V8 watches where surviving objects
 * are allocated and, when enough of one site's survive, allocates that site's objects in
 * the old generation from then on; in some runs it chose the CSV check's rows, and the old
 * generation grew from about 22 MB to 109 MB before it was collected (peaks 272 and 286 MB
 * in 2 of 6 runs; with the flag 189–221 MB in 8 of 8, at the same speed).
 */
export const SERVER_NODE_FLAGS = ['--min-semi-space-size=16', '--no-allocation-site-pretenuring'];

export async function startServer(config: Config, options: { demo?: boolean; hostname?: string } = {}): Promise<RunningServer> {
  const database = await openDatabase({ url: config.databaseUrl, authToken: config.databaseAuthToken });
  await migrate(database);
  const { app, services } = createApp({
    database,
    secret: config.secret,
    publicUrl: config.publicUrl,
    log: config.logLevel === 'info',
    demo: options.demo,
    smtpUrl: config.smtpUrl,
    mailFrom: config.mailFrom,
    devOutbox: !config.production,
    trustProxy: config.trustProxy,
    webhookAllowPrivate: config.webhookAllowPrivate,
    checkWorkers: config.checkWorkers,
    checkIndex: config.checkIndex,
  });
  // A port in use (or not ours to take) rejects, instead of crashing on an unhandled 'error' event.
  const server: ServerType = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: options.hostname, serverOptions }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  }).catch((error: unknown) => {
    database.close();
    throw error;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const retention = scheduleRetention(services);
  const delivery = config.smtpUrl
    ? new MailDelivery({ queue: services.queue, mail: services.mail, smtpUrl: config.smtpUrl, from: config.mailFrom, log: config.logLevel === 'info' }).start()
    : undefined;
  const webhookDelivery = new WebhookDelivery({ queue: services.queue, webhooks: services.webhooks, log: config.logLevel === 'info' }).start();
  let closing: Promise<void> | undefined;
  return {
    url: `http://localhost:${port}`,
    database,
    services,
    close() {
      closing ??= (async () => {
        clearInterval(retention);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // After the server: a request's mail is queued before it answers; a round in progress finishes.
        await delivery?.stop();
        await webhookDelivery.stop();
        // Every accepted write is committed before the database closes.
        await services.queue.idle();
        database.close();
      })();
      return closing;
    },
  };
}

const RETENTION_EVERY_MS = 10 * 60 * 1000;

/** Every instance runs the (idempotent) retention job on its own timer. */
function scheduleRetention(services: Services): NodeJS.Timeout {
  const run = () =>
    runRetention(services).catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', job: 'retention', error: error instanceof Error ? error.name : 'unknown' }));
    });
  void run();
  return setInterval(run, RETENTION_EVERY_MS).unref();
}

export function stopOnSignals(running: RunningServer): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void running.close().then(() => process.exit(0));
    });
  }
}
