/**
 * Link tokens for people: opaque (AES-256-GCM with a key derived from SAMTYKKE_SECRET,
 * so they can be neither read nor altered), bound to one subject, one site, one use (a
 * scope) and an expiry where one applies. They hold no personal data (the subject id is
 * random) and verify without a database lookup.
 */
import type { Crypto } from './crypto';

/** What a token lets its holder do. */
export type TokenScope =
  /** open the preference page */
  | { kind: 'prefs' }
  /** confirm pending signups (double opt-in): only states whose current ledger event id is at most `upTo` (what the mail showed) */
  | { kind: 'confirm'; upTo: number }
  /** unsubscribe from one purpose, or from all marketing */
  | { kind: 'unsubscribe'; purpose: string | null }
  /** confirm a new e-mail address (rectification) */
  | { kind: 'change-email'; change: string };

export interface TokenClaims {
  site: string;
  subject: string;
  scope: TokenScope;
  /** expiry, seconds since the epoch; absent for links that must keep working (RFC 8058 unsubscribe) */
  exp?: number;
}

const VERSION = 't1';

function encodeScope(scope: TokenScope): string[] {
  switch (scope.kind) {
    case 'prefs':
      return [scope.kind];
    case 'confirm':
      return [scope.kind, String(scope.upTo)];
    case 'unsubscribe':
      return [scope.kind, scope.purpose ?? '*'];
    case 'change-email':
      return [scope.kind, scope.change];
  }
}

function decodeScope(parts: string[]): TokenScope | undefined {
  const [kind, arg] = parts;
  if (kind === 'prefs' && parts.length === 1) return { kind };
  // A confirm token without its bound (or with a bad one) is malformed: it would confirm whatever is pending.
  if (kind === 'confirm' && parts.length === 2 && arg && /^[1-9]\d{0,15}$/.test(arg)) return { kind, upTo: Number(arg) };
  if (kind === 'unsubscribe' && parts.length === 2 && arg) return { kind, purpose: arg === '*' ? null : arg };
  if (kind === 'change-email' && parts.length === 2 && arg) return { kind, change: arg };
  return undefined;
}

export function signToken(crypto: Crypto, claims: TokenClaims): string {
  return crypto.sealToken([VERSION, claims.site, claims.subject, claims.exp ?? 0, ...encodeScope(claims.scope)].join('\n'));
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/** Checks integrity and expiry; `nowMs` is the service clock. */
export function verifyToken(crypto: Crypto, token: string, nowMs: number): TokenCheck {
  if (!/^[A-Za-z0-9_-]{40,1024}$/.test(token)) return { ok: false, reason: 'malformed' };
  const payload = crypto.openToken(token);
  if (payload === undefined) return { ok: false, reason: 'bad-signature' };
  const [version, site, subject, exp, ...scopeParts] = payload.split('\n');
  const scope = decodeScope(scopeParts);
  if (version !== VERSION || !site || !subject || exp === undefined || !/^\d+$/.test(exp) || !scope) return { ok: false, reason: 'malformed' };
  const expiry = Number(exp);
  if (expiry !== 0 && expiry * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { site, subject, scope, ...(expiry ? { exp: expiry } : {}) } };
}
