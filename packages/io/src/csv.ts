// CSV reading and writing (RFC 4180: quoted fields, doubled quotes, newlines inside quotes, CRLF, a UTF-8 BOM) with
// errors that name the file and the line, as pandas.read_csv reads the files of the datasets (first row = header,
// blank lines skipped). The one CSV reader of the workspace: datasets, apps and tests use it.
import { readFileSync } from 'node:fs';
import { IoError, oneLine, osError, quoted } from './errors.ts';

export interface CsvTable {
  readonly source: string;
  readonly header: readonly string[];
  /** Data rows; each has exactly `header.length` fields. */
  readonly rows: readonly (readonly string[])[];
  /** 1-based line number in the file where each row starts (for messages). */
  readonly lines: readonly number[];
}

/** Parses CSV text. Throws CSV_PARSE for an unterminated quote, text after a closing quote, or a row whose number
 * of fields differs from the header's. */
export function parseCsv(text: string, source: string): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  const fail = (msg: string, at: number): never => {
    throw new IoError('CSV_PARSE', `line ${at}: ${msg}`, { file: source });
  };
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let endOfRecord = false;
    while (!endOfRecord) {
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) fail('unterminated quoted field', startLine);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            if (c === '\n') line++;
            field += c;
            i++;
          }
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          fail(`unexpected character ${JSON.stringify(text[i])} after a closing quote`, line);
        }
      }
      while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        if (text[i] === '"') fail('quote inside an unquoted field', line);
        field += text[i];
        i++;
      }
      fields.push(field);
      field = '';
      if (i >= n) {
        endOfRecord = true;
      } else if (text[i] === ',') {
        i++;
      } else {
        if (text[i] === '\r') i++;
        if (text[i] === '\n') i++;
        line++;
        endOfRecord = true;
      }
    }
    const blank = fields.length === 1 && fields[0] === '';
    if (!blank) {
      records.push(fields);
      lines.push(startLine);
    }
  }
  const header = records.shift();
  const headerLine = lines.shift();
  if (!header) throw new IoError('CSV_PARSE', 'the file is empty (no header row)', { file: source });
  records.forEach((r, k) => {
    if (r.length !== header.length) {
      fail(`${r.length} fields, the header (line ${headerLine}) has ${header.length}`, lines[k]!);
    }
  });
  return { source, header, rows: records, lines };
}

/** Reads and parses a CSV file (UTF-8). NOT_FOUND when it is missing. */
export function readCsv(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw osError(e, path);
  }
  return parseCsv(text, path);
}

/**
 * Index of each named column (header names trimmed; with `ignoreCase`, compared in lower case). CSV_MISSING_COLUMN
 * naming every missing one; CSV_DUPLICATE_COLUMN when a requested column appears more than once (which one is meant
 * is ambiguous, so none is picked).
 */
export function columnIndex<K extends string>(
  table: CsvTable,
  columns: readonly K[],
  options: { readonly ignoreCase?: boolean } = {},
): Record<K, number> {
  const norm = (h: string): string => (options.ignoreCase ? h.trim().toLowerCase() : h.trim());
  const trimmed = table.header.map(norm);
  const missing = columns.filter((c) => !trimmed.includes(norm(c)));
  if (missing.length > 0) {
    throw new IoError(
      'CSV_MISSING_COLUMN',
      `missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${oneLine(m)}'`).join(', ')} (columns: ${oneLine(trimmed.join(', '), 200)})`,
      { file: table.source },
    );
  }
  for (const c of columns) {
    const at = trimmed.flatMap((h, k) => (h === norm(c) ? [k + 1] : []));
    if (at.length > 1) {
      throw new IoError(
        'CSV_DUPLICATE_COLUMN',
        `column '${oneLine(c)}' appears ${at.length} times in the header (columns ${at.join(', ')}); rename or remove the extra one${at.length > 2 ? 's' : ''}`,
        { file: table.source },
      );
    }
  }
  return Object.fromEntries(columns.map((c) => [c, trimmed.indexOf(norm(c))])) as Record<K, number>;
}

/**
 * One CSV record (no line end): a field holding a quote, the separator's first character, CR or LF is quoted, its
 * quotes doubled (RFC 4180); so is a field starting with U+FEFF (a reader would take it for a byte-order mark). `separator` is ',' by default (FairCLIP's official result files use ', ').
 */
export function formatCsvRow(fields: readonly string[], separator = ','): string {
  const sep = separator[0] ?? ',';
  return fields
    .map((f) =>
      f.includes('"') || f.includes(sep) || f.includes('\n') || f.includes('\r') || f.startsWith('\ufeff')
        ? `"${f.replaceAll('"', '""')}"`
        : f,
    )
    .join(separator);
}

/** Decimal numbers as text: an optional sign, digits with an optional fraction (or a fraction alone), an optional
 * exponent. No hexadecimal, binary or octal prefixes, no `Infinity`/`NaN`, no digit separators. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a decimal number strictly, for every number read from a CSV cell: `[+-]digits[.digits][e[+-]digits]`
 * (also `.5` and `5.`), surrounded by optional spaces or tabs. Unlike `Number()`, it refuses `0x1`, `0b1`, `0o7`,
 * `Infinity`, `NaN`, an empty text, and a value beyond the float64 range (`1e999`): BAD_NUMBER, naming `what`
 * (e.g. `line 3, column 'score'`) and the text (cut to 80 characters).
 */
export function parseDecimal(text: string, what: string, file?: string): number {
  const t = text.replace(/^[ \t]+|[ \t]+$/g, '');
  if (!DECIMAL.test(t)) {
    throw new IoError(
      'BAD_NUMBER',
      `${what}: ${quoted(text)} is not a decimal number (write digits with an optional sign, fraction and exponent, e.g. 0.25, -3 or 1e-3)`,
      { file },
    );
  }
  const v = Number(t);
  if (!Number.isFinite(v)) {
    throw new IoError('BAD_NUMBER', `${what}: ${quoted(text)} is beyond the range of a float64 number`, { file });
  }
  return v;
}
