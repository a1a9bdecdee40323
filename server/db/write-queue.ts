/**
 * Group commit. Concurrent writes are gathered into one transaction and one fsync, and
 * no caller hears back before the transaction holding its write has committed.
 *
 * Two kinds of job share a transaction: a plain job runs alone in its own savepoint, so
 * a failing job rolls back alone; a batched job (the consent ledger's hot path) is
 * handed, with all others of its kind, to one function that writes them with a few
 * multi-row statements and answers each one separately.
 */
import { noteLocalCommit } from './commits';
import type { Client, Transaction } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import * as schema from './schema';
import type { Db } from './client';
import type { AppendHook } from '../services/events';

export interface WriteContext {
  /** Raw statements, for the hot path. */
  tx: Transaction;
  /** The same transaction through drizzle, for everything else. */
  db: Db;
  /** Run by appendEvents inside this transaction (e.g. the webhook outbox). */
  appendHooks: readonly AppendHook[];
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Writes many inputs of one kind at once; must answer one outcome per input, in order. */
export interface BatchWriter<I, O> {
  readonly name: string;
  write(ctx: WriteContext, inputs: I[]): Promise<Outcome<O>[]>;
}

type Job = {
  work?: (ctx: WriteContext) => Promise<unknown>;
  batch?: { writer: BatchWriter<unknown, unknown>; input: unknown };
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

export class WriteQueue {
  #pending: Job[] = [];
  #flushing: Promise<void> | null = null;
  readonly stats = { transactions: 0, jobs: 0 };
  readonly #appendHooks: AppendHook[] = [];

  constructor(
    private readonly writer: Client,
    private readonly maxBatch = 512,
  ) {}

  /** Adds a hook every appendEvents in this queue's transactions runs; returns its removal. */
  onAppend(hook: AppendHook): () => void {
    this.#appendHooks.push(hook);
    return () => {
      const i = this.#appendHooks.indexOf(hook);
      if (i >= 0) this.#appendHooks.splice(i, 1);
    };
  }

  /** Runs `work` in the next group transaction; resolves once that transaction has committed. */
  run<T>(work: (ctx: WriteContext) => Promise<T>): Promise<T> {
    return this.#enqueue({ work });
  }

  /** Hands `input` to `writer` together with every other input of that writer in the next transaction. */
  runBatched<I, O>(writer: BatchWriter<I, O>, input: I): Promise<O> {
    return this.#enqueue({ batch: { writer: writer as BatchWriter<unknown, unknown>, input } });
  }

  /** Waits until every queued job has been committed or rejected. */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  #inTransaction = false;
  #externalVersion: Promise<number | undefined> | undefined;

  /**
   * A number that changes whenever a connection other than this queue's own commits to
   * the database (another process, the CLI, another instance, a raw write on the read
   * pool), and only then: SQLite's `PRAGMA data_version` on the writer connection. Lets
   * a cache of rows that only change through this queue (or elsewhere) stay valid until
   * someone else writes. Asked once per event-loop turn, so a write committed elsewhere
   * may be seen one loop iteration late (used only where the checks' own connection is
   * unavailable; see keys.ts). Undefined when it cannot be known (not a local file, or the
   * connection is busy).
   */
  externalVersion(): Promise<number | undefined> {
    if (this.#externalVersion) return this.#externalVersion;
    if (this.writer.protocol !== 'file' || this.#inTransaction) return Promise.resolve(undefined);
    this.#externalVersion = this.writer.execute('PRAGMA data_version').then(
      (r) => Number(r.rows[0]![0]),
      () => undefined,
    );
    setImmediate(() => {
      this.#externalVersion = undefined;
    });
    return this.#externalVersion;
  }

  #enqueue<T>(job: Pick<Job, 'work' | 'batch'>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ ...job, resolve: resolve as (v: unknown) => void, reject });
      this.#flushing ??= this.#drain();
    });
  }

  async #drain(): Promise<void> {
    // Let the requests of this tick join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.#pending.length > 0) {
        await this.#commit(this.#pending.splice(0, this.maxBatch));
      }
    } finally {
      this.#flushing = null;
    }
  }

  async #commit(jobs: Job[]): Promise<void> {
    const outcomes = new Map<Job, Outcome<unknown>>();
    const plain: Job[] = [];
    const groups = new Map<BatchWriter<unknown, unknown>, Job[]>();
    for (const job of jobs) {
      if (!job.batch) {
        plain.push(job);
        continue;
      }
      const group = groups.get(job.batch.writer);
      if (group) group.push(job);
      else groups.set(job.batch.writer, [job]);
    }
    // A transaction holding one unit of work (the usual case for the consent batch) needs
    // no savepoint: if that unit fails, the whole transaction rolls back instead.
    const alone = plain.length + groups.size === 1;
    let failedAlone = false;
    let tx: Transaction | undefined;
    this.#inTransaction = true;
    try {
      tx = await this.writer.transaction('write');
      const ctx = writeContext(tx, this.#appendHooks);
      const unit = async <T>(work: () => Promise<T>): Promise<Outcome<T>> => {
        if (!alone) return inSavepoint(tx!, async () => ({ ok: true, value: await work() }));
        try {
          return { ok: true, value: await work() };
        } catch (error) {
          failedAlone = true;
          return { ok: false, error };
        }
      };
      for (const job of plain) outcomes.set(job, await unit(() => job.work!(ctx)));
      for (const [writer, group] of groups) {
        const results = await unit(() => writer.write(ctx, group.map((j) => j.batch!.input)));
        group.forEach((job, i) => outcomes.set(job, results.ok ? results.value[i]! : results));
      }
      if (failedAlone) tx.close(); // rolls back whatever the failed unit left
      else {
        await tx.commit();
        // Cached reads (API keys, the check index) must see this commit from now on.
        noteLocalCommit();
      }
    } catch (error) {
      tx?.close();
      for (const job of jobs) job.reject(error);
      return;
    } finally {
      this.#inTransaction = false;
    }
    this.stats.transactions++;
    this.stats.jobs += jobs.length;
    for (const job of jobs) {
      const outcome = outcomes.get(job)!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    }
  }
}

/** The drizzle wrapper costs as much as a statement to build, so only jobs that use it pay for it. */
function writeContext(tx: Transaction, appendHooks: readonly AppendHook[]): WriteContext {
  let db: Db | undefined;
  return {
    tx,
    appendHooks,
    get db() {
      return (db ??= drizzle(tx as unknown as Client, { schema }));
    },
  };
}

async function inSavepoint<T>(tx: Transaction, work: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
  await tx.execute('SAVEPOINT job');
  try {
    const outcome = await work();
    await tx.execute('RELEASE job');
    return outcome;
  } catch (error) {
    await tx.execute('ROLLBACK TO job');
    await tx.execute('RELEASE job');
    return { ok: false, error };
  }
}
