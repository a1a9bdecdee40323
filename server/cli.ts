/**
 * The `samtykke` command. It uses the same services as the server, against the
 * database named by DATABASE_URL (default ./data/samtykke.db). Commands that create
 * things take --json and then print exactly one JSON object.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from '@libsql/client';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import * as v from 'valibot';
import { KEY_SCOPES, type KeyScope } from '../shared/enums';
import { NewApiKey, SiteId } from '../shared/api';
import { createServices } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { MIGRATIONS_FOLDER, migrate, openDatabase, type Database } from './db/client';
import { AppError } from './services/errors';
import { createKey, revokeKey } from './services/keys';
import { createSite, findSiteRow, updateSite } from './services/sites';
import { createPurpose } from './services/purposes';
import { createDraft, publishWording } from './services/wordings';
import { runRetention } from './services/retention';
import { verifyAll } from './services/verify';
import { startServer, stopOnSignals } from './main';
import { chmodSync, createReadStream, createWriteStream, renameSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { CsvCheckQuery, SuppressionImportQuery } from '../shared/check-api';
import { checkCsv, splitCheckedCsv } from './services/check';
import { importSuppressions } from './services/suppressions';

const USAGE = `Usage: samtykke <command> [options]

Commands:
  init [--site ID] [--name NAME]        create the database, migrate, create a site and an admin key
  serve                                 migrate and serve the API and widgets (production; seeds nothing)
  dev                                   like serve, plus the demo site and a seeded demo site (npm start)
  migrate                               apply database migrations
  site create ID --name NAME [--language da] [--country DK] [--origin URL]...
                                        create a site with default purposes, wordings, sources and an admin key
  key create --site ID --name NAME --scopes admin,write,check,pii:read
  key revoke KEY_ID --site ID
  audit verify [--site ID]              check every hash chain; exit 1 and name the first bad row
  retention run                         delete what is kept only for a while (also run by every server every 10 minutes)
  backup FILE                           online, consistent copy of a file database (VACUUM INTO)
  check FILE --site ID --purpose KEY --out ALLOWED.csv [--rejected REJECTED.csv] [--column NAME] [--url URL [--key-file PATH] [--insecure]]
                                        check a CSV of recipients, locally or against a server; progress on stderr;
                                        --out and --rejected are replaced only once the whole check has succeeded
  suppressions import FILE --site ID --list NAME [--reason listed|bounced|complained] [--channel email|sms] [--column NAME]
                                        import a do-not-contact list (e.g. robinson); re-importing adds nothing twice

Checking against a server (check --url URL):
  URL                                   the server's base URL; a path is kept (https://example.org/samtykke)
  API key                               from --key-file PATH (the file's contents, trimmed), else SAMTYKKE_API_KEY,
                                        else --key KEY, which warns: other users of the machine can see it (ps),
                                        and it stays in shell history
  --insecure                            allow plain http:// to a host other than localhost, 127.0.0.0/8 or ::1 (a test
                                        server on a private network); it sends the key and the addresses unencrypted.
                                        Certificates are always verified; this only permits http://

Options:
  --json                                print one JSON object (commands that create or check things)
  -h, --help                            this text

Environment: DATABASE_URL, DATABASE_AUTH_TOKEN, SAMTYKKE_SECRET, PUBLIC_URL, PORT, SAMTYKKE_API_KEY (see README).`;

const CLI_ACTOR = 'cli';

class UsageError extends Error {}

type Out = { json: boolean; print(text: string, object: Record<string, unknown>): void };

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        site: { type: 'string' },
        name: { type: 'string' },
        language: { type: 'string' },
        country: { type: 'string' },
        origin: { type: 'string', multiple: true },
        scopes: { type: 'string' },
        purpose: { type: 'string' },
        out: { type: 'string' },
        rejected: { type: 'string' },
        column: { type: 'string' },
        url: { type: 'string' },
        key: { type: 'string' },
        'key-file': { type: 'string' },
        insecure: { type: 'boolean', default: false },
        list: { type: 'string' },
        reason: { type: 'string' },
        channel: { type: 'string' },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const out: Out = {
    json: values.json,
    print: (text, object) => console.log(values.json ? JSON.stringify(object) : text),
  };
  const [command, sub, arg] = positionals;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(false);
      case 'dev':
        return await serveCommand(true);
      case 'migrate':
        return await withDatabase(true, async () => {
          out.print('Migrations applied.', { migrated: true });
          return 0;
        });
      case 'init':
        return await withDatabase(true, async (database, config) => {
          const id = parseSiteId(values.site ?? 'default');
          const { key } = await createSite(services(database, config), { id, name: values.name ?? id }, CLI_ACTOR, { name: 'admin (init)' });
          out.print(`Database ready at ${redactUrl(config.databaseUrl)}.\nSite: ${id}\nAdmin API key (shown once): ${key!.secret}`, { site: id, key: key!.secret, keyId: key!.id });
          return 0;
        });
      case 'site':
        if (sub !== 'create' || !arg) throw new UsageError('usage: samtykke site create ID --name NAME');
        return await withDatabase(true, async (database, config) => {
          const id = parseSiteId(arg);
          const input = v.parse(
            v.object({
              language: v.optional(v.pipe(v.string(), v.regex(/^[a-z]{2,3}$/, '--language must be a language code such as da'))),
              country: v.optional(v.pipe(v.string(), v.regex(/^[A-Z]{2}$/, '--country must be a country code such as DK'))),
              origin: v.optional(v.array(v.pipe(v.string(), v.regex(/^https?:\/\/[^/\s]+$/, '--origin must be an origin such as https://www.example.dk')))),
            }),
            { language: values.language, country: values.country, origin: values.origin },
          );
          const { key } = await createSite(
            services(database, config),
            { id, name: values.name ?? id, defaultLanguage: input.language, defaultCountry: input.country, allowedOrigins: input.origin },
            CLI_ACTOR,
            { name: 'admin (site create)' },
          );
          out.print(`Site ${id} created.\nAdmin API key (shown once): ${key!.secret}`, { site: id, key: key!.secret, keyId: key!.id });
          return 0;
        });
      case 'key':
        return await keyCommand(sub, arg, values, out);
      case 'audit':
        if (sub !== 'verify') throw new UsageError('usage: samtykke audit verify [--site ID]');
        return await withDatabase(false, async (database, config) => {
          const site = values.site === undefined ? undefined : parseSiteId(values.site);
          const reports = await verifyAll(database.db, services(database, config).crypto, site);
          if (site && reports.length === 0) throw new UsageError(`no site '${site}'`);
          const ok = reports.every((r) => r.ok);
          const lines = reports.flatMap((r) =>
            r.chains.map((ch) =>
              ch.ok
                ? `ok    ${r.site} ${ch.chain}: ${ch.rows} rows, head ${ch.head.slice(0, 16) || '(empty)'}`
                : `BAD   ${r.site} ${ch.chain}: row ${ch.firstBad!.seq}${ch.firstBad!.id !== null ? ` (id ${ch.firstBad!.id})` : ''}: ${ch.firstBad!.reason}`,
            ),
          );
          out.print(lines.join('\n') || 'No sites.', { ok, sites: reports });
          return ok ? 0 : 1;
        });
      case 'retention':
        if (sub !== 'run') throw new UsageError('usage: samtykke retention run');
        return await withDatabase(false, async (database, config) => {
          const report = await runRetention(services(database, config));
          out.print(
            `Retention done: deleted ${report.idempotencyKeys} expired idempotency keys, ${report.mail} old mail messages, ${report.webhookDeliveries} old webhook deliveries and ${report.smsMessages} old SMS ids; ` +
              `${report.expiredSignups} unconfirmed signups lapsed (${report.erasedUnconfirmed} people erased), ${report.emailChanges} unconfirmed e-mail changes deleted.`,
            { ...report },
          );
          return 0;
        });
      case 'backup':
        if (!sub) throw new UsageError('usage: samtykke backup FILE');
        // As it is: a backup before an upgrade's migrations is the point of a backup.
        return await withDatabase(false, async (database) => {
          const file = resolve(sub);
          const result = await backup(database, file);
          out.print(`Backup written to ${file} (${result.bytes} bytes, ${result.tables} tables, integrity ok).`, { file, ...result });
          return 0;
        }, { asIs: true });
      case 'check':
        return await checkCommand(sub, values, out);
      case 'suppressions':
        if (sub !== 'import' || !arg) throw new UsageError('usage: samtykke suppressions import FILE --site ID --list NAME');
        return await withDatabase(false, async (database, config) => {
          const site = parseSiteId(values.site ?? '');
          const q = v.safeParse(SuppressionImportQuery, dropUndefined({ list: values.list, reason: values.reason, channel: values.channel, column: values.column }));
          if (!q.success) throw new UsageError(`--list NAME is required; ${q.issues[0].path?.[0]?.key ?? 'an option'} ${q.issues[0].message}`);
          const ctx = services(database, config);
          if (!(await findSiteRow(ctx, site))) throw new UsageError(`no site '${site}'`);
          const progress = progressBar(statSync(arg).size);
          const input = countBytes(createReadStream(arg), progress.bytes);
          const report = await importSuppressions(ctx, site, input, q.output);
          progress.done();
          out.print(
            `Imported ${arg} as list '${report.list}' (${report.reason}): ${report.rows} rows, ${report.added} added, ${report.alreadyPresent} already present, ${report.invalid} invalid.`,
            { ...report },
          );
          return 0;
        });
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    return report(e);
  }
}

function report(e: unknown): number {
  if (e instanceof UsageError) {
    console.error(`samtykke: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (e instanceof ConfigError) {
    console.error(`samtykke: configuration: ${e.message}`);
    return 78;
  }
  if (e instanceof AppError) {
    console.error(`samtykke: ${e.message}`);
    return 1;
  }
  if (e instanceof v.ValiError) {
    console.error(`samtykke: ${e.issues[0]?.message ?? 'invalid arguments'}`);
    return 2;
  }
  console.error(`samtykke: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
}

function parseSiteId(id: string): string {
  const r = v.safeParse(SiteId, id);
  if (!r.success) throw new UsageError(r.issues[0].message);
  return r.output;
}

function services(database: Database, config: Config) {
  return createServices({ database, secret: config.secret, checkWorkers: config.checkWorkers });
}

async function withDatabase(
  runMigrations: boolean,
  work: (database: Database, config: Config) => Promise<number>,
  { asIs = false }: { asIs?: boolean } = {},
): Promise<number> {
  // Only commands that set a database up may generate ./data/secret: a check or a backup run without
  // SAMTYKKE_SECRET must stop and say so, not invent new key material (and then call the ledger tampered).
  const config = loadConfig(process.env, { createSecret: runMigrations });
  // Opening a file that is not there would create an empty one: a mistyped DATABASE_URL would then be
  // "verified" or "backed up" as an empty database. Only commands that set a database up may create it.
  const file = databaseFile(config.databaseUrl);
  if (!runMigrations && file !== undefined && !existsSync(file)) {
    throw new Error(`no database at ${file} (DATABASE_URL); create it with \`samtykke init\` or \`samtykke migrate\``);
  }
  const database = await openDatabase({ url: config.databaseUrl, authToken: config.databaseAuthToken });
  try {
    if (runMigrations) await migrate(database);
    else if (!asIs) await assertMigrated(database, config);
    return await work(database, config);
  } finally {
    database.close();
  }
}

async function keyCommand(sub: string | undefined, arg: string | undefined, values: { site?: string; name?: string; scopes?: string }, out: Out) {
  if (!values.site) throw new UsageError('--site is required');
  const site = parseSiteId(values.site);
  return withDatabase(false, async (database, config) => {
    const ctx = services(database, config);
    if (!(await findSiteRow(ctx, site))) throw new UsageError(`no site '${site}'`);
    if (sub === 'create') {
      const input = v.safeParse(NewApiKey, { name: values.name ?? '', scopes: (values.scopes ?? '').split(',').filter(Boolean) });
      if (!input.success) throw new UsageError(`--name and --scopes (${KEY_SCOPES.join(',')}) are required`);
      const { key, secret } = await createKey(ctx, site, input.output.name, input.output.scopes as KeyScope[], CLI_ACTOR);
      out.print(`Key ${key.id} (${key.scopes.join(', ')}) created. Secret (shown once): ${secret}`, { site, keyId: key.id, key: secret, scopes: key.scopes });
      return 0;
    }
    if (sub === 'revoke' && arg) {
      const key = await revokeKey(ctx, site, arg, CLI_ACTOR);
      out.print(`Key ${key.id} revoked.`, { site, keyId: key.id, revokedAt: key.revokedAt });
      return 0;
    }
    throw new UsageError('usage: samtykke key create|revoke …');
  });
}

/** VACUUM INTO writes a consistent copy while the server keeps running; the copy is then opened and checked. */
async function backup(database: Database, file: string) {
  if (!database.isFile) throw new UsageError('backup copies a file database; for a libSQL server or Turso use its own backups');
  if (existsSync(file)) throw new UsageError(`${file} exists; choose a new file`);
  await database.client.execute({ sql: 'VACUUM INTO ?', args: [file] });
  const copy = createClient({ url: `file:${file}` });
  try {
    const integrity = await copy.execute('PRAGMA integrity_check');
    if (integrity.rows[0]?.[0] !== 'ok') throw new Error('the backup failed its integrity check');
    const tables = await copy.execute("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'");
    return { bytes: readFileSync(file).byteLength, tables: Number(tables.rows[0]!.n) };
  } finally {
    copy.close();
  }
}

/** Commands that neither migrate nor copy need the schema of this version; say so rather than fail on SQL. */
async function assertMigrated(database: Database, config: Config): Promise<void> {
  const known = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  const hasTable = await database.client.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'");
  const last = hasTable.rows.length > 0 ? await database.client.execute('SELECT max(created_at) AS at FROM __drizzle_migrations') : undefined;
  const applied = Number(last?.rows[0]?.at ?? 0);
  if (applied < known[known.length - 1]!.folderMillis) {
    throw new Error(
      `the database at ${redactUrl(config.databaseUrl)} ${applied ? 'is not migrated to this version' : 'has no Samtykke tables'}; run \`samtykke migrate\` first`,
    );
  }
}

/** The path of a `file:` database URL (`file:rel`, `file:/abs`, `file:///abs`, optionally `?options`). */
function databaseFile(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  const bare = url.split('?')[0]!;
  return resolve(bare.startsWith('file://') ? fileURLToPath(bare) : bare.slice('file:'.length));
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

async function serveCommand(demo: boolean): Promise<number> {
  const config = loadConfig();
  const running = await startServer(config, { demo });
  stopOnSignals(running);
  const lines = [`Samtykke is listening on ${running.url}`, `  API reference: ${running.url}/docs`, `  Widget bundle: ${running.url}/samtykke.js`];
  if (demo) {
    const { site, secret } = await seedDemo(running.database, config);
    lines.push(
      `  Demo website:  ${running.url}/`,
      `  Demo site id:  ${site}`,
      `  Demo admin API key: ${secret}`,
      `  Try: curl -H "Authorization: Bearer ${secret}" ${running.url}/v1/sites/${site}/purposes`,
    );
  }
  console.log(lines.join('\n'));
  return await new Promise<number>(() => {}); // runs until a signal stops it
}

const DEMO_SITE = 'demo';

/**
 * The demo site and a key for it; the key's secret is kept in `dataDir` (default ./data) so every
 * `npm start` can print it. The site allows the origin of `config.publicUrl`. Exported for the
 * end-to-end test, which seeds its own database and keeps the key in its own folder.
 */
export async function seedDemo(database: Database, config: Config, dataDir = resolve('data')): Promise<{ site: string; secret: string }> {
  mkdirSync(dataDir, { recursive: true });
  const keyFile = resolve(dataDir, 'demo-admin-key');
  const ctx = services(database, config);
  if (await findSiteRow(ctx, DEMO_SITE)) {
    if (existsSync(keyFile)) return { site: DEMO_SITE, secret: readFileSync(keyFile, 'utf8').trim() };
    const { secret } = await createKey(ctx, DEMO_SITE, 'demo admin', [...KEY_SCOPES], CLI_ACTOR);
    writeFileSync(keyFile, `${secret}\n`, { mode: 0o600 });
    return { site: DEMO_SITE, secret };
  }
  const { key } = await createSite(
    ctx,
    { id: DEMO_SITE, name: 'Samtykke demo', defaultLanguage: 'en', allowedOrigins: [new URL(config.publicUrl).origin] },
    CLI_ACTOR,
    { name: 'demo admin' },
  );
  // The signup page offers SMS too, and the mails link to the demo's own preference page.
  await updateSite(
    ctx,
    DEMO_SITE,
    { preferencesUrl: `${config.publicUrl}/profile.html`, controllerEmail: 'privacy@example.com', controllerAddress: 'Demovej 1, 1000 København K' },
    CLI_ACTOR,
  );
  await createPurpose(ctx, DEMO_SITE, { key: 'sms-offers', name: 'SMS offers', description: 'Offers by text message, sent only with consent.', channel: 'sms', legalBasis: '6-1-a' }, CLI_ACTOR);
  const sms = await createDraft(
    ctx,
    DEMO_SITE,
    'sms-offers',
    {
      en: { title: 'Offers by SMS', body: 'Yes, send me offers by text message. I can stop them at any time by replying STOP or on my preference page.' },
      da: { title: 'Tilbud på SMS', body: 'Ja tak, send mig tilbud på SMS. Jeg kan til enhver tid stoppe dem ved at svare STOP eller på min profilside.' },
    },
    CLI_ACTOR,
  );
  await publishWording(ctx, DEMO_SITE, 'sms-offers', sms.version, CLI_ACTOR);
  writeFileSync(keyFile, `${key!.secret}\n`, { mode: 0o600 });
  return { site: DEMO_SITE, secret: key!.secret };
}

const dropUndefined = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));

/** `samtykke check FILE`: the CSV check, locally or against a server (--url), split into allowed and rejected files. */
async function checkCommand(file: string | undefined, values: Record<string, unknown>, out: Out): Promise<number> {
  const opt = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  if (!file || !opt('site') || !opt('purpose') || !opt('out')) throw new UsageError('usage: samtykke check FILE --site ID --purpose KEY --out ALLOWED.csv [--rejected FILE]');
  const site = parseSiteId(opt('site')!);
  const q = v.safeParse(CsvCheckQuery, dropUndefined({ purpose: opt('purpose'), column: opt('column') }));
  if (!q.success) throw new UsageError(`--${String(q.issues[0].path?.[0]?.key ?? 'purpose')} ${q.issues[0].message}`);
  // Everything about the server is settled before any file or network is touched.
  const remote = opt('url') !== undefined ? remoteOptions(values) : undefined;
  if (!remote && (values.key !== undefined || values['key-file'] !== undefined || values.insecure === true)) {
    throw new UsageError('--key, --key-file and --insecure go with --url');
  }
  const targets = [opt('out')!, ...(opt('rejected') ? [opt('rejected')!] : [])];
  for (const [i, a] of [file, ...targets].entries()) {
    for (const b of [file, ...targets].slice(i + 1)) {
      if (sameFile(a, b)) throw new UsageError('FILE, --out and --rejected must be different files');
    }
  }
  const size = statSync(file).size;
  // The results go to temporary files next to the targets, renamed over them only once the whole check has
  // succeeded: a refused key, an unknown site or a dropped connection leaves the previous files as they were.
  const outputs = await openOutputs(targets);
  const [allowedOut, rejectedOut] = outputs;
  const interrupted = (signal: NodeJS.Signals) => {
    discardOutputs(outputs);
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143);
  };
  // Also SIGHUP (a closed terminal or a dropped ssh session): no half-written file of checked addresses stays behind.
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted).once('SIGHUP', interrupted);
  const progress = progressBar(size);
  const run = (checked: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, header: boolean | undefined) =>
    splitCheckedCsv(checked, { allowed: allowedOut!.write, rejected: rejectedOut?.write }, { header });
  let summary: Awaited<ReturnType<typeof run>> | undefined;
  try {
    const input = countBytes(createReadStream(file), progress.bytes);
    if (remote) {
      summary = await checkRemotely(remote, site, q.output, input, run);
    } else {
      await withDatabase(false, async (database, config) => {
        const checked = await checkCsv(services(database, config), site, q.output.purpose, input, { column: q.output.column });
        summary = await run(checked, checked.header);
        return 0;
      });
    }
    await commitOutputs(outputs);
  } catch (e) {
    progress.stop();
    discardOutputs(outputs);
    throw e;
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted).off('SIGHUP', interrupted);
  }
  progress.done();
  if (!summary) return 1;
  const reasons = Object.entries(summary.byReason).sort((a, b) => b[1] - a[1]);
  out.print(
    [`Checked ${summary.rows} rows: ${summary.allowed} allowed, ${summary.blocked} blocked.`, ...reasons.map(([r, n]) => `  ${r.padEnd(22)} ${n}`)].join('\n'),
    { ...summary },
  );
  return 0;
}

interface Remote {
  url: URL;
  key: string;
}

/**
 * Localhost, 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z): the hosts --url may name over plain http.
 * `hostname` is as the URL parser left it (lower case, IPv4 in dotted decimal, IPv6 compressed in brackets).
 */
function isLoopbackHost(hostname: string): boolean {
  // Exactly `localhost`: `localhost.` is not answered from /etc/hosts but asked of DNS.
  const host = hostname;
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host);
}

// Every message is our own: valibot's default ones repeat the input, and the input may be a key.
const ServerUrl = v.pipe(
  v.string(),
  v.url('--url must be a URL such as https://samtykke.example.org'),
  v.transform((s) => new URL(s)),
  v.check((u) => u.protocol === 'https:' || u.protocol === 'http:', '--url must be an https:// URL'),
  v.check((u) => u.username === '' && u.password === '', '--url must not contain a user name or password; give the API key in SAMTYKKE_API_KEY or with --key-file'),
  v.check((u) => u.search === '' && u.hash === '', "--url must be the server's base URL, without ? or #"),
);

const RemoteOptions = v.pipe(
  v.object({
    url: ServerUrl,
    insecure: v.boolean(),
    keyFile: v.optional(v.pipe(v.string(), v.nonEmpty('--key-file needs the name of a file'))),
    key: v.optional(v.string()),
  }),
  v.check(
    (o) => o.url.protocol === 'https:' || o.insecure || isLoopbackHost(o.url.hostname),
    '--url must be https://: plain http:// would send the API key and the addresses unencrypted. ' +
      'It is allowed to localhost, 127.0.0.0/8 and ::1; for a test server on a private network add --insecure',
  ),
);

const ApiKey = v.pipe(
  v.string(),
  v.trim(),
  v.nonEmpty('the API key is empty'),
  v.regex(/^[\x21-\x7e]+$/, 'the API key must be one line of printable characters without spaces'),
);

/** --url, --insecure and the API key: from --key-file, else SAMTYKKE_API_KEY, else --key (with a warning). */
function remoteOptions(values: Record<string, unknown>): Remote {
  const parsed = v.safeParse(RemoteOptions, { url: values.url, insecure: values.insecure === true, keyFile: values['key-file'], key: values.key });
  if (!parsed.success) throw new UsageError(parsed.issues[0].message);
  const { url, insecure, keyFile, key } = parsed.output;
  if (key !== undefined) {
    console.error(
      'samtykke: warning: --key puts the API key on the command line, where other users of this machine can see it (ps) and your shell history keeps it; ' +
        `use SAMTYKKE_API_KEY or --key-file PATH instead${keyFile !== undefined || process.env.SAMTYKKE_API_KEY ? ` (--key is ignored: ${keyFile !== undefined ? '--key-file' : 'SAMTYKKE_API_KEY'} comes first)` : ''}`,
    );
  }
  if (url.protocol === 'http:' && insecure && !isLoopbackHost(url.hostname)) {
    console.error(`samtykke: warning: --insecure: the API key and the addresses go to ${url.host} unencrypted`);
  }
  let raw: string;
  let source: string;
  if (keyFile !== undefined) {
    source = '--key-file';
    try {
      raw = readFileSync(keyFile, 'utf8');
    } catch (e) {
      // Not the path itself: a key passed there by mistake would be printed.
      throw new UsageError(`cannot read the --key-file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else if (process.env.SAMTYKKE_API_KEY) {
    source = 'SAMTYKKE_API_KEY';
    raw = process.env.SAMTYKKE_API_KEY;
  } else if (key !== undefined) {
    source = '--key';
    raw = key;
  } else {
    throw new UsageError('--url needs an API key with the check scope: set SAMTYKKE_API_KEY, or give --key-file PATH');
  }
  const apiKey = v.safeParse(ApiKey, raw);
  if (!apiKey.success) throw new UsageError(`${source}: ${apiKey.issues[0].message}`);
  return { url, key: apiKey.output };
}

/** `path` appended to the path of `base`, with or without its trailing slash: https://example.org/samtykke + v1/… */
function apiUrl(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  return url;
}

async function checkRemotely<T>(
  remote: Remote,
  site: string,
  query: { purpose: string; column?: string },
  input: AsyncIterable<Uint8Array>,
  run: (checked: ReadableStream<Uint8Array>, header: boolean | undefined) => Promise<T>,
): Promise<T> {
  const url = apiUrl(remote.url, `v1/sites/${encodeURIComponent(site)}/check.csv`);
  url.searchParams.set('purpose', query.purpose);
  if (query.column) url.searchParams.set('column', query.column);
  const abort = new AbortController();
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${remote.key}`, 'content-type': 'text/csv' },
        body: Readable.toWeb(Readable.from(input)) as ReadableStream<Uint8Array>,
        duplex: 'half',
        // Followed, a redirect could carry the list elsewhere (or to http); the user should give the final URL.
        redirect: 'manual',
        signal: abort.signal,
      } as RequestInit);
    } catch (e) {
      const cause = (e as { cause?: { code?: unknown } }).cause;
      throw new Error(`could not reach the server at ${remote.url.origin}${typeof cause?.code === 'string' ? ` (${cause.code})` : ''}`);
    }
    if (res.status >= 300 && res.status < 400) {
      const to = res.headers.get('location');
      throw new Error(`the server answered ${res.status}, a redirect${to ? ` to ${new URL(to, url).origin}` : ''}; give the URL it moved to as --url`);
    }
    if (!res.ok || !res.body) {
      const body = (await res.json().catch(() => undefined)) as { error?: { message?: unknown } } | undefined;
      const message = typeof body?.error?.message === 'string' ? body.error.message : res.statusText;
      throw new Error(`the server answered ${res.status}: ${message}`);
    }
    // Whether the answer's first row is the header row (an older server does not say; see splitCheckedCsv).
    const header = res.headers.get('samtykke-csv-header');
    return await run(res.body, header === 'present' ? true : header === 'absent' ? false : undefined);
  } catch (e) {
    abort.abort();
    throw e;
  }
}

/** Whether two paths name the same file (the same path, or, both existing, the same inode). */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}

interface Output {
  target: string;
  temp: string;
  stream: WriteStream;
  /** Whether `temp` was created by us (only then is it ours to delete). */
  created: boolean;
  write(text: string): Promise<void>;
}

/** A `<target>.tmp-<random>` file for each target, in the target's folder (so the rename cannot cross file systems). */
async function openOutputs(targets: string[]): Promise<Output[]> {
  const outputs: Output[] = [];
  try {
    for (const target of targets) {
      const existing = statSync(target, { throwIfNoEntry: false });
      if (existing?.isDirectory()) throw new UsageError(`${target} is a folder`);
      const temp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
      // Readable by the owner only while it is written: it holds people's addresses.
      const stream = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
      stream.on('error', () => {}); // kept in stream.errored, and thrown by write() and commitOutputs()
      const output: Output = {
        target,
        temp,
        stream,
        created: false,
        async write(text) {
          if (stream.errored) throw stream.errored;
          if (!stream.write(text)) await once(stream, 'drain');
        },
      };
      outputs.push(output);
      try {
        await once(stream, 'open');
        output.created = true;
      } catch (e) {
        throw new Error(`cannot write ${target} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      // The replaced file keeps its permissions (a list of people's addresses may well be private).
      if (existing) chmodSync(temp, existing.mode & 0o7777);
    }
    return outputs;
  } catch (e) {
    discardOutputs(outputs);
    throw e;
  }
}

async function commitOutputs(outputs: Output[]): Promise<void> {
  for (const o of outputs) {
    o.stream.end();
    await finished(o.stream);
  }
  for (const o of outputs) renameSync(o.temp, o.target);
}

/** Synchronous, so that it can run in a signal handler too. */
function discardOutputs(outputs: Output[]): void {
  for (const o of outputs) {
    o.stream.destroy();
    if (!o.created) continue;
    try {
      unlinkSync(o.temp);
    } catch {
      // already gone
    }
  }
}

async function* countBytes(source: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/** A progress bar on stderr (redrawn at most 5 times a second). */
function progressBar(total: number) {
  let seen = 0;
  let last = 0;
  const draw = (final: boolean) => {
    const now = Date.now();
    if (!final && now - last < 200) return;
    last = now;
    const share = total > 0 ? Math.min(1, seen / total) : 1;
    const width = 30;
    const filled = Math.round(share * width);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${mb(seen)}/${mb(total)} MB${final ? '\n' : ''}`);
  };
  return {
    bytes(n: number) {
      seen += n;
      draw(false);
    },
    done() {
      seen = total;
      draw(true);
    },
    /** Ends the bar's line where it is, so that an error starts on a line of its own. */
    stop() {
      if (last !== 0) process.stderr.write('\n');
    },
  };
}
