/** Shared pieces of the subscription element tests: forms and views without a server, a fetch stub. */
import { executeServerCommand } from '@web/test-runner-commands';
import type { FormPurpose, PreferencePurpose, PreferencesView, SignupForm } from '../../shared/subscriptions';

export const purpose = (p: Partial<FormPurpose> & { key: string }): FormPurpose => ({
  channel: 'email',
  version: 1,
  lang: 'en',
  title: `Title of ${p.key}`,
  body: `What ${p.key} means.`,
  sha256: 'f'.repeat(64),
  ...p,
});

/** A signup form like the server's, for tests that do not need the server. */
export function signupForm(overrides: Partial<SignupForm> = {}): SignupForm {
  return {
    site: 'acme',
    name: 'Acme',
    lang: 'en',
    doubleOptIn: true,
    privacyPolicyUrl: 'https://acme.example/privacy',
    fields: { email: 'required', phone: 'none' },
    purposes: [purpose({ key: 'e-marketing', title: 'News by e-mail', body: 'Yes, send me news.\nSee https://acme.example/terms.' })],
    ...overrides,
  };
}

export const prefPurpose = (p: Partial<PreferencePurpose> & { key: string }): PreferencePurpose => ({
  name: `Name of ${p.key}`,
  description: `What ${p.key} is for.`,
  channel: 'email',
  legalBasis: '6-1-a',
  needsConsent: true,
  status: 'none',
  since: null,
  source: null,
  agreed: null,
  current: purpose({ key: p.key, channel: p.channel ?? 'email' }),
  blocked: null,
  ...p,
});

/** A preference page like the server's, for tests that do not need the server. */
export function preferencesView(overrides: Partial<PreferencesView> = {}): PreferencesView {
  return {
    site: { id: 'acme', name: 'Acme', privacyPolicyUrl: 'https://acme.example/privacy', controllerEmail: 'dpo@acme.example' },
    lang: 'en',
    person: { email: 'ada@example.com', phone: '+4512345678', name: 'Ada', restricted: false, pendingEmailChange: false },
    purposes: [
      prefPurpose({
        key: 'e-marketing',
        status: 'granted',
        since: '2025-03-01T10:00:00.000Z',
        source: 'signup-form',
        agreed: { version: 1, lang: 'en', title: 'News by e-mail', body: 'Yes, send me news.' },
      }),
      prefPurpose({ key: 'sms-offers', channel: 'sms', status: 'withdrawn', blocked: 'sms-stopped' }),
      prefPurpose({ key: 'sales-and-service', channel: 'other', legalBasis: '6-1-b', needsConsent: false, status: 'none', current: null }),
    ],
    unsubscribed: { email: false, sms: false },
    tokenExpiresAt: null,
    ...overrides,
  };
}

export interface StubbedCall {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

/**
 * Replaces window.fetch: `answer` decides each response (default 202 `{}`); returns the calls
 * seen and `restore`. Answers of `null` never settle (a request in flight).
 */
export function stubFetch(answer: (call: StubbedCall) => Response | null = () => json(202, { status: 'accepted', confirmationSent: false })) {
  const real = window.fetch;
  const calls: StubbedCall[] = [];
  window.fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const call = { method: init.method ?? 'GET', url: String(input), headers: new Headers(init.headers), body: String(init.body ?? '') };
    calls.push(call);
    const res = answer(call);
    return res ?? new Promise<Response>(() => {});
  };
  return { calls, real, restore: () => void (window.fetch = real) };
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

export const apiError = (status: number, code: string, details: { field?: string; message: string }[] = []) =>
  json(status, { error: { code, message: code, details } });

/** A link token for the person with `email` on `site` (server command; the subject is created when new). */
export const linkToken = (site: string, email: string, scope: Record<string, unknown> = { kind: 'prefs' }, expiresIn = 3600) =>
  executeServerCommand<{ token: string; subject: string }, unknown>('samtykke:token', { site, email, scope, expiresIn });

/** Shadow-root query by part name. */
export const part = <T extends Element = HTMLElement>(el: Element, name: string) => el.shadowRoot!.querySelector<T>(`[part~="${name}"]`);
export const parts = <T extends Element = HTMLElement>(el: Element, name: string) => [...el.shadowRoot!.querySelectorAll<T>(`[part~="${name}"]`)];
export const $ = <T extends Element = HTMLElement>(el: Element, selector: string) => el.shadowRoot!.querySelector<T>(selector);
