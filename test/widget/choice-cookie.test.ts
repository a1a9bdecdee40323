import { expect } from '@open-wc/testing';
import { CONSENT_COOKIE } from '../../shared/cookies';
import { decodeChoice, deleteCookies, encodeChoice, readChoice, writeChoice, type Choice } from '../../widget/lib/choice-cookie';
import { clearCookies } from './helpers';

const choice: Choice = { id: crypto.randomUUID(), rev: 'abc123', cats: ['statistics', 'preferences'], at: 1_700_000_000_000, gpc: true, cm: [3] };
const cookieNames = () => document.cookie.split(/; */).filter(Boolean).map((c) => c.split('=')[0]);

describe('choice cookie', () => {
  beforeEach(clearCookies);
  afterEach(clearCookies);

  it('encodes the StoredChoice as base64url JSON and back', () => {
    const value = encodeChoice(choice);
    expect(value).to.match(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(atob(value.replace(/-/g, '+').replace(/_/g, '/')))).to.deep.equal(choice);
    expect(decodeChoice(value)).to.deep.equal(choice);
  });

  it('treats anything malformed as no choice', () => {
    for (const bad of ['', 'not base64!', btoa('not json'), btoa('{"id":1}'), btoa('{"id":"a","rev":"r","cats":"x","at":1}'), btoa('null')]) {
      expect(decodeChoice(bad), bad).to.equal(undefined);
    }
  });

  it('stores the choice first-party with Path=/ and SameSite=Lax, and reads it back', () => {
    writeChoice(choice, 182);
    expect(document.cookie).to.match(new RegExp(`(^|; )${CONSENT_COOKIE}=`));
    expect(readChoice()).to.deep.equal(choice);
  });

  it('expires the cookie after the given days (Max-Age)', () => {
    writeChoice(choice, 0); // Max-Age=0: the browser drops it at once
    expect(readChoice()).to.equal(undefined);
  });

  it('falls back to a host-only cookie when the browser refuses the configured domain', () => {
    writeChoice(choice, 1, '.not-this-host.example');
    expect(readChoice()).to.deep.equal(choice);
  });

  it('reads a garbled cookie as no choice', () => {
    document.cookie = `${CONSENT_COOKIE}=%%%garbage; Path=/`;
    expect(readChoice()).to.equal(undefined);
  });

  it('deletes cookies by exact name and by trailing-* pattern, never the consent cookie', () => {
    writeChoice(choice, 1);
    for (const name of ['_ga', '_ga_ABC123', '_ga_XYZ', '_gat', 'keep', '_fbp']) document.cookie = `${name}=1; Path=/`;
    deleteCookies(['_ga', '_ga_*', '_fbp', CONSENT_COOKIE, 'samtykke*']);
    expect(cookieNames().sort()).to.deep.equal(['_gat', 'keep', CONSENT_COOKIE].sort());
  });

  it('deletes cookies set on a path-less host cookie even with a configured domain', () => {
    document.cookie = '_hjid=1; Path=/';
    deleteCookies(['_hj*'], '.example.com');
    expect(cookieNames()).not.to.include('_hjid');
  });
});
