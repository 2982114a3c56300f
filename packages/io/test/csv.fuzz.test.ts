// Fuzzing the CSV reader. (1) A committed corpus of mutated RFC 4180 files with the verdict of Python's csv module
// (strict=True; test-fixtures/generators/io_csv_mutations.py): where Python reads a rectangular table we read the
// same records (or refuse a quote inside an unquoted field, which RFC 4180 forbids and Python keeps as text); a
// ragged table or one Python refuses is a CSV_PARSE error. (2) Random mutations (fast-check): a CSV_PARSE error or a
// rectangular table that the writer writes back to text the reader reads to the same table.
import { readFixtureJson } from '@fairclip/test-fixtures';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatCsvRow, IoError, parseCsv } from '../src/index.ts';

interface Case {
  base: string;
  mutation: string;
  text: string;
  python: { ok: false; error: string } | { ok: true; rows: string[][]; ragged: boolean };
}
const corpus = readFixtureJson<{ generator: string; cases: Case[] }>('io/csv-mutations.json');

function read(text: string, source: string): { table?: ReturnType<typeof parseCsv>; error?: IoError } {
  try {
    return { table: parseCsv(text, source) };
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(IoError);
    expect((e as IoError).message).not.toMatch(/\n/);
    return { error: e as IoError };
  }
}

describe('CSV mutation corpus (Python csv, strict, decides)', () => {
  test('the corpus has accepted, ragged and refused cases', () => {
    expect(corpus.generator).toBe('test-fixtures/generators/io_csv_mutations.py');
    const kinds = new Set(corpus.cases.map((c) => (c.python.ok ? (c.python.ragged ? 'ragged' : 'ok') : 'error')));
    expect([...kinds].sort()).toEqual(['error', 'ok', 'ragged']);
  });

  test.each(corpus.cases.map((c, i) => [i, c.base, c.mutation, c] as const))('case %i: %s, %s', (_i, base, m, c) => {
    const { table, error } = read(c.text, `${base}.csv`);
    if (!c.python.ok) {
      expect(error?.code, `Python: ${c.python.error}`).toBe('CSV_PARSE');
      return;
    }
    if (c.python.rows.length === 0) {
      expect(error?.message).toMatch(/is empty/);
      return;
    }
    if (c.python.ragged) {
      expect(error?.message).toMatch(/CSV_PARSE: .*(fields, the header|quote inside an unquoted field)/);
      return;
    }
    if (error !== undefined) {
      // RFC 4180 forbids a quote inside an unquoted field; Python keeps it as text.
      expect(error.message, m).toMatch(/quote inside an unquoted field/);
      expect(c.python.rows.some((r) => r.some((f) => f.includes('"')))).toBe(true);
      return;
    }
    expect([table!.header, ...table!.rows]).toEqual(c.python.rows);
  });
});

describe('random CSV mutations', () => {
  const bases = [...new Set(corpus.cases.filter((c) => c.mutation === 'none').map((c) => c.text))];
  const edit = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('delete', 'insert', 'replace', 'truncate'),
    char: fc.constantFrom('"', ',', '\r', '\n', ' ', 'x', '\ufeff', '\u2028', '\0'),
  });

  test('a CSV_PARSE error, or a rectangular table that survives writing and reading back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bases.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        (b, edits) => {
          let text = bases[b]!;
          for (const e of edits) {
            const i = e.at % (text.length + 1);
            if (e.kind === 'delete') text = text.slice(0, i) + text.slice(i + 1);
            else if (e.kind === 'insert') text = text.slice(0, i) + e.char + text.slice(i);
            else if (e.kind === 'replace') text = text.slice(0, i) + e.char + text.slice(i + 1);
            else text = text.slice(0, i);
          }
          const { table, error } = read(text, 'fuzz.csv');
          if (error) {
            expect(error.code).toBe('CSV_PARSE');
            return;
          }
          for (const r of table!.rows) expect(r.length).toBe(table!.header.length);
          const written = [table!.header, ...table!.rows].map((r) => formatCsvRow(r)).join('\n');
          const back = parseCsv(written, 'back.csv');
          expect([back.header, ...back.rows]).toEqual([table!.header, ...table!.rows]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

test('frozen counterexample (FC_SEED=5525): a first field starting with U+FEFF after a blank line is written quoted', () => {
  const table = parseCsv('\r\ufeffa,b\n1,2\n', 'bom.csv');
  expect(table.header).toEqual(['\ufeffa', 'b']);
  const back = parseCsv([table.header, ...table.rows].map((r) => formatCsvRow(r)).join('\n'), 'back.csv');
  expect(back.header).toEqual(['\ufeffa', 'b']);
});
