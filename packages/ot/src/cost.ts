/**
 * The ground cost of point-cloud losses, geomloss's convention: C(x, y) = |x − y|^p / p (|·| Euclidean).
 * p = 2 gives ½|x − y|², p = 1 gives |x − y|. Gradients are taken with respect to the first argument:
 * ∇ₓC(x, y) = |x − y|^(p−2) · (x − y), defined as 0 at x = y for p <= 2 (geomloss's Sqrt0 convention for p = 1).
 */
import { OtInputError } from './errors.ts';

/** C from the squared Euclidean distance r2. */
export function costFromR2(r2: number, p: number): number {
  if (p === 2) return 0.5 * r2;
  if (p === 1) return Math.sqrt(r2);
  return Math.sqrt(r2) ** p / p;
}

/** The scalar factor s with ∇ₓC(x, y) = s · (x − y), from r2 = |x − y|². */
export function costGradFactor(r2: number, p: number): number {
  if (p === 2) return 1;
  if (r2 === 0) return 0;
  if (p === 1) return 1 / Math.sqrt(r2);
  return Math.sqrt(r2) ** (p - 2);
}

/** Validates the cost exponent p (finite, >= 1). */
export function checkCostExponent(p: number): void {
  if (!(Number.isFinite(p) && p >= 1)) {
    throw new OtInputError('INVALID_OPTION', `p must be a finite number >= 1, got ${p}`);
  }
}

/** Squared distance between point i of (x, d) and point j of (y, d). */
export function sqDist(x: Float64Array, i: number, y: Float64Array, j: number, d: number): number {
  let r2 = 0;
  const xo = i * d;
  const yo = j * d;
  for (let k = 0; k < d; k++) {
    const t = x[xo + k]! - y[yo + k]!;
    r2 += t * t;
  }
  return r2;
}

/** Dense cost matrix C[i, j] = C(x_i, y_j) (row-major n × m). */
export function costMatrix(x: Float64Array, n: number, y: Float64Array, m: number, d: number, p: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) c[i * m + j] = costFromR2(sqDist(x, i, y, j, d), p);
  }
  return c;
}
