/** Purposes ("Formål"): why personal data is processed, on which legal basis, on which channel. */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { ConsentModeType, CookieInfo } from '../../shared/cookies';
import { basisNeedsConsent, type Channel, type LegalBasis, type PurposeRole } from '../../shared/enums';
import { purposes } from '../db/schema';
import type { WriteContext } from '../db/write-queue';
import { appendAudit } from './audit';
import type { ServiceContext } from './context';
import { newId } from './crypto';
import { conflict, notFound } from './errors';
import { wordingsById, type WordingText } from './wordings';

export interface Purpose {
  key: string;
  name: string;
  description: string;
  channel: Channel;
  legalBasis: LegalBasis;
  requiresConsent: boolean;
  role: PurposeRole;
  cookies: CookieInfo[];
  marketing: boolean;
  consentModeTypes: ConsentModeType[];
  currentWording: { id: string; version: number; texts: WordingText[] } | null;
  createdAt: string;
}

export interface NewPurpose {
  key: string;
  name: string;
  description?: string;
  channel: Channel;
  legalBasis: LegalBasis;
  role?: PurposeRole;
  cookies?: CookieInfo[];
  marketing?: boolean;
  consentModeTypes?: ConsentModeType[];
}

export type PurposePatch = { name?: string; description?: string; cookies?: CookieInfo[]; marketing?: boolean; consentModeTypes?: ConsentModeType[] };

type PurposeRow = typeof purposes.$inferSelect;

async function present(ctx: ServiceContext, rows: PurposeRow[]): Promise<Purpose[]> {
  const wordings = await wordingsById(
    ctx.db,
    rows.flatMap((r) => (r.currentVersionId ? [r.currentVersionId] : [])),
  );
  return rows.map((r) => {
    const current = r.currentVersionId ? wordings.get(r.currentVersionId) : undefined;
    return {
      key: r.key,
      name: r.name,
      description: r.description,
      channel: r.channel,
      legalBasis: r.legalBasis,
      requiresConsent: basisNeedsConsent(r.legalBasis),
      role: r.role,
      cookies: r.cookies,
      marketing: r.marketing,
      consentModeTypes: r.consentModeTypes,
      currentWording: current && r.currentVersionId ? { id: r.currentVersionId, ...current } : null,
      createdAt: new Date(r.createdAt).toISOString(),
    };
  });
}

export async function listPurposes(ctx: ServiceContext, siteId: string): Promise<Purpose[]> {
  const rows = await ctx.db.select().from(purposes).where(eq(purposes.siteId, siteId)).orderBy(asc(purposes.createdAt), sql`rowid`);
  return present(ctx, rows);
}

export async function findPurposeRow(ctx: Pick<ServiceContext, 'db'>, siteId: string, key: string): Promise<PurposeRow | undefined> {
  const [row] = await ctx.db.select().from(purposes).where(and(eq(purposes.siteId, siteId), eq(purposes.key, key)));
  return row;
}

export async function getPurpose(ctx: ServiceContext, siteId: string, key: string): Promise<Purpose> {
  const row = await findPurposeRow(ctx, siteId, key);
  if (!row) throw notFound('purpose');
  return (await present(ctx, [row]))[0]!;
}

/** Inserts a purpose inside the caller's transaction. */
export async function insertPurpose(w: WriteContext, siteId: string, input: NewPurpose, now: number): Promise<PurposeRow> {
  const [existing] = await w.db
    .select({ id: purposes.id })
    .from(purposes)
    .where(and(eq(purposes.siteId, siteId), eq(purposes.key, input.key)));
  if (existing) throw conflict('purpose_exists', `a purpose with key '${input.key}' already exists`);
  const row: PurposeRow = {
    id: newId(),
    siteId,
    key: input.key,
    name: input.name,
    description: input.description ?? '',
    channel: input.channel,
    legalBasis: input.legalBasis,
    currentVersionId: null,
    role: input.role ?? 'purpose',
    cookies: input.cookies ?? [],
    marketing: input.marketing ?? false,
    consentModeTypes: input.consentModeTypes ?? [],
    createdAt: now,
  };
  if (row.role === 'cookie-banner') {
    const [banner] = await w.db.select({ id: purposes.id }).from(purposes).where(and(eq(purposes.siteId, siteId), eq(purposes.role, 'cookie-banner')));
    if (banner) throw conflict('cookie_banner_exists', 'a site has one cookie banner text; publish a new wording version of it instead');
  }
  await w.db.insert(purposes).values(row);
  return row;
}

export async function createPurpose(ctx: ServiceContext, siteId: string, input: NewPurpose, actor: string): Promise<Purpose> {
  await ctx.queue.run(async (w) => {
    const now = ctx.now();
    await insertPurpose(w, siteId, input, now);
    await appendAudit(w, siteId, { actor, action: 'purpose.create', target: input.key, details: { legalBasis: input.legalBasis, channel: input.channel } }, now);
  });
  ctx.catalog.invalidate(siteId);
  return getPurpose(ctx, siteId, input.key);
}

/** Name and description may change; key, channel and legal basis are what consents were given to, so they do not. */
export async function updatePurpose(
  ctx: ServiceContext,
  siteId: string,
  key: string,
  patch: PurposePatch,
  actor: string,
): Promise<Purpose> {
  await ctx.queue.run(async (w) => {
    const [row] = await w.db.select({ id: purposes.id }).from(purposes).where(and(eq(purposes.siteId, siteId), eq(purposes.key, key)));
    if (!row) throw notFound('purpose');
    await w.db.update(purposes).set(patch).where(eq(purposes.id, row.id));
    await appendAudit(w, siteId, { actor, action: 'purpose.update', target: key, details: { fields: Object.keys(patch) } }, ctx.now());
  });
  ctx.catalog.invalidate(siteId);
  return getPurpose(ctx, siteId, key);
}
