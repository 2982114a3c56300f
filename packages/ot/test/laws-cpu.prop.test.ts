/**
 * The OT law suite (test/laws.ts) on the float64 CPU core, fed by fast-check. The same laws run on the tfjs engines
 * in laws-backends.ts (run by backends.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { samplesLoss, sinkhorn } from '../src/index.ts';
import {
  arbDiracPair,
  arbLambda,
  arbMatrixCase,
  arbPair,
  arbPairWithDirections,
  arbPairWithTranslation,
  arbPermutation,
  arbPlantedPermutation,
  arbWeights,
  blurRelF64,
  blurRelSmall,
  epsOf,
  epsOfF64,
  gridDouble,
  logUniform,
  relEpsF64,
  relEpsStandard,
} from './arbitraries.ts';
import { expectNear, runs } from './helpers.ts';
import {
  assertCostEpsScaling,
  assertGradientFiniteDifference,
  assertNearExact1d,
  assertNonNegative,
  assertPermutationEquivariance,
  assertPlanMarginals,
  assertPlantedPermutation,
  assertSolversAgree,
  assertSymmetric,
  assertTranslationFormula,
  assertTranslationInvariance,
  assertTransposeSymmetry,
  assertZeroOnIdentical,
  blurOf,
  costScale,
} from './laws.ts';
import { f64Converged, f64Geomloss, f64Matrix } from './solvers.ts';

const logSolver = f64Matrix('log');
const stdSolver = f64Matrix('standard');
/** ε relative to the cost spread Δ (arbitraries.ts): log-uniform in [1e-2, 10]·Δ, C/ε from ~0.1 to 100 (epsOfF64). */
const relEps = relEpsF64;

/** POT 0.8.2's sinkhorn_log updates written out (v = log b − lse_i(M + u), u = log a − lse_j(M + v), M = −C/ε). */
function potLogIterations(
  a: Float64Array,
  b: Float64Array,
  C: Float64Array,
  n: number,
  m: number,
  eps: number,
  k: number,
) {
  const lse = (vals: number[]) => {
    const mx = Math.max(...vals);
    return Number.isFinite(mx) ? mx + Math.log(vals.reduce((s, t) => s + Math.exp(t - mx), 0)) : mx;
  };
  const u = new Float64Array(n);
  const v = new Float64Array(m);
  for (let it = 0; it < k; it++) {
    for (let j = 0; j < m; j++) v[j] = Math.log(b[j]!) - lse(Array.from(u, (ui, i) => -C[i * m + j]! / eps + ui));
    for (let i = 0; i < n; i++) u[i] = Math.log(a[i]!) - lse(Array.from(v, (vj, j) => -C[i * m + j]! / eps + vj));
  }
  return { u, v };
}

describe('matrix Sinkhorn laws (cpu-f64)', () => {
  it("'log' follows POT's log-domain updates iteration by iteration, also where exp(−C/ε) underflows", () => {
    // C in [0, 10), ε down to 1e-3: C/ε up to 10⁴, so the kernel path hands rows and columns (or all of the
    // solve) to the log domain; the log-scalings must still be POT's to rounding.
    fc.assert(
      fc.property(
        // Costs and log ε uniform on a grid (see arbitraries.ts on fc.double), so both paths mix.
        fc
          .record({ n: fc.integer({ min: 1, max: 8 }), m: fc.integer({ min: 1, max: 8 }) })
          .chain(({ n, m }) =>
            fc.record({
              a: arbWeights(n),
              b: arbWeights(m),
              C: fc.array(gridDouble(0, 10, 1000), { minLength: n * m, maxLength: n * m }),
            }),
          )
          .map(({ a, b, C }) => ({ a, b, C: Float64Array.from(C), n: a.length, m: b.length })),
        logUniform(1e-3, 10, 250_000),
        fc.integer({ min: 1, max: 4 }),
        (mc, eps, k) => {
          const r = sinkhorn(mc.a, mc.b, { data: mc.C, rows: mc.n, cols: mc.m }, eps, { maxIter: k, tol: 0 });
          const ref = potLogIterations(mc.a, mc.b, mc.C, mc.n, mc.m, eps, k);
          const scale = 1 + Math.max(...mc.C) / eps;
          for (let i = 0; i < mc.n; i++) expect(Math.abs(r.logU[i]! - ref.u[i]!)).toBeLessThanOrEqual(1e-12 * scale);
          for (let j = 0; j < mc.m; j++) expect(Math.abs(r.logV[j]! - ref.v[j]!)).toBeLessThanOrEqual(1e-12 * scale);
        },
      ),
      { numRuns: runs(60) },
    );
  });

  it('plan is non-negative with marginals a and b', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(), relEps, async (mc, rel) => {
        const sol = await logSolver.solve(mc.a, mc.b, mc.C, mc.n, mc.m, epsOfF64(mc, rel));
        expect(sol.converged).toBe(true);
        assertPlanMarginals(logSolver, mc, sol);
      }),
      { numRuns: runs(60) },
    );
  });

  it('OT(a, b, C) = OT(b, a, Cᵀ) with the transposed plan', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(), relEps, (mc, rel) => assertTransposeSymmetry(logSolver, mc, epsOfF64(mc, rel))),
      { numRuns: runs(40) },
    );
  });

  it('scaling C and ε together scales the value', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(), relEps, arbLambda, (mc, rel, lambda) =>
        assertCostEpsScaling(logSolver, mc, epsOfF64(mc, rel), lambda),
      ),
      { numRuns: runs(40) },
    );
  });

  it('permuting the support points permutes the plan', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbMatrixCase().chain((mc) => fc.tuple(fc.constant(mc), arbPermutation(mc.n), arbPermutation(mc.m))),
        relEps,
        ([mc, pr, pc], rel) => assertPermutationEquivariance(logSolver, mc, epsOfF64(mc, rel), pr, pc),
      ),
      { numRuns: runs(40) },
    );
  });

  it('log and standard iterations agree where the scaling domain is stable (ε >= max C/20)', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(), relEpsStandard, (mc, rel) =>
        assertSolversAgree(logSolver, stdSolver, mc, epsOf(Math.max(...mc.C), rel)),
      ),
      { numRuns: runs(40) },
    );
  });

  it('known answer: a planted permutation (margin 5) is the plan at ε = 0.1', async () => {
    await fc.assert(
      fc.asyncProperty(arbPlantedPermutation(), ({ perm, C, n }) =>
        assertPlantedPermutation(logSolver, perm, C, n, 0.1),
      ),
      { numRuns: runs(30) },
    );
  });

  it('known answer at small ε (C/ε up to 6·10⁴: exp(−C/ε) underflows, sums redone in the log domain)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPlantedPermutation(),
        // ε log-uniform in [1e-4, 5e-3]: C/ε from 1e3 to 1e5
        logUniform(1e-4, 5e-3),
        ({ perm, C, n }, eps) => assertPlantedPermutation(logSolver, perm, C, n, eps),
      ),
      { numRuns: runs(30) },
    );
  });
});

describe('Sinkhorn divergence laws (cpu-f64)', () => {
  /** blur / diameter log-uniform in [0.01, 2]: max C/ε from 0.125 to 5000 (arbitraries.ts). */
  const blurRel = blurRelF64;

  it('debiased divergence is >= 0 (converged)', async () => {
    await fc.assert(
      fc.asyncProperty(arbPair(), blurRel, (pc, rel) => assertNonNegative(f64Converged, pc, blurOf(pc, rel))),
      { numRuns: runs(30) },
    );
  });

  it('symmetric in (α, β) at every iteration count (geomloss schedule) and at convergence, biased or not', async () => {
    await fc.assert(
      fc.asyncProperty(arbPair(), blurRel, fc.boolean(), async (pc, rel, debias) => {
        await assertSymmetric(f64Geomloss, pc, blurOf(pc, rel), debias);
        await assertSymmetric(f64Converged, pc, blurOf(pc, rel), debias);
      }),
      { numRuns: runs(25) },
    );
  });

  it('zero for identical inputs', async () => {
    await fc.assert(
      fc.asyncProperty(arbPair(), blurRel, async (pc, rel) => {
        await assertZeroOnIdentical(f64Geomloss, pc, blurOf(pc, rel));
        await assertZeroOnIdentical(f64Converged, pc, blurOf(pc, rel));
      }),
      { numRuns: runs(25) },
    );
  });

  it('translation formula S(α, β + t) = S(α, β) − ⟨m_α − m_β, t⟩ + ½|t|²', async () => {
    await fc.assert(
      fc.asyncProperty(arbPairWithTranslation({ maxN: 8 }), blurRel, ([pc, t], rel) =>
        assertTranslationFormula(f64Converged, pc, t, blurOf(pc, rel)),
      ),
      { numRuns: runs(20) },
    );
  });

  it('invariant to translating both clouds (geomloss schedule: at every iteration count; and converged)', async () => {
    await fc.assert(
      fc.asyncProperty(arbPairWithTranslation({ maxN: 8 }), blurRel, async ([pc, t], rel) => {
        await assertTranslationInvariance(f64Geomloss, pc, t, blurOf(pc, rel));
        await assertTranslationInvariance(f64Converged, pc, t, blurOf(pc, rel));
      }),
      { numRuns: runs(20) },
    );
  });

  it('1-D: tends to the exact sorted-quantile W as blur → 0, within ε(H(α)+H(β))/2', async () => {
    await fc.assert(
      fc.asyncProperty(arbPair({ maxD: 1, maxN: 8 }), blurRelSmall, (pc, rel) =>
        assertNearExact1d(f64Converged, pc, blurOf(pc, rel)),
      ),
      { numRuns: runs(20) },
    );
  });

  it('envelope gradients agree with central finite differences (converged)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPairWithDirections({ maxN: 6 }),
        // blur / diameter log-uniform in [0.05, 2]: max C/ε up to 200
        logUniform(0.05, 2),
        ([pc, dx, dy], rel) =>
          assertGradientFiniteDifference(
            f64Converged,
            pc,
            { x: Float64Array.from(dx), y: Float64Array.from(dy) },
            blurOf(pc, rel),
            1e-5 * Math.sqrt(costScale(pc)),
          ),
      ),
      { numRuns: runs(15) },
    );
  });

  it('known answer: Dirac to Dirac gives OT_ε = C(x, y) (biased) and S = C(x, y) (debiased), any blur', async () => {
    fc.assert(
      // blur log-uniform in [1e-3, 10]: C/ε from ~0 to ~1e8
      fc.property(arbDiracPair(), logUniform(1e-3, 10), fc.boolean(), (pc, blur, debias) => {
        let r2 = 0;
        for (let k = 0; k < pc.x.d; k++) r2 += (pc.x.data[k]! - pc.y.data[k]!) ** 2;
        const r = samplesLoss(pc.x, pc.y, { blur, debias, geomlossCompatible: true });
        expectNear(r.value, r2 / 2, 1e-12, 1e-12, 'Dirac');
      }),
      { numRuns: runs(30) },
    );
  });
});
