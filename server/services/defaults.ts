/**
 * What a new site starts with: the two purposes SuperOffice ships ("Sales and service"
 * on contract, "E-marketing" on consent), a standard wording for each in Danish and
 * English, and the usual sources. The owner may replace all of it.
 */
import type { Channel, LegalBasis } from '../../shared/enums';

export interface DefaultPurpose {
  key: string;
  name: string;
  description: string;
  channel: Channel;
  legalBasis: LegalBasis;
  texts: Record<string, { title: string; body: string }>;
}

export const DEFAULT_PURPOSES: DefaultPurpose[] = [
  {
    key: 'sales-and-service',
    name: 'Sales and service',
    description: 'Delivering what a customer bought or asked for, and service and support.',
    channel: 'other',
    legalBasis: '6-1-b',
    texts: {
      da: {
        title: 'Salg og service',
        body:
          'Vi bruger dine kontaktoplysninger til at levere det, du har købt eller bedt om, og til at give dig service og support. ' +
          'Grundlaget er vores aftale med dig (databeskyttelsesforordningens art. 6, stk. 1, litra b).',
      },
      en: {
        title: 'Sales and service',
        body:
          'We use your contact details to deliver what you have bought or asked for, and to give you service and support. ' +
          'The basis is our agreement with you (GDPR Article 6(1)(b)).',
      },
    },
  },
  {
    key: 'e-marketing',
    name: 'E-marketing',
    description: 'News and offers by e-mail, sent only with consent.',
    channel: 'email',
    legalBasis: '6-1-a',
    texts: {
      da: {
        title: 'Nyheder og tilbud på e-mail',
        body:
          'Ja tak, jeg vil gerne modtage nyheder og tilbud på e-mail. ' +
          'Jeg kan til enhver tid trække mit samtykke tilbage med linket i hver e-mail eller på min profilside.',
      },
      en: {
        title: 'News and offers by e-mail',
        body:
          'Yes, I would like to receive news and offers by e-mail. ' +
          'I can withdraw my consent at any time with the link in every e-mail or on my preference page.',
      },
    },
  },
];

export const DEFAULT_SOURCES: { key: string; label: string }[] = [
  { key: 'web-form', label: 'Web form' },
  { key: 'import', label: 'Import' },
  { key: 'api', label: 'API' },
  { key: 'admin', label: 'Admin' },
  { key: 'sms', label: 'SMS' },
  { key: 'email-link', label: 'E-mail link' },
];
