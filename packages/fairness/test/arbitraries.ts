/** fast-check generators of fairness data, tie-rich by design (reference brief §8.1). */
import fc from 'fast-check';

export interface Data {
  scores: number[];
  labels: number[];
  groups: number[];
}

/** Scores on the grid k / 8 in [0, 1] (many ties, exact 0.5, exact under 1 − s), labels 0/1, a few group ids. */
export const gridData = (maxN = 60, ids: readonly number[] = [-3, 0, 2, 7, 1000]): fc.Arbitrary<Data> =>
  fc.integer({ min: 1, max: maxN }).chain((n) =>
    fc.record({
      scores: fc.array(
        fc.integer({ min: 0, max: 8 }).map((k) => k / 8),
        { minLength: n, maxLength: n },
      ),
      labels: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
      groups: fc.array(fc.constantFrom(...ids), { minLength: n, maxLength: n }),
    }),
  );

/** Continuous scores in [0, 1] (ties rare), labels 0/1, up to 4 groups. */
export const continuousData = (maxN = 80, minN = 1): fc.Arbitrary<Data> =>
  fc.integer({ min: minN, max: maxN }).chain((n) =>
    fc.record({
      scores: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
      labels: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
      groups: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
    }),
  );

/** Either kind of data. */
export const anyData = (maxN = 60): fc.Arbitrary<Data> => fc.oneof(gridData(maxN), continuousData(maxN));

/** A permutation of 0..n−1 (sorting random keys). */
export const permutation = (n: number): fc.Arbitrary<number[]> =>
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }).map((keys) =>
    keys
      .map((k, i) => [k, i] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .map(([, i]) => i),
  );

/** Data plus a permutation of its samples. */
export const dataWithPermutation = anyData().chain((d) => permutation(d.scores.length).map((p) => ({ d, p })));

export function permute<T>(xs: readonly T[], p: readonly number[]): T[] {
  return p.map((i) => xs[i]!);
}

/**
 * Known-answer construction: k groups that each hold the SAME multiset of (score, label) pairs, shuffled inside
 * each group. Every group AUC equals the overall AUC, and every group rate equals the overall rate.
 */
export const identicalGroups = fc
  .record({
    base: fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 1 })), {
      minLength: 1,
      maxLength: 20,
    }),
    ids: fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 5 }),
  })
  .chain(({ base, ids }) =>
    fc.tuple(...ids.map(() => permutation(base.length))).map((perms) => {
      const d: Data = { scores: [], labels: [], groups: [] };
      ids.forEach((id, k) => {
        for (const i of perms[k]!) {
          d.scores.push(base[i]![0] / 8);
          d.labels.push(base[i]![1]);
          d.groups.push(id);
        }
      });
      return d;
    }),
  );
