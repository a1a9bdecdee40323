import { html, LitElement, nothing, type PropertyValues } from 'lit';
import type { FormPurpose, SignupBody, SignupForm } from '../../shared/subscriptions';
import { currentScriptUrl, resolveApiBase } from '../lib/api-base';
import { ConsentSignupEvent } from '../lib/form-events';
import { ApiError, fetchSignupForm, postSignup, shownWording } from '../lib/forms-api';
import { fill, formStrings, type FormStrings } from '../lib/forms-i18n';
import { pageLanguage } from '../lib/i18n';
import { warnOnce } from '../lib/warn';
import { wordingText } from '../lib/wording';
import styles from './consent-signup.styles';

type Field = 'email' | 'phone' | 'name';
type Message = Exclude<keyof FormStrings, 'bases'>;
type Errors = Partial<Record<Field | 'purposes', Message>>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{6,20}$/;

/**
 * @summary A signup form for one or more purposes (newsletter, SMS offers, …): the contact
 * fields the purposes need, one unticked checkbox per purpose with its current wording, and
 * the proof of what was shown (each wording's version and the SHA-256 of the displayed text).
 *
 * Attributes: `site` (required), `purposes` (purpose keys, separated by spaces or commas),
 * `source` (source key recorded with the signup; default `signup-form` on the server),
 * `api` (API base URL; default: where the script came from), `lang` (default `<html lang>`),
 * `hide-name` (no name field).
 *
 * Inside a page's `<form>`: the element is deliberately not form-associated. Its fields live in
 * its own shadow `<form>`, so pressing Enter or its button sends the signup and never submits
 * the page's form, and no address ends up in the page's form data.
 *
 * @event consent-signup - After the server accepted a signup: `detail.purposes` (keys ticked)
 * and `detail.confirmationSent`. Never the address.
 *
 * @csspart form - The form.
 * @csspart field - A label with its input (`email`, `phone`, `name` name each one too).
 * @csspart label - A field's label.
 * @csspart input - A text input.
 * @csspart error - A field's or the purposes' error message.
 * @csspart purposes - The fieldset of purposes.
 * @csspart purpose - One purpose: checkbox, title and text.
 * @csspart checkbox - A purpose's checkbox.
 * @csspart purpose-title - A purpose's title (its checkbox's label).
 * @csspart purpose-body - A purpose's text.
 * @csspart link - A link in a wording, and the privacy policy link.
 * @csspart controller - Who is responsible for the data, with the privacy policy link.
 * @csspart message - The form-level message (errors; announced).
 * @csspart button - The submit button (also `submit`) and the retry button (also `retry`).
 * @csspart status - The polite live region (loading).
 * @csspart success - The thank-you note that replaces the form.
 *
 * @cssproperty --samtykke-accent - Button, checkboxes and focus ring (default #0b57a4).
 * @cssproperty --samtykke-accent-fg - Button text (default #fff).
 * @cssproperty --samtykke-radius - Corner radius of inputs and buttons (default .5rem).
 * @cssproperty --samtykke-bg - Input background (default #fff).
 * @cssproperty --samtykke-fg - Input text colour (default #1b1b1b); set it with --samtykke-bg on dark pages.
 * @cssproperty --samtykke-error - Error text and invalid borders (default #b3261e).
 */
export class ConsentSignup extends LitElement {
  static override styles = styles;

  static override properties = {
    site: {},
    purposes: {},
    source: {},
    hideName: { type: Boolean, attribute: 'hide-name' },
    form: { attribute: false },
    state: { state: true },
  };

  /** The site id. */
  site = '';

  /** Purpose keys, separated by spaces or commas. */
  purposes = '';

  /** Source key recorded with the signup. */
  source?: string;

  /** No name field. */
  hideName = false;

  /** The signup form to render instead of fetching one (set as a property). */
  form?: SignupForm;

  /** What the element shows. */
  state: 'loading' | 'failed' | 'form' | 'sending' | 'done' = 'loading';

  #ticked = new Set<string>();
  #errors: Errors = {};
  /** The form-level error, announced by role=alert. */
  #message?: Message;
  #confirmationSent = false;
  #fetched = false;

  get #t(): FormStrings {
    return formStrings(this.form?.lang, pageLanguage(this));
  }

  get #api(): string {
    return resolveApiBase(this, currentScriptUrl());
  }

  #fetch(): Promise<SignupForm> {
    this.#fetched = true;
    return fetchSignupForm(this.#api, this.site, this.purposes.split(/[\s,]+/).filter(Boolean), pageLanguage(this));
  }

  async #load(): Promise<void> {
    this.state = 'loading';
    try {
      this.form = await this.#fetch();
    } catch (e) {
      warnOnce(`signup form unavailable (${(e as Error).message})`);
      this.state = 'failed';
    }
  }

  #input(name: Field): HTMLInputElement | null {
    return this.renderRoot.querySelector(`input[name=${name}]`);
  }

  #value(name: Field): string {
    return this.#input(name)?.value.trim() ?? '';
  }

  /** Whether the e-mail or phone field must be filled, given what is ticked now. */
  #needs(field: 'email' | 'phone'): boolean {
    const f = this.form!;
    return (
      f.fields[field] == 'required' ||
      (f.fields[field] == 'optional' && f.purposes.some((p) => p.channel == (field == 'phone' ? 'sms' : 'email') && this.#ticked.has(p.key)))
    );
  }

  #validate(): Errors {
    const errors: Errors = {};
    const f = this.form!;
    const email = this.#value('email');
    const phone = this.#value('phone');
    if (f.fields.email != 'none') {
      if (email && !EMAIL.test(email)) errors.email = 'emailInvalid';
      else if (!email && this.#needs('email')) errors.email = 'emailMissing';
    }
    if (f.fields.phone != 'none') {
      if (phone && !PHONE.test(phone)) errors.phone = 'phoneInvalid';
      else if (!phone && this.#needs('phone')) errors.phone = 'phoneMissing';
    }
    if (this.#value('name').length > 200) errors.name = 'nameLong';
    if (!this.#ticked.size) errors.purposes = 'pickOne';
    return errors;
  }

  /** Shows `errors`, announces the summary and puts focus on the first control in error. */
  async #showErrors(errors: Errors): Promise<void> {
    this.#errors = errors;
    this.#message = 'fixErrors';
    this.requestUpdate();
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('[aria-invalid=true]')?.focus();
  }

  async #submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.state != 'form') return;
    const errors = this.#validate();
    if (Object.keys(errors).length) return this.#showErrors(errors);
    const f = this.form!;
    const ticked = f.purposes.filter((p) => this.#ticked.has(p.key));
    const body: SignupBody = {
      lang: f.lang,
      // Without query or fragment: those can carry personal data.
      page: location.origin + location.pathname,
      purposes: await Promise.all(ticked.map(async (p) => ({ purpose: p.key, ...(await shownWording(p)) }))),
    };
    for (const k of ['email', 'phone', 'name'] as const) if (this.#value(k)) body[k] = this.#value(k);
    if (this.source) body.source = this.source;
    const trap = this.renderRoot.querySelector<HTMLInputElement>('#website')?.value;
    if (trap) body.website = trap;
    this.#errors = {};
    this.#message = undefined;
    this.state = 'sending';
    try {
      const answer = await postSignup(this.#api, this.site, body);
      this.#confirmationSent = answer.confirmationSent;
      this.state = 'done';
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('[part~=success]')?.focus();
      this.dispatchEvent(
        new ConsentSignupEvent({ purposes: ticked.map((p) => p.key), confirmationSent: answer.confirmationSent }),
      );
    } catch (err) {
      this.state = 'form';
      await this.#failed(err);
    }
  }

  async #failed(err: unknown): Promise<void> {
    const status = err instanceof ApiError ? err.status : 0;
    if (status == 400 && err instanceof ApiError && err.fields.some((f) => f == 'email' || f == 'phone' || f == 'name')) {
      const errors: Errors = {};
      if (err.fields.includes('email')) errors.email = 'emailInvalid';
      if (err.fields.includes('phone')) errors.phone = 'phoneInvalid';
      if (err.fields.includes('name')) errors.name = 'nameLong';
      return this.#showErrors(errors);
    }
    // A refused source or purpose is the page's mistake: the console tells its author.
    if (status == 400 || status == 404) warnOnce(`signup refused (${(err as Error).message})`);
    if (status == 409 && this.#fetched) {
      // The published text changed: show the new one; the person ticks again what they want.
      this.#ticked.clear();
      this.form = await this.#fetch().catch(() => this.form);
    }
    this.#message = status == 429 ? 'tooMany' : status == 409 ? 'changed' : 'failed';
    this.requestUpdate();
  }

  #tick(p: FormPurpose, e: Event): void {
    const on = (e.target as HTMLInputElement).checked;
    if (on) this.#ticked.add(p.key);
    else this.#ticked.delete(p.key);
    if (on) delete this.#errors.purposes;
    this.requestUpdate();
  }

  #edited(name: Field): void {
    if (!this.#errors[name]) return;
    delete this.#errors[name];
    this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.form && !this.#fetched && this.state == 'loading') void this.#load();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('form') && this.form && this.state == 'loading') this.state = 'form';
  }

  #field(name: Field, type: string, autocomplete: string, needed: boolean) {
    const t = this.#t;
    const error = this.#errors[name];
    return html`<div part="field ${name}" class="field"><label part="label" for=${name}>${t[name]}${
      needed ? nothing : html` <span class="hint">${t.optional}</span>`
    }</label><input part="input" id=${name} name=${name} type=${type} autocomplete=${autocomplete}
      ?required=${needed} aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? `${name}-error` : nothing}
      maxlength=${name == 'name' ? 200 : 254} @input=${() => this.#edited(name)}
      >${error ? html`<p part="error" id="${name}-error">${t[error]}</p>` : nothing}</div>`;
  }

  #purpose(p: FormPurpose) {
    const id = `p-${p.key}`;
    return html`<div part="purpose"><div class="check"><input part="checkbox" type="checkbox" id=${id} name="purpose"
      .value=${p.key} .checked=${this.#ticked.has(p.key)} aria-describedby="${id}-body${this.#errors.purposes ? ' purposes-error' : ''}"
      aria-invalid=${this.#errors.purposes ? 'true' : 'false'} @change=${(e: Event) => this.#tick(p, e)}
      ><label part="purpose-title" for=${id}>${p.title}</label></div><p part="purpose-body" id="${id}-body">${wordingText(p.body)}</p></div>`;
  }

  override render() {
    const t = this.#t;
    const f = this.form;
    if (this.state == 'done') {
      return html`<div part="success" role="status" tabindex="-1"><p><strong>${t.thanks}</strong></p>${
        this.#confirmationSent ? html`<p>${t.checkInbox}</p>` : nothing
      }</div>`;
    }
    if (this.state == 'loading' || !f) {
      return html`<div part="status" role="status" aria-live="polite">${this.state == 'loading' ? t.loading : nothing}</div>${
        this.state == 'failed'
          ? html`<p part="message" role="alert">${t.loadFailed}</p><button part="button retry" type="button" @click=${this.#load}>${t.retry}</button>`
          : nothing
      }`;
    }
    const sending = this.state == 'sending';
    const policy = f.privacyPolicyUrl;
    const error = this.#errors.purposes;
    return html`<form part="form" novalidate aria-busy=${sending ? 'true' : 'false'} @submit=${this.#submit}>${
      f.fields.email != 'none' ? this.#field('email', 'email', 'email', this.#needs('email')) : nothing
    }${f.fields.phone != 'none' ? this.#field('phone', 'tel', 'tel', this.#needs('phone')) : nothing}${
      this.hideName ? nothing : this.#field('name', 'text', 'name', false)
    }<fieldset part="purposes"><legend>${t.choose}</legend>${f.purposes.map((p) => this.#purpose(p))}${
      error ? html`<p part="error" id="purposes-error">${t[error]}</p>` : nothing
    }</fieldset><div class="hp" aria-hidden="true"><label for="website">Website</label><input id="website" name="website"
      tabindex="-1" autocomplete="off"></div><p part="controller">${fill(t.controller, f.name)}${
      policy && /^https?:/i.test(policy) ? html` <a part="link" href=${policy} target="_blank" rel="noopener noreferrer">${t.policy}</a>` : nothing
    }</p><p part="message" role="alert">${this.#message ? t[this.#message] : nothing}</p><button part="button submit" type="submit"
      ?disabled=${sending}>${sending ? t.sending : t.submit}</button></form>`;
  }
}

customElements.get('consent-signup') || customElements.define('consent-signup', ConsentSignup);

declare global {
  interface HTMLElementTagNameMap {
    'consent-signup': ConsentSignup;
  }
}
