/**
 * Bad input gets a typed OtInputError naming the problem; non-convergence is reported in the result, never thrown or
 * hidden (issue 6, "Bad input").
 */
import { describe, expect, it } from 'vitest';
import {
  configureRouting,
  emd,
  exact1d,
  getRouting,
  type OtErrorCode,
  OtInputError,
  resetRouting,
  samplesLoss,
  sinkhorn,
} from '../src/index.ts';
import { potCases } from './golden.ts';

function expectOtError(fn: () => unknown, code: OtErrorCode, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'an OtInputError was thrown').toBeInstanceOf(OtInputError);
  expect((caught as OtInputError).code).toBe(code);
  expect((caught as OtInputError).message).toMatch(message);
}

const C = [
  [0, 1, 2],
  [1, 0, 1],
];
const a = [0.5, 0.5];
const b = [0.25, 0.5, 0.25];

describe('sinkhorn (cost matrix): bad input', () => {
  it('mismatched sizes name the argument and both sizes', () => {
    expectOtError(() => sinkhorn([0.5, 0.25, 0.25], b, C, 0.1), 'SHAPE_MISMATCH', /a: has 3 weights for 2 points/);
    expectOtError(() => sinkhorn(a, [0.5, 0.5], C, 0.1), 'SHAPE_MISMATCH', /b: has 2 weights for 3 points/);
    expectOtError(
      () =>
        sinkhorn(
          a,
          b,
          [
            [0, 1, 2],
            [1, 0],
          ],
          0.1,
        ),
      'SHAPE_MISMATCH',
      /cost: row 1 has 2 entries, expected 3/,
    );
    expectOtError(
      () => sinkhorn(a, b, { data: [1, 2, 3], rows: 2, cols: 3 }, 0.1),
      'SHAPE_MISMATCH',
      /expected rows\*cols = 6/,
    );
    expectOtError(() => sinkhorn(a, b, [], 0.1), 'EMPTY_INPUT', /non-empty/);
  });

  it('negative, non-finite or zero-mass weights', () => {
    expectOtError(() => sinkhorn([1.5, -0.5], b, C, 0.1), 'NEGATIVE_WEIGHTS', /a\[1\] is negative \(-0\.5\)/);
    expectOtError(() => sinkhorn([Number.NaN, 1], b, C, 0.1), 'NON_FINITE_WEIGHTS', /a\[0\] is not finite/);
    expectOtError(() => sinkhorn(a, [0.5, Number.POSITIVE_INFINITY, 0], C, 0.1), 'NON_FINITE_WEIGHTS', /b\[1\]/);
    expectOtError(() => sinkhorn([0, 0], b, C, 0.1), 'ZERO_MASS', /a: the weights sum to 0/);
  });

  it('weights of different total mass (balanced)', () => {
    expectOtError(() => sinkhorn([1, 1], b, C, 0.1), 'UNEQUAL_MASS', /different total masses \(2 vs 1/);
  });

  it('non-finite cost entries and ε <= 0 or non-finite', () => {
    expectOtError(
      () =>
        sinkhorn(
          a,
          b,
          [
            [0, 1, Number.NaN],
            [1, 0, 1],
          ],
          0.1,
        ),
      'NON_FINITE_COST',
      /cost\[0\]\[2\]/,
    );
    for (const eps of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectOtError(() => sinkhorn(a, b, C, eps), 'INVALID_EPSILON', /eps must be a finite number > 0/);
    }
  });

  it('bad options', () => {
    expectOtError(() => sinkhorn(a, b, C, 0.1, { maxIter: 0 }), 'INVALID_OPTION', /maxIter must be an integer >= 1/);
    expectOtError(() => sinkhorn(a, b, C, 0.1, { tol: -1 }), 'INVALID_OPTION', /tol must be >= 0/);
    expectOtError(
      () => sinkhorn(a, b, C, 0.1, { method: 'sinkhorn_knopp' as 'log' }),
      'INVALID_OPTION',
      /method must be 'standard' or 'log'/,
    );
    expectOtError(
      () => sinkhorn(a, b, C, 0.1, { method: 'standard', epsScaling: {} }),
      'INVALID_OPTION',
      /epsScaling needs method 'log'/,
    );
  });
});

describe('sinkhorn: non-convergence is reported, with the error reached', () => {
  it.each(['standard', 'log'] as const)('%s: maxIter too small → converged false, warning, errors kept', (method) => {
    // POT case pot_07 (ε = 0.01) needs hundreds of iterations at tol 1e-9.
    const c = potCases().find((k) => k.name.startsWith('pot_07'))!;
    const r = sinkhorn(c.a, c.b, c.M, c.reg, { method, maxIter: 15, tol: 1e-9 });
    expect(r.converged).toBe(false);
    expect(r.iterations).toBe(15);
    expect(r.warnings.some((w) => w.includes('did not converge'))).toBe(true);
    expect(r.errors.length).toBe(2); // measured at iterations 0 and 10
    expect(r.marginalError).toBeGreaterThan(1e-9);
    expect(Number.isFinite(r.value)).toBe(true);
  });

  it('standard: an underflowing kernel stops with a "numerical errors" warning instead of NaN', () => {
    // exp(−C/ε) underflows to 0 in a whole row: the scaling domain breaks, POT keeps the previous iterate.
    const r = sinkhorn(
      [0.5, 0.5],
      [0.5, 0.5],
      [
        [0, 1000],
        [1000, 2000],
      ],
      0.1,
      { method: 'standard' },
    );
    expect(r.converged).toBe(false);
    expect(r.warnings.some((w) => w.startsWith('numerical errors at iteration'))).toBe(true);
    for (const p of r.plan) expect(Number.isNaN(p)).toBe(false);
  });
});

describe('samplesLoss: bad input', () => {
  it('mismatched dimensions, ragged rows, empty clouds, weight counts', () => {
    expectOtError(() => samplesLoss([[0, 1]], [[0, 1, 2]]), 'SHAPE_MISMATCH', /same dimension, got 2 and 3/);
    expectOtError(
      () => samplesLoss([[0, 1], [2]], [[0, 1]]),
      'SHAPE_MISMATCH',
      /x: row 1 has 1 coordinates, expected 2/,
    );
    expectOtError(() => samplesLoss([], [1, 2]), 'EMPTY_INPUT', /x: the point cloud is empty/);
    expectOtError(() => samplesLoss([1, 2], [3], { a: [1] }), 'SHAPE_MISMATCH', /a: has 1 weights for 2 points/);
    expectOtError(
      () => samplesLoss({ data: [1, 2, 3], n: 2, d: 2 }, [[0, 0]]),
      'SHAPE_MISMATCH',
      /x: data has 3 values, expected n\*d = 2\*2 = 4/,
    );
  });

  it('non-finite points name the point and coordinate', () => {
    expectOtError(
      () =>
        samplesLoss(
          [
            [0, 1],
            [2, Number.NaN],
          ],
          [[0, 0]],
        ),
      'NON_FINITE_POINTS',
      /x: point 1 .* at index 1/,
    );
    expectOtError(() => samplesLoss([0], [1, Number.NEGATIVE_INFINITY]), 'NON_FINITE_POINTS', /y: point 1/);
  });

  it('negative / non-finite weights and unequal masses (balanced only)', () => {
    expectOtError(() => samplesLoss([0, 1], [2], { a: [-1, 2], b: [1] }), 'NEGATIVE_WEIGHTS', /a\[0\] is negative/);
    expectOtError(() => samplesLoss([0, 1], [2], { a: [Number.NaN, 1], b: [1] }), 'NON_FINITE_WEIGHTS', /a\[0\]/);
    expectOtError(() => samplesLoss([0, 1], [2], { a: [0.5, 0.5], b: [2] }), 'UNEQUAL_MASS', /reach/);
    // Unbalanced transport accepts different masses.
    const r = samplesLoss([0, 1], [2], { a: [0.5, 0.5], b: [2], reach: 1 });
    expect(Number.isFinite(r.value)).toBe(true);
  });

  it('ε <= 0 (blur), bad p, scaling, reach, diameter, solver, loss', () => {
    expectOtError(() => samplesLoss([0], [1], { blur: 0 }), 'INVALID_OPTION', /blur must be a finite number > 0/);
    expectOtError(() => samplesLoss([0], [1], { blur: -1 }), 'INVALID_OPTION', /blur/);
    expectOtError(() => samplesLoss([0], [1], { blur: 1e-200 }), 'INVALID_EPSILON', /blur\^p underflows/);
    expectOtError(() => samplesLoss([0], [1], { p: 0.5 }), 'INVALID_OPTION', /p must be a finite number >= 1/);
    expectOtError(() => samplesLoss([0], [1], { scaling: 1 }), 'INVALID_OPTION', /scaling must be in \(0, 1\)/);
    expectOtError(() => samplesLoss([0], [1], { reach: 0 }), 'INVALID_OPTION', /reach must be/);
    expectOtError(() => samplesLoss([0], [1], { diameter: -2, solver: 'sinkhorn' }), 'INVALID_OPTION', /diameter/);
    expectOtError(() => samplesLoss([0], [1], { solver: 'fast' as 'auto' }), 'INVALID_OPTION', /solver must be/);
    expectOtError(() => samplesLoss([0], [1], { loss: 'hausdorff' as 'energy' }), 'INVALID_OPTION', /loss must be/);
    expectOtError(
      () => samplesLoss([[0, 0]], [[1, 1]], { solver: 'exact-1d' }),
      'UNSUPPORTED',
      /exact-1d' needs 1-D points and balanced transport \(got d = 2/,
    );
    expectOtError(() => samplesLoss([0], [1], { costMode: 'lazy' as 'dense' }), 'INVALID_OPTION', /costMode/);
  });
});

describe('samplesLoss: non-convergence is reported', () => {
  const x = [0.1, 0.5, 0.9, 1.7, 2.2];
  const y = [0.3, 1.1, 1.2, 2.5];

  it('extra iterations exhausted → converged false with the residual reached', () => {
    const r = samplesLoss(x, y, { blur: 0.01, solver: 'sinkhorn', maxIter: 2, tol: 1e-12 });
    expect(r.converged).toBe(false);
    expect(r.extraIterations).toBe(2);
    expect(r.residual).toBeGreaterThan(1e-12);
    const ok = samplesLoss(x, y, { blur: 0.3, solver: 'sinkhorn', maxIter: 5000, tol: 1e-10 });
    expect(ok.converged).toBe(true);
    expect(ok.residual).toBeLessThanOrEqual(1e-10);
  });

  it("geomloss's fixed schedule reports where it stopped (tiny ε: far from the fixed point)", () => {
    const r = samplesLoss(x, y, { blur: 1e-4, geomlossCompatible: true });
    expect(r.converged).toBe(false);
    expect(r.residual).toBeGreaterThan(1e-3);
    expect(Number.isFinite(r.value)).toBe(true);
  });
});

describe('exact solvers and routing: bad input', () => {
  it('exact1d', () => {
    expectOtError(() => exact1d([[0, 1]], [[1, 2]]), 'SHAPE_MISMATCH', /needs 1-D points, got dimensions 2 and 2/);
    expectOtError(() => exact1d([0, 1], [1], [0.5, 0.5], [2]), 'UNEQUAL_MASS', /different total masses/);
    expectOtError(() => exact1d([0, Number.NaN], [1]), 'NON_FINITE_POINTS', /x: point 1/);
  });

  it('emd: unequal masses; an exhausted pivot budget is reported, not thrown', () => {
    expectOtError(() => emd([1], [0.5, 0.25], [[0, 1]]), 'UNEQUAL_MASS', /different total masses/);
    const n = 6;
    const cost = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => ((i * 7 + j * 3) % 5) + (i === n - 1 - j ? 0 : 1)),
    );
    const u = new Array(n).fill(1 / n);
    const r = emd(u, u, cost, { maxPivots: 0 });
    expect(r.converged).toBe(false);
    expect(r.pivots).toBe(0);
    expect(emd(u, u, cost).converged).toBe(true);
    expectOtError(() => emd(u, u, cost, { maxPivots: -1 }), 'INVALID_OPTION', /maxPivots must be an integer >= 0/);
    expectOtError(() => emd(u, u, cost, { maxPivots: 2.5 }), 'INVALID_OPTION', /maxPivots must be an integer >= 0/);
  });

  it('routing settings are validated and restored', () => {
    expectOtError(
      () => configureRouting({ gpuMinEntries: -1 }),
      'INVALID_OPTION',
      /routing.gpuMinEntries must be a number >= 0/,
    );
    expectOtError(() => getRouting({ nope: 1 } as never), 'INVALID_OPTION', /routing.nope is not a routing setting/);
    configureRouting({ exactTolerance: 0.5 });
    expect(getRouting().exactTolerance).toBe(0.5);
    expect(getRouting({ exactTolerance: 0.25 }).exactTolerance).toBe(0.25);
    resetRouting();
    expect(getRouting().exactTolerance).toBe(1e-6);
  });
});
