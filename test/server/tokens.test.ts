import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCrypto } from '../../server/services/crypto';
import { signToken, verifyToken, type TokenClaims } from '../../server/services/tokens';
import { TEST_SECRET } from './helpers';

const crypto = createCrypto(TEST_SECRET);
const now = Date.parse('2026-11-01T12:00:00Z');

describe('link tokens', () => {
  const claims: TokenClaims[] = [
    { site: 'acme', subject: 'Zx3kP0aQ1mN2bV4cX5zL6w', scope: { kind: 'prefs' }, exp: now / 1000 + 3600 },
    { site: 'acme', subject: 'Zx3kP0aQ1mN2bV4cX5zL6w', scope: { kind: 'unsubscribe', purpose: 'e-marketing' } },
    { site: 'acme', subject: 'Zx3kP0aQ1mN2bV4cX5zL6w', scope: { kind: 'unsubscribe', purpose: null } },
    { site: 'shop', subject: 'abc', scope: { kind: 'change-email', change: 'c1' }, exp: now / 1000 + 60 },
    { site: 'acme', subject: 'Zx3kP0aQ1mN2bV4cX5zL6w', scope: { kind: 'confirm', upTo: 4711 }, exp: now / 1000 + 7 * 86400 },
  ];

  it('round-trips every scope, with and without expiry', () => {
    for (const c of claims) assert.deepEqual(verifyToken(crypto, signToken(crypto, c), now), { ok: true, claims: c });
  });

  it('is opaque: neither the subject, the site nor the scope can be read from it', () => {
    const token = signToken(crypto, claims[1]!);
    const decoded = Buffer.from(token, 'base64url').toString('latin1');
    for (const secret of ['Zx3kP0aQ1mN2bV4cX5zL6w', 'acme', 'unsubscribe', 'e-marketing']) assert.ok(!decoded.includes(secret));
    assert.notEqual(signToken(crypto, claims[1]!), token, 'a fresh IV each time');
  });

  it('refuses a token after its expiry', () => {
    const token = signToken(crypto, claims[0]!);
    assert.deepEqual(verifyToken(crypto, token, now + 3600_000), { ok: false, reason: 'expired' });
  });

  it('refuses any changed character, a token of another secret, and garbage', () => {
    const token = signToken(crypto, claims[1]!);
    for (let i = 0; i < token.length; i += 7) {
      const c = token[i] === 'A' ? 'B' : 'A';
      const tampered = token.slice(0, i) + c + token.slice(i + 1);
      assert.equal(verifyToken(crypto, tampered, now).ok, false, `position ${i}`);
    }
    const foreign = signToken(createCrypto('another-secret-0123456789abcdefghijklmnop'), claims[1]!);
    assert.deepEqual(verifyToken(crypto, foreign, now), { ok: false, reason: 'bad-signature' });
    for (const junk of ['', 'x', 'a.b', '../../etc/passwd', 'A'.repeat(2000)]) assert.equal(verifyToken(crypto, junk, now).ok, false);
  });

  it('binds a confirm token to a ledger event id; one without it (or with a bad one) is refused', () => {
    const ok = verifyToken(crypto, signToken(crypto, claims[4]!), now);
    assert.ok(ok.ok && ok.claims.scope.kind === 'confirm' && ok.claims.scope.upTo === 4711);
    const exp = String(now / 1000 + 3600);
    for (const scope of [['confirm'], ['confirm', ''], ['confirm', '0'], ['confirm', '-1'], ['confirm', '1.5'], ['confirm', 'x'], ['confirm', '12', '13'], ['prefs', '1']]) {
      const sealed = crypto.sealToken(['t1', 'acme', 'Zx3kP0aQ1mN2bV4cX5zL6w', exp, ...scope].join('\n'));
      assert.deepEqual(verifyToken(crypto, sealed, now), { ok: false, reason: 'malformed' }, scope.join(' '));
    }
  });
});
