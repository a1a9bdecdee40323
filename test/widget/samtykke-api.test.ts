import { expect, fixture, html } from '@open-wc/testing';
import type { ConsentBanner } from '../../widget/banner/consent-banner';
import '../../widget/index';
import { readChoice } from '../../widget/lib/choice-cookie';
import type { ConsentDetail } from '../../widget/lib/consent-change-event';
import { captureWarnings, cleanSlate, SINK, testConfig, until } from './helpers';

describe('window.samtykke', () => {
  let warnings: ReturnType<typeof captureWarnings>;
  beforeEach(() => {
    cleanSlate();
    warnings = captureWarnings();
  });
  afterEach(() => {
    warnings.restore();
    cleanSlate();
  });

  const mount = () =>
    fixture<ConsentBanner>(html`<consent-banner site="acme" api=${SINK} .config=${testConfig()}></consent-banner>`);

  it('keeps version and apiBase and offers get, onChange, show, acceptAll, rejectAll', () => {
    const api = window.samtykke!;
    expect(api.version).to.equal('dev');
    expect(api.apiBase).to.equal(`${location.origin}/widget/lib`);
    for (const fn of ['get', 'onChange', 'show', 'acceptAll', 'rejectAll'] as const) expect(api[fn], fn).to.be.a('function');
    expect(Object.isFrozen(api)).to.equal(true);
  });

  it('get() is null before a choice, then the categories and consent id', async () => {
    await mount();
    expect(window.samtykke!.get()).to.equal(null);
    await window.samtykke!.acceptAll();
    expect(window.samtykke!.get()).to.deep.equal({
      categories: { necessary: true, preferences: true, statistics: true, marketing: true },
      consentId: readChoice()!.id,
    });
  });

  it('onChange() is called after every choice until unsubscribed', async () => {
    const el = await mount();
    const seen: ConsentDetail[] = [];
    const unsubscribe = window.samtykke!.onChange((detail) => seen.push(detail));
    await window.samtykke!.rejectAll();
    expect(seen).to.have.length(1);
    expect(seen[0]!.categories.statistics).to.equal(false);
    expect(el.open).to.equal(false);
    unsubscribe();
    await window.samtykke!.acceptAll();
    expect(seen).to.have.length(1);
  });

  it('show() opens the choices', async () => {
    const el = await mount();
    await window.samtykke!.rejectAll();
    window.samtykke!.show();
    await until(() => el.open);
    expect(el.shadowRoot!.querySelectorAll('[part~=switch]')).to.have.length(4);
  });

  it('rejectAll() works without a banner (kept locally), acceptAll() needs one', async () => {
    await window.samtykke!.acceptAll();
    expect(readChoice()).to.equal(undefined);
    await window.samtykke!.rejectAll();
    expect(readChoice()!.cats).to.deep.equal([]);
    window.samtykke!.show();
    expect(warnings.messages).to.deep.equal(['samtykke: no <consent-banner> on this page']);
  });

  it('fires a typed consent-change event that bubbles out of the shadow DOM to the document', async () => {
    await mount();
    const detail = new Promise<ConsentDetail>((resolve) =>
      document.addEventListener('consent-change', (e) => resolve(e.detail), { once: true }),
    );
    await window.samtykke!.acceptAll();
    expect((await detail).consentId).to.equal(readChoice()!.id);
  });
});
