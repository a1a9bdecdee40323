/**
 * The cookie banner's contract with the server: the site configuration it renders and
 * the choice it sends back. Plain types plus the cookie format, no valibot here: this
 * file is bundled into the widget, which must stay small. The server validates the
 * same shapes with the schemas in shared/api.ts.
 */

/** Google Consent Mode v2 storage types. */
export const CONSENT_MODE_TYPES = [
  'ad_storage',
  'ad_user_data',
  'ad_personalization',
  'analytics_storage',
  'functionality_storage',
  'personalization_storage',
  'security_storage',
] as const;
export type ConsentModeType = (typeof CONSENT_MODE_TYPES)[number];

export interface CookieInfo {
  /** Cookie name or pattern, e.g. `_ga` or `_ga_*`. */
  name: string;
  /** Who sets it (first party, or a service such as "Google Analytics"). */
  provider: string;
  /** What it is for, in the configured language. */
  purpose: string;
  /** How long it lives, human readable ("2 years", "session"). */
  duration: string;
}

export interface CookieCategory {
  /** Purpose key, e.g. `necessary`, `preferences`, `statistics`, `marketing`. */
  key: string;
  /** Always on, cannot be switched off (strictly necessary cookies). */
  required: boolean;
  /** Switched off by Global Privacy Control. */
  marketing: boolean;
  title: string;
  body: string;
  /** Wording version shown, and the SHA-256 of wordingDigestInput(lang, title, body). */
  version: number;
  sha256: string;
  cookies: CookieInfo[];
  /** Consent Mode types this category grants. */
  consentMode: ConsentModeType[];
}

export interface CookieConfig {
  site: string;
  /** Language of the texts (the one asked for, else the site default). */
  lang: string;
  /** Changes whenever any published wording changes: a stored choice with another revision is asked again. */
  revision: string;
  /** The banner's own text; `key` is the purpose key to name in `wordings`. */
  banner: { key: string; title: string; body: string; version: number; sha256: string };
  categories: CookieCategory[];
  /** Google Consent Mode v2 on for this site. */
  consentMode: boolean;
  /** Cookie domain for the choice cookie (e.g. `.example.dk` so subdomains share it); absent: the page's host. */
  cookieDomain?: string;
  /** Days the choice is kept before asking again (default 182). */
  cookieDays: number;
  /** Link shown in the banner, if the site has one. */
  privacyPolicyUrl?: string;
  /** True when the request carried `Sec-GPC: 1`. */
  gpc: boolean;
}

/** One displayed text, proven by its hash. */
export interface ShownWording {
  purpose: string;
  version: number;
  lang: string;
  sha256: string;
}

/** POST /v1/sites/{site}/cookie-consents */
export interface CookieConsentBody {
  /** Random id kept in the visitor's cookie; never linked to a person. */
  consentId: string;
  /** Every optional category with the visitor's choice. */
  categories: Record<string, boolean>;
  /** The banner text and each category text displayed, with hashes. */
  wordings: ShownWording[];
  revision: string;
  gpc: boolean;
  pageUrl: string;
}

export interface CookieConsentAnswer {
  consentId: string;
  recordedAt: string;
}

/** Name of the first-party cookie holding the visitor's choice. */
export const CONSENT_COOKIE = 'samtykke';

/** What the choice cookie holds (JSON, base64url-encoded). */
export interface StoredChoice {
  /** consent id */
  id: string;
  /** config revision the choice was made under */
  rev: string;
  /** accepted optional category keys */
  cats: string[];
  /** time of the choice, ms since epoch */
  at: number;
  /** GPC was on when choosing */
  gpc?: boolean;
}
