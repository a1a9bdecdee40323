/**
 * Evidence of how a consent was given, kept to the minimum: page (without query or
 * fragment, which often carry personal data), form id, a note, the IP address
 * truncated to its network, and a hash of the user agent. A random nonce makes the
 * stored hash of the evidence unguessable once the evidence itself is erased.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { randomBytes } from 'node:crypto';
import { canonicalJson } from './chain';
import type { Crypto } from './crypto';
import { sha256Hex } from './crypto';

export interface EvidenceInput {
  pageUrl?: string;
  formId?: string;
  note?: string;
  /** The browser sent Global Privacy Control. */
  gpc?: boolean;
  /** Cookie banner configuration revision the choice was made under. */
  revision?: string;
  /** Language of the wording text the person was shown. */
  lang?: string;
}

export interface RequestMeta {
  ip?: string;
  userAgent?: string;
}

export interface Evidence {
  pageUrl?: string;
  formId?: string;
  note?: string;
  gpc?: boolean;
  revision?: string;
  lang?: string;
  ip?: string;
  userAgentHash?: string;
  nonce: string;
}

export const EVIDENCE_CONTEXT = 'consent_events.evidence';

/** IPv4 to its /24, IPv6 to its /48: enough to show a region and network, not a household. */
export function truncateIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const bare = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(bare)) return bare.split('.').slice(0, 3).concat('0').join('.');
  if (isIPv6(bare)) {
    const [head = '', tail = ''] = bare.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const full = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
    return `${full.slice(0, 3).map((g) => g.toLowerCase()).join(':')}::/48`;
  }
  return undefined;
}

export function stripUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '';
  }
}

export function buildEvidence(input: EvidenceInput | undefined, meta: RequestMeta): Evidence {
  const evidence: Evidence = { nonce: randomBytes(16).toString('base64url') };
  if (input?.pageUrl) evidence.pageUrl = stripUrl(input.pageUrl);
  if (input?.formId) evidence.formId = input.formId;
  if (input?.note) evidence.note = input.note;
  if (input?.gpc !== undefined) evidence.gpc = input.gpc;
  if (input?.revision) evidence.revision = input.revision;
  if (input?.lang) evidence.lang = input.lang;
  const ip = truncateIp(meta.ip);
  if (ip) evidence.ip = ip;
  if (meta.userAgent) evidence.userAgentHash = sha256Hex(meta.userAgent).slice(0, 32);
  return evidence;
}

/** The encrypted form stored in the ledger and the hash the chain covers. */
export function sealEvidence(crypto: Crypto, evidence: Evidence): { sealed: string; hash: string } {
  const json = canonicalJson(evidence);
  return { sealed: crypto.encrypt(json, EVIDENCE_CONTEXT), hash: sha256Hex(json) };
}

export function openEvidence(crypto: Crypto, sealed: string): { evidence: Evidence; hash: string } {
  const json = crypto.decrypt(sealed, EVIDENCE_CONTEXT);
  return { evidence: JSON.parse(json) as Evidence, hash: sha256Hex(json) };
}
