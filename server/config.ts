/**
 * Configuration from the environment, validated once at start-up. A bad value stops
 * start-up with a message naming the variable, and never echoes a secret.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as v from 'valibot';

export interface Config {
  port: number;
  databaseUrl: string;
  databaseAuthToken: string | undefined;
  /** Key material; never logged. */
  secret: string;
  publicUrl: string;
  production: boolean;
  logLevel: 'silent' | 'info';
  /** SMTP_URL (smtp:// or smtps://); may hold a password, so never logged. Undefined: the development outbox. */
  smtpUrl: string | undefined;
  /** MAIL_FROM: the From of every message. */
  mailFrom: string;
  /** TRUST_PROXY: how many reverse proxies in front of the server append to X-Forwarded-For (0: none, use the socket's address). */
  trustProxy: number;
  /** CHECK_WORKERS: worker threads for bulk and CSV send checks (undefined: one per spare core, at most 3). */
  checkWorkers: number | undefined;
  /** CHECK_INDEX: send checks answered from memory (on, the default) or always by the database (off). */
  checkIndex: boolean;
  /** WEBHOOK_ALLOW_PRIVATE (development only): webhook endpoints may be http and loopback/private addresses. Absent: false. */
  webhookAllowPrivate?: boolean;
}

export const DEFAULT_MAIL_FROM = 'Samtykke <no-reply@localhost>';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const DATABASE_URL = /^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/;

/** `user@host`, or `Display Name <user@host>`; one line, no quotes or brackets in the name. */
const MAIL_FROM = /^(?:[^<>"\r\n@,;:]{1,100} <[^\s<>@"]{1,64}@[A-Za-z0-9.-]{1,253}>|[^\s<>@"]{1,64}@[A-Za-z0-9.-]{1,253})$/;

/** A parsable smtp:// or smtps:// URL with a host. Checked without ever putting the value in a message. */
function isSmtpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const EnvSchema = v.object({
  PORT: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,5}$/, 'must be a port number'), v.transform(Number), v.minValue(0), v.maxValue(65535)),
    '8787',
  ),
  DATABASE_URL: v.optional(
    v.pipe(v.string(), v.regex(DATABASE_URL, 'must start with file:, libsql://, http(s):// or ws(s)://')),
  ),
  DATABASE_AUTH_TOKEN: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
  SAMTYKKE_SECRET: v.optional(
    v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters of random key material')),
  ),
  PUBLIC_URL: v.optional(v.pipe(v.string(), v.url('must be an absolute http(s) URL'), v.regex(/^https?:\/\//, 'must be http(s)'))),
  NODE_ENV: v.optional(v.picklist(['production', 'development', 'test'], 'must be production, development or test')),
  LOG_LEVEL: v.optional(v.picklist(['silent', 'info'], 'must be silent or info'), 'info'),
  SMTP_URL: v.optional(v.pipe(v.string(), v.check(isSmtpUrl, 'must be an smtp:// or smtps:// URL with a host, e.g. smtps://user:password@mail.example.com:465'))),
  TRUST_PROXY: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,2}$/, 'must be the number of reverse proxies in front of the server, 0–10'), v.transform(Number), v.maxValue(10, 'must be at most 10')),
    '0',
  ),
  CHECK_WORKERS: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,2}$/, 'must be a number of worker threads, 0–16'), v.transform(Number), v.maxValue(16, 'must be at most 16')),
  ),
  CHECK_INDEX: v.optional(v.picklist(['on', 'off'], 'must be on or off'), 'on'),
  WEBHOOK_ALLOW_PRIVATE: v.optional(v.picklist(['true', 'false'], 'must be true or false')),
  MAIL_FROM: v.optional(v.pipe(v.string(), v.regex(MAIL_FROM, 'must be an address, e.g. no-reply@example.com or "Example <no-reply@example.com>"')), DEFAULT_MAIL_FROM),
});

export interface LoadOptions {
  /** Folder for the default database file and the generated secret. */
  dataDir?: string;
  /** Generate `<dataDir>/secret` when SAMTYKKE_SECRET is absent (first start). */
  createSecret?: boolean;
}

/** Reads and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  const result = v.safeParse(EnvSchema, pickEmptyAsAbsent(env));
  if (!result.success) {
    const issue = result.issues[0];
    const variable = String(issue.path?.[0]?.key ?? 'environment');
    // Only the schema's message: the value itself may be a secret.
    throw new ConfigError(variable, issue.message);
  }
  const e = result.output;
  // Mailbox providers only honour https unsubscribe links (RFC 8058), and links carry capabilities.
  if (e.NODE_ENV === 'production' && e.SMTP_URL && !e.PUBLIC_URL?.startsWith('https://')) {
    throw new ConfigError('PUBLIC_URL', 'must be an https:// URL in production when SMTP_URL is set: the links in mail (one-click unsubscribe, confirmation, preferences) must be https');
  }
  // Webhook targets on the deployment's own network would be an SSRF hole in production.
  if (e.NODE_ENV === 'production' && e.WEBHOOK_ALLOW_PRIVATE === 'true') {
    throw new ConfigError('WEBHOOK_ALLOW_PRIVATE', 'must not be true in production: webhooks must go to public https endpoints');
  }
  const dataDir = resolve(options.dataDir ?? 'data');
  const port = e.PORT;
  const databaseUrl = e.DATABASE_URL ?? `file:${resolve(dataDir, 'samtykke.db')}`;
  if (databaseUrl.startsWith('file:')) mkdirSync(dirname(databaseUrl.slice('file:'.length)), { recursive: true });
  return {
    port,
    databaseUrl,
    databaseAuthToken: e.DATABASE_AUTH_TOKEN,
    secret: e.SAMTYKKE_SECRET ?? readOrCreateSecret(resolve(dataDir, 'secret'), options.createSecret ?? true),
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    trustProxy: e.TRUST_PROXY,
    checkWorkers: e.CHECK_WORKERS,
    checkIndex: e.CHECK_INDEX === 'on',
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
  };
}

function pickEmptyAsAbsent(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.entries)) {
    const value = env[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

function readOrCreateSecret(file: string, create: boolean): string {
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 32) throw new ConfigError('SAMTYKKE_SECRET', `the secret in ${file} is shorter than 32 characters`);
    return secret;
  }
  if (!create) throw new ConfigError('SAMTYKKE_SECRET', `is not set and ${file} does not exist`);
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}
