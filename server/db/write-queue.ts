/**
 * Group commit. Concurrent writes are gathered into one transaction and one fsync, and
 * no caller hears back before the transaction holding its write has committed.
 *
 * Two kinds of job share a transaction: a plain job runs alone in its own savepoint, so
 * a failing job rolls back alone; a batched job (the consent ledger's hot path) is
 * handed, with all others of its kind, to one function that writes them with a few
 * multi-row statements and answers each one separately.
 */
import type { Client, Transaction } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import * as schema from './schema';
import type { Db } from './client';

export interface WriteContext {
  /** Raw statements, for the hot path. */
  tx: Transaction;
  /** The same transaction through drizzle, for everything else. */
  db: Db;
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

  constructor(
    private readonly writer: Client,
    private readonly maxBatch = 512,
  ) {}

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
    let tx: Transaction | undefined;
    try {
      tx = await this.writer.transaction('write');
      const ctx: WriteContext = { tx, db: drizzle(tx as unknown as Client, { schema }) };
      const groups = new Map<BatchWriter<unknown, unknown>, Job[]>();
      for (const job of jobs) {
        if (job.batch) {
          const group = groups.get(job.batch.writer) ?? [];
          group.push(job);
          groups.set(job.batch.writer, group);
          continue;
        }
        outcomes.set(job, await inSavepoint(tx, async () => ({ ok: true, value: await job.work!(ctx) })));
      }
      for (const [writer, group] of groups) {
        const results = await inSavepoint(tx, async () => ({
          ok: true,
          value: await writer.write(ctx, group.map((j) => j.batch!.input)),
        }));
        group.forEach((job, i) =>
          outcomes.set(job, results.ok ? (results.value as Outcome<unknown>[])[i]! : results),
        );
      }
      await tx.commit();
    } catch (error) {
      tx?.close();
      for (const job of jobs) job.reject(error);
      return;
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
