/**
 * Hash chains. Each row's hash covers the previous row's hash and the row's canonical
 * content, so an edited, deleted, inserted or reordered row breaks every hash after it.
 */
import { sha256Hex } from './crypto';

/** JSON with object keys sorted at every level: one byte string per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function chainHash(prevHash: string, content: unknown): string {
  return sha256Hex(`${prevHash}\n${canonicalJson(content)}`);
}
