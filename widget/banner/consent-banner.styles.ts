// One rule per line: the bundle carries this text as it is. Nothing moves (no transitions or
// animations), so there is nothing to hold back under prefers-reduced-motion. Every button shares one look, so
// accepting is never easier to see or hit than rejecting. Font, colour and z-index are set on
// the host, so a page overrides them by styling the element itself; the rest goes through ::part().
import { sheet } from '../lib/sheet';

export default sheet(`:host{position:fixed;inset:auto 0 0;z-index:2147483000;padding:1rem;pointer-events:none;font:1rem/1.5 system-ui,sans-serif;color:#1b1b1b;--a:var(--samtykke-accent,#0b57a4)}
[role=dialog]{pointer-events:auto;max-width:42rem;max-height:calc(100vh - 4.5rem);overflow:auto;margin:auto;padding:1.25rem;background:var(--samtykke-bg,#fff);border-radius:var(--samtykke-radius,.75rem);box-shadow:0 .25rem 1.5rem #0004}
h2{margin:0;font-size:1.2em}
p{white-space:pre-line}
[part=buttons]{display:flex;flex-wrap:wrap;gap:.5rem}
button{flex:1 1 10rem;padding:.6rem 1rem;font:inherit;font-weight:600;color:var(--samtykke-accent-fg,#fff);background:var(--a);border:0;border-radius:var(--samtykke-radius,.5rem);cursor:pointer}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
label{font-weight:600}
input{accent-color:var(--a);margin:0 .5rem 0 0}
section p,details{margin:.25rem 0 .75rem 1.4rem}`);
