/** Small numeric assertion helpers (all go through vitest's expect). */
import { expect } from 'vitest';

/** max_i |a_i − e_i| / max(max_i |e_i|, floor): the error relative to the reference's scale. */
export function scaledMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-300): number {
  expect(actual.length).toBe(expected.length);
  let err = 0;
  let scale = floor;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return err / scale;
}

/** Elementwise |a − e| <= atol + rtol·|e|, reporting the worst element. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol = 0,
  label = '',
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= worstExcess) || Number.isNaN(a)) {
      worstExcess = Number.isNaN(a) ? Number.POSITIVE_INFINITY : excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label} element ${worst}/${expected.length}: got ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
  expect(worst).toBe(-1);
}

/** |a − e| <= rtol·|e| + atol. */
export function expectNear(actual: number, expected: number, rtol: number, atol = 0, label = ''): void {
  const tol = atol + rtol * Math.abs(expected);
  if (!(Math.abs(actual - expected) <= tol)) {
    expect.fail(`${label}: got ${actual}, expected ${expected} (|diff| ${Math.abs(actual - expected)} > ${tol})`);
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol);
}

/** Units in the last place between two doubles (0 = bit-identical). */
export function ulpDistance(a: number, b: number): number {
  const buf = new DataView(new ArrayBuffer(16));
  buf.setFloat64(0, a);
  buf.setFloat64(8, b);
  const ia = buf.getBigInt64(0);
  const ib = buf.getBigInt64(8);
  const d = ia > ib ? ia - ib : ib - ia;
  return Number(d);
}

/**
 * fast-check run count honouring FC_NUM_RUNS (as @fairclip/compute/testing's propertyRuns): `base` by default,
 * FC_NUM_RUNS/100 × base when set.
 */
export function runs(base: number): number {
  const raw = process.env.FC_NUM_RUNS;
  return raw ? Math.max(1, Math.round((Number(raw) * base) / 100)) : base;
}
