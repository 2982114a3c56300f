import { FairclipError } from '@fairclip/io';
/**
 * Typed errors of @fairclip/ot. Every error carries a `code` and a message that names the offending argument.
 * Non-convergence is NOT an error: solvers report it in their result (`converged: false`). A result that is not finite
 * (inputs whose scale overflows float64 along the way) is: 'NON_FINITE_RESULT', never a silent Infinity or NaN.
 */

export type OtErrorCode =
  | 'SHAPE_MISMATCH'
  | 'EMPTY_INPUT'
  | 'NON_FINITE_POINTS'
  | 'NON_FINITE_COST'
  | 'NEGATIVE_WEIGHTS'
  | 'NON_FINITE_WEIGHTS'
  | 'ZERO_MASS'
  | 'UNEQUAL_MASS'
  | 'INVALID_EPSILON'
  | 'INVALID_OPTION'
  | 'SYNC_READ_UNAVAILABLE'
  | 'UNSUPPORTED'
  | 'NON_FINITE_RESULT';

/** Bad input to an OT function. `code` identifies the problem; the message names the argument and the fix. */
export class OtInputError extends FairclipError {
  override readonly code: OtErrorCode;
  constructor(code: OtErrorCode, message: string) {
    super(code, message);
    this.name = 'OtInputError';
    this.code = code;
  }
}
