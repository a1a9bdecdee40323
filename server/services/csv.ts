/**
 * A small streaming CSV reader and writer (RFC 4180, leniently): quoted fields with ""
 * escapes and embedded separators or line breaks, CRLF, LF or CR line ends, a UTF-8 BOM.
 * Text is pushed in as it arrives and complete records come out, so a file of any size is
 * read in constant memory. Nothing is thrown for bad input: a record that breaks the
 * rules (a quote inside an unquoted field, text after a closing quote, an unterminated
 * quote, a record over MAX_RECORD_CHARS) comes out marked `malformed`.
 */

export interface CsvRecord {
  fields: string[];
  malformed: boolean;
}

/** A quoted field may span lines; one that runs on longer than this is cut at the next line end. */
export const MAX_RECORD_CHARS = 64 * 1024;

const SPECIAL = /[\r\n"]/g;

export class CsvParser {
  #buf = '';
  #started = false;
  /** `\r\n` when the first line end seen was CRLF, else `\n` (so answers keep the input's style). */
  lineEnd: '\r\n' | '\n' | undefined;

  /** Complete records in `chunk` (with what was left over from earlier chunks). */
  push(chunk: string): CsvRecord[] {
    if (!this.#started) {
      if (chunk.length === 0) return [];
      this.#started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.#buf = this.#buf.length ? this.#buf + chunk : chunk;
    return this.#drain(false);
  }

  /** The last records, once the input has ended. */
  end(): CsvRecord[] {
    return this.#drain(true);
  }

  #drain(final: boolean): CsvRecord[] {
    const buf = this.#buf;
    const out: CsvRecord[] = [];
    let pos = 0;
    while (pos < buf.length) {
      SPECIAL.lastIndex = pos;
      const m = SPECIAL.exec(buf);
      if (m && m[0] !== '"') {
        // Fast path: an unquoted line.
        const i = m.index;
        if (m[0] === '\r' && i + 1 >= buf.length && !final) break; // a CRLF may be split across chunks
        out.push({ fields: buf.slice(pos, i).split(','), malformed: false });
        const crlf = m[0] === '\r' && buf.charCodeAt(i + 1) === 10;
        this.lineEnd ??= crlf ? '\r\n' : '\n';
        pos = i + (crlf ? 2 : 1);
        continue;
      }
      if (!m) {
        if (!final) break;
        out.push({ fields: buf.slice(pos).split(','), malformed: false });
        pos = buf.length;
        continue;
      }
      const quoted = parseQuoted(buf, pos, final);
      if (quoted) {
        out.push(quoted.record);
        pos = quoted.end;
        continue;
      }
      if (buf.length - pos <= MAX_RECORD_CHARS) break; // wait for more input
      // An unterminated quote would swallow the rest of the input: cut at the next line end.
      const nl = buf.slice(pos).search(/\r\n|\n|\r/);
      const cut = nl < 0 ? buf.length : pos + nl;
      out.push({ fields: [buf.slice(pos, cut)], malformed: true });
      pos = nl < 0 ? cut : cut + (buf.startsWith('\r\n', cut) ? 2 : 1);
    }
    this.#buf = pos >= buf.length ? '' : buf.slice(pos);
    return out;
  }
}

/** A record holding quotes, from `start`; undefined when it needs more input than `buf` has. */
function parseQuoted(buf: string, start: number, final: boolean): { record: CsvRecord; end: number } | undefined {
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
      if (i < buf.length && c !== 44 && c !== 13 && c !== 10) {
        malformed = true;
        const next = nextBoundary(buf, i);
        if (next < 0 && !final) return undefined;
        field += buf.slice(i, next < 0 ? buf.length : next);
        i = next < 0 ? buf.length : next;
      }
      continue;
    }
    const c = buf.charCodeAt(i);
    if (c === 44 /* , */) {
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
    const next = nextBoundary(buf, i);
    if (next < 0 && !final) return undefined;
    const text = buf.slice(i, next < 0 ? buf.length : next);
    if (text.includes('"')) malformed = true;
    field += text;
    i = next < 0 ? buf.length : next;
  }
}

function nextBoundary(buf: string, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (c === 44 || c === 13 || c === 10) return i;
  }
  return -1;
}

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: readonly string[], lineEnd = '\r\n'): string {
  let s = '';
  for (let i = 0; i < fields.length; i++) s += (i ? ',' : '') + csvField(fields[i]!);
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

const headerName = (s: string) => s.trim().toLowerCase().replace(/[\s_.-]/g, '');

/**
 * Finds the address column from the first record: the column named `column`; else one
 * named like email, phone, mobile or subjectId; else the first. The first record is taken
 * as a header when a column is named, or when its first cell holds neither an @ nor a digit.
 * Undefined when `column` names no column.
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
  const cell = first[0] ?? '';
  return { header: !/[@0-9]/.test(cell), index: 0, kind: 'auto' };
}

/** The kind of an address in an `auto` column. */
export function guessKind(value: string): AddressKind {
  if (value.includes('@')) return 'email';
  if (/^[A-Za-z0-9_-]{22}$/.test(value) && /[A-Za-z_]/.test(value)) return 'subjectId';
  return 'phone';
}

/** A record with nothing in it (a blank line). */
export const isBlank = (r: CsvRecord) => r.fields.length === 1 && r.fields[0]!.trim() === '';
