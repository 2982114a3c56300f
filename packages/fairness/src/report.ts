/** fairnessReport: everything FairCLIP reports, for several attributes, from one sort of the scores. */
import {
  combineOdds,
  disparity,
  equalizedOdds,
  equalizedOddsRatioOf,
  equityScaled,
  groupAucValues,
  groupRates,
  overallAuc,
  overallRates,
  type Rates,
  rateDifference,
  rateRatio,
} from './derive.ts';
import { type AttributeCounts, type Counts, countAll } from './engine.ts';
import { FairnessInputError } from './errors.ts';
import { checkAlpha, checkMode, checkThreshold, type EncodedGroups, encodeGroups, toSamples } from './input.ts';
import {
  defined,
  type GroupedMetric,
  type GroupsInput,
  type LabelsInput,
  type MetricValue,
  type RateMode,
  type ScoresInput,
} from './types.ts';

export interface ReportOptions {
  /** A sample is predicted positive when score >= threshold. Default 0.5 (FairCLIP). */
  readonly threshold?: number;
  /** α of ES-AUC and ES-Acc. Default 1. */
  readonly alpha?: number;
  /** How TPR/FPR of a group without positives/negatives are handled. Default 'strict'. See RateMode. */
  readonly mode?: RateMode;
  /** Display names of group ids per attribute, e.g. { race: { 0: 'Asian', 1: 'Black', 2: 'White' } }. */
  readonly groupNames?: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

/** Metrics of one group of one attribute. */
export interface GroupReport {
  readonly group: number;
  /** Display name, when ReportOptions.groupNames gives one. */
  readonly name?: string;
  readonly n: number;
  readonly nPos: number;
  readonly nNeg: number;
  /** ROC AUC on the group's samples (undefined when the group has one class). */
  readonly auc: MetricValue;
  /** Fraction of the group's samples whose prediction (score >= threshold) equals the label. */
  readonly accuracy: number;
  /** Fraction predicted positive. */
  readonly selectionRate: number;
  readonly tpr: MetricValue;
  readonly fpr: MetricValue;
}

/** Everything FairCLIP computes for one sensitive attribute (field names follow the golden reference file). */
export interface AttributeReport {
  readonly attribute: string;
  /** Groups present, ascending id. */
  readonly groups: readonly GroupReport[];
  /** ES-AUC = AUC / (1 + α Σ_g |AUC − AUC_g|) over the groups with a defined AUC; `skippedGroups` lists the others. */
  readonly esAuc: GroupedMetric;
  /** ES-AUC as FairCLIP's code computes it: undefined (NaN there) as soon as one group has one class. */
  readonly esAucFairclipCode: GroupedMetric;
  /** ES-Acc = Acc / (1 + α Σ_g |Acc − Acc_g|). */
  readonly esAcc: number;
  /** Demographic parity difference: max − min group selection rate (fairlearn 'between_groups'). */
  readonly dpd: number;
  /** max_g |selection rate_g − overall selection rate| (fairlearn 'to_overall'). */
  readonly dpdToOverall: number;
  /** Demographic parity ratio: min / max group selection rate. */
  readonly dpr: GroupedMetric;
  /** DEOdds: fairlearn equalized_odds_difference = max(TPR difference, FPR difference) ('worst_case'). */
  readonly eod: GroupedMetric;
  /** Equalized odds difference with method 'to_overall'. */
  readonly eodToOverall: GroupedMetric;
  /** Equalized odds difference with agg 'mean': (TPR difference + FPR difference) / 2. */
  readonly eodMean: GroupedMetric;
  /** Equalized odds ratio: min of the TPR ratio and the FPR ratio (each min/max over groups). */
  readonly eor: GroupedMetric;
  /** Equal-opportunity difference: max − min group TPR. */
  readonly tprDifference: GroupedMetric;
  /** max − min group FPR. */
  readonly fprDifference: GroupedMetric;
  /** Population std of the defined group AUCs / AUC. */
  readonly stdGroupDisparity: GroupedMetric;
  /** (max − min) of the defined group AUCs / AUC. */
  readonly maxGroupDisparity: GroupedMetric;
}

export interface FairnessReport<K extends string = string> {
  readonly n: number;
  readonly nPos: number;
  readonly nNeg: number;
  readonly threshold: number;
  readonly alpha: number;
  readonly mode: RateMode;
  readonly auc: MetricValue;
  readonly accuracy: number;
  readonly selectionRate: number;
  readonly tpr: MetricValue;
  readonly fpr: MetricValue;
  /** One entry per attribute, in the order given. */
  readonly attributes: Readonly<Record<K, AttributeReport>>;
}

interface Settings {
  readonly threshold: number;
  readonly alpha: number;
  readonly mode: RateMode;
}

export function settingsFrom(options: ReportOptions): Settings {
  return {
    threshold: checkThreshold(options.threshold ?? 0.5),
    alpha: checkAlpha(options.alpha ?? 1),
    mode: checkMode(options.mode ?? 'strict'),
  };
}

/** Overall metrics shared by every attribute. */
export interface Overall extends Rates {
  readonly auc: MetricValue;
}

export function overallFrom(c: Counts, mode: RateMode): Overall {
  return { auc: overallAuc(c), ...overallRates(c, mode) };
}

export function groupsFrom(
  a: AttributeCounts,
  mode: RateMode,
  names: Readonly<Record<number, string>> | undefined,
): GroupReport[] {
  const aucs = groupAucValues(a, a.name);
  const rates = groupRates(a, mode, a.name);
  return a.ids.map((id, k) => {
    const n = a.n[k] as number;
    const nPos = a.nPos[k] as number;
    const name = names?.[id];
    return {
      group: id,
      ...(name === undefined ? {} : { name }),
      n,
      nPos,
      nNeg: n - nPos,
      auc: aucs[k] as MetricValue,
      ...(rates[k] as Rates),
    };
  });
}

export function attributeFrom(
  a: AttributeCounts,
  overall: Overall,
  s: Settings,
  names: Readonly<Record<number, string>> | undefined,
): AttributeReport {
  const groups = groupsFrom(a, s.mode, names);
  const ids = a.ids;
  const aucs = groups.map((g) => g.auc);
  const accs = groups.map((g) => defined(g.accuracy));
  const tprDifference = rateDifference(groups, overall, ids, 'between_groups', 'tpr');
  const fprDifference = rateDifference(groups, overall, ids, 'between_groups', 'fpr');
  const disp = disparity(overall.auc, aucs, ids, 'AUC');
  const esAcc = equityScaled(defined(overall.accuracy), accs, ids, s.alpha, 'skip', 'accuracy', a.name);
  return {
    attribute: a.name,
    groups,
    esAuc: equityScaled(overall.auc, aucs, ids, s.alpha, 'skip', 'AUC', a.name),
    esAucFairclipCode: equityScaled(overall.auc, aucs, ids, s.alpha, 'propagate', 'AUC', a.name),
    esAcc: esAcc.value as number,
    dpd: rateDifference(groups, overall, ids, 'between_groups', 'selectionRate').value as number,
    dpdToOverall: rateDifference(groups, overall, ids, 'to_overall', 'selectionRate').value as number,
    dpr: rateRatio(groups, ids, 'selectionRate'),
    eod: combineOdds(tprDifference, fprDifference, 'worst_case'),
    eodToOverall: equalizedOdds(groups, overall, ids, 'to_overall', 'worst_case'),
    eodMean: combineOdds(tprDifference, fprDifference, 'mean'),
    eor: equalizedOddsRatioOf(groups, ids),
    tprDifference,
    fprDifference,
    stdGroupDisparity: disp.std,
    maxGroupDisparity: disp.maxMin,
  };
}

/** Validated inputs shared by the report and the single-metric functions. */
export interface Prepared {
  readonly labels: Uint8Array;
  readonly scores: Float64Array;
  readonly attributes: readonly EncodedGroups[];
}

export function prepare(
  labels: LabelsInput,
  scores: ScoresInput,
  attributes: Readonly<Record<string, GroupsInput>>,
): Prepared {
  const { labels: y, scores: s } = toSamples(labels, scores);
  if (attributes === null || typeof attributes !== 'object') {
    throw new FairnessInputError('INVALID_OPTION', 'attributes must be an object { name: groupIds }');
  }
  const enc = Object.keys(attributes).map((name) =>
    encodeGroups(attributes[name] as GroupsInput, s.length, name, `attributes.${name}`),
  );
  return { labels: y, scores: s, attributes: enc };
}

/**
 * Computes AUC, accuracy and, for every attribute, group AUCs / accuracies / selection rates / TPR / FPR, ES-AUC,
 * ES-Acc, DPD, DEOdds (worst case, mean, to overall), ratios, equal-opportunity and FPR differences and the
 * between-group AUC disparities, in one pass over the data after one O(n) radix sort of the scores.
 * Arguments in fairlearn's order: (labels, scores, { attribute: groupIds }) = (y_true, y_pred, sensitive_features).
 */
export function fairnessReport<K extends string>(
  labels: LabelsInput,
  scores: ScoresInput,
  attributes: Readonly<Record<K, GroupsInput>>,
  options: ReportOptions = {},
): FairnessReport<K> {
  const s = settingsFrom(options);
  const p = prepare(labels, scores, attributes);
  const c = countAll(p.scores, p.labels, p.attributes, s.threshold, true);
  const overall = overallFrom(c, s.mode);
  const out = {} as Record<K, AttributeReport>;
  for (const a of c.attributes) out[a.name as K] = attributeFrom(a, overall, s, options.groupNames?.[a.name]);
  return {
    n: c.n,
    nPos: c.nPos,
    nNeg: c.n - c.nPos,
    threshold: s.threshold,
    alpha: s.alpha,
    mode: s.mode,
    ...overall,
    attributes: out,
  };
}
