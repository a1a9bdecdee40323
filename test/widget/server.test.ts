/**
 * The banner against the real server (the Hono app inside the test runner, on a temporary
 * libSQL file): what it shows comes from the site's published wording, and every choice
 * leaves a proof row naming that wording.
 */
import { expect, fixture, html } from '@open-wc/testing';
import type { CookieConfig } from '../../shared/cookies';
import '../../widget/banner/consent-banner';
import type { ConsentBanner } from '../../widget/banner/consent-banner';
import { readChoice } from '../../widget/lib/choice-cookie';
import { resetConsent } from '../../widget/lib/consent';
import { adminCall, captureWarnings, cleanSlate, createSite, ledger, setGpc, uniqueSite, until, type LedgerRow } from './helpers';

const API = location.origin;
const part = <T extends Element = HTMLElement>(el: ConsentBanner, name: string) => el.shadowRoot!.querySelector<T>(`[part~="${name}"]`);
const click = async (el: ConsentBanner, name: string) => {
  part<HTMLButtonElement>(el, name)!.click();
  await el.updateComplete;
};

async function mount(site = 'acme', lang = 'en') {
  const el = await fixture<ConsentBanner>(html`<consent-banner site=${site} api=${API} lang=${lang}></consent-banner>`);
  await until(() => el.open, 5000, 'the banner');
  await el.updateComplete;
  return el;
}

/** The rows of the visitor's proof, once `count` have been written. */
async function proof(count: number): Promise<LedgerRow[]> {
  const id = readChoice()!.id;
  let rows: LedgerRow[] = [];
  for (let i = 0; i < 100 && rows.length < count; i++) {
    rows = await ledger(id);
    if (rows.length < count) await new Promise((r) => setTimeout(r, 30));
  }
  return rows;
}

const actions = (rows: LedgerRow[]) => Object.fromEntries(rows.map((r) => [r.purpose, r.action]));

describe('banner with the real server', () => {
  let warnings: ReturnType<typeof captureWarnings>;
  beforeEach(() => {
    cleanSlate();
    warnings = captureWarnings();
  });
  afterEach(() => {
    warnings.restore();
    cleanSlate();
  });

  it("shows the site's published banner text in the page language", async () => {
    const en = await mount('acme', 'en');
    expect(part(en, 'title')!.textContent).to.equal('We use cookies');
    await expect(en).to.be.accessible();
    resetConsent();
    const da = await mount('acme', 'da');
    expect(part(da, 'title')!.textContent).to.equal('Vi bruger cookies');
    expect(part(da, 'accept')!.textContent).to.equal('Accepter alle');
    await da.show();
    await expect(da).to.be.accessible();
  });

  it('Accept all: one grant per optional category plus the banner, naming the wording shown, no personal data', async () => {
    const el = await mount();
    await click(el, 'accept');
    const rows = await proof(4);
    expect(actions(rows)).to.deep.equal({ preferences: 'grant', statistics: 'grant', marketing: 'grant', 'cookie-banner': 'grant' });
    for (const row of rows) {
      expect(row.version, row.purpose).to.equal(1);
      expect(row.subjectId).to.equal(null);
      expect(row.actor).to.equal('visitor');
      expect(row.evidence!.pageUrl).to.equal(location.origin + location.pathname);
      expect(row.evidence!.gpc).to.equal(false);
      expect(row.evidence!.revision).to.equal(readChoice()!.rev);
      expect(row.evidence!.ip ?? '', 'truncated IP').to.match(/(\.0|::\/48)$|^$/);
      expect(row.evidence!.userAgentHash).to.match(/^[0-9a-f]{32}$/);
    }
    expect(warnings.messages, 'the server accepted every hash').to.deep.equal([]);
  });

  it('Reject all: withdrawals', async () => {
    await click(await mount(), 'reject');
    expect(actions(await proof(4))).to.deep.equal({
      preferences: 'withdraw',
      statistics: 'withdraw',
      marketing: 'withdraw',
      'cookie-banner': 'withdraw',
    });
  });

  it('Customize: exactly the chosen categories; a later withdrawal is recorded under the same consent id', async () => {
    const el = await mount();
    await click(el, 'customize');
    const statistics = [...el.shadowRoot!.querySelectorAll<HTMLInputElement>('[part~=switch]')].find(
      (s) => s.getAttribute('aria-describedby') === 'b-statistics',
    )!;
    statistics.click();
    await click(el, 'save');
    expect(actions(await proof(4))).to.deep.equal({ preferences: 'withdraw', statistics: 'grant', marketing: 'withdraw', 'cookie-banner': 'grant' });

    await el.show();
    await click(el, 'reject');
    const rows = await proof(8);
    expect(rows.slice(4).map((r) => `${r.purpose}:${r.action}`)).to.include('statistics:withdraw');
  });

  it('GPC: marketing stays off on Accept all and the proof records GPC', async () => {
    setGpc(true);
    const el = await mount();
    expect(part(el, 'note')).to.exist;
    await click(el, 'accept');
    const rows = await proof(4);
    expect(actions(rows)).to.deep.include({ marketing: 'withdraw', statistics: 'grant' });
    expect(rows.every((r) => r.evidence!.gpc === true)).to.equal(true);
  });

  it('an iframe placeholder asks for its category and the grant is recorded', async () => {
    const page = await fixture(html`<div><iframe data-category="marketing" data-src="about:blank#map" title="Map"></iframe></div>`);
    const el = await mount();
    const button = page.querySelector<HTMLButtonElement>('[data-samtykke-placeholder]')!;
    expect(button.textContent).to.equal('Allow Marketing cookies to load this content');
    button.click();
    await el.updateComplete;
    expect(el.open).to.equal(false);
    expect(page.querySelector('iframe')!.getAttribute('src')).to.equal('about:blank#map');
    expect(actions(await proof(4))).to.deep.include({ marketing: 'grant', statistics: 'withdraw' });
  });

  it('a text other than the published one is refused (409): the choice stands, the console says why', async () => {
    const config = (await (await fetch(`${API}/v1/sites/acme/config?lang=en`)).json()) as CookieConfig;
    const altered = { ...config, banner: { ...config.banner, title: 'We use a few cookies' } };
    const el = await fixture<ConsentBanner>(html`<consent-banner site="acme" api=${API} .config=${altered}></consent-banner>`);
    await el.acceptAll();
    expect(readChoice()!.cats).to.have.length(3);
    expect(warnings.messages).to.deep.equal(['samtykke: choice kept but not recorded (HTTP 409)']);
    expect(await ledger(readChoice()!.id)).to.deep.equal([]);
  });

  it('asks again after the wording changes, and the new proof names the new version', async () => {
    const site = uniqueSite('reword');
    await createSite({ id: site, name: 'Reword', defaultLanguage: 'en' });
    await click(await mount(site), 'reject');
    const firstRevision = readChoice()!.rev;

    resetConsent();
    const quiet = await fixture<ConsentBanner>(html`<consent-banner site=${site} api=${API} lang="en"></consent-banner>`);
    await new Promise((r) => setTimeout(r, 300));
    expect(quiet.open, 'a valid choice: no banner').to.equal(false);

    const draft = await adminCall(site, 'POST', `/v1/sites/${site}/purposes/cookie-banner/wordings`, {
      texts: { en: { title: 'We use cookies, again', body: 'Our cookie text changed.' } },
    });
    expect(draft.status).to.equal(201);
    expect((await adminCall(site, 'POST', `/v1/sites/${site}/purposes/cookie-banner/wordings/${draft.body.version}/publish`)).status).to.equal(200);
    // The browser keeps the config for 5 minutes; a visitor arriving later gets the new one.
    await fetch(`${API}/v1/sites/${site}/config?lang=en`, { cache: 'reload', credentials: 'omit' });

    resetConsent();
    const id = readChoice()!.id;
    const again = await mount(site);
    expect(part(again, 'title')!.textContent).to.equal('We use cookies, again');
    await click(again, 'accept');
    expect(readChoice()!.rev).not.to.equal(firstRevision);
    expect(readChoice()!.id).to.equal(id);
    const rows = await proof(8);
    expect(rows.filter((r) => r.purpose === 'cookie-banner').map((r) => r.version)).to.deep.equal([1, 2]);
  });

  it('loads the config once per page and serves a repeat visit from the HTTP cache', async () => {
    const site = uniqueSite('cache');
    await createSite({ id: site, name: 'Cache' });
    const url = `${API}/v1/sites/${site}/config?lang=en`;
    await mount(site);
    resetConsent();
    await mount(site);
    const entries = performance.getEntriesByName(url) as PerformanceResourceTiming[];
    expect(entries).to.have.length(2);
    expect(entries[0]!.transferSize).to.be.greaterThan(0);
    expect(entries[1]!.transferSize, 'from the browser cache').to.equal(0);
  });
});

describe('banner under a strict CSP (no unsafe-inline, no unsafe-eval)', () => {
  it('renders, styled, with no CSP violation', async () => {
    cleanSlate();
    const frame = await fixture<HTMLIFrameElement>(html`<iframe src="/test/widget/csp/banner.html" title="CSP page"></iframe>`);
    type CspWindow = Window & { violations?: string[] };
    await until(() => !!frame.contentDocument?.querySelector('consent-banner')?.hasAttribute('open'), 8000, 'the banner in the CSP page');
    const banner = frame.contentDocument!.querySelector('consent-banner') as ConsentBanner;
    await banner.updateComplete;
    const view = frame.contentWindow as CspWindow;
    expect(view.getComputedStyle(banner).position).to.equal('fixed');
    const accept = banner.shadowRoot!.querySelector('[part~=accept]')!;
    expect(view.getComputedStyle(accept).backgroundColor).to.equal('rgb(11, 87, 164)');
    // The test server injects its own live-reload script (without the nonce) into every page.
    expect(view.violations!.filter((v) => !v.includes('__web-dev-server'))).to.deep.equal([]);
    cleanSlate();
  });
});
