/**
 * Just enough MIME for tests that read mail as an SMTP server received it: unfolded headers,
 * nested multiparts, base64 and quoted-printable bodies, charset UTF-8.
 */

export interface MimePart {
  headers: Map<string, string>;
  /** Decoded body of a leaf part (text as UTF-8). */
  body: string;
  parts: MimePart[];
}

function splitHead(raw: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  return m ? { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) } : { head: raw, body: '' };
}

function parseHeaders(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return headers;
}

function param(value: string | undefined, name: string): string | undefined {
  const m = new RegExp(`${name}="?([^";]+)"?`, 'i').exec(value ?? '');
  return m?.[1];
}

function decodeQuotedPrintable(text: string): string {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const ch = soft[i]!;
    if (ch === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words in a header (=?UTF-8?Q?…?= and =?UTF-8?B?…?=). */
export function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*(?==\?)?/g, (_m, _cs: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  );
}

export function parseMime(raw: string): MimePart {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = param(type, 'boundary');
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body
      .split(`--${boundary}`)
      .slice(1)
      .filter((p) => !p.startsWith('--'))
      .map((p) => parseMime(p.replace(/^\r?\n/, '')));
    return { headers, body: '', parts };
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const decoded =
    encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : body;
  return { headers, body: decoded, parts: [] };
}

/** Every leaf part, depth first. */
export function leaves(part: MimePart): MimePart[] {
  return part.parts.length ? part.parts.flatMap(leaves) : [part];
}

/** A received mail: its headers, its text and HTML bodies, and its attachments. */
export function readMail(raw: string) {
  const root = parseMime(raw);
  const all = leaves(root);
  const byType = (t: RegExp) => all.find((p) => t.test(p.headers.get('content-type') ?? 'text/plain') && !/attachment/i.test(p.headers.get('content-disposition') ?? ''));
  return {
    header: (name: string) => {
      const v = root.headers.get(name.toLowerCase());
      return v === undefined ? undefined : decodeWords(v);
    },
    text: byType(/^text\/plain/i)?.body ?? '',
    html: byType(/^text\/html/i)?.body ?? '',
    attachments: all
      .filter((p) => /attachment/i.test(p.headers.get('content-disposition') ?? ''))
      .map((p) => ({ filename: param(p.headers.get('content-disposition'), 'filename') ?? '', contentType: p.headers.get('content-type') ?? '', content: p.body })),
  };
}
