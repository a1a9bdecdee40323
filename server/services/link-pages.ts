/**
 * The pages behind the links in our mails (confirm a signup, unsubscribe, confirm a new
 * e-mail address): server-rendered, no script, in the person's language. A GET only
 * shows a form; the form's POST acts, so link scanners that open every link change
 * nothing. Every value is escaped.
 */
import { escapeHtml } from './mail-templates';
import { fill, mailStrings } from './mail-strings';

export const LINK_PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** A link page: our own small HTML, no script unless `head` brings the widget. */
function page(lang: string, title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
body{font:17px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
blockquote{margin:0 0 1rem;padding:.5rem .75rem;border-left:4px solid #1b4f8a;background:#f4f6f9}
button{font:inherit;padding:.6rem 1.2rem;background:#1b4f8a;color:#fff;border:0;border-radius:.3rem;cursor:pointer}
button:focus-visible{outline:3px solid #f2a900;outline-offset:2px}
fieldset{border:0;padding:0;margin:0 0 1rem}label{display:block;margin:.25rem 0}
</style>
${head}</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

const text = (value: string) => escapeHtml(value).replace(/\r?\n/g, '<br>');

export function messagePage(lang: string, title: string, message: string, link?: { label: string; url: string }): string {
  const more = link ? `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>` : '';
  return page(lang, title, `<p role="status">${text(message)}</p>${more}`);
}

export function invalidLinkPage(lang: string): string {
  const s = mailStrings(lang);
  return messagePage(lang, s.pageInvalid.split(/[.:]/)[0] ?? s.pageInvalid, s.pageInvalid);
}

export function expiredLinkPage(lang: string, manage?: string): string {
  const s = mailStrings(lang);
  return messagePage(lang, s.pageExpired.split(/[.:]/)[0] ?? s.pageExpired, s.pageExpired, manage ? { label: s.pageManage, url: manage } : undefined);
}

/**
 * The purposes the link confirms, with the button; SMS purposes of the same signup are
 * listed with how they are confirmed (a YES from the phone), without a button of their own.
 */
export function confirmPage(lang: string, siteName: string, purposes: { title: string; body: string }[], smsPurposes: { title: string; body: string }[] = []): string {
  const s = mailStrings(lang);
  const quote = (p: { title: string; body: string }) => `<blockquote><strong>${text(p.title)}</strong><br>${text(p.body)}</blockquote>`;
  const mail = purposes.length
    ? `<p>${text(fill(s.pageConfirmLead, { site: siteName }))}</p>
${purposes.map(quote).join('\n')}
<form method="post"><button type="submit">${escapeHtml(s.confirmButton)}</button></form>`
    : '';
  const sms = smsPurposes.length ? `\n<p>${text(fill(s.confirmSms, { site: siteName }))}</p>\n${smsPurposes.map(quote).join('\n')}` : '';
  return page(lang, s.pageConfirmTitle, mail + sms);
}

export function confirmDonePage(lang: string, manage: string): string {
  const s = mailStrings(lang);
  return messagePage(lang, s.pageConfirmTitle, s.pageConfirmDone, { label: s.pageManage, url: manage });
}

export function confirmNothingPage(lang: string, manage?: string): string {
  const s = mailStrings(lang);
  return messagePage(lang, s.pageConfirmTitle, s.pageConfirmNothing, manage ? { label: s.pageManage, url: manage } : undefined);
}

/** The choice: this purpose (when the link names one) or all e-mail marketing. */
export function unsubscribePage(lang: string, siteName: string, purposeTitle: string | null): string {
  const s = mailStrings(lang);
  const all = fill(s.pageUnsubscribeAll, { site: siteName });
  const choice =
    purposeTitle === null
      ? `<input type="hidden" name="scope" value="all"><p>${text(all)}</p>`
      : `<fieldset><legend>${escapeHtml(s.pageUnsubscribeTitle)}</legend>
<label><input type="radio" name="scope" value="purpose" checked> ${text(fill(s.pageUnsubscribeOne, { purpose: purposeTitle }))}</label>
<label><input type="radio" name="scope" value="all"> ${text(all)}</label>
</fieldset>`;
  return page(
    lang,
    s.pageUnsubscribeTitle,
    `<form method="post">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
${choice}
<button type="submit">${escapeHtml(s.pageUnsubscribeButton)}</button>
</form>`,
  );
}

export function unsubscribeDonePage(lang: string, manage?: string): string {
  const s = mailStrings(lang);
  return messagePage(lang, s.pageUnsubscribeTitle, s.pageUnsubscribeDone, manage ? { label: s.pageManage, url: manage } : undefined);
}

export function changePage(lang: string, siteName: string): string {
  const s = mailStrings(lang);
  return page(
    lang,
    s.pageChangeTitle,
    `<p>${text(fill(s.changeIntro, { site: siteName }))}</p>
<form method="post"><button type="submit">${escapeHtml(s.pageChangeButton)}</button></form>`,
  );
}

export function changeDonePage(lang: string, manage: string): string {
  const s = mailStrings(lang);
  return messagePage(lang, s.pageChangeTitle, s.pageChangeDone, { label: s.pageManage, url: manage });
}

export function changeTakenPage(lang: string, siteName: string): string {
  const s = mailStrings(lang);
  return messagePage(lang, s.pageChangeTitle, fill(s.pageChangeTaken, { site: siteName }));
}

/** The server's own preference page: the widget, which reads the token from the fragment. */
export function preferencesPage(lang: string, site: string, title: string, script: string): string {
  return page(
    lang,
    title,
    `<consent-preferences site="${escapeHtml(site)}" lang="${escapeHtml(lang)}"></consent-preferences>`,
    `<script type="module" src="${escapeHtml(script)}"></script>\n`,
  );
}

export const PREFERENCES_PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
