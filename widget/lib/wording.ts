/**
 * Wording from the server, rendered as text only: Lit puts strings in text nodes, so markup in
 * a wording shows as the characters it is. Bare https:// URLs become links, built by the
 * template too (never innerHTML).
 */
import { html, type TemplateResult } from 'lit';

// Up to whitespace or a quote/angle bracket, not ending in punctuation that closes a sentence.
const URL_IN_TEXT = /(https:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]])/;

export const wordingText = (text: string): (string | TemplateResult)[] =>
  text
    .split(URL_IN_TEXT)
    .map((s, i) => (i % 2 ? html`<a part="link" href=${s} target="_blank" rel="noopener noreferrer">${s}</a>` : s));
