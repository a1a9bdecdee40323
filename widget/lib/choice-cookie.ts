/**
 * The visitor's choice in a first-party cookie, and deleting the cookies of a category the
 * visitor refused or withdrew.
 */
import { CONSENT_COOKIE, type StoredChoice } from '../../shared/cookies';

/**
 * What the widget keeps. `cm` (widget-only) lists the Consent Mode types granted, as indexes
 * into CONSENT_MODE_TYPES, so the next page can push its `update` before the config arrives;
 * it is absent when the site does not use Consent Mode.
 */
export interface Choice extends StoredChoice {
  cm?: number[];
}

// The JSON is ASCII: ids are UUIDs, revisions hex and category keys slugs.
export const encodeChoice = (choice: Choice): string =>
  btoa(JSON.stringify(choice)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/** The choice in `value`, or undefined for anything malformed (treated as no choice). */
export function decodeChoice(value: string): Choice | undefined {
  try {
    const c = JSON.parse(atob(value.replace(/-/g, '+').replace(/_/g, '/'))) as Choice;
    // Only this widget writes it; the shape check keeps an old or tampered cookie from breaking the page.
    if (typeof c.id == 'string' && typeof c.rev == 'string' && typeof c.at == 'number' && c.cats.every((k) => typeof k == 'string')) return c;
  } catch {
    // not base64url JSON of a choice: none
  }
  return undefined;
}

/** Names of the cookies this page can see. */
const cookieNames = (): string[] => document.cookie.split(/; */).map((c) => c.split('=')[0]!);

export function readChoice(): Choice | undefined {
  const raw = document.cookie.match(`(?:^|; )${CONSENT_COOKIE}=([^;]+)`)?.[1];
  return raw ? decodeChoice(raw) : undefined;
}

/**
 * Stores the choice for `days`. A `domain` the browser refuses (not a parent of this host)
 * falls back to a host-only cookie, so the choice is never lost.
 */
export function writeChoice(choice: Choice, days: number, domain?: string): void {
  const cookie = `${CONSENT_COOKIE}=${encodeChoice(choice)}; Path=/; SameSite=Lax; Max-Age=${Math.round(days * 86400)}${
    location.protocol == 'https:' ? '; Secure' : ''
  }`;
  if (domain) document.cookie = `${cookie}; Domain=${domain}`;
  if (readChoice()?.at !== choice.at) document.cookie = cookie;
}

/**
 * Deletes every visible cookie matching `patterns` (exact names, or prefixes ending in `*`).
 * A script cannot see a cookie's domain, so each is expired host-only, on the configured
 * domain, and on this host and each parent domain. The consent cookie itself is kept.
 */
export function deleteCookies(patterns: string[], domain?: string): void {
  const labels = location.hostname.split('.');
  const domains = labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
  for (const name of cookieNames()) {
    if (name == CONSENT_COOKIE || !patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name == p))) continue;
    for (const d of ['', domain, ...domains]) document.cookie = `${name}=; Max-Age=0; Path=/${d ? `; Domain=${d}` : ''}`;
  }
}
