/**
 * Calls to a worker thread that answers each message `{id, …}` with `{id, text}` or
 * `{id, error}`: the send checks' lookup workers (check-reader.ts) and hashing worker
 * (check-hmac.ts). The thread never keeps the process alive while nothing is asked of
 * it. Once it fails (an error, an exit), every pending call is rejected and it is not
 * usable any more.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export class WorkerCalls {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  #id = 0;
  usable = true;

  /** `source`: plain JavaScript, evaluated (a worker does not get the main thread's TypeScript loader). */
  constructor(source: string, options: WorkerOptions, onFail?: () => void) {
    this.#worker = new Worker(source, { ...options, eval: true });
    this.#worker.unref();
    this.#worker.on('message', (m: { id: number; text?: string; error?: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.text!);
      if (this.#pending.size === 0) this.#worker.unref();
    });
    const fail = (error: Error) => {
      this.usable = false;
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
      onFail?.();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', () => fail(new Error('worker exited')));
  }

  /** Calls waiting for their answer. */
  get pending(): number {
    return this.#pending.size;
  }

  call(message: Record<string, unknown>): Promise<string> {
    if (!this.usable) return Promise.reject(new Error('worker unusable'));
    const id = ++this.#id;
    return new Promise<string>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
  }

  /** Asks the worker to finish (its source handles the message `'close'`). */
  close(): void {
    this.usable = false;
    this.#worker.postMessage('close');
    this.#worker.unref();
  }
}
