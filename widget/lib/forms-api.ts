/**
 * The requests of `<consent-signup>` and `<consent-preferences>` (contract: shared/subscriptions.ts).
 * No credentials are ever sent: the preference routes take the person's link token as a
 * Bearer header, which the elements keep in memory only.
 */
import type {
  ExportFormat,
  FormPurpose,
  PreferencesView,
  PreferenceToggle,
  SignupAnswer,
  SignupBody,
  SignupForm,
} from '../../shared/subscriptions';
import { wordingSha256 } from './api';

/** An answer other than 2xx: the status and the server's error code (`invalid_token`, `wording_mismatch`, …). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The server's per-field details of a 400. */
    readonly fields: string[] = [],
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ''}`);
  }
}

const siteUrl = (api: string, site: string) => `${api}/v1/sites/${encodeURIComponent(site)}`;

async function request(url: string, init: RequestInit = {}, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.body) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; details?: { field?: string }[] } } | null;
    throw new ApiError(
      res.status,
      body?.error?.code ?? '',
      (body?.error?.details ?? []).flatMap((d) => (d.field ? [d.field] : [])),
    );
  }
  return res;
}

const json = async <T>(url: string, init?: RequestInit, token?: string): Promise<T> =>
  (await request(url, init, token)).json() as Promise<T>;

const send = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body) });

/** A displayed wording as the ledger names it: version, language and the hash of what was shown. */
export const shownWording = async (p: FormPurpose) => ({
  wordingVersion: p.version,
  lang: p.lang,
  sha256: await wordingSha256(p.lang, p.title, p.body),
});

export const fetchSignupForm = (api: string, site: string, purposes: string[], lang: string) =>
  json<SignupForm>(`${siteUrl(api, site)}/signup-form?purposes=${encodeURIComponent(purposes.join(','))}&lang=${encodeURIComponent(lang)}`);

export const postSignup = (api: string, site: string, body: SignupBody) =>
  json<SignupAnswer>(`${siteUrl(api, site)}/signups`, send('POST', body));

export const askForLink = (api: string, site: string, email: string, lang: string) =>
  request(`${siteUrl(api, site)}/preference-links`, send('POST', { email, lang }));

/** The preference routes of one person, with their link token. */
export function preferencesClient(api: string, site: string, token: string) {
  const me = `${siteUrl(api, site)}/me`;
  return {
    view: () => json<PreferencesView>(me, {}, token),
    toggle: (purpose: string, body: PreferenceToggle) =>
      json<PreferencesView>(`${me}/consents/${encodeURIComponent(purpose)}`, send('PUT', body), token),
    unsubscribe: (channel: 'email' | 'sms' | 'all') => json<PreferencesView>(`${me}/unsubscribe`, send('POST', { channel }), token),
    correct: (body: { name?: string | null; email?: string }) => json<PreferencesView>(me, send('PATCH', body), token),
    restrict: (restricted: boolean) => json<PreferencesView>(`${me}/restrict`, send('POST', { restricted }), token),
    erase: () => json<{ erased: true }>(`${me}/erase`, send('POST', { confirm: true }), token),
    /** The export as a file: its name (from Content-Disposition) and its contents. */
    async download(format: ExportFormat): Promise<{ name: string; blob: Blob }> {
      const res = await request(`${me}/export?format=${format}`, {}, token);
      const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `my-data.${format}`;
      return { name, blob: await res.blob() };
    },
  };
}

export type PreferencesClient = ReturnType<typeof preferencesClient>;
