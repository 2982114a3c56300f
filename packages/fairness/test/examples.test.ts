/** Named examples: published known answers, the undefined cases and their reasons, and every input error. */
import { FAIRVLMED_GROUP_NAMES } from '@fairclip/io';
import { describe, expect, test } from 'vitest';
import { equityScaled } from '../src/derive.ts';
import {
  accuracy,
  byGroup,
  equalizedOddsDifference,
  equityScaledAuc,
  FairnessInputError,
  fairnessReport,
  falsePositiveRate,
  groupAucs,
  type MetricValue,
  metricOr,
  rocAuc,
  rocCurve,
  selectionRate,
  sliceMetrics,
  trapezoid,
  truePositiveRate,
} from '../src/index.ts';
import { argsortScores } from '../src/sort.ts';
import { defined } from '../src/types.ts';

describe('known answers', () => {
  test("scikit-learn's roc_auc_score docstring example: y = [0,0,1,1], s = [0.1,0.4,0.35,0.8] → 0.75", () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).value).toBe(0.75);
  });

  test("scikit-learn's roc_curve docstring example (thresholds start at +inf as in sklearn >= 1.3)", () => {
    const roc = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect([...roc.fpr]).toEqual([0, 0, 0.5, 0.5, 1]);
    expect([...roc.tpr]).toEqual([0, 0.5, 0.5, 1, 1]);
    expect([...roc.thresholds]).toEqual([Number.POSITIVE_INFINITY, 0.8, 0.4, 0.35, 0.1]);
    expect(trapezoid(roc.fpr, roc.tpr)).toBe(0.75);
  });

  test('a tied positive–negative pair counts one half', () => {
    expect(rocAuc([0, 1], [0.5, 0.5]).value).toBe(0.5);
    // Breaking the single tie of 1 × 2 pairs moves the AUC by 1 / (2 n₊ n₋) = 1/4.
    expect(rocAuc([0, 0, 1], [0.2, 0.5, 0.5]).value).toBe(0.75);
    expect(rocAuc([0, 0, 1], [0.2, 0.4, 0.5]).value).toBe(1);
  });

  test('ES-AUC formula reproduces the FairCLIP README table (CLIP and FairCLIP rows, race and gender, 4 decimals)', () => {
    // fairclip.md §7.1: AUC, ES-AUC race/gender and group AUCs of the released checkpoints (ViT-B/16, test set).
    const rows = [
      { auc: 0.6902, race: [0.7242, 0.7078, 0.6741], esRace: 0.6464, gender: [0.6628, 0.7253], esGender: 0.6495 },
      { auc: 0.7106, race: [0.7357, 0.7306, 0.6973], esRace: 0.6714, gender: [0.6786, 0.7518], esGender: 0.6621 },
      { auc: 0.7222, race: [0.7728, 0.7378, 0.7102], esRace: 0.6698, gender: [0.6923, 0.7591], esGender: 0.677 },
      { auc: 0.7275, race: [0.7697, 0.7624, 0.7126], esRace: 0.6662, gender: [0.6955, 0.7676], esGender: 0.6786 },
    ];
    for (const r of rows) {
      const es = (groups: number[]) =>
        equityScaled(
          defined(r.auc),
          groups.map(defined),
          groups.map((_, k) => k),
          1,
          'skip',
          'AUC',
          'x',
        ).value!;
      // Inputs and outputs are rounded to 4 decimals: |Δinput| ≤ 5e-5 each moves ES-AUC by at most ~1e-4 here,
      // plus 5e-5 for rounding the output, hence 2e-4. (Averaging instead of summing over groups misses by > 0.019.)
      expect(Math.abs(es(r.race) - r.esRace)).toBeLessThan(2e-4);
      expect(Math.abs(es(r.gender) - r.esGender)).toBeLessThan(2e-4);
    }
  });

  test('accuracy, selection rate, TPR and FPR by hand (threshold 0.5 inclusive, and a custom threshold)', () => {
    const s = [0.1, 0.5, 0.7, 0.49, 0.9, 0.2];
    const y = [0, 0, 1, 1, 1, 0];
    // predictions (>= 0.5): 0 1 1 0 1 0 → correct: y0 y2 y4 y5 = 4/6
    expect(accuracy(y, s)).toBe(4 / 6);
    expect(selectionRate(y, s)).toBe(3 / 6);
    expect(truePositiveRate(y, s).value).toBe(2 / 3);
    expect(falsePositiveRate(y, s).value).toBe(1 / 3);
    expect(selectionRate(y, s, { threshold: 0.05 })).toBe(1);
    expect(accuracy([0, 1, 0, 0], [0, 1, 1, 0])).toBe(0.75); // 0/1 predictions passed as scores
  });

  test('a hand-made FairCLIP-style report with names, one-class group and every headline field', () => {
    // race 0: scores/labels (0.9,1) (0.2,0) (0.6,0) → AUC 1; race 1: (0.8,1) (0.3,1) → one class; race 2: (0.4,0) (0.7,1) → 1
    const scores = [0.9, 0.2, 0.6, 0.8, 0.3, 0.4, 0.7];
    const labels = [1, 0, 0, 1, 1, 0, 1];
    const race = [0, 0, 0, 1, 1, 2, 2];
    const r = fairnessReport(labels, scores, { race }, { groupNames: FAIRVLMED_GROUP_NAMES });
    const a = r.attributes.race!;
    // overall: positives 0.9 0.8 0.3 0.7 vs negatives 0.2 0.6 0.4 → pairs won: 3+3+1+3 = 10 of 12
    expect(r.auc.value).toBe(10 / 12);
    expect(a.groups.map((g) => g.name)).toEqual(['Asian', 'Black', 'White']);
    expect(a.groups.map((g) => g.auc.value)).toEqual([1, null, 1]);
    expect(a.groups[1]!.auc).toMatchObject({ code: 'SINGLE_CLASS' });
    expect(a.groups[1]!.auc.reason).toContain('race group 1 has only positive samples');
    expect(a.esAuc.value).toBe(10 / 12 / (1 + 2 * (1 - 10 / 12)));
    expect(a.esAuc.skippedGroups).toEqual([1]);
    expect(a.esAucFairclipCode.value).toBeNull();
    expect(a.esAucFairclipCode.reason).toContain('NaN');
    // predictions: 1 0 1 1 0 0 1 → SR: 2/3, 1/2, 1/2 → DPD 1/6
    expect(a.dpd).toBeCloseTo(2 / 3 - 1 / 2, 15);
    // TPR: race0 1/1, race1 1/2, race2 1/1; FPR: race0 1/2, race1 undefined (no negatives), race2 0/1
    expect(a.tprDifference.value).toBe(0.5);
    expect(a.fprDifference.value).toBe(0.5);
    expect(a.fprDifference.skippedGroups).toEqual([1]);
    expect(a.eod.value).toBe(0.5);
  });
});

describe('undefined values carry a reason and never become NaN', () => {
  test('one class overall: AUC, ES-AUC and disparities are undefined with reasons; the JSON has no NaN', () => {
    const r = fairnessReport([0, 0, 0], [0.1, 0.7, 0.4], { g: [1, 1, 2] });
    expect(r.auc).toMatchObject({ value: null, code: 'SINGLE_CLASS' });
    expect(r.auc.reason).toMatch(/only negative samples/);
    const a = r.attributes.g!;
    expect(a.esAuc).toMatchObject({ value: null, code: 'UNDEFINED_INPUT' });
    expect(a.stdGroupDisparity.value).toBeNull();
    expect(r.tpr).toMatchObject({ value: null, code: 'NO_POSITIVES' });
    expect(a.eod).toMatchObject({ value: null, code: 'NO_DEFINED_GROUPS' });
    const json = JSON.stringify(r);
    expect(json).not.toMatch(/NaN|Infinity/);
    const walk = (x: unknown): void => {
      if (typeof x === 'number') expect(Number.isFinite(x)).toBe(true);
      else if (x && typeof x === 'object') Object.values(x).forEach(walk);
    };
    walk(r);
  });

  test('fairlearn mode turns 0/0 rates into 0 as fairlearn 0.9 does (a perfect classifier can get EOD = 1)', () => {
    // group 0: only negatives, predicted right; group 1: only positives, predicted right.
    const s = [0.1, 0.2, 0.8, 0.9];
    const y = [0, 0, 1, 1];
    const g = [0, 0, 1, 1];
    expect(equalizedOddsDifference(y, s, g, { mode: 'fairlearn' }).value).toBe(1);
    const strict = equalizedOddsDifference(y, s, g);
    expect(strict.value).toBe(0);
    expect(strict.skippedGroups).toEqual([0, 1]);
  });

  test('a zero AUC makes the normalised disparities undefined (division by zero), not infinite', () => {
    const r = fairnessReport([0, 0, 1, 1], [0.9, 0.8, 0.1, 0.2], { g: [0, 1, 0, 1] });
    expect(r.auc.value).toBe(0);
    expect(r.attributes.g!.maxGroupDisparity).toMatchObject({ value: null, code: 'ZERO_DENOMINATOR' });
  });

  test('metricOr gives a number or the fallback', () => {
    const m: MetricValue = rocAuc([1, 1], [1, 2]);
    expect(metricOr(m)).toBeNull();
    expect(metricOr(m, -1)).toBe(-1);
    expect(metricOr(rocAuc([0, 1], [1, 2]))).toBe(1);
  });
});

describe('typed input errors', () => {
  const cases: Array<[string, () => unknown, string, RegExp]> = [
    [
      'length mismatch',
      () => rocAuc([0, 1, 1], [0.1, 0.2]),
      'LENGTH_MISMATCH',
      /scores has 2 elements but labels has 3/,
    ],
    [
      'group length mismatch',
      () => fairnessReport([0, 1], [0.1, 0.2], { race: [0] }),
      'LENGTH_MISMATCH',
      /attributes\.race has 1 elements/,
    ],
    ['NaN score', () => rocAuc([0, 1], [0.1, Number.NaN]), 'NON_FINITE_SCORE', /scores\[1\] = NaN/],
    ['infinite score', () => accuracy([1], [Number.POSITIVE_INFINITY]), 'NON_FINITE_SCORE', /scores\[0\] = Infinity/],
    ['string score', () => rocAuc([1], ['0.3'] as unknown as number[]), 'NON_FINITE_SCORE', /scores\[0\] = "0.3"/],
    ['label 2', () => rocAuc([0, 2], [0.1, 0.2]), 'INVALID_LABEL', /labels\[1\] = 2: labels must be 0/],
    ['label -1', () => rocAuc([-1, 1], [0.1, 0.2]), 'INVALID_LABEL', /labels\[0\] = -1/],
    ['label "1"', () => rocAuc(['1'] as unknown as number[], [0.1]), 'INVALID_LABEL', /labels\[0\] = "1"/],
    ['empty input', () => rocAuc([], []), 'EMPTY_INPUT', /labels is empty/],
    ['empty typed array', () => fairnessReport([], new Float64Array(0), {}), 'EMPTY_INPUT', /empty/],
    ['fractional group', () => groupAucs([0, 1], [0.1, 0.2], [0, 1.5]), 'INVALID_GROUP', /groups\[1\] = 1.5/],
    ['NaN threshold', () => accuracy([0], [0.1], { threshold: Number.NaN }), 'INVALID_OPTION', /threshold/],
    ['negative alpha', () => equityScaledAuc([0], [0.1], [0], { alpha: -1 }), 'INVALID_OPTION', /alpha/],
    [
      'unknown mode',
      () => fairnessReport([0], [0.1], {}, { mode: 'sklearn' as 'strict' }),
      'INVALID_OPTION',
      /mode must be 'strict' or 'fairlearn'/,
    ],
    [
      'unknown agg',
      () => equalizedOddsDifference([0], [0.1], [0], { agg: 'max' as 'mean' }),
      'INVALID_OPTION',
      /agg must be one of 'worst_case', 'mean'/,
    ],
    ['rocCurve with one class', () => rocCurve([1, 1], [0.1, 0.2]), 'SINGLE_CLASS', /needs both classes/],
    ['trapezoid non-monotone x', () => trapezoid([0, 1, 0.5], [0, 1, 1]), 'INVALID_OPTION', /neither/],
  ];
  test.each(cases)('%s', (_name, call, code, message) => {
    let caught: unknown;
    try {
      call();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FairnessInputError);
    expect((caught as FairnessInputError).code).toBe(code);
    expect((caught as Error).message).toMatch(message);
  });

  test("ES-AUC policy 'error' names the attribute-less group and suggests 'skip'", () => {
    expect(() => equityScaledAuc([0, 1, 1], [0.1, 0.9, 0.5], [0, 0, 1], { undefinedGroups: 'error' })).toThrow(
      /group 1: AUC is undefined .*undefinedGroups: 'skip'/,
    );
  });
});

describe('byGroup (MetricFrame)', () => {
  const s = [0.9, 0.2, 0.6, 0.8, 0.3, 0.4, 0.7];
  const y = [1, 0, 0, 1, 1, 0, 1];
  const g = [5, 5, 5, -1, -1, 9, 9];

  test('custom metrics, group min / max, difference and ratio, and NaN from a custom metric becomes undefined', () => {
    const frame = byGroup(
      {
        positives: (sl) => sl.labels.reduce((t, v) => t + v, 0),
        meanScore: (sl) => sl.scores.reduce((t, v) => t + v, 0) / sl.scores.length,
        broken: () => Number.NaN,
        auc: sliceMetrics.auc,
      },
      y,
      s,
      g,
    );
    expect(frame.groups).toEqual([-1, 5, 9]);
    expect(frame.byGroup.map((r) => r.values.positives.value)).toEqual([2, 1, 1]);
    expect(frame.overall.positives.value).toBe(4);
    expect(frame.byGroup[1]!.values.meanScore.value).toBeCloseTo((0.9 + 0.2 + 0.6) / 3, 15);
    expect(frame.groupMax('positives')).toEqual({ value: 2, group: -1 });
    expect(frame.groupMin('positives')).toEqual({ value: 1, group: 5 });
    expect(frame.difference('positives').value).toBe(1);
    expect(frame.ratio('positives').value).toBe(0.5);
    expect(frame.overall.broken).toMatchObject({ value: null, code: 'UNDEFINED_INPUT' });
    expect(frame.byGroup[0]!.values.auc).toMatchObject({ value: null, code: 'SINGLE_CLASS' });
    expect(frame.difference('auc').skippedGroups).toEqual([-1]);
    expect(frame.groupMin('broken')).toMatchObject({ value: null, code: 'NO_DEFINED_GROUPS' });
    expect(() => frame.difference('nope' as 'auc')).toThrow(/unknown metric 'nope'/);
  });

  test('built-in slice metrics equal the report per group', () => {
    const frame = byGroup(
      {
        auc: sliceMetrics.auc,
        accuracy: sliceMetrics.accuracy,
        selectionRate: sliceMetrics.selectionRate,
        tpr: sliceMetrics.truePositiveRate,
        fpr: sliceMetrics.falsePositiveRate,
        n: sliceMetrics.count,
      },
      y,
      s,
      g,
    );
    const r = fairnessReport(y, s, { g }).attributes.g!;
    r.groups.forEach((grp, k) => {
      const row = frame.byGroup[k]!.values;
      expect(row.auc.value).toBe(grp.auc.value);
      expect(row.accuracy.value).toBe(grp.accuracy);
      expect(row.selectionRate.value).toBe(grp.selectionRate);
      expect(row.tpr.value).toBe(grp.tpr.value);
      expect(row.fpr.value).toBe(grp.fpr.value);
      expect(row.n.value).toBe(grp.n);
    });
  });
});

describe('sorting (merge sort below 1025 samples, radix sort above)', () => {
  const special = [3, -0, 0, -1e308, 1e308, 5e-324, -5e-324, 0.5, -2.5, 1, 1e-300, -1e-300, 0.1 + 0.2, 0.3, 7];
  const reference = (values: number[]) =>
    values
      .map((v, i) => [v + 0, i] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .map(([, i]) => i);

  test.each([18, 1024, 1025, 5000])('n = %i: negatives, −0/+0, subnormals, huge values, ties, stable', (n) => {
    // Deterministic mix: special values, a tie-rich grid and spread-out values.
    const values = Array.from({ length: n }, (_, i) =>
      i % 3 === 0
        ? special[i % special.length]!
        : i % 3 === 1
          ? ((i * 7919) % 13) / 4 - 1
          : Math.sin(i) * 10 ** (i % 9),
    );
    const s = Float64Array.from(values, (v) => v + 0);
    expect([...argsortScores(s)]).toEqual(reference(values));
  });

  test('clusters of scores a few ulps apart among far-apart values (equal top bits: the low-part fix-up)', () => {
    const ulps = (x: number, k: number) => {
      const b = new Float64Array([x]);
      const w = new BigInt64Array(b.buffer);
      w[0] = (w[0] as bigint) + BigInt(k);
      return b[0] as number;
    };
    // 1160 samples in runs of 38 (Array sort path) and 20 (insertion path) sharing their top bits, ties included.
    const values: number[] = [];
    for (const [base, size] of [
      [0.001, 100],
      [0.5, 10],
      [300, 100],
      [-7, 10],
    ] as const) {
      for (let j = 0; j < 10; j++) for (let k = 0; k < size / 5 + 18; k++) values.push(ulps(base + j, (k * 37) % 23));
    }
    const shuffled = values
      .map((v, i) => [v, (i * 7919) % values.length] as const)
      .sort((a, b) => a[1] - b[1])
      .map(([v]) => v);
    expect(shuffled.length).toBeGreaterThan(1024);
    expect([...argsortScores(Float64Array.from(shuffled))]).toEqual(reference(shuffled));
  });

  test('float32-valued scores (constant low mantissa bits: skipped radix passes) sort correctly', () => {
    const values = Array.from(Float32Array.from({ length: 3000 }, (_, i) => Math.cos(i * 1.7) * 0.5 + 0.5));
    expect([...argsortScores(Float64Array.from(values))]).toEqual(reference(values));
  });

  test('AUC is unchanged by a −0 among +0 scores (they tie)', () => {
    expect(rocAuc([1, 0, 0], [-0, 0, 0.5]).value).toBe(0.25);
  });
});
