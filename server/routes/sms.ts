import { Hono, type Context } from 'hono';
import { resolver } from 'hono-openapi';
import * as v from 'valibot';
import { ErrorBody, SiteId, SmsInbound, SmsInboundAnswer } from '../../shared/api';
import type { AppEnv } from '../http/env';
import { errorJson } from '../http/errors';
import { describeRoute, answers } from '../http/openapi';
import { requestMeta } from '../http/request-meta';
import { validate, validationError } from '../http/validation';
import { findSiteRow } from '../services/sites';
import { handleInboundSms, inboundSecret, twiml, twilioToken, verifyInboundSignature, verifyTwilioSignature } from '../services/sms';
import { header } from '../http/headers';

const SiteParam = v.object({ site: SiteId });
const tags = ['SMS'];

const error = (description: string) => ({ description, content: { 'application/json': { schema: resolver(ErrorBody) } } });

/** The URL the provider called, from PUBLIC_URL and the request's path and query: never the Host header. */
function publicRequestUrl(c: Context<AppEnv>): string {
  const url = new URL(c.req.url);
  return `${c.get('services').publicUrl}${url.pathname}${url.search}`;
}

export const smsRoutes = new Hono<AppEnv>()
  .post(
    '/sites/:site/sms/twilio',
    describeRoute({
      tags,
      summary: "Twilio's inbound-message webhook",
      description:
        "Set this URL as the phone number's *A message comes in* webhook (HTTP POST). The request must carry a valid `X-Twilio-Signature` made with the auth token set on the site " +
        '(`PATCH /v1/sites/{site}` `twilioAuthToken`), computed over the public URL (`PUBLIC_URL` + path + query) and the form parameters; otherwise 403 and nothing is recorded. ' +
        'A message that is, ignoring case and surrounding space, STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, STOPP, AFMELD or AVMELD (or a site STOP word) withdraws every granted SMS purpose and suppresses the number; ' +
        'YES, JA, START or OK confirms the SMS purposes of a web signup still pending for the number (a \'confirm\' event each; the number\'s own unsubscribes, erasure and STOP are lifted); ' +
        'START, UNSTOP or YES (or a site START word) also restores only purposes granted before an SMS stop; HELP or INFO answers with the site help text. Anything else is ignored. ' +
        'A retried `MessageSid` is answered as before and records nothing. The answer is TwiML in the site language.',
      requestBody: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: { type: 'object', properties: { From: { type: 'string' }, To: { type: 'string' }, Body: { type: 'string' }, MessageSid: { type: 'string' } }, required: ['From', 'Body', 'MessageSid'] },
          },
        },
      },
      responses: {
        200: { description: 'TwiML: a reply message, or an empty response', content: { 'text/xml': { schema: { type: 'string' } } } },
        400: error('A signed request without From, Body or MessageSid'),
        403: error('Missing or bad signature, or no Twilio auth token set on the site'),
        404: error('No such site'),
        415: error('Body is not application/x-www-form-urlencoded'),
      },
    }),
    validate('param', SiteParam),
    async (c) => {
      const services = c.get('services');
      const type = header(c, 'content-type') ?? '';
      if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
        return errorJson(c, 415, 'unsupported_media_type', 'send the body as application/x-www-form-urlencoded');
      }
      const site = await findSiteRow(services, c.req.valid('param').site);
      if (!site) return errorJson(c, 404, 'not_found', 'site not found');
      const params = [...new URLSearchParams(await c.req.text())];
      const token = twilioToken(services, site);
      if (!token || !verifyTwilioSignature(token, publicRequestUrl(c), params, header(c, 'x-twilio-signature'))) {
        return errorJson(c, 403, 'bad_signature', "the request is not signed with this site's Twilio auth token");
      }
      const param = (name: string) => params.find(([k]) => k === name)?.[1];
      const from = param('From');
      const body = param('Body');
      const messageId = param('MessageSid') ?? param('SmsSid');
      if (!from || body === undefined || !messageId) return errorJson(c, 400, 'invalid_request', 'From, Body and MessageSid are required');
      const outcome = await handleInboundSms(services, site, { provider: 'twilio', messageId, from, body }, requestMeta(c));
      return c.body(twiml(outcome.reply), 200, { 'content-type': 'text/xml; charset=utf-8' });
    },
  )
  .post(
    '/sites/:site/sms/inbound',
    describeRoute({
      tags,
      summary: 'Inbound SMS from another provider (JSON, signed)',
      description:
        'For SMS providers other than Twilio: forward each inbound message as `{ from, to, body, messageId }` with the header ' +
        '`X-Samtykke-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`, where the secret is the site\'s `smsInboundSecret`. ' +
        'A signature older or newer than 5 minutes, or not matching, gets 403 and records nothing. The keywords are handled as on the Twilio webhook; ' +
        'the answer names what was done and the reply to send back (null: send none). A retried `messageId` is answered as before and records nothing.',
      requestBody: { content: { 'application/json': { schema: resolver(SmsInbound) } } },
      responses: {
        ...answers(200, SmsInboundAnswer, 'What was done and the reply to send', 400, 404, 415),
        403: error('Missing, stale or bad signature, or no inbound secret set on the site'),
      },
    }),
    validate('param', SiteParam),
    async (c) => {
      const services = c.get('services');
      const type = header(c, 'content-type') ?? '';
      if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
        return errorJson(c, 415, 'unsupported_media_type', 'send the body as application/json');
      }
      const site = await findSiteRow(services, c.req.valid('param').site);
      if (!site) return errorJson(c, 404, 'not_found', 'site not found');
      const raw = await c.req.text();
      const secret = inboundSecret(services, site);
      if (!secret || !verifyInboundSignature(secret, header(c, 'x-samtykke-signature'), raw, services.now())) {
        return errorJson(c, 403, 'bad_signature', "the request is not signed with this site's inbound SMS secret, or the signature is stale");
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        return errorJson(c, 400, 'malformed_request', 'the body is not JSON');
      }
      const parsed = v.safeParse(SmsInbound, json);
      if (!parsed.success) return validationError(c, parsed.issues, 'body');
      const { from, body, messageId } = parsed.output;
      const outcome = await handleInboundSms(services, site, { provider: 'inbound', messageId, from, body }, requestMeta(c));
      return c.json({ action: outcome.action, reply: outcome.reply }, 200);
    },
  );
