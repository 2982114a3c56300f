/**
 * Result types. A metric is either defined (`value` is a finite number) or undefined (`value` is null, with a
 * machine-readable `code` and a human-readable `reason`). No function of this package returns NaN.
 */

export type UndefinedCode =
  /** AUC needs at least one positive and one negative sample. */
  | 'SINGLE_CLASS'
  /** TPR = TP / (TP + FN) with no positive sample (0/0). */
  | 'NO_POSITIVES'
  /** FPR = FP / (FP + TN) with no negative sample (0/0). */
  | 'NO_NEGATIVES'
  /** A ratio or normalised disparity whose denominator is 0. */
  | 'ZERO_DENOMINATOR'
  /** A between-group quantity for which no group has a defined value. */
  | 'NO_DEFINED_GROUPS'
  /** Undefined because an ingredient is undefined (e.g. ES-AUC when the overall AUC is undefined). */
  | 'UNDEFINED_INPUT'
  /** Too few defined values to compute the statistic (e.g. a sample std of one run). */
  | 'TOO_FEW_VALUES';

export interface DefinedMetric {
  readonly value: number;
  readonly code?: undefined;
  readonly reason?: undefined;
}

export interface UndefinedMetric {
  readonly value: null;
  readonly code: UndefinedCode;
  readonly reason: string;
}

/** A metric value: a finite number, or null with the reason it is undefined. Narrow with `m.value === null`. */
export type MetricValue = DefinedMetric | UndefinedMetric;

/** A between-group quantity: a MetricValue plus the groups that were left out because their value was undefined. */
export type GroupedMetric = MetricValue & {
  /** Group ids (ascending) whose per-group value was undefined and therefore did not take part. */
  readonly skippedGroups: readonly number[];
};

/**
 * Binary labels (sklearn's and fairlearn's `y_true`), 0 (negative) or 1 (positive) in any numeric array, or
 * false/true. Every function takes them FIRST, as sklearn and fairlearn do: `(labels, scores[, groups][, options])`.
 * Any other value throws INVALID_LABEL naming the likely swap of labels and scores.
 */
export type LabelsInput = ArrayLike<number> | ArrayLike<boolean>;
/**
 * Score arrays (sklearn's `y_score`, fairlearn's `y_pred`): float64, float32 or plain numbers, finite. 0/1
 * predictions are scores too (predicted positive when score >= threshold).
 */
export type ScoresInput = Float64Array | Float32Array | readonly number[];
/** Integer group ids (any integers, possibly non-contiguous or negative), in any numeric array. */
export type GroupsInput = ArrayLike<number>;

/**
 * `strict` (default): a group without positives has an undefined TPR, a group without negatives an undefined FPR;
 * between-group differences use the groups where the rate is defined and list the others in `skippedGroups`.
 * `fairlearn`: fairlearn 0.9's convention (sklearn's normalised confusion matrix turns 0/0 into 0): such a group
 * has TPR = 0 or FPR = 0 and that zero takes part in the differences, exactly as FairCLIP's evaluation computed.
 */
export type RateMode = 'strict' | 'fairlearn';

/** fairlearn's `method`: `between_groups` = max - min over groups; `to_overall` = max |group - overall|. */
export type DifferenceMethod = 'between_groups' | 'to_overall';

/** Aggregation of the TPR and FPR differences in equalized odds: the larger one (fairlearn default) or their mean. */
export type OddsAggregation = 'worst_case' | 'mean';

/**
 * What ES-AUC does with a group whose AUC is undefined (one class):
 * `skip` (default) leaves it out of the sum and lists it; `propagate` makes ES-AUC undefined, as FairCLIP's
 * code does (it computes NaN); `error` throws a FairnessInputError with code UNDEFINED_GROUP_METRIC.
 */
export type UndefinedGroupPolicy = 'skip' | 'propagate' | 'error';

export function defined(value: number): DefinedMetric {
  return { value };
}

export function undefinedMetric(code: UndefinedCode, reason: string): UndefinedMetric {
  return { value: null, code, reason };
}

/** The number, or `fallback` (default null) when undefined. */
export function metricOr<T = null>(m: MetricValue, fallback: T = null as T): number | T {
  return m.value === null ? fallback : m.value;
}
