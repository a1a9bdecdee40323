/**
 * The preference page's side of the server: what a person sees of themselves, and what
 * they may change with the token in their link (consents, unsubscribes, name and e-mail,
 * restriction of processing), export everything held about them, and be forgotten.
 */
import { appendAudit } from './audit';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { basisNeedsConsent, type Channel } from '../../shared/enums';
import type { PreferencePurpose, PreferencesView, PreferenceToggle } from '../../shared/subscriptions';
import { consentEvents, consentStates, emailChanges, purposes, sources, subjects } from '../db/schema';
import type { WriteContext } from '../db/write-queue';
import { newId } from './crypto';
import { normalizeEmail } from './contact';
import { AppError, conflict, invalidField, notFound } from './errors';
import { openEvidence, type RequestMeta } from './evidence';
import { appendEvents } from './events';
import { SUBJECT_EMAIL, SUBJECT_PHONE } from './ledger';
import { enqueueMail } from './mail';
import { changeEmailMail, erasureMail } from './mail-templates';
import {
  changeLink,
  CHANGE_LINK_MS,
  checkLinkToken,
  contactOf,
  decryptEmail,
  decryptName,
  EMAIL_CHANGE_CONTEXT,
  eraseSubjectTx,
  loadWordings,
  mailSite,
  PERSON_ACTOR,
  personLang,
  pickText,
  sealedEvidence,
  sourceIdOf,
  SUBJECT_NAME,
  suppressionsOf,
  type LinkContext,
  type SiteRow,
  type SubjectRow,
} from './people';
import { isSubscribable, withdrawChannel } from './subscriptions';
import { syncRestrictedSuppressions } from './suppressions';
import type { TokenClaims } from './tokens';

export interface Person {
  claims: TokenClaims;
  site: SiteRow;
  subject: SubjectRow;
}

/** A preference token for this site: 401 when missing, tampered, foreign or expired; 410 once the person is erased. */
export async function authenticatePerson(ctx: LinkContext, siteId: string, raw: string | undefined): Promise<Person> {
  if (!raw) throw new AppError('unauthorized', 'invalid_token', 'send the link token as Authorization: Bearer <token>');
  const check = await checkLinkToken(ctx, raw, 'prefs', siteId);
  if (!check.ok) {
    if (check.reason === 'expired') throw new AppError('unauthorized', 'token_expired', 'this link has expired; ask for a new one');
    throw new AppError('unauthorized', 'invalid_token', 'this link is not valid');
  }
  if (check.subject.erasedAt !== null) throw new AppError('gone', 'erased', 'this person has been erased');
  return check;
}

const BLOCKED_ORDER = [
  ['sms-stop', 'sms-stopped'],
  ['listed', 'listed'],
  ['bounced', 'bounced'],
  ['complained', 'complained'],
] as const;

export async function preferencesView(ctx: LinkContext, person: Person): Promise<PreferencesView> {
  const { site, claims } = person;
  const [subject] = await ctx.db.select().from(subjects).where(eq(subjects.id, person.subject.id));
  if (!subject) throw notFound('person');
  const lang = personLang(subject, site);
  const [purposeRows, stateRows, sourceRows, pendingChange, emailSupp, smsSupp] = await Promise.all([
    ctx.db.select().from(purposes).where(eq(purposes.siteId, site.id)).orderBy(asc(purposes.createdAt), sql`rowid`),
    ctx.db.select().from(consentStates).where(eq(consentStates.subjectId, subject.id)),
    ctx.db.select({ id: sources.id, key: sources.key }).from(sources).where(eq(sources.siteId, site.id)),
    ctx.db.select({ id: emailChanges.id }).from(emailChanges).where(and(eq(emailChanges.subjectId, subject.id), gt(emailChanges.expiresAt, ctx.now()))),
    suppressionsOf(ctx.db.$client, site.id, 'email', subject.emailBidx),
    suppressionsOf(ctx.db.$client, site.id, 'sms', subject.phoneBidx),
  ]);
  const listed = purposeRows.filter(isSubscribable);
  const states = new Map(stateRows.map((s) => [s.purposeId, s]));
  const sourceKey = new Map(sourceRows.map((s) => [s.id, s.key]));
  const wordings = await loadWordings(ctx.db, [...listed.map((p) => p.currentVersionId), ...stateRows.map((s) => s.wordingVersionId)]);

  const blockedFor = (channel: Channel, purposeId: string): PreferencePurpose['blocked'] => {
    const list = channel === 'email' ? emailSupp : channel === 'sms' ? smsSupp : [];
    const applies = list.filter((s) => s.purposeId === null || s.purposeId === purposeId);
    for (const [reason, shown] of BLOCKED_ORDER) if (applies.some((s) => s.reason === reason)) return shown;
    return null;
  };

  const view: PreferencePurpose[] = listed.map((p) => {
    const state = states.get(p.id);
    const agreedWording = state?.wordingVersionId ? wordings.get(state.wordingVersionId) : undefined;
    const agreedText = agreedWording && pickText(agreedWording.texts, lang, site.defaultLanguage);
    const current = p.currentVersionId ? wordings.get(p.currentVersionId) : undefined;
    const currentText = current && pickText(current.texts.filter((t) => t.sha256), lang, site.defaultLanguage);
    return {
      key: p.key,
      name: p.name,
      description: p.description,
      channel: p.channel,
      legalBasis: p.legalBasis,
      needsConsent: basisNeedsConsent(p.legalBasis),
      status: state?.status ?? 'none',
      since: state ? new Date(state.updatedAt).toISOString() : null,
      source: state?.sourceId ? (sourceKey.get(state.sourceId) ?? null) : null,
      agreed:
        agreedWording && agreedText && state && (state.status === 'granted' || state.status === 'pending' || state.status === 'withdrawn')
          ? { version: agreedWording.version, lang: agreedText.lang, title: agreedText.title, body: agreedText.body }
          : null,
      current:
        current && currentText
          ? { key: p.key, channel: p.channel, version: current.version, lang: currentText.lang, title: currentText.title, body: currentText.body, sha256: currentText.sha256! }
          : null,
      blocked: blockedFor(p.channel, p.id),
    };
  });
  const channelWide = (list: typeof emailSupp) => list.some((s) => s.reason === 'unsubscribe' && s.purposeId === null);
  return {
    site: { id: site.id, name: site.name, privacyPolicyUrl: site.privacyPolicyUrl, controllerEmail: site.controllerEmail },
    lang,
    person: {
      email: decryptEmail(ctx, subject),
      phone: subject.phoneEnc ? ctx.crypto.decrypt(subject.phoneEnc, SUBJECT_PHONE) : null,
      name: decryptName(ctx, subject),
      restricted: subject.restricted,
      pendingEmailChange: pendingChange.length > 0,
    },
    purposes: view,
    unsubscribed: { email: channelWide(emailSupp), sms: channelWide(smsSupp) },
    tokenExpiresAt: claims.exp ? new Date(claims.exp * 1000).toISOString() : null,
  };
}

/** Runs `work` on the person's current row (not erased in the meantime). */
function withSubject<T>(ctx: LinkContext, person: Person, work: (w: WriteContext, subject: SubjectRow, now: number) => Promise<T>): Promise<T> {
  return ctx.queue.run(async (w) => {
    const [subject] = await w.db.select().from(subjects).where(eq(subjects.id, person.subject.id));
    if (!subject || subject.erasedAt !== null) throw new AppError('gone', 'erased', 'this person has been erased');
    return work(w, subject, ctx.now());
  });
}

async function prefsSource(ctx: LinkContext, siteId: string) {
  return sourceIdOf(ctx, siteId, 'preferences', 'email-link', 'web-form');
}

export async function togglePurpose(ctx: LinkContext, person: Person, key: string, body: PreferenceToggle, meta: RequestMeta): Promise<void> {
  const { site } = person;
  let catalog = (await ctx.catalog.get(site.id))!;
  if (!catalog.purposesByKey.has(key) || (body.wordingVersion !== undefined && !catalog.wordings.has(`${catalog.purposesByKey.get(key)!.id}:${body.wordingVersion}`))) {
    catalog = (await ctx.catalog.get(site.id, { fresh: true }))!;
  }
  const purpose = catalog.purposesByKey.get(key);
  if (!purpose || !isSubscribable(purpose)) throw notFound('purpose');
  const needsConsent = basisNeedsConsent(purpose.legalBasis);
  let wordingVersionId: string | null = null;
  if (body.granted && needsConsent) {
    if (body.wordingVersion === undefined) throw invalidField('wordingVersion', 'required to grant: name the wording shown, with its lang and sha256', 'wording_required');
    const wording = catalog.wordings.get(`${purpose.id}:${body.wordingVersion}`);
    if (!wording || wording.status === 'draft') throw invalidField('wordingVersion', 'no such published wording version', 'unknown_wording');
    if (wording.status === 'retired') throw conflict('wording_retired', 'this wording version is retired; reload the page');
    if (wording.sha256.get(body.lang!) !== body.sha256) {
      throw conflict('wording_mismatch', `the text shown for '${key}' is not the text published as version ${body.wordingVersion} (${body.lang})`);
    }
    wordingVersionId = wording.id;
  } else if (body.wordingVersion !== undefined) {
    const wording = catalog.wordings.get(`${purpose.id}:${body.wordingVersion}`);
    if (wording && wording.sha256.get(body.lang!) === body.sha256) wordingVersionId = wording.id;
  }
  const sourceId = await prefsSource(ctx, site.id);
  await withSubject(ctx, person, async (w, subject, now) => {
    const contact = contactOf(purpose.channel);
    const bidx = contact === 'email' ? subject.emailBidx : contact === 'phone' ? subject.phoneBidx : null;
    if (body.granted && contact && !bidx) {
      throw conflict('missing_contact', contact === 'email' ? 'add an e-mail address first' : 'this purpose needs a phone number, and none is known');
    }
    const [state] = await w.db.select().from(consentStates).where(and(eq(consentStates.subjectId, subject.id), eq(consentStates.purposeId, purpose.id)));
    // The link proves the mailbox, not the phone: an SMS consent is granted here only when the
    // number has answered us itself (STOP, START or a YES); otherwise it waits for a YES reply.
    const grantStatus = body.granted && needsConsent && contact === 'phone' && !(await phoneProven(w, subject.id)) ? 'pending' : 'granted';
    let action: 'grant' | 'withdraw' | 'object' | null;
    if (body.granted) {
      const same = !needsConsent || state?.wordingVersionId === wordingVersionId;
      action = same && (state?.status === 'granted' || state?.status === grantStatus) ? null : 'grant';
    }
    else if (needsConsent) action = state && (state.status === 'granted' || state.status === 'pending') ? 'withdraw' : null;
    else action = state?.status === 'objected' ? null : 'object';
    if (action) {
      const status = action === 'grant' ? grantStatus : action === 'withdraw' ? 'withdrawn' : 'objected';
      const [event] = await appendEvents(w, [
        {
          siteId: site.id,
          subjectId: subject.id,
          visitorId: null,
          purposeId: purpose.id,
          action,
          wordingVersionId: action === 'grant' ? wordingVersionId : null,
          sourceId,
          actor: PERSON_ACTOR,
          occurredAt: now,
          evidence: sealedEvidence(ctx, { formId: 'consent-preferences', lang: body.lang }, meta),
        },
      ]);
      await w.tx.execute({
        sql:
          'INSERT INTO consent_states (subject_id, purpose_id, status, wording_version_id, source_id, event_id, updated_at) VALUES (?,?,?,?,?,?,?)' +
          ' ON CONFLICT (subject_id, purpose_id) DO UPDATE SET status = excluded.status,' +
          ' wording_version_id = coalesce(excluded.wording_version_id, consent_states.wording_version_id),' +
          ' source_id = excluded.source_id, event_id = excluded.event_id, updated_at = excluded.updated_at',
        args: [subject.id, purpose.id, status, action === 'grant' ? wordingVersionId : null, sourceId, event!.id, now],
      });
    }
    if (body.granted && contact && bidx && grantStatus === 'granted') {
      // The token proves control of the mailbox: the person's own unsubscribes on this channel
      // (from this purpose and from all) are lifted. STOP, lists, bounces and complaints are not.
      await w.tx.execute({
        sql: "DELETE FROM suppressions WHERE site_id = ? AND channel = ? AND bidx = ? AND reason = 'unsubscribe' AND (purpose_id IS NULL OR purpose_id = ?)",
        args: [site.id, contact === 'email' ? 'email' : 'sms', bidx, purpose.id],
      });
    }
  });
}

/** True when a message from the person's number has been acted on (an inbound SMS proves the phone). */
async function phoneProven(w: WriteContext, subjectId: string): Promise<boolean> {
  const { rows } = await w.tx.execute({ sql: "SELECT 1 FROM consent_events WHERE subject_id = ? AND actor LIKE 'sms:%' LIMIT 1", args: [subjectId] });
  return rows.length > 0;
}

export async function unsubscribeChannel(ctx: LinkContext, person: Person, channel: 'email' | 'sms' | 'all', meta: RequestMeta): Promise<void> {
  const { site } = person;
  const sourceId = await prefsSource(ctx, site.id);
  const all = await ctx.db.select().from(purposes).where(eq(purposes.siteId, site.id));
  await withSubject(ctx, person, async (w, subject, now) => {
    for (const c of ['email', 'sms'] as const) {
      if (channel !== 'all' && channel !== c) continue;
      const bidx = c === 'email' ? subject.emailBidx : subject.phoneBidx;
      if (!bidx) continue;
      await withdrawChannel(ctx, w, {
        site,
        subject,
        channel: c,
        bidx,
        purposeIds: all.filter((p) => p.channel === c && p.role === 'purpose').map((p) => p.id),
        suppressionPurpose: null,
        action: 'unsubscribe',
        sourceId,
        note: 'preference page',
        meta,
        now,
      });
    }
  });
}

/** Name at once; a new e-mail address only once confirmed from it. Returns nothing: see the view. */
export async function rectify(ctx: LinkContext, person: Person, patch: { name?: string | null; email?: string }, meta: RequestMeta): Promise<void> {
  const { site } = person;
  const sourceId = await prefsSource(ctx, site.id);
  await withSubject(ctx, person, async (w, subject, now) => {
    if (patch.name !== undefined) {
      const name = patch.name?.trim() || null;
      if (name !== decryptName(ctx, subject)) {
        await w.db.update(subjects).set({ nameEnc: name ? ctx.crypto.encrypt(name, SUBJECT_NAME) : null, updatedAt: now }).where(eq(subjects.id, subject.id));
        await rectifyEvent(ctx, w, subject, 'name', sourceId, meta, now);
      }
    }
    if (patch.email !== undefined) {
      const email = normalizeEmail(patch.email);
      if (email === decryptEmail(ctx, subject)) return;
      await w.db.delete(emailChanges).where(eq(emailChanges.subjectId, subject.id));
      const id = newId();
      await w.db.insert(emailChanges).values({
        id,
        siteId: site.id,
        subjectId: subject.id,
        emailEnc: ctx.crypto.encrypt(email, EMAIL_CHANGE_CONTEXT),
        emailBidx: ctx.crypto.blindIndex(site.id, 'email', email),
        createdAt: now,
        expiresAt: now + CHANGE_LINK_MS,
      });
      // The new address is not verified: the mail never carries the person's name.
      const rendered = changeEmailMail({ lang: personLang(subject, site), site: mailSite(site), url: changeLink(ctx, site.id, subject.id, id) });
      await enqueueMail(ctx, w, { siteId: site.id, subjectId: subject.id, kind: 'email-change', to: email, ...rendered }, now);
    }
  });
}

async function rectifyEvent(ctx: LinkContext, w: WriteContext, subject: SubjectRow, field: 'name' | 'email', sourceId: string | null, meta: RequestMeta, now: number) {
  await appendEvents(w, [
    {
      siteId: subject.siteId,
      subjectId: subject.id,
      visitorId: null,
      purposeId: null,
      action: 'rectify',
      wordingVersionId: null,
      sourceId,
      actor: PERSON_ACTOR,
      occurredAt: now,
      // The field, never its value.
      evidence: sealedEvidence(ctx, { note: `rectified: ${field}` }, meta),
    },
  ]);
}

export type EmailChangeOutcome = 'done' | 'taken' | 'expired' | 'invalid';

/** Looks up a pending change for the confirmation page. */
export async function findEmailChange(ctx: LinkContext, siteId: string, subjectId: string, changeId: string) {
  const [row] = await ctx.db.select().from(emailChanges).where(and(eq(emailChanges.id, changeId), eq(emailChanges.siteId, siteId), eq(emailChanges.subjectId, subjectId)));
  if (!row) return 'invalid' as const;
  if (row.expiresAt <= ctx.now()) return 'expired' as const;
  return row;
}

/**
 * Applies a confirmed change: the subject's address and blind index, and a 'rectify' event.
 * A restricted person's 'restricted' suppression moves to the new address.
 */
export async function applyEmailChange(ctx: LinkContext, site: SiteRow, subjectId: string, changeId: string, meta: RequestMeta): Promise<EmailChangeOutcome> {
  const sourceId = await sourceIdOf(ctx, site.id, 'email-link');
  return ctx.queue.run(async (w) => {
    const now = ctx.now();
    const [row] = await w.db.select().from(emailChanges).where(and(eq(emailChanges.id, changeId), eq(emailChanges.siteId, site.id), eq(emailChanges.subjectId, subjectId)));
    if (!row) return 'invalid';
    if (row.expiresAt <= now) return 'expired';
    const [subject] = await w.db.select().from(subjects).where(eq(subjects.id, subjectId));
    if (!subject || subject.erasedAt !== null) return 'invalid';
    const [owner] = await w.db.select({ id: subjects.id }).from(subjects).where(and(eq(subjects.siteId, site.id), eq(subjects.emailBidx, row.emailBidx)));
    if (owner && owner.id !== subjectId) return 'taken';
    const email = ctx.crypto.decrypt(row.emailEnc, EMAIL_CHANGE_CONTEXT);
    await w.db.update(subjects).set({ emailEnc: ctx.crypto.encrypt(email, SUBJECT_EMAIL), emailBidx: row.emailBidx, updatedAt: now }).where(eq(subjects.id, subjectId));
    const old = subject.emailBidx && subject.emailBidx !== row.emailBidx ? [{ siteId: site.id, channel: 'email' as const, bidx: subject.emailBidx }] : [];
    await syncRestrictedSuppressions(w.tx, [subjectId], now, old);
    await w.db.delete(emailChanges).where(eq(emailChanges.subjectId, subjectId));
    await rectifyEvent(ctx, w, subject, 'email', sourceId, meta, now);
    return 'done';
  });
}

/**
 * Restriction of processing (GDPR art. 18) and its lifting: the flag send checks read, a
 * 'restricted' suppression per address while it lasts (so the suppression export carries
 * it to an e-mail or SMS service) and the 'restrict' or 'unrestrict' event (which webhooks
 * report), in one transaction.
 */
export async function setRestricted(ctx: LinkContext, person: Person, restricted: boolean, meta: RequestMeta): Promise<void> {
  const sourceId = await prefsSource(ctx, person.site.id);
  await withSubject(ctx, person, async (w, subject, now) => {
    if (subject.restricted === restricted) return;
    await w.db.update(subjects).set({ restricted, updatedAt: now }).where(eq(subjects.id, subject.id));
    await syncRestrictedSuppressions(w.tx, [subject.id], now);
    await appendEvents(w, [
      {
        siteId: subject.siteId,
        subjectId: subject.id,
        visitorId: null,
        purposeId: null,
        action: restricted ? 'restrict' : 'unrestrict',
        wordingVersionId: null,
        sourceId,
        actor: PERSON_ACTOR,
        occurredAt: now,
        evidence: sealedEvidence(ctx, { formId: 'consent-preferences' }, meta),
      },
    ]);
  });
}

// ---------------------------------------------------------------------------------
// Export (access and portability)

export interface PersonExport {
  exportedAt: string;
  controller: { name: string; email: string | null; address: string | null; privacyPolicyUrl: string | null };
  person: { id: string; email: string | null; phone: string | null; name: string | null; lang: string | null; restricted: boolean; createdAt: string; pendingEmailChange: boolean };
  consents: { purpose: string; name: string; channel: string; legalBasis: string; status: string; since: string; wordingVersion: number | null; source: string | null }[];
  history: {
    seq: number;
    occurredAt: string;
    action: string;
    purpose: string | null;
    wordingVersion: number | null;
    wordingSha256: Record<string, string> | null;
    source: string | null;
    actor: string;
    evidence: Record<string, unknown> | null;
  }[];
  suppressions: { channel: string; reason: string; purpose: string | null; since: string }[];
}

export async function exportPerson(ctx: LinkContext, person: Person, format: 'json' | 'csv'): Promise<PersonExport> {
  const { site } = person;
  const [subject] = await ctx.db.select().from(subjects).where(eq(subjects.id, person.subject.id));
  if (!subject) throw notFound('person');
  const iso = (ms: number) => new Date(ms).toISOString();
  const [purposeRows, sourceRows, stateRows, eventRows, changes] = await Promise.all([
    ctx.db.select().from(purposes).where(eq(purposes.siteId, site.id)),
    ctx.db.select({ id: sources.id, key: sources.key }).from(sources).where(eq(sources.siteId, site.id)),
    ctx.db.select().from(consentStates).where(eq(consentStates.subjectId, subject.id)),
    ctx.db.select().from(consentEvents).where(eq(consentEvents.subjectId, subject.id)).orderBy(asc(consentEvents.seq)),
    ctx.db.select({ id: emailChanges.id }).from(emailChanges).where(and(eq(emailChanges.subjectId, subject.id), gt(emailChanges.expiresAt, ctx.now()))),
  ]);
  const purposeById = new Map(purposeRows.map((p) => [p.id, p]));
  const sourceKey = new Map(sourceRows.map((s) => [s.id, s.key]));
  const wordings = await loadWordings(ctx.db, [...eventRows.map((e) => e.wordingVersionId), ...stateRows.map((s) => s.wordingVersionId)]);
  const suppressionRows = [
    ...(await suppressionsWithTime(ctx, site.id, 'email', subject.emailBidx)),
    ...(await suppressionsWithTime(ctx, site.id, 'sms', subject.phoneBidx)),
  ];
  const data: PersonExport = {
    exportedAt: iso(ctx.now()),
    controller: { name: site.name, email: site.controllerEmail, address: site.controllerAddress, privacyPolicyUrl: site.privacyPolicyUrl },
    person: {
      id: subject.id,
      email: decryptEmail(ctx, subject),
      phone: subject.phoneEnc ? ctx.crypto.decrypt(subject.phoneEnc, SUBJECT_PHONE) : null,
      name: decryptName(ctx, subject),
      lang: subject.lang,
      restricted: subject.restricted,
      createdAt: iso(subject.createdAt),
      pendingEmailChange: changes.length > 0,
    },
    consents: stateRows.map((s) => {
      const p = purposeById.get(s.purposeId);
      return {
        purpose: p?.key ?? s.purposeId,
        name: p?.name ?? '',
        channel: p?.channel ?? '',
        legalBasis: p?.legalBasis ?? '',
        status: s.status,
        since: iso(s.updatedAt),
        wordingVersion: s.wordingVersionId ? (wordings.get(s.wordingVersionId)?.version ?? null) : null,
        source: s.sourceId ? (sourceKey.get(s.sourceId) ?? null) : null,
      };
    }),
    history: eventRows.map((e) => {
      const wording = e.wordingVersionId ? wordings.get(e.wordingVersionId) : undefined;
      let evidence: Record<string, unknown> | null = null;
      if (e.evidence) {
        const { nonce: _nonce, ...rest } = openEvidence(ctx.crypto, e.evidence).evidence;
        evidence = rest;
      }
      return {
        seq: e.seq,
        occurredAt: iso(e.occurredAt),
        action: e.action,
        purpose: e.purposeId ? (purposeById.get(e.purposeId)?.key ?? null) : null,
        wordingVersion: wording?.version ?? null,
        wordingSha256: wording ? Object.fromEntries(wording.texts.flatMap((t) => (t.sha256 ? [[t.lang, t.sha256]] : []))) : null,
        source: e.sourceId ? (sourceKey.get(e.sourceId) ?? null) : null,
        actor: e.actor,
        evidence,
      };
    }),
    suppressions: suppressionRows.map((s) => ({
      channel: s.channel,
      reason: s.reason,
      purpose: s.purposeId ? (purposeById.get(s.purposeId)?.key ?? null) : null,
      since: iso(s.createdAt),
    })),
  };
  // The DPO's record of data-subject requests (GDPR art. 15 and 20): an access request
  // answered, recorded once the export is built (a failed export is no answer).
  await ctx.queue.run((w) => appendAudit(w, site.id, { actor: PERSON_ACTOR, action: 'subject.export', target: subject.id, details: { format } }, ctx.now()));
  return data;
}

async function suppressionsWithTime(ctx: LinkContext, siteId: string, channel: 'email' | 'sms', bidx: string | null) {
  if (!bidx) return [];
  const { rows } = await ctx.db.$client.execute({ sql: 'SELECT channel, reason, purpose_id, created_at FROM suppressions WHERE site_id = ? AND channel = ? AND bidx = ? ORDER BY id', args: [siteId, channel, bidx] });
  return rows.map((r) => ({ channel: String(r.channel), reason: String(r.reason), purposeId: r.purpose_id === null ? null : String(r.purpose_id), createdAt: Number(r.created_at) }));
}

/** A CSV cell: always quoted, quotes doubled, and no leading character a spreadsheet would run as a formula. */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=@\t\r]/.test(s) || /^[+-][^0-9 ]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

const CSV_COLUMNS = ['record', 'field', 'value', 'purpose', 'status_or_action', 'wording_version', 'wording_sha256', 'source', 'actor', 'time', 'evidence'] as const;

/** One table: the person's fields, their consents, the full history and their do-not-contact entries. */
export function exportCsv(data: PersonExport): string {
  const rows: Record<(typeof CSV_COLUMNS)[number], unknown>[] = [];
  const blank = { record: '', field: '', value: '', purpose: '', status_or_action: '', wording_version: '', wording_sha256: '', source: '', actor: '', time: '', evidence: '' };
  for (const [field, value] of Object.entries(data.person)) rows.push({ ...blank, record: 'person', field, value });
  for (const [field, value] of Object.entries(data.controller)) rows.push({ ...blank, record: 'controller', field, value });
  for (const c of data.consents) {
    rows.push({ ...blank, record: 'consent', purpose: c.purpose, status_or_action: c.status, wording_version: c.wordingVersion, source: c.source, time: c.since, field: c.legalBasis, value: c.channel });
  }
  for (const h of data.history) {
    rows.push({
      ...blank,
      record: 'event',
      field: h.seq,
      purpose: h.purpose,
      status_or_action: h.action,
      wording_version: h.wordingVersion,
      wording_sha256: h.wordingSha256 ? Object.entries(h.wordingSha256).map(([l, x]) => `${l}:${x}`).join(' ') : '',
      source: h.source,
      actor: h.actor,
      time: h.occurredAt,
      evidence: h.evidence,
    });
  }
  for (const s of data.suppressions) rows.push({ ...blank, record: 'suppression', field: s.channel, status_or_action: s.reason, purpose: s.purpose, time: s.since });
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------
// Erasure

/**
 * Forget me: the erasure receipt is queued first (while the address is still known), then
 * the 'erase' event, the scrubbing and the suppressions, all in one transaction.
 */
export async function erasePerson(ctx: LinkContext, person: Person, meta: RequestMeta): Promise<void> {
  const { site } = person;
  void meta; // the erase event keeps no evidence of the request: nothing personal survives
  const sourceId = await prefsSource(ctx, site.id);
  await withSubject(ctx, person, async (w, subject, now) => {
    const email = decryptEmail(ctx, subject);
    if (email) {
      const rendered = erasureMail({ lang: personLang(subject, site), site: mailSite(site), name: null, at: now });
      await enqueueMail(ctx, w, { siteId: site.id, subjectId: subject.id, kind: 'erasure', to: email, ...rendered }, now);
    }
    await eraseSubjectTx(ctx, w, subject, { suppress: true, actor: PERSON_ACTOR, note: 'erasure requested by the person', sourceId }, now);
    // A restriction ends with the person: their 'erased' rows now block every address, and a
    // 'restricted' row left behind would block the address for good should it come back.
    const gone = [
      ...(subject.emailBidx ? [{ siteId: site.id, channel: 'email' as const, bidx: subject.emailBidx }] : []),
      ...(subject.phoneBidx ? [{ siteId: site.id, channel: 'sms' as const, bidx: subject.phoneBidx }] : []),
    ];
    await syncRestrictedSuppressions(w.tx, [subject.id], now, gone);
    // The DPO's record of data-subject requests (GDPR art. 17): who, never what was held.
    await appendAudit(w, site.id, { actor: PERSON_ACTOR, action: 'subject.erase', target: subject.id }, now);
  });
}
