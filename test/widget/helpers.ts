/** Shared pieces of the widget tests: a config to render without a server, and clean slates. */
import { executeServerCommand } from '@web/test-runner-commands';
import type { CookieCategory, CookieConfig } from '../../shared/cookies';
import { resetConsent } from '../../widget/lib/consent';

const category = (c: Partial<CookieCategory> & { key: string }): CookieCategory => ({
  required: false,
  marketing: false,
  title: c.key[0]!.toUpperCase() + c.key.slice(1),
  body: `What ${c.key} cookies do.`,
  version: 1,
  sha256: '0'.repeat(64),
  cookies: [],
  consentMode: [],
  ...c,
});

/** A config like a new site's, for tests that do not need the server. */
export function testConfig(overrides: Partial<CookieConfig> = {}): CookieConfig {
  return {
    site: 'acme',
    lang: 'en',
    revision: 'rev-1',
    banner: { key: 'cookie-banner', title: 'We use cookies', body: 'We use cookies.\nYou decide.', version: 1, sha256: '0'.repeat(64) },
    categories: [
      category({
        key: 'necessary',
        required: true,
        cookies: [{ name: 'samtykke', provider: 'This website', purpose: 'Remembers your cookie choice', duration: '6 months' }],
        consentMode: ['security_storage'],
      }),
      category({ key: 'preferences', consentMode: ['functionality_storage', 'personalization_storage'] }),
      category({
        key: 'statistics',
        cookies: [
          { name: '_ga', provider: 'Google Analytics', purpose: 'Tells visitors apart', duration: '2 years' },
          { name: '_ga_*', provider: 'Google Analytics', purpose: 'Keeps the session', duration: '2 years' },
        ],
        consentMode: ['analytics_storage'],
      }),
      category({
        key: 'marketing',
        marketing: true,
        cookies: [{ name: '_fbp', provider: 'Meta', purpose: 'Advertising', duration: '3 months' }],
        consentMode: ['ad_storage', 'ad_user_data', 'ad_personalization'],
      }),
    ],
    consentMode: false,
    cookieDays: 182,
    gpc: false,
    ...overrides,
  };
}

/** Expires every cookie this page can see. */
export function clearCookies(): void {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0]!.trim();
    if (name) document.cookie = `${name}=; Max-Age=0; Path=/`;
  }
}

/** Starts a test from nothing: no cookies, no consent state in memory, no GPC. */
export function cleanSlate(): void {
  clearCookies();
  resetConsent();
  setGpc(undefined);
  document.documentElement.lang = 'en';
}

/** Pretends the browser sends (or does not send) Global Privacy Control. */
export function setGpc(value: boolean | undefined): void {
  if (value === undefined) delete (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl;
  else Object.defineProperty(navigator, 'globalPrivacyControl', { value, configurable: true });
}

/** Collects console.warn calls for the duration of a test. */
export function captureWarnings(): { messages: string[]; restore(): void } {
  const real = console.warn;
  const messages: string[] = [];
  console.warn = (...args: unknown[]) => void messages.push(args.map(String).join(' '));
  return { messages, restore: () => void (console.warn = real) };
}

export const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));

/** Waits until `check` is true (polling), failing after `ms`. */
export async function until(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// The real server inside the test runner (web-test-runner.config.mjs).

export interface LedgerRow {
  purpose: string;
  action: string;
  actor: string;
  subjectId: string | null;
  version: number | null;
  evidence: { pageUrl?: string; gpc?: boolean; revision?: string; ip?: string; userAgentHash?: string } | null;
}

export const createSite = (input: Record<string, unknown> & { id: string }) =>
  executeServerCommand<{ id: string }, typeof input>('samtykke:create-site', input);

export const adminCall = (site: string, method: string, path: string, body?: unknown) =>
  executeServerCommand<{ status: number; body: any }, unknown>('samtykke:admin', { site, method, path, body });

export const ledger = (consentId: string) => executeServerCommand<LedgerRow[], unknown>('samtykke:events', { consentId });

/** A site id no other test uses. */
export const uniqueSite = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

export interface SunkRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Requests the sink (`${location.origin}/sink`) received since the last call. */
export const sunkRequests = () => executeServerCommand<SunkRequest[], undefined>('samtykke:sink');

/** Waits until the sink has received `count` requests (since the last call) and returns them. */
export async function waitForSunk(count = 1, ms = 3000, wanted: (r: SunkRequest) => boolean = () => true): Promise<SunkRequest[]> {
  const received: SunkRequest[] = [];
  const end = performance.now() + ms;
  while (received.length < count) {
    if (performance.now() > end) throw new Error(`the sink received ${received.length} of ${count} requests`);
    // A keepalive POST of an earlier test may arrive late: `wanted` tells ours apart.
    received.push(...(await sunkRequests()).filter(wanted));
    if (received.length < count) await new Promise((r) => setTimeout(r, 20));
  }
  return received;
}

/** API base for banners given a config as a property: records the POSTs, answers 201. */
export const SINK = `${location.origin}/sink`;
