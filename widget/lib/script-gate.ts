/**
 * Script and iframe gating. Marked-up elements wait for consent to their category:
 *
 *   <script type="text/plain" data-category="statistics" [data-type="module"] [src]>
 *   <iframe data-category="marketing" data-src="https://…">
 *
 * An allowed script is replaced by a live copy (attributes, the page's CSP nonce, its text or
 * src), which the browser then runs. A waiting iframe gets a button in front of it that asks
 * consent for its category; once allowed, its `data-src` becomes its `src`.
 */

/** Whether the category is consented to now. */
type Allows = (category: string) => boolean;
/** The visitor pressed a placeholder's button: record consent for the category. */
type Ask = (category: string) => void;
/** A placeholder button's text for a category. */
type Label = (category: string) => string;

const WAITING = 'script[type="text/plain"][data-category],iframe[data-category][data-src]:not([src])';
/** The attribute naming the category on a placeholder button (so pages can style it). */
export const PLACEHOLDER_ATTR = 'data-samtykke-placeholder';

let allows: Allows | undefined;
let ask: Ask;
let label: Label;
let observer: MutationObserver | undefined;
const placeholders = new WeakMap<HTMLIFrameElement, HTMLButtonElement>();

function runScript(old: HTMLScriptElement): void {
  const script = document.createElement('script');
  for (const { name, value } of old.attributes) {
    // The nonce attribute reads as "" once the page has loaded; the property keeps it.
    if (!/^(type|nonce|data-category|data-type)$/.test(name)) script.setAttribute(name, value);
  }
  if (old.dataset.type) script.type = old.dataset.type;
  script.nonce = old.nonce ?? '';
  if (old.src) {
    // Dynamically added scripts are async by default; keep the document order instead.
    if (!old.hasAttribute('async')) script.async = false;
  } else {
    script.text = old.text;
  }
  old.replaceWith(script);
}

function gateFrame(frame: HTMLIFrameElement): void {
  const category = frame.dataset.category!;
  let button = placeholders.get(frame);
  if (allows!(category)) {
    button?.remove();
    placeholders.delete(frame);
    frame.src = frame.dataset.src!;
    return;
  }
  if (!button) {
    button = document.createElement('button');
    button.type = 'button';
    button.setAttribute(PLACEHOLDER_ATTR, category);
    button.addEventListener('click', () => ask(category));
    placeholders.set(frame, button);
  }
  const text = label(category);
  // Only on change: the observer would see a rewrite as a mutation and run the gate again.
  if (button.textContent != text) button.textContent = text;
  if (button.nextSibling !== frame) frame.before(button);
}

/** Runs allowed scripts, loads allowed iframes and puts placeholders before the others. */
export function runGate(): void {
  if (!allows) return;
  for (const el of document.querySelectorAll<HTMLScriptElement | HTMLIFrameElement>(WAITING)) {
    if (el instanceof HTMLIFrameElement) gateFrame(el);
    else if (allows(el.dataset.category!)) runScript(el as HTMLScriptElement);
  }
}

/** Starts gating (replacing earlier callbacks) and watches for elements added later. */
export function startGate(allowsCategory: Allows, askCategory: Ask, labelOf: Label): void {
  allows = allowsCategory;
  ask = askCategory;
  label = labelOf;
  if (!observer) {
    // One batch per task at most; a querySelectorAll per batch is cheap next to the mutations.
    observer = new MutationObserver(runGate);
    observer.observe(document.documentElement, { childList: true, subtree: true });
  }
  runGate();
}

/** Stops watching (tests, or a page tearing the widget down). */
export function stopGate(): void {
  observer?.disconnect();
  observer = allows = undefined;
}
