import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { CookieConfig } from '../../shared/cookies';
import { ConsentBanner } from '../../widget/banner/consent-banner';
import { readChoice, writeChoice } from '../../widget/lib/choice-cookie';
import { ConsentChangeEvent } from '../../widget/lib/consent-change-event';
import '../../widget/settings-button/consent-settings-button';
import { captureWarnings, cleanSlate, setGpc, SINK, sunkRequests, testConfig, until, waitForSunk } from './helpers';

const part = <T extends Element = HTMLElement>(el: ConsentBanner, name: string) =>
  el.shadowRoot!.querySelector<T>(`[part~="${name}"]`);
const parts = <T extends Element = HTMLElement>(el: ConsentBanner, name: string) => [
  ...el.shadowRoot!.querySelectorAll<T>(`[part~="${name}"]`),
];
const dialog = (el: ConsentBanner) => el.shadowRoot!.querySelector<HTMLElement>('[role=dialog]');
const switchOf = (el: ConsentBanner, key: string) =>
  parts<HTMLInputElement>(el, 'switch').find((s) => s.getAttribute('aria-describedby') === `b-${key}`)!;
/** What has focus inside the banner, as a readable name (chai would print whole elements). */
const focused = (el: ConsentBanner): string => {
  const a = el.shadowRoot!.activeElement as HTMLElement | null;
  if (!a) return 'nothing';
  return a.getAttribute('role') === 'dialog' ? 'dialog' : a.getAttribute('aria-describedby') ?? a.getAttribute('part') ?? a.tagName.toLowerCase();
};
const buttonLabels = (el: ConsentBanner) => parts(el, 'button').map((b) => b.textContent!.trim());
const shiftTab = async () => {
  await sendKeys({ down: 'Shift' });
  await sendKeys({ press: 'Tab' });
  await sendKeys({ up: 'Shift' });
};
const cookieNames = () => document.cookie.split(/; */).filter(Boolean).map((c) => c.split('=')[0]);

async function mount(config: CookieConfig | undefined = testConfig(), attrs: { lang?: string; api?: string } = {}) {
  const el = await fixture<ConsentBanner>(
    html`<consent-banner site="acme" api=${attrs.api ?? SINK} lang=${attrs.lang ?? ''} .config=${config}></consent-banner>`,
  );
  await el.updateComplete;
  return el;
}

/** A choice as if made on an earlier page. */
function storeChoice(cats: string[], overrides: Partial<{ rev: string; at: number }> = {}) {
  writeChoice({ id: crypto.randomUUID(), rev: 'rev-1', cats, at: Date.now(), ...overrides }, 182);
}

describe('<consent-banner>', () => {
  let warnings: ReturnType<typeof captureWarnings>;

  beforeEach(async () => {
    cleanSlate();
    warnings = captureWarnings();
    await sunkRequests();
  });
  afterEach(() => {
    warnings.restore();
    cleanSlate();
  });

  describe('first layer', () => {
    it('opens when there is no choice: a labelled, described dialog with focus inside', async () => {
      const el = await mount();
      expect(el.open).to.equal(true);
      expect(el.hasAttribute('open')).to.equal(true);
      const d = dialog(el)!;
      expect(d.getAttribute('aria-labelledby')).to.equal('title');
      expect(d.getAttribute('aria-describedby')).to.equal('body');
      expect(part(el, 'title')!.id).to.equal('title');
      expect(part(el, 'title')!.textContent).to.equal('We use cookies');
      expect(part(el, 'body')!.id).to.equal('body');
      expect(part(el, 'body')!.textContent).to.equal('We use cookies.\nYou decide.');
      expect(document.activeElement === el).to.equal(true);
      expect(focused(el)).to.equal('dialog');
      await expect(el).to.be.accessible();
    });

    it('offers Accept all, Reject all and Customize with equal visual weight', async () => {
      const el = await mount();
      expect(buttonLabels(el)).to.deep.equal(['Accept all', 'Reject all', 'Customize']);
      const [accept, reject, customize] = parts(el, 'button');
      const look = (b: HTMLElement) => {
        const s = getComputedStyle(b);
        const r = b.getBoundingClientRect();
        return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderStyle, s.padding, s.textDecorationLine, Math.round(r.height)].join('|');
      };
      expect(look(reject!)).to.equal(look(accept!));
      expect(look(customize!)).to.equal(look(accept!));
      const widths = [accept, reject, customize].map((b) => b!.getBoundingClientRect().width);
      expect(Math.max(...widths) - Math.min(...widths)).to.be.lessThan(1);
    });

    it('is fixed to the bottom of the viewport, in shadow DOM, and shifts nothing on the page', async () => {
      const marker = await fixture<HTMLParagraphElement>(html`<p>Page content</p>`);
      const before = { rect: marker.getBoundingClientRect().toJSON(), height: document.documentElement.scrollHeight };
      const el = await mount();
      expect(el.shadowRoot).to.exist;
      expect(getComputedStyle(el).position).to.equal('fixed');
      const box = dialog(el)!.getBoundingClientRect();
      expect(Math.round(innerHeight - box.bottom)).to.be.within(0, 20);
      expect(marker.getBoundingClientRect().toJSON()).to.deep.equal(before.rect);
      expect(document.documentElement.scrollHeight).to.equal(before.height);
    });

    it('uses no inline style attributes and nothing moves (prefers-reduced-motion has nothing to stop)', async () => {
      const el = await mount();
      part<HTMLButtonElement>(el, 'customize')!.click();
      await el.updateComplete;
      expect(el.hasAttribute('style')).to.equal(false);
      expect(el.shadowRoot!.querySelectorAll('[style]')).to.have.length(0);
      expect(el.shadowRoot!.getAnimations()).to.have.length(0);
      for (const node of el.shadowRoot!.querySelectorAll('*')) {
        const s = getComputedStyle(node);
        expect(s.transitionDuration, node.tagName).to.equal('0s');
        expect(s.animationName, node.tagName).to.equal('none');
      }
    });

    it('themes through --samtykke-* custom properties and ::part()', async () => {
      const style = await fixture(html`<style>
        consent-banner { --samtykke-accent: rgb(1, 2, 3); --samtykke-bg: rgb(4, 5, 6); }
        consent-banner::part(title) { color: rgb(7, 8, 9); }
      </style>`);
      const el = await mount();
      expect(getComputedStyle(part(el, 'accept')!).backgroundColor).to.equal('rgb(1, 2, 3)');
      expect(getComputedStyle(dialog(el)!).backgroundColor).to.equal('rgb(4, 5, 6)');
      expect(getComputedStyle(part(el, 'title')!).color).to.equal('rgb(7, 8, 9)');
      style.remove();
    });

    it('Escape does not accept or close anything', async () => {
      const el = await mount();
      await sendKeys({ press: 'Escape' });
      await el.updateComplete;
      expect(el.open).to.equal(true);
      expect(readChoice()).to.equal(undefined);
    });

    it('Tab and Shift+Tab cycle through the buttons without leaving the banner', async () => {
      const el = await mount();
      await sendKeys({ press: 'Tab' });
      expect(focused(el)).to.equal('button accept');
      await sendKeys({ press: 'Tab' });
      await sendKeys({ press: 'Tab' });
      expect(focused(el)).to.equal('button customize');
      await sendKeys({ press: 'Tab' });
      expect(focused(el), 'wraps to the first').to.equal('button accept');
      await shiftTab();
      expect(focused(el), 'wraps to the last').to.equal('button customize');
      expect(getComputedStyle(part(el, 'customize')!).outlineStyle, 'visible focus ring').to.equal('solid');
    });

    it('links the privacy policy when the config has an http(s) one', async () => {
      const el = await mount(testConfig({ privacyPolicyUrl: 'https://acme.example/privacy' }));
      expect(part<HTMLAnchorElement>(el, 'link')!.href).to.equal('https://acme.example/privacy');
      expect(part(el, 'link')!.textContent).to.equal('Privacy policy');
      await expect(el).to.be.accessible();
      const bad = await mount(testConfig({ privacyPolicyUrl: 'javascript:alert(1)' }));
      expect(part(bad, 'link')).to.equal(null);
    });
  });

  describe('choosing', () => {
    it('Accept all allows every optional category, stores it, fires consent-change and closes, returning focus', async () => {
      const pageButton = await fixture<HTMLButtonElement>(html`<button>Before</button>`);
      pageButton.focus();
      const el = await mount();
      expect(document.activeElement === el).to.equal(true);
      const events: ConsentChangeEvent[] = [];
      document.addEventListener('consent-change', (e) => events.push(e), { once: true });
      part<HTMLButtonElement>(el, 'accept')!.click();
      await el.updateComplete;
      expect(el.open).to.equal(false);
      expect(document.activeElement === pageButton, 'focus back on the page').to.equal(true);
      const stored = readChoice()!;
      expect(stored.cats.sort()).to.deep.equal(['marketing', 'preferences', 'statistics']);
      expect(stored.rev).to.equal('rev-1');
      expect(stored.id).to.match(/^[0-9a-f-]{36}$/);
      expect(events).to.have.length(1);
      expect(events[0]).to.be.instanceOf(ConsentChangeEvent);
      expect(events[0]!.bubbles && events[0]!.composed).to.equal(true);
      expect(events[0]!.target === el).to.equal(true);
      expect(events[0]!.detail).to.deep.equal({
        categories: { necessary: true, preferences: true, statistics: true, marketing: true },
        consentId: stored.id,
      });
    });

    it('Reject all allows none, and deletes the cookies of the refused categories', async () => {
      for (const name of ['_ga', '_ga_ABC', '_fbp', 'unlisted']) document.cookie = `${name}=1; Path=/`;
      const el = await mount();
      part<HTMLButtonElement>(el, 'reject')!.click();
      await el.updateComplete;
      expect(el.open).to.equal(false);
      expect(readChoice()!.cats).to.deep.equal([]);
      expect(cookieNames().sort()).to.deep.equal(['samtykke', 'unlisted']);
    });

    it('records the choice: text/plain JSON, no credentials, every displayed text hashed', async () => {
      const config = testConfig();
      const el = await mount(config);
      part<HTMLButtonElement>(el, 'accept')!.click();
      await el.updateComplete;
      const id = readChoice()!.id;
      const requests = await waitForSunk(1, 3000, (r) => r.body.includes(id));
      expect(requests).to.have.length(1);
      const [req] = requests;
      expect(req!.method).to.equal('POST');
      expect(req!.path).to.equal('/sink/v1/sites/acme/cookie-consents');
      expect(req!.headers['content-type']).to.equal('text/plain;charset=UTF-8');
      expect(req!.headers.cookie, 'no credentials').to.equal(undefined);
      const body = JSON.parse(req!.body);
      expect(body.consentId).to.equal(readChoice()!.id);
      expect(body.categories).to.deep.equal({ preferences: true, statistics: true, marketing: true });
      expect(body.revision).to.equal('rev-1');
      expect(body.gpc).to.equal(false);
      expect(body.pageUrl).to.equal(location.origin + location.pathname);
      const digest = async (text: string) =>
        [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))]
          .map((b) => b.toString(16).padStart(2, '0'))
          .join('');
      const expected = [
        { purpose: 'cookie-banner', version: 1, lang: 'en', sha256: await digest(JSON.stringify(['en', config.banner.title, config.banner.body])) },
        ...(await Promise.all(
          config.categories.map(async (k) => ({ purpose: k.key, version: 1, lang: 'en', sha256: await digest(JSON.stringify(['en', k.title, k.body])) })),
        )),
      ];
      expect(body.wordings).to.deep.equal(expected);
      expect(warnings.messages).to.deep.equal([]);
    });

    it('keeps the choice when recording fails, and warns once', async () => {
      const el = await mount(testConfig(), { api: 'http://127.0.0.1:9' });
      await el.acceptAll();
      expect(readChoice()!.cats).to.have.length(3);
      await el.rejectAll();
      expect(warnings.messages).to.have.length(1);
      expect(warnings.messages[0]).to.match(/^samtykke: choice kept but not recorded/);
    });
  });

  describe('second layer', () => {
    it('Customize shows a switch per category: necessary on and disabled, the others off', async () => {
      const el = await mount();
      part<HTMLButtonElement>(el, 'customize')!.click();
      await el.updateComplete;
      expect(part(el, 'title')!.textContent).to.equal('Cookie settings');
      expect(dialog(el)!.hasAttribute('aria-describedby')).to.equal(false);
      expect(focused(el)).to.equal('dialog');
      const switches = parts<HTMLInputElement>(el, 'switch');
      expect(switches).to.have.length(4);
      for (const s of switches) expect(s.getAttribute('role')).to.equal('switch');
      expect(switchOf(el, 'necessary').checked).to.equal(true);
      expect(switchOf(el, 'necessary').disabled).to.equal(true);
      for (const key of ['preferences', 'statistics', 'marketing']) {
        expect(switchOf(el, key).checked, key).to.equal(false);
        expect(switchOf(el, key).disabled, key).to.equal(false);
      }
      expect(parts(el, 'category-title').map((t) => t.textContent)).to.deep.equal(['Necessary', 'Preferences', 'Statistics', 'Marketing']);
      expect(buttonLabels(el)).to.deep.equal(['Save choices', 'Accept all', 'Reject all']);
      await expect(el).to.be.accessible();
    });

    it("lists each category's cookies in a disclosure", async () => {
      const el = await mount();
      await el.show();
      const disclosures = parts<HTMLDetailsElement>(el, 'cookies');
      expect(disclosures).to.have.length(3);
      const stats = disclosures[1]!;
      expect(stats.open).to.equal(false);
      expect(stats.querySelector('summary')!.textContent).to.equal('Cookies (2)');
      stats.open = true;
      const items = [...stats.querySelectorAll('[part=cookie]')].map((li) => li.textContent);
      expect(items).to.deep.equal([
        '_ga · Google Analytics · Tells visitors apart · 2 years',
        '_ga_* · Google Analytics · Keeps the session · 2 years',
      ]);
      await expect(el).to.be.accessible();
    });

    it('saves exactly the switches turned on', async () => {
      const el = await mount();
      part<HTMLButtonElement>(el, 'customize')!.click();
      await el.updateComplete;
      switchOf(el, 'statistics').click();
      await el.updateComplete;
      part<HTMLButtonElement>(el, 'save')!.click();
      await el.updateComplete;
      expect(el.open).to.equal(false);
      expect(readChoice()!.cats).to.deep.equal(['statistics']);
    });

    it('Escape goes back to the first layer, focusing Customize, without deciding', async () => {
      const el = await mount();
      part<HTMLButtonElement>(el, 'customize')!.click();
      await el.updateComplete;
      switchOf(el, 'statistics').focus();
      await sendKeys({ press: 'Escape' });
      await el.updateComplete;
      expect(el.open).to.equal(true);
      expect(part(el, 'body')).to.exist;
      expect(focused(el)).to.equal('button customize');
      expect(readChoice()).to.equal(undefined);
    });

    it('Tab cycles over switches and buttons; the disabled switch is skipped', async () => {
      const el = await mount();
      part<HTMLButtonElement>(el, 'customize')!.click();
      await el.updateComplete;
      await sendKeys({ press: 'Tab' });
      expect(focused(el), 'the disabled necessary switch is skipped').to.equal('cookies-summary');
      await sendKeys({ press: 'Tab' });
      expect(focused(el)).to.equal('b-preferences');
      await shiftTab();
      await shiftTab();
      expect(focused(el), 'wraps to the last').to.equal('button reject');
      await sendKeys({ press: 'Tab' });
      expect(focused(el), 'wraps to the first').to.equal('cookies-summary');
    });
  });

  describe('a stored choice', () => {
    it('keeps the banner closed while valid', async () => {
      storeChoice(['statistics']);
      const el = await mount();
      expect(el.open).to.equal(false);
      expect(el.shadowRoot!.childElementCount).to.equal(0);
    });

    it('asks again when the wording revision changed, keeping the consent id', async () => {
      storeChoice(['statistics'], { rev: 'rev-0' });
      const id = readChoice()!.id;
      const el = await mount();
      expect(el.open).to.equal(true);
      await el.rejectAll();
      expect(readChoice()!.id).to.equal(id);
      expect(readChoice()!.rev).to.equal('rev-1');
    });

    it("asks again when older than the site's cookie lifetime", async () => {
      storeChoice(['statistics'], { at: Date.now() - 31 * 864e5 });
      expect((await mount(testConfig({ cookieDays: 30 }))).open).to.equal(true);
    });

    it('is reopened by <consent-settings-button> on the second layer with its switches; Escape closes unchanged', async () => {
      storeChoice(['statistics']);
      const el = await mount();
      const settings = await fixture<HTMLElement>(html`<consent-settings-button></consent-settings-button>`);
      const inner = settings.shadowRoot!.querySelector('button')!;
      expect(inner.textContent!.trim()).to.equal('Cookie settings');
      expect(inner.getAttribute('aria-haspopup')).to.equal('dialog');
      await expect(settings).to.be.accessible();
      inner.focus();
      inner.click();
      await until(() => el.open);
      await el.updateComplete;
      expect(focused(el)).to.equal('dialog');
      expect(switchOf(el, 'statistics').checked).to.equal(true);
      expect(switchOf(el, 'marketing').checked).to.equal(false);
      await sendKeys({ press: 'Escape' });
      await el.updateComplete;
      expect(el.open).to.equal(false);
      expect(settings.shadowRoot!.activeElement === inner, 'focus back on the settings button').to.equal(true);
      expect(readChoice()!.cats).to.deep.equal(['statistics']);
    });

    it('withdrawing a category deletes its cookies and keeps the consent id', async () => {
      storeChoice(['statistics', 'marketing']);
      const id = readChoice()!.id;
      for (const name of ['_ga', '_ga_X1', '_fbp']) document.cookie = `${name}=1; Path=/`;
      const el = await mount();
      await el.show();
      const events: ConsentChangeEvent[] = [];
      el.addEventListener('consent-change', (e) => events.push(e));
      switchOf(el, 'statistics').click();
      part<HTMLButtonElement>(el, 'save')!.click();
      await el.updateComplete;
      expect(cookieNames().sort()).to.deep.equal(['_fbp', 'samtykke']);
      expect(readChoice()!).to.include({ id });
      expect(events[0]!.detail).to.deep.equal({
        categories: { necessary: true, preferences: false, statistics: false, marketing: true },
        consentId: id,
      });
    });

    it('a settings button with a site opens that site\'s banner; without any banner the console says so', async () => {
      storeChoice([]);
      const [first, second] = [await mount(), await mount()];
      second.setAttribute('site', 'other');
      const settings = await fixture<HTMLElement>(html`<consent-settings-button site="other">Privacy choices</consent-settings-button>`);
      settings.shadowRoot!.querySelector('button')!.click();
      await until(() => second.open);
      expect(first.open).to.equal(false);
      second.remove();
      first.remove();
      settings.shadowRoot!.querySelector('button')!.click();
      expect(warnings.messages).to.include('samtykke: no <consent-banner> on this page');
    });
  });

  describe('Global Privacy Control', () => {
    it('Accept all leaves marketing off, the banner says why, and the choice records GPC', async () => {
      setGpc(true);
      const el = await mount();
      expect(part(el, 'note')!.textContent).to.equal('Marketing is off: your browser sends Global Privacy Control.');
      await expect(el).to.be.accessible();
      part<HTMLButtonElement>(el, 'accept')!.click();
      await el.updateComplete;
      expect(readChoice()!.cats.sort()).to.deep.equal(['preferences', 'statistics']);
      expect(readChoice()!.gpc).to.equal(true);
      const id = readChoice()!.id;
      const [req] = await waitForSunk(1, 3000, (r) => r.body.includes(id));
      expect(JSON.parse(req!.body)).to.include({ gpc: true });
    });

    it('marketing can still be switched on explicitly in Customize', async () => {
      const el = await mount(testConfig({ gpc: true })); // Sec-GPC seen by the server
      await el.show();
      expect(part(el, 'note')).to.exist;
      expect(switchOf(el, 'marketing').checked).to.equal(false);
      switchOf(el, 'marketing').click();
      part<HTMLButtonElement>(el, 'save')!.click();
      expect(readChoice()!.cats).to.deep.equal(['marketing']);
    });

    it('shows no note without GPC', async () => {
      expect(part(await mount(), 'note')).to.equal(null);
    });
  });

  describe('languages', () => {
    it('speaks the config language', async () => {
      const el = await mount(testConfig({ lang: 'da' }), { lang: 'da' });
      expect(buttonLabels(el)).to.deep.equal(['Accepter alle', 'Afvis alle', 'Tilpas']);
    });

    it('falls back to the page language for UI strings when the texts came in an unshipped one', async () => {
      document.documentElement.lang = 'de';
      const el = await mount(testConfig({ lang: 'fr' }));
      expect(buttonLabels(el)).to.deep.equal(['Alle akzeptieren', 'Alle ablehnen', 'Anpassen']);
      await expect(el).to.be.accessible();
    });
  });

  describe('when the server fails', () => {
    it('shows a minimal banner whose Reject works and is stored, and warns once with the reason', async () => {
      const el = await fixture<ConsentBanner>(html`<consent-banner site="acme" api="http://127.0.0.1:9"></consent-banner>`);
      await until(() => el.open, 5000, 'the fallback banner');
      await el.updateComplete;
      expect(buttonLabels(el)).to.deep.equal(['Reject all']);
      expect(part(el, 'title')!.textContent).to.equal('Cookie settings');
      expect(part(el, 'body'), 'no text to show').to.equal(null);
      expect(dialog(el)!.hasAttribute('aria-describedby')).to.equal(false);
      await expect(el).to.be.accessible();
      expect(warnings.messages).to.have.length(1);
      expect(warnings.messages[0]).to.match(/^samtykke: cookie settings unavailable \(.+\); offering reject only$/);
      part<HTMLButtonElement>(el, 'reject')!.click();
      await el.updateComplete;
      expect(el.open).to.equal(false);
      expect(readChoice()).to.include({ rev: '' });
      expect(readChoice()!.cats).to.deep.equal([]);

      // The next page does not nag: the local choice stands until the server answers again.
      const { resetConsent } = await import('../../widget/lib/consent');
      resetConsent();
      const next = await fixture<ConsentBanner>(html`<consent-banner site="acme" api="http://127.0.0.1:9"></consent-banner>`);
      await new Promise((r) => setTimeout(r, 300));
      expect(next.open).to.equal(false);
      expect(warnings.messages).to.have.length(1);
    });

    it('treats an invalid config like an unreachable server', async () => {
      const el = await fixture<ConsentBanner>(
        html`<consent-banner site="bad" api=${`${location.origin}/test/widget/fixtures`}></consent-banner>`,
      );
      await until(() => el.open, 5000, 'the fallback banner');
      expect(warnings.messages[0]).to.contain('config: invalid');
      expect(await el.acceptAll()).to.equal(undefined);
      expect(readChoice()).to.equal(undefined);
    });
  });
});
