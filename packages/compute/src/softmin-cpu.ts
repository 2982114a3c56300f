/**
 * Soft-min over the implicit cost C(x, y) = |x − y|^p / p, on plain arrays, in float64.
 *
 *   f_i = −ε · log Σ_j exp(h_j − C(x_i, y_j) / ε)
 *
 * Two implementations that share nothing but the formula:
 *  - `softminReference`: the textbook two-pass log-sum-exp (max, then sum) — the reference tests compare with;
 *  - `softminOnlineF64`: the one-pass online log-sum-exp the cpu/wasm kernels run (same algorithm as the WGSL kernel).
 */
import { InvalidArgumentError } from './errors.ts';

type NumArray = ArrayLike<number>;

/** Validates the scalar parameters shared by every softmin entry point. */
export function checkSoftminParams(eps: number, p: number): void {
  if (!(Number.isFinite(eps) && eps > 0)) {
    throw new InvalidArgumentError(`softmin: eps must be a finite number > 0, got ${eps}`);
  }
  if (!(Number.isFinite(p) && p > 0)) {
    throw new InvalidArgumentError(`softmin: p must be a finite number > 0, got ${p}`);
  }
}

/** C(x, y) = |x − y|^p / p from the squared Euclidean distance r2 = |x − y|². */
export function costFromSquaredDistance(r2: number, p: number): number {
  if (p === 2) return 0.5 * r2;
  if (p === 1) return Math.sqrt(r2);
  return Math.sqrt(r2) ** p / p;
}

/**
 * Float64 reference soft-min on plain row-major arrays: x is n×d, y is m×d, h has m entries.
 * Two passes (max, then sum of exponentials): straightforward, not fast. With m = 0 every f_i is +∞.
 */
export function softminReference(
  x: NumArray,
  y: NumArray,
  h: NumArray,
  n: number,
  m: number,
  d: number,
  eps: number,
  p = 2,
): Float64Array {
  checkSoftminParams(eps, p);
  for (const [name, v] of [
    ['n', n],
    ['m', m],
    ['d', d],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 0))
      throw new InvalidArgumentError(`softminReference: ${name} must be an integer >= 0, got ${v}`);
  }
  if (x.length !== n * d)
    throw new InvalidArgumentError(`softminReference: x has ${x.length} values, expected n*d = ${n * d}`);
  if (y.length !== m * d)
    throw new InvalidArgumentError(`softminReference: y has ${y.length} values, expected m*d = ${m * d}`);
  if (h.length !== m) throw new InvalidArgumentError(`softminReference: h has ${h.length} values, expected m = ${m}`);
  const out = new Float64Array(n);
  const v = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    let hasNaN = false;
    for (let j = 0; j < m; j++) {
      let r2 = 0;
      for (let k = 0; k < d; k++) {
        const diff = x[i * d + k]! - y[j * d + k]!;
        r2 += diff * diff;
      }
      v[j] = h[j]! - costFromSquaredDistance(r2, p) / eps;
      if (Number.isNaN(v[j]!)) hasNaN = true;
    }
    if (hasNaN) {
      out[i] = Number.NaN;
      continue;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < m; j++) if (v[j]! > max) max = v[j]!;
    if (max === Number.NEGATIVE_INFINITY) {
      out[i] = Number.POSITIVE_INFINITY; // empty sum (m = 0 or every term is exp(−∞))
      continue;
    }
    if (max === Number.POSITIVE_INFINITY) {
      out[i] = Number.NEGATIVE_INFINITY;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < m; j++) sum += Math.exp(v[j]! - max);
    out[i] = -eps * (max + Math.log(sum));
  }
  return out;
}

/**
 * Batched one-pass online soft-min in float64 (the cpu/wasm kernel body). x: [b, n, d], y: [b, m, d], h: [b, m],
 * out: [b, n]. The running maximum starts at −∞; a term equal to the maximum adds exactly 1, so +∞ and −∞ entries
 * of h behave as in the two-pass reference and NaN propagates.
 */
export function softminOnlineF64(
  x: NumArray,
  y: NumArray,
  h: NumArray,
  b: number,
  n: number,
  m: number,
  d: number,
  eps: number,
  p: number,
  out: Float32Array | Float64Array,
): void {
  const invEps = 1 / eps;
  const xi = new Float64Array(d);
  for (let bb = 0; bb < b; bb++) {
    const yOff = bb * m * d;
    const hOff = bb * m;
    for (let i = 0; i < n; i++) {
      const xOff = (bb * n + i) * d;
      for (let k = 0; k < d; k++) xi[k] = x[xOff + k]!;
      let mx = Number.NEGATIVE_INFINITY;
      let s = 0;
      for (let j = 0; j < m; j++) {
        let r2 = 0;
        const yj = yOff + j * d;
        for (let k = 0; k < d; k++) {
          const diff = xi[k]! - y[yj + k]!;
          r2 += diff * diff;
        }
        const c = p === 2 ? 0.5 * r2 : p === 1 ? Math.sqrt(r2) : Math.sqrt(r2) ** p / p;
        const v = h[hOff + j]! - c * invEps;
        if (v > mx) {
          s = s * Math.exp(mx - v) + 1;
          mx = v;
        } else if (v === mx) {
          s += 1;
        } else {
          s += Math.exp(v - mx); // NaN v (or NaN mx) makes s NaN
        }
      }
      out[bb * n + i] = s === 0 ? Number.POSITIVE_INFINITY : -eps * (mx + Math.log(s));
    }
  }
}
