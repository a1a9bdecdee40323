import { html, LitElement, nothing, type PropertyValues } from 'lit';
import type { CookieCategory, CookieConfig } from '../../shared/cookies';
import { fetchConfig } from '../lib/api';
import { currentScriptUrl, resolveApiBase } from '../lib/api-base';
import {
  acceptAllKeys,
  choose,
  currentConsent,
  gpcOn,
  needsAsking,
  onConsentChange,
  startConsent,
  useConfig,
} from '../lib/consent';
import { pageLanguage, uiStrings, type UiStrings } from '../lib/i18n';
import { warnOnce } from '../lib/warn';
import styles from './consent-banner.styles';

/** The focused element, looking through open shadow roots (e.g. a settings button's inner button). */
function focusedElement(): HTMLElement | null {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el as HTMLElement | null;
}

/**
 * @summary The cookie banner: loads the site's categories and wording, asks the visitor when
 * there is no valid choice (first layer: accept all, reject all, customize; second layer: a
 * switch per category), stores the choice and records the proof. A non-modal dialog fixed to
 * the bottom of the viewport: it never shifts the page's layout.
 *
 * Attributes: `site` (required), `api` (API base URL, absolute http(s); default: the directory
 * the script was loaded from), `lang` (default: `<html lang>`, then the browser's languages).
 *
 * @event consent-change - After every choice; `detail.categories` and `detail.consentId`.
 *
 * @csspart dialog - The banner box (role=dialog).
 * @csspart title - The heading.
 * @csspart body - The banner text.
 * @csspart note - The Global Privacy Control note.
 * @csspart link - The privacy policy link.
 * @csspart buttons - The row of buttons.
 * @csspart button - Every button; also `accept`, `reject`, `customize` and `save`.
 * @csspart category - One category in the second layer.
 * @csspart category-label - A category's switch and title.
 * @csspart switch - A category's switch (a checkbox with role=switch).
 * @csspart category-title - A category's title.
 * @csspart category-body - A category's description.
 * @csspart cookies - The disclosure listing a category's cookies.
 * @csspart cookies-summary - The disclosure's summary.
 * @csspart cookie - One cookie in that list.
 *
 * @cssproperty --samtykke-bg - Banner background (default #fff).
 * @cssproperty --samtykke-accent - Buttons, switches when on and the focus ring (default #0b57a4).
 * @cssproperty --samtykke-accent-fg - Button text (default #fff).
 * @cssproperty --samtykke-radius - Corner radius of the banner and its buttons (default .75rem and .5rem).
 *
 * Font, text colour and z-index (2147483000) are set on the element itself: style
 * `consent-banner { font: …; color: …; z-index: … }` to change them; `::part(dialog)` for the
 * box's width (default max 42rem), padding and shadow.
 */
export class ConsentBanner extends LitElement {
  static override styles = styles;

  // Declared here rather than with decorators, and internals are #private (the minifier
  // shortens those): both keep the script-tag bundle small.
  static override properties = {
    site: {},
    config: { attribute: false },
    open: { type: Boolean, reflect: true },
  };

  /** The site id whose cookie configuration is loaded. */
  site = '';

  /** A configuration to render instead of fetching one (set as a property). */
  config?: CookieConfig;

  /** Whether the banner is showing (reflected to the `open` attribute). */
  open = false;

  /** 1: the first layer (the banner text), 2: the category switches. */
  #layer?: 1 | 2;
  /** The switches' positions in the second layer. */
  #picks: Record<string, boolean> = {};
  /** Opened over an existing choice (settings): Escape closes without changing anything. */
  #reopened?: boolean;
  #returnFocusTo?: HTMLElement | null;
  #loading?: Promise<void>;
  #unsubscribe?: () => void;

  /** Opens the choices (the second layer), also over an existing choice, once the config is in. */
  async show(): Promise<void> {
    await this.#loading;
    return this.#openAt(this.config ? 2 : 1);
  }

  /**
   * Allows every optional category (except marketing ones under Global Privacy Control).
   * Without a config (the console already said why) there is nothing to accept.
   */
  async acceptAll(): Promise<void> {
    await this.#loading;
    if (this.config) return choose(acceptAllKeys(), this);
  }

  /** Refuses every optional category (works without the server too). */
  async rejectAll(): Promise<void> {
    await this.#loading;
    return choose([], this);
  }

  async #load(): Promise<void> {
    try {
      this.config = await fetchConfig(resolveApiBase(this, currentScriptUrl()), this.site, pageLanguage(this));
    } catch (e) {
      warnOnce(`cookie settings unavailable (${(e as Error).message}); offering reject only`);
      if (needsAsking()) void this.#openAt(1);
    }
  }

  /** Shows a layer (switches as currently chosen) and moves focus into it. */
  async #openAt(layer: 1 | 2, focus = '[role=dialog]'): Promise<void> {
    if (!this.open) this.#returnFocusTo = focusedElement();
    const consent = currentConsent();
    this.#reopened = !!consent;
    this.#picks = { ...consent?.categories };
    this.#layer = layer;
    this.open = true;
    this.requestUpdate();
    await this.updateComplete;
    this.shadowRoot!.querySelector<HTMLElement>(focus)!.focus();
  }

  /** Hides the banner; focus goes back where it was if it was inside. */
  #close(): void {
    const hadFocus = this.matches(':focus-within');
    this.open = false;
    if (hadFocus) this.#returnFocusTo?.focus();
  }

  #save(): Promise<void> {
    return choose(Object.keys(this.#picks).filter((k) => this.#picks[k]), this);
  }

  #onKeyDown(e: KeyboardEvent): void {
    const root = this.shadowRoot!;
    if (e.key == 'Escape') {
      // Escape never decides anything: it steps back, or closes settings reopened over a choice.
      if (this.#reopened) this.#close();
      else if (this.#layer == 2) void this.#openAt(1, '[part~=customize]');
    } else if (e.key == 'Tab') {
      // Tab and Shift+Tab cycle through the banner's controls.
      const items = [...root.querySelectorAll<HTMLElement>('a,button,input:enabled,summary')];
      const at = items.indexOf(root.activeElement as HTMLElement); // -1: the dialog itself
      const to = e.shiftKey ? at < 1 && items.at(-1) : at == items.length - 1 && items[0];
      if (to) {
        e.preventDefault();
        to.focus();
      }
    }
  }

  override connectedCallback(): void {
    // The config request first: the banner waits for nothing else, so reading the stored choice
    // (a synchronous cookie read) and Lit's shadow root and styles happen while it is on its way.
    if (!this.config) this.#loading ??= this.#load();
    startConsent();
    this.#unsubscribe = onConsentChange(() => this.open && this.#close());
    super.connectedCallback();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unsubscribe?.();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('config') && this.config) {
      useConfig(this.config, resolveApiBase(this, currentScriptUrl()), this.site);
      if (needsAsking()) void this.#openAt(1);
    }
  }

  // Templates are written tight: the bundle carries their whitespace as it is.
  #renderCategory(k: CookieCategory, t: UiStrings) {
    const n = k.cookies.length;
    return html`<section part="category"><label part="category-label"><input type="checkbox" role="switch" part="switch"
aria-describedby="b-${k.key}" .checked=${k.required || !!this.#picks[k.key]} ?disabled=${k.required}
@change=${(e: Event) => (this.#picks[k.key] = (e.target as HTMLInputElement).checked)}><span part="category-title">${k.title}</span></label>
<p id="b-${k.key}" part="category-body">${k.body}</p>${
      n
        ? html`<details part="cookies"><summary part="cookies-summary">${t.cookies} (${n})</summary><ul>${k.cookies.map(
            (x) => html`<li part="cookie"><b>${x.name}</b> · ${x.provider} · ${x.purpose} · ${x.duration}</li>`,
          )}</ul></details>`
        : nothing
    }</section>`;
  }

  override render() {
    if (!this.open) return nothing;
    const c = this.config;
    const t = uiStrings(c?.lang, pageLanguage(this));
    const second = this.#layer == 2 && !!c;
    const policy = c?.privacyPolicyUrl;
    const button = (name: string, label: string, click: () => unknown) =>
      html`<button part="button ${name}" @click=${click}>${label}</button>`;
    return html`<div part="dialog" role="dialog" tabindex="-1" aria-labelledby="title"
aria-describedby=${second || !c ? nothing : 'body'} @keydown=${this.#onKeyDown}><h2 id="title" part="title">${
      second || !c ? t.settings : c.banner.title
    }</h2>${
      second ? c.categories.map((k) => this.#renderCategory(k, t)) : c ? html`<p id="body" part="body">${c.banner.body}</p>` : nothing
    }${gpcOn() && c ? html`<p part="note">${t.gpc}</p>` : nothing}${
      policy && /^https?:/i.test(policy) ? html`<p><a part="link" href=${policy}>${t.policy}</a></p>` : nothing
    }<div part="buttons">${second ? button('save', t.save, this.#save) : nothing}${
      c ? button('accept', t.accept, this.acceptAll) : nothing
    }${button('reject', t.reject, this.rejectAll)}${c && !second ? button('customize', t.customize, () => this.#openAt(2)) : nothing}</div></div>`;
  }
}

customElements.get('consent-banner') || customElements.define('consent-banner', ConsentBanner);

/** Opens the cookie choices of the banner for `site` (default: the page's banner). */
export function showSettings(site?: string): void {
  const banner = document.querySelector<ConsentBanner>(site ? `consent-banner[site="${CSS.escape(site)}"]` : 'consent-banner');
  if (banner) void banner.show();
  else warnOnce('no <consent-banner> on this page');
}

declare global {
  interface HTMLElementTagNameMap {
    'consent-banner': ConsentBanner;
  }
}
