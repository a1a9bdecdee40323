/**
 * A constructed style sheet for `static styles`. Lit adopts CSSStyleSheet objects as they are,
 * so the bundle needs no `css` tag (and its error texts); adopted sheets also work under a
 * strict CSP without 'unsafe-inline'.
 */
export function sheet(cssText: string): CSSStyleSheet {
  const s = new CSSStyleSheet();
  s.replaceSync(cssText);
  return s;
}
