/**
 * A small streaming CSV reader and writer (RFC 4180, leniently): quoted fields with ""
 * escapes and embedded separators or line breaks, CRLF, LF or CR line ends, a UTF-8 BOM.
 * The separator is `,`, `;` (Danish Excel) or a tab: the one the first line holds most of
 * outside quotes, `,` on a tie. Text is pushed in as it arrives and complete records come
 * out, so a file of any size is read in constant memory: each piece of text is scanned
 * once, and no more than about MAX_RECORD_CHARS is kept. Nothing is thrown for bad input:
 * a record that breaks the rules (a quote inside an unquoted field, text after a closing
 * quote, an unterminated quote, a record over MAX_RECORD_CHARS) comes out marked
 * `malformed`. A record over the limit is cut to its first CUT_RECORD_CHARS characters and
 * the rest of its line is dropped unread.
 */

export interface CsvRecord {
  fields: string[];
  malformed: boolean;
}

/** The longest record kept; a longer one comes out malformed and is cut at the next line end. */
export const MAX_RECORD_CHARS = 64 * 1024;

/** What is kept of a record over the limit (so that its answer line stays well under the limit). */
export const CUT_RECORD_CHARS = 1024;

export type CsvDelimiter = ',' | ';' | '\t';

const SPECIAL = /[\r\n"]/g;
const LINE_END = /[\r\n]/;

export class CsvParser {
  #buf = '';
  #started = false;
  /** Where in #buf the search for a quote or line end goes on (all before it is plain text). */
  #scan = 0;
  /** Dropping the rest of an overlong line: to its line end (`line`), or a LF after a CR just dropped (`lf`). */
  #skipping: 'line' | 'lf' | undefined;
  #delimiter: CsvDelimiter | undefined;
  /** `\r\n` when the first line end seen was CRLF, else `\n` (so answers keep the input's style). */
  lineEnd: '\r\n' | '\n' | undefined;

  /** `delimiter`: use this separator instead of finding it in the first line. */
  constructor(options: { delimiter?: CsvDelimiter } = {}) {
    this.#delimiter = options.delimiter;
  }

  /** The separator: given, or found in the first line (undefined until that line is complete). */
  get delimiter(): CsvDelimiter | undefined {
    return this.#delimiter;
  }

  /** Characters held back waiting for the rest of a record (bounded by about MAX_RECORD_CHARS plus one chunk). */
  get bufferedChars(): number {
    return this.#buf.length;
  }

  /** Complete records in `chunk` (with what was left over from earlier chunks). */
  push(chunk: string): CsvRecord[] {
    if (!this.#started) {
      if (chunk.length === 0) return [];
      this.#started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.#skipping) {
      chunk = this.#skip(chunk);
      if (!chunk) return [];
    }
    this.#buf = this.#buf.length ? this.#buf + chunk : chunk;
    return this.#drain(false);
  }

  /** The last records, once the input has ended. */
  end(): CsvRecord[] {
    this.#skipping = undefined;
    return this.#drain(true);
  }

  /** What follows the line end of the line being dropped ('' when it is not in `chunk`). */
  #skip(chunk: string): string {
    if (this.#skipping === 'lf') {
      this.#skipping = undefined;
      return chunk.charCodeAt(0) === 10 ? chunk.slice(1) : chunk;
    }
    const nl = chunk.search(LINE_END);
    if (nl < 0) return '';
    if (chunk.charCodeAt(nl) === 13) {
      if (nl + 1 >= chunk.length) {
        this.#skipping = 'lf';
        return '';
      }
      this.#skipping = undefined;
      return chunk.slice(nl + (chunk.charCodeAt(nl + 1) === 10 ? 2 : 1));
    }
    this.#skipping = undefined;
    return chunk.slice(nl + 1);
  }

  /** Finds the separator in the first line; false when that line is not complete yet. */
  #detect(final: boolean): boolean {
    const buf = this.#buf;
    const counts = [0, 0, 0]; // , ; tab
    let quoted = false;
    let i = 0;
    for (; i < buf.length && i <= MAX_RECORD_CHARS; i++) {
      const c = buf.charCodeAt(i);
      if (c === 34) quoted = !quoted;
      else if (quoted) continue;
      else if (c === 13 || c === 10) break;
      else if (c === 44) counts[0]!++;
      else if (c === 59) counts[1]!++;
      else if (c === 9) counts[2]!++;
    }
    if (i >= buf.length && !final) return false;
    const [comma, semicolon, tab] = counts as [number, number, number];
    this.#delimiter = semicolon > comma && semicolon >= tab ? ';' : tab > comma && tab > semicolon ? '\t' : ',';
    return true;
  }

  /** A record over the limit: cut, and the rest of its line dropped. Returns where reading goes on. */
  #overflow(buf: string, pos: number, final: boolean, out: CsvRecord[]): number {
    out.push({ fields: [buf.slice(pos, pos + CUT_RECORD_CHARS)], malformed: true });
    const rel = buf.slice(pos).search(LINE_END);
    if (rel < 0) {
      if (!final) this.#skipping = 'line';
      return buf.length;
    }
    const cut = pos + rel;
    if (buf.charCodeAt(cut) === 13) {
      if (cut + 1 >= buf.length) {
        if (!final) this.#skipping = 'lf';
        return buf.length;
      }
      return cut + (buf.charCodeAt(cut + 1) === 10 ? 2 : 1);
    }
    return cut + 1;
  }

  #drain(final: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.#delimiter === undefined) {
      if (this.#buf.length === 0) return out;
      if (!this.#detect(final)) return out;
    }
    const delim = this.#delimiter!;
    const delimCode = delim.charCodeAt(0);
    const buf = this.#buf;
    let pos = 0;
    let scan = this.#scan;
    let rest = 0; // where the search goes on in what is kept
    while (pos < buf.length) {
      SPECIAL.lastIndex = Math.max(pos, scan);
      const m = SPECIAL.exec(buf);
      if (m && m[0] !== '"') {
        // Fast path: an unquoted line.
        const i = m.index;
        if (m[0] === '\r' && i + 1 >= buf.length && !final) {
          rest = i - pos; // a CRLF may be split across chunks
          break;
        }
        const crlf = m[0] === '\r' && buf.charCodeAt(i + 1) === 10;
        this.lineEnd ??= crlf ? '\r\n' : '\n';
        if (i - pos > MAX_RECORD_CHARS) out.push({ fields: [buf.slice(pos, pos + CUT_RECORD_CHARS)], malformed: true });
        else out.push({ fields: buf.slice(pos, i).split(delim), malformed: false });
        pos = i + (crlf ? 2 : 1);
        continue;
      }
      if (!m) {
        if (buf.length - pos > MAX_RECORD_CHARS) {
          pos = this.#overflow(buf, pos, final, out);
          continue;
        }
        if (!final) {
          rest = buf.length - pos; // all plain text: not searched again
          break;
        }
        out.push({ fields: buf.slice(pos).split(delim), malformed: false });
        pos = buf.length;
        continue;
      }
      const quoted = parseQuoted(buf, pos, final, delimCode);
      if (quoted) {
        const long = quoted.end - pos > MAX_RECORD_CHARS;
        out.push(long ? { fields: [buf.slice(pos, pos + CUT_RECORD_CHARS)], malformed: true } : quoted.record);
        pos = quoted.end;
        continue;
      }
      if (buf.length - pos <= MAX_RECORD_CHARS) break; // wait for more input
      // An unterminated quote would swallow the rest of the input: cut at the next line end.
      pos = this.#overflow(buf, pos, final, out);
    }
    this.#buf = pos >= buf.length ? '' : buf.slice(pos);
    this.#scan = this.#buf ? rest : 0;
    return out;
  }
}

/** A record holding quotes, from `start`; undefined when it needs more input than `buf` has. */
function parseQuoted(buf: string, start: number, final: boolean, delim: number): { record: CsvRecord; end: number } | undefined {
  const fields: string[] = [];
  let malformed = false;
  let i = start;
  let field = '';
  for (;;) {
    if (i >= buf.length) {
      if (!final) return undefined;
      fields.push(field);
      return { record: { fields, malformed }, end: i };
    }
    if (buf.charCodeAt(i) === 34 /* " */ && field === '') {
      // A quoted field.
      let j = i + 1;
      let value = '';
      for (;;) {
        const q = buf.indexOf('"', j);
        if (q < 0) {
          if (!final) return undefined;
          value += buf.slice(j);
          fields.push(value);
          return { record: { fields, malformed: true }, end: buf.length };
        }
        value += buf.slice(j, q);
        if (buf.charCodeAt(q + 1) === 34) {
          value += '"';
          j = q + 2;
          continue;
        }
        if (q + 1 >= buf.length && !final) return undefined;
        i = q + 1;
        break;
      }
      field = value;
      // After the closing quote: a separator, a line end, or (malformed) more text.
      const c = buf.charCodeAt(i);
      if (i < buf.length && c !== delim && c !== 13 && c !== 10) {
        malformed = true;
        const next = nextBoundary(buf, i, delim);
        if (next < 0 && !final) return undefined;
        field += buf.slice(i, next < 0 ? buf.length : next);
        i = next < 0 ? buf.length : next;
      }
      continue;
    }
    const c = buf.charCodeAt(i);
    if (c === delim) {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === 13 || c === 10) {
      if (c === 13 && i + 1 >= buf.length && !final) return undefined;
      fields.push(field);
      return { record: { fields, malformed }, end: i + (c === 13 && buf.charCodeAt(i + 1) === 10 ? 2 : 1) };
    }
    // Unquoted text (possibly with a stray quote in it, which is malformed but kept).
    const next = nextBoundary(buf, i, delim);
    if (next < 0 && !final) return undefined;
    const text = buf.slice(i, next < 0 ? buf.length : next);
    if (text.includes('"')) malformed = true;
    field += text;
    i = next < 0 ? buf.length : next;
  }
}

function nextBoundary(buf: string, from: number, delim: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (c === delim || c === 13 || c === 10) return i;
  }
  return -1;
}

export function csvField(value: string, delimiter: CsvDelimiter = ','): string {
  return value.includes(delimiter) || /["\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: readonly string[], lineEnd = '\r\n', delimiter: CsvDelimiter = ','): string {
  let s = '';
  for (let i = 0; i < fields.length; i++) s += (i ? delimiter : '') + csvField(fields[i]!, delimiter);
  return s + lineEnd;
}

/** Decoded text of a byte stream, in pieces as they arrive. */
export async function* textChunks(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Records of a CSV byte stream, in batches of about `batch` records. */
export async function* csvBatches(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, parser: CsvParser, batch: number): AsyncGenerator<CsvRecord[]> {
  let pending: CsvRecord[] = [];
  for await (const text of textChunks(body)) {
    const records = parser.push(text);
    if (records.length) pending = pending.length ? pending.concat(records) : records;
    while (pending.length >= batch) {
      yield pending.slice(0, batch);
      pending = pending.slice(batch);
    }
  }
  const last = parser.end();
  if (last.length) pending = pending.concat(last);
  while (pending.length > 0) {
    yield pending.slice(0, batch);
    pending = pending.slice(batch);
  }
}

export type AddressKind = 'email' | 'phone' | 'subjectId';

export interface AddressColumn {
  /** The first record is a header row. */
  header: boolean;
  index: number;
  /** What the column holds; `auto`: decided per value (an @ makes it an e-mail address). */
  kind: AddressKind | 'auto';
}

const COLUMN_KINDS: Record<string, AddressKind> = {
  email: 'email', mail: 'email', emailaddress: 'email', epost: 'email', epostadresse: 'email', emailadresse: 'email',
  phone: 'phone', mobile: 'phone', mobil: 'phone', telefon: 'phone', tlf: 'phone', msisdn: 'phone', phonenumber: 'phone', tel: 'phone', sms: 'phone', mobilnummer: 'phone',
  subjectid: 'subjectId', subject: 'subjectId',
};

/** Header names of a column that may hold either (decided per value). */
const AUTO_COLUMNS = new Set(['kontakt', 'contact']);

const headerName = (s: string) => s.trim().toLowerCase().replace(/[\s_.-]/g, '');

/**
 * Finds the address column from the first record: the column named `column`; else one
 * named like email, phone, mobile or subjectId (or contact, kontakt: either); else the first. The first record is a
 * header only when one of its cells names a column like that (or is `column`); otherwise
 * it is data. Undefined when `column` names no column.
 */
export function addressColumn(first: readonly string[], column?: string): AddressColumn | undefined {
  if (column !== undefined) {
    const wanted = column.trim().toLowerCase();
    const index = first.findIndex((f) => f.trim().toLowerCase() === wanted);
    if (index < 0) return undefined;
    return { header: true, index, kind: COLUMN_KINDS[headerName(first[index]!)] ?? 'auto' };
  }
  const index = first.findIndex((f) => COLUMN_KINDS[headerName(f)] !== undefined);
  if (index >= 0) return { header: true, index, kind: COLUMN_KINDS[headerName(first[index]!)]! };
  const contact = first.findIndex((f) => AUTO_COLUMNS.has(headerName(f)));
  if (contact >= 0) return { header: true, index: contact, kind: 'auto' };
  return { header: false, index: 0, kind: 'auto' };
}

/** The kind of an address in an `auto` column. */
export function guessKind(value: string): AddressKind {
  if (value.includes('@')) return 'email';
  if (/^[A-Za-z0-9_-]{22}$/.test(value) && /[A-Za-z_]/.test(value)) return 'subjectId';
  return 'phone';
}

/** A record with nothing in it (a blank line). */
export const isBlank = (r: CsvRecord) => !r.malformed && r.fields.length === 1 && r.fields[0]!.trim() === '';
