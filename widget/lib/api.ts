/**
 * The banner's two requests: the site's cookie configuration and the proof of a choice.
 * Neither sends credentials; the choice goes as text/plain so it needs no CORS preflight and
 * survives the page being left (keepalive).
 */
import type { CookieConfig, CookieConsentAnswer, CookieConsentBody } from '../../shared/cookies';
import { wordingDigestInput } from '../../shared/enums';

const isText = (t: { title: unknown; body: unknown } | undefined): boolean =>
  typeof t?.title == 'string' && typeof t.body == 'string';

/** Just enough checking that rendering and recording cannot go wrong. */
export function isCookieConfig(value: unknown): value is CookieConfig {
  const c = value as CookieConfig | null;
  try {
    return (
      typeof c?.revision == 'string' &&
      typeof c.lang == 'string' &&
      isText(c.banner) &&
      c.categories.every((k) => isText(k) && typeof k.key == 'string' && [k.cookies, k.consentMode].every(Array.isArray))
    );
  } catch {
    return false; // a missing array
  }
}

const siteUrl = (api: string, site: string) => `${api}/v1/sites/${encodeURIComponent(site)}`;

/** GET the config; default cache mode, so a repeat visit is served by the HTTP cache or a 304. */
export async function fetchConfig(api: string, site: string, lang: string): Promise<CookieConfig> {
  const res = await fetch(`${siteUrl(api, site)}/config?lang=${encodeURIComponent(lang)}`, { credentials: 'omit' });
  if (!res.ok) throw new Error(`config: HTTP ${res.status}`);
  const config: unknown = await res.json();
  if (!isCookieConfig(config)) throw new Error('config: invalid');
  return config;
}

/** Hex SHA-256 of the wording digest input for a displayed text. */
export async function wordingSha256(lang: string, title: string, body: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(wordingDigestInput(lang, title, body)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** POST the proof of a choice. */
export async function postChoice(api: string, site: string, body: CookieConsentBody): Promise<CookieConsentAnswer> {
  const res = await fetch(`${siteUrl(api, site)}/cookie-consents`, {
    method: 'POST',
    // A string body goes as text/plain;charset=UTF-8 by default: a CORS-safelisted type.
    body: JSON.stringify(body),
    credentials: 'omit',
    keepalive: true,
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json() as Promise<CookieConsentAnswer>;
}
