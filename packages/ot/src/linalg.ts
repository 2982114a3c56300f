/** Row kernels of the float64 CPU solvers (flat row-major Float64Array matrices). */

/** Σ_j a[off + j]·b[j] for j < m, with four independent partial sums (the adds are not one serial chain). */
export function dot(a: Float64Array, off: number, b: Float64Array, m: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const m4 = m - (m % 4);
  let j = 0;
  for (; j < m4; j += 4) {
    s0 += a[off + j]! * b[j]!;
    s1 += a[off + j + 1]! * b[j + 1]!;
    s2 += a[off + j + 2]! * b[j + 2]!;
    s3 += a[off + j + 3]! * b[j + 3]!;
  }
  for (; j < m; j++) s0 += a[off + j]! * b[j]!;
  return s0 + s1 + (s2 + s3);
}

/** out[j] += a[off + j]·w for j < m. */
export function axpy(out: Float64Array, a: Float64Array, off: number, w: number, m: number): void {
  for (let j = 0; j < m; j++) out[j] = out[j]! + a[off + j]! * w;
}
