/**
 * Where the widget finds the Samtykke API.
 *
 * By default the API lives next to the script that loaded the widget: a script served from
 * `https://consent.example.com/samtykke.js` talks to `https://consent.example.com`, one
 * served from `https://x.example/consent/samtykke.js` to `https://x.example/consent`.
 * An `api` attribute on an element overrides this (it must be an absolute http(s) URL).
 */
import { warnOnce } from './warn';

/**
 * The URL of the script that is running the widget, captured while the bundle evaluates.
 * A classic script (the IIFE build) is only reachable through `document.currentScript`, and
 * only during its first synchronous run, so it is read here at module evaluation. ES modules
 * have no `currentScript`; they know their own URL through `import.meta.url`.
 */
const loadedFrom: string | undefined =
  (globalThis.document?.currentScript as HTMLScriptElement | null | undefined)?.src || import.meta.url || undefined;

/** The URL the widget script was loaded from (both the ES module and the IIFE build). */
export function currentScriptUrl(): string | undefined {
  return loadedFrom;
}

/** Absolute http(s) URL → origin + path without query, hash, credentials or trailing slash. */
const toBase = (url: URL): string => (url.origin + url.pathname).replace(/\/+$/, '');

function parseHttpUrl(value = ''): URL | undefined {
  try {
    const url = new URL(value);
    if (/^https?:$/.test(url.protocol)) return url;
  } catch {
    // not a URL
  }
  return undefined;
}

/**
 * The API base URL for `element`: its `api` attribute when that is a valid absolute http(s)
 * URL, otherwise the directory of `scriptUrl` (or the page's origin when that is unknown).
 * Never ends with a slash.
 */
export function resolveApiBase(element: Element | null, scriptUrl: string | undefined): string {
  const script = parseHttpUrl(scriptUrl);
  const fallback = script ? toBase(new URL('.', script)) : location.origin;
  const attr = element?.getAttribute('api')?.trim();
  const url = attr && parseHttpUrl(attr);
  if (url) return toBase(url);
  if (attr) warnOnce(`ignoring api="${attr}" (not an absolute http(s) URL); using ${fallback}`);
  return fallback;
}
