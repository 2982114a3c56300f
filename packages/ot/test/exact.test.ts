/**
 * Exact solvers: 1-D sorted quantiles against POT (`wasserstein_1d`, `emd2` in the golden file), the network simplex
 * against the golden emd2 values and against brute force over permutations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { costMatrix, emd, exact1d } from '../src/index.ts';
import { geomlossCases } from './golden.ts';
import { expectNear } from './helpers.ts';

const balanced = geomlossCases().filter((c) => c.reach === null);

describe('exact1d', () => {
  it.each(balanced.filter((c) => c.dim === 1).map((c) => [c.name, c] as const))(
    'matches POT wasserstein_1d/2 and emd2 (%s)',
    (_n, c) => {
      const r = exact1d(c.x.flat(), c.y.flat(), c.a ?? undefined, c.b ?? undefined);
      expect(c.exact_ot_1d_quantile).toBeDefined();
      expectNear(r.value, c.exact_ot_1d_quantile!, 1e-12, 1e-14, 'quantile');
      expectNear(r.value, c.exact_ot_emd2!, 1e-10, 1e-14, 'emd2');
      if (c.exact_ot_1d_sorted !== undefined) expectNear(r.value, c.exact_ot_1d_sorted, 1e-12, 1e-14, 'sorted');
      // The plan is a coupling of a and b.
      const rows = new Float64Array(c.n);
      const cols = new Float64Array(c.m);
      for (const e of r.plan) {
        rows[e.i] = rows[e.i]! + e.mass;
        cols[e.j] = cols[e.j]! + e.mass;
      }
      const a = c.a ?? new Array(c.n).fill(1 / c.n);
      const b = c.b ?? new Array(c.m).fill(1 / c.m);
      for (let i = 0; i < c.n; i++) expect(Math.abs(rows[i]! - a[i]!)).toBeLessThan(1e-12);
      for (let j = 0; j < c.m; j++) expect(Math.abs(cols[j]! - b[j]!)).toBeLessThan(1e-12);
    },
  );

  it('dual potentials are feasible, tight on the plan, and give W = ⟨a,f⟩ + ⟨b,g⟩', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 2 }),
        (x, y, p) => {
          const r = exact1d(x, y, undefined, undefined, { p });
          let dual = 0;
          x.forEach((_, i) => {
            dual += r.f[i]! / x.length;
          });
          y.forEach((_, j) => {
            dual += r.g[j]! / y.length;
          });
          expectNear(dual, r.value, 1e-9, 1e-9, 'duality');
          const C = costMatrix(Float64Array.from(x), x.length, Float64Array.from(y), y.length, 1, p);
          for (let i = 0; i < x.length; i++) {
            for (let j = 0; j < y.length; j++)
              expect(r.f[i]! + r.g[j]!).toBeLessThanOrEqual(C[i * y.length + j]! + 1e-9);
          }
          // Same optimum as the network simplex on the explicit cost.
          const e = emd(new Array(x.length).fill(1 / x.length), new Array(y.length).fill(1 / y.length), {
            data: C,
            rows: x.length,
            cols: y.length,
          });
          expectNear(r.value, e.value, 1e-9, 1e-12, 'emd');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gradient w.r.t. the points matches finite differences (distinct points)', () => {
    const x = [0.3, -1.2, 2.5, 0.9];
    const y = [1.1, -0.4, 3.3, -2.0, 0.2];
    const r = exact1d(x, y);
    const h = 1e-6;
    for (let i = 0; i < x.length; i++) {
      const xp = [...x];
      const xm = [...x];
      xp[i] = xp[i]! + h;
      xm[i] = xm[i]! - h;
      const fd = (exact1d(xp, y).value - exact1d(xm, y).value) / (2 * h);
      expectNear(r.gradX[i]!, fd, 1e-6, 1e-9, `dW/dx_${i}`);
    }
  });
});

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let k = 0; k <= p.length; k++) out.push([...p.slice(0, k), n - 1, ...p.slice(k)]);
  }
  return out;
}

describe('emd (network simplex)', () => {
  it.each(balanced.map((c) => [c.name, c] as const))('matches POT emd2 on geomloss clouds (%s)', (_n, c) => {
    const C = costMatrix(Float64Array.from(c.x.flat()), c.n, Float64Array.from(c.y.flat()), c.m, c.dim, 2);
    const r = emd(c.a ?? new Array(c.n).fill(1 / c.n), c.b ?? new Array(c.m).fill(1 / c.m), {
      data: C,
      rows: c.n,
      cols: c.m,
    });
    expect(r.converged).toBe(true);
    expectNear(r.value, c.exact_ot_emd2!, 1e-10, 1e-14, 'emd2');
  });

  it('equals brute force over permutations for uniform n = m <= 6 (Birkhoff)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: n * n, maxLength: n * n }),
            ),
          ),
        ([n, c]) => {
          let best = Number.POSITIVE_INFINITY;
          for (const perm of permutations(n)) {
            let s = 0;
            for (let i = 0; i < n; i++) s += c[i * n + perm[i]!]!;
            best = Math.min(best, s / n);
          }
          const r = emd(new Array(n).fill(1 / n), new Array(n).fill(1 / n), { data: c, rows: n, cols: n });
          expect(r.converged).toBe(true);
          expectNear(r.value, best, 1e-12, 1e-12, 'brute force');
        },
      ),
      { numRuns: 80 },
    );
  });
});
