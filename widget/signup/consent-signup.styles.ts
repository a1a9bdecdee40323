import { formCss } from '../lib/form-styles';
import { sheet } from '../lib/sheet';

export default sheet(`${formCss}
[part~=purpose]{display:grid;gap:.25rem}
[part~=purpose-body]{margin-left:1.65rem}
[part~=success]{padding:1rem;border-left:4px solid var(--a);background:var(--samtykke-bg,transparent)}
[part~=success]:focus{outline:none}
`);
