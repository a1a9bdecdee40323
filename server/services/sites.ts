/** Sites: one tenant each (a website or brand), created with default purposes, wordings and sources. */
import { eq } from 'drizzle-orm';
import { KEY_SCOPES, type KeyScope } from '../../shared/enums';
import { sites } from '../db/schema';
import { appendAudit } from './audit';
import type { ServiceContext } from './context';
import { DEFAULT_COOKIE_PURPOSES, DEFAULT_PURPOSES, DEFAULT_SOURCES } from './defaults';
import { conflict, notFound } from './errors';
import { insertKey } from './keys';
import { insertPurpose } from './purposes';
import { insertSource } from './sources';
import { insertDraft, publishDraft } from './wordings';

export interface Site {
  id: string;
  name: string;
  defaultLanguage: string;
  defaultCountry: string;
  allowedOrigins: string[];
  doubleOptIn: boolean;
  consentMode: boolean;
  cookieDomain: string | null;
  cookieDays: number;
  privacyPolicyUrl: string | null;
  twilioConfigured: boolean;
  smsInboundConfigured: boolean;
  smsHelpText: Record<string, string>;
  smsKeywords: { stop: string[]; start: string[] };
  controllerEmail: string | null;
  controllerAddress: string | null;
  preferencesUrl: string | null;
  pendingDays: number;
  createdAt: string;
}

export interface NewSite {
  id: string;
  name: string;
  defaultLanguage?: string;
  defaultCountry?: string;
  allowedOrigins?: string[];
  doubleOptIn?: boolean;
}

export type SitePatch = Partial<
  Omit<NewSite, 'id'> & {
    consentMode: boolean;
    cookieDomain: string | null;
    cookieDays: number;
    privacyPolicyUrl: string | null;
    /** Write-only secrets: stored encrypted, never returned. */
    twilioAuthToken: string | null;
    smsInboundSecret: string | null;
    smsHelpText: Record<string, string>;
    smsKeywords: { stop: string[]; start: string[] };
    controllerEmail: string | null;
    controllerAddress: string | null;
    preferencesUrl: string | null;
    pendingDays: number;
  }
>;

/** Encryption contexts of the sites' secrets. */
export const TWILIO_TOKEN_CONTEXT = 'sites.twilio_auth_token';
export const SMS_INBOUND_SECRET_CONTEXT = 'sites.sms_inbound_secret';

type SiteRow = typeof sites.$inferSelect;

const present = (r: SiteRow): Site => ({
  id: r.id,
  name: r.name,
  defaultLanguage: r.defaultLanguage,
  defaultCountry: r.defaultCountry,
  allowedOrigins: r.allowedOrigins,
  doubleOptIn: r.doubleOptIn,
  consentMode: r.consentMode,
  cookieDomain: r.cookieDomain,
  cookieDays: r.cookieDays,
  privacyPolicyUrl: r.privacyPolicyUrl,
  twilioConfigured: r.twilioAuthTokenEnc !== null,
  smsInboundConfigured: r.smsInboundSecretEnc !== null,
  smsHelpText: r.smsHelpText,
  smsKeywords: r.smsKeywords,
  controllerEmail: r.controllerEmail,
  controllerAddress: r.controllerAddress,
  preferencesUrl: r.preferencesUrl,
  pendingDays: r.pendingDays,
  createdAt: new Date(r.createdAt).toISOString(),
});

export async function findSiteRow(ctx: Pick<ServiceContext, 'db'>, id: string): Promise<SiteRow | undefined> {
  const [row] = await ctx.db.select().from(sites).where(eq(sites.id, id));
  return row;
}

export async function getSite(ctx: ServiceContext, id: string): Promise<Site> {
  const row = await findSiteRow(ctx, id);
  if (!row) throw notFound('site');
  return present(row);
}

/**
 * Creates a site with its defaults and, when `adminKey` is given, a first key.
 * Everything commits in one transaction: there is never a half-made site.
 */
export async function createSite(
  ctx: ServiceContext,
  input: NewSite,
  actor: string,
  adminKey?: { name: string; scopes?: KeyScope[] },
): Promise<{ site: Site; key?: { id: string; secret: string } }> {
  const created = await ctx.queue.run(async (w) => {
    const now = ctx.now();
    const [existing] = await w.db.select({ id: sites.id }).from(sites).where(eq(sites.id, input.id));
    if (existing) throw conflict('site_exists', `a site with id '${input.id}' already exists`);
    const defaultLanguage = input.defaultLanguage ?? 'da';
    await w.db.insert(sites).values({
      id: input.id,
      name: input.name,
      defaultLanguage,
      defaultCountry: input.defaultCountry ?? 'DK',
      allowedOrigins: input.allowedOrigins ?? [],
      doubleOptIn: input.doubleOptIn ?? true,
      createdAt: now,
    });
    await appendAudit(w, input.id, { actor, action: 'site.create', target: input.id }, now);
    for (const s of DEFAULT_SOURCES) await insertSource(w, input.id, s.key, s.label, now);
    for (const p of [...DEFAULT_PURPOSES, ...DEFAULT_COOKIE_PURPOSES]) {
      const purpose = await insertPurpose(w, input.id, p, now);
      // The standard texts are in Danish and English; a site in another language gets them as they are.
      const draft = await insertDraft(w, input.id, purpose.id, p.texts, now);
      await publishDraft(w, draft, p.texts[defaultLanguage] ? defaultLanguage : 'en', now);
      await appendAudit(w, input.id, { actor, action: 'wording.publish', target: `${p.key}/${draft.version}` }, now);
    }
    if (!adminKey) return undefined;
    const { key, secret } = await insertKey(w, input.id, adminKey.name, adminKey.scopes ?? [...KEY_SCOPES], now);
    await appendAudit(w, input.id, { actor, action: 'key.create', target: key.id, details: { name: key.name, scopes: key.scopes } }, now);
    return { id: key.id, secret };
  });
  ctx.catalog.invalidate(input.id);
  return { site: await getSite(ctx, input.id), key: created };
}

export async function updateSite(ctx: ServiceContext, id: string, patch: SitePatch, actor: string): Promise<Site> {
  await ctx.queue.run(async (w) => {
    const [row] = await w.db.select({ id: sites.id }).from(sites).where(eq(sites.id, id));
    if (!row) throw notFound('site');
    const { twilioAuthToken, smsInboundSecret, ...plain } = patch;
    const set: Partial<typeof sites.$inferInsert> = { ...plain };
    // The audit names the fields changed, never a value.
    if (twilioAuthToken !== undefined) set.twilioAuthTokenEnc = twilioAuthToken === null ? null : ctx.crypto.encrypt(twilioAuthToken, TWILIO_TOKEN_CONTEXT);
    if (smsInboundSecret !== undefined) set.smsInboundSecretEnc = smsInboundSecret === null ? null : ctx.crypto.encrypt(smsInboundSecret, SMS_INBOUND_SECRET_CONTEXT);
    await w.db.update(sites).set(set).where(eq(sites.id, id));
    await appendAudit(w, id, { actor, action: 'site.update', target: id, details: { fields: Object.keys(patch) } }, ctx.now());
  });
  ctx.catalog.invalidate(id);
  return getSite(ctx, id);
}
