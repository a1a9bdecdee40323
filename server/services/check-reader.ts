/**
 * The reads behind send checks, tuned for many lookups at once.
 *
 * Every lookup is one statement whose text never changes: the keys travel as one JSON
 * array parameter (`json_each`), and the answer comes back as one JSON text
 * (`json_group_array`), so there is no parameter limit, no per-row result object and,
 * on a local database file, no statement preparation per call: the checks then read
 * through a connection of their own with its statements prepared once (the
 * @libsql/client pool prepares every statement anew, which costs more than a point
 * lookup itself). Elsewhere (a remote libSQL server, an in-memory database) the same
 * statements go through the pooled client.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Client } from '@libsql/client';
import type { Db } from '../db/client';
import { localCommits } from '../db/commits';
import { WorkerCalls } from './worker-calls';

/** What a connection of `libsql` (the native binding under @libsql/client) offers, as far as used here. */
interface NativeStatement {
  raw(on?: boolean): NativeStatement;
  get(...args: unknown[]): unknown[] | undefined;
}
interface NativeDatabase {
  prepare(sql: string): NativeStatement;
  exec(sql: string): void;
  close(): void;
  open: boolean;
}
type NativeConstructor = new (path: string, options?: { timeout?: number }) => NativeDatabase;

/** Synchronous reads, on a local database file only (the checks' own connection). */
export interface SyncReader {
  json(sql: string, args: (string | number | null)[]): string;
  row(sql: string, args: (string | number | null)[]): readonly unknown[] | undefined;
  /**
   * SQLite's data_version of this (read-only) connection: it changes whenever any other
   * connection (this process's writer, another process) has committed since, and only
   * then. Equal values mean nothing was written in between. Read again after each commit
   * of this process (commits.ts) and every EXTERNAL_WRITES_SEEN_WITHIN_MS: a check sees
   * every write of this process acknowledged before it arrived, and every write committed
   * elsewhere that long before it began.
   */
  version(): number;
  /** Runs `read` in one read transaction: its statements see one moment of the database. */
  snapshot<T>(read: () => T): T;
}

export interface CheckReader {
  /** The same reads, answered within the caller's turn; only on a local database file. */
  readonly sync?: SyncReader;
  /**
   * One JSON text for `sql` with `args` (the first column of its only row). `heavy`: a
   * lookup of many keys, which may run on a worker thread, in parallel with others.
   */
  json(sql: string, args: (string | number | null)[], heavy?: boolean): Promise<string>;
  /** How many heavy lookups run at once (worker threads); 0: they run on the main thread. */
  readonly parallelism: number;
  /** The first row of `sql` with `args`, as an array of its columns. */
  row(sql: string, args: (string | number | null)[]): Promise<readonly unknown[] | undefined>;
}

/** `libsql`, resolved from @libsql/client (whose dependency it is); undefined when it cannot be loaded. */
let native: NativeConstructor | null | undefined;
function nativeDatabase(): NativeConstructor | undefined {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.resolve('@libsql/client'))('libsql') as NativeConstructor;
    } catch {
      native = null;
    }
  }
  return native ?? undefined;
}

/** The file behind a `file:` URL, or undefined for anything a second connection would not share (memory, remote). */
export function databaseFile(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  let rest = url.slice('file:'.length);
  const query = rest.indexOf('?');
  if (query >= 0) {
    if (/(^|&)mode=memory(&|$)/.test(rest.slice(query + 1))) return undefined;
    rest = rest.slice(0, query);
  }
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const host = rest.slice(2, slash < 0 ? undefined : slash);
    if (host !== '' && host !== 'localhost') return undefined;
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  try {
    rest = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  if (rest === '' || rest === ':memory:' || rest.startsWith(':memory:')) return undefined;
  return rest;
}

class PooledReader implements CheckReader {
  readonly parallelism = 0;
  constructor(private readonly client: Client) {}
  async json(sql: string, args: (string | number | null)[]): Promise<string> {
    const { rows } = await this.client.execute({ sql, args });
    return String(rows[0]?.[0] ?? '[]');
  }
  async row(sql: string, args: (string | number | null)[]): Promise<readonly unknown[] | undefined> {
    const { rows, columns } = await this.client.execute({ sql, args });
    const row = rows[0];
    return row ? columns.map((_, i) => row[i]) : undefined;
  }
}

/**
 * How long a data_version read is reused while this process commits nothing: a write
 * committed by another process (another instance, the CLI) is seen by every check that
 * begins this long after it. Each read costs some 50 µs on a loaded server (a read
 * transaction on the file); read every millisecond, it took 10 of a single check's
 * 170 µs.
 */
export const EXTERNAL_WRITES_SEEN_WITHIN_MS = 5;

class NativeReader implements CheckReader {
  readonly #statements = new Map<string, NativeStatement>();
  #workers: WorkerPool | undefined;
  #version = { commits: -1, at: 0, value: 0 };
  readonly sync: SyncReader = {
    json: (sql, args) => String(this.#statement(sql).get(...args)?.[0] ?? '[]'),
    row: (sql, args) => this.#statement(sql).get(...args),
    version: () => {
      const commits = localCommits();
      const now = performance.now();
      if (this.#version.commits !== commits || now - this.#version.at >= EXTERNAL_WRITES_SEEN_WITHIN_MS) {
        this.#version = { commits, at: now, value: Number(this.#statement('PRAGMA data_version').get()![0]) };
      }
      return this.#version.value;
    },
    snapshot: (read) => {
      this.connection.exec('BEGIN');
      try {
        return read();
      } finally {
        this.connection.exec('COMMIT');
      }
    },
  };
  constructor(
    readonly connection: NativeDatabase,
    private readonly client: Client,
    private readonly file: string,
    private readonly workerCount: number,
  ) {}
  get parallelism() {
    return this.#workers && !this.#workers.usable ? 0 : this.workerCount;
  }
  #statement(sql: string): NativeStatement {
    // The app's client closed: so does this connection (its database may be gone).
    if (this.client.closed) {
      this.close();
      throw new Error('The client is closed');
    }
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.connection.prepare(sql).raw(true);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
  async json(sql: string, args: (string | number | null)[], heavy = false): Promise<string> {
    if (heavy && this.workerCount > 0) {
      if (this.client.closed) {
        this.close();
        throw new Error('The client is closed');
      }
      this.#workers ??= new WorkerPool(this.file, this.workerCount);
      if (this.#workers.usable) return this.#workers.json(sql, args);
    }
    const row = this.#statement(sql).get(...args);
    return String(row?.[0] ?? '[]');
  }
  async row(sql: string, args: (string | number | null)[]): Promise<readonly unknown[] | undefined> {
    return this.#statement(sql).get(...args);
  }
  close() {
    this.#statements.clear();
    this.#workers?.close();
    this.#workers = undefined;
    if (this.connection.open) this.connection.close();
  }
}

const readers = new WeakMap<Db, CheckReader>();
const closeWhenCollected = new FinalizationRegistry<NativeReader>((reader) => {
  try {
    reader.close();
  } catch {
    // nothing to do
  }
});

/** Busy timeout of the checks' own connection (as the pooled client's default). */
const BUSY_TIMEOUT_MS = 5000;

/**
 * The reader for this app's database: its own read-only connection when the database is
 * a local file the `libsql` binding can open, else the pooled client. `database` comes
 * with the full services (the HTTP app, the CLI); without it the pooled client is used.
 */
export function checkReader(ctx: { db: Db; database?: { url: string }; checkWorkers?: number }): CheckReader {
  const existing = readers.get(ctx.db);
  if (existing && !(existing instanceof NativeReader && !existing.connection.open)) return existing;
  const client = ctx.db.$client;
  let reader: CheckReader = new PooledReader(client);
  const file = ctx.database ? databaseFile(ctx.database.url) : undefined;
  const Native = file !== undefined && client.protocol === 'file' && !client.closed ? nativeDatabase() : undefined;
  if (Native && file !== undefined) {
    try {
      const connection = new Native(file, { timeout: BUSY_TIMEOUT_MS });
      connection.exec('PRAGMA query_only = 1');
      const native = new NativeReader(connection, client, file, ctx.checkWorkers ?? defaultWorkers());
      reader = native;
      closeWhenCollected.register(ctx.db, native);
    } catch {
      // Fall back to the pooled client.
    }
  }
  readers.set(ctx.db, reader);
  return reader;
}

/**
 * Worker threads for bulk lookups (each with its own connection), so SQLite runs on
 * another core while the main thread parses, hashes and answers: one per core beyond
 * the main thread's, at least one, at most three (each costs some 30 MB of memory).
 * CHECK_WORKERS (config) overrides the count (0: none, everything on the main thread).
 */
function defaultWorkers(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, 3));
}

/** The worker's code: plain JavaScript, so it needs no TypeScript loader. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.libsql);
const db = new Database(workerData.file, { timeout: workerData.timeout });
db.exec('PRAGMA query_only = 1');
const statements = new Map();
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  try {
    let statement = statements.get(m.sql);
    if (!statement) { statement = db.prepare(m.sql).raw(true); statements.set(m.sql, statement); }
    const row = statement.get(...m.args);
    parentPort.postMessage({ id: m.id, text: String(row && row[0] != null ? row[0] : '[]') });
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String(error && error.message ? error.message : error) });
  }
});
`;

class WorkerPool {
  #workers: WorkerCalls[] = [];
  #next = 0;
  usable = true;

  constructor(file: string, count: number) {
    let libsql: string;
    try {
      libsql = createRequire(import.meta.resolve('@libsql/client')).resolve('libsql');
    } catch {
      this.usable = false;
      return;
    }
    for (let i = 0; i < count; i++) {
      const options = {
        workerData: { file, libsql, timeout: BUSY_TIMEOUT_MS },
        // A worker holds one chunk's keys and answer at a time: a small heap keeps the CSV check's memory flat.
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
      };
      this.#workers.push(new WorkerCalls(WORKER_SOURCE, options, () => (this.usable = false)));
    }
  }

  json(sql: string, args: (string | number | null)[]): Promise<string> {
    // The least busy worker (round robin among equals).
    let best = this.#workers[this.#next++ % this.#workers.length]!;
    for (const w of this.#workers) if (w.pending < best.pending) best = w;
    return best.call({ sql, args });
  }

  close() {
    this.usable = false;
    for (const worker of this.#workers) worker.close();
    this.#workers = [];
  }
}
