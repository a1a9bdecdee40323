/**
 * What a new site starts with: the two purposes SuperOffice ships ("Sales and service"
 * on contract, "E-marketing" on consent), a standard wording for each in Danish and
 * English, and the usual sources. The owner may replace all of it.
 */
import type { ConsentModeType, CookieInfo } from '../../shared/cookies';
import type { Channel, LegalBasis, PurposeRole } from '../../shared/enums';

export interface DefaultPurpose {
  key: string;
  name: string;
  description: string;
  channel: Channel;
  legalBasis: LegalBasis;
  texts: Record<string, { title: string; body: string }>;
  role?: PurposeRole;
  cookies?: CookieInfo[];
  marketing?: boolean;
  consentModeTypes?: ConsentModeType[];
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

/**
 * The cookie banner's text and the usual four categories. Only the banner's own cookie
 * is listed; the owner lists the cookies of the services they add.
 */
export const DEFAULT_COOKIE_PURPOSES: DefaultPurpose[] = [
  {
    key: 'cookie-banner',
    role: 'cookie-banner',
    name: 'Cookie banner',
    description: 'The text at the top of the cookie banner.',
    channel: 'cookie',
    legalBasis: '6-1-a',
    texts: {
      da: {
        title: 'Vi bruger cookies',
        body:
          'Vi bruger nødvendige cookies for at få hjemmesiden til at virke. Med dit samtykke bruger vi også cookies til at huske dine valg, ' +
          'til at måle, hvordan siden bruges, og til markedsføring. Du bestemmer selv, og du kan altid ændre dit valg under cookieindstillinger.',
      },
      en: {
        title: 'We use cookies',
        body:
          'We use necessary cookies to make this website work. With your consent we also use cookies to remember your choices, ' +
          'to measure how the site is used and for marketing. You decide, and you can change your choice at any time in the cookie settings.',
      },
    },
  },
  {
    key: 'necessary',
    name: 'Necessary cookies',
    description: 'Cookies the website cannot work without; exempt from consent.',
    channel: 'cookie',
    legalBasis: '6-1-f',
    cookies: [{ name: 'samtykke', provider: 'This website', purpose: 'Remembers your cookie choice', duration: '6 months' }],
    consentModeTypes: ['security_storage'],
    texts: {
      da: { title: 'Nødvendige', body: 'Nødvendige for at hjemmesiden virker, for eksempel for at huske dit cookievalg. De kan ikke slås fra.' },
      en: { title: 'Necessary', body: 'Needed for the website to work, for example to remember your cookie choice. They cannot be switched off.' },
    },
  },
  {
    key: 'preferences',
    name: 'Preference cookies',
    description: 'Remembering choices such as language and region.',
    channel: 'cookie',
    legalBasis: '6-1-a',
    consentModeTypes: ['functionality_storage', 'personalization_storage'],
    texts: {
      da: { title: 'Præferencer', body: 'Husker dine valg, for eksempel sprog og region, så siden fungerer, som du foretrækker.' },
      en: { title: 'Preferences', body: 'Remember your choices, such as language and region, so the site works the way you prefer.' },
    },
  },
  {
    key: 'statistics',
    name: 'Statistics cookies',
    description: 'Measuring how the website is used.',
    channel: 'cookie',
    legalBasis: '6-1-a',
    consentModeTypes: ['analytics_storage'],
    texts: {
      da: { title: 'Statistik', body: 'Hjælper os med at forstå, hvordan hjemmesiden bruges, så vi kan gøre den bedre.' },
      en: { title: 'Statistics', body: 'Help us understand how the website is used, so we can make it better.' },
    },
  },
  {
    key: 'marketing',
    name: 'Marketing cookies',
    description: 'Advertising on this and other websites, and measuring its effect.',
    channel: 'cookie',
    legalBasis: '6-1-a',
    marketing: true,
    consentModeTypes: ['ad_storage', 'ad_user_data', 'ad_personalization'],
    texts: {
      da: { title: 'Marketing', body: 'Bruges til at vise dig relevante annoncer her og på andre hjemmesider og til at måle deres effekt.' },
      en: { title: 'Marketing', body: 'Used to show you relevant advertising here and on other websites, and to measure its effect.' },
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
  { key: 'cookie-banner', label: 'Cookie banner' },
];
