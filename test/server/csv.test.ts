/** The streaming CSV reader: overlong lines, the separator, the header row; and the split of a checked CSV. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressColumn, csvLine, CsvParser, CUT_RECORD_CHARS, isBlank, MAX_RECORD_CHARS, type CsvRecord } from '../../server/services/csv';
import { splitCheckedCsv } from '../../server/services/check';

const CHUNK = 64 * 1024;

function parseAll(text: string, chunk = text.length || 1): CsvRecord[] {
  const p = new CsvParser();
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...p.push(text.slice(i, i + chunk)));
  return [...out, ...p.end()];
}

describe('CsvParser', () => {
  it('cuts a 100 MB line without a line break: one malformed record, then the next line; memory stays bounded', () => {
    const p = new CsvParser();
    const piece = 'x'.repeat(CHUNK);
    const records: CsvRecord[] = p.push('email\n');
    let most = 0;
    for (let sent = 0; sent < 100 * 1024 * 1024; sent += CHUNK) {
      records.push(...p.push(piece));
      most = Math.max(most, p.bufferedChars);
    }
    records.push(...p.push('\r'), ...p.push('\nanna@example.dk\n'), ...p.end());
    assert.ok(most <= 2 * MAX_RECORD_CHARS, `buffered ${most} characters`);
    assert.equal(p.bufferedChars, 0);
    assert.equal(records.length, 3);
    assert.deepEqual(records[0], { fields: ['email'], malformed: false });
    assert.equal(records[1]!.malformed, true);
    assert.equal(records[1]!.fields.length, 1);
    assert.ok(records[1]!.fields[0]!.length <= CUT_RECORD_CHARS);
    assert.ok(!isBlank(records[1]!));
    assert.deepEqual(records[2], { fields: ['anna@example.dk'], malformed: false });
  });

  it('cuts an overlong first line too (before the separator is known), and one that arrives whole', () => {
    const long = 'y'.repeat(3 * MAX_RECORD_CHARS);
    for (const chunk of [CHUNK, 1000, 10 * MAX_RECORD_CHARS]) {
      const records = parseAll(`${long}\r\na,b\r\n${long},z\nc,d`, chunk);
      assert.deepEqual(
        records.map((r) => r.malformed),
        [true, false, true, false],
        `chunks of ${chunk}`,
      );
      assert.deepEqual(records[1]!.fields, ['a', 'b']);
      assert.deepEqual(records[3]!.fields, ['c', 'd']);
    }
  });

  it('cuts an unterminated quote at the next line end', () => {
    const records = parseAll(`a\n"${'q'.repeat(2 * MAX_RECORD_CHARS)}\nb\n`, CHUNK);
    assert.deepEqual(records.map((r) => r.malformed), [false, true, false]);
    assert.deepEqual(records[2]!.fields, ['b']);
  });

  it('reads the same records whatever the chunk size', () => {
    const text = 'name,email\r\n"Hansen, Anne",a@x.dk\r\n"two\r\nlines",b@x.dk\r\nplain,c@x.dk';
    const whole = parseAll(text).map((r) => r.fields);
    for (const chunk of [1, 2, 3, 7]) assert.deepEqual(parseAll(text, chunk).map((r) => r.fields), whole);
    assert.deepEqual(whole, [['name', 'email'], ['Hansen, Anne', 'a@x.dk'], ['two\r\nlines', 'b@x.dk'], ['plain', 'c@x.dk']]);
  });

  it('finds the separator in the first line: ; or tab when most, outside quotes; , on a tie or none', () => {
    const sep = (text: string) => {
      const p = new CsvParser();
      const records = [...p.push(text), ...p.end()];
      return { delimiter: p.delimiter, fields: records.map((r) => r.fields) };
    };
    assert.deepEqual(sep('navn;email\r\n"Hansen; Anne";a@x.dk\r\n"x,y";b\r\n'), {
      delimiter: ';',
      fields: [['navn', 'email'], ['Hansen; Anne', 'a@x.dk'], ['x,y', 'b']],
    });
    assert.deepEqual(sep('navn\temail\n"a,b"\tc\n'), { delimiter: '\t', fields: [['navn', 'email'], ['a,b', 'c']] });
    assert.equal(sep('"a;b;c",d\n').delimiter, ',');
    assert.equal(sep('id;x,Kontakt\n').delimiter, ',');
    assert.equal(sep('email\nx;y\n').delimiter, ',');
    assert.equal(sep('a;b').delimiter, ';'); // no line end at all
    assert.equal(new CsvParser({ delimiter: ';' }).push('a,b;c\n')[0]!.fields.length, 2);
    assert.equal(csvLine(['Hansen, Anne', 'a;b', 'x'], '\n', ';'), 'Hansen, Anne;"a;b";x\n');
    assert.equal(csvLine(['a\tb', 'c'], '\n', '\t'), '"a\tb"\tc\n');
  });
});

describe('addressColumn', () => {
  it('takes the first row as a header only when a cell names a known column (or the one asked for)', () => {
    assert.deepEqual(addressColumn(['Anna', 'Hansen']), { header: false, index: 0, kind: 'auto' });
    assert.deepEqual(addressColumn(['name', 'note']), { header: false, index: 0, kind: 'auto' });
    assert.deepEqual(addressColumn(['name', 'E-mail']), { header: true, index: 1, kind: 'email' });
    assert.deepEqual(addressColumn(['navn', 'Mobil']), { header: true, index: 1, kind: 'phone' });
    assert.deepEqual(addressColumn(['id', 'subjectId']), { header: true, index: 1, kind: 'subjectId' });
    assert.deepEqual(addressColumn(['id', 'Kunde'], 'kunde'), { header: true, index: 1, kind: 'auto' });
    assert.equal(addressColumn(['id', 'Kunde'], 'nope'), undefined);
  });
});

describe('splitCheckedCsv', () => {
  const split = async (text: string, header: boolean | undefined) => {
    let allowed = '';
    let rejected = '';
    const summary = await splitCheckedCsv(
      (async function* () {
        yield new TextEncoder().encode(text);
      })(),
      { allowed: async (s) => void (allowed += s), rejected: async (s) => void (rejected += s) },
      { header },
    );
    return { allowed, rejected, summary };
  };

  it('writes to the allowed file only rows allowed, and the header row only when there is one', async () => {
    const noHeader = await split('Anna,allowed,reason\nbo@x.dk,true,consented\n', false);
    assert.equal(noHeader.allowed, 'bo@x.dk\n');
    assert.equal(noHeader.rejected, 'Anna,reason\n');
    assert.equal(noHeader.summary.rows, 2);
    const withHeader = await split('email,allowed,reason\nbo@x.dk,true,consented\ncy@x.dk,false,no-consent\n', true);
    assert.equal(withHeader.allowed, 'email\nbo@x.dk\n');
    assert.equal(withHeader.rejected, 'email,reason\ncy@x.dk,no-consent\n');
    assert.equal(withHeader.summary.rows, 2);
  });

  it('keeps the separator of the checked CSV', async () => {
    const r = await split('navn;email;allowed;reason\r\n"Hansen; Anne";a@x.dk;true;consented\r\nBo, B;b@x.dk;false;withdrawn\r\n', true);
    assert.equal(r.allowed, 'navn;email\r\n"Hansen; Anne";a@x.dk\r\n');
    assert.equal(r.rejected, 'navn;email;reason\r\nBo, B;b@x.dk;withdrawn\r\n');
  });
});
