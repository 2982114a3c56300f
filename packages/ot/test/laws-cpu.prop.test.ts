/**
 * The OT law suite (test/laws.ts) on the float64 CPU core, fed by fast-check. The same laws run on the tfjs engines
 * in laws-backends.ts (run by backends.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { samplesLoss } from '../src/index.ts';
import { arbDiracPair, arbMatrixCase, arbPair, arbPermutation, arbPlantedPermutation } from './arbitraries.ts';
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
  costScale,
} from './laws.ts';
import { f64Converged, f64Geomloss, f64Matrix } from './solvers.ts';

const logSolver = f64Matrix('log');
const stdSolver = f64Matrix('standard');
/** ε relative to the cost spread Δ: log-uniform in [0.05, 10]·Δ (the generic regime of §8.1). */
const relEps = fc.double({ min: Math.log(0.05), max: Math.log(10), noNaN: true }).map(Math.exp);
const epsOf = (spread: number, rel: number) => Math.max(spread, 1e-3) * rel;

describe('matrix Sinkhorn laws (cpu-f64)', () => {
  it('plan is non-negative with marginals a and b', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(), relEps, async (mc, rel) => {
        const sol = await logSolver.solve(mc.a, mc.b, mc.C, mc.n, mc.m, epsOf(mc.spread, rel));
        expect(sol.converged).toBe(true);
        assertPlanMarginals(logSolver, mc, sol);
      }),
      { numRuns: runs(60) },
    );
  });

  it('OT(a, b, C) = OT(b, a, Cᵀ) with the transposed plan', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(), relEps, (mc, rel) =>
        assertTransposeSymmetry(logSolver, mc, epsOf(mc.spread, rel)),
      ),
      { numRuns: runs(40) },
    );
  });

  it('scaling C and ε together scales the value', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(), relEps, fc.double({ min: 0.01, max: 100, noNaN: true }), (mc, rel, lambda) =>
        assertCostEpsScaling(logSolver, mc, epsOf(mc.spread, rel), lambda),
      ),
      { numRuns: runs(40) },
    );
  });

  it('permuting the support points permutes the plan', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbMatrixCase().chain((mc) => fc.tuple(fc.constant(mc), arbPermutation(mc.n), arbPermutation(mc.m))),
        relEps,
        ([mc, pr, pc], rel) => assertPermutationEquivariance(logSolver, mc, epsOf(mc.spread, rel), pr, pc),
      ),
      { numRuns: runs(40) },
    );
  });

  it('log and standard iterations agree where the scaling domain is stable (ε >= max C/20)', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(), fc.double({ min: 0.05, max: 10, noNaN: true }), (mc, rel) =>
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
});

describe('Sinkhorn divergence laws (cpu-f64)', () => {
  const blurRel = fc.double({ min: 0.1, max: 2, noNaN: true });
  const blurOf = (pc: Parameters<typeof costScale>[0], rel: number) => rel * Math.sqrt(2 * costScale(pc));

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
      fc.asyncProperty(
        arbPair({ maxN: 8 }).chain((pc) =>
          fc.tuple(
            fc.constant(pc),
            fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: pc.x.d, maxLength: pc.x.d }),
          ),
        ),
        blurRel,
        ([pc, t], rel) => assertTranslationFormula(f64Converged, pc, t, blurOf(pc, rel)),
      ),
      { numRuns: runs(20) },
    );
  });

  it('invariant to translating both clouds (geomloss schedule: at every iteration count; and converged)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPair({ maxN: 8 }).chain((pc) =>
          fc.tuple(
            fc.constant(pc),
            fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: pc.x.d, maxLength: pc.x.d }),
          ),
        ),
        blurRel,
        async ([pc, t], rel) => {
          await assertTranslationInvariance(f64Geomloss, pc, t, blurOf(pc, rel));
          await assertTranslationInvariance(f64Converged, pc, t, blurOf(pc, rel));
        },
      ),
      { numRuns: runs(20) },
    );
  });

  it('1-D: tends to the exact sorted-quantile W as blur → 0, within ε(H(α)+H(β))/2', async () => {
    await fc.assert(
      fc.asyncProperty(arbPair({ maxD: 1, maxN: 8 }), fc.double({ min: 0.02, max: 0.2, noNaN: true }), (pc, rel) =>
        assertNearExact1d(f64Converged, pc, blurOf(pc, rel)),
      ),
      { numRuns: runs(20) },
    );
  });

  it('envelope gradients agree with central finite differences (converged)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPair({ maxN: 6 }).chain((pc) =>
          fc.tuple(
            fc.constant(pc),
            fc.array(fc.double({ min: -1, max: 1, noNaN: true }), {
              minLength: pc.x.n * pc.x.d,
              maxLength: pc.x.n * pc.x.d,
            }),
            fc.array(fc.double({ min: -1, max: 1, noNaN: true }), {
              minLength: pc.y.n * pc.y.d,
              maxLength: pc.y.n * pc.y.d,
            }),
          ),
        ),
        fc.double({ min: 0.3, max: 2, noNaN: true }),
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
      fc.property(arbDiracPair(), fc.double({ min: 1e-3, max: 10, noNaN: true }), fc.boolean(), (pc, blur, debias) => {
        let r2 = 0;
        for (let k = 0; k < pc.x.d; k++) r2 += (pc.x.data[k]! - pc.y.data[k]!) ** 2;
        const r = samplesLoss(pc.x, pc.y, { blur, debias, geomlossCompatible: true });
        expectNear(r.value, r2 / 2, 1e-12, 1e-12, 'Dirac');
      }),
      { numRuns: runs(30) },
    );
  });
});
