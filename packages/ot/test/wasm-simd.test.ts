/**
 * The WebAssembly SIMD kernels (src/wasm-simd.ts) against plain float64 references: the vectorised exp against
 * Math.exp (ulp distance, subnormal and underflow edges included), and the row kernels against serial loops on odd
 * sizes (padded stride, row tails).
 */
import { describe, expect, it } from 'vitest';
import { paddedCols, SimdArena, simdAvailable } from '../src/wasm-simd.ts';

const MIN_NORMAL = 2.2250738585072014e-308;

function ulpDistance(got: number, want: number): number {
  if (got === want) return 0;
  const ulp = Math.abs(want) >= MIN_NORMAL ? Math.abs(want) * Number.EPSILON : 5e-324;
  return Math.abs(got - want) / ulp;
}

describe('wasm SIMD kernels', () => {
  it('are available in Node 20', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('expDiv is within 2 ulp of Math.exp on [−760, 709], 0 below the underflow, exact at 0', () => {
    const n = 200_001;
    const arena = SimdArena.create([n, n])!;
    const src = arena.buf(0);
    const dst = arena.buf(1);
    for (let k = 0; k < n; k++) src.view[k] = -760 + (1469 * k) / (n - 1);
    const edges = [Number.NEGATIVE_INFINITY, -0, 0, -745.2, -745.1, -708.4, -708.3, -1e-300, 709.7, -1074 * Math.LN2];
    edges.forEach((e, k) => {
      src.view[k] = e;
    });
    for (const d of [1, -1, 0.05]) {
      arena.fns.expDiv(src.ptr, dst.ptr, src.view.length * 8, d);
      let worst = 0;
      let checked = 0;
      for (let k = 0; k < n; k++) {
        const x = src.view[k]! / d;
        if (x > 709) continue; // outside the documented domain (clamped); the solvers only need x <= 0
        if (x < -746) expect(dst.view[k]).toBe(0);
        else {
          worst = Math.max(worst, ulpDistance(dst.view[k]!, Math.exp(x)));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(n / 100);
      expect(worst).toBeLessThanOrEqual(2);
    }
    arena.fns.expDiv(src.ptr, dst.ptr, src.view.length * 8, 1);
    expect(dst.view[0]).toBe(0); // exp(−∞)
    expect(dst.view[1]).toBe(1);
    expect(dst.view[2]).toBe(1);
  });

  it('knoppPass, matvec and matvecT equal serial row loops (odd sizes, padded stride)', () => {
    for (const [n, m] of [
      [1, 1],
      [7, 5],
      [9, 12],
      [33, 17],
    ] as const) {
      const mp = paddedCols(m);
      const arena = SimdArena.create([n * mp, mp, n, n, mp, n])!;
      const [K, v, a, u, ktu, out] = [0, 1, 2, 3, 4, 5].map((k) => arena.buf(k));
      let s = 12345;
      const rnd = () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return 0.01 + s / 2 ** 32;
      };
      for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) K!.view[i * mp + j] = rnd();
      for (let j = 0; j < m; j++) v!.view[j] = rnd();
      for (let i = 0; i < n; i++) a!.view[i] = rnd();
      arena.fns.knoppPass(K!.ptr, v!.ptr, a!.ptr, u!.ptr, ktu!.ptr, n, mp);
      arena.fns.matvec(K!.ptr, v!.ptr, 0, out!.ptr, 0, n, mp);
      const refKtu = new Float64Array(m);
      for (let i = 0; i < n; i++) {
        let dot = 0;
        for (let j = 0; j < m; j++) dot += K!.view[i * mp + j]! * v!.view[j]!;
        expect(Math.abs(out!.view[i]! - dot)).toBeLessThanOrEqual(1e-15 * dot * m);
        const ui = a!.view[i]! / dot;
        expect(Math.abs(u!.view[i]! - ui)).toBeLessThanOrEqual(1e-15 * ui * m);
        for (let j = 0; j < m; j++) refKtu[j] = refKtu[j]! + K!.view[i * mp + j]! * ui;
      }
      for (let j = 0; j < m; j++) expect(Math.abs(ktu!.view[j]! - refKtu[j]!)).toBeLessThanOrEqual(1e-14 * refKtu[j]!);
      ktu!.view.fill(0);
      arena.fns.matvecT(K!.ptr, a!.ptr, 0, ktu!.ptr, 0, n, mp);
      for (let j = 0; j < m; j++) {
        let col = 0;
        for (let i = 0; i < n; i++) col += K!.view[i * mp + j]! * a!.view[i]!;
        expect(Math.abs(ktu!.view[j]! - col)).toBeLessThanOrEqual(1e-15 * col * n);
      }
      if (mp > m) expect(ktu!.view[m]).toBe(0); // the pad column stays 0
    }
  });
});
