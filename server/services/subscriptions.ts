/**
 * Subscriptions: the signup form's definition, signups with double opt-in, confirming,
 * one-click unsubscribe (RFC 8058), magic links to the preference page and the links a
 * marketer puts in their own mails.
 *
 * A signup answers the same whatever the address: everything that depends on who the
 * address belongs to runs after the answer, in the write queue (see `signup`).
 */
import { and, asc, eq, lte } from 'drizzle-orm';
import type { Channel } from '../../shared/enums';
import type { FormPurpose, SignupBody, SignupForm } from '../../shared/subscriptions';
import { consentStates, purposes, subjects, wordingTexts } from '../db/schema';
import type { WriteContext } from '../db/write-queue';
import type { SiteCatalog } from './catalog';
import { newId } from './crypto';
import { normalizeEmail, normalizePhone } from './contact';
import { conflict, invalidField, notFound } from './errors';
import type { RequestMeta } from './evidence';
import { appendEvents, type NewEvent } from './events';
import { SUBJECT_EMAIL, SUBJECT_PHONE } from './ledger';
import { enqueueMail } from './mail';
import { confirmMail, magicLinkMail } from './mail-templates';
import {
  confirmLink,
  decryptEmail,
  decryptName,
  loadWordings,
  MAGIC_LINK_MS,
  mailSite,
  PERSON_ACTOR,
  personLang,
  pickText,
  preferencesLink,
  PREFS_LINK_MS,
  primaryLang,
  queueReceipt,
  sealedEvidence,
  sourceIdOf,
  SUBJECT_NAME,
  suppress,
  suppressionsOf,
  unsubscribeLink,
  type LinkContext,
  type SiteRow,
  type SubjectRow,
} from './people';
import { findSiteRow } from './sites';

/** Suppressions of an address a signup never lifts: nothing is recorded and nothing is sent. */
const HARD_REASONS = new Set(['listed', 'bounced', 'complained']);
/** The same for a number, plus an SMS STOP (only a START or YES from the phone lifts it): SMS purposes are left out. */
const HARD_SMS_REASONS = new Set(['sms-stop', 'listed', 'bounced', 'complained']);
/** The person's own opt-outs: a new signup is possible, but only once confirmed (by mail, or from the phone). */
const OWN_REASONS = new Set(['unsubscribe', 'erased']);

async function siteAndCatalog(ctx: LinkContext, siteId: string): Promise<{ site: SiteRow; catalog: SiteCatalog }> {
  const site = await findSiteRow(ctx, siteId);
  const catalog = site && (await ctx.catalog.get(siteId));
  if (!site || !catalog) throw notFound('site');
  return { site, catalog };
}

/** Purposes a person can subscribe to on a form or toggle on the preference page. */
export function isSubscribable(p: { role: string; channel: Channel }): boolean {
  return p.role === 'purpose' && p.channel !== 'cookie';
}

// ---------------------------------------------------------------------------------
// The form

export async function signupForm(ctx: LinkContext, siteId: string, keys: string[], lang: string | undefined): Promise<SignupForm> {
  const { site } = await siteAndCatalog(ctx, siteId);
  const wanted = lang ?? site.defaultLanguage;
  const rows = await ctx.db.select().from(purposes).where(eq(purposes.siteId, siteId));
  const byKey = new Map(rows.map((p) => [p.key, p]));
  const unique = [...new Set(keys)];
  const chosen = unique.map((key, i) => {
    const p = byKey.get(key);
    if (!p || !isSubscribable(p)) throw invalidField(`purposes.${i}`, 'no such purpose on this site', 'unknown_purpose');
    if (!p.currentVersionId) throw conflict('no_current_wording', `purpose '${key}' has no published wording`);
    return p;
  });
  const wordings = await loadWordings(ctx.db, chosen.map((p) => p.currentVersionId));
  const list: FormPurpose[] = chosen.map((p) => {
    const w = wordings.get(p.currentVersionId!);
    const text = w && pickText(w.texts.filter((t) => t.sha256), wanted, site.defaultLanguage);
    if (!w || !text) throw conflict('no_current_wording', `purpose '${p.key}' has no published wording`);
    return { key: p.key, channel: p.channel, version: w.version, lang: text.lang, title: text.title, body: text.body, sha256: text.sha256! };
  });
  const channels = list.map((p) => p.channel);
  const all = (c: Channel) => channels.every((x) => x === c);
  const email = site.doubleOptIn || all('email') || all('other') ? 'required' : channels.includes('email') ? 'optional' : 'none';
  const phone = all('sms') ? 'required' : channels.includes('sms') ? 'optional' : 'none';
  return {
    site: site.id,
    name: site.name,
    lang: list[0]?.lang ?? wanted,
    doubleOptIn: site.doubleOptIn,
    privacyPolicyUrl: site.privacyPolicyUrl,
    fields: { email, phone },
    purposes: list,
  };
}

// ---------------------------------------------------------------------------------
// Signing up

export interface PreparedSignup {
  confirmationSent: boolean;
  /** Blind index of the address (e-mail, else phone), for the per-address rate limit. */
  addressKey: string;
  /** Writes the signup; run after answering. */
  run(): Promise<void>;
}

interface Ticked {
  purposeId: string;
  channel: Channel;
  wordingVersionId: string;
  lang: string;
}

/**
 * Checks a signup against the site (purposes, the wording hashes, the contact fields the
 * ticked purposes need) and prepares its write. Nothing here depends on whether the
 * address is known, so errors never tell.
 */
export async function prepareSignup(ctx: LinkContext, siteId: string, body: SignupBody, meta: RequestMeta): Promise<PreparedSignup> {
  let { site, catalog } = await siteAndCatalog(ctx, siteId);
  if (body.purposes.some((t) => !catalog.purposesByKey.get(t.purpose) || !catalog.wordings.has(`${catalog.purposesByKey.get(t.purpose)!.id}:${t.wordingVersion}`))) {
    catalog = (await ctx.catalog.get(siteId, { fresh: true }))!;
  }
  const ticked: Ticked[] = body.purposes.map((t, i) => {
    const purpose = catalog.purposesByKey.get(t.purpose);
    if (!purpose || !isSubscribable(purpose)) throw invalidField(`purposes.${i}.purpose`, 'no such purpose on this site', 'unknown_purpose');
    const wording = catalog.wordings.get(`${purpose.id}:${t.wordingVersion}`);
    if (!wording || wording.status === 'draft') throw invalidField(`purposes.${i}.wordingVersion`, 'no such published wording version', 'unknown_wording');
    if (wording.status === 'retired') throw conflict('wording_retired', `version ${t.wordingVersion} of '${t.purpose}' is retired; reload the form`);
    if (wording.sha256.get(t.lang) !== t.sha256) {
      throw conflict('wording_mismatch', `the text shown for '${t.purpose}' is not the text published as version ${t.wordingVersion} (${t.lang})`);
    }
    return { purposeId: purpose.id, channel: purpose.channel, wordingVersionId: wording.id, lang: t.lang };
  });

  const email = body.email ? normalizeEmail(body.email) : undefined;
  let phone: string | undefined;
  if (body.phone) {
    phone = normalizePhone(body.phone, site.defaultCountry) ?? undefined;
    if (!phone) throw invalidField('phone', 'not a valid phone number', 'invalid_phone');
  }
  if (site.doubleOptIn && !email) throw invalidField('email', 'required: the confirmation is sent there', 'email_required');
  if (ticked.some((t) => t.channel === 'email') && !email) throw invalidField('email', 'required for an e-mail purpose', 'email_required');
  if (ticked.some((t) => t.channel === 'sms') && !phone) throw invalidField('phone', 'required for an SMS purpose', 'phone_required');
  if (!email && !phone) throw invalidField('email', 'an e-mail address or a phone number is required', 'email_required');

  let sourceKey = body.source ?? 'signup-form';
  if (!catalog.sourcesByKey.has(sourceKey) && sourceKey === 'signup-form') sourceKey = 'web-form';
  const source = catalog.sourcesByKey.get(sourceKey);
  if (!source) throw invalidField('source', 'no such source on this site', 'unknown_source');
  if (source.archived) throw invalidField('source', 'this source is archived', 'archived_source');

  const emailBidx = email ? ctx.crypto.blindIndex(siteId, 'email', email) : null;
  const phoneBidx = phone ? ctx.crypto.blindIndex(siteId, 'phone', phone) : null;
  const input: SignupWrite = {
    site,
    email,
    phone,
    emailBidx,
    phoneBidx,
    name: body.name?.trim() || undefined,
    lang: body.lang,
    sourceId: source.id,
    ticked,
    meta,
    page: body.page,
  };
  return {
    confirmationSent: site.doubleOptIn,
    addressKey: emailBidx ?? phoneBidx!,
    run: () => ctx.queue.run((w) => writeSignup(ctx, w, input)),
  };
}

interface SignupWrite {
  site: SiteRow;
  email?: string;
  phone?: string;
  emailBidx: string | null;
  phoneBidx: string | null;
  name?: string;
  lang: string;
  sourceId: string;
  ticked: Ticked[];
  meta: RequestMeta;
  page?: string;
}

async function writeSignup(ctx: LinkContext, w: WriteContext, s: SignupWrite): Promise<void> {
  const now = ctx.now();
  const { site } = s;
  const emailSuppressions = await suppressionsOf(w.tx, site.id, 'email', s.emailBidx);
  if (emailSuppressions.some((x) => HARD_REASONS.has(x.reason))) return;
  // E-mail (and 'other') purposes: pending until the link in the mail is used.
  const mailConfirm = site.doubleOptIn || emailSuppressions.some((x) => OWN_REASONS.has(x.reason));
  // Without double opt-in, an address the person opted out of may come back only by confirming.
  if (mailConfirm && !s.email) return;

  const findBy = async (column: 'emailBidx' | 'phoneBidx', bidx: string | null) =>
    bidx ? (await w.db.select().from(subjects).where(and(eq(subjects.siteId, site.id), eq(subjects[column], bidx))))[0] : undefined;
  let subject: SubjectRow | undefined = await findBy('emailBidx', s.emailBidx);
  const phoneOwner = await findBy('phoneBidx', s.phoneBidx);
  if (!s.email) subject = phoneOwner;

  if (!subject) {
    // A new person: what the form gave is the submitter's own input. A number that belongs
    // to someone else is never moved to this person; their SMS purposes are left out.
    const phoneUsable = !!s.phone && !phoneOwner;
    subject = {
      id: newId(),
      siteId: site.id,
      emailEnc: s.email ? ctx.crypto.encrypt(s.email, SUBJECT_EMAIL) : null,
      emailBidx: s.emailBidx,
      phoneEnc: phoneUsable ? ctx.crypto.encrypt(s.phone!, SUBJECT_PHONE) : null,
      phoneBidx: phoneUsable ? s.phoneBidx : null,
      nameEnc: s.name ? ctx.crypto.encrypt(s.name, SUBJECT_NAME) : null,
      lang: primaryLang(s.lang),
      restricted: false,
      erasedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await w.db.insert(subjects).values(subject);
  }
  // An existing person is never changed by a form (it is not authenticated): no contact
  // data, name or language is written. SMS purposes count only for the number they hold.
  const phoneMatches = !!s.phoneBidx && subject.phoneBidx === s.phoneBidx;
  const smsSuppressions = phoneMatches ? await suppressionsOf(w.tx, site.id, 'sms', s.phoneBidx) : [];
  const smsApplies = (purposeId: string, reasons: Set<string>) => smsSuppressions.some((x) => reasons.has(x.reason) && (x.purposeId === null || x.purposeId === purposeId));

  const states = await w.db.select().from(consentStates).where(eq(consentStates.subjectId, subject.id));
  const statusOf = new Map(states.map((st) => [st.purposeId, st.status]));
  // Never downgrade: a purpose already granted records nothing. An SMS purpose needs the
  // person's own number and no STOP, list, bounce or complaint on it (dropped silently).
  const todo = s.ticked.filter(
    (t) => statusOf.get(t.purposeId) !== 'granted' && (t.channel !== 'sms' || (phoneMatches && !smsApplies(t.purposeId, HARD_SMS_REASONS))),
  );
  if (todo.length === 0) return;
  // SMS purposes are confirmed from the phone (a YES reply), never by the mail: with double
  // opt-in, or after the person's own unsubscribe or erasure of the number.
  const pendingOf = (t: Ticked) => (t.channel === 'sms' ? site.doubleOptIn || smsApplies(t.purposeId, OWN_REASONS) : mailConfirm);
  const events: NewEvent[] = todo.map((t) => ({
    siteId: site.id,
    subjectId: subject.id,
    visitorId: null,
    purposeId: t.purposeId,
    action: 'grant',
    wordingVersionId: t.wordingVersionId,
    sourceId: s.sourceId,
    actor: PERSON_ACTOR,
    occurredAt: now,
    evidence: sealedEvidence(ctx, { pageUrl: s.page, formId: 'consent-signup', lang: t.lang }, s.meta),
  }));
  const appended = await appendEvents(w, events);
  for (const [i, t] of todo.entries()) {
    await w.tx.execute({
      sql:
        'INSERT INTO consent_states (subject_id, purpose_id, status, wording_version_id, source_id, event_id, updated_at) VALUES (?,?,?,?,?,?,?)' +
        ' ON CONFLICT (subject_id, purpose_id) DO UPDATE SET status = excluded.status, wording_version_id = excluded.wording_version_id,' +
        ' source_id = excluded.source_id, event_id = excluded.event_id, updated_at = excluded.updated_at',
      args: [subject.id, t.purposeId, pendingOf(t) ? 'pending' : 'granted', t.wordingVersionId, s.sourceId, appended[i]!.id, now],
    });
  }

  // The address is not verified yet: mails caused by a form never carry the name it gave.
  const mailLang = subject.lang ?? primaryLang(s.lang);
  const granted = todo.filter((t) => !pendingOf(t));
  if (s.email && granted.length) {
    const receiptSubject = { id: subject.id, lang: mailLang, name: null };
    await queueReceipt(ctx, w, site, receiptSubject, s.email, granted.map((t) => ({ purposeId: t.purposeId, wordingVersionId: t.wordingVersionId, sourceId: s.sourceId })), now);
  }
  if (s.email && todo.some(pendingOf)) {
    // The link confirms only what this mail shows: the states recorded up to this signup.
    const upTo = Math.max(...appended.map((e) => e.id));
    const pending = await pendingPurposes(w.db, subject.id, upTo, mailLang, site);
    const rendered = confirmMail({
      lang: mailLang,
      site: mailSite(site),
      purposes: pending.mail,
      smsPurposes: pending.sms,
      url: confirmLink(ctx, site, subject.id, upTo),
      days: site.pendingDays,
    });
    await enqueueMail(ctx, w, { siteId: site.id, subjectId: subject.id, kind: 'confirm', to: s.email, ...rendered }, now);
  }
}

export interface PendingPurpose {
  purposeId: string;
  key: string;
  channel: Channel;
  title: string;
  body: string;
}

/**
 * A person's pending purposes recorded up to ledger event `upTo`, with the wording they
 * signed up with, in `lang`: those a mail link confirms (e-mail and other channels) and
 * the SMS ones (confirmed only by a YES from the phone).
 */
export async function pendingPurposes(
  db: LinkContext['db'],
  subjectId: string,
  upTo: number,
  lang: string,
  site: SiteRow,
): Promise<{ mail: PendingPurpose[]; sms: PendingPurpose[] }> {
  const rows = await db
    .select({ purposeId: purposes.id, key: purposes.key, name: purposes.name, channel: purposes.channel, wordingVersionId: consentStates.wordingVersionId })
    .from(consentStates)
    .innerJoin(purposes, eq(purposes.id, consentStates.purposeId))
    .where(and(eq(consentStates.subjectId, subjectId), eq(consentStates.status, 'pending'), lte(consentStates.eventId, upTo)))
    .orderBy(asc(consentStates.eventId));
  const wordings = await loadWordings(db, rows.map((r) => r.wordingVersionId));
  const list = rows.map((r): PendingPurpose => {
    const w = r.wordingVersionId ? wordings.get(r.wordingVersionId) : undefined;
    const text = w && pickText(w.texts, lang, site.defaultLanguage);
    return { purposeId: r.purposeId, key: r.key, channel: r.channel, title: text?.title ?? r.name, body: text?.body ?? '' };
  });
  return { mail: list.filter((p) => p.channel !== 'sms'), sms: list.filter((p) => p.channel === 'sms') };
}

// ---------------------------------------------------------------------------------
// Confirming (double opt-in)

/**
 * Turns the pending purposes the link showed (e-mail and other channels, recorded up to
 * ledger event `upTo`) into granted, one 'confirm' event each with its own evidence; lifts
 * the person's own e-mail opt-outs that concern them (all-purpose, or one of them) and
 * queues the receipt. SMS purposes stay pending: only the phone confirms them. False when
 * there was nothing to confirm.
 */
export async function confirmSignup(ctx: LinkContext, site: SiteRow, subjectId: string, upTo: number, meta: RequestMeta): Promise<boolean> {
  const sourceId = await sourceIdOf(ctx, site.id, 'email-link');
  return ctx.queue.run(async (w) => {
    const now = ctx.now();
    const [subject] = await w.db.select().from(subjects).where(and(eq(subjects.id, subjectId), eq(subjects.siteId, site.id)));
    if (!subject || subject.erasedAt !== null) return false;
    const pending = (
      await w.db
        .select({ state: consentStates, channel: purposes.channel })
        .from(consentStates)
        .innerJoin(purposes, eq(purposes.id, consentStates.purposeId))
        .where(and(eq(consentStates.subjectId, subject.id), eq(consentStates.status, 'pending'), lte(consentStates.eventId, upTo)))
        .orderBy(asc(consentStates.eventId))
    )
      .filter((r) => r.channel !== 'sms')
      .map((r) => r.state);
    if (pending.length === 0) return false;
    const appended = await appendEvents(
      w,
      pending.map((p) => ({
        siteId: site.id,
        subjectId: subject.id,
        visitorId: null,
        purposeId: p.purposeId,
        action: 'confirm' as const,
        wordingVersionId: p.wordingVersionId,
        sourceId: sourceId ?? p.sourceId,
        actor: PERSON_ACTOR,
        occurredAt: now,
        evidence: sealedEvidence(ctx, { formId: 'confirm-link' }, meta),
      })),
    );
    for (const [i, p] of pending.entries()) {
      await w.tx.execute({
        sql: "UPDATE consent_states SET status = 'granted', event_id = ?, updated_at = ? WHERE subject_id = ? AND purpose_id = ?",
        args: [appended[i]!.id, now, subject.id, p.purposeId],
      });
    }
    if (subject.emailBidx) {
      // Only opt-outs this confirmation answers: all-purpose ones (an erasure is always one)
      // and those of the purposes confirmed. An unsubscribe from another purpose stays.
      const ids = pending.map((p) => p.purposeId);
      await w.tx.execute({
        sql:
          "DELETE FROM suppressions WHERE site_id = ? AND channel = 'email' AND bidx = ? AND reason IN ('unsubscribe', 'erased')" +
          ` AND (purpose_id IS NULL OR purpose_id IN (${ids.map(() => '?').join(',')}))`,
        args: [site.id, subject.emailBidx, ...ids],
      });
    }
    const email = decryptEmail(ctx, subject);
    if (email) {
      await queueReceipt(
        ctx,
        w,
        site,
        { id: subject.id, lang: subject.lang, name: decryptName(ctx, subject) },
        email,
        pending.map((p) => ({ purposeId: p.purposeId, wordingVersionId: p.wordingVersionId, sourceId: p.sourceId })),
        now,
      );
    }
    return true;
  });
}

// ---------------------------------------------------------------------------------
// Unsubscribing

/** Title of a purpose in `lang` (its current wording's title), else its name. */
export async function purposeTitle(ctx: LinkContext, siteId: string, key: string, lang: string, fallback: string): Promise<string | null> {
  const [p] = await ctx.db.select().from(purposes).where(and(eq(purposes.siteId, siteId), eq(purposes.key, key)));
  if (!p) return null;
  if (!p.currentVersionId) return p.name;
  const texts = await ctx.db.select().from(wordingTexts).where(eq(wordingTexts.versionId, p.currentVersionId));
  return pickText(texts, lang, fallback)?.title ?? p.name;
}

/**
 * Unsubscribes the person from one purpose or from all e-mail marketing: an
 * 'unsubscribe' event per purpose granted or pending (now withdrawn) and a suppression
 * of the address (reason 'unsubscribe', scoped to the purpose or to all). Idempotent: a
 * repeat finds nothing to change and records nothing. True when something changed.
 */
export async function unsubscribeEmail(
  ctx: LinkContext,
  site: SiteRow,
  subjectId: string,
  purposeKey: string | null,
  how: string,
  meta: RequestMeta,
): Promise<boolean> {
  const sourceId = await sourceIdOf(ctx, site.id, 'email-link');
  return ctx.queue.run(async (w) => {
    const now = ctx.now();
    const [subject] = await w.db.select().from(subjects).where(and(eq(subjects.id, subjectId), eq(subjects.siteId, site.id)));
    if (!subject || subject.erasedAt !== null) return false;
    const all = await w.db.select().from(purposes).where(eq(purposes.siteId, site.id));
    const one = purposeKey ? all.find((p) => p.key === purposeKey) : undefined;
    const scope = one ? [one] : all.filter((p) => p.channel === 'email' && p.role === 'purpose');
    // A link scoped to an SMS purpose (in a text message) suppresses the number for that purpose.
    const channel = one?.channel === 'sms' ? 'sms' : 'email';
    const bidx = channel === 'sms' ? subject.phoneBidx : subject.emailBidx;
    // An erased person has no address left, and is suppressed already.
    if (!bidx) return false;
    return withdrawChannel(ctx, w, {
      site,
      subject,
      channel,
      bidx,
      purposeIds: scope.map((p) => p.id),
      suppressionPurpose: one?.id ?? null,
      action: 'unsubscribe',
      sourceId,
      note: how,
      meta,
      now,
    });
  });
}

/** Shared by one-click unsubscribe and the preference page's unsubscribe: see unsubscribeEmail. */
export async function withdrawChannel(
  ctx: LinkContext,
  w: WriteContext,
  o: {
    site: SiteRow;
    subject: SubjectRow;
    channel: 'email' | 'sms';
    bidx: string;
    purposeIds: string[];
    suppressionPurpose: string | null;
    action: 'unsubscribe';
    sourceId: string | null;
    note: string;
    meta: RequestMeta;
    now: number;
  },
): Promise<boolean> {
  const states = o.purposeIds.length
    ? (
        await w.tx.execute({
          sql: `SELECT purpose_id FROM consent_states WHERE subject_id = ? AND status IN ('granted', 'pending') AND purpose_id IN (${o.purposeIds.map(() => '?').join(',')})`,
          args: [o.subject.id, ...o.purposeIds],
        })
      ).rows.map((r) => String(r.purpose_id))
    : [];
  const added = await suppress(
    w,
    { siteId: o.site.id, channel: o.channel, bidx: o.bidx, reason: 'unsubscribe', purposeId: o.suppressionPurpose },
    o.now,
  );
  if (states.length === 0 && !added) return false;
  const base = { siteId: o.site.id, subjectId: o.subject.id, visitorId: null, action: o.action, wordingVersionId: null, sourceId: o.sourceId, actor: PERSON_ACTOR, occurredAt: o.now };
  const targets: (string | null)[] = states.length ? states : [o.suppressionPurpose];
  const appended = await appendEvents(
    w,
    targets.map((purposeId) => ({ ...base, purposeId, evidence: sealedEvidence(ctx, { note: o.note }, o.meta) })),
  );
  for (const [i, purposeId] of states.entries()) {
    await w.tx.execute({
      sql: "UPDATE consent_states SET status = 'withdrawn', event_id = ?, updated_at = ? WHERE subject_id = ? AND purpose_id = ?",
      args: [appended[i]!.id, o.now, o.subject.id, purposeId],
    });
  }
  return true;
}

// ---------------------------------------------------------------------------------
// Magic link and links for marketers

/** Checks the site; returns the write that mails a preference link when the address is a person's (run after answering). */
export async function prepareMagicLink(ctx: LinkContext, siteId: string, emailInput: string, lang: string | undefined): Promise<{ addressKey: string; run(): Promise<void> }> {
  const site = await findSiteRow(ctx, siteId);
  if (!site) throw notFound('site');
  const email = normalizeEmail(emailInput);
  const bidx = ctx.crypto.blindIndex(siteId, 'email', email);
  return {
    addressKey: bidx,
    run: () =>
      ctx.queue.run(async (w) => {
        const [subject] = await w.db.select().from(subjects).where(and(eq(subjects.siteId, siteId), eq(subjects.emailBidx, bidx)));
        if (!subject || subject.erasedAt !== null) return;
        const mailLang = lang ? primaryLang(lang) : personLang(subject, site);
        const rendered = magicLinkMail({ lang: mailLang, site: mailSite(site), name: decryptName(ctx, subject), url: preferencesLink(ctx, site, subject.id, MAGIC_LINK_MS) });
        await enqueueMail(ctx, w, { siteId, subjectId: subject.id, kind: 'magic-link', to: email, ...rendered }, ctx.now());
      }),
  };
}

export interface SubjectLinks {
  preferencesUrl: string;
  unsubscribeUrl: string;
  headers: { 'List-Unsubscribe': string; 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

export async function subjectLinks(ctx: LinkContext, siteId: string, subjectId: string, purposeKey: string | undefined): Promise<SubjectLinks> {
  const { site, catalog } = await siteAndCatalog(ctx, siteId);
  const [subject] = await ctx.db.select().from(subjects).where(and(eq(subjects.id, subjectId), eq(subjects.siteId, siteId)));
  if (!subject) throw notFound('subject');
  if (subject.erasedAt !== null) throw conflict('erased', 'this person has been erased; they must not be contacted');
  if (purposeKey !== undefined) {
    const p = catalog.purposesByKey.get(purposeKey);
    if (!p || !isSubscribable(p)) throw invalidField('purpose', 'no such purpose on this site', 'unknown_purpose');
  }
  const unsubscribeUrl = unsubscribeLink(ctx, siteId, subjectId, purposeKey ?? null);
  return {
    preferencesUrl: preferencesLink(ctx, site, subjectId, PREFS_LINK_MS),
    unsubscribeUrl,
    headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  };
}

