/**
 * <consent-preferences>: its UI with views given as properties (a stubbed fetch answers), then
 * with a real link token against the real server.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { PreferencesView } from '../../shared/subscriptions';
import { wordingSha256 } from '../../widget/lib/api';
import { ConsentPreferencesEvent } from '../../widget/lib/form-events';
import { ConsentPreferences } from '../../widget/preferences/consent-preferences';
import { adminCall, captureWarnings, createSite, uniqueSite, until } from './helpers';
import { $, apiError, json, linkToken, part, parts, preferencesView, prefPurpose, purpose, stubFetch, type StubbedCall } from './forms-helpers';

const API = 'https://consent.example';

/** `view` null: the element fetches one. */
async function mount(view: PreferencesView | null = preferencesView(), token = 'test-token') {
  const el = await fixture<ConsentPreferences>(
    html`<consent-preferences site="acme" api=${API} lang="en" .token=${token || undefined} .view=${view ?? undefined}></consent-preferences>`,
  );
  await el.updateComplete;
  return el;
}

const toggle = (el: ConsentPreferences, key: string) => $<HTMLInputElement>(el, `#t-${key}`)!;
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const focused = (el: ConsentPreferences) => el.shadowRoot!.activeElement as HTMLElement | null;
const settle = async (el: ConsentPreferences, check: () => boolean, what: string) => {
  await until(check, 5000, what);
  await el.updateComplete;
};
const collect = () => {
  const events: ConsentPreferencesEvent[] = [];
  const listener = (e: ConsentPreferencesEvent) => events.push(e);
  document.addEventListener('consent-preferences', listener);
  return { events, stop: () => document.removeEventListener('consent-preferences', listener) };
};

describe('<consent-preferences>', () => {
  let warnings: ReturnType<typeof captureWarnings>;
  let stub: ReturnType<typeof stubFetch>;
  /** What the stubbed server answers next (default: the view). */
  let answer: (call: StubbedCall) => Response | null;
  beforeEach(() => {
    document.documentElement.lang = 'en';
    warnings = captureWarnings();
    answer = () => json(200, preferencesView());
    stub = stubFetch((call) => answer(call));
  });
  afterEach(() => {
    stub.restore();
    warnings.restore();
  });

  describe('the view', () => {
    it('groups purposes by channel, with state, agreed wording, date and source; axe-clean', async () => {
      const el = await mount();
      expect(parts(el, 'group').map((g) => text(g.querySelector('h3')))).to.deep.equal(['E-mail', 'SMS', 'Other']);
      const marketing = toggle(el, 'e-marketing');
      expect(marketing.checked).to.equal(true);
      expect(marketing.getAttribute('role')).to.equal('switch');
      expect(text($(el, 'label[for="t-e-marketing"]'))).to.equal('Title of e-marketing');
      expect(text($(el, '#t-e-marketing-state'))).to.match(/^On · Since .*2025.* \(via signup-form\)$/);
      expect(text(part(el, 'agreed'))).to.contain('What you agreed to (v1)');
      expect(text(part(el, 'agreed'))).to.contain('Yes, send me news.');
      const other = toggle(el, 'sales-and-service');
      expect(other.checked, 'not objected').to.equal(true);
      expect(text($(el, '#t-sales-and-service-body'))).to.contain('Legal basis: contract');
      expect(text(part(el, 'person'))).to.contain('ada@example.com');
      await expect(el).to.be.accessible();
    });

    it('shows why a blocked purpose cannot be switched on, with a disabled switch', async () => {
      const el = await mount();
      expect(toggle(el, 'sms-offers').disabled).to.equal(true);
      expect(text(part(el, 'blocked'))).to.equal('You stopped SMS by replying STOP. Reply START to receive them again.');
      expect(toggle(el, 'sms-offers').getAttribute('aria-describedby')).to.contain('t-sms-offers-body');
    });

    it('renders wording as text (markup stays characters)', async () => {
      const body = '<img src=x onerror="window.pwned=true"> see https://acme.example/x';
      const el = await mount(
        preferencesView({
          purposes: [prefPurpose({ key: 'e-marketing', current: purpose({ key: 'e-marketing', body }), agreed: { version: 1, lang: 'en', title: '<b>t</b>', body } })],
        }),
      );
      expect(el.shadowRoot!.querySelector('img, b')).to.equal(null);
      expect(text($(el, '#t-e-marketing-body'))).to.contain('<img src=x onerror="window.pwned=true">');
      expect($<HTMLAnchorElement>(el, '#t-e-marketing-body a')!.href).to.equal('https://acme.example/x');
    });

    it('speaks the person\'s language', async () => {
      const el = await mount(preferencesView({ lang: 'sv' }));
      expect(text(part(el, 'title'))).to.equal('Dina inställningar');
      const de = await mount(preferencesView({ lang: 'de' }));
      expect(text($(de, '[part~=erase]'))).to.equal('Meine Daten löschen');
    });
  });

  describe('changes', () => {
    it('grants with the current wording version and the SHA-256 of the displayed text; fires the event', async () => {
      const view = preferencesView({
        purposes: [prefPurpose({ key: 'e-marketing', status: 'withdrawn', current: purpose({ key: 'e-marketing', version: 4, title: 'News', body: 'Send news.' }) })],
      });
      const after = preferencesView({ purposes: [{ ...view.purposes[0]!, status: 'granted' }] });
      answer = () => json(200, after);
      const el = await mount(view);
      const seen = collect();
      toggle(el, 'e-marketing').click();
      await settle(el, () => text(part(el, 'status')) == 'Saved.', 'Saved.');
      seen.stop();
      const [call] = stub.calls;
      expect(call!.method).to.equal('PUT');
      expect(call!.url).to.equal(`${API}/v1/sites/acme/me/consents/e-marketing`);
      expect(call!.headers.get('authorization')).to.equal('Bearer test-token');
      expect(JSON.parse(call!.body)).to.deep.equal({ granted: true, wordingVersion: 4, lang: 'en', sha256: await wordingSha256('en', 'News', 'Send news.') });
      expect(toggle(el, 'e-marketing').checked).to.equal(true);
      expect(part(el, 'status')!.getAttribute('role')).to.equal('status');
      expect(seen.events.map((e) => e.detail)).to.deep.equal([{ action: 'grant', purpose: 'e-marketing' }]);
    });

    it('withdraws, or objects to a purpose not based on consent', async () => {
      const el = await mount();
      toggle(el, 'e-marketing').click();
      await settle(el, () => stub.calls.length == 1, 'the request');
      expect(JSON.parse(stub.calls[0]!.body)).to.deep.equal({ granted: false });
      await settle(el, () => text(part(el, 'status')) == 'Saved.', 'Saved.');
      const seen = collect();
      toggle(el, 'sales-and-service').click();
      await settle(el, () => stub.calls.length == 2, 'the second request');
      await settle(el, () => seen.events.length == 1, 'the event');
      seen.stop();
      expect(JSON.parse(stub.calls[1]!.body)).to.deep.equal({ granted: false });
      expect(seen.events[0]!.detail).to.deep.equal({ action: 'object', purpose: 'sales-and-service' });
    });

    it('puts the switch back and announces the failure when the server refuses', async () => {
      answer = () => apiError(500, 'internal');
      const el = await mount();
      toggle(el, 'e-marketing').click();
      await settle(el, () => !!text(part(el, 'message')), 'the message');
      expect(text(part(el, 'message'))).to.equal('Something went wrong. Please try again.');
      expect(part(el, 'message')!.getAttribute('role')).to.equal('alert');
      expect(toggle(el, 'e-marketing').checked).to.equal(true);
      await expect(el).to.be.accessible();
    });

    it('one change at a time: a switch flipped meanwhile goes back at once, and nothing is sent for it', async () => {
      answer = () => null; // the first change never finishes
      const el = await mount();
      toggle(el, 'e-marketing').click();
      await settle(el, () => stub.calls.length == 1, 'the first request');
      const other = toggle(el, 'sales-and-service');
      expect(other.checked).to.equal(true);
      other.click();
      await el.updateComplete;
      expect(toggle(el, 'sales-and-service').checked).to.equal(true, 'back to what is recorded');
      expect(stub.calls.length).to.equal(1);
    });

    it('a link that stops working during a change leads to the link form, with focus in it', async () => {
      const el = await mount();
      answer = () => apiError(401, 'token_expired');
      toggle(el, 'e-marketing').click();
      await settle(el, () => el.state == 'link', 'the link form');
      await settle(el, () => focused(el)?.id == 'link-email', 'focus in the link form');
      await expect(el).to.be.accessible();
    });

    it('unsubscribes per channel and from everything', async () => {
      answer = () => json(200, preferencesView({ unsubscribed: { email: true, sms: false } }));
      const el = await mount();
      const [email, sms, all] = parts<HTMLButtonElement>(el, 'unsubscribe');
      expect([email, sms, all].map(text)).to.deep.equal(['Unsubscribe from all e-mails', 'Unsubscribe from all SMS', 'Unsubscribe from everything']);
      email!.click();
      await settle(el, () => text(part(el, 'status')) == 'Saved.', 'Saved.');
      expect(stub.calls[0]!.url).to.equal(`${API}/v1/sites/acme/me/unsubscribe`);
      expect(JSON.parse(stub.calls[0]!.body)).to.deep.equal({ channel: 'email' });
      expect(text(part(el, 'email'))).to.contain('You are unsubscribed from all marketing e-mails.');
      parts<HTMLButtonElement>(el, 'unsubscribe')[2]!.click();
      await settle(el, () => stub.calls.length == 2, 'the request');
      expect(JSON.parse(stub.calls[1]!.body)).to.deep.equal({ channel: 'all' });
    });
  });

  describe('rights', () => {
    it('downloads the export through fetch with the token: a link to the file', async () => {
      const data = JSON.stringify({ history: [{ action: 'grant' }] });
      answer = () => new Response(data, { headers: { 'content-type': 'application/json', 'content-disposition': 'attachment; filename="samtykke-acme-2025-01-01.json"' } });
      const el = await mount();
      const seen = collect();
      parts<HTMLButtonElement>(el, 'download')[0]!.click();
      await settle(el, () => seen.events.length == 1, 'the event');
      seen.stop();
      expect(stub.calls[0]!.url).to.equal(`${API}/v1/sites/acme/me/export?format=json`);
      expect(stub.calls[0]!.headers.get('authorization')).to.equal('Bearer test-token');
      const link = $<HTMLAnchorElement>(el, 'a[download]')!;
      expect(link.download).to.equal('samtykke-acme-2025-01-01.json');
      expect(link.href).to.match(/^blob:/);
      expect(await (await stub.real.call(window, link.href)).text()).to.equal(data);
      expect(seen.events.map((e) => e.detail)).to.deep.equal([{ action: 'export', format: 'json' }]);
      parts<HTMLButtonElement>(el, 'download')[1]!.click();
      await settle(el, () => stub.calls.some((c) => c.url.endsWith('format=csv')), 'the CSV request');
    });

    it('corrects the name at once; a new e-mail waits for confirmation', async () => {
      const el = await mount();
      const name = $<HTMLInputElement>(el, '#correct-name')!;
      const email = $<HTMLInputElement>(el, '#correct-email')!;
      expect(name.value).to.equal('Ada');
      expect(text($(el, 'label[for=correct-name]'))).to.equal('Name');
      name.value = 'Ada Lovelace';
      answer = () => json(200, preferencesView({ person: { ...preferencesView().person, name: 'Ada Lovelace' } }));
      part<HTMLButtonElement>(el, 'save')!.click();
      await settle(el, () => text(part(el, 'status')) == 'Saved.', 'Saved.');
      expect(stub.calls[0]!.method).to.equal('PATCH');
      expect(JSON.parse(stub.calls[0]!.body)).to.deep.equal({ name: 'Ada Lovelace' });

      email.value = 'nope';
      part<HTMLButtonElement>(el, 'save')!.click();
      await el.updateComplete;
      expect(email.getAttribute('aria-invalid')).to.equal('true');
      expect(text($(el, '#correct-email-error'))).to.contain('Enter a valid e-mail address');
      expect(focused(el)?.id).to.equal('correct-email');
      await expect(el).to.be.accessible();

      email.value = 'ada@new.example';
      const seen = collect();
      answer = () => json(200, preferencesView({ person: { ...preferencesView().person, name: 'Ada Lovelace', pendingEmailChange: true } }));
      part<HTMLButtonElement>(el, 'save')!.click();
      await settle(el, () => text(part(el, 'status')).startsWith('We sent a confirmation link to the new address'), 'the note');
      seen.stop();
      expect(JSON.parse(stub.calls[1]!.body)).to.deep.equal({ email: 'ada@new.example' });
      expect(seen.events[0]!.detail).to.deep.equal({ action: 'correct', fields: ['email'] });
    });

    it('restricts processing with an explained switch', async () => {
      answer = () => json(200, preferencesView({ person: { ...preferencesView().person, restricted: true } }));
      const el = await mount();
      const sw = $<HTMLInputElement>(el, '#restrict')!;
      expect(text($(el, '#restrict-info'))).to.contain('we keep your data but do not use it');
      sw.click();
      await settle(el, () => text(part(el, 'status')) == 'Saved.', 'Saved.');
      expect(stub.calls[0]!.url).to.equal(`${API}/v1/sites/acme/me/restrict`);
      expect(JSON.parse(stub.calls[0]!.body)).to.deep.equal({ restricted: true });
      expect(sw.checked).to.equal(true);
    });

    it('asks before erasing, keyboard first: Escape steps back, confirming erases and forgets everything', async () => {
      const el = await mount();
      const seen = collect();
      part<HTMLButtonElement>(el, 'erase')!.focus();
      await sendKeys({ press: 'Enter' });
      await el.updateComplete;
      expect(focused(el)?.id).to.equal('erase-question');
      expect(text(part(el, 'confirm-erase'))).to.contain('Are you sure? Erasing cannot be undone.');
      expect(part(el, 'confirm-erase')!.getAttribute('role')).to.equal('group');
      await expect(el).to.be.accessible();
      await sendKeys({ press: 'Escape' });
      await el.updateComplete;
      expect(part(el, 'confirm-erase')).to.equal(null);
      expect(focused(el)?.getAttribute('part')).to.equal('button erase');
      expect(stub.calls).to.have.length(0);

      await sendKeys({ press: 'Enter' });
      await el.updateComplete;
      await sendKeys({ press: 'Tab' });
      expect(focused(el)?.getAttribute('part')).to.equal('button confirm');
      answer = () => json(200, { erased: true });
      await sendKeys({ press: 'Enter' });
      await settle(el, () => el.state == 'erased', 'erased');
      seen.stop();
      expect(stub.calls[0]!.url).to.equal(`${API}/v1/sites/acme/me/erase`);
      expect(JSON.parse(stub.calls[0]!.body)).to.deep.equal({ confirm: true });
      expect(text(part(el, 'done'))).to.equal('Your data has been erased. A receipt was sent to you.');
      expect(focused(el)?.getAttribute('part')).to.equal('status done');
      expect(el.token).to.equal(undefined);
      expect(el.view).to.equal(undefined);
      expect(el.shadowRoot!.textContent).not.to.contain('ada@example.com');
      expect(seen.events.map((e) => e.detail)).to.deep.equal([{ action: 'erase' }]);
      await expect(el).to.be.accessible();
    });
  });

  describe('the link', () => {
    it('takes the token from #token=, removes it from the address bar and keeps it in memory only', async () => {
      const before = location.href;
      history.replaceState(null, '', `${location.pathname}${location.search}#token=from-the-mail&x=1`);
      try {
        const el = await fixture<ConsentPreferences>(html`<consent-preferences site="acme" api=${API}></consent-preferences>`);
        await settle(el, () => el.state == 'view', 'the view');
        expect(location.hash).to.equal('#x=1');
        expect(stub.calls[0]!.url).to.equal(`${API}/v1/sites/acme/me`);
        expect(stub.calls[0]!.headers.get('authorization')).to.equal('Bearer from-the-mail');
        expect(document.cookie).not.to.contain('from-the-mail');
        expect(JSON.stringify({ ...localStorage, ...sessionStorage })).not.to.contain('from-the-mail');
      } finally {
        history.replaceState(null, '', before);
      }
    });

    it('also takes ?token=', async () => {
      const before = location.href;
      history.replaceState(null, '', `${location.pathname}?token=from-the-query`);
      try {
        const el = await fixture<ConsentPreferences>(html`<consent-preferences site="acme" api=${API}></consent-preferences>`);
        await settle(el, () => el.state == 'view', 'the view');
        expect(location.search).to.equal('');
        expect(stub.calls[0]!.headers.get('authorization')).to.equal('Bearer from-the-query');
      } finally {
        history.replaceState(null, '', before);
      }
    });

    it('shows "loading" while the view is on its way', async () => {
      answer = () => null;
      const el = await mount(null);
      expect(el.state).to.equal('loading');
      expect(text(part(el, 'status'))).to.equal('Loading…');
      await expect(el).to.be.accessible();
    });

    it('offers a magic link without a token; it always says a link may be on its way', async () => {
      answer = () => json(202, { status: 'accepted' });
      const el = await mount(null, '');
      expect(el.state).to.equal('link');
      const form = part(el, 'link-form')!;
      expect(text(form)).to.contain('Enter your e-mail address and we will send you a link');
      await expect(el).to.be.accessible();
      part<HTMLButtonElement>(el, 'send')!.click();
      await el.updateComplete;
      const input = $<HTMLInputElement>(el, '#link-email')!;
      expect(input.getAttribute('aria-invalid')).to.equal('true');
      expect(text($(el, '#link-email-error'))).to.equal('Enter your e-mail address.');
      expect(focused(el)?.id).to.equal('link-email');
      await expect(el).to.be.accessible();
      input.focus();
      await sendKeys({ type: 'ada@example.com' });
      await sendKeys({ press: 'Enter' });
      await settle(el, () => !!text(part(el, 'status')), 'the note');
      expect(text(part(el, 'status'))).to.equal('If this address is registered, a link is on its way. It works for one hour.');
      expect(stub.calls[0]!.url).to.equal(`${API}/v1/sites/acme/preference-links`);
      expect(JSON.parse(stub.calls[0]!.body)).to.deep.equal({ email: 'ada@example.com', lang: 'en' });
      await expect(el).to.be.accessible();
    });

    it('an invalid or expired token (401) leads to the magic-link form with a message', async () => {
      answer = () => apiError(401, 'token_expired');
      const el = await mount(null, 'old');
      await settle(el, () => el.state == 'link', 'the link form');
      expect(text(part(el, 'link-form'))).to.contain('This link has expired or is not valid.');
      expect(el.token).to.equal(undefined);
      await expect(el).to.be.accessible();
    });

    it('an erased person (410) gets a message', async () => {
      answer = () => apiError(410, 'erased');
      const el = await mount(null, 'gone');
      await settle(el, () => el.state == 'gone', 'gone');
      expect(text(part(el, 'status'))).to.equal('Your data has been erased. There is nothing more to show.');
    });
  });
});

describe('<consent-preferences> with the real server', () => {
  const API = location.origin;
  let site: string;
  let email: string;
  let token: string;
  before(async () => {
    site = uniqueSite('prefs');
    await createSite({ id: site, name: 'Prefs Co' });
    email = `grace-${Math.random().toString(36).slice(2, 8)}@example.com`;
    ({ token } = await linkToken(site, email));
  });

  const mountReal = async (t = token) => {
    const el = await fixture<ConsentPreferences>(html`<consent-preferences site=${site} api=${API} .token=${t}></consent-preferences>`);
    await settle(el, () => el.state != 'loading', 'the view');
    return el;
  };
  const status = async (purpose: string) => {
    const res = await adminCall(site, 'GET', `/v1/sites/${site}/subjects?email=${encodeURIComponent(email)}`);
    return (res.body.consents as { purpose: string; status: string }[]).find((c) => c.purpose == purpose)?.status;
  };

  it('grants and withdraws: the server state follows the switch', async () => {
    const el = await mountReal();
    expect(el.state).to.equal('view');
    await expect(el).to.be.accessible();
    toggle(el, 'e-marketing').click();
    await settle(el, () => el.view!.purposes.find((p) => p.key == 'e-marketing')!.status == 'granted', 'granted');
    expect(await status('e-marketing')).to.equal('granted');
    toggle(el, 'e-marketing').click();
    await settle(el, () => el.view!.purposes.find((p) => p.key == 'e-marketing')!.status == 'withdrawn', 'withdrawn');
    expect(await status('e-marketing')).to.equal('withdrawn');
    expect(toggle(el, 'e-marketing').checked).to.equal(false);
    expect(text(part(el, 'message'))).to.equal('');
  });

  it("exports the person's history as JSON", async () => {
    const el = await mountReal();
    parts<HTMLButtonElement>(el, 'download')[0]!.click();
    await settle(el, () => !!$(el, 'a[download]'), 'the link');
    const link = $<HTMLAnchorElement>(el, 'a[download]')!;
    expect(link.download).to.match(new RegExp(`^samtykke-${site}-\\d{4}-\\d\\d-\\d\\d\\.json$`));
    const data = await (await fetch(link.href)).json();
    const serialized = JSON.stringify(data);
    expect(serialized).to.contain(email);
    expect(serialized).to.contain('e-marketing');
    expect(serialized).to.contain('withdraw');
  });

  it('an expired or foreign token shows the magic-link form', async () => {
    const expired = await linkToken(site, email, { kind: 'prefs' }, -60);
    const el = await mountReal(expired.token);
    expect(el.state).to.equal('link');
    const forged = await mountReal(`${token.slice(0, -4)}AAAA`);
    expect(forged.state).to.equal('link');
    // Asking for a link is always 202.
    const input = $<HTMLInputElement>(forged, '#link-email')!;
    input.value = 'nobody@example.com';
    part<HTMLButtonElement>(forged, 'send')!.click();
    await settle(forged, () => !!text(part(forged, 'status')) || !!text(part(forged, 'message')), 'the answer');
    expect(text(part(forged, 'status'))).to.contain('If this address is registered');
  });

  it('erases after confirmation; the link then reports the erasure', async () => {
    const el = await mountReal();
    part<HTMLButtonElement>(el, 'erase')!.click();
    await el.updateComplete;
    part<HTMLButtonElement>(el, 'confirm')!.click();
    await settle(el, () => el.state == 'erased' || !!text(part(el, 'message')), 'the answer');
    expect(el.state).to.equal('erased');
    const res = await adminCall(site, 'GET', `/v1/sites/${site}/subjects?email=${encodeURIComponent(email)}`);
    expect(res.status, 'nobody is found by the address any more').to.equal(404);
    const again = await mountReal();
    expect(again.state).to.equal('gone');
  });
});
