/** Typed events of the subscription elements. Their details never carry personal data. */

export interface ConsentSignupDetail {
  /** Keys of the purposes the person ticked. */
  purposes: string[];
  /** True when a confirmation mail is on its way (double opt-in). */
  confirmationSent: boolean;
}

/** Fired by `<consent-signup>` once the server accepted a signup. */
export class ConsentSignupEvent extends Event {
  constructor(readonly detail: ConsentSignupDetail) {
    super('consent-signup', { bubbles: true, composed: true });
  }
}

export type ConsentPreferencesAction =
  | 'grant'
  | 'withdraw'
  | 'object'
  | 'unsubscribe'
  | 'correct'
  | 'restrict'
  | 'unrestrict'
  | 'export'
  | 'erase';

export interface ConsentPreferencesDetail {
  action: ConsentPreferencesAction;
  /** The purpose key for grant, withdraw and object. */
  purpose?: string;
  /** The channel for unsubscribe; the format for export. */
  channel?: 'email' | 'sms' | 'all';
  format?: 'json' | 'csv';
  /** Which details a correction changed (names of fields, never their values). */
  fields?: ('name' | 'email')[];
}

/** Fired by `<consent-preferences>` after every change the server accepted (and after an export). */
export class ConsentPreferencesEvent extends Event {
  constructor(readonly detail: ConsentPreferencesDetail) {
    super('consent-preferences', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'consent-signup': ConsentSignupEvent;
    'consent-preferences': ConsentPreferencesEvent;
  }
}
