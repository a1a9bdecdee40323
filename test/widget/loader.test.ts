/**
 * samtykke.js loads the forms bundle (samtykke-forms.js, next to it) when a page has, or later
 * gets, a <consent-signup> or <consent-preferences>; from source, widget/forms.ts. Pages under a
 * strict CSP (nonce only): the dynamic import carries the loading script's nonce.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import type { ConsentSignup } from '../../widget/signup/consent-signup';
import { until } from './helpers';

type PageWindow = Window & { violations: string[]; samtykke?: unknown };

async function open(query: string) {
  const frame = await fixture<HTMLIFrameElement>(html`<iframe src="/test/widget/csp/forms.html?${query}" title="Forms page"></iframe>`);
  await until(() => !!(frame.contentWindow as PageWindow | null)?.samtykke, 8000, 'the script');
  return { frame, win: frame.contentWindow as PageWindow, doc: frame.contentDocument! };
}

/** Waits for the signup form from the real server, then checks it is styled and the CSP was kept. */
async function expectSignupForm(win: PageWindow, doc: Document) {
  await until(() => !!win.customElements.get('consent-signup'), 8000, 'consent-signup defined');
  const el = doc.querySelector<ConsentSignup>('consent-signup')!;
  await until(() => el.state == 'form', 8000, 'the form from the server');
  await el.updateComplete;
  const submit = el.shadowRoot!.querySelector('[part~=submit]')!;
  expect(submit.textContent).to.equal('Sign up');
  expect(win.getComputedStyle(submit).backgroundColor, 'styles adopted').to.equal('rgb(11, 87, 164)');
  // The test server injects its own live-reload script (without the nonce) into every page.
  expect(win.violations.filter((v) => !v.includes('__web-dev-server'))).to.deep.equal([]);
}

describe('loading the forms bundle', () => {
  it('from source: an element added later gets defined', async () => {
    const { win, doc } = await open('src=/widget/index.ts');
    await new Promise((r) => setTimeout(r, 100));
    expect(win.customElements.get('consent-signup'), 'nothing loaded without a form element').to.equal(undefined);
    doc.querySelector('main')!.innerHTML = '<consent-signup site="acme" purposes="e-marketing"></consent-signup>';
    await expectSignupForm(win, doc);
    await until(() => !!win.customElements.get('consent-preferences'), 1000, 'consent-preferences defined');
  });

  describe('built (npm run build)', () => {
    before(async function () {
      this.timeout(120_000);
      await executeServerCommand('samtykke:build-widget');
    });

    it('samtykke.js (ES module) with <consent-signup> in the page', async () => {
      const { win, doc } = await open('src=/dist/widget/samtykke.js&now');
      await expectSignupForm(win, doc);
      const modules = win.performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
      expect(modules).to.include('/dist/widget/samtykke-forms.js');
    });

    it('samtykke.iife.js (classic script), element added later', async () => {
      const { win, doc } = await open('src=/dist/widget/samtykke.iife.js&classic');
      doc.querySelector('main')!.innerHTML = '<consent-signup site="acme" purposes="e-marketing"></consent-signup>';
      await expectSignupForm(win, doc);
    });

    it('samtykke-forms.js on its own', async () => {
      const { frame } = await (async () => {
        const f = await fixture<HTMLIFrameElement>(html`<iframe src="/test/widget/csp/forms.html?src=/dist/widget/samtykke-forms.js&now" title="Forms page"></iframe>`);
        await until(() => !!f.contentWindow?.customElements.get('consent-signup'), 8000, 'consent-signup defined');
        return { frame: f };
      })();
      const win = frame.contentWindow as PageWindow;
      await expectSignupForm(win, frame.contentDocument!);
      expect(win.samtykke, 'the banner bundle was not loaded').to.equal(undefined);
    });
  });
});
