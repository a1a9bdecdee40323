/**
 * The mails people receive from the server, rendered in their language from
 * mail-strings.ts: each as a subject, a plain-text body and an HTML body. Every value put
 * into HTML (wording texts, the site's and the person's names, URLs) is escaped here;
 * wording is plain text, so its line breaks become <br> and nothing in it is markup.
 */
import { fill, mailStrings, type MailStrings } from './mail-strings';

export interface MailSite {
  name: string;
  controllerEmail: string | null;
  controllerAddress: string | null;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** The preference page and one-click unsubscribe links every marketing-related message carries. */
export interface MarketingLinks {
  preferencesUrl: string;
  unsubscribeUrl: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Plain text as HTML: escaped, line breaks kept. */
function textHtml(value: string): string {
  return escapeHtml(value).replace(/\r?\n/g, '<br>');
}

/** A date and time as people read it in `lang`, in UTC. */
export function formatTime(ms: number, lang: string): string {
  try {
    return `${new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(ms)} UTC`;
  } catch {
    return new Date(ms).toISOString();
  }
}

export function formatDate(ms: number, lang: string): string {
  try {
    return new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(ms);
  } catch {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

/** RFC 8058 headers for a marketing message. */
export function marketingHeaders(unsubscribeUrl: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

interface Parts {
  lang: string;
  s: MailStrings;
  site: MailSite;
  subject: string;
  /** The person's name, for the greeting. */
  name?: string | null;
  /** Blocks of the body, in order. */
  blocks: Block[];
  links?: MarketingLinks;
}

type Block =
  | { kind: 'p'; text: string }
  | { kind: 'button'; label: string; url: string }
  | { kind: 'quote'; title: string; body: string; meta?: [string, string][] }
  | { kind: 'small'; text: string };

function controllerLines(s: MailStrings, site: MailSite): string[] {
  const lines = [`${s.controller}: ${site.name}`];
  const contact = [site.controllerEmail, site.controllerAddress].filter((x): x is string => !!x);
  if (contact.length) lines.push(`${s.contact}: ${contact.join(', ')}`);
  return lines;
}

function render(p: Parts): RenderedMail {
  const { s, site } = p;
  const greeting = p.name ? fill(s.greetingName, { name: p.name }) : s.greeting;
  const text: string[] = [greeting, ''];
  const html: string[] = [`<p>${escapeHtml(greeting)}</p>`];
  for (const b of p.blocks) {
    switch (b.kind) {
      case 'p':
        text.push(b.text, '');
        html.push(`<p>${textHtml(b.text)}</p>`);
        break;
      case 'small':
        text.push(b.text, '');
        html.push(`<p style="color:#555;font-size:14px">${textHtml(b.text)}</p>`);
        break;
      case 'button':
        text.push(`${b.label}:`, b.url, '');
        html.push(
          `<p><a href="${escapeHtml(b.url)}" style="display:inline-block;padding:10px 18px;background:#1b4f8a;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(b.label)}</a></p>`,
        );
        break;
      case 'quote':
        text.push(`* ${b.title}`, ...b.body.split(/\r?\n/).map((l) => `  ${l}`));
        for (const [k, v] of b.meta ?? []) text.push(`  ${k}: ${v}`);
        text.push('');
        html.push(
          `<blockquote style="margin:0 0 16px;padding:8px 12px;border-left:4px solid #1b4f8a;background:#f4f6f9"><strong>${escapeHtml(b.title)}</strong><br>${textHtml(b.body)}` +
            (b.meta?.length ? `<br><small>${b.meta.map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`).join('<br>')}</small>` : '') +
            '</blockquote>',
        );
        break;
    }
  }
  const controller = controllerLines(s, site);
  text.push('--', ...controller);
  html.push(`<hr><p style="color:#555;font-size:13px">${controller.map(escapeHtml).join('<br>')}</p>`);
  if (p.links) {
    const why = fill(s.footerWhy, { site: site.name });
    const unsubscribe = fill(s.footerUnsubscribe, { site: site.name });
    text.push('', why, `${s.footerManage}: ${p.links.preferencesUrl}`, `${unsubscribe}: ${p.links.unsubscribeUrl}`);
    html.push(
      `<p style="color:#555;font-size:13px">${escapeHtml(why)}<br><a href="${escapeHtml(p.links.preferencesUrl)}">${escapeHtml(s.footerManage)}</a> · <a href="${escapeHtml(p.links.unsubscribeUrl)}">${escapeHtml(unsubscribe)}</a></p>`,
    );
  }
  return {
    subject: p.subject,
    text: text.join('\n') + '\n',
    html: `<!doctype html><html lang="${escapeHtml(p.lang)}"><head><meta charset="utf-8"><title>${escapeHtml(p.subject)}</title></head><body style="font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;max-width:40rem">${html.join('\n')}</body></html>`,
  };
}

export interface ConfirmMailInput {
  lang: string;
  site: MailSite;
  /** Never the name a signup gave: the address is not verified yet (the mail greets without it). */
  name?: null;
  /** Purposes the link confirms (e-mail and other channels). */
  purposes: { title: string; body: string }[];
  /** SMS purposes: confirmed from the phone, by replying YES; listed with that sentence. */
  smsPurposes?: { title: string; body: string }[];
  url: string;
  days: number;
}

export function confirmMail(i: ConfirmMailInput): RenderedMail {
  const s = mailStrings(i.lang);
  const sms = i.smsPurposes ?? [];
  return render({
    lang: i.lang,
    s,
    site: i.site,
    name: null,
    subject: fill(s.confirmSubject, { site: i.site.name }),
    blocks: [
      { kind: 'p', text: fill(s.confirmIntro, { site: i.site.name }) },
      ...i.purposes.map((p): Block => ({ kind: 'quote', title: p.title, body: p.body })),
      ...(i.purposes.length ? [{ kind: 'button', label: s.confirmButton, url: i.url } as Block, { kind: 'small', text: fill(s.confirmExpires, { days: i.days }) } as Block] : []),
      ...(sms.length ? [{ kind: 'p', text: fill(s.confirmSms, { site: i.site.name }) } as Block, ...sms.map((p): Block => ({ kind: 'quote', title: p.title, body: p.body }))] : []),
      { kind: 'small', text: s.ignore },
    ],
  });
}

export interface ReceiptMailInput {
  lang: string;
  site: MailSite;
  name?: string | null;
  purposes: { name: string; title: string; body: string; version: number; at: number; source: string }[];
  links: MarketingLinks;
}

export function receiptMail(i: ReceiptMailInput): RenderedMail {
  const s = mailStrings(i.lang);
  return render({
    lang: i.lang,
    s,
    site: i.site,
    name: i.name,
    subject: fill(s.receiptSubject, { site: i.site.name }),
    blocks: [
      { kind: 'p', text: s.receiptIntro },
      ...i.purposes.map(
        (p): Block => ({
          kind: 'quote',
          title: `${s.receiptPurpose}: ${p.name}`,
          body: `${fill(s.receiptWording, { version: p.version })}:\n${p.title}\n${p.body}`,
          meta: [
            [s.receiptWhen, formatTime(p.at, i.lang)],
            [s.receiptSource, p.source],
          ],
        }),
      ),
      { kind: 'p', text: s.receiptWithdraw },
      { kind: 'button', label: s.footerManage, url: i.links.preferencesUrl },
      { kind: 'small', text: s.receiptAttachment },
    ],
    links: i.links,
  });
}

export function magicLinkMail(i: { lang: string; site: MailSite; name?: string | null; url: string }): RenderedMail {
  const s = mailStrings(i.lang);
  return render({
    lang: i.lang,
    s,
    site: i.site,
    name: i.name,
    subject: fill(s.magicSubject, { site: i.site.name }),
    blocks: [
      { kind: 'p', text: fill(s.magicIntro, { site: i.site.name }) },
      { kind: 'button', label: s.magicButton, url: i.url },
      { kind: 'small', text: s.ignore },
    ],
  });
}

/** To an address not verified yet: never with the person's name. */
export function changeEmailMail(i: { lang: string; site: MailSite; url: string }): RenderedMail {
  const s = mailStrings(i.lang);
  return render({
    lang: i.lang,
    s,
    site: i.site,
    name: null,
    subject: fill(s.changeSubject, { site: i.site.name }),
    blocks: [
      { kind: 'p', text: fill(s.changeIntro, { site: i.site.name }) },
      { kind: 'button', label: s.changeButton, url: i.url },
      { kind: 'small', text: s.ignore },
    ],
  });
}

export function erasureMail(i: { lang: string; site: MailSite; name?: string | null; at: number }): RenderedMail {
  const s = mailStrings(i.lang);
  return render({
    lang: i.lang,
    s,
    site: i.site,
    name: i.name,
    subject: fill(s.eraseSubject, { site: i.site.name }),
    blocks: [
      { kind: 'p', text: fill(s.eraseIntro, { site: i.site.name, date: formatDate(i.at, i.lang) }) },
      { kind: 'p', text: s.eraseKept },
    ],
  });
}
