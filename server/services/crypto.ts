/**
 * Key material and the primitives built on it: AES-256-GCM for personal data, keyed
 * blind indexes (HMAC-SHA256) to find a person without decrypting, and plain SHA-256.
 * Every key is derived from SAMTYKKE_SECRET with HKDF, one key per use.
 */
import { createCipheriv, createDecipheriv, createHmac, hash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { HashWorker, hmacSha256Base64url } from './check-hmac';

const CIPHER_PREFIX = 'v1.';

export interface Crypto {
  /** Encrypts with a context label bound as associated data, so a value cannot be moved to another column. */
  encrypt(plaintext: string, context: string): string;
  decrypt(ciphertext: string, context: string): string;
  /** Deterministic, keyed, per site: equal inputs give equal indexes, nothing else can be learned. */
  blindIndex(siteId: string, kind: string, normalized: string): string;
  /**
   * The blind indexes of many normalised values (`kinds[i]`: 0 email, 1 phone), computed on
   * a worker thread, back to back (BLIND_INDEX_LENGTH characters each); rejects when the
   * worker fails (hash on this thread then).
   */
  blindIndexesOffThread(siteId: string, kinds: Uint8Array, values: string[]): Promise<string>;
  /** Keyed MAC for link tokens and other signed values. */
  sign(data: string): string;
  verify(data: string, signature: string): boolean;
  /** Authenticated encryption for link tokens: unreadable and untamperable without the secret. */
  sealToken(data: string): string;
  /** The sealed data, or undefined for anything not sealed with this secret. */
  openToken(token: string): string | undefined;
}

export function createCrypto(secret: string): Crypto {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'samtykke', info, 32));
  const encKey = derive('pii-encryption-v1');
  const bidxKey = derive('blind-index-v1');
  const signKey = derive('link-signing-v1');
  const tokenKey = derive('link-token-v1');
  // HMAC-SHA256 with the pads precomputed: the same output as createHmac, about twice as fast (bulk checks).
  const bidxHmac = hmacSha256Base64url(bidxKey);
  /** Names the key in hashWorkers without holding it as text. */
  const bidxKeyId = hash('sha256', bidxKey, 'hex');
  /** What a blind index hashes before the value: the site and the kind, so equal values differ across both. */
  const prefix = (siteId: string, kind: string) => `${siteId}\0${kind}\0`;

  return {
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return CIPHER_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    decrypt(ciphertext, context) {
      if (!ciphertext.startsWith(CIPHER_PREFIX)) throw new Error('unknown ciphertext version');
      const raw = Buffer.from(ciphertext.slice(CIPHER_PREFIX.length), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
    },
    blindIndex(siteId, kind, normalized) {
      return bidxHmac(prefix(siteId, kind), normalized);
    },
    blindIndexesOffThread(siteId, kinds, values) {
      let worker = hashWorkers.get(bidxKeyId);
      if (!worker?.usable) hashWorkers.set(bidxKeyId, (worker = new HashWorker(bidxKey)));
      return worker.hash([prefix(siteId, 'email'), prefix(siteId, 'phone')], kinds, values);
    },
    sign(data) {
      return createHmac('sha256', signKey).update(data).digest('base64url');
    },
    verify(data, signature) {
      const expected = Buffer.from(this.sign(data));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
    sealToken(data) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', tokenKey, iv);
      const body = Buffer.concat([cipher.update(data, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    openToken(token) {
      const raw = Buffer.from(token, 'base64url');
      if (raw.length < 29) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', tokenKey, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * One hash worker per blind-index key (per secret) in the process: apps of one secret share
 * it. It never keeps the process alive; a process that runs with several secrets keeps one
 * idle thread for each.
 */
const hashWorkers = new Map<string, HashWorker>();

export function sha256Hex(data: string): string {
  // The one-shot form: a third of createHash's cost (no Hash object), which every API request pays for its key.
  return hash('sha256', data, 'hex');
}

/** Random id for rows a person may see (subjects, keys, wording versions). */
export function newId(): string {
  // Never starting with '-': an id is typed on command lines (`samtykke key revoke ID`),
  // where it would read as an option. One draw in 64 is drawn again.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (id[0] !== '-') return id;
  }
}
