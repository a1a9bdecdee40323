/** Vocabulary shared by the server and the widgets. Tiny on purpose: it may end up in the widget bundle. */

/** Where a purpose reaches a person. `cookie` purposes are cookie-banner categories. */
export const CHANNELS = ['email', 'sms', 'cookie', 'other'] as const;
export type Channel = (typeof CHANNELS)[number];

/** A purpose proper, or the cookie banner's own text, which is versioned like any wording. */
export const PURPOSE_ROLES = ['purpose', 'cookie-banner'] as const;
export type PurposeRole = (typeof PURPOSE_ROLES)[number];

/** GDPR art. 6(1)(a)–(f) and art. 9(2)(a) ("Retsgrundlag"). */
export const LEGAL_BASES = ['6-1-a', '6-1-b', '6-1-c', '6-1-d', '6-1-e', '6-1-f', '9-2-a'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

export const LEGAL_BASIS_LABELS: Record<LegalBasis, string> = {
  '6-1-a': 'Consent (GDPR art. 6(1)(a))',
  '6-1-b': 'Contract (GDPR art. 6(1)(b))',
  '6-1-c': 'Legal obligation (GDPR art. 6(1)(c))',
  '6-1-d': 'Vital interests (GDPR art. 6(1)(d))',
  '6-1-e': 'Public task (GDPR art. 6(1)(e))',
  '6-1-f': 'Legitimate interests (GDPR art. 6(1)(f))',
  '9-2-a': 'Explicit consent to special categories (GDPR art. 9(2)(a))',
};

/** A purpose on one of these bases needs a person's own grant, naming the wording they saw. */
export function basisNeedsConsent(basis: LegalBasis): boolean {
  return basis === '6-1-a' || basis === '9-2-a';
}

/** Actions a service may record through the API. */
export const RECORDABLE_ACTIONS = ['grant', 'withdraw', 'object'] as const;
export type RecordableAction = (typeof RECORDABLE_ACTIONS)[number];

/** Every kind of ledger event, including those only the system writes. */
export const EVENT_ACTIONS = [
  'grant',
  'withdraw',
  'object',
  'confirm',
  'unsubscribe',
  'sms-stop',
  'sms-start',
  'restrict',
  'unrestrict',
  /** Name or e-mail corrected by the person (the evidence names the fields, never the values). */
  'rectify',
  /** An unconfirmed (double opt-in) signup lapsed and was purged. */
  'expire',
  'erase',
] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

/**
 * Why an address or number is on a site's do-not-contact list, as stored. `restricted`:
 * the person restricted processing (GDPR art. 18), one row per address they have, for as
 * long as the restriction lasts.
 */
export const SUPPRESSION_REASONS = ['unsubscribe', 'sms-stop', 'erased', 'bounced', 'complained', 'listed', 'restricted'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** The answer of a send check (issue 5): why a person may or may not be contacted. */
export const CHECK_REASONS = [
  'consented',
  'legal-basis',
  'no-consent',
  'pending-confirmation',
  'withdrawn',
  'objected',
  'unsubscribed',
  'sms-stopped',
  'bounced',
  'complained',
  'listed',
  'restricted',
  'erased',
] as const;
export type CheckReason = (typeof CHECK_REASONS)[number];

/**
 * The word the API speaks for a stored suppression reason: a send check's `reason` and the
 * suppression export's. Storage keeps its own words (no migration); only these two differ.
 */
export const SUPPRESSION_CHECK_REASON = {
  unsubscribe: 'unsubscribed',
  'sms-stop': 'sms-stopped',
  erased: 'erased',
  bounced: 'bounced',
  complained: 'complained',
  listed: 'listed',
  restricted: 'restricted',
} as const satisfies Record<SuppressionReason, CheckReason>;
export type SuppressionCheckReason = (typeof SUPPRESSION_CHECK_REASON)[SuppressionReason];
/** The API's words for suppression reasons (the suppression export's `reason`). */
export const SUPPRESSION_CHECK_REASONS = Object.values(SUPPRESSION_CHECK_REASON) as SuppressionCheckReason[];

/** A stored suppression reason in the API's words; a word storage does not know counts as `listed`. */
export function suppressionCheckReason(stored: string): SuppressionCheckReason {
  return Object.hasOwn(SUPPRESSION_CHECK_REASON, stored) ? SUPPRESSION_CHECK_REASON[stored as SuppressionReason] : 'listed';
}

/** Derived state of one (subject, purpose) pair. */
export const CONSENT_STATUSES = ['granted', 'pending', 'withdrawn', 'objected'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export const KEY_SCOPES = ['admin', 'write', 'check', 'pii:read'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export const WORDING_STATUSES = ['draft', 'published', 'retired'] as const;
export type WordingStatus = (typeof WORDING_STATUSES)[number];

/** UI and wording languages shipped with the product (BCP 47 primary tags). */
export const LANGUAGES = ['da', 'nb', 'nn', 'sv', 'en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

/**
 * The exact string whose SHA-256 identifies a wording text. Widgets hash what they
 * displayed with the same function, so the server can refuse a text other than the
 * published one.
 */
export function wordingDigestInput(lang: string, title: string, body: string): string {
  return JSON.stringify([lang, title, body]);
}
