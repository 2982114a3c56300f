/** Bootstrap confidence intervals, the seeded generator, and aggregation across seeds. */

import { SeededRng } from '@fairclip/io';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  aggregateReports,
  aggregateRuns,
  bootstrapCi,
  FairnessInputError,
  fairnessReport,
  formatMeanStd,
  quantileSorted,
  rocAuc,
} from '../src/index.ts';

/** Binormal data: negatives ~ N(0,1), positives ~ N(d,1); the population AUC is Φ(d / √2). */
function binormal(seed: number, nPos: number, nNeg: number, d: number) {
  const rng = new SeededRng(seed);
  // Uniforms with 32 random bits, as this test has always drawn them.
  const uniform = () => rng.nextUint32() / 0x100000000;
  const normal = () => {
    const u = 1 - uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < nPos; i++) {
    scores.push(d + normal());
    labels.push(1);
  }
  for (let i = 0; i < nNeg; i++) {
    scores.push(normal());
    labels.push(0);
  }
  return { scores, labels };
}

const auc = (s: { scores: Float64Array; labels: Uint8Array }) => rocAuc(s.labels, s.scores);

describe('bootstrapCi', () => {
  const data = binormal(7, 40, 60, 1);

  test('the same seed gives the identical interval; another seed gives another one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const a = bootstrapCi(data, auc, { seed, resamples: 60 });
        const b = bootstrapCi(data, auc, { seed, resamples: 60 });
        const c = bootstrapCi(data, auc, { seed: seed + 1, resamples: 60 });
        expect(b).toEqual(a);
        expect([c.lower.value, c.upper.value]).not.toEqual([a.lower.value, a.upper.value]);
      }),
      { numRuns: 10 },
    );
  });

  test('the interval contains the point estimate and lies in [0, 1] for AUC; the estimate is the full-data AUC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 20, max: 80 }), (seed, n) => {
        const d = binormal(seed, n, n, 0.8);
        const r = bootstrapCi(d, auc, { seed, resamples: 200 });
        expect(r.estimate).toEqual(rocAuc(d.labels, d.scores));
        expect(r.lower.value!).toBeLessThanOrEqual(r.estimate.value!);
        expect(r.upper.value!).toBeGreaterThanOrEqual(r.estimate.value!);
        expect(r.lower.value!).toBeGreaterThanOrEqual(0);
        expect(r.upper.value!).toBeLessThanOrEqual(1);
        expect(r.definedResamples + r.undefinedResamples).toBe(200);
      }),
      { numRuns: 15 },
    );
  });

  test('coverage: 95% intervals contain the true binormal AUC Φ(1/√2) = 0.7602 in about 95% of 120 data sets', () => {
    const truth = 0.760249938906523; // Φ(1/√2), from the normal CDF (scipy.stats.norm.cdf(1/2**0.5))
    let covered = 0;
    const trials = 120;
    for (let t = 0; t < trials; t++) {
      const d = binormal(1000 + t, 60, 60, 1);
      const r = bootstrapCi(d, auc, { seed: t, resamples: 250, stratify: 'label' });
      if (r.lower.value! <= truth && truth <= r.upper.value!) covered++;
    }
    console.log(`[bootstrap coverage] ${covered}/${trials} intervals contain the true AUC`);
    // Binomial(120, 0.95) has sd 2.4 intervals (2%); the percentile bootstrap is known to under-cover slightly.
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThanOrEqual(0.99);
  });

  test("stratify 'label' keeps n₊ and n₋ in every resample (no undefined AUC even with 1 positive)", () => {
    const d = { scores: [0.9, 0.1, 0.2, 0.3, 0.4], labels: [1, 0, 0, 0, 0] };
    const seen: number[] = [];
    const r = bootstrapCi(
      d,
      (s) => {
        seen.push(s.labels.reduce((t, v) => t + v, 0));
        return auc(s);
      },
      { seed: 3, resamples: 50, stratify: 'label' },
    );
    expect(new Set(seen.slice(1))).toEqual(new Set([1]));
    expect(r.undefinedResamples).toBe(0);
    // Without stratification some resamples have no positive: counted, not NaN.
    const plain = bootstrapCi(d, auc, { seed: 3, resamples: 200 });
    expect(plain.undefinedResamples).toBeGreaterThan(0);
    expect(plain.definedResamples + plain.undefinedResamples).toBe(200);
    expect(Number.isFinite(plain.lower.value!)).toBe(true);
  });

  test('attributes are resampled with their samples (a report metric per attribute)', () => {
    const d = { ...binormal(11, 50, 50, 1), attributes: { race: Array.from({ length: 100 }, (_, i) => i % 3) } };
    const r = bootstrapCi(d, (s) => fairnessReport(s.labels, s.scores, s.attributes).attributes.race!.esAuc, {
      seed: 5,
      resamples: 100,
    });
    expect(r.estimate.value).toBe(fairnessReport(d.labels, d.scores, d.attributes).attributes.race!.esAuc.value);
    expect(r.lower.value!).toBeLessThan(r.upper.value!);
  });

  test('quantiles follow numpy.quantile linear interpolation (type 7)', () => {
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.975]) = [1.75, 2.5, 3.925]
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 14);
    expect(quantileSorted([5], 0.3)).toBe(5);
  });

  test('bad options are typed errors', () => {
    const call = (o: object) => () => bootstrapCi(data, auc, { seed: 1, ...o });
    expect(call({ resamples: 0 })).toThrow(FairnessInputError);
    expect(call({ confidence: 1 })).toThrow(/confidence must be in \(0, 1\)/);
    expect(call({ seed: 1.5 })).toThrow(/seed must be a safe integer/);
    expect(call({ stratify: 'group' })).toThrow(/stratify/);
  });
});

describe('aggregation across seeds', () => {
  test('mean and sample std (ddof = 1) by hand: [1, 2, 3, 4] → 2.5 ± √(5/3)', () => {
    const s = aggregateRuns([1, 2, 3, 4]);
    expect(s.mean.value).toBe(2.5);
    expect(s.std.value).toBeCloseTo(Math.sqrt(5 / 3), 15);
    expect([s.min.value, s.max.value, s.n, s.nUndefined]).toEqual([1, 4, 4, 0]);
    expect(formatMeanStd(aggregateRuns([0.6784, 0.6902]))).toBe('68.43 ± 0.83');
  });

  test('undefined runs are counted and left out; one defined run has no std', () => {
    const s = aggregateRuns([0.7, rocAuc([1, 1], [1, 2])]);
    expect(s.mean.value).toBe(0.7);
    expect(s.std).toMatchObject({ value: null, code: 'TOO_FEW_VALUES' });
    expect(s.nUndefined).toBe(1);
    expect(formatMeanStd(s)).toBe('70.00');
    expect(formatMeanStd(aggregateRuns([rocAuc([1], [1])]))).toBe('–');
    expect(() => aggregateRuns([Number.NaN])).toThrow(FairnessInputError);
  });

  test('law: equal runs give std 0; adding a constant shifts the mean and keeps the std', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 10 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, c) => {
          expect(aggregateRuns(xs.map(() => c)).std.value).toBe(0);
          const a = aggregateRuns(xs);
          const b = aggregateRuns(xs.map((x) => x + 1));
          expect(b.mean.value!).toBeCloseTo(a.mean.value! + 1, 12);
          expect(b.std.value!).toBeCloseTo(a.std.value!, 12);
        },
      ),
    );
  });

  test('aggregateReports aggregates every field of several seeds and aligns groups by id', () => {
    const runs = [1, 2, 3].map((seed) => {
      const d = binormal(seed, 30, 30, 1);
      return fairnessReport(d.labels, d.scores, { race: d.scores.map((_, i) => i % 3) });
    });
    const agg = aggregateReports(runs);
    expect(agg.runs).toBe(3);
    expect(agg.auc.values).toEqual(runs.map((r) => r.auc.value));
    const race = agg.attributes.race!;
    expect(race.esAuc.values).toEqual(runs.map((r) => r.attributes.race!.esAuc.value));
    expect(race.dpd.mean.value).toBeCloseTo(runs.reduce((t, r) => t + r.attributes.race!.dpd, 0) / 3, 15);
    expect(race.groups.map((g) => g.group)).toEqual([0, 1, 2]);
    expect(race.groups[2]!.auc.values).toEqual(runs.map((r) => r.attributes.race!.groups[2]!.auc.value));
    expect(() => aggregateReports([runs[0]!, fairnessReport([0], [0.1], { gender: [0] })])).toThrow(
      /report 1 has attributes \[gender\] but report 0 has \[race\]/,
    );
  });
});
