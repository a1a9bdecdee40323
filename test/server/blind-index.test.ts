/**
 * The blind index is computed with a JavaScript HMAC-SHA256 (server/services/check-hmac.ts)
 * for speed; it must give exactly what node:crypto's HMAC gives, or stored indexes would
 * stop matching.
 */
import assert from 'node:assert/strict';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BLIND_INDEX_LENGTH, HashWorker, hmacSha256Base64url } from '../../server/services/check-hmac';
import { createCrypto } from '../../server/services/crypto';

const reference = (key: Buffer, message: string) => createHmac('sha256', key).update(message).digest('base64url');

test('blindIndex equals HMAC-SHA256 of site, kind and value under the derived key', () => {
  const secret = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
  const key = Buffer.from(hkdfSync('sha256', secret, 'samtykke', 'blind-index-v1', 32));
  const crypto = createCrypto(secret);
  const values = ['', 'a@b.dk', 'user12345@example.dk', '+4512345678', 'æøå@eksempel.dk', '😀'.repeat(40), 'x'.repeat(2000), 'ü'.repeat(400)];
  for (const site of ['bench', 'site-1']) {
    for (const kind of ['email', 'phone']) {
      for (const value of values) assert.equal(crypto.blindIndex(site, kind, value), reference(key, `${site}\0${kind}\0${value}`));
    }
  }
});

test('the JavaScript HMAC equals node:crypto for every length around the block boundaries, any key', () => {
  for (const keyLength of [0, 16, 32, 64, 65, 100]) {
    const key = randomBytes(keyLength);
    const hmac = hmacSha256Base64url(key);
    for (let length = 0; length < 260; length++) {
      const ascii = Array.from({ length }, (_, i) => String.fromCharCode(32 + ((i * 7 + keyLength) % 95))).join('');
      // Split anywhere between the prefix and the message: the same bytes are hashed.
      const at = (length * 13) % (length + 1);
      assert.equal(hmac(ascii.slice(0, at), ascii.slice(at)), reference(key, ascii), `ascii, key ${keyLength}, length ${length}`);
      assert.equal(hmac('', ascii), reference(key, ascii), `ascii, key ${keyLength}, length ${length}, no prefix`);
      const mixed = ascii.slice(0, length >> 1) + 'é€'.repeat(length >> 2);
      assert.equal(hmac(mixed.slice(0, at), mixed.slice(at)), reference(key, mixed), `utf-8, key ${keyLength}, length ${length}`);
      assert.equal(hmac('ø\0', ascii), reference(key, `ø\0${ascii}`), `utf-8 prefix, key ${keyLength}, length ${length}`);
    }
    for (let i = 0; i < 200; i++) {
      const message = randomBytes(1 + (i % 90)).toString('latin1');
      assert.equal(hmac(message.slice(0, i % 5), message.slice(i % 5)), reference(key, message));
    }
  }
});

test('the worker thread hashes as this one: prefixes by kind, UTF-8, long values, empty ones', async () => {
  const key = randomBytes(32);
  const hmac = hmacSha256Base64url(key);
  const worker = new HashWorker(key);
  try {
    const prefixes = ['site-1\0email\0', 'site-1\0phone\0'];
    const values = ['', 'a@b.dk', '+4512345678', 'æøå@eksempel.dk', '😀'.repeat(40), 'x'.repeat(2000), 'ü'.repeat(400)];
    for (let i = 0; i < 300; i++) values.push(`user${i}@example.dk`);
    const kinds = new Uint8Array(values.map((_, i) => i % 2));
    const text = await worker.hash(prefixes, kinds, values);
    assert.equal(text.length, values.length * BLIND_INDEX_LENGTH);
    values.forEach((value, i) => {
      const expected = reference(key, prefixes[kinds[i]!]! + value);
      assert.equal(text.slice(i * BLIND_INDEX_LENGTH, (i + 1) * BLIND_INDEX_LENGTH), expected, `value ${i}`);
      assert.equal(hmac(prefixes[kinds[i]!]!, value), expected);
    });
    assert.equal(await worker.hash(prefixes, new Uint8Array(0), []), '');
  } finally {
    worker.close();
  }
});

test('around the longest message hashed in JavaScript (1,024 bytes), in both threads', async () => {
  const key = randomBytes(32);
  const hmac = hmacSha256Base64url(key);
  const prefix = 'site\0email\0';
  const values: string[] = [];
  for (let n = 1000; n <= 1040; n++) values.push('a'.repeat(n - prefix.length));
  for (let n = 336; n <= 346; n++) values.push('€'.repeat(n)); // 3 bytes each: the UTF-8 limit
  const worker = new HashWorker(key);
  try {
    const text = await worker.hash([prefix], new Uint8Array(values.length), values);
    values.forEach((value, i) => {
      const expected = reference(key, prefix + value);
      assert.equal(hmac(prefix, value), expected, `length ${value.length}`);
      assert.equal(text.slice(i * BLIND_INDEX_LENGTH, (i + 1) * BLIND_INDEX_LENGTH), expected, `worker, length ${value.length}`);
    });
  } finally {
    worker.close();
  }
});

test('a failed worker rejects what it was asked and every later call (callers then hash themselves)', async () => {
  const worker = new HashWorker(randomBytes(32));
  try {
    // A kind without a prefix throws inside the worker: a real failure of its thread.
    await assert.rejects(worker.hash(['p\0'], new Uint8Array([7]), ['a@example.dk']));
    assert.equal(worker.usable, false);
    await assert.rejects(worker.hash(['p\0'], new Uint8Array([0]), ['a@example.dk']), /unusable/);
  } finally {
    worker.close();
  }
});
