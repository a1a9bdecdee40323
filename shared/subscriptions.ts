/**
 * The contract between the subscription widgets (`<consent-signup>`, `<consent-preferences>`)
 * and the server's page routes. Types only: the widgets import them with `import type`, so
 * nothing here reaches a bundle. The server's valibot schemas for these shapes live in
 * shared/api.ts and are checked against these types there.
 *
 * Page routes are public (CORS per the site's allowed origins, rate-limited per IP and per
 * address); the preference routes take the person's link token as
 * `Authorization: Bearer <token>`.
 */
import type { Channel, ConsentStatus, LegalBasis } from './enums';

/** A purpose as a form shows it: the current wording in one language, and its hash. */
export interface FormPurpose {
  key: string;
  channel: Channel;
  /** Current published wording version. */
  version: number;
  /** Language of `title` and `body` (the one asked for, else the site's default). */
  lang: string;
  /** Plain text. Rendered as text only; bare https:// URLs may be shown as links. */
  title: string;
  body: string;
  /** SHA-256 (hex) of wordingDigestInput(lang, title, body), sent back with a signup. */
  sha256: string;
}

/**
 * GET /v1/sites/{site}/signup-form?purposes=e-marketing,sms-offers&lang=da
 * Unknown purpose keys are 400 (`unknown_purpose`); purposes without a published wording
 * are 409 (`no_current_wording`).
 */
export interface SignupForm {
  site: string;
  /** The site's name (the controller), shown near the submit button. */
  name: string;
  lang: string;
  doubleOptIn: boolean;
  privacyPolicyUrl: string | null;
  /**
   * Which contact fields to show: `email` when an e-mail purpose is listed or double opt-in
   * is on (the confirmation goes there); `phone` when an SMS purpose is listed.
   * `required`: the form cannot be sent without it; `optional`: needed only when a purpose
   * of its channel is ticked.
   */
  fields: { email: 'required' | 'optional' | 'none'; phone: 'required' | 'optional' | 'none' };
  purposes: FormPurpose[];
}

/** POST /v1/sites/{site}/signups (application/json). */
export interface SignupBody {
  email?: string;
  phone?: string;
  /** Optional, at most 200 characters. */
  name?: string;
  /** UI language the person used: their mails come in it. */
  lang: string;
  /** Source key (default `signup-form`). */
  source?: string;
  /** Page URL the form was on (origin and path are kept). */
  page?: string;
  /** The purposes ticked (at least one), each naming the wording shown and its hash. */
  purposes: { purpose: string; wordingVersion: number; lang: string; sha256: string }[];
  /** Honeypot: a hidden field people leave empty. Anything in it: 202, nothing recorded. */
  website?: string;
}

/**
 * 202 for a new, known, confirmed or suppressed address alike (no enumeration).
 * 400 for a malformed body, 409 `wording_mismatch` for a hash that is not the published
 * text, 429 with Retry-After for too many signups from one IP or for one address.
 */
export interface SignupAnswer {
  status: 'accepted';
  /** True when a confirmation mail is on its way (double opt-in). */
  confirmationSent: boolean;
}

/** One purpose on the preference page. */
export interface PreferencePurpose {
  key: string;
  name: string;
  description: string;
  channel: Channel;
  legalBasis: LegalBasis;
  /** Consent-based (the person can grant and withdraw); otherwise they can object. */
  needsConsent: boolean;
  status: ConsentStatus | 'none';
  /** When the status was last set (ISO), and from which source key. */
  since: string | null;
  source: string | null;
  /** The wording the person agreed to (their last grant), in their language when it exists. */
  agreed: { version: number; lang: string; title: string; body: string } | null;
  /** The current wording, granted with when toggled on. */
  current: FormPurpose | null;
  /**
   * A do-not-contact entry that a toggle on this page does not lift: `sms-stopped` (reply
   * START), or `listed`, `bounced`, `complained`. Null when none.
   */
  blocked: 'sms-stopped' | 'listed' | 'bounced' | 'complained' | null;
}

/** GET /v1/sites/{site}/me: what the preference page shows. */
export interface PreferencesView {
  site: { id: string; name: string; privacyPolicyUrl: string | null; controllerEmail: string | null };
  lang: string;
  person: {
    email: string | null;
    phone: string | null;
    name: string | null;
    restricted: boolean;
    /** A new e-mail address waits for confirmation. */
    pendingEmailChange: boolean;
  };
  purposes: PreferencePurpose[];
  /** Channel-wide unsubscribes (all marketing on that channel). */
  unsubscribed: { email: boolean; sms: boolean };
  /** When the token in use expires (ISO), or null for links that do not expire. */
  tokenExpiresAt: string | null;
}

/**
 * Preference routes, all with `Authorization: Bearer <link token>`; a missing, tampered,
 * foreign-site or expired token is 401 (`invalid_token` / `token_expired`), an erased
 * person 410 (`erased`):
 *
 *   GET    /v1/sites/{site}/me                         → PreferencesView
 *   PUT    /v1/sites/{site}/me/consents/{purpose}      PreferenceToggle → PreferencesView
 *   POST   /v1/sites/{site}/me/unsubscribe             { channel: 'email' | 'sms' | 'all' } → PreferencesView
 *   PATCH  /v1/sites/{site}/me                         { name?: string | null, email?: string } → PreferencesView
 *          (a new e-mail is not applied: a confirmation link goes to it, and
 *           person.pendingEmailChange turns true)
 *   POST   /v1/sites/{site}/me/restrict                { restricted: boolean } → PreferencesView
 *   GET    /v1/sites/{site}/me/export?format=json|csv  → attachment (Content-Disposition)
 *   POST   /v1/sites/{site}/me/erase                   { confirm: true } → { erased: true }
 *
 * Asking for a magic link (no token): always 202 { status: 'accepted' }:
 *   POST   /v1/sites/{site}/preference-links           { email, lang }
 */
export interface PreferenceToggle {
  granted: boolean;
  /** Required when granting a consent-based purpose: the wording shown. */
  wordingVersion?: number;
  lang?: string;
  sha256?: string;
}

export type ExportFormat = 'json' | 'csv';
