/**
 * The HTTP API's request and response shapes, as valibot schemas. The server validates
 * with them and generates its OpenAPI document from them; their inferred types are the
 * client's types.
 */
import * as v from 'valibot';
import { CONSENT_MODE_TYPES } from './cookies';
import type { ExportFormat, PreferencesView, PreferenceToggle, SignupAnswer, SignupBody, SignupForm } from './subscriptions';
import { CHANNELS, CONSENT_STATUSES, EVENT_ACTIONS, KEY_SCOPES, LEGAL_BASES, PURPOSE_ROLES, RECORDABLE_ACTIONS, WORDING_STATUSES } from './enums';

const slug = (what: string) =>
  v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, `${what} must be 1–63 lower-case letters, digits or dashes`));

export const SiteId = slug('site id');
export const PurposeKey = slug('purpose key');
export const SourceKey = slug('source key');
const Lang = v.pipe(v.string(), v.regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'must be a language tag such as da, nb or en-GB'));
const Country = v.pipe(v.string(), v.regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as DK'));
const Origin = v.pipe(v.string(), v.regex(/^https?:\/\/[^/\s?#]+$/, 'must be an origin such as https://www.example.dk'));
const Email = v.pipe(v.string(), v.trim(), v.maxLength(254, 'must be at most 254 characters'), v.email('must be an e-mail address'));
const Phone = v.pipe(v.string(), v.maxLength(32, 'must be at most 32 characters'), v.regex(/^[+0-9 ()./-]{4,}$/, 'must be a phone number'));
const Name = (max: number) => v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(max, `must be at most ${max} characters`));
const Iso = v.pipe(v.string(), v.isoTimestamp());
const HttpUrl = v.pipe(v.string(), v.maxLength(2048, 'is too long'), v.url('must be an absolute URL'), v.regex(/^https?:\/\//, 'must be http(s)'));

export const ErrorBody = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    details: v.array(v.object({ field: v.optional(v.string()), message: v.string() })),
  }),
});

// Sites
const SmsKeyword = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^[\p{L}\p{N}]{1,20}$/u, 'must be one word of 1–20 letters or digits'),
  v.toUpperCase(),
  v.check((w) => w !== 'HELP' && w !== 'INFO', 'HELP and INFO are reserved'),
);
const SmsKeywordList = v.pipe(v.array(SmsKeyword), v.maxLength(20, 'at most 20 words'));
export const Site = v.object({
  id: v.string(),
  name: v.string(),
  defaultLanguage: v.string(),
  defaultCountry: v.string(),
  allowedOrigins: v.array(v.string()),
  doubleOptIn: v.boolean(),
  consentMode: v.boolean(),
  cookieDomain: v.nullable(v.string()),
  cookieDays: v.number(),
  privacyPolicyUrl: v.nullable(v.string()),
  /** A Twilio auth token is set (the token itself is never returned). */
  twilioConfigured: v.boolean(),
  /** An HMAC secret for the JSON inbound-SMS webhook is set (never returned). */
  smsInboundConfigured: v.boolean(),
  /** lang → reply to HELP/INFO; other languages use the built-in text. */
  smsHelpText: v.record(v.string(), v.string()),
  /** Extra STOP and START words on top of the built-in ones. */
  smsKeywords: v.object({ stop: v.array(v.string()), start: v.array(v.string()) }),
  /** The controller's contact e-mail and postal address, shown on receipts and the preference page. */
  controllerEmail: v.nullable(v.string()),
  controllerAddress: v.nullable(v.string()),
  /** The owner's page with `<consent-preferences>`; null: the server's own /preferences/{site}. */
  preferencesUrl: v.nullable(v.string()),
  /** Days an unconfirmed (double opt-in) signup is kept before it is purged. */
  pendingDays: v.number(),
  createdAt: Iso,
});
export const SiteList = v.object({ sites: v.array(Site) });
export const SitePatch = v.pipe(
  v.strictObject({
    name: v.optional(Name(200)),
    defaultLanguage: v.optional(Lang),
    defaultCountry: v.optional(Country),
    allowedOrigins: v.optional(v.pipe(v.array(Origin), v.maxLength(50, 'at most 50 origins'))),
    doubleOptIn: v.optional(v.boolean()),
    consentMode: v.optional(v.boolean()),
    cookieDomain: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a domain such as .example.dk')))),
    cookieDays: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(395, 'must be at most 395 (13 months)'))),
    privacyPolicyUrl: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(2048, 'is too long'), v.url('must be an absolute URL'), v.regex(/^https?:/, 'must be http(s)')))),
    /** Write-only: stored encrypted, shown back only as `twilioConfigured`; null removes it. */
    twilioAuthToken: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[\x21-\x7e]{16,256}$/, 'must be 16–256 printable characters without spaces')))),
    /** Write-only: the HMAC-SHA256 secret the JSON inbound-SMS webhook is signed with; null removes it. */
    smsInboundSecret: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[\x21-\x7e]{32,256}$/, 'must be 32–256 printable characters without spaces')))),
    /** Replaces the whole map; `{}` goes back to the built-in texts. */
    smsHelpText: v.optional(
      v.pipe(
        v.record(Lang, v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(640, 'must be at most 640 characters (4 SMS)'))),
        v.check((t) => Object.keys(t).length <= 30, 'at most 30 languages'),
      ),
    ),
    smsKeywords: v.optional(
      v.pipe(
        v.strictObject({ stop: SmsKeywordList, start: SmsKeywordList }),
        v.check((k) => !k.stop.some((w) => k.start.includes(w)), 'a word cannot be both a STOP and a START word'),
      ),
    ),
    controllerEmail: v.optional(v.nullable(Email)),
    controllerAddress: v.optional(v.nullable(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(500, 'must be at most 500 characters'), v.regex(/^[^\r\n]*$/, 'must be one line')))),
    preferencesUrl: v.optional(v.nullable(HttpUrl)),
    pendingDays: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(90, 'must be at most 90'))),
  }),
  v.check((p) => Object.keys(p).length > 0, 'name at least one field to change'),
);

// Purposes and wordings
export const WordingText = v.object({ lang: v.string(), title: v.string(), body: v.string(), sha256: v.nullable(v.string()) });
export const WordingVersion = v.object({
  id: v.string(),
  purpose: v.string(),
  version: v.number(),
  status: v.picklist(WORDING_STATUSES),
  createdAt: Iso,
  publishedAt: v.nullable(Iso),
  retiredAt: v.nullable(Iso),
  texts: v.array(WordingText),
});
export const WordingList = v.object({ wordings: v.array(WordingVersion) });
export const WordingTexts = v.pipe(
  v.record(Lang, v.strictObject({ title: Name(300), body: v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(20_000, 'must be at most 20000 characters')) })),
  v.check((t) => Object.keys(t).length > 0, 'give the text in at least one language'),
  v.check((t) => Object.keys(t).length <= 30, 'at most 30 languages'),
);
export const WordingDraft = v.strictObject({ texts: WordingTexts });

const Text = (max: number) => v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(max, `must be at most ${max} characters`));
export const CookieInfo = v.strictObject({ name: Text(200), provider: Text(200), purpose: Text(500), duration: Text(100) });
const Cookies = v.pipe(v.array(CookieInfo), v.maxLength(200, 'at most 200 cookies'));
const ConsentModeTypes = v.array(v.picklist(CONSENT_MODE_TYPES, `Consent Mode types are ${CONSENT_MODE_TYPES.join(', ')}`));

export const Purpose = v.object({
  key: v.string(),
  name: v.string(),
  description: v.string(),
  channel: v.picklist(CHANNELS),
  legalBasis: v.picklist(LEGAL_BASES),
  requiresConsent: v.boolean(),
  role: v.picklist(PURPOSE_ROLES),
  cookies: v.array(v.object(CookieInfo.entries)),
  marketing: v.boolean(),
  consentModeTypes: v.array(v.picklist(CONSENT_MODE_TYPES)),
  currentWording: v.nullable(v.object({ id: v.string(), version: v.number(), texts: v.array(WordingText) })),
  createdAt: Iso,
});
export const PurposeList = v.object({ purposes: v.array(Purpose) });
export const NewPurpose = v.strictObject({
  key: PurposeKey,
  name: Name(200),
  description: v.optional(v.pipe(v.string(), v.maxLength(2000, 'must be at most 2000 characters'))),
  channel: v.picklist(CHANNELS, `channel must be one of ${CHANNELS.join(', ')}`),
  legalBasis: v.picklist(LEGAL_BASES, `legalBasis must be one of ${LEGAL_BASES.join(', ')}`),
  role: v.optional(v.picklist(PURPOSE_ROLES, `role must be one of ${PURPOSE_ROLES.join(', ')}`)),
  cookies: v.optional(Cookies),
  marketing: v.optional(v.boolean()),
  consentModeTypes: v.optional(ConsentModeTypes),
});
export const PurposePatch = v.pipe(
  v.strictObject({
    name: v.optional(Name(200)),
    description: v.optional(v.pipe(v.string(), v.maxLength(2000, 'must be at most 2000 characters'))),
    cookies: v.optional(Cookies),
    marketing: v.optional(v.boolean()),
    consentModeTypes: v.optional(ConsentModeTypes),
  }),
  v.check((p) => Object.keys(p).length > 0, 'name at least one field to change (key, channel and legal basis cannot change)'),
);

// Sources
export const Source = v.object({ key: v.string(), label: v.string(), archived: v.boolean(), createdAt: Iso });
export const SourceList = v.object({ sources: v.array(Source) });
export const NewSource = v.strictObject({ key: SourceKey, label: Name(200) });
export const SourcePatch = v.pipe(
  v.strictObject({ label: v.optional(Name(200)), archived: v.optional(v.boolean()) }),
  v.check((p) => Object.keys(p).length > 0, 'name at least one field to change'),
);

// Keys
const Scopes = v.pipe(v.array(v.picklist(KEY_SCOPES, `scopes are ${KEY_SCOPES.join(', ')}`)), v.minLength(1, 'give at least one scope'));
export const ApiKey = v.object({
  id: v.string(),
  siteId: v.string(),
  name: v.string(),
  scopes: v.array(v.picklist(KEY_SCOPES)),
  createdAt: Iso,
  revokedAt: v.nullable(Iso),
});
export const ApiKeyList = v.object({ keys: v.array(ApiKey) });
export const NewApiKey = v.strictObject({ name: Name(200), scopes: Scopes });
export const CreatedApiKey = v.object({ ...ApiKey.entries, secret: v.string() });

// Consents
export const Evidence = v.strictObject({
  pageUrl: v.optional(v.pipe(v.string(), v.maxLength(2048, 'must be at most 2048 characters'), v.url('must be an absolute URL'))),
  formId: v.optional(v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'))),
  note: v.optional(v.pipe(v.string(), v.maxLength(2000, 'must be at most 2000 characters'))),
});
export const RecordConsent = v.pipe(
  v.strictObject({
    email: v.optional(Email),
    phone: v.optional(Phone),
    purpose: PurposeKey,
    action: v.picklist(RECORDABLE_ACTIONS, `action must be one of ${RECORDABLE_ACTIONS.join(', ')}`),
    wordingVersion: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'))),
    source: v.optional(SourceKey),
    evidence: v.optional(Evidence),
  }),
  v.check((c) => c.email !== undefined || c.phone !== undefined, 'give an e-mail address or a phone number'),
);
export const RecordedConsent = v.object({
  eventId: v.number(),
  subjectId: v.string(),
  seq: v.number(),
  purpose: v.string(),
  action: v.picklist(RECORDABLE_ACTIONS),
  status: v.picklist(CONSENT_STATUSES),
  occurredAt: Iso,
});

// Subjects
export const SubjectQuery = v.pipe(
  v.strictObject({ email: v.optional(Email), phone: v.optional(Phone) }),
  v.check((q) => (q.email === undefined) !== (q.phone === undefined), 'give exactly one of email or phone'),
);
export const Subject = v.object({
  id: v.string(),
  email: v.nullable(v.string()),
  phone: v.nullable(v.string()),
  hasEmail: v.boolean(),
  hasPhone: v.boolean(),
  restricted: v.boolean(),
  erased: v.boolean(),
  createdAt: Iso,
  consents: v.array(
    v.object({
      purpose: v.string(),
      status: v.picklist([...CONSENT_STATUSES, 'none']),
      since: v.nullable(Iso),
      wordingVersion: v.nullable(v.number()),
      source: v.nullable(v.string()),
    }),
  ),
  history: v.array(
    v.object({
      eventId: v.number(),
      seq: v.number(),
      action: v.picklist(EVENT_ACTIONS),
      purpose: v.nullable(v.string()),
      wording: v.nullable(v.object({ id: v.string(), version: v.number(), sha256: v.record(v.string(), v.string()) })),
      source: v.nullable(v.string()),
      actor: v.string(),
      occurredAt: Iso,
      evidence: v.nullable(
        v.object({
          pageUrl: v.optional(v.string()),
          formId: v.optional(v.string()),
          note: v.optional(v.string()),
          ip: v.optional(v.string()),
          userAgentHash: v.optional(v.string()),
        }),
      ),
    }),
  ),
});

// Cookie banner (page routes, called by the widget)
export const ConfigQuery = v.strictObject({ lang: v.optional(Lang) });
const Sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex'));
export const CookieConsent = v.strictObject({
  consentId: v.pipe(v.string(), v.uuid('must be a UUID')),
  categories: v.pipe(
    v.record(PurposeKey, v.boolean()),
    v.check((c) => Object.keys(c).length <= 50, 'at most 50 categories'),
  ),
  wordings: v.pipe(
    v.array(v.strictObject({ purpose: PurposeKey, version: v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')), lang: Lang, sha256: Sha256 })),
    v.minLength(1, 'name the wording shown'),
    v.maxLength(51, 'too many wordings'),
  ),
  revision: v.pipe(v.string(), v.maxLength(128, 'is too long')),
  gpc: v.boolean(),
  pageUrl: v.pipe(v.string(), v.maxLength(2048, 'is too long'), v.url('must be an absolute URL')),
});
export const CookieConsentAnswer = v.object({ consentId: v.string(), recordedAt: Iso });
const CookieCategory = v.object({
  key: v.string(),
  required: v.boolean(),
  marketing: v.boolean(),
  title: v.string(),
  body: v.string(),
  version: v.number(),
  sha256: v.string(),
  cookies: v.array(v.object(CookieInfo.entries)),
  consentMode: v.array(v.picklist(CONSENT_MODE_TYPES)),
});
export const CookieConfigSchema = v.object({
  site: v.string(),
  lang: v.string(),
  revision: v.string(),
  banner: v.object({ key: v.string(), title: v.string(), body: v.string(), version: v.number(), sha256: v.string() }),
  categories: v.array(CookieCategory),
  consentMode: v.boolean(),
  cookieDomain: v.optional(v.string()),
  cookieDays: v.number(),
  privacyPolicyUrl: v.optional(v.string()),
  gpc: v.boolean(),
});

// Inbound SMS (JSON variant, for providers other than Twilio)
export const SMS_ACTIONS = ['stopped', 'started', 'confirmed', 'nothing-to-restart', 'help', 'none'] as const;
export const SmsInbound = v.object({
  from: v.pipe(v.string(), v.maxLength(32, 'must be at most 32 characters'), v.minLength(1, 'must not be empty')),
  to: v.optional(v.pipe(v.string(), v.maxLength(32, 'must be at most 32 characters'))),
  body: v.pipe(v.string(), v.maxLength(1600, 'must be at most 1600 characters')),
  messageId: v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(200, 'must be at most 200 characters')),
});
export const SmsInboundAnswer = v.object({ action: v.picklist(SMS_ACTIONS), reply: v.nullable(v.string()) });
export type SmsAction = (typeof SMS_ACTIONS)[number];

export type RecordConsentBody = v.InferOutput<typeof RecordConsent>;
export type SiteView = v.InferOutput<typeof Site>;

// Subscriptions (page routes for `<consent-signup>` and `<consent-preferences>`; see shared/subscriptions.ts)
const WordingVersionNumber = v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'));
/** An optional contact field: an empty string counts as not given. */
const OptionalContact = <S extends v.GenericSchema<string, string>>(schema: S) => v.optional(v.union([v.literal(''), schema], 'is not valid'));
export const SignupFormQuery = v.strictObject({
  purposes: v.pipe(
    v.string(),
    v.regex(/^[a-z0-9][a-z0-9-]{0,62}(,[a-z0-9][a-z0-9-]{0,62}){0,19}$/, 'must be 1–20 purpose keys separated by commas'),
  ),
  lang: v.optional(Lang),
});
const FormPurposeSchema = v.object({
  key: v.string(),
  channel: v.picklist(CHANNELS),
  version: v.number(),
  lang: v.string(),
  title: v.string(),
  body: v.string(),
  sha256: v.string(),
});
const FieldNeed = v.picklist(['required', 'optional', 'none']);
export const SignupFormSchema = v.object({
  site: v.string(),
  name: v.string(),
  lang: v.string(),
  doubleOptIn: v.boolean(),
  privacyPolicyUrl: v.nullable(v.string()),
  fields: v.object({ email: FieldNeed, phone: FieldNeed }),
  purposes: v.array(FormPurposeSchema),
});
export const SignupBodySchema = v.strictObject({
  email: OptionalContact(Email),
  phone: OptionalContact(Phone),
  name: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(200, 'must be at most 200 characters'))),
  lang: Lang,
  source: v.optional(SourceKey),
  page: v.optional(v.pipe(v.string(), v.maxLength(2048, 'is too long'), v.url('must be an absolute URL'))),
  purposes: v.pipe(
    v.array(v.strictObject({ purpose: PurposeKey, wordingVersion: WordingVersionNumber, lang: Lang, sha256: Sha256 })),
    v.minLength(1, 'tick at least one purpose'),
    v.maxLength(20, 'at most 20 purposes'),
    v.check((list) => new Set(list.map((p) => p.purpose)).size === list.length, 'a purpose is named twice'),
  ),
  website: v.optional(v.pipe(v.string(), v.maxLength(2000, 'is too long'))),
});
export const SignupAnswerSchema = v.object({ status: v.literal('accepted'), confirmationSent: v.boolean() });
export const PreferenceLinkBody = v.strictObject({ email: Email, lang: v.optional(Lang) });
export const AcceptedAnswer = v.object({ status: v.literal('accepted') });

const PreferencePurposeSchema = v.object({
  key: v.string(),
  name: v.string(),
  description: v.string(),
  channel: v.picklist(CHANNELS),
  legalBasis: v.picklist(LEGAL_BASES),
  needsConsent: v.boolean(),
  status: v.picklist([...CONSENT_STATUSES, 'none']),
  since: v.nullable(v.string()),
  source: v.nullable(v.string()),
  agreed: v.nullable(v.object({ version: v.number(), lang: v.string(), title: v.string(), body: v.string() })),
  current: v.nullable(FormPurposeSchema),
  blocked: v.nullable(v.picklist(['sms-stopped', 'listed', 'bounced', 'complained'])),
});
export const PreferencesViewSchema = v.object({
  site: v.object({ id: v.string(), name: v.string(), privacyPolicyUrl: v.nullable(v.string()), controllerEmail: v.nullable(v.string()) }),
  lang: v.string(),
  person: v.object({
    email: v.nullable(v.string()),
    phone: v.nullable(v.string()),
    name: v.nullable(v.string()),
    restricted: v.boolean(),
    pendingEmailChange: v.boolean(),
  }),
  purposes: v.array(PreferencePurposeSchema),
  unsubscribed: v.object({ email: v.boolean(), sms: v.boolean() }),
  tokenExpiresAt: v.nullable(v.string()),
});
export const PreferenceToggleBody = v.pipe(
  v.strictObject({ granted: v.boolean(), wordingVersion: v.optional(WordingVersionNumber), lang: v.optional(Lang), sha256: v.optional(Sha256) }),
  v.check(
    (t) => (t.wordingVersion === undefined) === (t.lang === undefined) && (t.lang === undefined) === (t.sha256 === undefined),
    'give wordingVersion, lang and sha256 together',
  ),
);
export const MeUnsubscribeBody = v.strictObject({ channel: v.picklist(['email', 'sms', 'all'], 'channel must be email, sms or all') });
export const MePatchBody = v.pipe(
  v.strictObject({
    name: v.optional(v.nullable(v.pipe(v.string(), v.trim(), v.maxLength(200, 'must be at most 200 characters')))),
    email: v.optional(Email),
  }),
  v.check((p) => p.name !== undefined || p.email !== undefined, 'name at least one field to change'),
);
export const MeRestrictBody = v.strictObject({ restricted: v.boolean() });
export const MeExportQuery = v.strictObject({ format: v.optional(v.picklist(['json', 'csv'], 'format must be json or csv')) });
export const MeEraseBody = v.strictObject({ confirm: v.literal(true, 'must be true') });
export const ErasedAnswer = v.object({ erased: v.literal(true) });
export const SubjectLinksQuery = v.strictObject({ purpose: v.optional(PurposeKey) });
export const SubjectLinks = v.object({
  preferencesUrl: v.string(),
  unsubscribeUrl: v.string(),
  headers: v.object({ 'List-Unsubscribe': v.string(), 'List-Unsubscribe-Post': v.literal('List-Unsubscribe=One-Click') }),
});
/** The body of an RFC 8058 one-click POST (and of our own unsubscribe page's form, which adds `scope`). */
export const OneClickBody = v.object({
  'List-Unsubscribe': v.literal('One-Click', 'must be One-Click'),
  scope: v.optional(v.picklist(['purpose', 'all'], 'scope must be purpose or all')),
});
/** The confirm and e-mail change pages' forms carry nothing but the token in the URL. */
export const LinkTokenParam = v.object({ token: v.pipe(v.string(), v.maxLength(1024, 'is too long')) });

// The schemas above must describe exactly the contract the widgets are written against.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type _SubscriptionContractChecks = [
  Assert<Same<v.InferOutput<typeof SignupFormSchema>, SignupForm>>,
  Assert<Same<v.InferOutput<typeof SignupBodySchema>, SignupBody>>,
  Assert<Same<v.InferOutput<typeof SignupAnswerSchema>, SignupAnswer>>,
  Assert<Same<v.InferOutput<typeof PreferencesViewSchema>, PreferencesView>>,
  Assert<Same<v.InferOutput<typeof PreferenceToggleBody>, PreferenceToggle>>,
  Assert<Same<NonNullable<v.InferOutput<typeof MeExportQuery>['format']>, ExportFormat>>,
];
