export interface ConsentDetail {
  /** Every known category: true when consented to (required categories are always true). */
  categories: Record<string, boolean>;
  /** The visitor's random consent id (the key of their proof rows on the server). */
  consentId: string;
}

/** Fired after every choice: the banner, a settings change, an iframe placeholder or the JS API. */
export class ConsentChangeEvent extends Event {
  constructor(readonly detail: ConsentDetail) {
    super('consent-change', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'consent-change': ConsentChangeEvent;
  }
}
