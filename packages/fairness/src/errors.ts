import { FairclipError } from '@fairclip/io';
/**
 * Typed errors of @fairclip/fairness. Bad input raises a FairnessInputError whose `code` identifies the
 * problem and whose message names the argument, the offending index and value, and the fix.
 * A metric that is mathematically undefined for valid input (AUC of a group with one class, a ratio with a
 * zero denominator) is NOT an error: it is reported as an UndefinedMetric with a reason.
 */

export type FairnessErrorCode =
  /** An input array (scores, labels, a group array) has no element. */
  | 'EMPTY_INPUT'
  /** Two arrays that describe the same samples have different lengths. */
  | 'LENGTH_MISMATCH'
  /** A score is NaN, +Infinity or -Infinity (or not a number at all). */
  | 'NON_FINITE_SCORE'
  /**
   * A label is not 0/1 (or false/true); most often scores passed where the labels go. The order is
   * (labels, scores), as sklearn's (y_true, y_score): the message says so.
   */
  | 'INVALID_LABEL'
  /** A group id is not a (safe) integer. */
  | 'INVALID_GROUP'
  /** An option (threshold, alpha, confidence, seed, ...) is out of its range. */
  | 'INVALID_OPTION'
  /** `rocCurve` needs both classes. */
  | 'SINGLE_CLASS'
  /** A group metric was undefined under the policy `undefinedGroups: 'error'`. */
  | 'UNDEFINED_GROUP_METRIC'
  /** Values that cannot be aggregated or compared (e.g. reports over different attributes). */
  | 'INCOMPATIBLE_INPUT';

/** Bad input to a fairness function. `code` identifies the problem; the message names the argument and the fix. */
export class FairnessInputError extends FairclipError {
  override readonly code: FairnessErrorCode;
  constructor(code: FairnessErrorCode, message: string) {
    super(code, message);
    this.name = 'FairnessInputError';
    this.code = code;
  }
}
