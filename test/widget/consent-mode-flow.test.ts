/**
 * Consent Mode as a page sees it: the default before any gated script, an update from the
 * stored choice on script load (before the config arrives), an update after every choice.
 * Order matters across these tests: they share one page's data layer.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { CONSENT_MODE_TYPES } from '../../shared/cookies';
import type { ConsentBanner } from '../../widget/banner/consent-banner';
import { readChoice, writeChoice } from '../../widget/lib/choice-cookie';
import { captureWarnings, cleanSlate, SINK, testConfig, until } from './helpers';

type GtagWindow = Window & { dataLayer?: IArguments[]; seen?: string[][] };
const w = window as GtagWindow;
/** The data layer as [action, granted types...] lists. */
const layer = () =>
  (w.dataLayer ?? []).map((e) => {
    const [, action, states] = [...e] as [string, string, Record<string, string>];
    return [action, ...CONSENT_MODE_TYPES.filter((t) => states[t] === 'granted')];
  });

describe('Consent Mode in the page', () => {
  let warnings: ReturnType<typeof captureWarnings>;
  beforeEach(() => {
    warnings = captureWarnings();
  });
  afterEach(() => warnings.restore());
  after(cleanSlate);

  it('pushes default and the stored update on script load, before the config and before gated scripts run', async () => {
    cleanSlate();
    w.seen = [];
    writeChoice({ id: crypto.randomUUID(), rev: 'rev-1', cats: ['statistics'], at: Date.now(), cm: [3] }, 1);
    const script = document.createElement('script');
    script.type = 'text/plain';
    script.dataset.category = 'statistics';
    script.text = 'window.seen.push(...window.dataLayer.map((e) => e[1]))';
    document.body.append(script);

    await import('../../widget/index');
    expect(layer()).to.deep.equal([
      ['default', 'security_storage'],
      ['update', 'analytics_storage', 'security_storage'],
    ]);
    expect(w.seen, 'the gated script ran after both').to.deep.equal(['default', 'update']);
  });

  it('after a choice pushes an update mapped from the categories, and remembers it for the next page', async () => {
    cleanSlate();
    const before = layer().length;
    const el = await fixture<ConsentBanner>(
      html`<consent-banner site="acme" api=${SINK} .config=${testConfig({ consentMode: true })}></consent-banner>`,
    );
    await until(() => el.open);
    expect(layer().length, 'no second default').to.equal(before);
    await el.acceptAll();
    expect(layer().at(-1)).to.deep.equal(['update', ...CONSENT_MODE_TYPES]);
    expect(readChoice()!.cm!.map((i) => CONSENT_MODE_TYPES[i]).sort()).to.deep.equal([...CONSENT_MODE_TYPES].sort());

    await el.rejectAll();
    expect(layer().at(-1), 'only necessary: security storage').to.deep.equal(['update', 'security_storage']);
    expect(readChoice()!.cm).to.deep.equal([6]);
  });

  it('a site without Consent Mode leaves the data layer alone', async () => {
    cleanSlate();
    const before = layer().length;
    const el = await fixture<ConsentBanner>(html`<consent-banner site="acme" api=${SINK} .config=${testConfig()}></consent-banner>`);
    await el.acceptAll();
    expect(layer().length).to.equal(before);
    expect(readChoice()!.cm).to.equal(undefined);
  });
});
