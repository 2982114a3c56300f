/**
 * fast-check arbitraries and known-answer generators for the OT laws (ot-and-metrics.md §8.1).
 * Shapes first, then arrays, so shrinking stays useful.
 *
 * Every real number is drawn on a scaled integer grid (`gridDouble`) or log-uniformly (`logUniform`), never with
 * `fc.double`: fast-check 4's `fc.double` is uniform over representable doubles, so in [0, 10] about 92% of its draws
 * are below 1e-3, and `exp(fc.double(log lo, log hi))` lands within 1% of 1 about 93% of the time — the laws would
 * almost only see degenerate problems (near-zero costs, ε ≈ the cost spread).
 */
import fc from 'fast-check';

/** Uniform on the grid {min, min + 1/scale, …, max} (min·scale and max·scale rounded to integers); shrinks to min. */
export function gridDouble(min: number, max: number, scale: number): fc.Arbitrary<number> {
  return fc.integer({ min: Math.round(min * scale), max: Math.round(max * scale) }).map((k) => k / scale);
}

/** Log-uniform on [lo, hi] with `perDecade` grid points per decade (lo, hi powers of ten work best); shrinks to lo. */
export function logUniform(lo: number, hi: number, perDecade = 20): fc.Arbitrary<number> {
  const kLo = Math.round(Math.log10(lo) * perDecade);
  const kHi = Math.round(Math.log10(hi) * perDecade);
  return fc.integer({ min: kLo, max: kHi }).map((k) => 10 ** (k / perDecade));
}

/** A vector of `len` grid values in [lo, hi] (translations, finite-difference directions). */
export function arbGridVector(len: number, lo: number, hi: number, scale = 100): fc.Arbitrary<number[]> {
  return fc.array(gridDouble(lo, hi, scale), { minLength: len, maxLength: len });
}

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

/**
 * Coordinates on a 1e-2 grid in [-5, 5]: clouds spread over the box with occasional ties (grid collisions, shrunk
 * points), so the ratio (pairwise cost)/ε spans the whole range the relative blur generators ask for.
 */
const coord = gridDouble(-5, 5, 100);

/** Positive weights on a 0.01 grid in [0.05, 1] (ratios up to 20 between atoms), normalised to `mass`. */
export function arbWeights(n: number, mass = 1): fc.Arbitrary<Float64Array> {
  return fc.array(gridDouble(0.05, 1, 100), { minLength: n, maxLength: n }).map((w) => {
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

/** A pair of clouds and a translation of their size: a 1e-2 grid vector in [-3, 3]^d. */
export function arbPairWithTranslation(opts: Parameters<typeof arbPair>[0] = {}): fc.Arbitrary<[PairCase, number[]]> {
  return arbPair(opts).chain((pc) => fc.tuple(fc.constant(pc), arbGridVector(pc.x.d, -3, 3)));
}

/** A pair of clouds and finite-difference directions for every coordinate of x and of y (1e-2 grid in [-1, 1]). */
export function arbPairWithDirections(
  opts: Parameters<typeof arbPair>[0] = {},
): fc.Arbitrary<[PairCase, number[], number[]]> {
  return arbPair(opts).chain((pc) =>
    fc.tuple(fc.constant(pc), arbGridVector(pc.x.n * pc.x.d, -1, 1), arbGridVector(pc.y.n * pc.y.d, -1, 1)),
  );
}

/**
 * A random cost matrix on a 1e-3 grid in [0, 10] (spread ~10, smallest non-zero gap 1e-3) with positive normalised
 * marginals; pair it with a log-uniform ε relative to `spread` to cover C/ε from well-conditioned to hard.
 */
export function arbMatrixCase(maxN = 8): fc.Arbitrary<MatrixCase> {
  return fc
    .record({ n: fc.integer({ min: 1, max: maxN }), m: fc.integer({ min: 1, max: maxN }) })
    .chain(({ n, m }) =>
      fc.record({
        a: arbWeights(n),
        b: arbWeights(m),
        C: fc.array(gridDouble(0, 10, 1000), { minLength: n * m, maxLength: n * m }),
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

/** A permutation of 0..n−1 (sort by random integer keys, ties by index; shrinks to the identity). */
export function arbPermutation(n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: n, maxLength: n }).map((keys) =>
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
        // on-permutation costs spread over [0, 0.999], off-permutation ones over [margin, margin + 5] (1e-3 grid)
        on: fc.array(gridDouble(0, 0.999, 1000), { minLength: n, maxLength: n }),
        off: fc.array(gridDouble(0, 5, 1000), { minLength: n * n, maxLength: n * n }),
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

// ---------------------------------------------------------------------------------------------------------------
// Regularisation strengths, shared by the CPU and backend law suites. All log-uniform.

/** ε of a matrix problem from a relative strength: rel × the cost spread (floored at 1e-3 for constant costs). */
export function epsOf(spread: number, rel: number): number {
  return Math.max(spread, 1e-3) * rel;
}

/**
 * ε / spread for the float64 log-domain matrix laws: [1e-2, 10], i.e. C/ε from ~0.1 (plan ≈ a⊗b) to 100 (plan nearly
 * sparse), where Sinkhorn reaches the laws' 1e-13 marginal error: over 5000 draws of arbMatrixCase with ε/spread in
 * [1e-2, 3e-2] the log iteration (bitwise POT's) needed at most 33 780 iterations (p99.9 23 390). Below 1e-2 it is
 * out of reach, not a solver fault: draws whose optimal plan is nearly degenerate mix so slowly that some need more
 * than 2·10⁶ iterations (ε/spread 8e-3: marginal error 2e-6 after 10⁵, 1e-9 after 10⁶), and past C/ε ≈ 300 float64
 * rounding of exp((f + g − C)/ε) alone leaves a marginal error ≈ (C/ε)·2⁻⁵² ≈ 1.7e-13 > 1e-13 (a 1 × 2 problem stays
 * there from the first iteration). The planted-permutation law covers C/ε up to 10⁵.
 */
export const relEpsF64 = logUniform(1e-2, 10);

/**
 * ε of a float64 matrix law: rel × the spread (the plan's structure depends on spread/ε), floored at max C / 64.
 * The floor is float64's, not Sinkhorn's: the log-domain plan exp((f + g − C)/ε) carries a relative rounding error
 * ≈ (max C/ε)·2⁻⁵², so the marginal error cannot go below ~(max C/ε)·5e-16 (1.7e-13 at max C/ε = 316; a spread of
 * 0.042 under costs near 9.9 put max C/ε at 8 400, where tol 1e-13 is out of reach); max C/ε <= 64 keeps that floor
 * near 3e-14.
 */
export function epsOfF64(mc: MatrixCase, rel: number): number {
  let hi = 0;
  for (const c of mc.C) hi = Math.max(hi, Math.abs(c));
  return Math.max(epsOf(mc.spread, rel), hi / 64);
}

/**
 * ε / max C for the float32 matrix laws on a backend (use with `epsOfF32`): [0.03, 10], max C/ε from 0.1 to ~30.
 * Relative to max C, not the spread: the float32 log-domain error grows with max|C|/ε (potentials ≈ C carry float32
 * ulps of C), so a near-constant cost with a small spread would otherwise ask float32 for C/ε ~ 10⁴.
 */
export const relEpsF32 = logUniform(0.03, 10);

/** ε of a matrix problem for the float32 laws: rel × max C (floored at 1e-3). */
export function epsOfF32(mc: MatrixCase, rel: number): number {
  let hi = 1e-3;
  for (const c of mc.C) hi = Math.max(hi, c);
  return hi * rel;
}

/** ε / max C where the scaling (standard) domain is stable: [0.05, 10], C/ε <= 20 (exp(−C/ε) >= 2e-9). */
export const relEpsStandard = logUniform(0.05, 10);

/** Scale factor λ of the C, ε → λC, λε law: four decades around 1. */
export const arbLambda = logUniform(0.01, 100);

/**
 * Relative blurs sit half a grid step off the powers of ten (×10^(1/40)), so blur is never exactly the diameter:
 * there geomloss's ε schedule (np.arange(p log d, p log blur, p log s)) gains or loses a step when the diameter moves
 * by one ulp (e.g. when both clouds are translated), a knife edge of the reference schedule, not of the laws.
 */
function blurGrid(lo: number, hi: number): fc.Arbitrary<number> {
  return logUniform(lo, hi).map((r) => r * 10 ** (1 / 40));
}

/**
 * blur / diameter for the float64 divergence laws (ε = blur², cost ½|x − y|²): [0.01, 2], so the largest
 * cost over ε, diameter²/(2ε) = 1/(2 rel²), runs from 0.125 (near-kernel regime) to 5000 (near-OT regime).
 */
export const blurRelF64 = blurGrid(0.01, 2);

/** blur / diameter for the float32 tensor engine on a backend: [0.1, 2] (C/ε <= 50, what float32 resolves). */
export const blurRelF32 = blurGrid(0.1, 2);

/**
 * blur / diameter for the 1-D limit law (S_ε → W as blur → 0, for the converged S_ε): [0.07, 0.2] (max C/ε from 12
 * to 100). The converged runs' extra symmetric iterations have a heavy tail as C/ε grows: over 5000 draws of
 * arbPair({ maxD: 1, maxN: 8 }) with tol 1e-13, blur / diameter in [0.07, 0.1] needed at most 7 180 iterations, but
 * [0.05, 0.07] had draws past 3·10⁵ and [0.02, 0.03] draws past 10⁵ (a mass deficit of one atom that must be routed
 * across a cost barrier of ~500 ε holds the residual constant for ~5·10⁴ iterations before it drops), past the
 * laws' 50 000-iteration budget.
 */
export const blurRelSmall = blurGrid(0.07, 0.2);
