/**
 * Agreement with the golden reference (scikit-learn 1.2.1 roc_auc_score / roc_curve + auc, fairlearn 0.9.0
 * MetricFrame and difference/ratio functions, FairCLIP's ES-AUC) on all 30 cases, every field, to 1e-12.
 */
import { afterAll, describe, expect, test } from 'vitest';
import {
  accuracy,
  byGroup,
  demographicParityDifference,
  demographicParityRatio,
  equalizedOddsDifference,
  equalizedOddsRatio,
  equalOpportunityDifference,
  equityScaledAccuracy,
  equityScaledAuc,
  FairnessInputError,
  fairnessReport,
  falsePositiveRateDifference,
  groupAucs,
  groupDisparity,
  rocAuc,
  rocCurve,
  selectionRate,
  sliceMetrics,
  trapezoid,
} from '../src/index.ts';
import { expectMetric, type GoldenCase, loadGolden, maxError, TOL } from './golden.ts';

const golden = loadGolden();

afterAll(() => {
  console.log(
    `[golden fairness] ${golden.cases.length} cases, largest absolute error ${maxError.value.toExponential(2)} (${maxError.where || 'all exact'}), tolerance ${TOL}`,
  );
});

test('the golden file has the 30 documented cases and was made with fairlearn 0.9 / sklearn', () => {
  expect(golden.cases).toHaveLength(30);
  expect(golden.versions.fairlearn).toBe('0.9.0');
  expect(golden.threshold).toBe(0.5);
});

function oneClassGroups(c: GoldenCase) {
  return {
    noPos: c.per_group.filter((g) => g.n_pos === 0).map((g) => g.group),
    noNeg: c.per_group.filter((g) => g.n_neg === 0).map((g) => g.group),
  };
}

describe.each(golden.cases.map((c) => [c.name, c] as const))('golden case %s', (name, c) => {
  test('fairnessReport in fairlearn mode matches every reference field', () => {
    const r = fairnessReport(c.y_true, c.score, { g: c.group }, { mode: 'fairlearn' });
    const a = r.attributes.g!;
    expect(r.n).toBe(c.n);
    expectMetric(r.auc, c.auc, `${name} auc`);
    if (c.auc === null) expect(r.auc.code).toBe('SINGLE_CLASS');
    expectMetric(r.accuracy, c.acc, `${name} acc`);
    expect(a.groups.map((g) => g.group)).toEqual(c.groups);
    c.per_group.forEach((gold, k) => {
      const g = a.groups[k]!;
      const w = `${name} group ${gold.group}`;
      expect([g.group, g.n, g.nPos, g.nNeg]).toEqual([gold.group, gold.n, gold.n_pos, gold.n_neg]);
      expectMetric(g.auc, gold.auc, `${w} auc`);
      if (gold.auc === null) expect(g.auc.code).toBe('SINGLE_CLASS');
      expectMetric(g.accuracy, gold.acc, `${w} acc`);
      expectMetric(g.selectionRate, gold.fairlearn_selection_rate, `${w} selection rate`);
      expectMetric(g.tpr, gold.fairlearn_tpr, `${w} tpr`);
      expectMetric(g.fpr, gold.fairlearn_fpr, `${w} fpr`);
    });
    expectMetric(a.esAuc, c.es_auc, `${name} es_auc`);
    expect(a.esAuc.skippedGroups).toEqual(c.es_auc_skipped_groups);
    expectMetric(a.esAucFairclipCode, c.es_auc_fairclip_code, `${name} es_auc_fairclip_code`);
    expectMetric(a.esAcc, c.es_acc, `${name} es_acc`);
    expectMetric(a.stdGroupDisparity, c.std_group_disparity, `${name} std_group_disparity`);
    expectMetric(a.maxGroupDisparity, c.max_group_disparity, `${name} max_group_disparity`);
    expectMetric(a.dpd, c.dpd, `${name} dpd`);
    expectMetric(a.dpdToOverall, c.dpd_to_overall, `${name} dpd_to_overall`);
    expectMetric(a.dpr, c.dpr, `${name} dpr`);
    expectMetric(a.eod, c.eod, `${name} eod`);
    expectMetric(a.eodToOverall, c.eod_to_overall, `${name} eod_to_overall`);
    expectMetric(a.eor, c.eor, `${name} eor`);
    expectMetric(a.tprDifference, c.tpr_difference, `${name} tpr_difference`);
    expectMetric(a.fprDifference, c.fpr_difference, `${name} fpr_difference`);
    expectMetric(a.eodMean, c.eod_mean, `${name} eod_mean`);
    // fairlearn raised ZeroDivisionError exactly where we report an undefined ratio.
    expect(a.dpr.value === null).toBe('dpr' in c.fairlearn_errors);
    expect(a.eor.value === null).toBe('eor' in c.fairlearn_errors);
    if (a.dpr.value === null) expect(a.dpr.code).toBe('ZERO_DENOMINATOR');
  });

  test('single-metric functions agree with the reference (fairlearn mode where rates are involved)', () => {
    const [s, y, g] = [c.score, c.y_true, c.group];
    const fl = { mode: 'fairlearn' } as const;
    expectMetric(rocAuc(y, s), c.auc, `${name} rocAuc`);
    expectMetric(accuracy(y, s), c.acc, `${name} accuracy`);
    expectMetric(selectionRate(y, s), c.y_pred.reduce((t: number, v) => t + v, 0) / c.n, `${name} selection rate`);
    const aucs = groupAucs(y, s, g);
    c.per_group.forEach((gold, k) => expectMetric(aucs[k]!.auc, gold.auc, `${name} groupAucs ${gold.group}`));
    expectMetric(equityScaledAuc(y, s, g), c.es_auc, `${name} equityScaledAuc`);
    expectMetric(
      equityScaledAuc(y, s, g, { undefinedGroups: 'propagate' }),
      c.es_auc_fairclip_code,
      `${name} equityScaledAuc propagate`,
    );
    expectMetric(equityScaledAccuracy(y, s, g), c.es_acc, `${name} equityScaledAccuracy`);
    expectMetric(demographicParityDifference(y, s, g), c.dpd, `${name} dpd`);
    expectMetric(demographicParityDifference(y, s, g, { method: 'to_overall' }), c.dpd_to_overall, `${name} dpd_to`);
    expectMetric(demographicParityRatio(y, s, g), c.dpr, `${name} dpr`);
    expectMetric(equalizedOddsDifference(y, s, g, fl), c.eod, `${name} eod`);
    expectMetric(equalizedOddsDifference(y, s, g, { ...fl, agg: 'mean' }), c.eod_mean, `${name} eod mean`);
    expectMetric(
      equalizedOddsDifference(y, s, g, { ...fl, method: 'to_overall' }),
      c.eod_to_overall,
      `${name} eod to overall`,
    );
    expectMetric(equalizedOddsRatio(y, s, g, fl), c.eor, `${name} eor`);
    expectMetric(equalOpportunityDifference(y, s, g, fl), c.tpr_difference, `${name} tpr difference`);
    expectMetric(falsePositiveRateDifference(y, s, g, fl), c.fpr_difference, `${name} fpr difference`);
    const d = groupDisparity(y, s, g);
    expectMetric(d.std, c.std_group_disparity, `${name} std disparity`);
    expectMetric(d.maxMin, c.max_group_disparity, `${name} max disparity`);
  });

  test("roc_curve + trapezoid (FairCLIP's route) matches auc_roc_curve_trapezoid", () => {
    const check = (s: number[], y: number[], expected: number | null, where: string) => {
      if (expected === null) {
        expect(() => rocCurve(y, s)).toThrow(expect.objectContaining({ code: 'SINGLE_CLASS' }));
        return;
      }
      for (const dropIntermediate of [true, false]) {
        const roc = rocCurve(y, s, { dropIntermediate });
        expectMetric(trapezoid(roc.fpr, roc.tpr), expected, `${where} trapezoid (drop ${dropIntermediate})`);
      }
    };
    check(c.score, c.y_true, c.auc_roc_curve_trapezoid, name);
    for (const gold of c.per_group) {
      const idx = c.group.flatMap((g, i) => (g === gold.group ? [i] : []));
      check(
        idx.map((i) => c.score[i]!),
        idx.map((i) => c.y_true[i]!),
        gold.auc_roc_curve_trapezoid,
        `${name} group ${gold.group}`,
      );
    }
  });

  test('byGroup (MetricFrame) reproduces fairlearn by_group and the differences', () => {
    const frame = byGroup(
      {
        auc: sliceMetrics.auc,
        acc: sliceMetrics.accuracy,
        sr: sliceMetrics.selectionRate,
        tpr: sliceMetrics.truePositiveRate,
        fpr: sliceMetrics.falsePositiveRate,
      },
      c.y_true,
      c.score,
      c.group,
      { mode: 'fairlearn' },
    );
    expect(frame.groups).toEqual(c.groups);
    expectMetric(frame.overall.auc, c.auc, `${name} frame overall auc`);
    c.per_group.forEach((gold, k) => {
      const row = frame.byGroup[k]!;
      expect([row.group, row.n, row.nPos, row.nNeg]).toEqual([gold.group, gold.n, gold.n_pos, gold.n_neg]);
      expectMetric(row.values.auc, gold.auc, `${name} frame auc ${gold.group}`);
      expectMetric(row.values.acc, gold.acc, `${name} frame acc ${gold.group}`);
      expectMetric(row.values.sr, gold.fairlearn_selection_rate, `${name} frame sr ${gold.group}`);
      expectMetric(row.values.tpr, gold.fairlearn_tpr, `${name} frame tpr ${gold.group}`);
      expectMetric(row.values.fpr, gold.fairlearn_fpr, `${name} frame fpr ${gold.group}`);
    });
    expectMetric(frame.difference('sr'), c.dpd, `${name} frame dpd`);
    expectMetric(frame.difference('sr', 'to_overall'), c.dpd_to_overall, `${name} frame dpd to overall`);
    expectMetric(frame.ratio('sr'), c.dpr, `${name} frame dpr`);
    expectMetric(frame.difference('tpr'), c.tpr_difference, `${name} frame tpr difference`);
    expectMetric(frame.difference('fpr'), c.fpr_difference, `${name} frame fpr difference`);
  });

  test('strict mode: one-class groups get undefined TPR/FPR with reasons; differences use the other groups', () => {
    const r = fairnessReport(c.y_true, c.score, { g: c.group });
    const a = r.attributes.g!;
    const { noPos, noNeg } = oneClassGroups(c);
    c.per_group.forEach((gold, k) => {
      const g = a.groups[k]!;
      if (gold.n_pos === 0) {
        expect(g.tpr).toMatchObject({ value: null, code: 'NO_POSITIVES' });
        expect(g.tpr.reason).toContain(`group ${gold.group}`);
      } else expectMetric(g.tpr, gold.fairlearn_tpr, `${name} strict tpr ${gold.group}`);
      if (gold.n_neg === 0) expect(g.fpr).toMatchObject({ value: null, code: 'NO_NEGATIVES' });
      else expectMetric(g.fpr, gold.fairlearn_fpr, `${name} strict fpr ${gold.group}`);
    });
    // Reference: max − min of fairlearn's per-group rates over the groups where the rate is defined.
    const spread = (vals: number[]) => (vals.length === 0 ? null : Math.max(...vals) - Math.min(...vals));
    const tprRef = spread(c.per_group.filter((g) => g.n_pos > 0).map((g) => g.fairlearn_tpr));
    const fprRef = spread(c.per_group.filter((g) => g.n_neg > 0).map((g) => g.fairlearn_fpr));
    expectMetric(a.tprDifference, tprRef, `${name} strict tpr difference`);
    expectMetric(a.fprDifference, fprRef, `${name} strict fpr difference`);
    expect(a.tprDifference.skippedGroups).toEqual(noPos);
    expect(a.fprDifference.skippedGroups).toEqual(noNeg);
    const eodRef = tprRef === null || fprRef === null ? null : Math.max(tprRef, fprRef);
    expectMetric(a.eod, eodRef, `${name} strict eod`);
    expect(a.eod.skippedGroups).toEqual([...new Set([...noPos, ...noNeg])].sort((x, y) => x - y));
    if (noPos.length === 0 && noNeg.length === 0) {
      // Without one-class groups the two modes coincide with fairlearn.
      expectMetric(a.eod, c.eod, `${name} strict eod = fairlearn`);
      expectMetric(a.eodToOverall, c.eod_to_overall, `${name} strict eod to overall = fairlearn`);
      expectMetric(a.eor, c.eor, `${name} strict eor = fairlearn`);
    }
  });

  test("ES-AUC policy 'error' throws naming the first one-class group, exactly where a group AUC is undefined", () => {
    const bad = c.per_group.find((g) => g.auc === null);
    const call = () => equityScaledAuc(c.y_true, c.score, c.group, { undefinedGroups: 'error' });
    if (bad === undefined) expectMetric(call(), c.es_auc, `${name} es_auc (error policy, nothing undefined)`);
    else {
      expect(call).toThrow(FairnessInputError);
      expect(call).toThrow(`group ${bad.group}`);
    }
  });
});
