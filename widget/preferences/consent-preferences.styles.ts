import { formCss } from '../lib/form-styles';
import { sheet } from '../lib/sheet';

export default sheet(`${formCss}
h2{margin:0 0 .5rem;font-size:1.4em}
h3{margin:0;font-size:1.15em}
h4{margin:0;font-size:1em}
.layout{display:grid;gap:1.25rem}
section{padding:1rem;border:1px solid #0002;border-radius:var(--r)}
[part~=purpose]{display:grid;gap:.25rem;padding:.5rem 0;border-top:1px solid #0001}
[part~=purpose-body],[part~=state],[part~=agreed]{margin-left:1.65rem}
[part~=purpose-body]{display:grid;gap:.25rem}
[part~=blocked]{font-weight:600}
.block{display:grid;gap:.5rem}
.row{display:flex;flex-wrap:wrap;gap:.5rem}
button.danger{background:var(--e);border-color:var(--e)}
[part~=confirm-erase]{display:grid;gap:.5rem;padding:.75rem;border-left:4px solid var(--e)}
[tabindex="-1"]:focus{outline:none}
`);
