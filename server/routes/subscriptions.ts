/**
 * Subscription routes: the signup form and signups (page routes, called by
 * `<consent-signup>`), magic links, the pages behind the links in our mails (confirm,
 * one-click unsubscribe, e-mail change), and the links a marketer puts in their own mails.
 */
import { Hono, type Context } from 'hono';
import { resolver } from 'hono-openapi';
import * as v from 'valibot';
import {
  AcceptedAnswer,
  ErrorBody,
  LinkTokenParam,
  OneClickBody,
  PreferenceLinkBody,
  SignupAnswerSchema,
  SignupBodySchema,
  SignupFormQuery,
  SignupFormSchema,
  SiteId,
  SubjectLinks,
  SubjectLinksQuery,
} from '../../shared/api';
import { LANGUAGES } from '../../shared/enums';
import type { SignupAnswer } from '../../shared/subscriptions';
import { requireScope } from '../http/auth';
import { pageCors } from '../http/cors';
import type { AppEnv } from '../http/env';
import { errorJson } from '../http/errors';
import { describeRoute, answers, bearer } from '../http/openapi';
import { FixedWindow, rateLimit } from '../http/rate-limit';
import { requestMeta } from '../http/request-meta';
import { jsonBody, validate, validationError } from '../http/validation';
import type { Services } from '../app';
import {
  changeDonePage,
  changePage,
  changeTakenPage,
  confirmDonePage,
  confirmNothingPage,
  confirmPage,
  expiredLinkPage,
  invalidLinkPage,
  LINK_PAGE_HEADERS,
  preferencesPage,
  PREFERENCES_PAGE_CSP,
  unsubscribeDonePage,
  unsubscribePage,
} from '../services/link-pages';
import { applyEmailChange, findEmailChange } from '../services/preferences';
import { mailStrings } from '../services/mail-strings';
import { findSiteRow } from '../services/sites';
import { checkLinkToken, personLang, preferencesLink, PREFS_LINK_MS, type LinkCheck, type SiteRow } from '../services/people';
import { confirmSignup, pendingPurposes, prepareMagicLink, prepareSignup, purposeTitle, signupForm, subjectLinks, unsubscribeEmail } from '../services/subscriptions';
import { header } from '../http/headers';

const SiteParam = v.object({ site: SiteId });
const SubjectParam = v.object({ site: SiteId, subject: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/, 'must be a subject id')) });
const tags = ['Subscriptions'];
const linkTags = ['Links in mails'];

/** Limits per app (tests build many apps in one process), in this instance's memory. */
interface Limits {
  signupIp: FixedWindow;
  signupAddress: FixedWindow;
  linkIp: FixedWindow;
  linkAddress: FixedWindow;
  /** E-mail change mails (PATCH /me): counted apart from magic links. */
  changeIp: FixedWindow;
  changePerson: FixedWindow;
  changeAddress: FixedWindow;
}
const limitsByApp = new WeakMap<Services, Limits>();
export function limitsOf(services: Services): Limits {
  let limits = limitsByApp.get(services);
  if (!limits) {
    limits = {
      signupIp: new FixedWindow(20, 10 * 60_000),
      signupAddress: new FixedWindow(3, 60 * 60_000),
      linkIp: new FixedWindow(20, 10 * 60_000),
      linkAddress: new FixedWindow(3, 60 * 60_000),
      changeIp: new FixedWindow(10, 60 * 60_000),
      changePerson: new FixedWindow(3, 60 * 60_000),
      changeAddress: new FixedWindow(3, 60 * 60_000),
    };
    limitsByApp.set(services, limits);
  }
  return limits;
}

export function tooMany(c: Context<AppEnv>, retryAfter: number, what: string) {
  c.header('Retry-After', String(retryAfter));
  return errorJson(c, 429, 'rate_limited', `too many ${what}; try again later`);
}

/** Runs a write after the answer has gone: its outcome must not change the answer (or its timing). */
function afterAnswer(work: () => Promise<void>, job: string) {
  work().catch((error: unknown) => {
    console.error(JSON.stringify({ level: 'error', job, error: error instanceof Error ? error.name : 'unknown' }));
  });
}

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' as const } } } });
const jsonError = (description: string) => ({ description, content: { 'application/json': { schema: resolver(ErrorBody) } } });

function linkPage(c: Context<AppEnv>, body: string, status: 200 | 403 | 409 | 410 = 200) {
  return c.html(body, status, LINK_PAGE_HEADERS);
}

/**
 * For a link that names nobody we know: the first of the browser's Accept-Language tags
 * that we have the words for, else English. Only known tags are ever used.
 */
function browserLang(c: Context<AppEnv>): string {
  const accepted = (header(c, 'accept-language') ?? '').slice(0, 200);
  for (const part of accepted.split(',')) {
    const primary = part.trim().split(/[-;]/)[0]!.toLowerCase();
    if (primary === 'no') return 'nb'; // "Norwegian" without the written standard
    if ((LANGUAGES as readonly string[]).includes(primary)) return primary;
  }
  return 'en';
}

function badLink(c: Context<AppEnv>, check: Extract<LinkCheck, { ok: false }>) {
  if (check.reason === 'expired' && check.site) return linkPage(c, expiredLinkPage(personLang(check.subject, check.site)), 410);
  return linkPage(c, invalidLinkPage(browserLang(c)), 403);
}

/** The token in the path, checked for `kind`; a malformed one is the same 403 page as a forged one. */
async function linkToken(c: Context<AppEnv>, kind: 'confirm' | 'unsubscribe' | 'change-email'): Promise<LinkCheck> {
  const parsed = v.safeParse(LinkTokenParam, { token: c.req.param('token') });
  if (!parsed.success) return { ok: false, reason: 'invalid' };
  return checkLinkToken(c.get('services'), parsed.output.token, kind);
}

/** The ledger event id a confirm token is bound to (what its mail showed). */
const upToOf = (check: Extract<LinkCheck, { ok: true }>) => (check.claims.scope.kind === 'confirm' ? check.claims.scope.upTo : 0);

const manageUrl = (services: Services, site: SiteRow, subjectId: string) => preferencesLink(services, site, subjectId, PREFS_LINK_MS);

export const subscriptionsRoutes = new Hono<AppEnv>()
  .use('/sites/:site/signup-form', pageCors(['GET']))
  .use('/sites/:site/signups', pageCors(['POST']))
  .use('/sites/:site/preference-links', pageCors(['POST']))
  .get(
    '/sites/:site/signup-form',
    rateLimit({ name: 'signup form', max: 600, windowMs: 60_000 }),
    describeRoute({
      tags,
      summary: 'The signup form: purposes with their current wording',
      description:
        'Public, for `<consent-signup>`. Each purpose asked for (`purposes=e-marketing,sms-offers`) with its current published wording in `lang` (else the site default) and its SHA-256, ' +
        'which the signup must send back. Unknown purpose keys are 400 (`unknown_purpose`); a purpose without a published wording is 409 (`no_current_wording`).',
      responses: answers(200, SignupFormSchema, 'The form', 400, 404, 409),
    }),
    validate('param', SiteParam),
    validate('query', SignupFormQuery),
    async (c) => {
      const q = c.req.valid('query');
      const form = await signupForm(c.get('services'), c.req.valid('param').site, q.purposes.split(','), q.lang);
      c.header('Cache-Control', 'public, max-age=60');
      return c.json(form);
    },
  )
  .post(
    '/sites/:site/signups',
    describeRoute({
      tags,
      summary: 'Sign up (double opt-in)',
      description:
        'Public, for `<consent-signup>`. Answers 202 with the same body whether the address is new, known, confirmed or suppressed: the work is done after answering. ' +
        'Each ticked purpose names the wording version shown and the SHA-256 of its text (409 `wording_mismatch` otherwise). ' +
        'With double opt-in (the site default) an e-mail address is required and a confirmation mail lists the purposes; a person who unsubscribed or was erased must always confirm. ' +
        'SMS purposes are confirmed only from the phone (a YES reply to the site\'s inbound SMS number), never by the mail; without double opt-in they are granted at once unless the person unsubscribed or was erased on that number. ' +
        'A known person is never changed by a signup (no contact data, name or language written); SMS purposes count only for the number they already hold. ' +
        'Purposes already granted record nothing (never downgraded); an address on an imported list, bounced or complained records nothing; SMS purposes for a number with an SMS STOP, on a list, bounced or complained are left out. ' +
        'A non-empty `website` (honeypot) is accepted and ignored. At most 20 signups per IP per 10 minutes and 3 per address per hour (429 with Retry-After).',
      requestBody: { content: { 'application/json': { schema: resolver(SignupBodySchema) } } },
      responses: { ...answers(202, SignupAnswerSchema, 'Accepted', 400, 404, 409, 413, 415), 429: jsonError('Too many signups from this IP or for this address') },
    }),
    validate('param', SiteParam),
    async (c, next) => {
      const services = c.get('services');
      const wait = limitsOf(services).signupIp.hit(requestMeta(c).ip ?? 'unknown', services.now());
      return wait ? tooMany(c, wait, 'signups from this address') : next();
    },
    ...jsonBody(SignupBodySchema),
    async (c) => {
      const services = c.get('services');
      const body = c.req.valid('json');
      const site = c.req.valid('param').site;
      const prepared = await prepareSignup(services, site, body, requestMeta(c));
      const answer: SignupAnswer = { status: 'accepted', confirmationSent: prepared.confirmationSent };
      if (body.website) return c.json(answer, 202);
      const wait = limitsOf(services).signupAddress.hit(`${site}\0${prepared.addressKey}`, services.now());
      if (wait) return tooMany(c, wait, 'signups for this address');
      afterAnswer(prepared.run, 'signup');
      return c.json(answer, 202);
    },
  )
  .post(
    '/sites/:site/preference-links',
    describeRoute({
      tags,
      summary: 'Mail me a link to my preferences',
      description:
        'Public. Always 202: when the address is a known person (not erased), a link to the preference page valid for one hour is mailed to it. Same rate limits as signups.',
      requestBody: { content: { 'application/json': { schema: resolver(PreferenceLinkBody) } } },
      responses: { ...answers(202, AcceptedAnswer, 'Accepted', 400, 404, 413, 415), 429: jsonError('Too many requests from this IP or for this address') },
    }),
    validate('param', SiteParam),
    async (c, next) => {
      const services = c.get('services');
      const wait = limitsOf(services).linkIp.hit(requestMeta(c).ip ?? 'unknown', services.now());
      return wait ? tooMany(c, wait, 'link requests from this address') : next();
    },
    ...jsonBody(PreferenceLinkBody),
    async (c) => {
      const services = c.get('services');
      const { email, lang } = c.req.valid('json');
      const site = c.req.valid('param').site;
      const prepared = await prepareMagicLink(services, site, email, lang);
      const wait = limitsOf(services).linkAddress.hit(`${site}\0${prepared.addressKey}`, services.now());
      if (wait) return tooMany(c, wait, 'link requests for this address');
      afterAnswer(prepared.run, 'magic-link');
      return c.json({ status: 'accepted' as const }, 202);
    },
  )
  .get(
    '/sites/:site/subjects/:subject/links',
    requireScope('write', 'admin'),
    describeRoute({
      tags,
      summary: "Links for a marketer's own mails",
      description:
        'The preference page link (valid 30 days) and the one-click unsubscribe link (RFC 8058, never expires) for one person, with the `List-Unsubscribe` and `List-Unsubscribe-Post` headers to put on the message. ' +
        '`purpose` scopes the unsubscribe to one purpose; without it, it covers all e-mail marketing. An erased person is 409 (`erased`): never contact them.',
      security: bearer,
      responses: answers(200, SubjectLinks, 'The links', 400, 401, 403, 404, 409),
    }),
    validate('param', SubjectParam),
    validate('query', SubjectLinksQuery),
    async (c) => {
      const { site, subject } = c.req.valid('param');
      c.header('Cache-Control', 'no-store');
      return c.json(await subjectLinks(c.get('services'), site, subject, c.req.valid('query').purpose));
    },
  )

  // Confirm (double opt-in)
  .get(
    '/confirm/:token',
    describeRoute({
      tags: linkTags,
      summary: 'Confirmation page (changes nothing)',
      description:
        'The link in the confirmation mail. Lists the purposes of that mail still waiting for confirmation and a button that POSTs; a GET never changes anything (link scanners open links). ' +
        'SMS purposes of the signup are listed with how they are confirmed: a YES reply from the phone.',
      responses: { 200: html('The page with the confirm button'), 403: html('Not a valid link'), 410: html('The link has expired') },
    }),
    async (c) => {
      const check = await linkToken(c, 'confirm');
      if (!check.ok) return badLink(c, check);
      const { site, subject } = check;
      const lang = personLang(subject, site);
      if (subject.erasedAt !== null) return linkPage(c, confirmNothingPage(lang));
      // Only what the mail showed: the states recorded up to the token's bound.
      const pending = await pendingPurposes(c.get('services').db, subject.id, upToOf(check), lang, site);
      if (pending.mail.length === 0 && pending.sms.length === 0) return linkPage(c, confirmNothingPage(lang, manageUrl(c.get('services'), site, subject.id)));
      return linkPage(c, confirmPage(lang, site.name, pending.mail, pending.sms));
    },
  )
  .post(
    '/confirm/:token',
    describeRoute({
      tags: linkTags,
      summary: 'Confirm a signup',
      description:
        "The confirmation page's form. The pending e-mail (and other-channel) purposes the link's mail showed become granted, with a 'confirm' event each; purposes recorded after the mail was sent are not. " +
        "SMS purposes stay pending until the phone replies YES. The person's own erasure of the address, and their unsubscribes from all e-mail or from a confirmed purpose, are lifted; the consent receipt is mailed.",
      responses: { 200: html('Confirmed, or nothing left to confirm'), 403: html('Not a valid link'), 410: html('The link has expired') },
    }),
    async (c) => {
      const services = c.get('services');
      const check = await linkToken(c, 'confirm');
      if (!check.ok) return badLink(c, check);
      const { site, subject } = check;
      const lang = personLang(subject, site);
      const done = await confirmSignup(services, site, subject.id, upToOf(check), requestMeta(c));
      if (!done) return linkPage(c, confirmNothingPage(lang, subject.erasedAt === null ? manageUrl(services, site, subject.id) : undefined));
      return linkPage(c, confirmDonePage(lang, manageUrl(services, site, subject.id)));
    },
  )

  // One-click unsubscribe (RFC 8058)
  .get(
    '/unsubscribe/:token',
    describeRoute({
      tags: linkTags,
      summary: 'Unsubscribe page (changes nothing)',
      description: 'The `List-Unsubscribe` URL opened in a browser: a choice (this purpose, or all e-mail marketing) and a button that POSTs. A GET never unsubscribes.',
      responses: { 200: html('The page'), 403: html('Not a valid link') },
    }),
    async (c) => {
      const services = c.get('services');
      const check = await linkToken(c, 'unsubscribe');
      if (!check.ok) return linkPage(c, invalidLinkPage(browserLang(c)), 403);
      const { site, subject, claims } = check;
      const lang = personLang(subject, site);
      const purpose = claims.scope.kind === 'unsubscribe' ? claims.scope.purpose : null;
      const title = purpose ? await purposeTitle(services, site.id, purpose, lang, site.defaultLanguage) : null;
      return linkPage(c, unsubscribePage(lang, site.name, title));
    },
  )
  .post(
    '/unsubscribe/:token',
    describeRoute({
      tags: linkTags,
      summary: 'One-click unsubscribe (RFC 8058)',
      description:
        'What a mailbox provider POSTs for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: the body `List-Unsubscribe=One-Click`, as `application/x-www-form-urlencoded` or `multipart/form-data`, ' +
        'with no cookies and no authentication: the token in the URL is the authority. Answers 200 (no redirect) and is idempotent. ' +
        "Records an 'unsubscribe' event per purpose that was granted or pending and suppresses the address (reason `unsubscribe`) for the link's purpose, or for all e-mail marketing; " +
        'the unsubscribe page adds `scope=all` to widen a purpose link. A tampered or foreign token is 403 and changes nothing.',
      requestBody: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: { type: 'object', properties: { 'List-Unsubscribe': { type: 'string', enum: ['One-Click'] }, scope: { type: 'string', enum: ['purpose', 'all'] } }, required: ['List-Unsubscribe'] },
          },
          'multipart/form-data': { schema: { type: 'object', properties: { 'List-Unsubscribe': { type: 'string', enum: ['One-Click'] } }, required: ['List-Unsubscribe'] } },
        },
      },
      responses: { 200: html('Unsubscribed'), 400: jsonError('The body is not List-Unsubscribe=One-Click'), 403: html('Not a valid link'), 415: jsonError('Not a form body') },
    }),
    async (c) => {
      const services = c.get('services');
      const check = await linkToken(c, 'unsubscribe');
      if (!check.ok) return linkPage(c, invalidLinkPage(browserLang(c)), 403);
      const type = header(c, 'content-type') ?? '';
      if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i.test(type)) {
        return errorJson(c, 415, 'unsupported_media_type', 'send the body as application/x-www-form-urlencoded or multipart/form-data');
      }
      let form: Record<string, unknown>;
      try {
        form = await c.req.parseBody();
      } catch {
        return errorJson(c, 400, 'malformed_request', 'the body is not a form');
      }
      const parsed = v.safeParse(OneClickBody, form);
      if (!parsed.success) return validationError(c, parsed.issues, 'body');
      const { site, subject, claims } = check;
      const tokenPurpose = claims.scope.kind === 'unsubscribe' ? claims.scope.purpose : null;
      const purpose = parsed.output.scope === 'all' ? null : tokenPurpose;
      const how = parsed.output.scope === undefined ? 'one-click unsubscribe (RFC 8058)' : 'unsubscribe page';
      await unsubscribeEmail(services, site, subject.id, purpose, how, requestMeta(c));
      const lang = personLang(subject, site);
      return linkPage(c, unsubscribeDonePage(lang, subject.erasedAt === null ? manageUrl(services, site, subject.id) : undefined));
    },
  )

  // E-mail change (rectification)
  .get(
    '/email-change/:token',
    describeRoute({
      tags: linkTags,
      summary: 'Confirm a new e-mail address (page; changes nothing)',
      responses: { 200: html('The page with the confirm button'), 403: html('Not a valid link'), 410: html('The link has expired') },
    }),
    async (c) => {
      const check = await linkToken(c, 'change-email');
      if (!check.ok) return badLink(c, check);
      const { site, subject, claims } = check;
      const lang = personLang(subject, site);
      if (subject.erasedAt !== null || claims.scope.kind !== 'change-email') return linkPage(c, invalidLinkPage(lang), 403);
      const change = await findEmailChange(c.get('services'), site.id, subject.id, claims.scope.change);
      if (change === 'invalid') return linkPage(c, invalidLinkPage(lang), 403);
      if (change === 'expired') return linkPage(c, expiredLinkPage(lang), 410);
      return linkPage(c, changePage(lang, site.name));
    },
  )
  .post(
    '/email-change/:token',
    describeRoute({
      tags: linkTags,
      summary: 'Confirm a new e-mail address',
      description: "Applies the change: the person's address is replaced and a 'rectify' event names the field (never the value). 409 when the address belongs to another person of the site.",
      responses: { 200: html('Changed'), 403: html('Not a valid link'), 409: html('The address is used by someone else'), 410: html('The link has expired') },
    }),
    async (c) => {
      const services = c.get('services');
      const check = await linkToken(c, 'change-email');
      if (!check.ok) return badLink(c, check);
      const { site, subject, claims } = check;
      const lang = personLang(subject, site);
      if (claims.scope.kind !== 'change-email') return linkPage(c, invalidLinkPage(lang), 403);
      const outcome = await applyEmailChange(services, site, subject.id, claims.scope.change, requestMeta(c));
      if (outcome === 'invalid') return linkPage(c, invalidLinkPage(lang), 403);
      if (outcome === 'expired') return linkPage(c, expiredLinkPage(lang), 410);
      if (outcome === 'taken') return linkPage(c, changeTakenPage(lang, site.name), 409);
      return linkPage(c, changeDonePage(lang, manageUrl(services, site, subject.id)));
    },
  );

/** The server's own preference page (when the site has no preferencesUrl): the widget, which reads the token from the URL fragment. */
export const preferencesPageRoutes = new Hono<AppEnv>().get('/preferences/:site', async (c) => {
  const parsed = v.safeParse(SiteParam, { site: c.req.param('site') });
  const site = parsed.success ? await findSiteRow(c.get('services'), parsed.output.site) : undefined;
  if (!site) return errorJson(c, 404, 'not_found', 'site not found');
  const title = `${site.name} · ${mailStrings(site.defaultLanguage).pageManage}`;
  return c.html(preferencesPage(site.defaultLanguage, site.id, title, '/samtykke.js'), 200, {
    'Content-Security-Policy': PREFERENCES_PAGE_CSP,
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
});
