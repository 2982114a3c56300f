// One error type for every problem with a file or an argument: a stable `code` to branch on, the file it concerns,
// a message that names the problem. Packages that read files through @fairclip/io (datasets, clip) wrap it into
// their own error type with the same code and message (see `detail`).

/** Stable codes of {@link IoError}. */
export type IoErrorCode =
  /** A file or folder is missing. */
  | 'NOT_FOUND'
  /** The operating system refused a read or write. */
  | 'IO'
  /** The zip container is damaged or truncated (no end record, offsets outside the file, bad CRC, bad deflate data). */
  | 'ZIP_CORRUPT'
  /** A zip feature we do not read (encryption, multi-disk archives, compression other than stored/deflate). */
  | 'ZIP_UNSUPPORTED'
  /** A zip entry whose name would escape the folder (absolute path, `..`, drive letter). */
  | 'ZIP_UNSAFE_PATH'
  /** The `.npy` magic string `\x93NUMPY` is missing. */
  | 'NPY_BAD_MAGIC'
  /** The `.npy` header is not a valid dictionary with `descr`, `fortran_order` and `shape`. */
  | 'NPY_BAD_HEADER'
  /** A dtype we do not decode (object/pickle, complex, structured, strings, datetime, long double). */
  | 'NPY_UNSUPPORTED_DTYPE'
  /** A `.npy` format version other than 1.0, 2.0 and 3.0. */
  | 'NPY_UNSUPPORTED_VERSION'
  /** The header declares more data than the file holds. */
  | 'NPY_TRUNCATED'
  /** An int64/uint64 value does not fit a JavaScript number exactly (with `int64: 'number'`). */
  | 'NPY_INT64_OVERFLOW'
  /** The `.npz` lacks a requested key. */
  | 'NPZ_MISSING_KEY'
  /** A CSV file is malformed (unterminated quote, wrong number of fields). */
  | 'CSV_PARSE'
  /** A CSV file lacks a required column. */
  | 'CSV_MISSING_COLUMN'
  /** A column that is read appears more than once in the CSV header (which one is meant is ambiguous). */
  | 'CSV_DUPLICATE_COLUMN'
  /**
   * A size a file declares (a zip entry's uncompressed size) is over the reader's cap (`maxEntryBytes`, default
   * {@link DEFAULT_MAX_ENTRY_BYTES}): refused before anything is allocated or inflated.
   */
  | 'TOO_LARGE'
  /** A text that should be a decimal number is not one (hexadecimal, binary, `Infinity`, empty, out of range). */
  | 'BAD_NUMBER'
  /** A caller passed an invalid argument (unknown dtype, bad zip level, a seed that is not a safe integer). */
  | 'BAD_ARGUMENT';

/** The default cap on the uncompressed size of one zip / npz entry: 1 GiB (see `maxEntryBytes`). */
export const DEFAULT_MAX_ENTRY_BYTES = 2 ** 30;

/** Longest user-controlled text (a name, a key, a value) an error message prints; longer ones are cut. */
export const MESSAGE_TEXT_MAX = 80;

/** `text` cut to {@link MESSAGE_TEXT_MAX} characters (code points) plus an ellipsis, for error messages. */
export function boundText(text: string, max = MESSAGE_TEXT_MAX): string {
  if (text.length <= max) return text;
  const cps = Array.from(text.slice(0, max + 1));
  return cps.length <= max ? text : `${cps.slice(0, max).join('')}…`;
}

/** JSON-quoted (escapes control characters and newlines, so a message stays on one line) and bounded. */
export function quoted(text: string, max = MESSAGE_TEXT_MAX): string {
  const cut = boundText(text, max);
  return cut === text ? JSON.stringify(text) : `${JSON.stringify(cut.slice(0, -1))}…`;
}

/** Like {@link quoted} without the quotes: escaped to one line and bounded (for names shown in single quotes). */
export function oneLine(text: string, max = MESSAGE_TEXT_MAX): string {
  return boundText(JSON.stringify(text).slice(1, -1), max);
}

/** A byte count for messages: exact, plus a binary-prefixed approximation (e.g. `2147483648 bytes (2 GiB)`). */
export function formatBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  if (n < 1024) return `${n} bytes`;
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n} bytes (${Number.isInteger(v) ? v : v.toPrecision(3)} ${units[u]})`;
}

/**
 * The base of every error the @fairclip packages raise for a problem the user can fix (bad input, a bad file, a bad
 * option, an unavailable device): a stable `code` to branch on and a message that names the problem and the fix.
 * Anything else that escapes a package is a bug. Apps catch FairclipError to print one line and exit 2.
 */
export class FairclipError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FairclipError';
    this.code = code;
  }
}

/** True when `e` is a {@link FairclipError} of any package (optionally with the given code). */
export function isFairclipError(e: unknown, code?: string): e is FairclipError {
  return e instanceof FairclipError && (code === undefined || e.code === code);
}

/** Error raised for a bad file or a bad argument; `file` names the file concerned when there is one. */
export class IoError extends FairclipError {
  override readonly name = 'IoError';
  override readonly code: IoErrorCode;
  readonly file: string | undefined;
  /** The message without the `CODE: file: ` prefix (for wrapping into another error type with the same text). */
  readonly detail: string;

  constructor(code: IoErrorCode, message: string, options: { file?: string | undefined; cause?: unknown } = {}) {
    super(code, options.file === undefined ? `${code}: ${message}` : `${code}: ${options.file}: ${message}`, {
      cause: options.cause,
    });
    this.code = code;
    this.file = options.file;
    this.detail = message;
  }
}

/** True when `e` is an {@link IoError} (optionally with the given code). */
export function isIoError(e: unknown, code?: IoErrorCode): e is IoError {
  return e instanceof IoError && (code === undefined || e.code === code);
}

/** Wraps an operating-system error (ENOENT becomes NOT_FOUND) as an IoError naming the path. */
export function osError(e: unknown, path: string, what = 'read'): IoError {
  if (e instanceof IoError) return e;
  const code = (e as { code?: unknown })?.code;
  if (code === 'ENOENT') return new IoError('NOT_FOUND', 'no such file or folder', { file: path, cause: e });
  if (code === 'ENOTDIR')
    return new IoError('NOT_FOUND', 'a parent of this path is not a folder', { file: path, cause: e });
  const msg = e instanceof Error ? e.message : String(e);
  return new IoError('IO', `cannot ${what}: ${msg}`, { file: path, cause: e });
}
