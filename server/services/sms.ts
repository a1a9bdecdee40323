/**
 * Inbound SMS keywords: STOP opts a number out of all SMS marketing (a suppression plus
 * ledger events), START opts back in only where the person had granted an SMS purpose
 * before the stop, YES/JA/START/OK confirms a web signup's pending SMS purposes (the
 * phone's own double opt-in), HELP answers with the site's help text. Signatures of the two
 * webhooks (Twilio's and our own JSON variant) are checked here too.
 *
 * What is kept: the keyword (in the event evidence, encrypted), the sender only as the
 * subject's encrypted phone and its blind index, the provider's message id only as a
 * keyed hash (to answer a retry without acting twice). Never the message text.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InValue } from '@libsql/client';
import type { SmsAction } from '../../shared/api';
import type { sites } from '../db/schema';
import type { ServiceContext } from './context';
import { newId } from './crypto';
import { normalizePhone } from './contact';
import { buildEvidence, sealEvidence, type RequestMeta } from './evidence';
import { appendEvents, type NewEvent } from './events';
import { SUBJECT_PHONE } from './ledger';
import { SMS_INBOUND_SECRET_CONTEXT, TWILIO_TOKEN_CONTEXT } from './sites';

type SiteRow = typeof sites.$inferSelect;

export const STOP_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'STOPP', 'AFMELD', 'AVMELD'] as const;
export const START_WORDS = ['START', 'UNSTOP', 'YES'] as const;
export const HELP_WORDS = ['HELP', 'INFO'] as const;
/** Words that confirm a web signup's pending SMS purposes from the phone (double opt-in for the number). */
export const CONFIRM_WORDS = ['YES', 'JA', 'START', 'OK'] as const;

export type SmsProvider = 'twilio' | 'inbound';
/** 'confirm': a confirm word that is not a START word (JA, OK); it acts only on pending SMS purposes. */
export type KeywordKind = 'stop' | 'start' | 'help' | 'confirm';

/** The keyword a message is, if the whole message (ignoring case and surrounding space) is one. */
export function matchKeyword(body: string, extra: { stop: string[]; start: string[] } = { stop: [], start: [] }): { kind: KeywordKind; word: string } | null {
  const word = body.normalize('NFC').trim().toUpperCase();
  if (!word) return null;
  if ((STOP_WORDS as readonly string[]).includes(word) || extra.stop.includes(word)) return { kind: 'stop', word };
  if ((START_WORDS as readonly string[]).includes(word) || extra.start.includes(word)) return { kind: 'start', word };
  if ((HELP_WORDS as readonly string[]).includes(word)) return { kind: 'help', word };
  if ((CONFIRM_WORDS as readonly string[]).includes(word)) return { kind: 'confirm', word };
  return null;
}

// ---------------------------------------------------------------------------------
// Signatures

/**
 * Twilio's X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + each POST parameter's
 * name and value, sorted by name)). Repeated names keep their values sorted, as
 * Twilio's own helper libraries do.
 */
export function twilioSignature(authToken: string, url: string, params: Iterable<[string, string]>): string {
  const sorted = [...params].sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let data = url;
  for (const [name, value] of sorted) data += name + value;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Timing-safe check; the URL is also tried with and without the scheme's default port, as Twilio's libraries do. */
export function verifyTwilioSignature(authToken: string, url: string, params: Iterable<[string, string]>, signature: string | undefined): boolean {
  if (!signature) return false;
  const list = [...params];
  const given = Buffer.from(signature);
  let ok = false;
  for (const candidate of urlVariants(url)) {
    const expected = Buffer.from(twilioSignature(authToken, candidate, list));
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

function urlVariants(url: string): string[] {
  const out = [url];
  const m = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(url);
  if (!m) return out;
  const [, scheme, host, rest] = m as unknown as [string, string, string, string];
  const port = scheme.toLowerCase() === 'https' ? '443' : '80';
  if (host.endsWith(`:${port}`)) out.push(`${scheme}://${host.slice(0, -port.length - 1)}${rest}`);
  else if (!/:\d+$/.test(host)) out.push(`${scheme}://${host}:${port}${rest}`);
  return out;
}

/** Five minutes either way, as for Stripe-style signed webhooks. */
export const INBOUND_TOLERANCE_MS = 5 * 60_000;

/** `X-Samtykke-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + rawBody)>`. */
export function inboundSignature(secret: string, timestamp: number | string, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex');
}

export function signInbound(secret: string, rawBody: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${inboundSignature(secret, t, rawBody)}`;
}

/** True for a header with a timestamp within the tolerance and (any) v1 signature matching. */
export function verifyInboundSignature(secret: string, header: string | undefined, rawBody: string, nowMs: number): boolean {
  if (!header || header.length > 2000) return false;
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') t = value;
    else if (key === 'v1') v1.push(value);
  }
  if (!t || !/^\d{1,12}$/.test(t) || v1.length === 0) return false;
  if (Math.abs(nowMs - Number(t) * 1000) > INBOUND_TOLERANCE_MS) return false;
  const expected = Buffer.from(inboundSignature(secret, t, rawBody));
  let ok = false;
  for (const candidate of v1) {
    const given = Buffer.from(candidate.toLowerCase());
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

export function twilioToken(ctx: Pick<ServiceContext, 'crypto'>, site: SiteRow): string | undefined {
  return site.twilioAuthTokenEnc ? ctx.crypto.decrypt(site.twilioAuthTokenEnc, TWILIO_TOKEN_CONTEXT) : undefined;
}

export function inboundSecret(ctx: Pick<ServiceContext, 'crypto'>, site: SiteRow): string | undefined {
  return site.smsInboundSecretEnc ? ctx.crypto.decrypt(site.smsInboundSecretEnc, SMS_INBOUND_SECRET_CONTEXT) : undefined;
}

// ---------------------------------------------------------------------------------
// Replies

interface ReplyTexts {
  stopped: string;
  started: string;
  confirmed: string;
  nothing: string;
  help: string;
}

const REPLIES: Record<string, ReplyTexts> = {
  da: {
    stopped: 'Du er nu afmeldt SMS fra {site}. Send START for at tilmelde dig igen.',
    started: 'Du er tilmeldt SMS fra {site} igen. Send STOP for at afmelde.',
    confirmed: 'Tak! Din tilmelding til SMS fra {site} er bekræftet. Send STOP for at afmelde.',
    nothing: 'Vi har ingen tidligere tilmelding til SMS fra {site} for dette nummer, så intet er ændret. Tilmeld dig på vores hjemmeside.',
    help: '{site}: Send STOP for at afmelde SMS og START for at tilmelde dig igen.',
  },
  nb: {
    stopped: 'Du er nå meldt av SMS fra {site}. Send START for å melde deg på igjen.',
    started: 'Du er meldt på SMS fra {site} igjen. Send STOPP for å melde deg av.',
    confirmed: 'Takk! Påmeldingen din til SMS fra {site} er bekreftet. Send STOPP for å melde deg av.',
    nothing: 'Vi finner ingen tidligere påmelding til SMS fra {site} for dette nummeret, så ingenting er endret. Meld deg på via nettsiden vår.',
    help: '{site}: Send STOPP for å melde deg av SMS og START for å melde deg på igjen.',
  },
  nn: {
    stopped: 'Du er no meld av SMS frå {site}. Send START for å melde deg på att.',
    started: 'Du er meld på SMS frå {site} att. Send STOPP for å melde deg av.',
    confirmed: 'Takk! Påmeldinga di til SMS frå {site} er stadfesta. Send STOPP for å melde deg av.',
    nothing: 'Vi finn inga tidlegare påmelding til SMS frå {site} for dette nummeret, så ingenting er endra. Meld deg på via nettsida vår.',
    help: '{site}: Send STOPP for å melde deg av SMS og START for å melde deg på att.',
  },
  sv: {
    stopped: 'Du är nu avregistrerad från sms från {site}. Skicka START för att registrera dig igen.',
    started: 'Du får sms från {site} igen. Skicka STOPP för att avregistrera dig.',
    confirmed: 'Tack! Din registrering för sms från {site} är bekräftad. Skicka STOPP för att avregistrera dig.',
    nothing: 'Vi hittar ingen tidigare registrering för sms från {site} för det här numret, så inget har ändrats. Registrera dig på vår webbplats.',
    help: '{site}: Skicka STOPP för att avregistrera dig från sms och START för att registrera dig igen.',
  },
  en: {
    stopped: 'You have been unsubscribed from {site} text messages. Reply START to subscribe again.',
    started: 'You are subscribed to {site} text messages again. Reply STOP to unsubscribe.',
    confirmed: 'Thank you! Your subscription to {site} text messages is confirmed. Reply STOP to unsubscribe.',
    nothing: 'We have no earlier subscription to {site} text messages for this number, so nothing has changed. Please sign up on our website.',
    help: '{site}: Reply STOP to unsubscribe from text messages and START to subscribe again.',
  },
  de: {
    stopped: 'Sie erhalten keine SMS mehr von {site}. Antworten Sie START, um sie wieder zu erhalten.',
    started: 'Sie erhalten wieder SMS von {site}. Antworten Sie STOP, um sie abzubestellen.',
    confirmed: 'Danke! Ihre Anmeldung zu SMS von {site} ist bestätigt. Antworten Sie STOP, um sie abzubestellen.',
    nothing: 'Für diese Nummer gibt es keine frühere Anmeldung zu SMS von {site}; es wurde nichts geändert. Bitte melden Sie sich auf unserer Website an.',
    help: '{site}: Antworten Sie STOP, um SMS abzubestellen, und START, um sie wieder zu erhalten.',
  },
};

function replyText(site: SiteRow, key: keyof ReplyTexts): string {
  const lang = site.defaultLanguage;
  const primary = lang.split('-')[0]!.toLowerCase();
  if (key === 'help') {
    const custom = site.smsHelpText[lang] ?? site.smsHelpText[primary];
    if (custom) return custom;
  }
  const texts = REPLIES[primary] ?? REPLIES.en!;
  return texts[key].replaceAll('{site}', site.name);
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

/** A TwiML answer: one message, or none. */
export function twiml(reply: string | null): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>';
  return reply === null ? `${head}<Response></Response>` : `${head}<Response><Message>${escapeXml(reply)}</Message></Response>`;
}

// ---------------------------------------------------------------------------------
// Acting on a message

export interface InboundSms {
  provider: SmsProvider;
  messageId: string;
  from: string;
  body: string;
}

export interface SmsOutcome {
  action: SmsAction;
  reply: string | null;
  /** True when this message id was handled before: nothing new was recorded. */
  replayed: boolean;
}

/**
 * Acts on one inbound message. STOP and START are written in one transaction with the
 * message id's record, so a provider's retry (even a concurrent one) acts once.
 */
export async function handleInboundSms(ctx: ServiceContext, site: SiteRow, msg: InboundSms, meta: RequestMeta): Promise<SmsOutcome> {
  const keyword = matchKeyword(msg.body, site.smsKeywords);
  if (!keyword) return { action: 'none', reply: null, replayed: false };
  if (keyword.kind === 'help') return { action: 'help', reply: replyText(site, 'help'), replayed: false };
  // A short code or an alphanumeric sender is no one we can suppress or find.
  const phone = normalizePhone(msg.from, site.defaultCountry);
  if (!phone) return { action: 'none', reply: null, replayed: false };

  const siteId = site.id;
  const bidx = ctx.crypto.blindIndex(siteId, 'phone', phone);
  const messageKey = ctx.crypto.blindIndex(siteId, `sms-message:${msg.provider}`, msg.messageId);
  const catalog = await ctx.catalog.get(siteId);
  const smsPurposes = [...(catalog?.purposesByKey.values() ?? [])].filter((p) => p.channel === 'sms' && p.role === 'purpose').map((p) => p.id);
  const smsSource = catalog?.sourcesByKey.get('sms');
  const sourceId = smsSource && !smsSource.archived ? smsSource.id : null;
  const actor = `sms:${msg.provider}`;
  // Only the keyword and the provider's message id (proof that can be looked up with the
  // provider), never the text; encrypted, and scrubbed with the person on erasure.
  const evidence = () => sealEvidence(ctx.crypto, buildEvidence({ note: `SMS keyword ${keyword.word} (${msg.provider} message ${msg.messageId})` }, meta));

  return ctx.queue.run(async (w) => {
    const { tx } = w;
    const now = ctx.now();
    const done = await tx.execute({
      sql: 'SELECT action, reply FROM sms_messages WHERE site_id = ? AND provider = ? AND message_key = ?',
      args: [siteId, msg.provider, messageKey],
    });
    if (done.rows[0]) {
      return { action: String(done.rows[0].action) as SmsAction, reply: done.rows[0].reply === null ? null : String(done.rows[0].reply), replayed: true };
    }
    const remember = async (action: SmsAction, reply: string | null): Promise<SmsOutcome> => {
      await tx.execute({
        sql: 'INSERT INTO sms_messages (site_id, provider, message_key, action, reply, created_at) VALUES (?,?,?,?,?,?)',
        args: [siteId, msg.provider, messageKey, action, reply, now],
      });
      return { action, reply, replayed: false };
    };
    const found = await tx.execute({ sql: 'SELECT id FROM subjects WHERE site_id = ? AND phone_bidx = ?', args: [siteId, bidx] });
    let subjectId = found.rows[0] ? String(found.rows[0].id) : undefined;
    const inList = smsPurposes.map(() => '?').join(',');

    if (keyword.kind === 'stop') {
      // A stranger's STOP is honoured too, and made provable: the number becomes a subject
      // (phone encrypted), so the event names someone and a later signup finds the history.
      if (!subjectId) {
        subjectId = newId();
        await tx.execute({
          sql: 'INSERT INTO subjects (id, site_id, phone_enc, phone_bidx, created_at, updated_at) VALUES (?,?,?,?,?,?)',
          args: [subjectId, siteId, ctx.crypto.encrypt(phone, SUBJECT_PHONE), bidx, now, now],
        });
      }
      // Only granted purposes are withdrawn, so START can tell what to restore.
      const granted = smsPurposes.length
        ? (await tx.execute({
            sql: `SELECT purpose_id FROM consent_states WHERE subject_id = ? AND status = 'granted' AND purpose_id IN (${inList})`,
            args: [subjectId, ...smsPurposes],
          })).rows.map((r) => String(r.purpose_id))
        : [];
      const base = { siteId, subjectId, visitorId: null, action: 'sms-stop' as const, wordingVersionId: null, sourceId, actor, occurredAt: now };
      // One event per purpose withdrawn; a STOP that changes no purpose is still recorded once.
      const events: NewEvent[] = (granted.length ? granted : [null]).map((purposeId) => ({ ...base, purposeId, evidence: evidence() }));
      const appended = await appendEvents(w, events);
      for (const [i, purposeId] of granted.entries()) {
        await tx.execute({
          sql: "UPDATE consent_states SET status = 'withdrawn', source_id = ?, event_id = ?, updated_at = ? WHERE subject_id = ? AND purpose_id = ?",
          args: [sourceId, appended[i]!.id, now, subjectId, purposeId],
        });
      }
      await tx.execute({
        sql: "INSERT INTO suppressions (site_id, channel, bidx, reason, list, purpose_id, created_at) VALUES (?, 'sms', ?, 'sms-stop', '', NULL, ?) ON CONFLICT DO NOTHING",
        args: [siteId, bidx, now],
      });
      return remember('stopped', replyText(site, 'stopped'));
    }

    // YES, JA, START or OK from the phone confirms the web signup's pending SMS purposes: the
    // number's own answer, which a confirmation mail cannot give. One 'confirm' event each.
    const pending: { purposeId: string; wordingVersionId: string | null; sourceId: string | null }[] =
      (CONFIRM_WORDS as readonly string[]).includes(keyword.word) && subjectId && smsPurposes.length
        ? (
            await tx.execute({
              sql: `SELECT purpose_id, wording_version_id, source_id FROM consent_states WHERE subject_id = ? AND status = 'pending' AND purpose_id IN (${inList}) ORDER BY event_id`,
              args: [subjectId, ...smsPurposes] as InValue[],
            })
          ).rows.map((r) => ({
            purposeId: String(r.purpose_id),
            wordingVersionId: r.wording_version_id === null ? null : String(r.wording_version_id),
            sourceId: r.source_id === null ? null : String(r.source_id),
          }))
        : [];
    if (pending.length) {
      const confirmed = await appendEvents(
        w,
        pending.map((p) => ({
          siteId,
          subjectId: subjectId!,
          visitorId: null,
          purposeId: p.purposeId,
          action: 'confirm' as const,
          wordingVersionId: p.wordingVersionId,
          sourceId: sourceId ?? p.sourceId,
          actor,
          occurredAt: now,
          evidence: evidence(),
        })),
      );
      for (const [i, p] of pending.entries()) {
        await tx.execute({
          sql: "UPDATE consent_states SET status = 'granted', event_id = ?, updated_at = ? WHERE subject_id = ? AND purpose_id = ?",
          args: [confirmed[i]!.id, now, subjectId!, p.purposeId],
        });
      }
      // The number's own opt-outs that this answers: all-SMS ones, an erasure, those of the
      // purposes confirmed, and a STOP (the same person opting in again from the same phone).
      const ids = pending.map((p) => p.purposeId);
      await tx.execute({
        sql:
          "DELETE FROM suppressions WHERE site_id = ? AND channel = 'sms' AND bidx = ? AND ((reason IN ('unsubscribe', 'erased')" +
          ` AND (purpose_id IS NULL OR purpose_id IN (${ids.map(() => '?').join(',')}))) OR (reason = 'sms-stop' AND list = ''))`,
        args: [siteId, bidx, ...ids],
      });
    }
    // JA and OK mean nothing else: with nothing pending they are ignored like any other text.
    if (keyword.kind === 'confirm') return pending.length ? remember('confirmed', replyText(site, 'confirmed')) : { action: 'none' as const, reply: null, replayed: false };

    // START: only purposes whose state was set by an SMS STOP (they were granted before it).
    const restorable: { purposeId: string; wordingVersionId: string | null }[] =
      subjectId && smsPurposes.length
        ? (
            await tx.execute({
              sql:
                'SELECT s.purpose_id, s.wording_version_id FROM consent_states s JOIN consent_events e ON e.id = s.event_id' +
                ` WHERE s.subject_id = ? AND s.status = 'withdrawn' AND e.action = 'sms-stop' AND s.purpose_id IN (${inList})`,
              args: [subjectId, ...smsPurposes] as InValue[],
            })
          ).rows.map((r) => ({ purposeId: String(r.purpose_id), wordingVersionId: r.wording_version_id === null ? null : String(r.wording_version_id) }))
        : [];
    if (restorable.length === 0) return pending.length ? remember('confirmed', replyText(site, 'confirmed')) : remember('nothing-to-restart', replyText(site, 'nothing'));
    const appended = await appendEvents(
      w,
      restorable.map((r) => ({
        siteId,
        subjectId: subjectId!,
        visitorId: null,
        purposeId: r.purposeId,
        action: 'sms-start' as const,
        // The wording the person agreed to before the stop is the one they return to.
        wordingVersionId: r.wordingVersionId,
        sourceId,
        actor,
        occurredAt: now,
        evidence: evidence(),
      })),
    );
    for (const [i, r] of restorable.entries()) {
      await tx.execute({
        sql: "UPDATE consent_states SET status = 'granted', source_id = ?, event_id = ?, updated_at = ? WHERE subject_id = ? AND purpose_id = ?",
        args: [sourceId, appended[i]!.id, now, subjectId!, r.purposeId],
      });
    }
    await tx.execute({
      sql: "DELETE FROM suppressions WHERE site_id = ? AND channel = 'sms' AND bidx = ? AND reason = 'sms-stop' AND list = ''",
      args: [siteId, bidx],
    });
    return pending.length ? remember('confirmed', replyText(site, 'confirmed')) : remember('started', replyText(site, 'started'));
  });
}
