/**
 * Script-tag entry of the Samtykke widget, built by vite.config.ts into
 * dist/widget/samtykke.js (ES module) and dist/widget/samtykke.iife.js (global `Samtykke`).
 *
 * The custom elements will register here; for now the entry only works out where the API
 * lives and publishes that on `window.samtykke`.
 */
import { currentScriptUrl, resolveApiBase } from './lib/api-base';

declare const __SAMTYKKE_VERSION__: string | undefined;

/** Package version, injected by the production build; 'dev' when run from source. */
export const version: string =
  typeof __SAMTYKKE_VERSION__ === 'string' ? __SAMTYKKE_VERSION__ : 'dev';

/** API base derived from where this script was loaded from (elements may override it). */
export const apiBase: string = resolveApiBase(null, currentScriptUrl());

export interface SamtykkeGlobal {
  readonly version: string;
  readonly apiBase: string;
}

declare global {
  interface Window {
    samtykke?: SamtykkeGlobal;
  }
}

// The first copy loaded wins, so loading both builds does not swap the API base under a page.
if (typeof window !== 'undefined' && !window.samtykke) {
  window.samtykke = Object.freeze({ version, apiBase });
}

export { currentScriptUrl, resolveApiBase };
