/**
 * fast-check arbitraries and known-answer generators for the OT laws (ot-and-metrics.md §8.1).
 * Shapes first, then arrays, so shrinking stays useful.
 */
import fc from 'fast-check';

export interface CloudCase {
  data: Float64Array;
  n: number;
  d: number;
}

export interface PairCase {
  x: CloudCase;
  y: CloudCase;
  a: Float64Array;
  b: Float64Array;
}

export interface MatrixCase {
  a: Float64Array;
  b: Float64Array;
  C: Float64Array;
  n: number;
  m: number;
  /** max C − min C. */
  spread: number;
}

const coord = fc.double({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true });

/** Positive weights in [0.05, 1], normalised to `mass`. */
export function arbWeights(n: number, mass = 1): fc.Arbitrary<Float64Array> {
  return fc.array(fc.double({ min: 0.05, max: 1, noNaN: true }), { minLength: n, maxLength: n }).map((w) => {
    const s = w.reduce((t, v) => t + v, 0);
    return Float64Array.from(w, (v) => (v * mass) / s);
  });
}

export function arbCloud(n: number, d: number): fc.Arbitrary<CloudCase> {
  return fc.array(coord, { minLength: n * d, maxLength: n * d }).map((v) => ({ data: Float64Array.from(v), n, d }));
}

/** Two clouds in the same dimension with positive normalised weights (uniform when `uniform`). */
export function arbPair(
  opts: { maxN?: number; maxD?: number; minD?: number; uniform?: boolean } = {},
): fc.Arbitrary<PairCase> {
  const maxN = opts.maxN ?? 12;
  return fc
    .record({
      n: fc.integer({ min: 1, max: maxN }),
      m: fc.integer({ min: 1, max: maxN }),
      d: fc.integer({ min: opts.minD ?? 1, max: opts.maxD ?? 3 }),
    })
    .chain(({ n, m, d }) =>
      fc.record({
        x: arbCloud(n, d),
        y: arbCloud(m, d),
        a: opts.uniform ? fc.constant(new Float64Array(n).fill(1 / n)) : arbWeights(n),
        b: opts.uniform ? fc.constant(new Float64Array(m).fill(1 / m)) : arbWeights(m),
      }),
    );
}

/** A random cost matrix in [0, 10) with positive normalised marginals. */
export function arbMatrixCase(maxN = 8): fc.Arbitrary<MatrixCase> {
  return fc
    .record({ n: fc.integer({ min: 1, max: maxN }), m: fc.integer({ min: 1, max: maxN }) })
    .chain(({ n, m }) =>
      fc.record({
        a: arbWeights(n),
        b: arbWeights(m),
        C: fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: n * m, maxLength: n * m }),
      }),
    )
    .map(({ a, b, C }) => {
      const c = Float64Array.from(C);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of c) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      return { a, b, C: c, n: a.length, m: b.length, spread: hi - lo };
    });
}

/** A permutation of 0..n−1. */
export function arbPermutation(n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }).map((keys) =>
    keys
      .map((k, i) => [k, i] as const)
      .sort((s, t) => s[0] - t[0] || s[1] - t[1])
      .map(([, i]) => i),
  );
}

/**
 * Known answer (geomloss's planted permutation): uniform n × n problem whose cost is u_i ∈ [0, 1) on the cells
 * (i, σ(i)) and >= margin elsewhere; the optimal plan is σ / n and, at ε << margin, so is the entropic plan
 * (off-permutation mass <= n·exp(−(margin − 2)/ε)).
 */
export function arbPlantedPermutation(
  maxN = 8,
  margin = 5,
): fc.Arbitrary<{ perm: number[]; C: Float64Array; n: number }> {
  return fc
    .integer({ min: 1, max: maxN })
    .chain((n) =>
      fc.record({
        perm: arbPermutation(n),
        on: fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: n, maxLength: n }),
        off: fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: n * n, maxLength: n * n }),
      }),
    )
    .map(({ perm, on, off }) => {
      const n = perm.length;
      const C = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) C[i * n + j] = j === perm[i] ? on[i]! : margin + off[i * n + j]!;
      }
      return { perm, C, n };
    });
}

/** Known answer: one Dirac to one Dirac (value = C(x, y) for the biased OT_ε at any ε; plan = the mass). */
export function arbDiracPair(maxD = 3): fc.Arbitrary<PairCase> {
  return fc.integer({ min: 1, max: maxD }).chain((d) =>
    fc.record({
      x: arbCloud(1, d),
      y: arbCloud(1, d),
      a: fc.constant(Float64Array.of(1)),
      b: fc.constant(Float64Array.of(1)),
    }),
  );
}
