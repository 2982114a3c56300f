/**
 * Single metrics, each a thin view on the same counting core as fairnessReport. Every one takes its arguments in
 * the order of scikit-learn and fairlearn: (labels, scores[, groups][, options]) = (y_true, y_score / y_pred
 * [, sensitive_features]). Labels must be 0/1 (or false/true); anything else throws INVALID_LABEL naming the likely
 * swap, so a call in the reversed order with real-valued scores fails loudly.
 */
import {
  disparity,
  equalizedOdds,
  equalizedOddsRatioOf,
  equityScaled,
  groupAucValues,
  groupRates,
  overallAuc,
  overallRates,
  rateDifference,
  rateRatio,
} from './derive.ts';
import { type AttributeCounts, type Counts, countAll } from './engine.ts';
import { checkAlpha, checkChoice, checkMode, checkPolicy, checkThreshold, encodeGroups, toSamples } from './input.ts';
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

function overallCounts(labels: LabelsInput, scores: ScoresInput, threshold: number, withAuc: boolean): Counts {
  const d = toSamples(labels, scores);
  return countAll(d.scores, d.labels, [], threshold, withAuc);
}

function oneAttribute(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  threshold: number,
  withAuc: boolean,
): { c: Counts; a: AttributeCounts } {
  const d = toSamples(labels, scores);
  const g = encodeGroups(groups, d.labels.length, 'groups');
  const c = countAll(d.scores, d.labels, [g], threshold, withAuc);
  return { c, a: c.attributes[0] as AttributeCounts };
}

/**
 * ROC AUC with ties counting one half (= sklearn roc_auc_score(y_true, y_score)). Undefined (SINGLE_CLASS) with one
 * class. Labels first, as in sklearn.
 */
export function rocAuc(labels: LabelsInput, scores: ScoresInput): MetricValue {
  return overallAuc(overallCounts(labels, scores, 0.5, true));
}

/** Fraction of samples whose prediction (score >= threshold) equals the label (sklearn accuracy_score(y_true, y_pred)). */
export function accuracy(labels: LabelsInput, scores: ScoresInput, options: ThresholdOptions = {}): number {
  const c = overallCounts(labels, scores, checkThreshold(options.threshold ?? 0.5), false);
  return overallRates(c, 'strict').accuracy;
}

/**
 * Fraction of samples predicted positive (score >= threshold): fairlearn selection_rate(y_true, y_pred). As in
 * fairlearn, the labels take no part in the value: they are only validated (0/1, same length as the scores).
 */
export function selectionRate(labels: LabelsInput, scores: ScoresInput, options: ThresholdOptions = {}): number {
  const threshold = checkThreshold(options.threshold ?? 0.5);
  const s = toSamples(labels, scores).scores;
  let k = 0;
  for (let i = 0; i < s.length; i++) if ((s[i] as number) >= threshold) k++;
  return k / s.length;
}

/** TPR = TP / (TP + FN) (fairlearn true_positive_rate(y_true, y_pred)); without positives undefined ('strict') or 0 ('fairlearn'). */
export function truePositiveRate(labels: LabelsInput, scores: ScoresInput, options: RateOptions = {}): MetricValue {
  const c = overallCounts(labels, scores, checkThreshold(options.threshold ?? 0.5), false);
  return overallRates(c, checkMode(options.mode ?? 'strict')).tpr;
}

/** FPR = FP / (FP + TN) (fairlearn false_positive_rate(y_true, y_pred)); without negatives undefined ('strict') or 0 ('fairlearn'). */
export function falsePositiveRate(labels: LabelsInput, scores: ScoresInput, options: RateOptions = {}): MetricValue {
  const c = overallCounts(labels, scores, checkThreshold(options.threshold ?? 0.5), false);
  return overallRates(c, checkMode(options.mode ?? 'strict')).fpr;
}

export interface GroupAuc {
  readonly group: number;
  readonly n: number;
  readonly nPos: number;
  readonly nNeg: number;
  readonly auc: MetricValue;
}

/** AUC of every group (ascending id) of `groups`; a group with one class gets an undefined AUC with the reason. */
export function groupAucs(labels: LabelsInput, scores: ScoresInput, groups: GroupsInput): GroupAuc[] {
  const { a } = oneAttribute(labels, scores, groups, 0.5, true);
  const aucs = groupAucValues(a, undefined);
  return a.ids.map((id, k) => {
    const n = a.n[k] as number;
    const nPos = a.nPos[k] as number;
    return { group: id, n, nPos, nNeg: n - nPos, auc: aucs[k] as MetricValue };
  });
}

/** ES-AUC = AUC / (1 + α Σ_g |AUC − AUC_g|) (FairCLIP's equity_scaled_AUC). */
export function equityScaledAuc(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: EquityOptions = {},
): GroupedMetric {
  const alpha = checkAlpha(options.alpha ?? 1);
  const policy = checkPolicy(options.undefinedGroups ?? 'skip');
  const { c, a } = oneAttribute(labels, scores, groups, 0.5, true);
  const overall = overallAuc(c);
  const aucs = groupAucValues(a, undefined);
  return equityScaled(overall, aucs, a.ids, alpha, policy, 'AUC', undefined);
}

/** ES-Acc = Acc / (1 + α Σ_g |Acc − Acc_g|). */
export function equityScaledAccuracy(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: ThresholdOptions & { readonly alpha?: number } = {},
): number {
  const alpha = checkAlpha(options.alpha ?? 1);
  const { c, a } = oneAttribute(labels, scores, groups, checkThreshold(options.threshold ?? 0.5), false);
  const acc = overallRates(c, 'strict').accuracy;
  const accs = groupRates(a, 'strict', undefined).map((r) => defined(r.accuracy));
  return equityScaled(defined(acc), accs, a.ids, alpha, 'skip', 'accuracy', undefined).value as number;
}

/**
 * The TPR or FPR difference or equalized odds of one attribute. Options are checked in the order method, agg (for
 * 'odds'), mode, threshold.
 */
function oddsMetric(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: EqualizedOddsOptions,
  part: 'tpr' | 'fpr' | 'odds',
): GroupedMetric {
  const method = checkChoice(options.method ?? 'between_groups', 'method', METHODS);
  const agg = part === 'odds' ? checkChoice(options.agg ?? 'worst_case', 'agg', AGGS) : 'worst_case';
  const mode = checkMode(options.mode ?? 'strict');
  const { c, a } = oneAttribute(labels, scores, groups, checkThreshold(options.threshold ?? 0.5), false);
  const rates = groupRates(a, mode, undefined);
  const overall = overallRates(c, mode);
  return part === 'odds'
    ? equalizedOdds(rates, overall, a.ids, method, agg)
    : rateDifference(rates, overall, a.ids, method, part);
}

/**
 * Demographic parity difference (fairlearn demographic_parity_difference(y_true, y_pred, sensitive_features)):
 * max − min group selection rate ('between_groups') or max |group − overall| ('to_overall'). As in fairlearn, the
 * labels take no part in the value: they are only validated (0/1, same length as the scores).
 */
export function demographicParityDifference(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: ThresholdOptions & { readonly method?: DifferenceMethod } = {},
): number {
  const method = checkChoice(options.method ?? 'between_groups', 'method', METHODS);
  const { c, a } = oneAttribute(labels, scores, groups, checkThreshold(options.threshold ?? 0.5), false);
  const rates = groupRates(a, 'strict', undefined);
  return rateDifference(rates, overallRates(c, 'strict'), a.ids, method, 'selectionRate').value as number;
}

/**
 * Demographic parity ratio (fairlearn demographic_parity_ratio(y_true, y_pred, sensitive_features)): min / max group
 * selection rate; undefined when every group's rate is 0. The labels are only validated, as in fairlearn.
 */
export function demographicParityRatio(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: ThresholdOptions = {},
): GroupedMetric {
  const { a } = oneAttribute(labels, scores, groups, checkThreshold(options.threshold ?? 0.5), false);
  return rateRatio(groupRates(a, 'strict', undefined), a.ids, 'selectionRate');
}

/** Equal-opportunity difference: the difference of group TPRs (fairlearn true_positive_rate_difference(y_true, y_pred, sensitive_features)). */
export function equalOpportunityDifference(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: DifferenceOptions = {},
): GroupedMetric {
  return oddsMetric(labels, scores, groups, options, 'tpr');
}

/** Difference of group FPRs (fairlearn false_positive_rate_difference(y_true, y_pred, sensitive_features)). */
export function falsePositiveRateDifference(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: DifferenceOptions = {},
): GroupedMetric {
  return oddsMetric(labels, scores, groups, options, 'fpr');
}

/**
 * DEOdds: fairlearn equalized_odds_difference(y_true, y_pred, sensitive_features). 'worst_case' (default) = the larger of the TPR difference and the
 * FPR difference; 'mean' = their average.
 */
export function equalizedOddsDifference(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: EqualizedOddsOptions = {},
): GroupedMetric {
  return oddsMetric(labels, scores, groups, options, 'odds');
}

/** Equalized odds ratio (fairlearn equalized_odds_ratio(y_true, y_pred, sensitive_features)): the smaller of the TPR ratio and the FPR ratio (each min / max over groups). */
export function equalizedOddsRatio(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: RateOptions = {},
): GroupedMetric {
  const mode = checkMode(options.mode ?? 'strict');
  const { a } = oneAttribute(labels, scores, groups, checkThreshold(options.threshold ?? 0.5), false);
  return equalizedOddsRatioOf(groupRates(a, mode, undefined), a.ids);
}

/** Between-group AUC disparity: population std of the group AUCs / AUC, and (max − min) / AUC. */
export function groupDisparity(
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
): { readonly std: GroupedMetric; readonly maxMin: GroupedMetric } {
  const { c, a } = oneAttribute(labels, scores, groups, 0.5, true);
  const overall = overallAuc(c);
  const aucs = groupAucValues(a, undefined);
  return disparity(overall, aucs, a.ids, 'AUC');
}
