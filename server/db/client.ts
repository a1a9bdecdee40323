/**
 * The one place that opens the database. Reads go through a pooled client; every write
 * goes through a separate single-connection client owned by the write queue, so the
 * per-connection durability pragma is set exactly where commits happen.
 */
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate as drizzleMigrate } from 'drizzle-orm/libsql/migrator';
import * as schema from './schema';

export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

export interface Database {
  url: string;
  isFile: boolean;
  /** Pooled client for reads. */
  client: Client;
  db: Db;
  /** Single-connection client for the write queue's transactions. */
  writer: Client;
  close(): void;
}

export interface OpenOptions {
  url: string;
  authToken?: string;
  /** `FULL` (default) makes every commit durable on power loss; `NORMAL` is faster in WAL mode. */
  synchronous?: 'FULL' | 'NORMAL';
  busyTimeoutMs?: number;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const isFile = options.url.startsWith('file:');
  const base = { url: options.url, authToken: options.authToken, timeout: options.busyTimeoutMs ?? 5000 };
  const client = createClient(base);
  const writer = createClient({ ...base, concurrency: 1 });
  if (isFile) {
    // Stored in the file: concurrent readers never wait for the writer.
    await client.execute('PRAGMA journal_mode=WAL');
    await writer.execute(`PRAGMA synchronous=${options.synchronous ?? 'FULL'}`);
    await writer.execute('PRAGMA foreign_keys=ON');
  }
  return {
    url: options.url,
    isFile,
    client,
    db: drizzle(client, { schema }),
    writer,
    close() {
      writer.close();
      client.close();
    },
  };
}

export async function migrate(database: Database): Promise<void> {
  await drizzleMigrate(drizzle(database.writer, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
}
