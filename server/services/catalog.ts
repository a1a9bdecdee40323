/**
 * A short-lived in-memory copy of a site's definitions (purposes, sources, wording
 * versions), so the hot paths do not query them on every request. Writes made through
 * this process drop the copy at once; writes made by another instance are seen within
 * CATALOG_TTL_MS. Nothing personal is cached.
 */
import { eq } from 'drizzle-orm';
import type { Channel, LegalBasis, PurposeRole, WordingStatus } from '../../shared/enums';
import { purposes, sites, sources, wordingTexts, wordingVersions } from '../db/schema';
import type { Db } from '../db/client';

export const CATALOG_TTL_MS = 5_000;
const FRESH_MIN_AGE_MS = 1_000;

export interface CatalogPurpose {
  id: string;
  key: string;
  channel: Channel;
  legalBasis: LegalBasis;
  role: PurposeRole;
  currentVersionId: string | null;
}

export interface CatalogWording {
  id: string;
  purposeId: string;
  version: number;
  status: WordingStatus;
  /** lang → SHA-256 of the published text */
  sha256: Map<string, string>;
}

export interface SiteCatalog {
  siteId: string;
  defaultCountry: string;
  defaultLanguage: string;
  allowedOrigins: string[];
  purposesByKey: Map<string, CatalogPurpose>;
  sourcesByKey: Map<string, { id: string; key: string; archived: boolean }>;
  /** `${purposeId}:${version}` → wording */
  wordings: Map<string, CatalogWording>;
  wordingsById: Map<string, CatalogWording>;
  loadedAt: number;
}

export class Catalog {
  #entries = new Map<string, Promise<SiteCatalog | undefined>>();
  /** The loaded copies of #entries, for peek(). */
  #loaded = new Map<string, SiteCatalog>();

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The site's catalog, or undefined when the site does not exist. */
  async get(siteId: string, options: { fresh?: boolean } = {}): Promise<SiteCatalog | undefined> {
    const cached = this.#entries.get(siteId);
    if (cached) {
      const value = await cached;
      // A fresh copy is loaded at most once a second: unknown keys in requests cannot force a reload each.
      const maxAge = options.fresh ? FRESH_MIN_AGE_MS : CATALOG_TTL_MS;
      if (value && this.clock() - value.loadedAt < maxAge) return value;
    }
    const loading = this.#load(siteId);
    this.#entries.set(siteId, loading);
    this.#loaded.delete(siteId);
    loading.catch(() => this.#entries.delete(siteId));
    const value = await loading;
    if (!value) this.#entries.delete(siteId);
    else if (this.#entries.get(siteId) === loading) this.#loaded.set(siteId, value);
    return value;
  }

  /**
   * The site's copy when one is loaded and as fresh as get() would want it, at once;
   * else undefined (then ask get()). For hot paths that would otherwise wait a turn.
   */
  peek(siteId: string): SiteCatalog | undefined {
    const value = this.#loaded.get(siteId);
    return value && this.clock() - value.loadedAt < CATALOG_TTL_MS ? value : undefined;
  }

  #listeners: ((siteId: string) => void)[] = [];

  /** Drops the copy after a local write; caches built on the catalog hear of it too. */
  invalidate(siteId: string): void {
    this.#entries.delete(siteId);
    this.#loaded.delete(siteId);
    for (const listener of this.#listeners) listener(siteId);
  }

  onInvalidate(listener: (siteId: string) => void): void {
    this.#listeners.push(listener);
  }

  async #load(siteId: string): Promise<SiteCatalog | undefined> {
    const loadedAt = this.clock();
    const [site] = await this.db.select().from(sites).where(eq(sites.id, siteId));
    if (!site) return undefined;
    const [purposeRows, sourceRows, versionRows, textRows] = await Promise.all([
      this.db.select().from(purposes).where(eq(purposes.siteId, siteId)),
      this.db.select().from(sources).where(eq(sources.siteId, siteId)),
      this.db.select().from(wordingVersions).where(eq(wordingVersions.siteId, siteId)),
      this.db
        .select({ versionId: wordingTexts.versionId, lang: wordingTexts.lang, sha256: wordingTexts.sha256 })
        .from(wordingTexts)
        .innerJoin(wordingVersions, eq(wordingVersions.id, wordingTexts.versionId))
        .where(eq(wordingVersions.siteId, siteId)),
    ]);
    const hashes = new Map<string, Map<string, string>>();
    for (const t of textRows) {
      if (!t.sha256) continue;
      const m = hashes.get(t.versionId) ?? new Map<string, string>();
      m.set(t.lang, t.sha256);
      hashes.set(t.versionId, m);
    }
    const wordings = new Map<string, CatalogWording>();
    const wordingsById = new Map<string, CatalogWording>();
    for (const v of versionRows) {
      const w: CatalogWording = { id: v.id, purposeId: v.purposeId, version: v.version, status: v.status, sha256: hashes.get(v.id) ?? new Map() };
      wordings.set(`${v.purposeId}:${v.version}`, w);
      wordingsById.set(v.id, w);
    }
    return {
      siteId,
      defaultCountry: site.defaultCountry,
      defaultLanguage: site.defaultLanguage,
      allowedOrigins: site.allowedOrigins,
      purposesByKey: new Map(
        purposeRows.map((p) => [p.key, { id: p.id, key: p.key, channel: p.channel, legalBasis: p.legalBasis, role: p.role, currentVersionId: p.currentVersionId }]),
      ),
      sourcesByKey: new Map(sourceRows.map((s) => [s.key, { id: s.id, key: s.key, archived: s.archivedAt !== null }])),
      wordings,
      wordingsById,
      loadedAt,
    };
  }
}
