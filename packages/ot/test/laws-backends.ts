/**
 * The OT law suite (test/laws.ts) on every backend (registered by backends.test.ts inside its forEachBackend, so each
 * backend is initialised once for both; leak-checked): the float32
 * engines that run on the backend — matrix Sinkhorn on tensors (sinkhornTensor) and the tensor engine of the
 * divergence op — with float32 tolerances, plus "CPU and WebGPU agree": the float64 CPU core against the backend's
 * float32 engine on the same problem and the same ε schedule. fast-check run counts: propertyRuns (a third on webgpu,
 * where a software adapter is slow; FC_NUM_RUNS widens them).
 */
import { type BackendSuite, propertyRuns } from '@fairclip/compute/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  divergenceFromSolution,
  samplesLoss,
  sinkhornDivergence,
  sinkhornTensor,
  solveDivergence,
} from '../src/index.ts';
import { maxDiameter } from '../src/schedule.ts';
import {
  arbDiracPair,
  arbLambda,
  arbMatrixCase,
  arbPair,
  arbPairWithDirections,
  arbPairWithTranslation,
  arbPermutation,
  arbPlantedPermutation,
  blurRelF32,
  blurRelSmall,
  epsOfF32,
  logUniform,
  type PairCase,
  relEpsF32,
} from './arbitraries.ts';
import {
  assertCostEpsScaling,
  assertDiracToDirac,
  assertDivergenceSolversAgree,
  assertGradientFiniteDifference,
  assertNearExact1d,
  assertNonNegative,
  assertPermutationEquivariance,
  assertPlanMarginals,
  assertPlantedPermutation,
  assertSolversAgree,
  assertSymmetric,
  assertTranslationInvariance,
  assertTransposeSymmetry,
  assertZeroOnIdentical,
  blurOf,
  costScale,
  type DivergenceSolverUnderTest,
  type MatrixSolverUnderTest,
} from './laws.ts';
import { f64Matrix } from './solvers.ts';

const SCALING = 0.8;

function cloud(c: PairCase['x']) {
  return { data: c.data, n: c.n, d: c.d };
}

/** The schedule's diameter, as geomloss estimates it (the tensor engine on WebGPU needs it given). */
function diameterOf(pc: PairCase): number {
  const dd = maxDiameter(cloud(pc.x), cloud(pc.y));
  return dd > 0 ? dd : 1;
}

/** Matrix Sinkhorn on tensors, log domain, float32, to a 1e-6 column-marginal error. */
function tensorMatrix(suite: BackendSuite): MatrixSolverUnderTest {
  return {
    name: `${suite.name} sinkhornTensor (float32)`,
    planTol: 2e-5,
    valueRtol: 1e-4,
    solve: (a, b, C, n, m, eps) =>
      sinkhornTensor(a, b, { data: C, rows: n, cols: m }, eps, { tol: 1e-6, maxIter: 3000 }),
  };
}

/** The divergence op's float32 tensor engine (dense cost), values and gradients read back. */
function tensorDivergenceSolver(suite: BackendSuite): DivergenceSolverUnderTest {
  return {
    name: `${suite.name} tensor engine (float32)`,
    rtol: 1e-3,
    atolScaled: 1e-5,
    converged: false,
    async run(pc, { blur, debias }) {
      const x = tf.tensor2d(Float32Array.from(pc.x.data), [pc.x.n, pc.x.d]);
      const y = tf.tensor2d(Float32Array.from(pc.y.data), [pc.y.n, pc.y.d]);
      const f = (xx: tf.Tensor, yy: tf.Tensor) =>
        sinkhornDivergence(xx, yy, {
          engine: 'tensor',
          blur,
          debias: debias ?? true,
          scaling: SCALING,
          diameter: diameterOf(pc),
          a: pc.a,
          b: pc.b,
        });
      const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, yy: tf.Tensor) => f(xx, yy))([x, y]);
      const [v, gx, gy] = await Promise.all([value.data(), grads[0]!.data(), grads[1]!.data()]);
      tf.dispose([x, y, value, ...grads]);
      return { value: v[0]!, gradX: Float64Array.from(gx), gradY: Float64Array.from(gy) };
    },
  };
}

/**
 * The float64 op through the backend (solveDivergence reads the tensors, divergenceFromSolution gives the envelope
 * gradient), iterated to convergence: for the limit laws, which hold at the fixed point only.
 */
function routedF64Converged(suite: BackendSuite): DivergenceSolverUnderTest {
  return {
    name: `${suite.name} op, float64 engine (converged)`,
    rtol: 1e-6,
    atolScaled: 1e-7,
    converged: true,
    async run(pc, { blur, debias }) {
      const x = tf.tensor2d(Float32Array.from(pc.x.data), [pc.x.n, pc.x.d]);
      const y = tf.tensor2d(Float32Array.from(pc.y.data), [pc.y.n, pc.y.d]);
      const o = {
        engine: 'cpu-f64' as const,
        blur,
        debias: debias ?? true,
        scaling: SCALING,
        solver: 'sinkhorn' as const,
      };
      const opts = { ...o, tol: 1e-12, maxIter: 50000 };
      const sol = await solveDivergence([{ x, y, a: pc.a, b: pc.b }], opts);
      const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, yy: tf.Tensor) =>
        tf.sum(divergenceFromSolution([{ x: xx, y: yy, a: pc.a, b: pc.b }], sol)),
      )([x, y]);
      const [v, gx, gy] = await Promise.all([value.data(), grads[0]!.data(), grads[1]!.data()]);
      tf.dispose([x, y, value, ...grads]);
      // cpu-f64 engine: one float64 result, with its convergence report (checked by the limit law).
      expect(sol.results.length).toBe(1);
      return {
        value: v[0]!,
        converged: sol.results[0]!.converged,
        gradX: Float64Array.from(gx),
        gradY: Float64Array.from(gy),
      };
    },
  };
}

/** The float64 core on the same fixed schedule (geomloss-compatible, same diameter): the CPU side of "agree". */
const f64SameSchedule: DivergenceSolverUnderTest = {
  name: 'cpu-f64 (same schedule)',
  rtol: 1e-12,
  atolScaled: 1e-13,
  converged: false,
  async run(pc, { blur, debias }) {
    return samplesLoss(cloud(pc.x), cloud(pc.y), {
      a: pc.a,
      b: pc.b,
      blur,
      debias: debias ?? true,
      scaling: SCALING,
      diameter: diameterOf(pc),
      geomlossCompatible: true,
    });
  },
};

/** ε / max C, log-uniform in [0.03, 10] (float32 regime, arbitraries.ts). */
const relEps = relEpsF32;
/** blur / diameter, log-uniform in [0.1, 2]: max C/ε from 0.125 to 50 (float32 regime, arbitraries.ts). */
const blurRel = blurRelF32;

/** Declares the law tests for one backend suite (call inside forEachBackend). */
export function describeBackendLaws(suite: BackendSuite): void {
  describe('laws (fast-check)', () => lawTests(suite));
}

function lawTests(suite: BackendSuite): void {
  const gpu = suite.name === 'webgpu';
  const matrix = tensorMatrix(suite);
  const div = tensorDivergenceSolver(suite);
  const small = { maxN: gpu ? 3 : 6, maxD: 2 };
  const runs = (base: number) => propertyRuns(base, suite);

  // ---- matrix Sinkhorn (float32 on the backend)
  it('matrix: plan non-negative with marginals a and b', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(5), relEps, async (mc, rel) => {
        assertPlanMarginals(matrix, mc, await matrix.solve(mc.a, mc.b, mc.C, mc.n, mc.m, epsOfF32(mc, rel)));
      }),
      { numRuns: runs(3) },
    );
  });

  it('matrix: OT(a, b, C) = OT(b, a, Cᵀ) with the transposed plan', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(5), relEps, (mc, rel) => assertTransposeSymmetry(matrix, mc, epsOfF32(mc, rel))),
      { numRuns: runs(3) },
    );
  });

  it('matrix: scaling C and ε together scales the value; permuting points permutes the plan', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbMatrixCase(5).chain((mc) => fc.tuple(fc.constant(mc), arbPermutation(mc.n), arbPermutation(mc.m))),
        relEps,
        arbLambda,
        async ([mc, pr, pc], rel, lambda) => {
          await assertPermutationEquivariance(matrix, mc, epsOfF32(mc, rel), pr, pc);
          // float32: the scaled problem rounds differently; the value law holds to the solver's tolerance.
          await assertCostEpsScaling(matrix, mc, epsOfF32(mc, rel), lambda);
        },
      ),
      { numRuns: runs(3) },
    );
  });

  it('matrix known answer: a planted permutation (margin 5) is the plan at ε = 0.1', async () => {
    await fc.assert(
      fc.asyncProperty(arbPlantedPermutation(5), ({ perm, C, n }) => assertPlantedPermutation(matrix, perm, C, n, 0.1)),
      { numRuns: runs(3) },
    );
  });

  it('matrix: CPU float64 and this backend agree (plans, values)', async () => {
    await fc.assert(
      fc.asyncProperty(arbMatrixCase(5), relEps, (mc, rel) =>
        assertSolversAgree(f64Matrix('log'), matrix, mc, epsOfF32(mc, rel)),
      ),
      { numRuns: runs(5) },
    );
  });

  // ---- Sinkhorn divergence op (tensor engine, float32 on the backend)
  it('divergence: symmetric in (α, β) (biased or not), zero for identical inputs', async () => {
    await fc.assert(
      fc.asyncProperty(arbPair(small), blurRel, fc.boolean(), async (pc, rel, debias) => {
        await assertSymmetric(div, pc, blurOf(pc, rel), debias);
        await assertZeroOnIdentical(div, pc, blurOf(pc, rel));
      }),
      { numRuns: runs(3) },
    );
  });

  it('divergence: >= 0, invariant to translating both clouds', async () => {
    await fc.assert(
      fc.asyncProperty(arbPairWithTranslation(small), blurRel, async ([pc, t], rel) => {
        await assertNonNegative(div, pc, blurOf(pc, rel));
        await assertTranslationInvariance(div, pc, t, blurOf(pc, rel));
      }),
      { numRuns: runs(3) },
    );
  });

  it('divergence, 1-D: tends to the exact sorted-quantile W as blur → 0 (float64 op, converged)', async () => {
    // float32 resolves neither small ε nor a fixed point: the limit law runs on the float64 engine through the op
    // (the tensors are read back from this backend); in 1-D FairCLIP problems are routed there anyway.
    const f64 = routedF64Converged(suite);
    const pts = arbPair({ maxD: 1, maxN: 6 }).map((pc) => ({
      ...pc,
      // float32-representable points, so the float64 exact W sees the same numbers as the backend tensors
      x: { ...pc.x, data: Float64Array.from(Float32Array.from(pc.x.data)) },
      y: { ...pc.y, data: Float64Array.from(Float32Array.from(pc.y.data)) },
    }));
    await fc.assert(
      fc.asyncProperty(pts, blurRelSmall, (pc, rel) => assertNearExact1d(f64, pc, blurOf(pc, rel))),
      { numRuns: runs(3) },
    );
  });

  it('divergence: op gradients agree with central finite differences (converged; step 1e-2, tolerance 2e-2)', async () => {
    // Envelope gradients are derivatives at the fixed point only, so the law runs on a converged solve through the op
    // on this backend (float32 tensors in, read back, gradient tensors out). The tensor engine's own gradients are
    // checked against the float64 envelope gradient of the same schedule by 'CPU float64 and this backend agree'.
    const fdSolver: DivergenceSolverUnderTest = { ...routedF64Converged(suite), rtol: 2e-2, atolScaled: 1e-6 };
    await fc.assert(
      fc.asyncProperty(
        arbPairWithDirections({ ...small, minD: 1 }),
        // blur / diameter log-uniform in [0.1, 2] (max C/ε up to 50; FD step 1e-2 in float32 coordinates)
        logUniform(0.1, 2),
        ([pc, dx, dy], rel) =>
          assertGradientFiniteDifference(
            fdSolver,
            pc,
            { x: Float64Array.from(dx), y: Float64Array.from(dy) },
            blurOf(pc, rel),
            1e-2 * Math.sqrt(costScale(pc)),
          ),
      ),
      { numRuns: runs(3) },
    );
  });

  it('divergence: CPU float64 and this backend agree (values, gradients; same ε schedule)', async () => {
    await fc.assert(
      fc.asyncProperty(arbPair(small), blurRel, (pc, rel) =>
        assertDivergenceSolversAgree(f64SameSchedule, div, pc, blurOf(pc, rel)),
      ),
      { numRuns: runs(5) },
    );
  });

  it('divergence known answer: Dirac to Dirac gives ½|x − y|² and gradient x − y, any blur', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbDiracPair(2),
        // blur log-uniform in [0.01, 10]: C/ε from ~0 to ~1e6 (the single-atom soft-min is exact at any ε)
        logUniform(0.01, 10),
        fc.boolean(),
        (pc, blur, debias) => assertDiracToDirac(div, pc, blur, debias),
      ),
      { numRuns: runs(3) },
    );
  });
}
