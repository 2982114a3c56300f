/**
 * Exact solvers: 1-D sorted quantiles against POT (`wasserstein_1d`, `emd2` in the golden file), the network simplex
 * against the golden emd2 values, against POT's `emd` on near-degenerate costs (emd-degenerate.json) and against brute
 * force over permutations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { costMatrix } from '../src/cost.ts';
import { exactUnits } from '../src/exact.ts';
import { type EmdResult, emd, exact1d } from '../src/index.ts';
import { arbPermutation, gridDouble } from './arbitraries.ts';
import { emdDegenerateCases } from './emd-fixtures.ts';
import { geomlossCases } from './golden.ts';
import { expectNear, runs } from './helpers.ts';

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
        // points on a 1e-2 grid in [-5, 5] (spread out, with ties)
        fc.array(gridDouble(-5, 5, 100), { minLength: 1, maxLength: 12 }),
        fc.array(gridDouble(-5, 5, 100), { minLength: 1, maxLength: 12 }),
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
      { numRuns: runs(60) },
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

/** 2⁻⁵², float64's machine epsilon. */
const EPS = 2 ** -52;

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let k = 0; k <= p.length; k++) out.push([...p.slice(0, k), n - 1, ...p.slice(k)]);
  }
  return out;
}

/**
 * min over permutations p of (1/n) Σ_i c[i·n + p(i)] (uniform n × n problems: some optimal plan is a permutation), the
 * sums exact (float64 sums would absorb 1e-300 next to ±1e-12), converted to a double within a few ulps.
 */
function bruteForce(c: ArrayLike<number>, n: number): number {
  const units = Array.from({ length: n * n }, (_, k) => exactUnits(c[k]!));
  let best: bigint | undefined;
  for (const perm of permutations(n)) {
    let s = 0n;
    for (let i = 0; i < n; i++) s += units[i * n + perm[i]!]!;
    if (best === undefined || s < best) best = s;
  }
  const mag = best! < 0n ? -best! : best!;
  const shift = Math.max(0, mag.toString(2).length - 1000);
  const x = Number(mag >> BigInt(shift)) * 2 ** (shift - 1074);
  return (best! < 0n ? -x : x) / n;
}

/**
 * Tolerance between two computations of an optimal value: (rows + cols + 2) ulps of Σ P_ij |C_ij|, the rounding of
 * Σ P_ij C_ij over the plan's <= rows + cols − 1 cells, each flow rounded once from its exact value, for both sides.
 * No absolute slack: where the optimal plan only uses zero costs the value must be exactly 0.
 */
function valueTol(r: EmdResult, c: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < r.plan.length; k++) s += r.plan[k]! * Math.abs(c[k]!);
  return (r.rows + r.cols + 2) * EPS * s;
}

/**
 * The plan is a coupling of a and b and (u, v) certify its optimality: u_i + v_j <= C_ij everywhere and = on the
 * plan's support (complementary slackness), up to a few ulps of |u_i| + |v_j| + |C_ij| (emd rounds each potential
 * once from its exact value). Marginals to `massTol` (absolute; the masses here are 1).
 */
function expectOptimalCoupling(
  r: EmdResult,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c: ArrayLike<number>,
  massTol = 1e-14,
): void {
  const n = a.length;
  const m = b.length;
  expect(r.rows).toBe(n);
  expect(r.cols).toBe(m);
  const cols = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < m; j++) {
      const k = i * m + j;
      const p = r.plan[k]!;
      expect(p, `plan[${i}][${j}]`).toBeGreaterThanOrEqual(0);
      row += p;
      cols[j] = cols[j]! + p;
      const slack = c[k]! - r.u[i]! - r.v[j]!;
      const tol = 4 * EPS * (Math.abs(r.u[i]!) + Math.abs(r.v[j]!) + Math.abs(c[k]!)) + Number.MIN_VALUE;
      if (!(slack >= -tol)) expect.fail(`dual infeasible at (${i}, ${j}): C − u − v = ${slack} < −${tol}`);
      if (p > 0 && !(slack <= tol)) expect.fail(`slackness fails at (${i}, ${j}): plan ${p}, C − u − v = ${slack}`);
    }
    expectNear(row, a[i]!, 0, massTol, `row ${i} mass`);
  }
  for (let j = 0; j < m; j++) expectNear(cols[j]!, b[j]!, 0, massTol, `column ${j} mass`);
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

  it('issue 12 counterexample (FC_SEED=772379309): zeros, 6.25 and 4e-12 give the brute-force optimum 0', () => {
    // The old simplex stopped at 1e-12: its optimality test ignored reduced costs above −1e-12·max C (−6.25e-12), so
    // the cycle trading the 4e-12 cell for zeros (reduced cost −4e-12) never entered.
    const n = 4;
    const c = [0, 0, 0, 0, 0, 0, 6.25062599927297, 0, 0, 0, 4e-12, 0, 0, 0, 0, 0];
    const u = new Array(n).fill(1 / n);
    const r = emd(u, u, { data: c, rows: n, cols: n });
    expect(r.converged).toBe(true);
    expect(r.value).toBe(bruteForce(c, n));
    expectOptimalCoupling(r, u, u, c);
  });

  // Reference values: POT 0.8.2 `ot.emd` and the exact brute force (emd-degenerate.json, ot_emd_degenerate.py).
  it.each(emdDegenerateCases().map((c) => [c.name, c] as const))(
    'near-degenerate costs match POT emd and brute force, with a dual certificate (%s)',
    (_n, c) => {
      const C = c.M.flat();
      const r = emd(c.a, c.b, c.M);
      expect(r.converged).toBe(true);
      expect(c.pot_result_code).toBe(1);
      expectOptimalCoupling(r, c.a, c.b, C);
      // Optimal values of different optimal plans differ by the rounding of Σ P_ij C_ij only (valueTol); the dual
      // certificate above is what proves optimality to the last bits.
      const tol = valueTol(r, C);
      if (c.brute_force !== undefined) {
        expectNear(r.value, c.brute_force, 0, tol, 'brute force');
        expectNear(r.value, bruteForce(C, c.n), 0, tol, 'brute force (here)');
        // POT can stop early where potentials reach 1e300 (its pricing tolerance is relative to them): never worse.
        expect(r.value).toBeLessThanOrEqual(c.pot_cost + tol);
      } else {
        expectNear(r.value, c.pot_cost, 0, tol, 'POT emd cost');
      }
      // The transposed problem has the same optimum.
      const t = emd(c.b, c.a, {
        data: Float64Array.from({ length: c.n * c.m }, (_, k) => C[(k % c.n) * c.m + Math.floor(k / c.n)]!),
        rows: c.m,
        cols: c.n,
      });
      expect(t.converged).toBe(true);
      expectNear(t.value, r.value, 0, tol, 'transpose');
    },
  );

  it('equals brute force over permutations for uniform n = m <= 6 (Birkhoff)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            // costs on a 1e-3 grid in [0, 10] (fc.double would put most of them below 1e-3)
            fc.array(gridDouble(0, 10, 1000), { minLength: n * n, maxLength: n * n }),
          ),
        ),
        ([n, c]) => {
          const r = emd(new Array(n).fill(1 / n), new Array(n).fill(1 / n), { data: c, rows: n, cols: n });
          expect(r.converged).toBe(true);
          expectNear(r.value, bruteForce(c, n), 1e-12, 1e-12, 'brute force');
        },
      ),
      { numRuns: runs(80) },
    );
  });

  /** Costs a network simplex easily mistakes for ties: zeros, 1e-12 apart, 1e-300 next to 1e300, negatives. */
  const nastyCost = fc.constantFrom(0, 0, 0, 1e-12, 4e-12, -1e-12, 1, 1 + 1e-12, 1 + 2e-12, 6.25, 1e-300, 1e300);

  it('equals brute force over permutations on near-degenerate and tied costs (uniform n = m <= 6)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((n) => fc.tuple(fc.constant(n), fc.array(nastyCost, { minLength: n * n, maxLength: n * n }))),
        ([n, c]) => {
          const u = new Array(n).fill(1 / n);
          const r = emd(u, u, { data: c, rows: n, cols: n });
          expect(r.converged).toBe(true);
          // No absolute slack: an optimum of exactly 0 must come out as 0, not 1e-12 or 1e-300.
          expectNear(r.value, bruteForce(c, n), 0, valueTol(r, c), 'brute force');
          expectOptimalCoupling(r, u, u, c);
        },
      ),
      { numRuns: runs(150) },
    );
  });

  it('is optimal (dual certificate) and transpose-symmetric for tied weights and costs, zero weights, n ≠ m', () => {
    fc.assert(
      fc.property(
        fc.record({ n: fc.integer({ min: 1, max: 9 }), m: fc.integer({ min: 1, max: 9 }) }).chain(({ n, m }) =>
          fc.record({
            // small integer weights: equal weights and equal partial sums (degenerate bases); zeros allowed
            a: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
            b: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: m, maxLength: m }),
            c: fc.array(nastyCost, { minLength: n * m, maxLength: n * m }),
            perm: arbPermutation(n),
          }),
        ),
        ({ a, b, c, perm }) => {
          const n = a.length;
          const m = b.length;
          if (!a.some((w) => w > 0)) a[0] = 1;
          if (!b.some((w) => w > 0)) b[0] = 1;
          const sa = a.reduce((s, w) => s + w, 0);
          const sb = b.reduce((s, w) => s + w, 0);
          const wa = a.map((w) => w / sa);
          const wb = b.map((w) => w / sb);
          const r = emd(wa, wb, { data: c, rows: n, cols: m });
          expect(r.converged).toBe(true);
          expectOptimalCoupling(r, wa, wb, c);
          const ct = Float64Array.from({ length: n * m }, (_, k) => c[(k % n) * m + Math.floor(k / n)]!);
          const t = emd(wb, wa, { data: ct, rows: m, cols: n });
          expect(t.converged).toBe(true);
          expectOptimalCoupling(t, wb, wa, ct);
          // Permuting the rows permutes the problem: same optimum.
          const cp = Float64Array.from({ length: n * m }, (_, k) => c[perm[Math.floor(k / m)]! * m + (k % m)]!);
          const p = emd(
            perm.map((i) => wa[i]!),
            wb,
            { data: cp, rows: n, cols: m },
          );
          expect(p.converged).toBe(true);
          const tol = Math.max(valueTol(r, c), valueTol(t, ct));
          expectNear(t.value, r.value, 0, tol, 'transpose');
          expectNear(p.value, r.value, 0, Math.max(tol, valueTol(p, cp)), 'row permutation');
        },
      ),
      { numRuns: runs(150) },
    );
  });
});
