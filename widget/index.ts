/**
 * Script-tag entry of the Samtykke widget, built by vite.config.ts into
 * dist/widget/samtykke.js (ES module) and dist/widget/samtykke.iife.js (global `Samtykke`).
 * Registers the elements, applies a stored cookie choice at once (Consent Mode, gated
 * scripts) and publishes `window.samtykke`.
 */
import { showSettings, type ConsentBanner } from './banner/consent-banner';
import { currentScriptUrl, resolveApiBase } from './lib/api-base';
import { choose, currentConsent, onConsentChange, startConsent, type ConsentListener } from './lib/consent';
import type { ConsentDetail } from './lib/consent-change-event';
import './settings-button/consent-settings-button';

export { currentScriptUrl, resolveApiBase };

declare const __SAMTYKKE_VERSION__: string | undefined;

/** Package version, injected by the production build; 'dev' when run from source. */
export const version: string =
  typeof __SAMTYKKE_VERSION__ === 'string' ? __SAMTYKKE_VERSION__ : 'dev';

/** API base derived from where this script was loaded from (elements may override it). */
export const apiBase: string = resolveApiBase(null, currentScriptUrl());

export interface SamtykkeGlobal {
  readonly version: string;
  readonly apiBase: string;
  /** The visitor's current consent, or null before they have chosen. */
  get(): ConsentDetail | null;
  /** Calls `listener` after every choice; returns the unsubscribe function. */
  onChange(listener: ConsentListener): () => void;
  /** Opens the cookie choices. */
  show(): void;
  /** Allows every optional category (except marketing under Global Privacy Control). */
  acceptAll(): Promise<void>;
  /** Refuses every optional category. */
  rejectAll(): Promise<void>;
}

declare global {
  interface Window {
    samtykke?: SamtykkeGlobal;
  }
}

const banner = () => document.querySelector<ConsentBanner>('consent-banner');

// The first copy loaded wins, so loading both builds does not swap the API base under a page.
if (typeof window !== 'undefined' && !window.samtykke) {
  window.samtykke = Object.freeze({
    version,
    apiBase,
    get: currentConsent,
    onChange: onConsentChange,
    show: () => showSettings(),
    acceptAll: async () => banner()?.acceptAll(),
    rejectAll: async () => (banner() ? banner()!.rejectAll() : choose([])),
  });
  startConsent();
  // <consent-signup> and <consent-preferences> live in their own bundle next to this one,
  // fetched only once the page has (or later gets) one of them.
  const loadForms = () => {
    if (document.querySelector('consent-signup,consent-preferences')) {
      forms.disconnect();
      // From source (tests) the forms entry is ../forms.ts beside lib/api-base.ts.
      import(/* @vite-ignore */ `${apiBase}/${version == 'dev' ? '../forms.ts' : 'samtykke-forms.js'}`);
    }
  };
  const forms = new MutationObserver(loadForms);
  forms.observe(document.documentElement, { childList: true, subtree: true });
  loadForms();
}

export { ConsentBanner } from './banner/consent-banner';
export { ConsentSettingsButton } from './settings-button/consent-settings-button';
export { ConsentChangeEvent, type ConsentDetail } from './lib/consent-change-event';
