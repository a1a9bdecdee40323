/**
 * Entry of the forms bundle, dist/widget/samtykke-forms.js (ES module): `<consent-signup>` and
 * `<consent-preferences>`. samtykke.js loads it by itself when a page has one of them; a page
 * may also load it directly with its own `<script type="module">`.
 */
export { ConsentSignup } from './signup/consent-signup';
export { ConsentPreferences } from './preferences/consent-preferences';
export { ConsentSignupEvent, ConsentPreferencesEvent } from './lib/form-events';
export type { ConsentSignupDetail, ConsentPreferencesDetail, ConsentPreferencesAction } from './lib/form-events';
