import { expect, fixture, html } from '@open-wc/testing';
import { LANGUAGES } from '../../shared/enums';
import { pageLanguage, UI_STRINGS, uiStrings } from '../../widget/lib/i18n';

describe('i18n', () => {
  const htmlLang = document.documentElement.lang;
  afterEach(() => {
    document.documentElement.lang = htmlLang;
  });

  it('ships every UI string in da, nb, nn, sv, en and de, none empty', () => {
    const keys = Object.keys(UI_STRINGS.en!).sort();
    for (const lang of LANGUAGES) {
      const strings = UI_STRINGS[lang];
      expect(strings, lang).to.exist;
      expect(Object.keys(strings!).sort(), lang).to.deep.equal(keys);
      for (const [key, value] of Object.entries(strings!)) expect(value.trim(), `${lang}.${key}`).not.to.equal('');
      expect(strings!.placeholder, `${lang}.placeholder`).to.contain('{}');
    }
  });

  it('translates (no language repeats the English buttons)', () => {
    for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
      expect(UI_STRINGS[lang]!.accept, lang).not.to.equal(UI_STRINGS.en!.accept);
      expect(UI_STRINGS[lang]!.reject, lang).not.to.equal(UI_STRINGS.en!.reject);
    }
  });

  it("takes the element's lang attribute first", async () => {
    document.documentElement.lang = 'de';
    const el = await fixture(html`<div lang="sv-FI"></div>`);
    expect(pageLanguage(el)).to.equal('sv');
  });

  it('then <html lang>', async () => {
    document.documentElement.lang = 'nn-NO';
    expect(pageLanguage(await fixture(html`<div></div>`))).to.equal('nn');
    expect(pageLanguage()).to.equal('nn');
  });

  it('then the first shipped language in navigator.languages, else English', () => {
    document.documentElement.lang = '';
    const expected = navigator.languages.map((l) => l.slice(0, 2).toLowerCase()).find((l) => l in UI_STRINGS) ?? 'en';
    expect(pageLanguage()).to.equal(expected);
  });

  it('reads the macrolanguage no as Bokmål and keeps unknown languages for the server to fall back', () => {
    document.documentElement.lang = 'no';
    expect(pageLanguage()).to.equal('nb');
    document.documentElement.lang = 'fr-CA';
    expect(pageLanguage()).to.equal('fr');
    document.documentElement.lang = 'x-klingon';
    expect(pageLanguage(), 'not a language tag the API accepts').to.equal('en');
  });

  it('picks the first shipped language for the UI strings, else English', () => {
    expect(uiStrings('da').accept).to.equal('Accepter alle');
    expect(uiStrings('nb-NO').reject).to.equal('Avvis alle');
    expect(uiStrings('fr', 'de').accept).to.equal('Alle akzeptieren');
    expect(uiStrings(undefined, 'xx')).to.equal(UI_STRINGS.en);
  });
});
