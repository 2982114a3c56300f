/**
 * Matrix Sinkhorn against POT 0.8.2 (`ot.sinkhorn(..., method='sinkhorn' | 'sinkhorn_log', log=True)`,
 * `ot.sinkhorn2`, `ot.emd`, `ot.emd2`): plans to POT's stopping threshold, sinkhorn2 values, niter, the error history
 * and the non-convergence warning; the network simplex against emd2.
 */
import { describe, expect, it } from 'vitest';
import { emd, sinkhorn } from '../src/index.ts';
import { potCases } from './golden.ts';
import { expectClose, expectNear } from './helpers.ts';

const cases = potCases();

describe('sinkhorn vs POT 0.8.2', () => {
  it('has the 11 documented cases', () => {
    expect(cases.length).toBe(11);
  });

  for (const method of ['standard', 'log'] as const) {
    describe(`method ${method}`, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
        const ref = method === 'standard' ? c.sinkhorn : c.sinkhorn_log;
        const r = sinkhorn(c.a, c.b, c.M, c.reg, { method, maxIter: c.numItermax, tol: c.stopThr });
        // Plans agree to POT's stopping threshold (both stop at the same iteration, so far closer in practice).
        expectClose(r.plan, c[method === 'standard' ? 'sinkhorn' : 'sinkhorn_log'].plan.flat(), 0, c.stopThr, 'plan');
        expectNear(r.transportCost, ref.sinkhorn2, 1e-12, c.stopThr, 'sinkhorn2');
        expect(r.niter).toBe(ref.niter);
        expect(r.errors.length).toBe(ref.err.length);
        expectClose(r.errors, ref.err, 1e-6, 1e-15, 'err history');
        const expectWarn = ref.warnings.some((w) => w.includes('did not converge'));
        expect(r.converged).toBe(!expectWarn);
        expect(r.warnings.some((w) => w.includes('did not converge'))).toBe(expectWarn);
        if (method === 'standard' && ref.u && ref.v) {
          expectClose(r.logU.map(Math.exp), ref.u, 1e-6, 0, 'u');
          expectClose(r.logV.map(Math.exp), ref.v, 1e-6, 0, 'v');
        }
        if (method === 'log' && ref.log_u && ref.log_v) {
          expectClose(r.logU, ref.log_u, 1e-7, 1e-9, 'log_u');
          expectClose(r.logV, ref.log_v, 1e-7, 1e-9, 'log_v');
        }
        expectNear(r.marginalError, ref.marginal_err_cols, 1e-4, 1e-15, 'final column error');
        // Rows are exact after every iteration.
        expect(r.rowMarginalError).toBeLessThanOrEqual(1e-14);
      });
    });
  }

  it.each(cases.map((c) => [c.name, c] as const))('emd (network simplex) matches emd2: %s', (_n, c) => {
    const r = emd(c.a, c.b, c.M);
    expect(r.converged).toBe(true);
    expectNear(r.value, c.emd2, 1e-12, 1e-15, 'emd2');
    // Dual feasibility and complementary slackness.
    for (let i = 0; i < c.n; i++) {
      for (let j = 0; j < c.m; j++) {
        expect(r.u[i]! + r.v[j]!).toBeLessThanOrEqual(c.M[i]![j]! + 1e-12);
        if (r.plan[i * c.m + j]! > 1e-14) expect(Math.abs(r.u[i]! + r.v[j]! - c.M[i]![j]!)).toBeLessThan(1e-12);
      }
    }
  });
});
