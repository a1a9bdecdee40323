/**
 * Google Consent Mode v2: the `default` (everything denied but security storage) goes into
 * the data layer before any gated script runs, and an `update` after every choice.
 */
import { CONSENT_MODE_TYPES, type ConsentModeType } from '../../shared/cookies';

type ConsentValue = 'granted' | 'denied';
type GtagWindow = Window & { dataLayer?: unknown[]; gtag?: (...args: unknown[]) => void };

/** Milliseconds Google tags wait for the `update` after the `default`. */
export const WAIT_FOR_UPDATE_MS = 500;

let defaulted = false;

function gtag(...args: unknown[]): void {
  const w = window as GtagWindow;
  const layer = (w.dataLayer ??= []);
  // gtag.js reads Arguments objects from the data layer, not arrays.
  w.gtag ??= function () {
    layer.push(arguments);
  };
  w.gtag(...args);
}

function states(granted: Iterable<ConsentModeType>): Record<ConsentModeType, ConsentValue> {
  const on = new Set<ConsentModeType>(granted);
  on.add('security_storage');
  return Object.fromEntries(CONSENT_MODE_TYPES.map((t) => [t, on.has(t) ? 'granted' : 'denied'])) as Record<
    ConsentModeType,
    ConsentValue
  >;
}

/** Pushes the default once per page. */
export function consentModeDefault(): void {
  if (defaulted) return;
  defaulted = true;
  gtag('consent', 'default', { ...states([]), wait_for_update: WAIT_FOR_UPDATE_MS });
}

/** Pushes an update granting exactly `granted` (plus security storage), after the default. */
export function consentModeUpdate(granted: Iterable<ConsentModeType>): void {
  consentModeDefault();
  gtag('consent', 'update', states(granted));
}
