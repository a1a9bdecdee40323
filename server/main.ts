/** Startup: read config, open and migrate the database, serve; stop cleanly on a signal. */
import { serve, type ServerType } from '@hono/node-server';
import { createApp, type Services } from './app';
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
    const s = serve({ fetch: app.fetch, port: config.port, hostname: options.hostname }, () => {
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
