import { expect } from '@open-wc/testing';
import { CONSENT_MODE_TYPES } from '../../shared/cookies';
import { consentModeDefault, consentModeUpdate, WAIT_FOR_UPDATE_MS } from '../../widget/lib/consent-mode';

type GtagWindow = Window & { dataLayer?: unknown[]; gtag?: unknown };

// Each test file runs in its own page, so the once-per-page default is fresh here.
describe('Google Consent Mode v2', () => {
  it('defines dataLayer and gtag when absent and pushes the default once, everything denied but security', () => {
    const w = window as GtagWindow;
    expect(w.dataLayer).to.equal(undefined);
    consentModeDefault();
    consentModeDefault();
    expect(w.dataLayer).to.have.length(1);
    expect(w.gtag).to.be.a('function');
    const entry = w.dataLayer![0] as IArguments;
    // gtag.js reads Arguments objects, not arrays.
    expect(Object.prototype.toString.call(entry)).to.equal('[object Arguments]');
    const [command, action, states] = [...entry] as [string, string, Record<string, unknown>];
    expect([command, action]).to.deep.equal(['consent', 'default']);
    expect(Object.keys(states).sort()).to.deep.equal([...CONSENT_MODE_TYPES, 'wait_for_update'].sort());
    for (const type of CONSENT_MODE_TYPES) expect(states[type], type).to.equal(type === 'security_storage' ? 'granted' : 'denied');
    expect(states.wait_for_update).to.equal(WAIT_FOR_UPDATE_MS);
    expect(WAIT_FOR_UPDATE_MS).to.equal(500);
  });

  it('pushes an update granting exactly the given types (and security storage) after the default', () => {
    const w = window as GtagWindow;
    consentModeUpdate(['analytics_storage', 'ad_storage']);
    const last = [...(w.dataLayer!.at(-1) as IArguments)] as [string, string, Record<string, string>];
    expect(last.slice(0, 2)).to.deep.equal(['consent', 'update']);
    expect(last[2]).to.deep.equal({
      ad_storage: 'granted',
      ad_user_data: 'denied',
      ad_personalization: 'denied',
      analytics_storage: 'granted',
      functionality_storage: 'denied',
      personalization_storage: 'denied',
      security_storage: 'granted',
    });
    expect(w.dataLayer!.filter((e) => (e as IArguments)[1] === 'default')).to.have.length(1);
  });

  it("uses the page's own gtag when it has one", () => {
    const w = window as GtagWindow;
    const calls: unknown[][] = [];
    const own = w.gtag;
    w.gtag = (...args: unknown[]) => void calls.push(args);
    try {
      consentModeUpdate([]);
      expect(calls).to.have.length(1);
      expect(calls[0]!.slice(0, 2)).to.deep.equal(['consent', 'update']);
    } finally {
      w.gtag = own;
    }
  });
});
