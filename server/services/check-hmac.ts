/**
 * HMAC-SHA256 for short messages, in JavaScript, with the key's inner and outer pad
 * blocks hashed once: the blind index of a send check costs two SHA-256 block
 * compressions instead of a native HMAC object's setup (several µs each, which a bulk
 * check of 100,000 addresses pays 100,000 times). Output is byte for byte the same as
 * `createHmac('sha256', key)` (test/server/blind-index.test.ts compares them).
 */
import { createHash, createHmac } from 'node:crypto';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const INITIAL = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const W = new Int32Array(64);

/** One SHA-256 compression of the 64 bytes at `data[offset]` into `h`. */
function compress(h: Int32Array, data: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    W[i] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + S1 + ch + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + hh) | 0;
}

/** Longest message (UTF-8 bytes) handled here; longer ones go to the native HMAC. */
const MAX_MESSAGE = 1024;

/** `createHmac('sha256', key).update(message).digest('base64url')`, faster for short messages. */
export function hmacSha256Base64url(key: Buffer): (message: string) => string {
  // The state after the key's inner and outer pad blocks (RFC 2104; a key of at most 64 bytes).
  const block = key.length > 64 ? createHash('sha256').update(key).digest() : key;
  const ipad = new Uint8Array(64).fill(0x36);
  const opad = new Uint8Array(64).fill(0x5c);
  for (let i = 0; i < block.length; i++) {
    ipad[i]! ^= block[i]!;
    opad[i]! ^= block[i]!;
  }
  const innerStart = new Int32Array(INITIAL);
  compress(innerStart, ipad, 0);
  const outerStart = new Int32Array(INITIAL);
  compress(outerStart, opad, 0);

  const buf = Buffer.alloc(MAX_MESSAGE + 128);
  const outer = new Uint8Array(64);
  const h = new Int32Array(8);
  const digest = Buffer.alloc(32);
  const encoder = new TextEncoder();

  return (message: string): string => {
    // The message, as UTF-8, then SHA-256 padding (its length counts the pad block too).
    let n = message.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const ch = message.charCodeAt(i);
      if (ch > 0x7f) {
        ascii = false;
        break;
      }
      buf[i] = ch;
    }
    if (!ascii) {
      if (n * 3 > MAX_MESSAGE) return fallback(key, message);
      n = encoder.encodeInto(message, buf).written;
    } else if (n > MAX_MESSAGE) {
      return fallback(key, message);
    }
    const total = (n + 9 + 63) & ~63;
    buf[n] = 0x80;
    buf.fill(0, n + 1, total - 4);
    const bits = (n + 64) * 8;
    buf[total - 4] = bits >>> 24;
    buf[total - 3] = (bits >>> 16) & 0xff;
    buf[total - 2] = (bits >>> 8) & 0xff;
    buf[total - 1] = bits & 0xff;
    h.set(innerStart);
    for (let off = 0; off < total; off += 64) compress(h, buf, off);
    // Outer: the inner digest (32 bytes) and its padding, one block.
    for (let i = 0; i < 8; i++) {
      const v = h[i]!;
      outer[i * 4] = v >>> 24;
      outer[i * 4 + 1] = (v >>> 16) & 0xff;
      outer[i * 4 + 2] = (v >>> 8) & 0xff;
      outer[i * 4 + 3] = v & 0xff;
    }
    outer[32] = 0x80;
    outer.fill(0, 33, 62);
    outer[62] = 0x03; // (64 + 32) * 8 = 768 bits
    outer[63] = 0x00;
    h.set(outerStart);
    compress(h, outer, 0);
    for (let i = 0; i < 8; i++) {
      const v = h[i]!;
      digest[i * 4] = v >>> 24;
      digest[i * 4 + 1] = (v >>> 16) & 0xff;
      digest[i * 4 + 2] = (v >>> 8) & 0xff;
      digest[i * 4 + 3] = v & 0xff;
    }
    return digest.toString('base64url', 0, 32);
  };
}

function fallback(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message).digest('base64url');
}
