/**
 * The development outbox: mail kept instead of sent when no SMTP_URL is set, decrypted,
 * newest first (a row whose content was cleared is not listed: listDevOutbox). Mounted only when not in production (AppOptions.devOutbox). Everything is
 * escaped; an HTML body is shown in a sandboxed frame where no script runs.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../http/env';
import { listDevOutbox, type DevOutboxEntry } from '../services/mail';
import { escapeHtml } from '../services/mail-templates';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const devOutboxRoutes = new Hono<AppEnv>()
  .get('/dev/outbox.json', async (c) => {
    const messages = await listDevOutbox(c.get('services'));
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return c.json({ messages });
  })
  .get('/dev/outbox', async (c) => {
    const messages = await listDevOutbox(c.get('services'));
    c.header('Cache-Control', 'no-store');
    // The links are capabilities: no Referer leaks them.
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Content-Security-Policy', CSP);
    return c.html(page(messages));
  });


/** Escapes the text and turns http(s) URLs into links. */
function linkify(text: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g)) {
    parts.push(escapeHtml(text.slice(last, match.index)));
    const url = escapeHtml(match[0]);
    parts.push(`<a href="${url}" target="_blank" rel="noopener noreferrer">${url}</a>`);
    last = match.index + match[0].length;
  }
  parts.push(escapeHtml(text.slice(last)));
  return parts.join('');
}

function entry(m: DevOutboxEntry): string {
  const headers = Object.entries(m.headers)
    .map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${linkify(value)}</dd>`)
    .join('');
  const attachments = m.attachments.map((a) => `<li>${escapeHtml(a.filename)} (${escapeHtml(a.contentType ?? 'unknown type')}, ${a.size} bytes)</li>`).join('');
  // Links in the HTML body open in a new tab; the sandbox allows no script and no form.
  const htmlDoc = m.html === null ? '' : `<base target="_blank">${m.html}`;
  return `<article>
<h2>${escapeHtml(m.subject)}</h2>
<p class="meta"><span class="kind">${escapeHtml(m.kind)}</span> · <time datetime="${new Date(m.createdAt).toISOString()}">${escapeHtml(new Date(m.createdAt).toISOString())}</time> · to <strong>${escapeHtml(m.to)}</strong>${m.siteId ? ` · site ${escapeHtml(m.siteId)}` : ''}</p>
${headers ? `<dl>${headers}</dl>` : ''}
<pre>${linkify(m.text)}</pre>
${m.html === null ? '' : `<iframe title="HTML body" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="${escapeHtml(htmlDoc)}"></iframe>`}
${attachments ? `<ul>${attachments}</ul>` : ''}
</article>`;
}

function page(messages: DevOutboxEntry[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Development outbox · Samtykke</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
article{border:1px solid #ccc;border-radius:.5rem;padding:1rem;margin:1rem 0}
h2{margin:0 0 .25rem;font-size:1.15rem}.meta{margin:0 0 .5rem;color:#555}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.75rem;border-radius:.25rem}
iframe{width:100%;height:24rem;border:1px solid #ddd}dl{display:grid;grid-template-columns:max-content 1fr;gap:0 1rem;font-size:.9rem}dt{font-weight:600}dd{margin:0;word-break:break-all}
</style>
</head>
<body>
<h1>Development outbox</h1>
<p>Mail kept here because no <code>SMTP_URL</code> is set. Only shown when not in production. Mail to a person who was erased is gone (but the erasure receipt); everything is deleted after 30 days. Newest first; also as <a href="/dev/outbox.json">JSON</a>.</p>
${messages.length === 0 ? '<p>No messages yet.</p>' : messages.map(entry).join('\n')}
</body>
</html>`;
}
