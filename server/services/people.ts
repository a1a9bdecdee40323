/**
 * What the subscription flows share: the links we mail (signed tokens, the token of a
 * preference link in the URL fragment), reading a person's wording texts, do-not-contact
 * entries, the consent receipt, and erasure.
 */
import type { InValue, ResultSet } from '@libsql/client';
import { and, eq, inArray } from 'drizzle-orm';
import type { Channel } from '../../shared/enums';
import type { Db } from '../db/client';
import { purposes, sites, sources, subjects, wordingTexts, wordingVersions } from '../db/schema';
import type { WriteContext } from '../db/write-queue';
import type { ServiceContext } from './context';
import { buildEvidence, sealEvidence, type EvidenceInput, type RequestMeta } from './evidence';
import { appendEvents } from './events';
import { SUBJECT_EMAIL } from './ledger';
import { enqueueMail } from './mail';
import { scrubPendingDeliveries } from './webhooks';
import { marketingHeaders, receiptMail, type MailSite } from './mail-templates';
import { kantaraReceipt } from './receipt';
import { signToken, verifyToken, type TokenClaims, type TokenScope } from './tokens';

export type SiteRow = typeof sites.$inferSelect;
export type SubjectRow = typeof subjects.$inferSelect;

/** Services that also know the public base URL (links in mails). */
export type LinkContext = ServiceContext & { publicUrl: string };

export const SUBJECT_NAME = 'subjects.name';
export const EMAIL_CHANGE_CONTEXT = 'email_changes.email';

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;
/** Preference links inside our own mails. */
export const PREFS_LINK_MS = 30 * DAY_MS;
/** Preference links asked for on the page (magic link). */
export const MAGIC_LINK_MS = HOUR_MS;
export const CHANGE_LINK_MS = 24 * HOUR_MS;

/** The person acting on their own behalf, through a form or a link. */
export const PERSON_ACTOR = 'person';

function token(ctx: LinkContext, site: string, subject: string, scope: TokenScope, ttlMs: number | null): string {
  const claims: TokenClaims = { site, subject, scope };
  if (ttlMs !== null) claims.exp = Math.floor((ctx.now() + ttlMs) / 1000);
  return signToken(ctx.crypto, claims);
}

/** The site's own preference page, or the server's; the token goes in the fragment (never in logs or Referer). */
export function preferencesLink(ctx: LinkContext, site: SiteRow, subjectId: string, ttlMs: number): string {
  const base = site.preferencesUrl ? site.preferencesUrl.replace(/#.*$/, '') : `${ctx.publicUrl}/preferences/${site.id}`;
  return `${base}#token=${token(ctx, site.id, subjectId, { kind: 'prefs' }, ttlMs)}`;
}

/** One-click unsubscribe (RFC 8058): no expiry, so old mails keep working. */
export function unsubscribeLink(ctx: LinkContext, siteId: string, subjectId: string, purposeKey: string | null): string {
  return `${ctx.publicUrl}/v1/unsubscribe/${token(ctx, siteId, subjectId, { kind: 'unsubscribe', purpose: purposeKey }, null)}`;
}

/** `upTo`: the highest ledger event id of the signup the mail shows; the link confirms nothing recorded later. */
export function confirmLink(ctx: LinkContext, site: SiteRow, subjectId: string, upTo: number): string {
  return `${ctx.publicUrl}/v1/confirm/${token(ctx, site.id, subjectId, { kind: 'confirm', upTo }, site.pendingDays * DAY_MS)}`;
}

export function changeLink(ctx: LinkContext, siteId: string, subjectId: string, changeId: string): string {
  return `${ctx.publicUrl}/v1/email-change/${token(ctx, siteId, subjectId, { kind: 'change-email', change: changeId }, CHANGE_LINK_MS)}`;
}

export function mailSite(site: SiteRow): MailSite {
  return { name: site.name, controllerEmail: site.controllerEmail, controllerAddress: site.controllerAddress };
}

export function personLang(subject: Pick<SubjectRow, 'lang'> | undefined, site: SiteRow): string {
  return subject?.lang ?? site.defaultLanguage;
}

export function primaryLang(lang: string): string {
  return lang.split('-')[0]!.toLowerCase();
}

export type LinkCheck =
  | { ok: true; claims: TokenClaims; site: SiteRow; subject: SubjectRow }
  | { ok: false; reason: 'invalid' | 'expired'; site?: SiteRow; subject?: SubjectRow };

/**
 * A link token of `kind`, whose site exists and whose subject belongs to that site.
 * An expired token is told apart only when it is genuine.
 */
export async function checkLinkToken(ctx: ServiceContext, raw: string, kind: TokenScope['kind'], siteId?: string): Promise<LinkCheck> {
  const check = verifyToken(ctx.crypto, raw, ctx.now());
  if (!check.ok) {
    if (check.reason !== 'expired') return { ok: false, reason: 'invalid' };
    // Genuine but expired: open it without the clock to find whom it was for (the page's language).
    const late = verifyToken(ctx.crypto, raw, 0);
    if (!late.ok || late.claims.scope.kind !== kind || (siteId !== undefined && late.claims.site !== siteId)) return { ok: false, reason: 'invalid' };
    const found = await loadPair(ctx.db, late.claims.site, late.claims.subject);
    return { ok: false, reason: found ? 'expired' : 'invalid', ...found };
  }
  const { claims } = check;
  if (claims.scope.kind !== kind || (siteId !== undefined && claims.site !== siteId)) return { ok: false, reason: 'invalid' };
  const found = await loadPair(ctx.db, claims.site, claims.subject);
  if (!found) return { ok: false, reason: 'invalid' };
  return { ok: true, claims, ...found };
}

async function loadPair(db: Db, siteId: string, subjectId: string): Promise<{ site: SiteRow; subject: SubjectRow } | undefined> {
  const [site] = await db.select().from(sites).where(eq(sites.id, siteId));
  if (!site) return undefined;
  const [subject] = await db.select().from(subjects).where(and(eq(subjects.id, subjectId), eq(subjects.siteId, siteId)));
  return subject ? { site, subject } : undefined;
}

export interface Text {
  lang: string;
  title: string;
  body: string;
  sha256: string | null;
}

/** The text in `lang`, else the site's default language, else English, else any. */
export function pickText<T extends { lang: string }>(texts: T[], lang: string, fallback: string): T | undefined {
  const primary = primaryLang(lang);
  return (
    texts.find((t) => t.lang === lang) ??
    texts.find((t) => t.lang === primary) ??
    texts.find((t) => t.lang === fallback) ??
    texts.find((t) => t.lang === 'en') ??
    texts[0]
  );
}

/** Wording versions by id: version number and every language's text. */
export async function loadWordings(db: Db, ids: (string | null)[]): Promise<Map<string, { version: number; texts: Text[] }>> {
  const unique = [...new Set(ids.filter((x): x is string => !!x))];
  const out = new Map<string, { version: number; texts: Text[] }>();
  if (unique.length === 0) return out;
  const [versions, texts] = await Promise.all([
    db.select({ id: wordingVersions.id, version: wordingVersions.version }).from(wordingVersions).where(inArray(wordingVersions.id, unique)),
    db.select().from(wordingTexts).where(inArray(wordingTexts.versionId, unique)),
  ]);
  for (const v of versions) out.set(v.id, { version: v.version, texts: [] });
  for (const t of texts) out.get(t.versionId)?.texts.push({ lang: t.lang, title: t.title, body: t.body, sha256: t.sha256 });
  return out;
}

export function sealedEvidence(ctx: ServiceContext, input: EvidenceInput | undefined, meta: RequestMeta) {
  return sealEvidence(ctx.crypto, buildEvidence(input, meta));
}

/** The first of `keys` that is a live source of the site. */
export async function sourceIdOf(ctx: ServiceContext, siteId: string, ...keys: string[]): Promise<string | null> {
  const catalog = await ctx.catalog.get(siteId);
  for (const key of keys) {
    const s = catalog?.sourcesByKey.get(key);
    if (s && !s.archived) return s.id;
  }
  return null;
}

// ---------------------------------------------------------------------------------
// Do-not-contact entries

/** Contact channel of a purpose's channel: e-mail purposes by e-mail, SMS purposes by phone. */
export function contactOf(channel: Channel): 'email' | 'phone' | null {
  return channel === 'email' ? 'email' : channel === 'sms' ? 'phone' : null;
}

/** Inserts a suppression; true when it is new. */
export async function suppress(
  w: WriteContext,
  row: { siteId: string; channel: 'email' | 'sms'; bidx: string; reason: string; purposeId: string | null; list?: string },
  now: number,
): Promise<boolean> {
  const result = await w.tx.execute({
    sql: 'INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING',
    args: [row.siteId, row.channel, row.bidx, row.reason, row.list ?? '', row.purposeId, now],
  });
  return result.rowsAffected > 0;
}

/** Anything that runs a statement: the read pool or a write transaction. */
export interface Executor {
  execute(stmt: { sql: string; args: InValue[] }): Promise<ResultSet>;
}

export async function suppressionsOf(exec: Executor, siteId: string, channel: 'email' | 'sms', bidx: string | null): Promise<{ reason: string; purposeId: string | null }[]> {
  if (!bidx) return [];
  const { rows } = await exec.execute({ sql: 'SELECT reason, purpose_id FROM suppressions WHERE site_id = ? AND channel = ? AND bidx = ?', args: [siteId, channel, bidx] });
  return rows.map((r) => ({ reason: String(r.reason), purposeId: r.purpose_id === null ? null : String(r.purpose_id) }));
}

// ---------------------------------------------------------------------------------
// Receipt

export interface ReceiptPurpose {
  purposeId: string;
  wordingVersionId: string | null;
  sourceId: string | null;
}

/** Queues the consent receipt (text, HTML and the Kantara JSON) in `w`'s transaction. */
export async function queueReceipt(
  ctx: LinkContext,
  w: WriteContext,
  site: SiteRow,
  subject: { id: string; lang: string | null; name: string | null },
  email: string,
  granted: ReceiptPurpose[],
  now: number,
): Promise<void> {
  if (granted.length === 0) return;
  const lang = personLang(subject, site);
  const purposeRows = await w.db.select().from(purposes).where(inArray(purposes.id, granted.map((g) => g.purposeId)));
  const byId = new Map(purposeRows.map((p) => [p.id, p]));
  const sourceIds = [...new Set(granted.flatMap((g) => (g.sourceId ? [g.sourceId] : [])))];
  const sourceRows = sourceIds.length ? await w.db.select().from(sources).where(inArray(sources.id, sourceIds)) : [];
  const sourceLabel = new Map(sourceRows.map((s) => [s.id, s.label]));
  const wordings = await loadWordings(w.db, granted.map((g) => g.wordingVersionId));
  const items = granted.flatMap((g) => {
    const p = byId.get(g.purposeId);
    if (!p) return [];
    const wording = g.wordingVersionId ? wordings.get(g.wordingVersionId) : undefined;
    const text = wording ? pickText(wording.texts, lang, site.defaultLanguage) : undefined;
    return [
      {
        key: p.key,
        name: p.name,
        channel: p.channel,
        legalBasis: p.legalBasis,
        title: text?.title ?? p.name,
        body: text?.body ?? p.description,
        version: wording?.version ?? 0,
        at: now,
        source: (g.sourceId && sourceLabel.get(g.sourceId)) || '-',
      },
    ];
  });
  if (items.length === 0) return;
  const links = {
    preferencesUrl: preferencesLink(ctx, site, subject.id, PREFS_LINK_MS),
    unsubscribeUrl: unsubscribeLink(ctx, site.id, subject.id, null),
  };
  const rendered = receiptMail({ lang, site: mailSite(site), name: subject.name, purposes: items, links });
  const receipt = kantaraReceipt({
    site: {
      name: site.name,
      defaultCountry: site.defaultCountry,
      controllerEmail: site.controllerEmail,
      controllerAddress: site.controllerAddress,
      privacyPolicyUrl: site.privacyPolicyUrl,
      url: site.allowedOrigins[0] ?? (site.privacyPolicyUrl ? new URL(site.privacyPolicyUrl).origin : ctx.publicUrl),
    },
    subjectId: subject.id,
    lang,
    at: now,
    collectionMethod: [...new Set(items.map((i) => i.source))].join(', '),
    purposes: items,
    preferencesUrl: links.preferencesUrl.replace(/#.*$/, ''),
  });
  await enqueueMail(
    ctx,
    w,
    {
      siteId: site.id,
      kind: 'receipt',
      to: email,
      ...rendered,
      subjectId: subject.id,
      headers: marketingHeaders(links.unsubscribeUrl),
      attachments: [{ filename: 'consent-receipt.json', content: JSON.stringify(receipt, null, 2), contentType: 'application/json' }],
    },
    now,
  );
}

export function decryptEmail(ctx: ServiceContext, subject: Pick<SubjectRow, 'emailEnc'>): string | null {
  return subject.emailEnc ? ctx.crypto.decrypt(subject.emailEnc, SUBJECT_EMAIL) : null;
}

export function decryptName(ctx: ServiceContext, subject: Pick<SubjectRow, 'nameEnc'>): string | null {
  return subject.nameEnc ? ctx.crypto.decrypt(subject.nameEnc, SUBJECT_NAME) : null;
}

// ---------------------------------------------------------------------------------
// Erasure

/**
 * Erases a person inside `w`'s transaction: an 'erase' event, then every earlier event's
 * evidence scrubbed, current states and pending e-mail changes deleted, contact data and
 * name removed. With `suppress`, their e-mail and phone blind indexes are added to the
 * do-not-contact list first, so they are never contacted again. Existing suppressions stay.
 *
 * Nothing decryptable of theirs is left in the outboxes: every mail to them is deleted
 * (sent or not: mail not yet sent never goes out) except the erasure receipt queued in
 * this same transaction, and their webhook deliveries not yet made are rewritten with
 * the blind-index hashes instead of the address (made ones keep no payload).
 */
export async function eraseSubjectTx(
  ctx: ServiceContext,
  w: WriteContext,
  subject: SubjectRow,
  options: { suppress: boolean; actor: string; note: string; sourceId: string | null },
  now: number,
): Promise<void> {
  const { tx } = w;
  const [erase] = await appendEvents(w, [
    {
      siteId: subject.siteId,
      subjectId: subject.id,
      visitorId: null,
      purposeId: null,
      action: 'erase',
      wordingVersionId: null,
      sourceId: options.sourceId,
      actor: options.actor,
      occurredAt: now,
      // Nothing personal: the reason only.
      evidence: sealedEvidence(ctx, { note: options.note }, {}),
    },
  ]);
  await tx.execute({
    sql: 'UPDATE consent_events SET evidence = NULL, scrubbed_at = ? WHERE subject_id = ? AND id < ? AND evidence IS NOT NULL',
    args: [now, subject.id, erase!.id],
  });
  await tx.execute({ sql: 'DELETE FROM consent_states WHERE subject_id = ?', args: [subject.id] });
  await tx.execute({ sql: 'DELETE FROM email_changes WHERE subject_id = ?', args: [subject.id] });
  await deleteMailTo(ctx, w, subject);
  await scrubPendingDeliveries(ctx.crypto, tx, subject);
  if (options.suppress) {
    if (subject.emailBidx) await suppress(w, { siteId: subject.siteId, channel: 'email', bidx: subject.emailBidx, reason: 'erased', purposeId: null }, now);
    if (subject.phoneBidx) await suppress(w, { siteId: subject.siteId, channel: 'sms', bidx: subject.phoneBidx, reason: 'erased', purposeId: null }, now);
  }
  await tx.execute({
    sql: 'UPDATE subjects SET email_enc = NULL, email_bidx = NULL, phone_enc = NULL, phone_bidx = NULL, name_enc = NULL, erased_at = ?, updated_at = ? WHERE id = ?',
    args: [now, now, subject.id],
  });
}

/** Deletes every mail to `subject` but the erasure receipt queued in `w`'s transaction. */
async function deleteMailTo(ctx: ServiceContext, w: WriteContext, subject: SubjectRow): Promise<void> {
  const keep = ctx.mail
    .queuedIn(w)
    .filter((m) => m.kind === 'erasure' && (m.subjectId === subject.id || m.subjectId === null))
    .map((m) => m.id);
  const notKept = keep.length ? ` AND id NOT IN (${keep.map(() => '?').join(',')})` : '';
  await w.tx.execute({ sql: `DELETE FROM mail_outbox WHERE subject_id = ?${notKept}`, args: [subject.id, ...keep] });
  // Mail queued before subject_id was recorded (migration 0006) and still holding its
  // content: found by its recipient.
  const email = decryptEmail(ctx, subject)?.toLowerCase();
  if (!email) return;
  const { rows } = await w.tx.execute({
    sql: "SELECT id, recipient_enc FROM mail_outbox WHERE subject_id IS NULL AND site_id = ? AND recipient_enc != ''",
    args: [subject.siteId],
  });
  for (const r of rows) {
    if (keep.includes(String(r.id))) continue;
    if (ctx.mail.decryptRecipient(String(r.recipient_enc)).toLowerCase() === email) {
      await w.tx.execute({ sql: 'DELETE FROM mail_outbox WHERE id = ?', args: [r.id] });
    }
  }
}
