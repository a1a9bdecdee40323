/**
 * API keys. The secret is shown once; only its SHA-256 is stored (the secret is 256
 * random bits, so a fast hash is safe). A key belongs to one site and carries scopes.
 *
 * On a local database file a key is read synchronously through the send checks' own
 * connection (one indexed row, a few µs), again whenever SQLite's data_version shows a
 * commit since the last read (check-reader.ts: a revocation through this process is seen
 * by the next request, one made elsewhere within 5 ms). Elsewhere (a
 * remote libSQL server) authenticated keys are remembered in memory, keyed by the
 * secret's hash: a revocation made through this process forgets the key at once, one
 * made elsewhere is seen within KEY_CACHE_TTL_MS.
 */
import { and, asc, eq } from 'drizzle-orm';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyScope } from '../../shared/enums';
import { apiKeys } from '../db/schema';
import type { WriteContext } from '../db/write-queue';
import { appendAudit } from './audit';
import { checkReader } from './check-reader';
import type { ServiceContext } from './context';
import { newId, sha256Hex } from './crypto';
import { notFound } from './errors';

const PREFIX = 'sk_';

const KEY_CACHE_MAX = 10_000;
/** The longest a key revoked by another process may still be accepted here. */
export const KEY_CACHE_TTL_MS = 5_000;

interface KeyCache {
  /** sha256(secret) → key, with the database's external version (when known) and the time it was read */
  entries: Map<string, { key: AuthenticatedKey; version: number | undefined; at: number }>;
  /** Bumped by every local revocation, so a lookup that raced one is not remembered. */
  generation: number;
}

/** One cache per database handle: what one app instance has seen. */
const keyCaches = new WeakMap<object, KeyCache>();

function keyCache(ctx: Pick<ServiceContext, 'db'>): KeyCache {
  let cache = keyCaches.get(ctx.db);
  if (!cache) {
    cache = { entries: new Map(), generation: 0 };
    keyCaches.set(ctx.db, cache);
  }
  return cache;
}

/** Drops a key from this process's cache (after its revocation committed). */
function forgetKey(ctx: Pick<ServiceContext, 'db'>, keyId: string): void {
  const cache = keyCache(ctx);
  cache.generation++;
  for (const [hash, entry] of cache.entries) if (entry.key.id === keyId) cache.entries.delete(hash);
}

export interface ApiKey {
  id: string;
  siteId: string;
  name: string;
  scopes: KeyScope[];
  createdAt: string;
  revokedAt: string | null;
}

export interface AuthenticatedKey {
  id: string;
  siteId: string;
  scopes: ReadonlySet<KeyScope>;
}

type KeyRow = typeof apiKeys.$inferSelect;

const present = (r: KeyRow): ApiKey => ({
  id: r.id,
  siteId: r.siteId,
  name: r.name,
  scopes: r.scopes,
  createdAt: new Date(r.createdAt).toISOString(),
  revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt).toISOString(),
});

/** Inserts a key inside the caller's transaction and returns the one-time secret. */
export async function insertKey(
  w: WriteContext,
  siteId: string,
  name: string,
  scopes: KeyScope[],
  now: number,
): Promise<{ key: ApiKey; secret: string }> {
  const id = newId();
  const secret = `${PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  const row: KeyRow = { id, siteId, name, secretHash: sha256Hex(secret), scopes: [...new Set(scopes)], createdAt: now, revokedAt: null };
  await w.db.insert(apiKeys).values(row);
  return { key: present(row), secret };
}

export async function createKey(ctx: ServiceContext, siteId: string, name: string, scopes: KeyScope[], actor: string) {
  return ctx.queue.run(async (w) => {
    const now = ctx.now();
    const created = await insertKey(w, siteId, name, scopes, now);
    await appendAudit(w, siteId, { actor, action: 'key.create', target: created.key.id, details: { name, scopes: created.key.scopes } }, now);
    return created;
  });
}

export async function listKeys(ctx: ServiceContext, siteId: string): Promise<ApiKey[]> {
  const rows = await ctx.db.select().from(apiKeys).where(eq(apiKeys.siteId, siteId)).orderBy(asc(apiKeys.createdAt));
  return rows.map(present);
}

export async function revokeKey(ctx: ServiceContext, siteId: string, keyId: string, actor: string): Promise<ApiKey> {
  const revoked = await ctx.queue.run(async (w) => {
    const [row] = await w.db.select().from(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.siteId, siteId)));
    if (!row) throw notFound('key');
    if (row.revokedAt !== null) return present(row);
    const now = ctx.now();
    await w.db.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, keyId));
    await appendAudit(w, siteId, { actor, action: 'key.revoke', target: keyId }, now);
    return present({ ...row, revokedAt: now });
  });
  forgetKey(ctx, keyId);
  return revoked;
}

/**
 * The key last read per database handle, at which data_version, and the secret it was
 * read for: the same secret again is compared instead of hashed (the hash cost 5 µs of a
 * send check's CPU time).
 */
const lastKeys = new WeakMap<object, { version: number; secret: string; key: AuthenticatedKey | undefined }>();

/** Compares two secrets of the key format's fixed length in time that does not depend on where they differ. */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

const KEY_SQL = 'SELECT site_id, secret_hash, scopes, revoked_at FROM api_keys WHERE id = ?';

/** The key of `id` from its row (site_id, secret_hash, scopes, revoked_at), when the secret's hash matches and it is not revoked. */
function keyOf(id: string, hash: string, row: readonly unknown[] | undefined): AuthenticatedKey | undefined {
  if (!row || row[3] !== null || !timingSafeEqual(Buffer.from(hash), Buffer.from(String(row[1])))) return undefined;
  return { id, siteId: String(row[0]), scopes: new Set(JSON.parse(String(row[2])) as KeyScope[]) };
}

/**
 * Resolves a bearer secret to its key; undefined for a malformed, unknown or revoked one.
 * On a local database file the answer is immediate (no promise: every API request pays
 * for its key, and each await costs it); elsewhere see authenticateRemote.
 */
export function authenticate(
  ctx: Pick<ServiceContext, 'db'> & Partial<Pick<ServiceContext, 'queue'>>,
  secret: string,
): AuthenticatedKey | undefined | Promise<AuthenticatedKey | undefined> {
  // On a local database file: the key's row, read synchronously (a few µs), and read again
  // whenever anything was committed since (SQLite's data_version on the read-only connection).
  const sync = checkReader(ctx as Parameters<typeof checkReader>[0]).sync;
  const version = sync?.version();
  const seen = lastKeys.get(ctx.db);
  // The secret last read (well-formed, or it would not be there), unchanged since.
  if (seen && seen.version === version && sameSecret(seen.secret, secret)) return seen.key;
  const match = /^sk_([A-Za-z0-9_-]{22})_[A-Za-z0-9_-]{43}$/.exec(secret);
  if (!match) return undefined;
  if (sync && version !== undefined) {
    const key = keyOf(match[1]!, sha256Hex(secret), sync.row(KEY_SQL, [match[1]!]));
    lastKeys.set(ctx.db, { version, secret, key });
    return key;
  }
  return authenticateRemote(ctx, match[1]!, sha256Hex(secret));
}

/**
 * Against a libSQL server: a key seen before is answered from memory until another
 * connection writes to the database (see WriteQueue.externalVersion), or for a few seconds.
 */
async function authenticateRemote(
  ctx: Pick<ServiceContext, 'db'> & Partial<Pick<ServiceContext, 'queue'>>,
  id: string,
  hash: string,
): Promise<AuthenticatedKey | undefined> {
  const cache = keyCache(ctx);
  const version = await ctx.queue?.externalVersion();
  const now = Date.now();
  const cached = cache.entries.get(hash);
  // A known version must match; while it cannot be read (the writer is busy), age decides.
  if (cached && (version !== undefined ? cached.version === version : now - cached.at < KEY_CACHE_TTL_MS)) return cached.key;
  const generation = cache.generation;
  const { rows } = await ctx.db.$client.execute({ sql: KEY_SQL, args: [id] });
  const row = rows[0];
  const key = keyOf(id, hash, row ? [row[0], row[1], row[2], row[3]] : undefined);
  if (!key) {
    cache.entries.delete(hash);
    return undefined;
  }
  if (ctx.queue && cache.generation === generation) {
    if (cache.entries.size >= KEY_CACHE_MAX) cache.entries.clear();
    cache.entries.set(hash, { key, version, at: now });
  }
  return key;
}
