import { expect, fixture, html } from '@open-wc/testing';
import { currentScriptUrl, resolveApiBase } from '../../widget/lib/api-base';

describe('resolveApiBase', () => {
  let warnings: unknown[][];
  const realWarn = console.warn;

  beforeEach(() => {
    warnings = [];
    console.warn = (...args: unknown[]) => {
      warnings.push(args);
    };
  });

  afterEach(() => {
    console.warn = realWarn;
  });

  async function withApi(api: string): Promise<Element> {
    return fixture(html`<div api=${api}></div>`);
  }

  describe('from the script URL', () => {
    it('uses the origin for a script at the root', () => {
      expect(resolveApiBase(null, 'https://consent.example.com/samtykke.js')).to.equal(
        'https://consent.example.com',
      );
    });

    it('keeps the directory the script is served from', () => {
      expect(resolveApiBase(null, 'https://x.example/consent/samtykke.js')).to.equal(
        'https://x.example/consent',
      );
      expect(resolveApiBase(null, 'https://x.example/a/b/samtykke.iife.js')).to.equal(
        'https://x.example/a/b',
      );
    });

    it('drops query, hash and credentials and keeps the port', () => {
      expect(resolveApiBase(null, 'https://x.example/consent/samtykke.js?v=3#top')).to.equal(
        'https://x.example/consent',
      );
      expect(resolveApiBase(null, 'http://user:pw@localhost:8787/samtykke.js')).to.equal(
        'http://localhost:8787',
      );
    });

    it('uses the script URL for an element without an api attribute', async () => {
      const el = await fixture(html`<div></div>`);
      expect(resolveApiBase(el, 'https://x.example/consent/samtykke.js')).to.equal(
        'https://x.example/consent',
      );
      expect(warnings).to.have.length(0);
    });

    it('falls back to the page origin when the script URL is unknown or not http(s)', () => {
      expect(resolveApiBase(null, undefined)).to.equal(location.origin);
      expect(resolveApiBase(null, 'blob:https://x.example/1234')).to.equal(location.origin);
    });
  });

  describe('api attribute', () => {
    it('overrides the script URL and loses its trailing slash', async () => {
      const el = await withApi('https://api.example.org/v1/');
      expect(resolveApiBase(el, 'https://consent.example.com/samtykke.js')).to.equal(
        'https://api.example.org/v1',
      );
    });

    it('accepts a bare origin, with or without a slash', async () => {
      expect(
        resolveApiBase(await withApi('https://api.example.org'), 'https://a.example/s.js'),
      ).to.equal('https://api.example.org');
      expect(
        resolveApiBase(await withApi('http://localhost:8787/'), 'https://a.example/s.js'),
      ).to.equal('http://localhost:8787');
      expect(warnings).to.have.length(0);
    });

    it('treats an empty attribute as absent', async () => {
      const el = await withApi('  ');
      expect(resolveApiBase(el, 'https://x.example/consent/samtykke.js')).to.equal(
        'https://x.example/consent',
      );
      expect(warnings).to.have.length(0);
    });

    for (const bad of [
      'javascript:alert(1)',
      'ftp://files.example.com/',
      'not a url',
      '/relative/path',
      'data:text/plain,hi',
    ]) {
      it(`ignores ${JSON.stringify(bad)} and warns`, async () => {
        const el = await withApi(bad);
        expect(resolveApiBase(el, 'https://x.example/consent/samtykke.js')).to.equal(
          'https://x.example/consent',
        );
        expect(warnings).to.have.length(1);
        expect(String(warnings[0]?.[0])).to.contain(bad);
      });
    }

    it('warns only once for the same invalid value', async () => {
      const a = await withApi('mailto:once@example.com');
      const b = await withApi('mailto:once@example.com');
      resolveApiBase(a, 'https://x.example/samtykke.js');
      resolveApiBase(a, 'https://x.example/samtykke.js');
      resolveApiBase(b, 'https://x.example/samtykke.js');
      expect(warnings).to.have.length(1);
    });
  });
});

describe('currentScriptUrl', () => {
  it('is the URL of the module in an ES module context', () => {
    const url = currentScriptUrl();
    expect(url).to.be.a('string');
    expect(new URL(url!).pathname).to.equal('/widget/lib/api-base.ts');
  });

  it('gives the directory of the widget source as the API base', () => {
    expect(resolveApiBase(null, currentScriptUrl())).to.equal(`${location.origin}/widget/lib`);
  });
});
