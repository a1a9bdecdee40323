import { expect, fixture, html } from '@open-wc/testing';
import { PLACEHOLDER_ATTR, runGate, startGate, stopGate } from '../../widget/lib/script-gate';
import { until } from './helpers';

type Log = Window & { gateLog?: string[] };
const log = () => ((window as Log).gateLog ??= []);

describe('script gate', () => {
  let allowed: Set<string>;
  let asked: string[];

  const allow = (category: string) => {
    allowed.add(category);
    runGate();
  };

  beforeEach(() => {
    allowed = new Set();
    asked = [];
    (window as Log).gateLog = [];
    startGate(
      (c) => allowed.has(c),
      (c) => void asked.push(c),
      (c) => `Allow ${c} cookies to load this content`,
    );
  });
  afterEach(stopGate);

  it('does not run a text/plain script before consent to its category', async () => {
    await fixture(html`<div><script type="text/plain" data-category="statistics">window.gateLog.push('stats')</script></div>`);
    runGate();
    expect(log()).to.deep.equal([]);
    allow('marketing');
    expect(log()).to.deep.equal([]);
  });

  it('runs it once consented, as a live copy keeping its other attributes', async () => {
    const el = await fixture(html`<div>
      <script type="text/plain" data-category="statistics" id="s1" class="tracker" data-x="1">window.gateLog.push('stats')</script>
    </div>`);
    allow('statistics');
    expect(log()).to.deep.equal(['stats']);
    const live = el.querySelector('script')!;
    expect(live.type).to.equal('');
    expect(live.id).to.equal('s1');
    expect(live.className).to.equal('tracker');
    expect(live.dataset.x).to.equal('1');
    expect(live.hasAttribute('data-category')).to.equal(false);
    runGate();
    expect(log(), 'runs once').to.deep.equal(['stats']);
  });

  it('gives the copy the type from data-type (a module)', async () => {
    const el = await fixture(html`<div>
      <script type="text/plain" data-type="module" data-category="preferences">window.gateLog.push(typeof import.meta)</script>
    </div>`);
    allow('preferences');
    await until(() => log().length > 0, 2000, 'the module script');
    expect(log()).to.deep.equal(['object']);
    expect(el.querySelector('script')!.type).to.equal('module');
  });

  it('loads external scripts in document order', async () => {
    const src = (n: number) => `data:text/javascript,window.gateLog.push(${n})`;
    await fixture(html`<div>
      <script type="text/plain" data-category="statistics" src=${src(1)}></script>
      <script type="text/plain" data-category="statistics" src=${src(2)}></script>
      <script type="text/plain" data-category="statistics" src=${src(3)}></script>
    </div>`);
    allow('statistics');
    await until(() => log().length === 3, 2000, 'three scripts');
    expect(log()).to.deep.equal([1, 2, 3]);
  });

  it('runs gated scripts added to the page later (MutationObserver)', async () => {
    allow('statistics');
    const script = document.createElement('script');
    script.type = 'text/plain';
    script.dataset.category = 'statistics';
    script.text = "window.gateLog.push('late')";
    document.body.append(script);
    await until(() => log().length > 0, 2000, 'the late script');
    expect(log()).to.deep.equal(['late']);
    document.body.querySelector('script:last-of-type')?.remove();
  });

  it('puts an accessible placeholder button before a gated iframe and loads it once allowed', async () => {
    const el = await fixture(html`<div><iframe data-category="marketing" data-src="about:blank#video" title="Video"></iframe></div>`);
    runGate();
    const frame = el.querySelector('iframe')!;
    const button = el.querySelector<HTMLButtonElement>(`button[${PLACEHOLDER_ATTR}="marketing"]`)!;
    expect(frame.hasAttribute('src')).to.equal(false);
    expect(button).to.exist;
    expect(button.nextElementSibling === frame).to.equal(true);
    expect(button.type).to.equal('button');
    expect(button.textContent).to.equal('Allow marketing cookies to load this content');
    await expect(el).to.be.accessible();

    button.click();
    expect(asked).to.deep.equal(['marketing']);
    allow('marketing');
    expect(frame.getAttribute('src')).to.equal('about:blank#video');
    expect(el.querySelector(`[${PLACEHOLDER_ATTR}]`)).to.equal(null);
  });

  it('gives iframes added later a placeholder, once', async () => {
    const host = await fixture(html`<div></div>`);
    host.innerHTML = '<iframe data-category="marketing" data-src="about:blank" title="Map"></iframe>';
    await until(() => !!host.querySelector('button'), 2000, 'the placeholder');
    runGate();
    runGate();
    expect(host.querySelectorAll('button')).to.have.length(1);
  });

  it('stops watching after stopGate', async () => {
    stopGate();
    allowed.add('statistics');
    const host = await fixture(html`<div></div>`);
    host.innerHTML = '<iframe data-category="statistics" data-src="about:blank" title="Chart"></iframe>';
    await new Promise((r) => setTimeout(r, 50));
    expect(host.querySelector('iframe')!.hasAttribute('src')).to.equal(false);
  });
});

describe('script gate under a strict CSP (no unsafe-inline)', () => {
  it("runs a consented inline script with the page's nonce, and not one without", async () => {
    const frame = await fixture<HTMLIFrameElement>(html`<iframe src="/test/widget/csp/gate.html" title="CSP page"></iframe>`);
    type CspWindow = Window & { ready?: boolean; allow(c: string): void; violations: string[] };
    await until(() => !!(frame.contentWindow as CspWindow | null)?.ready, 5000, 'the CSP page');
    const w = frame.contentWindow as CspWindow;
    const out = w.document.getElementById('out')!;
    expect(out.textContent).to.equal('');
    w.allow('statistics');
    await until(() => w.violations.length > 0, 2000, 'the violation report');
    expect(out.textContent).to.equal('inline-ran;');
    expect(w.violations.every((d) => d.startsWith('script-src'))).to.equal(true);
  });
});
