import { html, LitElement } from 'lit';
import { showSettings } from '../banner/consent-banner';
import { pageLanguage, uiStrings } from '../lib/i18n';
import { sheet } from '../lib/sheet';

/**
 * @summary A button that reopens the cookie choices, so withdrawing is as easy as giving.
 *
 * @slot - The button's text (default: "Cookie settings" in the page's language).
 *
 * @csspart button - The button.
 */
export class ConsentSettingsButton extends LitElement {
  static override styles = sheet('button{font:inherit}');

  static override properties = { site: {} };

  /** The site whose `<consent-banner>` to open; default: the page's banner. */
  site?: string;

  override render() {
    return html`<button part="button" aria-haspopup="dialog" @click=${() => showSettings(this.site)}><slot>${
      uiStrings(pageLanguage(this)).settings
    }</slot></button>`;
  }
}

customElements.get('consent-settings-button') || customElements.define('consent-settings-button', ConsentSettingsButton);

declare global {
  interface HTMLElementTagNameMap {
    'consent-settings-button': ConsentSettingsButton;
  }
}
