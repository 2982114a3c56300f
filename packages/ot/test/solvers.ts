/** Solvers under test for the laws: the float64 CPU core in its variants. */
import { samplesLoss, sinkhorn } from '../src/index.ts';
import type { PairCase } from './arbitraries.ts';
import type { DivergenceSolverUnderTest, MatrixSolverUnderTest } from './laws.ts';

export function f64Matrix(method: 'log' | 'standard'): MatrixSolverUnderTest {
  return {
    name: `cpu-f64 ${method}`,
    planTol: 1e-8,
    valueRtol: 1e-8,
    async solve(a, b, C, n, m, eps) {
      // 10⁶: the slowest of 5000 law draws needed 33 780 iterations (arbitraries.ts, relEpsF64); the budget only
      // matters for the rare slow-mixing draw, which then costs a second or two instead of failing.
      const r = sinkhorn(a, b, { data: C, rows: n, cols: m }, eps, { method, tol: 1e-13, maxIter: 1_000_000 });
      return r;
    },
  };
}

/** samplesLoss run to convergence (extra symmetric updates until the marginal residual <= 1e-12). */
export const f64Converged: DivergenceSolverUnderTest = {
  name: 'cpu-f64 converged',
  rtol: 1e-7,
  atolScaled: 1e-9,
  converged: true,
  async run(pc: PairCase, { blur, debias }) {
    const r = samplesLoss(pc.x, pc.y, {
      a: pc.a,
      b: pc.b,
      blur,
      scaling: 0.7,
      debias: debias ?? true,
      solver: 'sinkhorn',
      tol: 1e-13,
      // Budget for the hardest problems of the laws' range (blur/diameter >= 0.01, max C/ε <= 5000): FC_SEED=402933642
      // drew 6 + 2 points in 3-D (a weight of 0.014, blur/diameter 0.0188) whose log-domain iteration needs 55,705
      // iterations to reach tol (2,951 on the dense-kernel path for one of two translations of the same problem).
      maxIter: 1_000_000,
    });
    return r;
  },
};

/** geomloss's exact schedule (no stopping rule): symmetric at every iteration count, exact zero on identical inputs. */
export const f64Geomloss: DivergenceSolverUnderTest = {
  name: 'cpu-f64 geomloss-compatible',
  rtol: 1e-12,
  atolScaled: 1e-13,
  converged: false,
  async run(pc: PairCase, { blur, debias }) {
    return samplesLoss(pc.x, pc.y, { a: pc.a, b: pc.b, blur, debias: debias ?? true, geomlossCompatible: true });
  },
};
