// The one CSV reader and writer: RFC 4180 cases by hand, Python's csv module as the reference reader of what we write
// and writer of what we read, the typed errors (line numbers, missing and duplicate columns).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { columnIndex, formatCsvRow, IoError, parseCsv } from '../src/index.ts';
import { numpyUnavailable, runPythonJson } from './python.ts';

function caught(fn: () => unknown): IoError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IoError);
    return e as IoError;
  }
  throw new Error('expected an IoError, nothing was thrown');
}

describe('parseCsv (RFC 4180)', () => {
  test('quoted fields, doubled quotes, separators and newlines inside quotes, CRLF, a BOM, blank lines skipped', () => {
    const t = parseCsv('\uFEFFa,b,c\r\n1,"x, y","say ""hi"""\r\n\r\n2,"two\nlines",\n', 'mem.csv');
    expect(t.header).toEqual(['a', 'b', 'c']);
    expect(t.rows).toEqual([
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\nlines', ''],
    ]);
    expect(t.lines).toEqual([2, 4]);
  });

  test.each([
    ['a,b\n"1,2\n', 'CSV_PARSE', /mem\.csv: line 2: unterminated quoted field/],
    ['a,b\n"1"x,2\n', 'CSV_PARSE', /line 2: unexpected character "x" after a closing quote/],
    ['a,b\n1,x"y\n', 'CSV_PARSE', /line 2: quote inside an unquoted field/],
    ['a,b,c\n1,2,3\n4,5\n', 'CSV_PARSE', /line 3: 2 fields, the header \(line 1\) has 3/],
    ['', 'CSV_PARSE', /the file is empty \(no header row\)/],
  ])('%j -> %s', (text, code, message) => {
    const e = caught(() => parseCsv(text, 'mem.csv'));
    expect(e.code).toBe(code);
    expect(e.file).toBe('mem.csv');
    expect(e.message).toMatch(message);
  });
});

describe('columnIndex', () => {
  const table = (header: string) => parseCsv(`${header}\n${header.replace(/[^,]+/g, '0')}\n`, 'cols.csv');

  test('finds columns in any order, trimmed; ignoreCase compares in lower case', () => {
    expect(columnIndex(table('b, a ,c'), ['a', 'c'])).toEqual({ a: 1, c: 2 });
    expect(columnIndex(table('Score,LABEL'), ['label', 'score'], { ignoreCase: true })).toEqual({ label: 1, score: 0 });
  });

  test('names every missing column', () => {
    const e = caught(() => columnIndex(table('a,b'), ['a', 'x', 'y']));
    expect(e.code).toBe('CSV_MISSING_COLUMN');
    expect(e.message).toBe("CSV_MISSING_COLUMN: cols.csv: missing columns 'x', 'y' (columns: a, b)");
  });

  test('a requested column that appears twice is an error naming it (never first-wins)', () => {
    const e = caught(() => columnIndex(table('race,score,race'), ['score', 'race']));
    expect(e.code).toBe('CSV_DUPLICATE_COLUMN');
    expect(e.message).toMatch(/cols\.csv: column 'race' appears 2 times in the header \(columns 1, 3\)/);
    const ci = caught(() => columnIndex(table('Race,race'), ['race'], { ignoreCase: true }));
    expect(ci.code).toBe('CSV_DUPLICATE_COLUMN');
    // A duplicate the caller does not read is no ambiguity.
    expect(columnIndex(table('x,a,x'), ['a'])).toEqual({ a: 1 });
  });
});

const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', '1'), maxLength: 6 });
const rowsArb = fc
  .integer({ min: 1, max: 4 })
  .chain((w) => fc.array(fc.array(field, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 6 }))
  // A one-field record that is empty is a blank line (skipped, as pandas does), so keep one-column rows non-empty.
  .filter((rows) => rows.every((r) => r.length > 1 || r[0] !== ''));

describe('formatCsvRow', () => {
  test('parseCsv(formatCsvRow(...)) is the identity', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const text = rows.map((r) => `${formatCsvRow(r)}\r\n`).join('');
        const t = parseCsv(text, 'rt.csv');
        expect([t.header, ...t.rows]).toEqual(rows);
      }),
    );
  });

  test('quotes only what needs quoting; the separator may be longer than one character', () => {
    expect(formatCsvRow(['a', 'b c', 'd,e', 'f"g', 'h\ni', 'j\rk', ''])).toBe('a,b c,"d,e","f""g","h\ni","j\rk",');
    expect(formatCsvRow(['epoch', 'a, b', '0.5'], ', ')).toBe('epoch, "a, b", 0.5');
  });

  const skip = numpyUnavailable();
  test.skipIf(skip !== undefined)("Python's csv module reads what we write and writes what we read", () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const text = rows.map((r) => `${formatCsvRow(r)}\r\n`).join('');
        const py = runPythonJson<{ read: string[][]; written: string }>(
          'import csv, io, json, sys\n' +
            'rows = list(csv.reader(io.StringIO(sys.argv[1], newline="")))\n' +
            'out = io.StringIO(newline="")\n' +
            'csv.writer(out).writerows(json.loads(sys.argv[2]))\n' +
            'print(json.dumps({"read": rows, "written": out.getvalue()}))',
          [text, JSON.stringify(rows)],
        );
        expect(py.read).toEqual(rows);
        const back = parseCsv(py.written, 'python.csv');
        expect([back.header, ...back.rows]).toEqual(rows);
      }),
      { numRuns: 25 },
    );
  });
});
