/**
 * Wording versions: the exact text a person is shown for a purpose, per language.
 * Drafts can change; publishing freezes the text, stores each language's SHA-256 and
 * makes the version the purpose's current one; retiring stops new grants naming it.
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { wordingDigestInput, type WordingStatus } from '../../shared/enums';
import { purposes, sites, wordingTexts, wordingVersions } from '../db/schema';
import type { WriteContext } from '../db/write-queue';
import type { Db } from '../db/client';
import { appendAudit } from './audit';
import type { ServiceContext } from './context';
import { newId, sha256Hex } from './crypto';
import { conflict, notFound } from './errors';

export type WordingTextsInput = Record<string, { title: string; body: string }>;

export interface WordingText {
  lang: string;
  title: string;
  body: string;
  sha256: string | null;
}

export interface WordingVersion {
  id: string;
  purpose: string;
  version: number;
  status: WordingStatus;
  createdAt: string;
  publishedAt: string | null;
  retiredAt: string | null;
  texts: WordingText[];
}

type VersionRow = typeof wordingVersions.$inferSelect;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function wordingSha256(lang: string, title: string, body: string): string {
  return sha256Hex(wordingDigestInput(lang, title, body));
}

async function loadTexts(db: Db, versionIds: string[]): Promise<Map<string, WordingText[]>> {
  const byVersion = new Map<string, WordingText[]>();
  if (versionIds.length === 0) return byVersion;
  const rows = await db
    .select()
    .from(wordingTexts)
    .where(inArray(wordingTexts.versionId, versionIds))
    .orderBy(asc(wordingTexts.lang));
  for (const r of rows) {
    const list = byVersion.get(r.versionId) ?? [];
    list.push({ lang: r.lang, title: r.title, body: r.body, sha256: r.sha256 });
    byVersion.set(r.versionId, list);
  }
  return byVersion;
}

function toWording(row: VersionRow, purposeKey: string, texts: WordingText[]): WordingVersion {
  return {
    id: row.id,
    purpose: purposeKey,
    version: row.version,
    status: row.status,
    createdAt: new Date(row.createdAt).toISOString(),
    publishedAt: iso(row.publishedAt),
    retiredAt: iso(row.retiredAt),
    texts,
  };
}

async function findPurpose(db: Db, siteId: string, purposeKey: string) {
  const [purpose] = await db
    .select()
    .from(purposes)
    .where(and(eq(purposes.siteId, siteId), eq(purposes.key, purposeKey)));
  if (!purpose) throw notFound('purpose');
  return purpose;
}

async function findVersion(db: Db, purposeId: string, version: number): Promise<VersionRow> {
  const [row] = await db
    .select()
    .from(wordingVersions)
    .where(and(eq(wordingVersions.purposeId, purposeId), eq(wordingVersions.version, version)));
  if (!row) throw notFound('wording version');
  return row;
}

export async function listWordings(ctx: ServiceContext, siteId: string, purposeKey: string): Promise<WordingVersion[]> {
  const purpose = await findPurpose(ctx.db, siteId, purposeKey);
  const rows = await ctx.db
    .select()
    .from(wordingVersions)
    .where(eq(wordingVersions.purposeId, purpose.id))
    .orderBy(desc(wordingVersions.version));
  const texts = await loadTexts(ctx.db, rows.map((r) => r.id));
  return rows.map((r) => toWording(r, purpose.key, texts.get(r.id) ?? []));
}

export async function getWording(ctx: ServiceContext, siteId: string, purposeKey: string, version: number) {
  const purpose = await findPurpose(ctx.db, siteId, purposeKey);
  const row = await findVersion(ctx.db, purpose.id, version);
  const texts = await loadTexts(ctx.db, [row.id]);
  return toWording(row, purpose.key, texts.get(row.id) ?? []);
}

/** Inserts a draft as the purpose's next version, inside the caller's transaction. */
export async function insertDraft(
  w: WriteContext,
  siteId: string,
  purposeId: string,
  texts: WordingTextsInput,
  now: number,
): Promise<VersionRow> {
  const [last] = await w.db
    .select({ version: sql<number>`coalesce(max(${wordingVersions.version}), 0)` })
    .from(wordingVersions)
    .where(eq(wordingVersions.purposeId, purposeId));
  const row: VersionRow = {
    id: newId(),
    siteId,
    purposeId,
    version: (last?.version ?? 0) + 1,
    status: 'draft',
    createdAt: now,
    publishedAt: null,
    retiredAt: null,
  };
  await w.db.insert(wordingVersions).values(row);
  await w.db
    .insert(wordingTexts)
    .values(Object.entries(texts).map(([lang, t]) => ({ versionId: row.id, lang, title: t.title, body: t.body })));
  return row;
}

/** Freezes a draft: hashes each language, marks it published and current. */
export async function publishDraft(w: WriteContext, row: VersionRow, defaultLanguage: string, now: number) {
  if (row.status !== 'draft') throw conflict('wording_not_draft', `version ${row.version} is ${row.status}; only a draft can be published`);
  const texts = await w.db.select().from(wordingTexts).where(eq(wordingTexts.versionId, row.id));
  if (!texts.some((t) => t.lang === defaultLanguage)) {
    throw conflict('wording_missing_default_language', `a published wording needs a text in the site's default language (${defaultLanguage})`);
  }
  for (const t of texts) {
    await w.db
      .update(wordingTexts)
      .set({ sha256: wordingSha256(t.lang, t.title, t.body) })
      .where(and(eq(wordingTexts.versionId, row.id), eq(wordingTexts.lang, t.lang)));
  }
  await w.db.update(wordingVersions).set({ status: 'published', publishedAt: now }).where(eq(wordingVersions.id, row.id));
  await w.db.update(purposes).set({ currentVersionId: row.id }).where(eq(purposes.id, row.purposeId));
}

export async function createDraft(
  ctx: ServiceContext,
  siteId: string,
  purposeKey: string,
  texts: WordingTextsInput,
  actor: string,
): Promise<WordingVersion> {
  const purpose = await findPurpose(ctx.db, siteId, purposeKey);
  const row = await ctx.queue.run(async (w) => {
    const now = ctx.now();
    const created = await insertDraft(w, siteId, purpose.id, texts, now);
    await appendAudit(w, siteId, { actor, action: 'wording.draft', target: `${purpose.key}/${created.version}` }, now);
    return created;
  });
  ctx.catalog.invalidate(siteId);
  return getWording(ctx, siteId, purpose.key, row.version);
}

export async function updateDraft(
  ctx: ServiceContext,
  siteId: string,
  purposeKey: string,
  version: number,
  texts: WordingTextsInput,
  actor: string,
): Promise<WordingVersion> {
  const purpose = await findPurpose(ctx.db, siteId, purposeKey);
  await ctx.queue.run(async (w) => {
    const row = await findVersion(w.db, purpose.id, version);
    if (row.status !== 'draft') throw conflict('wording_immutable', `version ${version} is ${row.status} and can no longer change`);
    await w.db.delete(wordingTexts).where(eq(wordingTexts.versionId, row.id));
    await w.db
      .insert(wordingTexts)
      .values(Object.entries(texts).map(([lang, t]) => ({ versionId: row.id, lang, title: t.title, body: t.body })));
    await appendAudit(w, siteId, { actor, action: 'wording.update', target: `${purpose.key}/${version}` }, ctx.now());
  });
  ctx.catalog.invalidate(siteId);
  return getWording(ctx, siteId, purposeKey, version);
}

export async function publishWording(ctx: ServiceContext, siteId: string, purposeKey: string, version: number, actor: string) {
  const purpose = await findPurpose(ctx.db, siteId, purposeKey);
  await ctx.queue.run(async (w) => {
    const row = await findVersion(w.db, purpose.id, version);
    const [site] = await w.db.select({ lang: sites.defaultLanguage }).from(sites).where(eq(sites.id, siteId));
    const now = ctx.now();
    await publishDraft(w, row, site!.lang, now);
    await appendAudit(w, siteId, { actor, action: 'wording.publish', target: `${purpose.key}/${version}` }, now);
  });
  ctx.catalog.invalidate(siteId);
  return getWording(ctx, siteId, purposeKey, version);
}

export async function retireWording(ctx: ServiceContext, siteId: string, purposeKey: string, version: number, actor: string) {
  const purpose = await findPurpose(ctx.db, siteId, purposeKey);
  await ctx.queue.run(async (w) => {
    const row = await findVersion(w.db, purpose.id, version);
    if (row.status !== 'published') throw conflict('wording_not_published', `version ${version} is ${row.status}; only a published version can be retired`);
    const now = ctx.now();
    await w.db.update(wordingVersions).set({ status: 'retired', retiredAt: now }).where(eq(wordingVersions.id, row.id));
    const [current] = await w.db.select({ id: purposes.currentVersionId }).from(purposes).where(eq(purposes.id, purpose.id));
    if (current?.id === row.id) {
      // The newest version still published takes over; with none, grants wait for a new one.
      const [next] = await w.db
        .select({ id: wordingVersions.id })
        .from(wordingVersions)
        .where(and(eq(wordingVersions.purposeId, purpose.id), eq(wordingVersions.status, 'published')))
        .orderBy(desc(wordingVersions.version))
        .limit(1);
      await w.db.update(purposes).set({ currentVersionId: next?.id ?? null }).where(eq(purposes.id, purpose.id));
    }
    await appendAudit(w, siteId, { actor, action: 'wording.retire', target: `${purpose.key}/${version}` }, now);
  });
  ctx.catalog.invalidate(siteId);
  return getWording(ctx, siteId, purposeKey, version);
}

/** Loads published-or-retired versions by id, with their texts, for history answers. */
export async function wordingsById(db: Db, ids: string[]) {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map<string, { version: number; texts: WordingText[] }>();
  const rows = await db.select().from(wordingVersions).where(inArray(wordingVersions.id, unique));
  const texts = await loadTexts(db, unique);
  return new Map(rows.map((r) => [r.id, { version: r.version, texts: texts.get(r.id) ?? [] }]));
}

