/**
 * Where the widget finds the Samtykke API.
 *
 * By default the API lives next to the script that loaded the widget: a script served from
 * `https://consent.example.com/samtykke.js` talks to `https://consent.example.com`, one
 * served from `https://x.example/consent/samtykke.js` to `https://x.example/consent`.
 * An `api` attribute on an element overrides this (it must be an absolute http(s) URL).
 */

/**
 * The URL of the script that is running the widget, captured while the bundle evaluates.
 * A classic script (the IIFE build) is only reachable through `document.currentScript`, and
 * only during its first synchronous run, so it is read here at module evaluation. ES modules
 * have no `currentScript`; they know their own URL through `import.meta.url`.
 */
const loadedFrom: string | undefined = (() => {
  const script = typeof document === 'undefined' ? null : document.currentScript;
  if (script instanceof HTMLScriptElement && script.src) return script.src;
  try {
    const url: unknown = import.meta.url;
    return typeof url === 'string' && url !== '' ? url : undefined;
  } catch {
    return undefined;
  }
})();

/** The URL the widget script was loaded from (both the ES module and the IIFE build). */
export function currentScriptUrl(): string | undefined {
  return loadedFrom;
}

const warnedValues = new Set<string>();

function warnOnce(value: string, fallback: string): void {
  if (warnedValues.has(value)) return;
  warnedValues.add(value);
  console.warn(
    `samtykke: ignoring api="${value}": it must be an absolute http(s) URL; using ${fallback}`,
  );
}

/** Absolute http(s) URL → origin + path without query, hash, credentials or trailing slash. */
function toBase(url: URL): string {
  return (url.origin + url.pathname).replace(/\/+$/, '');
}

function parseHttpUrl(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

/** The directory the script was served from, or the page's origin when that is unknown. */
function scriptBase(scriptUrl: string | undefined): string {
  const url = scriptUrl === undefined ? undefined : parseHttpUrl(scriptUrl);
  if (url) return toBase(new URL('.', url));
  return globalThis.location?.origin ?? '';
}

/**
 * The API base URL for `element`: its `api` attribute when that is a valid absolute http(s)
 * URL, otherwise the directory of `scriptUrl`. Never ends with a slash.
 */
export function resolveApiBase(element: Element | null, scriptUrl: string | undefined): string {
  const fallback = scriptBase(scriptUrl);
  const attr = element?.getAttribute('api')?.trim();
  if (!attr) return fallback;
  const url = parseHttpUrl(attr);
  if (!url) {
    warnOnce(attr, fallback);
    return fallback;
  }
  return toBase(url);
}
