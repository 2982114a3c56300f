/** Single metrics, each a thin view on the same counting core as fairnessReport. */
import {
  aucFromCounts,
  combineOdds,
  disparity,
  equityScaled,
  fprFromCounts,
  groupDifference,
  groupLabel,
  groupRatio,
  tprFromCounts,
} from './derive.ts';
import { type AttributeCounts, type Counts, countAll } from './engine.ts';
import {
  checkAlpha,
  checkChoice,
  checkMode,
  checkPolicy,
  checkThreshold,
  encodeGroups,
  toLabels,
  toScores,
} from './input.ts';
import {
  type DifferenceMethod,
  defined,
  type GroupedMetric,
  type GroupsInput,
  type LabelsInput,
  type MetricValue,
  type OddsAggregation,
  type RateMode,
  type ScoresInput,
  type UndefinedGroupPolicy,
} from './types.ts';

export interface ThresholdOptions {
  /** A sample is predicted positive when score >= threshold. Default 0.5. Pass 0/1 predictions as scores to use them directly. */
  readonly threshold?: number;
}

export interface RateOptions extends ThresholdOptions {
  /** Default 'strict'. See RateMode. */
  readonly mode?: RateMode;
}

export interface DifferenceOptions extends RateOptions {
  /** Default 'between_groups'. */
  readonly method?: DifferenceMethod;
}

export interface EqualizedOddsOptions extends DifferenceOptions {
  /** Default 'worst_case' (fairlearn's equalized_odds_difference). */
  readonly agg?: OddsAggregation;
}

export interface EquityOptions {
  /** Default 1. */
  readonly alpha?: number;
  /** Default 'skip'. See UndefinedGroupPolicy. */
  readonly undefinedGroups?: UndefinedGroupPolicy;
}

const METHODS = ['between_groups', 'to_overall'] as const;
const AGGS = ['worst_case', 'mean'] as const;

function overallCounts(scores: ScoresInput, labels: LabelsInput, threshold: number, withAuc: boolean): Counts {
  const s = toScores(scores);
  return countAll(s, toLabels(labels, s.length), [], threshold, withAuc);
}

function oneAttribute(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  threshold: number,
  withAuc: boolean,
): { c: Counts; a: AttributeCounts } {
  const s = toScores(scores);
  const y = toLabels(labels, s.length);
  const g = encodeGroups(groups, s.length, 'groups');
  const c = countAll(s, y, [g], threshold, withAuc);
  return { c, a: c.attributes[0] as AttributeCounts };
}

/** ROC AUC with ties counting one half (= sklearn roc_auc_score). Undefined (SINGLE_CLASS) with one class. */
export function rocAuc(scores: ScoresInput, labels: LabelsInput): MetricValue {
  const c = overallCounts(scores, labels, 0.5, true);
  return aucFromCounts(c.u2 as number, c.nPos, c.n - c.nPos, 'the evaluated set');
}

/** Fraction of samples whose prediction (score >= threshold) equals the label. */
export function accuracy(scores: ScoresInput, labels: LabelsInput, options: ThresholdOptions = {}): number {
  const c = overallCounts(scores, labels, checkThreshold(options.threshold ?? 0.5), false);
  return (c.tp + (c.n - c.nPos - c.fp)) / c.n;
}

/** Fraction of samples predicted positive (score >= threshold). */
export function selectionRate(scores: ScoresInput, options: ThresholdOptions = {}): number {
  const threshold = checkThreshold(options.threshold ?? 0.5);
  const s = toScores(scores);
  let k = 0;
  for (let i = 0; i < s.length; i++) if ((s[i] as number) >= threshold) k++;
  return k / s.length;
}

/** TPR = TP / (TP + FN); without positives undefined ('strict') or 0 ('fairlearn'). */
export function truePositiveRate(scores: ScoresInput, labels: LabelsInput, options: RateOptions = {}): MetricValue {
  const c = overallCounts(scores, labels, checkThreshold(options.threshold ?? 0.5), false);
  return tprFromCounts(c.tp, c.nPos, checkMode(options.mode ?? 'strict'), 'the evaluated set');
}

/** FPR = FP / (FP + TN); without negatives undefined ('strict') or 0 ('fairlearn'). */
export function falsePositiveRate(scores: ScoresInput, labels: LabelsInput, options: RateOptions = {}): MetricValue {
  const c = overallCounts(scores, labels, checkThreshold(options.threshold ?? 0.5), false);
  return fprFromCounts(c.fp, c.n - c.nPos, checkMode(options.mode ?? 'strict'), 'the evaluated set');
}

export interface GroupAuc {
  readonly group: number;
  readonly n: number;
  readonly nPos: number;
  readonly nNeg: number;
  readonly auc: MetricValue;
}

/** AUC of every group (ascending id); a group with one class gets an undefined AUC with the reason. */
export function groupAucs(scores: ScoresInput, labels: LabelsInput, groups: GroupsInput): GroupAuc[] {
  const { a } = oneAttribute(scores, labels, groups, 0.5, true);
  return a.ids.map((id, k) => {
    const n = a.n[k] as number;
    const nPos = a.nPos[k] as number;
    return {
      group: id,
      n,
      nPos,
      nNeg: n - nPos,
      auc: aucFromCounts((a.u2 as Float64Array)[k] as number, nPos, n - nPos, groupLabel(undefined, id)),
    };
  });
}

/** ES-AUC = AUC / (1 + α Σ_g |AUC − AUC_g|) (FairCLIP's equity_scaled_AUC). */
export function equityScaledAuc(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: EquityOptions = {},
): GroupedMetric {
  const alpha = checkAlpha(options.alpha ?? 1);
  const policy = checkPolicy(options.undefinedGroups ?? 'skip');
  const { c, a } = oneAttribute(scores, labels, groups, 0.5, true);
  const overall = aucFromCounts(c.u2 as number, c.nPos, c.n - c.nPos, 'the evaluated set');
  const aucs = a.ids.map((id, k) => {
    const n = a.n[k] as number;
    const nPos = a.nPos[k] as number;
    return aucFromCounts((a.u2 as Float64Array)[k] as number, nPos, n - nPos, groupLabel(undefined, id));
  });
  return equityScaled(overall, aucs, a.ids, alpha, policy, 'AUC', undefined);
}

/** ES-Acc = Acc / (1 + α Σ_g |Acc − Acc_g|). */
export function equityScaledAccuracy(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: ThresholdOptions & { readonly alpha?: number } = {},
): number {
  const alpha = checkAlpha(options.alpha ?? 1);
  const { c, a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  const acc = (c.tp + (c.n - c.nPos - c.fp)) / c.n;
  const accs = a.ids.map((_, k) =>
    defined(
      ((a.tp[k] as number) + (a.n[k] as number) - (a.nPos[k] as number) - (a.fp[k] as number)) / (a.n[k] as number),
    ),
  );
  return equityScaled(defined(acc), accs, a.ids, alpha, 'skip', 'accuracy', undefined).value as number;
}

function selectionRates(a: AttributeCounts): MetricValue[] {
  return a.ids.map((_, k) => defined(((a.tp[k] as number) + (a.fp[k] as number)) / (a.n[k] as number)));
}

function rates(a: AttributeCounts, c: Counts, mode: RateMode) {
  const tprs = a.ids.map((id, k) =>
    tprFromCounts(a.tp[k] as number, a.nPos[k] as number, mode, groupLabel(undefined, id)),
  );
  const fprs = a.ids.map((id, k) =>
    fprFromCounts(a.fp[k] as number, (a.n[k] as number) - (a.nPos[k] as number), mode, groupLabel(undefined, id)),
  );
  return {
    tprs,
    fprs,
    tpr: tprFromCounts(c.tp, c.nPos, mode, 'the evaluated set'),
    fpr: fprFromCounts(c.fp, c.n - c.nPos, mode, 'the evaluated set'),
  };
}

/**
 * Demographic parity difference (fairlearn): max − min group selection rate ('between_groups') or
 * max |group − overall| ('to_overall'). Labels are only checked, as in fairlearn.
 */
export function demographicParityDifference(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: ThresholdOptions & { readonly method?: DifferenceMethod } = {},
): number {
  const method = checkChoice(options.method ?? 'between_groups', 'method', METHODS);
  const { c, a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  const overall = defined((c.tp + c.fp) / c.n);
  return groupDifference(selectionRates(a), a.ids, overall, method, 'selection rate').value as number;
}

/** Demographic parity ratio: min / max group selection rate; undefined when every group's rate is 0. */
export function demographicParityRatio(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: ThresholdOptions = {},
): GroupedMetric {
  const { a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  return groupRatio(selectionRates(a), a.ids, 'selection rate');
}

/** Equal-opportunity difference: the difference of group TPRs (fairlearn true_positive_rate_difference). */
export function equalOpportunityDifference(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: DifferenceOptions = {},
): GroupedMetric {
  const method = checkChoice(options.method ?? 'between_groups', 'method', METHODS);
  const mode = checkMode(options.mode ?? 'strict');
  const { c, a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  const r = rates(a, c, mode);
  return groupDifference(r.tprs, a.ids, r.tpr, method, 'TPR');
}

/** Difference of group FPRs (fairlearn false_positive_rate_difference). */
export function falsePositiveRateDifference(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: DifferenceOptions = {},
): GroupedMetric {
  const method = checkChoice(options.method ?? 'between_groups', 'method', METHODS);
  const mode = checkMode(options.mode ?? 'strict');
  const { c, a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  const r = rates(a, c, mode);
  return groupDifference(r.fprs, a.ids, r.fpr, method, 'FPR');
}

/**
 * DEOdds: fairlearn equalized_odds_difference. 'worst_case' (default) = the larger of the TPR difference and the
 * FPR difference; 'mean' = their average.
 */
export function equalizedOddsDifference(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: EqualizedOddsOptions = {},
): GroupedMetric {
  const method = checkChoice(options.method ?? 'between_groups', 'method', METHODS);
  const agg = checkChoice(options.agg ?? 'worst_case', 'agg', AGGS);
  const mode = checkMode(options.mode ?? 'strict');
  const { c, a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  const r = rates(a, c, mode);
  return combineOdds(
    groupDifference(r.tprs, a.ids, r.tpr, method, 'TPR'),
    groupDifference(r.fprs, a.ids, r.fpr, method, 'FPR'),
    agg,
  );
}

/** Equalized odds ratio: the smaller of the TPR ratio and the FPR ratio (each min / max over groups). */
export function equalizedOddsRatio(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: RateOptions = {},
): GroupedMetric {
  const mode = checkMode(options.mode ?? 'strict');
  const { c, a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  const r = rates(a, c, mode);
  return combineOdds(groupRatio(r.tprs, a.ids, 'TPR'), groupRatio(r.fprs, a.ids, 'FPR'), 'min');
}

/** Between-group AUC disparity: population std of the group AUCs / AUC, and (max − min) / AUC. */
export function groupDisparity(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
): { readonly std: GroupedMetric; readonly maxMin: GroupedMetric } {
  const { c, a } = oneAttribute(scores, labels, groups, 0.5, true);
  const overall = aucFromCounts(c.u2 as number, c.nPos, c.n - c.nPos, 'the evaluated set');
  const aucs = a.ids.map((id, k) => {
    const n = a.n[k] as number;
    const nPos = a.nPos[k] as number;
    return aucFromCounts((a.u2 as Float64Array)[k] as number, nPos, n - nPos, groupLabel(undefined, id));
  });
  return disparity(overall, aucs, a.ids, 'AUC');
}
