// Typed errors of the image preprocessing: a stable `code` and a message that names the problem.

import { FairclipError } from '@fairclip/io';
/** Stable codes of {@link PreprocessError}. */
export type PreprocessErrorCode =
  /** The pixel buffer does not match the declared height, width and channels, or a size is not a positive integer. */
  | 'BAD_SHAPE'
  /**
   * The image holds NaN or ±Infinity. PIL would not fail but produce garbage (NaN through the bicubic sums, an
   * undefined conversion to 8 bits), so such images are refused; the message names the first bad pixel.
   */
  | 'NON_FINITE'
  /** An option is out of range (crop larger than the image, unknown resize mode, bad output buffer). */
  | 'BAD_ARGUMENT';

/** Error raised by the preprocessing functions. */
export class PreprocessError extends FairclipError {
  override readonly name = 'PreprocessError';
  override readonly code: PreprocessErrorCode;

  constructor(code: PreprocessErrorCode, message: string) {
    super(code, `${code}: ${message}`);
    this.code = code;
  }
}

/** True when `e` is a {@link PreprocessError} (optionally with the given code). */
export function isPreprocessError(e: unknown, code?: PreprocessErrorCode): e is PreprocessError {
  return e instanceof PreprocessError && (code === undefined || e.code === code);
}
