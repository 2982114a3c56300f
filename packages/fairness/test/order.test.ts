/**
 * Argument order: every metric takes (labels, scores[, groups][, options]) as scikit-learn (y_true, y_score) and
 * fairlearn (y_true, y_pred, sensitive_features) do, and a call in the reversed order fails loudly wherever the
 * scores are not themselves 0/1: the labels slot then holds a non-binary value, which throws INVALID_LABEL with a
 * one-line message naming the swap.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  accuracy,
  bootstrapCi,
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
  falsePositiveRate,
  falsePositiveRateDifference,
  groupAucs,
  groupDisparity,
  rocAuc,
  rocCurve,
  selectionRate,
  sliceMetrics,
  truePositiveRate,
} from '../src/index.ts';
import { continuousData, type Data } from './arbitraries.ts';
import { loadGolden } from './golden.ts';

const SWAP = /did you pass \(scores, labels\)\? the order is \(labels, scores\) as in sklearn/;

/** Every exported function that takes labels and scores, called with `(first, second, groups)` in that order. */
function calls(first: ArrayLike<number>, second: ArrayLike<number>, groups: ArrayLike<number>) {
  const f = first as number[];
  const s = second as number[];
  return {
    rocAuc: () => rocAuc(f, s),
    rocCurve: () => rocCurve(f, s),
    accuracy: () => accuracy(f, s),
    selectionRate: () => selectionRate(f, s),
    truePositiveRate: () => truePositiveRate(f, s),
    falsePositiveRate: () => falsePositiveRate(f, s),
    groupAucs: () => groupAucs(f, s, groups),
    equityScaledAuc: () => equityScaledAuc(f, s, groups),
    equityScaledAccuracy: () => equityScaledAccuracy(f, s, groups),
    demographicParityDifference: () => demographicParityDifference(f, s, groups),
    demographicParityRatio: () => demographicParityRatio(f, s, groups),
    equalOpportunityDifference: () => equalOpportunityDifference(f, s, groups),
    falsePositiveRateDifference: () => falsePositiveRateDifference(f, s, groups),
    equalizedOddsDifference: () => equalizedOddsDifference(f, s, groups),
    equalizedOddsRatio: () => equalizedOddsRatio(f, s, groups),
    groupDisparity: () => groupDisparity(f, s, groups),
    fairnessReport: () => fairnessReport(f, s, { race: groups }),
    byGroup: () => byGroup({ auc: sliceMetrics.auc }, f, s, groups),
  } as const;
}

function thrown(call: () => unknown): FairnessInputError {
  try {
    call();
  } catch (e) {
    expect(e).toBeInstanceOf(FairnessInputError);
    return e as FairnessInputError;
  }
  throw new Error('expected a FairnessInputError, nothing was thrown');
}

function expectSwapError(call: () => unknown, index: number, value: number): void {
  const e = thrown(call);
  expect(e.code).toBe('INVALID_LABEL');
  expect(e.message).toMatch(SWAP);
  expect(e.message.startsWith(`labels[${index}] = ${value}: labels must be 0/1`)).toBe(true);
  expect(e.message).not.toContain('\n');
}

describe('swapped (scores, labels) calls fail loudly', () => {
  const scores = [0.2, 0.7, 0.4, 0.9];
  const labels = [0, 1, 0, 1];
  const groups = [0, 0, 1, 1];

  test.each(Object.keys(calls(labels, scores, groups)))(
    '%s(scores, labels, …) throws INVALID_LABEL naming the swap',
    (name) => {
      const swapped = calls(scores, labels, groups)[name as keyof ReturnType<typeof calls>];
      expectSwapError(swapped, 0, 0.2);
      // The same call in the documented order works.
      expect(() => calls(labels, scores, groups)[name as keyof ReturnType<typeof calls>]()).not.toThrow();
    },
  );

  test('the old one-argument selectionRate(scores) call and options-as-second-argument call are caught too', () => {
    const old = selectionRate as unknown as (...args: unknown[]) => number;
    expectSwapError(() => old(scores), 0, 0.2);
    expectSwapError(() => old(scores, { threshold: 0.3 }), 0, 0.2);
  });

  test('typed arrays: Float64Array / Float32Array scores in the labels slot are caught; 0/1 typed labels are fine', () => {
    expectSwapError(() => rocAuc(Float64Array.from(scores), labels), 0, 0.2);
    expectSwapError(() => rocAuc(new Float32Array([1, 0, 0.5]), [0, 1, 1]), 2, 0.5);
    // 0/1 labels in any numeric array, and false/true, are accepted and mean the same thing.
    const ref = rocAuc(labels, scores).value;
    expect(ref).toBe(1);
    for (const y of [
      Uint8Array.from(labels),
      Float64Array.from(labels),
      Int32Array.from(labels),
      labels.map(Boolean),
    ]) {
      expect(rocAuc(y, scores).value).toBe(ref);
      expect(fairnessReport(y, scores, { g: groups })).toEqual(fairnessReport(labels, scores, { g: groups }));
    }
  });

  test('the first offending index and value are named (integers other than 0/1 too: a swap or a multi-class label)', () => {
    expectSwapError(() => rocAuc([1, 0, 0.35, 1], [0.1, 0.4, 0.35, 0.8]), 2, 0.35);
    expectSwapError(() => accuracy([0, 1, 2], [0.1, 0.9, 0.5]), 2, 2);
    expect(thrown(() => rocAuc(new Uint8Array([0, 1, 3]), [0.1, 0.2, 0.3])).message).toMatch(
      /^labels\[2\] = 3: .*sklearn$/,
    );
  });

  test('labels are validated and length-checked even where fairlearn does not use them (selection rate, DPD, DPR)', () => {
    const y = [0, 1, 0, 2];
    expectSwapError(() => selectionRate(y, scores), 3, 2);
    expectSwapError(() => demographicParityDifference(y, scores, groups), 3, 2);
    expectSwapError(() => demographicParityRatio(y, scores, groups), 3, 2);
    for (const call of [
      () => selectionRate([0, 1], scores),
      () => demographicParityDifference([0, 1], scores, groups),
      () => demographicParityRatio([0, 1], scores, groups),
    ]) {
      const e = thrown(call);
      expect(e.code).toBe('LENGTH_MISMATCH');
      expect(e.message).toBe('scores has 4 elements but labels has 2');
    }
    // …and take no part in the value: fairlearn's selection_rate(y_true, y_pred) counts y_pred >= threshold only.
    expect(selectionRate([0, 0, 0, 0], scores)).toBe(selectionRate([1, 1, 1, 1], scores));
    expect(selectionRate([0, 0, 0, 0], scores)).toBe(0.5);
  });

  test('bootstrapCi names the data field', () => {
    const e = thrown(() =>
      bootstrapCi({ labels: scores, scores: labels }, (s) => rocAuc(s.labels, s.scores), { seed: 1 }),
    );
    expect(e.code).toBe('INVALID_LABEL');
    expect(e.message).toBe(
      'data.labels[0] = 0.2: labels must be 0/1 (or false/true); did you put the scores in data.labels?',
    );
  });

  test('property: any data whose scores are not all 0/1 throws the swap error in every function when swapped', () => {
    const arb = continuousData(40).filter((d: Data) => d.scores.some((v) => v !== 0 && v !== 1));
    fc.assert(
      fc.property(arb, fc.constantFrom(...Object.keys(calls([0], [0], [0]))), (d, name) => {
        const first = d.scores.findIndex((v) => v !== 0 && v !== 1);
        expectSwapError(
          calls(d.scores, d.labels, d.groups)[name as keyof ReturnType<typeof calls>],
          first,
          d.scores[first]!,
        );
      }),
    );
  });

  test('golden cases: the swapped call throws wherever the reference scores are not all 0/1', () => {
    const golden = loadGolden();
    let real = 0;
    for (const c of golden.cases) {
      const first = c.score.findIndex((v) => v !== 0 && v !== 1);
      if (first < 0) continue; // binary predictions as scores: both orders are valid input (see the next test)
      real++;
      for (const call of Object.values(calls(c.score, c.y_true, c.group)))
        expectSwapError(call, first, c.score[first]!);
    }
    expect(real).toBe(golden.cases.length - 2);
  });
});

describe("labels first: a Python user's (y_true, y_pred) call gets sklearn's answer", () => {
  test('golden cases with 0/1 predictions as scores: rocAuc(y_true, y_pred) = sklearn roc_auc_score(y_true, y_pred)', () => {
    const binary = loadGolden().cases.filter((c) => c.score.every((v) => v === 0 || v === 1));
    expect(binary.map((c) => c.name)).toEqual(['n50_binary_scores', 'n2000_binary_two_groups']);
    for (const c of binary) {
      expect(c.auc).not.toBeNull();
      expect(Math.abs((rocAuc(c.y_true, c.score).value as number) - (c.auc as number))).toBeLessThanOrEqual(1e-12);
      expect(accuracy(c.y_true, c.score)).toBeCloseTo(c.acc, 12);
    }
  });

  test('property: the AUC of 0/1 predictions is the balanced accuracy (TPR + TNR) / 2, counted directly', () => {
    const arb = fc.integer({ min: 2, max: 60 }).chain((n) =>
      fc.record({
        y: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
        pred: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ y, pred }) => {
        const nPos = y.filter((v) => v === 1).length;
        const nNeg = y.length - nPos;
        const auc = rocAuc(y, pred);
        if (nPos === 0 || nNeg === 0) {
          expect(auc.code).toBe('SINGLE_CLASS');
          return;
        }
        const tp = y.filter((v, i) => v === 1 && pred[i] === 1).length;
        const tn = y.filter((v, i) => v === 0 && pred[i] === 0).length;
        expect(auc.value).toBeCloseTo((tp / nPos + tn / nNeg) / 2, 14);
      }),
    );
  });
});
