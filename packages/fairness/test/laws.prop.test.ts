/**
 * Laws of the metrics (fast-check, seed from FC_SEED). Generators are tie-rich grids, continuous scores and
 * known-answer constructions; the brute-force oracle of oracle.ts is the reference where a value is compared.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  type AttributeReport,
  demographicParityDifference,
  equalizedOddsDifference,
  equityScaledAuc,
  type FairnessReport,
  fairnessReport,
  type MetricValue,
  rocAuc,
} from '../src/index.ts';
import {
  anyData,
  continuousData,
  type Data,
  dataWithPermutation,
  gridData,
  identicalGroups,
  permute,
} from './arbitraries.ts';
import { oracleGroups, pairAuc } from './oracle.ts';

const v = (m: MetricValue | number): number | null => (typeof m === 'number' ? m : m.value);

function closeOrBothNull(a: MetricValue | number, b: number | null, tol = 1e-12): void {
  const x = v(a);
  if (b === null) expect(x).toBeNull();
  else {
    expect(x).not.toBeNull();
    expect(Math.abs((x as number) - b)).toBeLessThanOrEqual(tol);
  }
}

const AGG_FIELDS = [
  'esAuc',
  'esAucFairclipCode',
  'esAcc',
  'dpd',
  'dpdToOverall',
  'dpr',
  'eod',
  'eodToOverall',
  'eodMean',
  'eor',
  'tprDifference',
  'fprDifference',
  'stdGroupDisparity',
  'maxGroupDisparity',
] as const satisfies readonly (keyof AttributeReport)[];

describe('AUC', () => {
  test('equals the O(n²) Mann–Whitney pair count with ties = ½, lies in [0, 1], undefined iff one class', () => {
    fc.assert(
      fc.property(anyData(), (d) => {
        const auc = rocAuc(d.labels, d.scores);
        const ref = pairAuc(d.labels, d.scores);
        closeOrBothNull(auc, ref);
        if (auc.value !== null) {
          expect(auc.value).toBeGreaterThanOrEqual(0);
          expect(auc.value).toBeLessThanOrEqual(1);
        } else expect(auc.code).toBe('SINGLE_CLASS');
      }),
    );
  });

  test('AUC(y, 1 − s) = 1 − AUC(y, s) and AUC(1 − y, s) = 1 − AUC(y, s) (grid scores: 1 − s is exact)', () => {
    fc.assert(
      fc.property(gridData(), (d) => {
        const auc = rocAuc(d.labels, d.scores).value;
        const flipped = rocAuc(
          d.labels,
          d.scores.map((s) => 1 - s),
        ).value;
        const swapped = rocAuc(
          d.labels.map((y) => 1 - y),
          d.scores,
        ).value;
        if (auc === null) {
          expect(flipped).toBeNull();
          expect(swapped).toBeNull();
        } else {
          expect(flipped).toBeCloseTo(1 - auc, 14);
          expect(swapped).toBeCloseTo(1 - auc, 14);
        }
      }),
    );
  });

  test('constant scores give 0.5; perfectly separated scores give 1 (known answers)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        (p, q, c) => {
          const labels = [...Array(p).fill(1), ...Array(q).fill(0)];
          expect(rocAuc(labels, Array(p + q).fill(c)).value).toBe(0.5);
          expect(rocAuc(labels, [...Array(p).fill(c + 1), ...Array(q).fill(c - 1)]).value).toBe(1);
        },
      ),
    );
  });
});

describe('invariances of the whole report', () => {
  const attrs = (d: Data) => ({ g: d.groups, parity: d.labels.map((y, i) => (y + i) % 2) });

  test('permuting the samples changes nothing (exactly)', () => {
    fc.assert(
      fc.property(dataWithPermutation, fc.constantFrom('strict', 'fairlearn' as const), ({ d, p }, mode) => {
        const a = fairnessReport(d.labels, d.scores, attrs(d), { mode });
        const pa = attrs(d);
        const b = fairnessReport(
          permute(d.labels, p),
          permute(d.scores, p),
          {
            g: permute(pa.g, p),
            parity: permute(pa.parity, p),
          },
          { mode },
        );
        expect(b).toEqual(a);
      }),
    );
  });

  test('a strictly increasing transform of scores (and of the threshold) changes nothing (exactly)', () => {
    const maps: Array<[string, (s: number) => number]> = [
      ['2s + 1', (s) => 2 * s + 1],
      ['s³ + s', (s) => s * s * s + s],
      ['exp(s)', (s) => Math.exp(s)],
      ['s − 7', (s) => s - 7],
    ];
    fc.assert(
      fc.property(gridData(), fc.constantFrom(...maps), (d, [, f]) => {
        const a = fairnessReport(d.labels, d.scores, attrs(d));
        const b = fairnessReport(d.labels, d.scores.map(f), attrs(d), { threshold: f(0.5) });
        expect({ ...b, threshold: a.threshold }).toEqual(a);
      }),
    );
  });

  test('relabelling the groups (any bijection of ids) permutes the groups and leaves every aggregate unchanged', () => {
    const arb = anyData().chain((d) => {
      const ids = [...new Set(d.groups)];
      return fc
        .uniqueArray(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), { minLength: ids.length, maxLength: ids.length })
        .map((fresh) => ({ d, relabel: new Map(ids.map((id, k) => [id, fresh[k]!])) }));
    });
    fc.assert(
      fc.property(arb, ({ d, relabel }) => {
        const a = fairnessReport(d.labels, d.scores, { g: d.groups }).attributes.g!;
        const b = fairnessReport(d.labels, d.scores, { g: d.groups.map((x) => relabel.get(x)!) }).attributes.g!;
        for (const f of AGG_FIELDS) closeOrBothNull(b[f], v(a[f]));
        for (const f of ['esAuc', 'eod', 'tprDifference', 'fprDifference', 'stdGroupDisparity'] as const) {
          const mapped = a[f].skippedGroups.map((x) => relabel.get(x)!).sort((x, y) => x - y);
          expect(b[f].skippedGroups).toEqual(mapped);
        }
        for (const g of a.groups) {
          const h = b.groups.find((x) => x.group === relabel.get(g.group))!;
          expect({
            ...h,
            group: g.group,
            auc: { ...h.auc, reason: '' },
            tpr: { ...h.tpr, reason: '' },
            fpr: { ...h.fpr, reason: '' },
          }).toEqual({
            ...g,
            auc: { ...g.auc, reason: '' },
            tpr: { ...g.tpr, reason: '' },
            fpr: { ...g.fpr, reason: '' },
          });
        }
      }),
    );
  });
});

describe('ES-AUC', () => {
  test('ES-AUC ≤ AUC, with equality iff every defined group AUC equals the AUC (α = 0 or α ≥ 0.01)', () => {
    fc.assert(
      fc.property(anyData(), fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 5, noNaN: true })), (d, alpha) => {
        const es = equityScaledAuc(d.labels, d.scores, d.groups, { alpha });
        const auc = rocAuc(d.labels, d.scores).value;
        if (auc === null) {
          expect(es.value).toBeNull();
          return;
        }
        expect(es.value).not.toBeNull();
        expect(es.value!).toBeLessThanOrEqual(auc);
        const groups = oracleGroups(d.labels, d.scores, d.groups).filter((g) => g.auc !== null);
        const allEqual = groups.every((g) => Math.abs(g.auc! - auc) < 1e-12);
        expect(es.value === auc).toBe(allEqual || alpha === 0);
      }),
    );
  });

  test('known answer: groups holding identical (score, label) multisets give ES-AUC = AUC and zero disparities', () => {
    fc.assert(
      fc.property(identicalGroups, (d) => {
        const r = fairnessReport(d.labels, d.scores, { g: d.groups });
        const a = r.attributes.g!;
        if (r.auc.value === null) {
          expect(a.esAuc.value).toBeNull();
        } else {
          expect(a.esAuc.value).toBe(r.auc.value);
          for (const g of a.groups) expect(g.auc.value).toBe(r.auc.value);
          if (r.auc.value > 0) {
            expect(a.stdGroupDisparity.value).toBe(0);
            expect(a.maxGroupDisparity.value).toBe(0);
          }
        }
        expect(a.esAcc).toBe(r.accuracy);
      }),
    );
  });
});

describe('DPD and DEOdds', () => {
  test('DPD and DEOdds (worst case, mean, to overall) lie in [0, 1], mean ≤ worst ≤ 2 mean, to_overall ≤ between', () => {
    fc.assert(
      fc.property(anyData(), fc.constantFrom('strict', 'fairlearn' as const), (d, mode) => {
        const a = fairnessReport(d.labels, d.scores, { g: d.groups }, { mode }).attributes.g!;
        for (const x of [a.dpd, a.dpdToOverall, v(a.eod), v(a.eodMean), v(a.eodToOverall)]) {
          if (x === null) continue;
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(1);
        }
        expect(a.dpdToOverall).toBeLessThanOrEqual(a.dpd + 1e-15);
        if (a.eod.value !== null) {
          expect(a.eodMean.value!).toBeLessThanOrEqual(a.eod.value + 1e-15);
          expect(a.eod.value).toBeLessThanOrEqual(2 * a.eodMean.value! + 1e-15);
          expect(a.eod.value).toBeGreaterThanOrEqual(a.tprDifference.value!);
          expect(a.eod.value).toBeGreaterThanOrEqual(a.fprDifference.value!);
          if (a.eodToOverall.value !== null) expect(a.eodToOverall.value).toBeLessThanOrEqual(a.eod.value + 1e-15);
        }
        if (mode === 'fairlearn') expect(a.eod.value).not.toBeNull();
      }),
    );
  });

  test('known answer: rates equal by construction give DPD = 0 and DEOdds = 0', () => {
    fc.assert(
      fc.property(identicalGroups, (d) => {
        expect(demographicParityDifference(d.labels, d.scores, d.groups)).toBe(0);
        for (const mode of ['strict', 'fairlearn'] as const) {
          const eod = equalizedOddsDifference(d.labels, d.scores, d.groups, { mode });
          const hasBoth = d.labels.includes(0) && d.labels.includes(1);
          if (mode === 'fairlearn' || hasBoth) expect(eod.value).toBe(0);
          else expect(eod.value).toBeNull();
        }
      }),
    );
  });

  test('one group: DPD = 0, DEOdds = 0 where defined, ES-AUC = AUC', () => {
    fc.assert(
      fc.property(anyData(), fc.integer(), (d, id) => {
        const groups = d.scores.map(() => id);
        const a = fairnessReport(d.labels, d.scores, { g: groups }).attributes.g!;
        expect(a.dpd).toBe(0);
        expect(a.dpdToOverall).toBe(0);
        if (a.eod.value !== null) expect(a.eod.value).toBe(0);
        expect(a.esAuc.value).toBe(rocAuc(d.labels, d.scores).value);
      }),
    );
  });
});

describe('agreement with the brute-force oracle', () => {
  function checkAgainstOracle(
    r: FairnessReport,
    d: Data,
    attributes: Record<string, number[]>,
    mode: 'strict' | 'fairlearn',
  ) {
    closeOrBothNull(r.auc, pairAuc(d.labels, d.scores));
    for (const [name, groups] of Object.entries(attributes)) {
      const ref = oracleGroups(d.labels, d.scores, groups);
      const a = r.attributes[name]!;
      expect(a.groups.map((g) => g.group)).toEqual(ref.map((g) => g.group));
      ref.forEach((o, k) => {
        const g = a.groups[k]!;
        expect([g.n, g.nPos]).toEqual([o.n, o.nPos]);
        closeOrBothNull(g.auc, o.auc);
        closeOrBothNull(g.accuracy, o.acc);
        closeOrBothNull(g.selectionRate, o.sr);
        closeOrBothNull(g.tpr, mode === 'fairlearn' ? (o.tpr ?? 0) : o.tpr);
        closeOrBothNull(g.fpr, mode === 'fairlearn' ? (o.fpr ?? 0) : o.fpr);
      });
      const srs = ref.map((o) => o.sr);
      closeOrBothNull(a.dpd, Math.max(...srs) - Math.min(...srs));
    }
  }

  test('every group count, AUC and rate of a 2-attribute report (packed-payload path)', () => {
    fc.assert(
      fc.property(anyData(), fc.constantFrom('strict', 'fairlearn' as const), (d, mode) => {
        const attributes = { g: d.groups, h: d.scores.map((s, i) => (s < 0.3 ? 5 : i % 3)) };
        checkAgainstOracle(fairnessReport(d.labels, d.scores, attributes, { mode }), d, attributes, mode);
      }),
    );
  });

  test('above 1024 samples (radix-sort path): tie-rich and continuous scores, negative and float32-valued', () => {
    const arb = fc.integer({ min: 1025, max: 1400 }).chain((n) =>
      fc.record({
        scores: fc.oneof(
          fc.array(
            fc.integer({ min: -4, max: 4 }).map((k) => k / 4),
            { minLength: n, maxLength: n },
          ),
          fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: n, maxLength: n }),
          fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
        ),
        labels: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
        groups: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
      }),
    );
    fc.assert(
      fc.property(arb, (d) => {
        checkAgainstOracle(fairnessReport(d.labels, d.scores, { g: d.groups }), d, { g: d.groups }, 'strict');
      }),
      { numRuns: 12 },
    );
  });

  test('six attributes with 40 to 60 sparse ids each (37 payload bits > 32: indexed path; Map encoding)', () => {
    const arb = continuousData(60, 40).chain((d) =>
      fc
        .array(
          fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), {
            minLength: d.scores.length,
            maxLength: d.scores.length,
          }),
          { minLength: 6, maxLength: 6 },
        )
        .map((cols) => ({ d, cols })),
    );
    fc.assert(
      fc.property(arb, ({ d, cols }) => {
        const attributes = Object.fromEntries(cols.map((c, k) => [`a${k}`, c]));
        checkAgainstOracle(fairnessReport(d.labels, d.scores, attributes), d, attributes, 'strict');
      }),
      { numRuns: 15 },
    );
  });
});
