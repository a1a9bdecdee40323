/**
 * The scheduling half of a transactional outbox's delivery (mail, webhooks): run a round
 * now when told something was queued, again at once while rounds come back full, and
 * otherwise every poll interval; one round at a time; stop cleanly. What a round does
 * (claim due rows, send them, record outcomes) belongs to the caller.
 */
export interface OutboxLoopOptions<R> {
  /** Name in the error log line. */
  job: string;
  /** One round; resolves with its report. */
  round: () => Promise<R>;
  /** Rows a round handled: a full batch means more may be waiting. */
  handled: (report: R) => number;
  batch: number;
  /** Delay before the next round when nothing nudges (may depend on what is due). */
  nextPollMs: () => number;
}

/** The timing every outbox's delivery loop takes (each states its own defaults). */
export interface OutboxTiming {
  /** How often due rows are looked for without a nudge. */
  pollMs?: number;
  /** How long a claim holds before another loop may take the row. */
  claimMs?: number;
  /** First retry delay, doubled per attempt, capped at maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A row still undelivered this long after it was queued is given up. */
  giveUpMs?: number;
  /** Rows claimed per round. */
  batch?: number;
  /** Log retries and failures (never with an address). */
  log?: boolean;
}

export class OutboxLoop<R> {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<R> | undefined;
  #again = false;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly o: OutboxLoopOptions<R>) {}

  /** Starts polling; `subscribe` registers a listener told of newly queued rows. */
  start(subscribe?: (listener: () => void) => () => void): void {
    this.#unsubscribe = subscribe?.(() => this.nudge());
    this.#schedule(0);
  }

  /** Runs a round now rather than at the next poll. */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  /** Stops the loop and waits for a round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One round, or the one already in progress. */
  runOnce(): Promise<R> {
    if (this.#running) return this.#running;
    this.#running = this.o.round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#loop(), ms);
    this.#timer.unref();
  }

  async #loop(): Promise<void> {
    if (this.#stopped || this.#running) return;
    try {
      do {
        this.#again = false;
        const report = await this.runOnce();
        if (this.o.handled(report) >= this.o.batch) this.#again = true;
      } while (this.#again && !this.#stopped);
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', job: this.o.job, error: error instanceof Error ? error.name : 'unknown' }));
    }
    if (!this.#stopped) this.#schedule(this.o.nextPollMs());
  }
}

/**
 * After a failed attempt of an outbox row: the delay before the next one (doubling from
 * backoffMs, at most maxBackoffMs), or give up when the failure is permanent or the row
 * would still be undelivered giveUpMs after it was queued.
 */
export function afterFailure(
  o: { backoffMs: number; maxBackoffMs: number; giveUpMs: number },
  row: { attempts: number; createdAt: number },
  done: number,
  permanent: boolean,
): { giveUp: boolean; delay: number } {
  const delay = Math.min(o.backoffMs * 2 ** (row.attempts - 1), o.maxBackoffMs);
  return { giveUp: permanent || done + delay - row.createdAt > o.giveUpMs, delay };
}

/** One log line for a retried or given-up row: ids and codes only, never an address. */
export function logFailure(fields: Record<string, unknown>, giveUp: boolean, delay: number): void {
  const line = { level: giveUp ? 'error' : 'warn', ...fields, ...(giveUp ? {} : { retryInMs: delay }) };
  (giveUp ? console.error : console.log)(JSON.stringify(line));
}
