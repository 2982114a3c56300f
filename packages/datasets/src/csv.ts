// CSV reading (RFC 4180: quoted fields, doubled quotes, newlines inside quotes, CRLF, a UTF-8 BOM) with errors that
// name the file and the line, as pandas.read_csv reads the files of the datasets (first row = header, blank lines
// skipped).
import { readFileSync } from 'node:fs';
import { DatasetError, ioError } from './errors.ts';

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
    throw new DatasetError('CSV_PARSE', `line ${at}: ${msg}`, { file: source });
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
  if (!header) throw new DatasetError('CSV_PARSE', 'the file is empty (no header row)', { file: source });
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
    throw ioError(e, path);
  }
  return parseCsv(text, path);
}

/** Index of each named column; CSV_MISSING_COLUMN naming every missing one. */
export function columnIndex<K extends string>(table: CsvTable, columns: readonly K[]): Record<K, number> {
  const trimmed = table.header.map((h) => h.trim());
  const missing = columns.filter((c) => !trimmed.includes(c));
  if (missing.length > 0) {
    throw new DatasetError(
      'CSV_MISSING_COLUMN',
      `missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} (columns: ${trimmed.join(', ')})`,
      { file: table.source },
    );
  }
  return Object.fromEntries(columns.map((c) => [c, trimmed.indexOf(c)])) as Record<K, number>;
}
