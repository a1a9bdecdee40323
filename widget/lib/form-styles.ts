/**
 * Looks shared by `<consent-signup>` and `<consent-preferences>`: the banner's custom properties
 * (accent, accent text, radius, background) plus an error colour and the text colour of inputs
 * (`--samtykke-fg`, paired with `--samtykke-bg` so typed text stays readable on dark pages).
 * Font and colour are otherwise inherited from the page: these elements sit in its flow.
 */
export const formCss = `
:host{display:block;--a:var(--samtykke-accent,#0b57a4);--e:var(--samtykke-error,#b3261e);--r:var(--samtykke-radius,.5rem)}
[hidden]{display:none!important}
form,section{display:grid;gap:.75rem}
label{font-weight:600}
p{margin:0;white-space:pre-line}
input:not([type=checkbox]){box-sizing:border-box;width:100%;max-width:28rem;padding:.5rem .6rem;font:inherit;color:var(--samtykke-fg,#1b1b1b);background:var(--samtykke-bg,#fff);border:1px solid #767676;border-radius:var(--r)}
input[type=checkbox]{accent-color:var(--a);width:1.15rem;height:1.15rem;margin:.2rem .5rem 0 0;flex:none}
[aria-invalid=true]{border-color:var(--e)!important;outline:1px solid var(--e)}
button{justify-self:start;padding:.55rem 1.1rem;font:inherit;font-weight:600;color:var(--samtykke-accent-fg,#fff);background:var(--a);border:2px solid var(--a);border-radius:var(--r);cursor:pointer}
button.secondary{color:var(--a);background:transparent}
button:disabled{opacity:.6;cursor:default}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
[part~=error],[part~=message]:not(:empty){color:var(--e);font-weight:600}
[part~=error]::before,[part~=message]:not(:empty)::before{content:"⚠ "}
fieldset{margin:0;padding:0;border:0;display:grid;gap:.6rem}
legend{padding:0;margin-bottom:.5rem;font-weight:600}
.check{display:flex;align-items:flex-start}
.field{display:grid;gap:.25rem}
.hint{font-size:.9em;opacity:.85}
.hp{position:absolute!important;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
`;
