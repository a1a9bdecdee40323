import type { Db } from '../db/client';
import type { WriteQueue } from '../db/write-queue';
import type { Catalog } from './catalog';
import type { Crypto } from './crypto';
import type { Mail } from './mail';

/** What every service needs: reads, the write queue, key material, cached definitions, the clock and the mail outbox. */
export interface ServiceContext {
  db: Db;
  queue: WriteQueue;
  crypto: Crypto;
  catalog: Catalog;
  now: () => number;
  /** The mail outbox: enqueue inside a write transaction. */
  mail: Mail;
}
