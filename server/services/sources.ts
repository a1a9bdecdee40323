/** Sources ("Kilde"): how a person or a consent came in. A site's list is editable; used keys are archived, never deleted. */
import { and, asc, eq } from 'drizzle-orm';
import { sources } from '../db/schema';
import type { WriteContext } from '../db/write-queue';
import { appendAudit } from './audit';
import type { ServiceContext } from './context';
import { newId } from './crypto';
import { conflict, notFound } from './errors';

export interface Source {
  key: string;
  label: string;
  archived: boolean;
  createdAt: string;
}

type SourceRow = typeof sources.$inferSelect;

const present = (r: SourceRow): Source => ({
  key: r.key,
  label: r.label,
  archived: r.archivedAt !== null,
  createdAt: new Date(r.createdAt).toISOString(),
});

export async function listSources(ctx: ServiceContext, siteId: string): Promise<Source[]> {
  const rows = await ctx.db.select().from(sources).where(eq(sources.siteId, siteId)).orderBy(asc(sources.createdAt), asc(sources.key));
  return rows.map(present);
}

export async function findSourceRow(ctx: Pick<ServiceContext, 'db'>, siteId: string, key: string): Promise<SourceRow | undefined> {
  const [row] = await ctx.db.select().from(sources).where(and(eq(sources.siteId, siteId), eq(sources.key, key)));
  return row;
}

async function getSource(ctx: ServiceContext, siteId: string, key: string): Promise<Source> {
  const row = await findSourceRow(ctx, siteId, key);
  if (!row) throw notFound('source');
  return present(row);
}

export async function insertSource(w: WriteContext, siteId: string, key: string, label: string, now: number) {
  const [existing] = await w.db.select({ id: sources.id }).from(sources).where(and(eq(sources.siteId, siteId), eq(sources.key, key)));
  if (existing) throw conflict('source_exists', `a source with key '${key}' already exists`);
  await w.db.insert(sources).values({ id: newId(), siteId, key, label, archivedAt: null, createdAt: now });
}

export async function createSource(ctx: ServiceContext, siteId: string, input: { key: string; label: string }, actor: string) {
  await ctx.queue.run(async (w) => {
    const now = ctx.now();
    await insertSource(w, siteId, input.key, input.label, now);
    await appendAudit(w, siteId, { actor, action: 'source.create', target: input.key }, now);
  });
  ctx.catalog.invalidate(siteId);
  return getSource(ctx, siteId, input.key);
}

export async function updateSource(
  ctx: ServiceContext,
  siteId: string,
  key: string,
  patch: { label?: string; archived?: boolean },
  actor: string,
) {
  await ctx.queue.run(async (w) => {
    const [row] = await w.db.select().from(sources).where(and(eq(sources.siteId, siteId), eq(sources.key, key)));
    if (!row) throw notFound('source');
    const now = ctx.now();
    await w.db
      .update(sources)
      .set({
        label: patch.label ?? row.label,
        archivedAt: patch.archived === undefined ? row.archivedAt : patch.archived ? (row.archivedAt ?? now) : null,
      })
      .where(eq(sources.id, row.id));
    await appendAudit(w, siteId, { actor, action: 'source.update', target: key, details: { ...patch } }, now);
  });
  ctx.catalog.invalidate(siteId);
  return getSource(ctx, siteId, key);
}
