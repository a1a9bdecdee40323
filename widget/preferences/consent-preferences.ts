import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import type { ExportFormat, PreferencePurpose, PreferencesView } from '../../shared/subscriptions';
import { currentScriptUrl, resolveApiBase } from '../lib/api-base';
import { ConsentPreferencesEvent, type ConsentPreferencesDetail } from '../lib/form-events';
import { ApiError, askForLink, preferencesClient, shownWording, type PreferencesClient } from '../lib/forms-api';
import { fill, formStrings, type FormStrings } from '../lib/forms-i18n';
import { pageLanguage } from '../lib/i18n';
import { wordingText } from '../lib/wording';
import styles from './consent-preferences.styles';

type Message = Exclude<keyof FormStrings, 'bases'>;
type Channel = 'email' | 'sms' | 'other';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BLOCKED = { 'sms-stopped': 'blockedSms', listed: 'blockedListed', bounced: 'blockedBounced', complained: 'blockedComplained' } as const;

/**
 * The token from the address (`#token=…`, else `?token=…`), removed from the address bar so it
 * is neither bookmarked, shared nor sent on as a referrer. Undefined when there is none.
 */
function takeTokenFromUrl(): string | undefined {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.slice(1));
  const token = hash.get('token') ?? url.searchParams.get('token') ?? undefined;
  if (token) {
    hash.delete('token');
    url.searchParams.delete('token');
    url.hash = hash.toString();
    history.replaceState(history.state, '', url.href.replace(/#$/, ''));
  }
  return token;
}

/**
 * @summary The preference page of one person, opened with the link token of an e-mail or a
 * magic link asked for on the page: every purpose with its state, what was agreed to, when and
 * from where; a switch per purpose, grouped by channel; unsubscribe per channel or from
 * everything; and the person's rights: download their data, correct name or e-mail, restrict
 * processing, erase.
 *
 * Attributes: `site` (required), `api` (API base URL; default: where the script came from),
 * `lang` (default `<html lang>`).
 *
 * The token is read from the URL fragment `#token=…` (or the query `?token=…`), removed from the
 * address bar with history.replaceState and kept in memory only (never in storage or cookies).
 * It can also be set as the `token` property.
 *
 * @event consent-preferences - After every change the server accepted, and after an export:
 * `detail.action` (grant, withdraw, object, unsubscribe, correct, restrict, unrestrict, export,
 * erase) with `purpose`, `channel`, `format` or `fields` where they apply. No personal data.
 *
 * @csspart title - The heading.
 * @csspart person - Whose preferences these are.
 * @csspart group - One channel's purposes (e-mail, SMS, other).
 * @csspart purpose - One purpose: switch, title, state and details.
 * @csspart switch - A purpose's switch (also the restrict switch).
 * @csspart state - A purpose's current state.
 * @csspart purpose-body - A purpose's current text and facts.
 * @csspart agreed - The disclosure with the wording the person agreed to.
 * @csspart blocked - Why a purpose cannot be switched on here.
 * @csspart rights - The rights section.
 * @csspart field - A label with its input; @csspart label, input - their pieces.
 * @csspart button - Every button (also `unsubscribe`, `download`, `save`, `erase`, `confirm`, `cancel`, `send`).
 * @csspart link - Links in wordings, the privacy policy and the downloaded file.
 * @csspart confirm-erase - The erase confirmation step (its buttons: `confirm`, `cancel`).
 * @csspart status - The polite live region ("Saved.").
 * @csspart message - Error messages (role=alert).
 * @csspart link-form - The magic-link form.
 * @csspart error - A field's error.
 *
 * @cssproperty --samtykke-accent - Buttons, switches and focus ring (default #0b57a4).
 * @cssproperty --samtykke-accent-fg - Button text (default #fff).
 * @cssproperty --samtykke-radius - Corner radius of inputs and buttons (default .5rem).
 * @cssproperty --samtykke-bg - Input background (default #fff).
 * @cssproperty --samtykke-fg - Input text colour (default #1b1b1b); set it with --samtykke-bg on dark pages.
 * @cssproperty --samtykke-error - Error text and invalid borders (default #b3261e).
 */
export class ConsentPreferences extends LitElement {
  static override styles = styles;

  static override properties = {
    site: {},
    token: { attribute: false },
    view: { attribute: false },
    state: { state: true },
  };

  /** The site id. */
  site = '';

  /** The person's link token; read from the URL when not set. Kept in memory only. */
  token?: string;

  /** What the server showed last (set as a property to render without a server). */
  view?: PreferencesView;

  /** What the element shows. */
  state: 'loading' | 'view' | 'link' | 'failed' | 'gone' | 'erased' = 'loading';

  /** The announced note ("Saved.", "a link is on its way") and the announced error. */
  #note?: Message;
  #error?: Message;
  /** The magic-link form was reached through a token that did not work. */
  #badLink = false;
  #emailError?: Message;
  #confirmingErase = false;
  #busy = false;
  #download?: { name: string; url: string };

  get #t(): FormStrings {
    return formStrings(this.view?.lang, pageLanguage(this));
  }

  get #client(): PreferencesClient {
    return preferencesClient(resolveApiBase(this, currentScriptUrl()), this.site, this.token!);
  }

  async #load(): Promise<void> {
    this.state = 'loading';
    this.#error = undefined;
    try {
      this.view = await this.#client.view();
      this.state = 'view';
    } catch (e) {
      this.#failed(e);
    }
  }

  /** Maps a failed request to what the page shows: a new link, erased, or a message. */
  #failed(e: unknown): void {
    const status = e instanceof ApiError ? e.status : 0;
    if (status == 401) {
      this.#forget();
      this.#badLink = true;
      this.state = 'link';
      // The control that had focus is gone: continue in the form that asks for a new link.
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[part~=link-form] input')?.focus());
    } else if (status == 410) {
      this.#forget();
      this.state = 'gone';
    } else {
      this.#error = status == 429 ? 'tooMany' : 'failed';
      if (this.state == 'loading') this.state = 'failed';
    }
    this.requestUpdate();
  }

  /** Drops the token and everything shown. */
  #forget(): void {
    this.token = this.view = undefined;
    this.#confirmingErase = false;
    if (this.#download) URL.revokeObjectURL(this.#download.url);
    this.#download = undefined;
  }

  /** Runs one change; the answer is the new view. Announces "Saved." and fires the event. */
  async #change(run: (c: PreferencesClient) => Promise<PreferencesView>, detail: ConsentPreferencesDetail, note: Message = 'saved') {
    // One change at a time: a switch flipped meanwhile goes back to what is recorded at once.
    if (this.#busy) return this.requestUpdate();
    this.#busy = true;
    this.#note = this.#error = undefined;
    this.requestUpdate();
    try {
      this.view = await run(this.#client);
      this.#note = note;
      this.dispatchEvent(new ConsentPreferencesEvent(detail));
    } catch (e) {
      this.#failed(e);
    } finally {
      this.#busy = false;
      this.requestUpdate();
    }
  }

  async #toggle(p: PreferencePurpose, on: boolean): Promise<void> {
    if (!p.needsConsent) {
      return this.#change((c) => c.toggle(p.key, { granted: on }), { action: on ? 'grant' : 'object', purpose: p.key });
    }
    const wording = on && p.current ? await shownWording(p.current) : {};
    return this.#change((c) => c.toggle(p.key, { granted: on, ...wording }), { action: on ? 'grant' : 'withdraw', purpose: p.key });
  }

  #unsubscribe(channel: 'email' | 'sms' | 'all') {
    return this.#change((c) => c.unsubscribe(channel), { action: 'unsubscribe', channel });
  }

  #restrict(on: boolean) {
    return this.#change((c) => c.restrict(on), { action: on ? 'restrict' : 'unrestrict' });
  }

  async #correct(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const person = this.view!.person;
    const name = (form.elements.namedItem('name') as HTMLInputElement).value.trim();
    const email = (form.elements.namedItem('email') as HTMLInputElement | null)?.value.trim() ?? '';
    this.#emailError = email && !EMAIL.test(email) ? 'emailInvalid' : undefined;
    if (this.#emailError) {
      this.requestUpdate();
      await this.updateComplete;
      return this.renderRoot.querySelector<HTMLElement>('#correct-email')?.focus();
    }
    const body: { name?: string | null; email?: string } = {};
    if (name != (person.name ?? '')) body.name = name || null;
    if (email && email != person.email) body.email = email;
    const fields = Object.keys(body) as ('name' | 'email')[];
    if (!fields.length) {
      this.#note = 'saved';
      return this.requestUpdate();
    }
    await this.#change((c) => c.correct(body), { action: 'correct', fields }, body.email ? 'emailPending' : 'saved');
  }

  async #export(format: ExportFormat): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#note = this.#error = undefined;
    try {
      const { name, blob } = await this.#client.download(format);
      if (this.#download) URL.revokeObjectURL(this.#download.url);
      this.#download = { name, url: URL.createObjectURL(blob) };
      this.requestUpdate();
      await this.updateComplete;
      // Start the download; the link stays for saving it again.
      this.renderRoot.querySelector<HTMLAnchorElement>('a[download]')?.click();
      this.dispatchEvent(new ConsentPreferencesEvent({ action: 'export', format }));
    } catch (e) {
      this.#failed(e);
    } finally {
      this.#busy = false;
      this.requestUpdate();
    }
  }

  async #askErase(on: boolean): Promise<void> {
    this.#confirmingErase = on;
    this.requestUpdate();
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(on ? '#erase-question' : '[part~=erase]')?.focus();
  }

  async #erase(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#error = undefined;
    try {
      await this.#client.erase();
      this.#forget();
      this.#note = undefined;
      this.state = 'erased';
      this.dispatchEvent(new ConsentPreferencesEvent({ action: 'erase' }));
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('[part~=done]')?.focus();
    } catch (e) {
      this.#failed(e);
    } finally {
      this.#busy = false;
      this.requestUpdate();
    }
  }

  async #askForLink(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('email') as HTMLInputElement;
    const email = input.value.trim();
    this.#note = this.#error = undefined;
    this.#emailError = !email ? 'emailMissing' : EMAIL.test(email) ? undefined : 'emailInvalid';
    if (this.#emailError) {
      this.requestUpdate();
      await this.updateComplete;
      return input.focus();
    }
    if (this.#busy) return;
    this.#busy = true;
    this.requestUpdate();
    try {
      await askForLink(resolveApiBase(this, currentScriptUrl()), this.site, email, pageLanguage(this));
      this.#note = 'linkSent';
      this.#badLink = false;
    } catch (err) {
      this.#failed(err);
    } finally {
      this.#busy = false;
      this.requestUpdate();
    }
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.token ??= takeTokenFromUrl();
    if (this.view) this.state = 'view';
    else if (!this.token) {
      if (this.state == 'loading') this.state = 'link';
    }
    else if (this.state == 'loading') void this.#load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.#download) URL.revokeObjectURL(this.#download.url);
    this.#download = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A token set later (e.g. by the page) loads that person's view.
    if (changed.has('token') && this.token && this.hasUpdated) void this.#load();
    else if (changed.has('view') && this.view && this.state != 'view' && this.state != 'erased') this.state = 'view';
  }

  // ------------------------------------------------------------------------------------------
  // Rendering

  #messages() {
    const t = this.#t;
    return html`<div class="live"><p part="status" role="status">${this.#note ? t[this.#note] : nothing}</p><p part="message" role="alert">${
      this.#error ? t[this.#error] : nothing
    }</p></div>`;
  }

  #purpose(p: PreferencePurpose, t: FormStrings, lang: string) {
    const id = `t-${p.key}`;
    const on = p.needsConsent ? p.status == 'granted' || p.status == 'pending' : p.status != 'objected';
    const title = p.current?.title ?? p.name;
    const since = p.since && new Date(p.since).toLocaleDateString(lang, { dateStyle: 'medium' } as Intl.DateTimeFormatOptions);
    return html`<div part="purpose"><div class="check"><input part="switch" type="checkbox" role="switch" id=${id}
      .checked=${live(on)} ?disabled=${!!p.blocked || (p.needsConsent && !on && !p.current)} aria-describedby="${id}-state ${id}-body"
      @change=${(e: Event) => this.#toggle(p, (e.target as HTMLInputElement).checked)}><label for=${id}>${title}</label></div>
      <p part="state" id="${id}-state" class="hint">${t[p.status]}${
        since ? html` · ${fill(t.since, since, p.source ?? '–')}` : nothing
      }</p><div part="purpose-body" id="${id}-body">${
        p.current ? html`<p>${wordingText(p.current.body)}</p>` : p.description ? html`<p>${p.description}</p>` : nothing
      }<p class="hint">${fill(t.basis, t.bases[p.legalBasis] ?? p.legalBasis)}${p.needsConsent ? nothing : html` · ${t.object}`}</p>${
        p.blocked ? html`<p part="blocked">${t[BLOCKED[p.blocked]]}</p>` : nothing
      }</div>${
        p.agreed
          ? html`<details part="agreed"><summary>${t.agreed} (v${p.agreed.version})</summary><p><strong>${p.agreed.title}</strong></p><p>${wordingText(
              p.agreed.body,
            )}</p></details>`
          : nothing
      }</div>`;
  }

  #group(channel: Channel, purposes: PreferencePurpose[], t: FormStrings, lang: string) {
    if (!purposes.length) return nothing;
    const heading = { email: t.channelEmail, sms: t.channelSms, other: t.channelOther }[channel];
    const v = this.view!;
    const marketing = channel != 'other';
    const off = marketing && v.unsubscribed[channel];
    return html`<section part="group ${channel}" aria-labelledby="h-${channel}"><h3 id="h-${channel}">${heading}</h3>${purposes.map((p) =>
      this.#purpose(p, t, lang),
    )}${off ? html`<p class="hint">${channel == 'email' ? t.offEmail : t.offSms}</p>` : nothing}${
      marketing
        ? html`<button part="button unsubscribe" type="button" class="secondary" @click=${() => this.#unsubscribe(channel)}>${
            channel == 'email' ? t.unsubEmail : t.unsubSms
          }</button>`
        : nothing
    }</section>`;
  }

  #rights(t: FormStrings) {
    const person = this.view!.person;
    const dl = this.#download;
    return html`<section part="rights" aria-labelledby="h-rights"><h3 id="h-rights">${t.rights}</h3>
      <div class="block"><h4>${t.download}</h4><div class="row"><button part="button download" type="button" class="secondary"
        @click=${() => this.#export('json')}>${t.downloadJson}</button><button part="button download" type="button" class="secondary"
        @click=${() => this.#export('csv')}>${t.downloadCsv}</button></div>${
          dl ? html`<p><a part="link" href=${dl.url} download=${dl.name}>${fill(t.saveFile, dl.name)}</a></p>` : nothing
        }</div>
      <form class="block" part="correct" novalidate @submit=${this.#correct}><h4>${t.correct}</h4><div part="field" class="field"><label part="label"
        for="correct-name">${t.name}</label><input part="input" id="correct-name" name="name" autocomplete="name" maxlength="200"
        .value=${person.name ?? ''}></div>${
          person.email !== null
            ? html`<div part="field" class="field"><label part="label" for="correct-email">${t.email}</label><input part="input"
        id="correct-email" name="email" type="email" autocomplete="email" .value=${person.email}
        aria-invalid=${this.#emailError ? 'true' : 'false'} aria-describedby=${this.#emailError ? 'correct-email-error' : nothing}>${
          this.#emailError ? html`<p part="error" id="correct-email-error">${t[this.#emailError]}</p>` : nothing
        }</div>`
            : nothing
        }${person.pendingEmailChange ? html`<p class="hint">${t.emailPending}</p>` : nothing}<button part="button save"
        type="submit">${t.save}</button></form>
      <div class="block"><h4>${t.restrict}</h4><div class="check"><input part="switch" type="checkbox" role="switch" id="restrict"
        aria-describedby="restrict-info" .checked=${live(person.restricted)}
        @change=${(e: Event) => this.#restrict((e.target as HTMLInputElement).checked)}><label for="restrict">${t.restrict}</label></div>
        <p id="restrict-info" class="hint">${t.restrictInfo}</p></div>
      <div class="block"><h4>${t.erase}</h4><p id="erase-info" class="hint">${t.eraseInfo}</p>${
        this.#confirmingErase
          ? html`<div part="confirm-erase" role="group" aria-labelledby="erase-question" @keydown=${(e: KeyboardEvent) =>
              e.key == 'Escape' && this.#askErase(false)}><p id="erase-question" tabindex="-1"><strong>${t.eraseSure}</strong></p><div
              class="row"><button part="button confirm" type="button" class="danger" @click=${this.#erase}>${t.eraseYes}</button><button
              part="button cancel" type="button" class="secondary" @click=${() => this.#askErase(false)}>${t.cancel}</button></div></div>`
          : html`<button part="button erase" type="button" class="danger" aria-describedby="erase-info"
              @click=${() => this.#askErase(true)}>${t.erase}</button>`
      }</div></section>`;
  }

  #linkForm(t: FormStrings) {
    const err = this.#emailError;
    return html`<form part="link-form" novalidate @submit=${this.#askForLink}>${
      this.#badLink ? html`<p part="message">${t.badLink}</p>` : nothing
    }<p>${t.linkIntro}</p><div part="field" class="field"><label part="label" for="link-email">${t.email}</label><input part="input"
      id="link-email" name="email" type="email" autocomplete="email" required aria-invalid=${err ? 'true' : 'false'}
      aria-describedby=${err ? 'link-email-error' : nothing}>${err ? html`<p part="error" id="link-email-error">${t[err]}</p>` : nothing}</div>
      <button part="button send" type="submit">${t.sendLink}</button></form>`;
  }

  override render() {
    const t = this.#t;
    const v = this.view;
    const title = html`<h2 part="title">${t.prefsTitle}</h2>`;
    switch (this.state) {
      case 'loading':
        return html`${title}<p part="status" role="status">${t.loading}</p>`;
      case 'failed':
        return html`${title}${this.#messages()}<button part="button retry" type="button" @click=${this.#load}>${t.retry}</button>`;
      case 'link':
        return html`${title}${this.#messages()}${this.#linkForm(t)}`;
      case 'gone':
        return html`${title}<p part="status" role="status">${t.gone}</p>`;
      case 'erased':
        return html`${title}<p part="status done" role="status" tabindex="-1">${t.erased}</p>`;
    }
    if (!v) return nothing;
    const lang = v.lang;
    const by = (c: Channel) => v.purposes.filter((p) => (c == 'other' ? p.channel != 'email' && p.channel != 'sms' : p.channel == c));
    const who = [v.person.name, v.person.email, v.person.phone].filter(Boolean).join(' · ');
    const policy = v.site.privacyPolicyUrl;
    return html`${title}<p part="person">${v.site.name}${who ? html` · ${who}` : nothing}${
      policy && /^https?:/i.test(policy) ? html` · <a part="link" href=${policy} target="_blank" rel="noopener noreferrer">${t.policy}</a>` : nothing
    }</p><div class="layout" aria-busy=${this.#busy ? 'true' : 'false'}>${this.#group('email', by('email'), t, lang)}${this.#group(
      'sms',
      by('sms'),
      t,
      lang,
    )}${this.#group('other', by('other'), t, lang)}<button part="button unsubscribe" type="button" class="secondary"
      @click=${() => this.#unsubscribe('all')}>${t.unsubAll}</button>${this.#messages()}${this.#rights(t)}</div>`;
  }
}

customElements.get('consent-preferences') || customElements.define('consent-preferences', ConsentPreferences);

declare global {
  interface HTMLElementTagNameMap {
    'consent-preferences': ConsentPreferences;
  }
}
