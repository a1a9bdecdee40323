/**
 * <consent-signup>: its UI with forms given as properties (requests to the sink or a stubbed
 * fetch), then against the real server (the signup lands in the ledger).
 */
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { SignupBody, SignupForm } from '../../shared/subscriptions';
import { wordingSha256 } from '../../widget/lib/api';
import { ConsentSignupEvent } from '../../widget/lib/form-events';
import { ConsentSignup } from '../../widget/signup/consent-signup';
import { adminCall, captureWarnings, createSite, SINK, uniqueSite, until, waitForSunk, sunkRequests } from './helpers';
import { $, apiError, json, part, parts, purpose, signupForm, stubFetch } from './forms-helpers';

async function mount(form: SignupForm | undefined = signupForm(), attrs: { lang?: string; api?: string; source?: string } = {}) {
  const el = await fixture<ConsentSignup>(
    html`<consent-signup site="acme" purposes="e-marketing" api=${attrs.api ?? SINK} lang=${attrs.lang ?? 'en'}
      source=${attrs.source ?? 'footer'} .form=${form}></consent-signup>`,
  );
  await el.updateComplete;
  return el;
}

const input = (el: ConsentSignup, name: string) => $<HTMLInputElement>(el, `input[name=${name}]`)!;
const checkbox = (el: ConsentSignup, key: string) => $<HTMLInputElement>(el, `#p-${key}`)!;
const labelOf = (el: ConsentSignup, control: HTMLElement) => $(el, `label[for="${control.id}"]`)?.textContent?.trim();
const describedBy = (el: ConsentSignup, control: HTMLElement) =>
  (control.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .filter(Boolean)
    .map((id) => $(el, `#${id}`)?.textContent?.trim());
const type = (el: ConsentSignup, name: string, value: string) => {
  input(el, name).value = value;
  input(el, name).dispatchEvent(new Event('input'));
};
const tick = async (el: ConsentSignup, key: string) => {
  checkbox(el, key).click();
  await el.updateComplete;
};
async function submit(el: ConsentSignup) {
  part<HTMLButtonElement>(el, 'submit')!.click();
  await el.updateComplete;
}
/** Waits until the element reaches `state` (its requests are asynchronous). */
const settle = async (el: ConsentSignup, state: ConsentSignup['state']) => {
  await until(() => el.state == state, 5000, `state ${state}`);
  await el.updateComplete;
};
const focusedId = (el: ConsentSignup) => (el.shadowRoot!.activeElement as HTMLElement | null)?.id || el.shadowRoot!.activeElement?.getAttribute('part');

describe('<consent-signup>', () => {
  let warnings: ReturnType<typeof captureWarnings>;
  beforeEach(async () => {
    document.documentElement.lang = 'en';
    warnings = captureWarnings();
    await sunkRequests();
  });
  afterEach(() => warnings.restore());

  describe('rendering', () => {
    it('shows e-mail (required), an optional name and one unticked checkbox per purpose, all labelled', async () => {
      const el = await mount();
      expect(input(el, 'email').type).to.equal('email');
      expect(input(el, 'email').required).to.equal(true);
      expect(input(el, 'email').autocomplete).to.equal('email');
      expect(labelOf(el, input(el, 'email'))).to.equal('E-mail');
      expect(labelOf(el, input(el, 'name'))).to.equal('Name (optional)');
      expect($(el, 'input[name=phone]')).to.equal(null);
      expect(checkbox(el, 'e-marketing').checked).to.equal(false);
      expect(labelOf(el, checkbox(el, 'e-marketing'))).to.equal('News by e-mail');
      expect(describedBy(el, checkbox(el, 'e-marketing'))[0]).to.contain('Yes, send me news.');
      expect(part(el, 'controller')!.textContent).to.contain('Acme is responsible for your data.');
      expect(part(el, 'submit')!.textContent).to.equal('Sign up');
      await expect(el).to.be.accessible();
    });

    it('shows the mobile field for SMS purposes, optional until an SMS purpose is ticked', async () => {
      const form = signupForm({
        fields: { email: 'optional', phone: 'optional' },
        purposes: [purpose({ key: 'e-marketing' }), purpose({ key: 'sms-offers', channel: 'sms' })],
      });
      const el = await mount(form);
      expect(input(el, 'phone').type).to.equal('tel');
      expect(labelOf(el, input(el, 'phone'))).to.equal('Mobile number (optional)');
      expect(labelOf(el, input(el, 'email'))).to.equal('E-mail (optional)');
      await tick(el, 'sms-offers');
      expect(labelOf(el, input(el, 'phone'))).to.equal('Mobile number');
      expect(input(el, 'phone').required).to.equal(true);
      expect(labelOf(el, input(el, 'email'))).to.equal('E-mail (optional)');
      await submit(el);
      expect(describedBy(el, input(el, 'phone'))).to.deep.equal(['Enter your mobile number.']);
      expect(input(el, 'email').getAttribute('aria-invalid')).to.equal('false');
      await expect(el).to.be.accessible();
    });

    it('hides the name field with hide-name', async () => {
      const el = await fixture<ConsentSignup>(html`<consent-signup site="acme" hide-name .form=${signupForm()}></consent-signup>`);
      expect($(el, 'input[name=name]')).to.equal(null);
    });

    it('renders wording as text: markup stays characters, bare https URLs become links', async () => {
      (window as { pwned?: boolean }).pwned = false;
      const body = 'Read <img src=x onerror="window.pwned=true"> and <b>this</b> at https://acme.example/terms.';
      const el = await mount(signupForm({ purposes: [purpose({ key: 'e-marketing', title: '<i>News</i>', body })] }));
      const p = part(el, 'purpose-body')!;
      expect(p.textContent).to.equal(body);
      expect(el.shadowRoot!.querySelector('img, b, i')).to.equal(null);
      expect(labelOf(el, checkbox(el, 'e-marketing'))).to.equal('<i>News</i>');
      const link = p.querySelector('a')!;
      expect(link.href).to.equal('https://acme.example/terms');
      expect(link.textContent).to.equal('https://acme.example/terms');
      await new Promise((r) => setTimeout(r, 50));
      expect((window as { pwned?: boolean }).pwned).to.equal(false);
    });

    it('speaks the page language, or its own lang attribute', async () => {
      document.documentElement.lang = 'de';
      const de = await fixture<ConsentSignup>(html`<consent-signup site="acme" .form=${signupForm({ lang: 'de' })}></consent-signup>`);
      expect(part(de, 'submit')!.textContent).to.equal('Anmelden');
      const da = await mount(signupForm({ lang: 'da' }), { lang: 'da' });
      expect(part(da, 'submit')!.textContent).to.equal('Tilmeld');
      expect(labelOf(da, input(da, 'name'))).to.equal('Navn (valgfrit)');
      for (const lang of ['nb', 'nn', 'sv']) {
        const el = await mount(signupForm({ lang }), { lang });
        expect(part(el, 'submit')!.textContent, lang).not.to.equal('Sign up');
      }
    });
  });

  describe('validation', () => {
    it('names every problem next to its field, announces a summary and focuses the first field in error', async () => {
      const el = await mount();
      await submit(el);
      expect(el.state).to.equal('form');
      expect(input(el, 'email').getAttribute('aria-invalid')).to.equal('true');
      expect(describedBy(el, input(el, 'email'))).to.deep.equal(['Enter your e-mail address.']);
      expect(describedBy(el, checkbox(el, 'e-marketing'))).to.include('Tick at least one box.');
      const alert = part(el, 'message')!;
      expect(alert.getAttribute('role')).to.equal('alert');
      expect(alert.textContent).to.equal('Please correct the marked fields.');
      expect(focusedId(el)).to.equal('email');
      await expect(el).to.be.accessible();
      expect(await sunkRequests()).to.deep.equal([]);

      type(el, 'email', 'not-an-address');
      await submit(el);
      expect(describedBy(el, input(el, 'email'))).to.deep.equal(['Enter a valid e-mail address, like name@example.com.']);
      type(el, 'email', 'ada@example.com');
      await el.updateComplete;
      expect(input(el, 'email').getAttribute('aria-invalid'), 'fixed while typing').to.equal('false');
      await tick(el, 'e-marketing');
      expect(part(el, 'error')).to.equal(null);
    });
  });

  describe('sending', () => {
    it('posts what was shown: each ticked wording with the SHA-256 of the displayed text', async () => {
      const form = signupForm({
        fields: { email: 'required', phone: 'optional' },
        purposes: [
          purpose({ key: 'e-marketing', version: 3, title: 'News', body: 'Yes please.' }),
          purpose({ key: 'sms-offers', channel: 'sms', version: 2, lang: 'en', title: 'SMS', body: 'Offers by SMS.' }),
        ],
      });
      const el = await mount(form);
      type(el, 'email', ' ada@example.com ');
      type(el, 'name', 'Ada');
      await tick(el, 'e-marketing');
      await submit(el);
      const [req] = await waitForSunk(1);
      expect(req!.path).to.equal('/sink/v1/sites/acme/signups');
      expect(req!.method).to.equal('POST');
      expect(req!.headers['content-type']).to.equal('application/json');
      const body = JSON.parse(req!.body) as SignupBody;
      expect(body).to.deep.equal({
        lang: 'en',
        page: location.origin + location.pathname,
        purposes: [{ purpose: 'e-marketing', wordingVersion: 3, lang: 'en', sha256: await wordingSha256('en', 'News', 'Yes please.') }],
        email: 'ada@example.com',
        name: 'Ada',
        source: 'footer',
      });
      expect(body.purposes[0]!.sha256, 'not the hash the server sent').not.to.equal('f'.repeat(64));
    });

    it('sends the honeypot only when something filled it; it is hidden from people', async () => {
      const el = await mount();
      const trap = input(el, 'website');
      expect(trap.tabIndex).to.equal(-1);
      expect(trap.autocomplete).to.equal('off');
      expect(trap.closest('[aria-hidden=true]')).not.to.equal(null);
      expect(trap.closest<HTMLElement>('.hp')!.getBoundingClientRect().width).to.be.at.most(1);
      trap.value = 'http://spam.example';
      type(el, 'email', 'bot@example.com');
      await tick(el, 'e-marketing');
      await submit(el);
      const [req] = await waitForSunk(1);
      expect(JSON.parse(req!.body).website).to.equal('http://spam.example');
    });

    it('thanks the person, asks them to check their inbox, and fires consent-signup without the address', async () => {
      const stub = stubFetch(() => json(202, { status: 'accepted', confirmationSent: true }));
      try {
        const el = await mount();
        const events: ConsentSignupEvent[] = [];
        document.addEventListener('consent-signup', (e) => events.push(e), { once: true });
        type(el, 'email', 'ada@example.com');
        await tick(el, 'e-marketing');
        await submit(el);
        await settle(el, 'done');
        expect(part(el, 'success')!.textContent).to.contain('Thank you for signing up!');
        expect(part(el, 'success')!.textContent).to.contain('Check your inbox');
        expect(part(el, 'success')!.getAttribute('role')).to.equal('status');
        expect(focusedId(el)).to.equal('success');
        expect(events).to.have.length(1);
        expect(events[0]).to.be.instanceOf(ConsentSignupEvent);
        expect(events[0]!.composed).to.equal(true);
        expect(events[0]!.detail).to.deep.equal({ purposes: ['e-marketing'], confirmationSent: true });
        expect(JSON.stringify(events[0]!.detail)).not.to.contain('ada');
        await expect(el).to.be.accessible();
      } finally {
        stub.restore();
      }
    });

    it('says "Sending…" while the request is in flight', async () => {
      const stub = stubFetch(() => null);
      try {
        const el = await mount();
        type(el, 'email', 'ada@example.com');
        await tick(el, 'e-marketing');
        await submit(el);
        await settle(el, 'sending');
        expect(part<HTMLButtonElement>(el, 'submit')!.textContent).to.equal('Sending…');
        expect(part<HTMLButtonElement>(el, 'submit')!.disabled).to.equal(true);
        expect(part(el, 'form')!.getAttribute('aria-busy')).to.equal('true');
        await expect(el).to.be.accessible();
      } finally {
        stub.restore();
      }
    });

    for (const [status, answer, message] of [
      [429, () => apiError(429, 'rate_limited'), 'Too many attempts. Please try again later.'],
      [409, () => apiError(409, 'wording_mismatch'), 'The text has changed since the page was loaded.'],
      [500, () => apiError(500, 'internal'), 'Something went wrong. Please try again.'],
    ] as const) {
      it(`keeps the form and announces ${status}`, async () => {
        const stub = stubFetch(answer);
        try {
          const el = await mount();
          type(el, 'email', 'ada@example.com');
          await tick(el, 'e-marketing');
          await submit(el);
          await until(() => !!part(el, 'message')?.textContent, 3000, 'the message');
          await el.updateComplete;
          expect(el.state).to.equal('form');
          expect(part(el, 'message')!.textContent).to.contain(message);
          expect(input(el, 'email').value, 'what was typed stays').to.equal('ada@example.com');
          await expect(el).to.be.accessible();
        } finally {
          stub.restore();
        }
      });
    }

    it("ties a 400's field details to the fields", async () => {
      const stub = stubFetch(() => apiError(400, 'invalid_phone', [{ field: 'phone', message: 'not a valid phone number' }]));
      try {
        const el = await mount(signupForm({ fields: { email: 'optional', phone: 'required' }, purposes: [purpose({ key: 'sms', channel: 'sms' })] }));
        type(el, 'phone', '+45 00 00');
        await tick(el, 'sms');
        await submit(el);
        await until(() => input(el, 'phone').getAttribute('aria-invalid') == 'true', 3000, 'the phone error');
        await el.updateComplete;
        expect(describedBy(el, input(el, 'phone'))[0]).to.contain('Enter a valid mobile number');
        expect(focusedId(el)).to.equal('phone');
        await expect(el).to.be.accessible();
      } finally {
        stub.restore();
      }
    });
  });

  describe('loading', () => {
    it('asks for the purposes in the page language, says it is loading, and offers a retry when it fails', async () => {
      let fail = true;
      const stub = stubFetch((call) => (call.url.includes('never') ? null : fail ? apiError(503, 'unavailable') : json(200, signupForm())));
      try {
        const loading = await fixture<ConsentSignup>(html`<consent-signup site="never" purposes="a b"></consent-signup>`);
        expect(part(loading, 'status')!.textContent).to.equal('Loading…');
        await expect(loading).to.be.accessible();

        const el = await fixture<ConsentSignup>(
          html`<consent-signup site="acme" purposes="e-marketing, sms-offers" api="https://consent.example" lang="da"></consent-signup>`,
        );
        await settle(el, 'failed');
        expect(stub.calls.at(-1)!.url).to.equal('https://consent.example/v1/sites/acme/signup-form?purposes=e-marketing%2Csms-offers&lang=da');
        expect(part(el, 'message')!.textContent).to.equal('Formularen kunne ikke indlæses. Prøv igen senere.');
        expect(warnings.messages[0]).to.match(/^samtykke: signup form unavailable/);
        await expect(el).to.be.accessible();
        fail = false;
        part<HTMLButtonElement>(el, 'retry')!.click();
        await settle(el, 'form');
        expect(input(el, 'email')).not.to.equal(null);
      } finally {
        stub.restore();
      }
    });
  });

  describe('in a page', () => {
    it("never submits the page's own <form> (Enter in a field, or its button)", async () => {
      const outer = await fixture<HTMLFormElement>(
        html`<form action="/should-not-be-sent"><input name="other"><consent-signup site="acme" api=${SINK} .form=${signupForm()}></consent-signup></form>`,
      );
      let submitted = 0;
      outer.addEventListener('submit', (e) => {
        submitted++;
        e.preventDefault();
      });
      const el = outer.querySelector('consent-signup')!;
      await el.updateComplete;
      input(el, 'email').focus();
      await sendKeys({ type: 'ada@example.com' });
      await sendKeys({ press: 'Enter' });
      await el.updateComplete;
      expect(part(el, 'error'), 'the signup validated itself').not.to.equal(null);
      await tick(el, 'e-marketing');
      await submit(el);
      await waitForSunk(1);
      expect(submitted).to.equal(0);
      expect([...new FormData(outer).keys()], 'no address in the page form').to.deep.equal(['other']);
    });

    it('can be used with the keyboard alone', async () => {
      const el = await mount();
      const before = document.createElement('button');
      before.textContent = 'before';
      el.before(before);
      before.focus();
      await sendKeys({ press: 'Tab' });
      expect(focusedId(el)).to.equal('email');
      await sendKeys({ type: 'ada@example.com' });
      await sendKeys({ press: 'Tab' });
      expect(focusedId(el)).to.equal('name');
      await sendKeys({ press: 'Tab' });
      expect(focusedId(el)).to.equal('p-e-marketing');
      await sendKeys({ press: 'Space' });
      expect(checkbox(el, 'e-marketing').checked).to.equal(true);
      await sendKeys({ press: 'Tab' });
      await sendKeys({ press: 'Tab' }); // the link in the wording
      await sendKeys({ press: 'Tab' }); // the privacy policy
      expect(focusedId(el)).to.equal('button submit');
      await sendKeys({ press: 'Enter' });
      const [req] = await waitForSunk(1);
      expect(JSON.parse(req!.body).email).to.equal('ada@example.com');
      before.remove();
    });
  });
});

describe('<consent-signup> with the real server', () => {
  const API = location.origin;
  let site: string;
  before(async () => {
    site = uniqueSite('signup');
    await createSite({ id: site, name: 'Signup Co', doubleOptIn: true });
    expect((await adminCall(site, 'POST', `/v1/sites/${site}/sources`, { key: 'footer', label: 'Footer form' })).status).to.equal(201);
  });

  it('records the signup with the wording shown; the ledger names it', async () => {
    const el = await fixture<ConsentSignup>(html`<consent-signup site=${site} purposes="e-marketing" api=${API} lang="en" source="footer"></consent-signup>`);
    await settle(el, 'form');
    expect(labelOf(el, checkbox(el, 'e-marketing'))).to.equal('News and offers by e-mail');
    await expect(el).to.be.accessible();
    const email = `ada-${Math.random().toString(36).slice(2, 8)}@example.com`;
    type(el, 'email', email);
    await tick(el, 'e-marketing');
    await submit(el);
    await until(() => el.state == 'done' || !!part(el, 'message')?.textContent, 5000, 'an answer');
    expect(part(el, 'message')?.textContent ?? '', 'no error').to.equal('');
    await settle(el, 'done');
    expect(part(el, 'success')!.textContent).to.contain('Check your inbox');
    const subject = await adminCall(site, 'GET', `/v1/sites/${site}/subjects?email=${encodeURIComponent(email)}`);
    expect(subject.status).to.equal(200);
    const rows = (subject.body.history as { action: string; purpose: string; source: string; wording: { version: number } | null }[]).filter(
      (h) => h.purpose == 'e-marketing',
    );
    expect(rows.length).to.be.greaterThan(0);
    expect(rows[0]!.wording?.version).to.equal(1);
    expect(rows[0]!.source).to.equal('footer');
  });

  it('is refused (409) when the displayed text is not the published one', async () => {
    const el = await fixture<ConsentSignup>(html`<consent-signup site=${site} purposes="e-marketing" api=${API} lang="en"></consent-signup>`);
    await settle(el, 'form');
    // The same version, but a text the server never published.
    el.form = { ...el.form!, purposes: el.form!.purposes.map((p) => ({ ...p, body: `${p.body} (edited)` })) };
    await el.updateComplete;
    type(el, 'email', 'mallory@example.com');
    await tick(el, 'e-marketing');
    await submit(el);
    await until(() => !!part(el, 'message')?.textContent, 5000, 'the message');
    await el.updateComplete;
    expect(part(el, 'message')!.textContent).to.contain('The text has changed');
    // The published text is shown again, unticked.
    expect(part(el, 'purpose-body')!.textContent).not.to.contain('(edited)');
    expect(checkbox(el, 'e-marketing').checked).to.equal(false);
  });

  it('shows 400 for an unknown purpose as a load failure', async () => {
    const el = await fixture<ConsentSignup>(html`<consent-signup site=${site} purposes="no-such-purpose" api=${API}></consent-signup>`);
    await settle(el, 'failed');
    expect(parts(el, 'retry')).to.have.length(1);
  });
});
