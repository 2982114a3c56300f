// One error type for every problem with input data: a stable `code` to branch on, the file it concerns, a message
// that names the problem. The file-format errors of @fairclip/io (zip, npy, CSV) become DatasetErrors with the same
// code and message (see fromIoError and ./files.ts).
import { FairclipError, IoError } from '@fairclip/io';

/** Stable codes of {@link DatasetError}. */
export type DatasetErrorCode =
  /** A file or folder the dataset needs is missing. */
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
  /** A value inside the array is invalid for its dtype (e.g. a unicode code point above U+10FFFF). */
  | 'NPY_BAD_DATA'
  /** An array has a shape the dataset does not allow (an image that is not 2-D, a scalar with several values). */
  | 'BAD_SHAPE'
  /** The `.npz` lacks a key the dataset needs. */
  | 'NPZ_MISSING_KEY'
  /** A CSV file is malformed (unterminated quote, wrong number of fields). */
  | 'CSV_PARSE'
  /** A CSV file lacks a required column. */
  | 'CSV_MISSING_COLUMN'
  /** A column that is read appears more than once in a CSV header. */
  | 'CSV_DUPLICATE_COLUMN'
  /** An attribute or label has a value outside its documented encoding. */
  | 'UNKNOWN_ATTRIBUTE_VALUE'
  /** A sample lacks its text (no GPT-4 summary for a training file). */
  | 'MISSING_TEXT'
  /** An image has no row in its label CSV. */
  | 'MISSING_LABEL'
  /** A JPEG could not be decoded. */
  | 'IMAGE_DECODE'
  /** A sample's npz declares more than the per-sample cap (`maxSampleBytes`) or an entry over io's cap. */
  | 'TOO_LARGE'
  /** An image holds NaN or ±Infinity. */
  | 'IMAGE_NOT_FINITE'
  /** A number in a CSV cell is not a plain decimal (hexadecimal, `Infinity`, empty, …). */
  | 'BAD_NUMBER'
  /** The output folder is not empty (`fairclip-data synth` without `--force`). */
  | 'OUTPUT_NOT_EMPTY'
  /** A caller passed an invalid argument (batch size 0, negative sizes, unknown option value). */
  | 'BAD_ARGUMENT';

/** Error raised for bad input data or bad arguments; `file` names the file concerned when there is one. */
export class DatasetError extends FairclipError {
  override readonly name = 'DatasetError';
  override readonly code: DatasetErrorCode;
  readonly file: string | undefined;

  constructor(code: DatasetErrorCode, message: string, options: { file?: string | undefined; cause?: unknown } = {}) {
    super(code, options.file === undefined ? `${code}: ${message}` : `${code}: ${options.file}: ${message}`, {
      cause: options.cause,
    });
    this.code = code;
    this.file = options.file;
  }
}

/** True when `e` is a {@link DatasetError} (optionally with the given code). */
export function isDatasetError(e: unknown, code?: DatasetErrorCode): e is DatasetError {
  return e instanceof DatasetError && (code === undefined || e.code === code);
}

/** The DatasetError with the code, file and message of an @fairclip/io error (the IoError is its cause). */
export function fromIoError(e: IoError): DatasetError {
  return new DatasetError(e.code, e.detail, { file: e.file, cause: e });
}

/** Wraps an operating-system error (ENOENT becomes NOT_FOUND) or an IoError as a DatasetError naming the path. */
export function ioError(e: unknown, path: string, what = 'read'): DatasetError {
  if (e instanceof DatasetError) return e;
  if (e instanceof IoError) return fromIoError(e);
  const code = (e as { code?: unknown })?.code;
  if (code === 'ENOENT') return new DatasetError('NOT_FOUND', 'no such file or folder', { file: path, cause: e });
  if (code === 'ENOTDIR')
    return new DatasetError('NOT_FOUND', 'a parent of this path is not a folder', { file: path, cause: e });
  const msg = e instanceof Error ? e.message : String(e);
  return new DatasetError('IO', `cannot ${what}: ${msg}`, { file: path, cause: e });
}
