/** From counts to metric values: rates, AUCs, between-group differences and ratios, equity scaling, disparity. */
import type { AttributeCounts, Counts } from './engine.ts';
import { FairnessInputError } from './errors.ts';
import {
  defined,
  type GroupedMetric,
  type MetricValue,
  type RateMode,
  type UndefinedGroupPolicy,
  undefinedMetric,
} from './types.ts';

/** AUC from 2U, n₊, n₋. Undefined (SINGLE_CLASS) unless both classes are present. */
export function aucFromCounts(u2: number, nPos: number, nNeg: number, who: string): MetricValue {
  if (nPos === 0 || nNeg === 0) {
    return undefinedMetric(
      'SINGLE_CLASS',
      `${who} has only ${nPos === 0 ? 'negative' : 'positive'} samples (${nPos} positive, ${nNeg} negative): ROC AUC needs both classes`,
    );
  }
  return defined(u2 / (2 * nPos * nNeg));
}

/** TPR = TP / (TP + FN). Without positives: undefined (strict) or 0 (fairlearn, sklearn's normalised confusion matrix). */
export function tprFromCounts(tp: number, nPos: number, mode: RateMode, who: string): MetricValue {
  if (nPos === 0) {
    return mode === 'fairlearn'
      ? defined(0)
      : undefinedMetric('NO_POSITIVES', `${who} has no positive samples: TPR = TP / (TP + FN) is 0/0`);
  }
  return defined(tp / nPos);
}

/** FPR = FP / (FP + TN). Without negatives: undefined (strict) or 0 (fairlearn). */
export function fprFromCounts(fp: number, nNeg: number, mode: RateMode, who: string): MetricValue {
  if (nNeg === 0) {
    return mode === 'fairlearn'
      ? defined(0)
      : undefinedMetric('NO_NEGATIVES', `${who} has no negative samples: FPR = FP / (FP + TN) is 0/0`);
  }
  return defined(fp / nNeg);
}

export function groupLabel(attribute: string | undefined, id: number): string {
  return attribute === undefined ? `group ${id}` : `${attribute} group ${id}`;
}

function needU2<T>(u2: T | null): T {
  if (u2 === null) throw new Error('internal: counts were computed without the AUC statistic');
  return u2;
}

/** AUC of the whole set (the counts must carry the AUC statistic). */
export function overallAuc(c: Counts): MetricValue {
  return aucFromCounts(needU2(c.u2), c.nPos, c.n - c.nPos, 'the evaluated set');
}

/** AUC of every group of one attribute (ascending id); `attribute` names the groups in undefined reasons. */
export function groupAucValues(a: AttributeCounts, attribute: string | undefined): MetricValue[] {
  const u2 = needU2(a.u2);
  return a.ids.map((id, k) => {
    const n = a.n[k] as number;
    const nPos = a.nPos[k] as number;
    return aucFromCounts(u2[k] as number, nPos, n - nPos, groupLabel(attribute, id));
  });
}

/** The threshold rates of one set of samples (the whole set or one group). */
export interface Rates {
  /** Fraction of the samples whose prediction (score >= threshold) equals the label. */
  readonly accuracy: number;
  /** Fraction predicted positive. */
  readonly selectionRate: number;
  readonly tpr: MetricValue;
  readonly fpr: MetricValue;
}

/** Accuracy, selection rate, TPR and FPR from n, positives, true and false positives. */
export function ratesFromCounts(n: number, nPos: number, tp: number, fp: number, mode: RateMode, who: string): Rates {
  const nNeg = n - nPos;
  return {
    accuracy: (tp + (nNeg - fp)) / n,
    selectionRate: (tp + fp) / n,
    tpr: tprFromCounts(tp, nPos, mode, who),
    fpr: fprFromCounts(fp, nNeg, mode, who),
  };
}

/** Rates of the whole set. */
export function overallRates(c: Counts, mode: RateMode): Rates {
  return ratesFromCounts(c.n, c.nPos, c.tp, c.fp, mode, 'the evaluated set');
}

/** Rates of every group of one attribute (ascending id); `attribute` names the groups in undefined reasons. */
export function groupRates(a: AttributeCounts, mode: RateMode, attribute: string | undefined): Rates[] {
  return a.ids.map((id, k) =>
    ratesFromCounts(
      a.n[k] as number,
      a.nPos[k] as number,
      a.tp[k] as number,
      a.fp[k] as number,
      mode,
      groupLabel(attribute, id),
    ),
  );
}

/** The rates that group differences and ratios are taken of, with the name their undefined reasons use. */
export type RateKey = 'selectionRate' | 'tpr' | 'fpr';
const RATE_NAMES: Readonly<Record<RateKey, string>> = { selectionRate: 'selection rate', tpr: 'TPR', fpr: 'FPR' };

function rateValue(r: Rates, key: RateKey): MetricValue {
  const v = r[key];
  return typeof v === 'number' ? defined(v) : v;
}

/**
 * fairlearn's difference of one rate over the groups (demographic_parity_difference for the selection rate,
 * true/false_positive_rate_difference for TPR/FPR); see groupDifference.
 */
export function rateDifference(
  groups: readonly Rates[],
  overall: Rates,
  ids: readonly number[],
  method: 'between_groups' | 'to_overall',
  key: RateKey,
): GroupedMetric {
  const values = groups.map((g) => rateValue(g, key));
  return groupDifference(values, ids, rateValue(overall, key), method, RATE_NAMES[key]);
}

/** fairlearn's ratio min/max of one rate over the groups; see groupRatio. */
export function rateRatio(groups: readonly Rates[], ids: readonly number[], key: RateKey): GroupedMetric {
  return groupRatio(
    groups.map((g) => rateValue(g, key)),
    ids,
    RATE_NAMES[key],
  );
}

/** fairlearn's equalized_odds_difference: the TPR and FPR differences combined by `agg`. */
export function equalizedOdds(
  groups: readonly Rates[],
  overall: Rates,
  ids: readonly number[],
  method: 'between_groups' | 'to_overall',
  agg: 'worst_case' | 'mean',
): GroupedMetric {
  return combineOdds(
    rateDifference(groups, overall, ids, method, 'tpr'),
    rateDifference(groups, overall, ids, method, 'fpr'),
    agg,
  );
}

/** fairlearn's equalized_odds_ratio: the smaller of the TPR ratio and the FPR ratio. */
export function equalizedOddsRatioOf(groups: readonly Rates[], ids: readonly number[]): GroupedMetric {
  return combineOdds(rateRatio(groups, ids, 'tpr'), rateRatio(groups, ids, 'fpr'), 'min');
}

function skipped(values: readonly MetricValue[], ids: readonly number[]): number[] {
  const out: number[] = [];
  values.forEach((v, k) => {
    if (v.value === null) out.push(ids[k] as number);
  });
  return out;
}

function withSkipped(m: MetricValue, skippedGroups: readonly number[]): GroupedMetric {
  return { ...m, skippedGroups };
}

function skippedNote(ids: readonly number[]): string {
  return ids.length === 0 ? '' : ` (groups ${ids.join(', ')} left out: undefined there)`;
}

/**
 * fairlearn's difference of a per-group metric: `between_groups` = max − min over the groups where it is defined;
 * `to_overall` = max |value_g − overall|.
 */
export function groupDifference(
  values: readonly MetricValue[],
  ids: readonly number[],
  overall: MetricValue,
  method: 'between_groups' | 'to_overall',
  what: string,
): GroupedMetric {
  const skip = skipped(values, ids);
  const vals = values.filter((v) => v.value !== null).map((v) => v.value as number);
  if (vals.length === 0) {
    return withSkipped(undefinedMetric('NO_DEFINED_GROUPS', `no group has a defined ${what}`), skip);
  }
  if (method === 'between_groups') {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of vals) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return withSkipped(defined(hi - lo), skip);
  }
  if (overall.value === null) {
    return withSkipped(undefinedMetric('UNDEFINED_INPUT', `the overall ${what} is undefined: ${overall.reason}`), skip);
  }
  const o = overall.value;
  let worst = 0;
  for (const v of vals) worst = Math.max(worst, Math.abs(v - o));
  return withSkipped(defined(worst), skip);
}

/** fairlearn's between-groups ratio min/max; undefined when max is 0 (fairlearn 0.9 raises ZeroDivisionError). */
export function groupRatio(values: readonly MetricValue[], ids: readonly number[], what: string): GroupedMetric {
  const skip = skipped(values, ids);
  const vals = values.filter((v) => v.value !== null).map((v) => v.value as number);
  if (vals.length === 0) {
    return withSkipped(undefinedMetric('NO_DEFINED_GROUPS', `no group has a defined ${what}`), skip);
  }
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  if (hi === 0) {
    return withSkipped(
      undefinedMetric('ZERO_DENOMINATOR', `every group's ${what} is 0, so the ratio min/max is 0/0`),
      skip,
    );
  }
  return withSkipped(defined(lo / hi), skip);
}

function union(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/** Combines the TPR and FPR parts of equalized odds (worst case = larger, mean = average, ratio = smaller). */
export function combineOdds(
  tprPart: GroupedMetric,
  fprPart: GroupedMetric,
  how: 'worst_case' | 'mean' | 'min',
): GroupedMetric {
  const skip = union(tprPart.skippedGroups, fprPart.skippedGroups);
  if (tprPart.value === null) return withSkipped(undefinedMetric(tprPart.code, `TPR part: ${tprPart.reason}`), skip);
  if (fprPart.value === null) return withSkipped(undefinedMetric(fprPart.code, `FPR part: ${fprPart.reason}`), skip);
  const t = tprPart.value;
  const f = fprPart.value;
  const v = how === 'worst_case' ? Math.max(t, f) : how === 'mean' ? (t + f) / 2 : Math.min(t, f);
  return withSkipped(defined(v), skip);
}

/**
 * Equity scaling (FairCLIP): overall / (1 + α Σ_g |overall − value_g|). Groups with an undefined value follow the
 * policy (skip them, propagate undefined as FairCLIP's NaN, or throw).
 */
export function equityScaled(
  overall: MetricValue,
  values: readonly MetricValue[],
  ids: readonly number[],
  alpha: number,
  policy: UndefinedGroupPolicy,
  what: string,
  attribute: string | undefined,
): GroupedMetric {
  const skip = skipped(values, ids);
  if (skip.length > 0 && policy === 'error') {
    const k = values.findIndex((v) => v.value === null);
    const bad = values[k] as MetricValue;
    throw new FairnessInputError(
      'UNDEFINED_GROUP_METRIC',
      `${groupLabel(attribute, ids[k] as number)}: ${what} is undefined (${bad.reason}); use undefinedGroups: 'skip' to leave such groups out`,
    );
  }
  if (overall.value === null) {
    return withSkipped(undefinedMetric('UNDEFINED_INPUT', `the overall ${what} is undefined: ${overall.reason}`), skip);
  }
  if (skip.length > 0 && policy === 'propagate') {
    const bad = values.find((v) => v.value === null) as MetricValue;
    return withSkipped(
      undefinedMetric(
        'UNDEFINED_INPUT',
        `${groupLabel(attribute, skip[0] as number)}: ${bad.reason} (FairCLIP's code sums over all groups and gets NaN)`,
      ),
      skip,
    );
  }
  let sum = 0;
  for (const v of values) if (v.value !== null) sum += Math.abs(overall.value - v.value);
  return withSkipped(defined(overall.value / (1 + alpha * sum)), skip);
}

/**
 * Between-group disparity of a metric (FairCLIP logs it for AUC): population std (ddof 0) of the defined group values
 * divided by the overall value, and (max − min) of them divided by the overall value.
 */
export function disparity(
  overall: MetricValue,
  values: readonly MetricValue[],
  ids: readonly number[],
  what: string,
): { std: GroupedMetric; maxMin: GroupedMetric } {
  const skip = skipped(values, ids);
  const both = (m: MetricValue) => ({ std: withSkipped(m, skip), maxMin: withSkipped(m, skip) });
  if (overall.value === null) {
    return both(undefinedMetric('UNDEFINED_INPUT', `the overall ${what} is undefined: ${overall.reason}`));
  }
  if (overall.value === 0) {
    return both(undefinedMetric('ZERO_DENOMINATOR', `the overall ${what} is 0, so the normalised disparity is x/0`));
  }
  const vals = values.filter((v) => v.value !== null).map((v) => v.value as number);
  if (vals.length === 0) {
    return both(undefinedMetric('NO_DEFINED_GROUPS', `no group has a defined ${what}${skippedNote(skip)}`));
  }
  const std = Math.sqrt(sumSquaredDeviations(vals) / vals.length);
  const spread = Math.max(...vals) - Math.min(...vals);
  return {
    std: withSkipped(defined(std / overall.value), skip),
    maxMin: withSkipped(defined(spread / overall.value), skip),
  };
}

/**
 * Σ (v − mean)², computed around the first value (mean = v₀ + Σ(v − v₀)/n) so that equal values give exactly 0;
 * otherwise it agrees with numpy's two-pass formula to rounding.
 */
export function sumSquaredDeviations(vals: readonly number[]): number {
  const v0 = vals[0] as number;
  let shift = 0;
  for (const v of vals) shift += v - v0;
  const mean = v0 + shift / vals.length;
  let ss = 0;
  for (const v of vals) ss += (v - mean) * (v - mean);
  return ss;
}
