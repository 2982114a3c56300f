/** Single metrics, each a thin view on the same counting core as fairnessReport. */
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
  return overallAuc(overallCounts(scores, labels, 0.5, true));
}

/** Fraction of samples whose prediction (score >= threshold) equals the label. */
export function accuracy(scores: ScoresInput, labels: LabelsInput, options: ThresholdOptions = {}): number {
  const c = overallCounts(scores, labels, checkThreshold(options.threshold ?? 0.5), false);
  return overallRates(c, 'strict').accuracy;
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
  return overallRates(c, checkMode(options.mode ?? 'strict')).tpr;
}

/** FPR = FP / (FP + TN); without negatives undefined ('strict') or 0 ('fairlearn'). */
export function falsePositiveRate(scores: ScoresInput, labels: LabelsInput, options: RateOptions = {}): MetricValue {
  const c = overallCounts(scores, labels, checkThreshold(options.threshold ?? 0.5), false);
  return overallRates(c, checkMode(options.mode ?? 'strict')).fpr;
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
  const aucs = groupAucValues(a, undefined);
  return a.ids.map((id, k) => {
    const n = a.n[k] as number;
    const nPos = a.nPos[k] as number;
    return { group: id, n, nPos, nNeg: n - nPos, auc: aucs[k] as MetricValue };
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
  const overall = overallAuc(c);
  const aucs = groupAucValues(a, undefined);
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
  const acc = overallRates(c, 'strict').accuracy;
  const accs = groupRates(a, 'strict', undefined).map((r) => defined(r.accuracy));
  return equityScaled(defined(acc), accs, a.ids, alpha, 'skip', 'accuracy', undefined).value as number;
}

/**
 * The TPR or FPR difference or equalized odds of one attribute. Options are checked in the order method, agg (for
 * 'odds'), mode, threshold.
 */
function oddsMetric(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: EqualizedOddsOptions,
  part: 'tpr' | 'fpr' | 'odds',
): GroupedMetric {
  const method = checkChoice(options.method ?? 'between_groups', 'method', METHODS);
  const agg = part === 'odds' ? checkChoice(options.agg ?? 'worst_case', 'agg', AGGS) : 'worst_case';
  const mode = checkMode(options.mode ?? 'strict');
  const { c, a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  const rates = groupRates(a, mode, undefined);
  const overall = overallRates(c, mode);
  return part === 'odds'
    ? equalizedOdds(rates, overall, a.ids, method, agg)
    : rateDifference(rates, overall, a.ids, method, part);
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
  const rates = groupRates(a, 'strict', undefined);
  return rateDifference(rates, overallRates(c, 'strict'), a.ids, method, 'selectionRate').value as number;
}

/** Demographic parity ratio: min / max group selection rate; undefined when every group's rate is 0. */
export function demographicParityRatio(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: ThresholdOptions = {},
): GroupedMetric {
  const { a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  return rateRatio(groupRates(a, 'strict', undefined), a.ids, 'selectionRate');
}

/** Equal-opportunity difference: the difference of group TPRs (fairlearn true_positive_rate_difference). */
export function equalOpportunityDifference(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: DifferenceOptions = {},
): GroupedMetric {
  return oddsMetric(scores, labels, groups, options, 'tpr');
}

/** Difference of group FPRs (fairlearn false_positive_rate_difference). */
export function falsePositiveRateDifference(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: DifferenceOptions = {},
): GroupedMetric {
  return oddsMetric(scores, labels, groups, options, 'fpr');
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
  return oddsMetric(scores, labels, groups, options, 'odds');
}

/** Equalized odds ratio: the smaller of the TPR ratio and the FPR ratio (each min / max over groups). */
export function equalizedOddsRatio(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
  options: RateOptions = {},
): GroupedMetric {
  const mode = checkMode(options.mode ?? 'strict');
  const { a } = oneAttribute(scores, labels, groups, checkThreshold(options.threshold ?? 0.5), false);
  return equalizedOddsRatioOf(groupRates(a, mode, undefined), a.ids);
}

/** Between-group AUC disparity: population std of the group AUCs / AUC, and (max − min) / AUC. */
export function groupDisparity(
  scores: ScoresInput,
  labels: LabelsInput,
  groups: GroupsInput,
): { readonly std: GroupedMetric; readonly maxMin: GroupedMetric } {
  const { c, a } = oneAttribute(scores, labels, groups, 0.5, true);
  const overall = overallAuc(c);
  const aucs = groupAucValues(a, undefined);
  return disparity(overall, aucs, a.ids, 'AUC');
}
