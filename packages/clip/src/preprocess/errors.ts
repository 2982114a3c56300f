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
  /**
   * The image is degenerate: its longer side is more than `maxAspectRatio` (default 64) times its shorter side
   * (e.g. a 1 × 6000 strip, which CLIP's Resize(224) would blow up to 224 × 1 344 000). Refused before any allocation.
   */
  | 'BAD_ASPECT_RATIO'
  /**
   * An image the pipeline would allocate is larger than `maxResizedPixels` (default 2^25 = 33 554 432 pixels, e.g.
   * 224 × 149 796): refused before any allocation.
   */
  | 'TOO_LARGE'
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
