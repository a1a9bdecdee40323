/**
 * The visitor's consent on this page: the stored choice, the site's config once it has
 * arrived, and what follows a choice (cookie, Consent Mode, gated scripts, deleting refused
 * cookies, the event, the proof sent to the server). One per page, shared by every element
 * and by `window.samtykke`.
 */
import { CONSENT_MODE_TYPES, type CookieConfig } from '../../shared/cookies';
import { postChoice, wordingSha256 } from './api';
import { deleteCookies, readChoice, writeChoice, type Choice } from './choice-cookie';
import { ConsentChangeEvent, type ConsentDetail } from './consent-change-event';
import { consentModeDefault, consentModeUpdate } from './consent-mode';
import { pageLanguage, uiStrings } from './i18n';
import { runGate, startGate, stopGate } from './script-gate';
import { warnOnce } from './warn';

export type ConsentListener = (detail: ConsentDetail) => void;

let started = false;
let choice: Choice | undefined;
let config: CookieConfig | undefined;
let api = '';
let site = '';
const listeners = new Set<ConsentListener>();

/** True when the browser sends Global Privacy Control (or the config request carried Sec-GPC). */
export const gpcOn = (): boolean =>
  (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true || !!config?.gpc;

const optional = () => config?.categories.filter((k) => !k.required) ?? [];

/** Every optional category except marketing ones while GPC is on. */
export const acceptAllKeys = (): string[] => optional().flatMap((k) => (k.marketing && gpcOn() ? [] : [k.key]));

/** Category → consented; without a config only the stored (accepted) keys are known. */
function categories(): Record<string, boolean> {
  const cats = choice?.cats ?? [];
  return Object.fromEntries(
    (config?.categories ?? cats.map((key) => ({ key, required: true }))).map((k) => [k.key, k.required || cats.includes(k.key)]),
  );
}

/** Consent Mode types granted by the required categories plus `accepted` (config needed). */
const grantedTypes = (accepted: string[]) =>
  config!.categories.flatMap((k) => (k.required || accepted.includes(k.key) ? k.consentMode : []));

/** The current consent, or null before the visitor has chosen. */
export const currentConsent = (): ConsentDetail | null => (choice ? { categories: categories(), consentId: choice.id } : null);

/**
 * Applies a stored choice as early as possible (on script load, before the config): its
 * Consent Mode update and its gated scripts. Idempotent.
 */
export function startConsent(): void {
  if (started) return;
  started = true;
  choice = readChoice();
  if (choice?.cm) consentModeUpdate(choice.cm.map((i) => CONSENT_MODE_TYPES[i]!));
  startGate(
    (category) => !!categories()[category],
    // Without a config nothing can be granted (or proven), so the button waits for one.
    (category) => void (config && choose([...(choice?.cats ?? []), category])),
    (category) =>
      uiStrings(pageLanguage()).placeholder.replace('{}', config?.categories.find((k) => k.key == category)?.title ?? category),
  );
}

/** The config arrived: Consent Mode per the site setting, placeholders in its words. */
export function useConfig(next: CookieConfig, apiBase: string, siteId: string): void {
  startConsent();
  config = next;
  api = apiBase;
  site = siteId;
  if (next.consentMode) {
    consentModeDefault();
    if (choice) consentModeUpdate(grantedTypes(choice.cats));
  }
  runGate();
}

/**
 * Whether the banner must ask: no choice, or one made under another revision of the wording,
 * or older than the site's cookie lifetime. Without a config only a missing choice counts.
 */
export const needsAsking = (): boolean =>
  !choice || (!!config && (choice.rev != config.revision || choice.at + config.cookieDays * 864e5 < Date.now()));

/** Sends the proof: the choice and the SHA-256 of every text the banner displays. */
async function record(c: Choice, cfg: CookieConfig): Promise<void> {
  const lang = cfg.lang;
  await postChoice(api, site, {
    consentId: c.id,
    categories: Object.fromEntries(optional().map((k) => [k.key, c.cats.includes(k.key)])),
    wordings: await Promise.all(
      [cfg.banner, ...cfg.categories].map(async (t) => ({
        purpose: t.key,
        version: t.version,
        lang,
        sha256: await wordingSha256(lang, t.title, t.body),
      })),
    ),
    revision: cfg.revision,
    gpc: !!c.gpc,
    // Without query or fragment: those can carry personal data.
    pageUrl: location.origin + location.pathname,
  });
}

/** A v4 UUID. Pages on plain http (not localhost) have no randomUUID, but blob URLs end in one. */
const randomId = (): string => crypto.randomUUID?.() ?? URL.createObjectURL(new Blob()).slice(-36);

/**
 * The visitor chose to allow exactly the optional categories `accepted`. Stores the choice,
 * applies it, deletes the cookies of every refused category, fires `consent-change` (on the
 * banner that asked, else the document) and records the proof. The promise settles once the
 * proof was sent; failures only warn, the choice stands. Without a config (server
 * unreachable) only refusing is possible, and it is kept in this browser alone.
 */
export function choose(accepted: string[], target?: EventTarget): Promise<void> {
  startConsent();
  const cfg = config;
  const cats = optional()
    .map((k) => k.key)
    .filter((k) => accepted.includes(k));
  const c: Choice = { id: choice?.id ?? randomId(), rev: cfg?.revision ?? '', cats, at: Date.now() };
  if (gpcOn()) c.gpc = true;
  if (cfg?.consentMode) c.cm = grantedTypes(cats).map((t) => CONSENT_MODE_TYPES.indexOf(t));
  choice = c;
  writeChoice(c, cfg?.cookieDays ?? 182, cfg?.cookieDomain);
  if (cfg) {
    deleteCookies(
      optional().flatMap((k) => (cats.includes(k.key) ? [] : k.cookies.map((x) => x.name))),
      cfg.cookieDomain,
    );
    if (cfg.consentMode) consentModeUpdate(grantedTypes(cats));
  }
  runGate();
  const detail = currentConsent()!;
  (target ?? document).dispatchEvent(new ConsentChangeEvent(detail));
  for (const listener of listeners) listener(detail);
  return cfg ? record(c, cfg).catch((e: Error) => warnOnce(`choice kept but not recorded (${e.message})`)) : Promise.resolve();
}

/** Calls `listener` after every choice; returns the unsubscribe function. */
export function onConsentChange(listener: ConsentListener): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

/** Forgets everything in memory (tests: each starts again from the cookie jar as it is). */
export function resetConsent(): void {
  stopGate();
  started = false;
  choice = config = undefined;
  listeners.clear();
}
