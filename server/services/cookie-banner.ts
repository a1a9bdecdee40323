/**
 * The cookie banner's server side: the configuration a banner renders (categories and
 * their current wording in one language), and the proof of each visitor's choice. A
 * visitor is never a subject: the choice is keyed by the random consent id in their
 * cookie, and the evidence holds no personal data (IP truncated, user agent hashed).
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { CookieCategory, CookieConfig, CookieConsentBody } from '../../shared/cookies';
import { basisNeedsConsent } from '../../shared/enums';
import { purposes, sites, wordingTexts } from '../db/schema';
import type { ServiceContext } from './context';
import { sha256Hex } from './crypto';
import { conflict, invalidField, notFound } from './errors';
import { appendEvents, type NewEvent } from './events';
import { buildEvidence, sealEvidence, type RequestMeta } from './evidence';

const CONFIG_TTL_MS = 5_000;

type Text = { lang: string; title: string; body: string; sha256: string };

/** Picks the text in `lang`, else the site's default language, else English, else any. */
function pick(texts: Text[], lang: string, fallback: string): Text | undefined {
  return (
    texts.find((t) => t.lang === lang) ??
    texts.find((t) => t.lang === fallback) ??
    texts.find((t) => t.lang === 'en') ??
    texts[0]
  );
}

export class CookieConfigs {
  #cache = new Map<string, { at: number; config: Omit<CookieConfig, 'gpc'> }>();

  constructor(private readonly ctx: ServiceContext) {}

  invalidate(siteId: string): void {
    for (const key of this.#cache.keys()) if (key.startsWith(`${siteId}\0`)) this.#cache.delete(key);
  }

  /** The banner configuration in `lang` (falling back per text), or 404 when the site has no banner text. */
  async get(siteId: string, lang: string | undefined, gpc: boolean): Promise<CookieConfig> {
    const cacheKey = `${siteId}\0${lang ?? ''}`;
    const hit = this.#cache.get(cacheKey);
    if (hit && this.ctx.now() - hit.at < CONFIG_TTL_MS) return { ...hit.config, gpc };
    const config = await this.#load(siteId, lang);
    this.#cache.set(cacheKey, { at: this.ctx.now(), config });
    return { ...config, gpc };
  }

  async #load(siteId: string, lang: string | undefined): Promise<Omit<CookieConfig, 'gpc'>> {
    const { db } = this.ctx;
    const [site] = await db.select().from(sites).where(eq(sites.id, siteId));
    if (!site) throw notFound('site');
    const rows = await db
      .select()
      .from(purposes)
      .where(and(eq(purposes.siteId, siteId), eq(purposes.channel, 'cookie')))
      .orderBy(purposes.createdAt, sql`rowid`);
    const versionIds = rows.flatMap((p) => (p.currentVersionId ? [p.currentVersionId] : []));
    const textRows = versionIds.length ? await db.select().from(wordingTexts).where(inArray(wordingTexts.versionId, versionIds)) : [];
    const catalog = await this.ctx.catalog.get(siteId);
    const textsOf = (versionId: string) => textRows.filter((t) => t.versionId === versionId && t.sha256) as Text[];
    const wanted = lang ?? site.defaultLanguage;

    const bannerRow = rows.find((p) => p.role === 'cookie-banner' && p.currentVersionId);
    const bannerText = bannerRow && pick(textsOf(bannerRow.currentVersionId!), wanted, site.defaultLanguage);
    if (!bannerRow || !bannerText) throw notFound('cookie banner text');
    const version = (id: string) => catalog?.wordingsById.get(id)?.version ?? 0;

    const categories: CookieCategory[] = [];
    for (const p of rows) {
      if (p.role !== 'purpose' || !p.currentVersionId) continue;
      const text = pick(textsOf(p.currentVersionId), wanted, site.defaultLanguage);
      if (!text) continue;
      categories.push({
        key: p.key,
        required: !basisNeedsConsent(p.legalBasis),
        marketing: p.marketing,
        title: text.title,
        body: text.body,
        version: version(p.currentVersionId),
        sha256: text.sha256,
        cookies: p.cookies,
        consentMode: p.consentModeTypes,
      });
    }
    categories.sort((a, b) => Number(b.required) - Number(a.required));
    const revision = sha256Hex(
      [`banner:${bannerRow.currentVersionId}`, ...categories.map((c) => `${c.key}:${c.version}`)].join('\n'),
    ).slice(0, 16);
    const config: Omit<CookieConfig, 'gpc'> = {
      site: siteId,
      lang: bannerText.lang,
      revision,
      banner: { key: bannerRow.key, title: bannerText.title, body: bannerText.body, version: version(bannerRow.currentVersionId!), sha256: bannerText.sha256 },
      categories,
      consentMode: site.consentMode,
      cookieDays: site.cookieDays,
    };
    if (site.cookieDomain) config.cookieDomain = site.cookieDomain;
    if (site.privacyPolicyUrl) config.privacyPolicyUrl = site.privacyPolicyUrl;
    return config;
  }
}

/**
 * Records a visitor's choice: one event per optional category (grant or withdraw),
 * each naming the wording version whose text the banner displayed. A hash that does
 * not match the published text is refused, so the log never names a text not shown.
 */
export async function recordCookieChoice(
  ctx: ServiceContext,
  siteId: string,
  body: CookieConsentBody,
  meta: RequestMeta,
): Promise<{ consentId: string; recordedAt: string }> {
  let catalog = await ctx.catalog.get(siteId);
  if (!catalog) throw notFound('site');
  const shownVersions = body.wordings.map((w) => ({ w, purpose: catalog!.purposesByKey.get(w.purpose) }));
  if (shownVersions.some(({ w, purpose }) => !purpose || !catalog!.wordings.has(`${purpose.id}:${w.version}`))) {
    catalog = (await ctx.catalog.get(siteId, { fresh: true }))!;
  }
  const bannerPurpose = [...catalog.purposesByKey.values()].find((p) => p.role === 'cookie-banner');
  const shown = new Map<string, string>(); // purpose key → wording version id
  for (const [i, w] of body.wordings.entries()) {
    const purpose = catalog.purposesByKey.get(w.purpose);
    if (!purpose || purpose.channel !== 'cookie') throw invalidField(`wordings.${i}.purpose`, 'is not a cookie category of this site', 'unknown_category');
    const wording = catalog.wordings.get(`${purpose.id}:${w.version}`);
    if (!wording || wording.status === 'draft') throw invalidField(`wordings.${i}.version`, 'no such published wording version', 'unknown_wording');
    const published = wording.sha256.get(w.lang);
    if (published !== w.sha256) {
      throw conflict('wording_mismatch', `the text shown for '${w.purpose}' is not the text published as version ${w.version} (${w.lang})`);
    }
    shown.set(purpose.key, wording.id);
  }
  if (!bannerPurpose || !shown.has(bannerPurpose.key)) throw invalidField('wordings', 'must include the banner text shown', 'banner_wording_required');

  const source = catalog.sourcesByKey.get('cookie-banner') ?? catalog.sourcesByKey.get('web-form');
  const now = ctx.now();
  const evidence = () => sealEvidence(ctx.crypto, buildEvidence({ pageUrl: body.pageUrl, gpc: body.gpc, revision: body.revision }, meta));
  const events: NewEvent[] = [];
  for (const [key, accepted] of Object.entries(body.categories)) {
    const purpose = catalog.purposesByKey.get(key);
    if (!purpose || purpose.channel !== 'cookie' || purpose.role !== 'purpose') throw invalidField(`categories.${key}`, 'is not a cookie category of this site', 'unknown_category');
    if (!basisNeedsConsent(purpose.legalBasis)) continue; // necessary cookies need no consent
    const wordingVersionId = shown.get(key);
    if (!wordingVersionId) throw invalidField(`categories.${key}`, 'the text shown for this category is missing from wordings', 'category_wording_required');
    events.push({
      siteId,
      subjectId: null,
      visitorId: body.consentId,
      purposeId: purpose.id,
      action: accepted ? 'grant' : 'withdraw',
      wordingVersionId,
      sourceId: source?.id ?? null,
      actor: 'visitor',
      occurredAt: now,
      evidence: evidence(),
    });
  }
  // The banner text itself: the choice as a whole was made under it.
  events.push({
    siteId,
    subjectId: null,
    visitorId: body.consentId,
    purposeId: bannerPurpose.id,
    action: Object.values(body.categories).some(Boolean) ? 'grant' : 'withdraw',
    wordingVersionId: shown.get(bannerPurpose.key)!,
    sourceId: source?.id ?? null,
    actor: 'visitor',
    occurredAt: now,
    evidence: evidence(),
  });
  await ctx.queue.run((w) => appendEvents(w, events));
  return { consentId: body.consentId, recordedAt: new Date(now).toISOString() };
}
