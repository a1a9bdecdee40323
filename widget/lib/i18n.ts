/**
 * The widget's own UI strings (buttons, labels, notes) in the shipped languages. The texts
 * the visitor consents to come from the server in the config; these are only the chrome
 * around them. Plain objects: the whole table costs about half a kilobyte compressed.
 */

const en = {
  accept: 'Accept all',
  reject: 'Reject all',
  customize: 'Customize',
  save: 'Save choices',
  settings: 'Cookie settings',
  cookies: 'Cookies',
  gpc: 'Marketing is off: your browser sends Global Privacy Control.',
  /** `{}` is the category title. */
  placeholder: 'Allow {} cookies to load this content',
  policy: 'Privacy policy',
};

export type UiStrings = typeof en;

export const UI_STRINGS: Record<string, UiStrings> = {
  en,
  da: {
    accept: 'Accepter alle',
    reject: 'Afvis alle',
    customize: 'Tilpas',
    save: 'Gem valg',
    settings: 'Cookieindstillinger',
    cookies: 'Cookies',
    gpc: 'Marketing er slået fra: din browser sender Global Privacy Control.',
    placeholder: 'Tillad {}-cookies for at vise indholdet',
    policy: 'Privatlivspolitik',
  },
  nb: {
    accept: 'Godta alle',
    reject: 'Avvis alle',
    customize: 'Tilpass',
    save: 'Lagre valg',
    settings: 'Innstillinger for informasjonskapsler',
    cookies: 'Informasjonskapsler',
    gpc: 'Markedsføring er slått av: nettleseren din sender Global Privacy Control.',
    placeholder: 'Tillat {}-informasjonskapsler for å vise innholdet',
    policy: 'Personvernerklæring',
  },
  nn: {
    accept: 'Godta alle',
    reject: 'Avvis alle',
    customize: 'Tilpass',
    save: 'Lagre val',
    settings: 'Innstillingar for informasjonskapslar',
    cookies: 'Informasjonskapslar',
    gpc: 'Marknadsføring er slått av: nettlesaren din sender Global Privacy Control.',
    placeholder: 'Tillat {}-informasjonskapslar for å vise innhaldet',
    policy: 'Personvernerklæring',
  },
  sv: {
    accept: 'Acceptera alla',
    reject: 'Avvisa alla',
    customize: 'Anpassa',
    save: 'Spara val',
    settings: 'Cookieinställningar',
    cookies: 'Cookies',
    gpc: 'Marknadsföring är avstängd: din webbläsare skickar Global Privacy Control.',
    placeholder: 'Tillåt {}-cookies för att visa innehållet',
    policy: 'Integritetspolicy',
  },
  de: {
    accept: 'Alle akzeptieren',
    reject: 'Alle ablehnen',
    customize: 'Anpassen',
    save: 'Auswahl speichern',
    settings: 'Cookie-Einstellungen',
    cookies: 'Cookies',
    gpc: 'Marketing ist aus: Ihr Browser sendet Global Privacy Control.',
    placeholder: '{}-Cookies erlauben, um den Inhalt zu laden',
    policy: 'Datenschutzerklärung',
  },
};

/** `nb-NO` → `nb`; the macrolanguage `no` is written Bokmål by almost everyone; junk → `en`. */
function primary(tag: string): string {
  const p = tag.trim().toLowerCase().split(/[-_]/)[0]!;
  return p == 'no' ? 'nb' : /^[a-z]{2,3}$/.test(p) ? p : 'en';
}

/**
 * The language the visitor reads: the element's `lang` attribute, else `<html lang>`, else the
 * first shipped language in `navigator.languages`, else English. Explicit page languages are
 * taken as they are (the server falls back for texts it lacks).
 */
export function pageLanguage(element?: Element | null): string {
  const explicit = element?.getAttribute('lang') || document.documentElement.lang;
  if (explicit) return primary(explicit);
  return navigator.languages.map(primary).find((l) => l in UI_STRINGS) ?? 'en';
}

/** UI strings for the first of `langs` that is shipped, else English. */
export function uiStrings(...langs: (string | undefined)[]): UiStrings {
  for (const l of langs) if (l && UI_STRINGS[primary(l)]) return UI_STRINGS[primary(l)]!;
  return en;
}
