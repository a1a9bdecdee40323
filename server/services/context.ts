import type { Db } from '../db/client';
import type { WriteQueue } from '../db/write-queue';
import type { Catalog } from './catalog';
import type { Crypto } from './crypto';

/** What every service needs: reads, the write queue, key material, cached definitions and the clock. */
export interface ServiceContext {
  db: Db;
  queue: WriteQueue;
  crypto: Crypto;
  catalog: Catalog;
  now: () => number;
}
