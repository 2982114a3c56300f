/**
 * The float64 CPU soft-min seam: plain Float64Array potentials, the cost either materialised ('dense', geomloss's
 * "tensorized" backend) or recomputed on the fly ('online', linear memory). Also gives the envelope gradient of
 * the final extrapolation step: ∂/∂row_i of λ·softmin = λ · Σ_j π_ij ∇ₓC(row_i, col_j), π_i· = softmax_j(h_j − C_ij/ε).
 */
import { costFromR2, costGradFactor, costMatrix, sqDist } from './cost.ts';
import type { PairKind, SoftminSeam } from './dual-loop.ts';
import type { Cloud } from './inputs.ts';

/** geomloss `log_weights`: log w, with −100000 where w <= 0. */
export function logWeights(w: Float64Array): Float64Array {
  const out = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = w[i]! > 0 ? Math.log(w[i]!) : -100000;
  return out;
}

export type CostMode = 'dense' | 'online';

/** Default largest max(N, M)² for which the dense mode is chosen automatically (4·10⁶ entries = 32 MB a matrix). */
export const DENSE_MAX_ENTRIES = 4_000_000;

interface PairData {
  rows: Cloud;
  cols: Cloud;
  colLogW: Float64Array;
  rowW: Float64Array;
  cost?: Float64Array;
}

/** One problem (x, α) → (y, β) in float64. */
export class F64Seam implements SoftminSeam<Float64Array> {
  readonly mode: CostMode;
  private readonly pairs: Record<PairKind, PairData>;
  private readonly p: number;
  private readonly d: number;
  private scratch: Float64Array;
  /** Number of soft-min evaluations (each one is rows × cols kernel evaluations). */
  softminCalls = 0;
  kernelEvaluations = 0;

  constructor(
    x: Cloud,
    a: Float64Array,
    y: Cloud,
    b: Float64Array,
    p: number,
    debias: boolean,
    mode?: CostMode,
    denseMaxEntries = DENSE_MAX_ENTRIES,
  ) {
    this.p = p;
    this.d = x.d;
    const la = logWeights(a);
    const lb = logWeights(b);
    this.mode = mode ?? (Math.max(x.n, y.n) ** 2 <= denseMaxEntries ? 'dense' : 'online');
    this.pairs = {
      xx: { rows: x, cols: x, colLogW: la, rowW: a },
      yy: { rows: y, cols: y, colLogW: lb, rowW: b },
      xy: { rows: x, cols: y, colLogW: lb, rowW: a },
      yx: { rows: y, cols: x, colLogW: la, rowW: b },
    };
    if (this.mode === 'dense') {
      const dd = this.d;
      const cxy = costMatrix(x.data, x.n, y.data, y.n, dd, p);
      const cyx = new Float64Array(y.n * x.n);
      for (let i = 0; i < x.n; i++) for (let j = 0; j < y.n; j++) cyx[j * x.n + i] = cxy[i * y.n + j]!;
      this.pairs.xy.cost = cxy;
      this.pairs.yx.cost = cyx;
      if (debias) {
        this.pairs.xx.cost = costMatrix(x.data, x.n, x.data, x.n, dd, p);
        this.pairs.yy.cost = costMatrix(y.data, y.n, y.data, y.n, dd, p);
      }
    }
    this.scratch = new Float64Array(Math.max(x.n, y.n));
  }

  /** h_j = log w_j + pot_j/ε (or log w_j), then per row v_ij = h_j − C_ij/ε; returns logsumexp_j v_ij in lse. */
  private logSumExpRows(kind: PairKind, eps: number, pot: Float64Array | undefined, lse: Float64Array): void {
    const pr = this.pairs[kind];
    const n = pr.rows.n;
    const m = pr.cols.n;
    const h = new Float64Array(m);
    // Divisions, not multiplications by 1/ε: at FairCLIP's C/ε ≈ 1e16 the rounding of either matters, and geomloss
    // divides.
    for (let j = 0; j < m; j++) h[j] = pot === undefined ? pr.colLogW[j]! : pr.colLogW[j]! + pot[j]! / eps;
    const v = this.scratch;
    const c = pr.cost;
    const d = this.d;
    const p = this.p;
    const xr = pr.rows.data;
    const yc = pr.cols.data;
    for (let i = 0; i < n; i++) {
      let mx = Number.NEGATIVE_INFINITY;
      if (c !== undefined) {
        const off = i * m;
        for (let j = 0; j < m; j++) {
          const t = h[j]! - c[off + j]! / eps;
          v[j] = t;
          if (t > mx) mx = t;
        }
      } else {
        for (let j = 0; j < m; j++) {
          const t = h[j]! - costFromR2(sqDist(xr, i, yc, j, d), p) / eps;
          v[j] = t;
          if (t > mx) mx = t;
        }
      }
      if (mx === Number.NEGATIVE_INFINITY || mx === Number.POSITIVE_INFINITY || Number.isNaN(mx)) {
        lse[i] = mx;
        continue;
      }
      let s = 0;
      for (let j = 0; j < m; j++) s += Math.exp(v[j]! - mx);
      lse[i] = mx + Math.log(s);
    }
    this.softminCalls++;
    this.kernelEvaluations += n * m;
  }

  softmin(kind: PairKind, eps: number, damping: number, pot?: Float64Array): Float64Array {
    const n = this.pairs[kind].rows.n;
    const out = new Float64Array(n);
    this.logSumExpRows(kind, eps, pot, out);
    for (let i = 0; i < n; i++) out[i] = damping * (-eps * out[i]!);
    return out;
  }

  /**
   * The soft-min and its gradient with respect to the row points (columns held fixed, potentials detached):
   * grad[i·d + k] = λ · Σ_j π_ij · ∇ₓC(row_i, col_j)_k.
   */
  softminWithGrad(
    kind: PairKind,
    eps: number,
    damping: number,
    pot?: Float64Array,
  ): { value: Float64Array; grad: Float64Array } {
    const pr = this.pairs[kind];
    const n = pr.rows.n;
    const m = pr.cols.n;
    const d = this.d;
    const p = this.p;
    const lse = new Float64Array(n);
    this.logSumExpRows(kind, eps, pot, lse);
    const value = new Float64Array(n);
    const grad = new Float64Array(n * d);
    const h = new Float64Array(m);
    for (let j = 0; j < m; j++) h[j] = pot === undefined ? pr.colLogW[j]! : pr.colLogW[j]! + pot[j]! / eps;
    const xr = pr.rows.data;
    const yc = pr.cols.data;
    const c = pr.cost;
    const acc = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      value[i] = damping * (-eps * lse[i]!);
      acc.fill(0);
      for (let j = 0; j < m; j++) {
        const r2 = sqDist(xr, i, yc, j, d);
        const cij = c !== undefined ? c[i * m + j]! : costFromR2(r2, p);
        const w = Math.exp(h[j]! - cij / eps - lse[i]!);
        if (w === 0) continue;
        const s = w * costGradFactor(r2, p);
        for (let k = 0; k < d; k++) acc[k] = acc[k]! + s * (xr[i * d + k]! - yc[j * d + k]!);
      }
      for (let k = 0; k < d; k++) grad[i * d + k] = damping * acc[k]!;
    }
    return { value, grad };
  }

  average(a: Float64Array, b: Float64Array): Float64Array {
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = 0.5 * (a[i]! + b[i]!);
    return out;
  }

  mix(a: Float64Array, b: Float64Array, w: number): Float64Array {
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = (1 - w) * a[i]! + w * b[i]!;
    return out;
  }

  residual(kind: PairKind, old: Float64Array, updated: Float64Array, eps: number): number {
    const w = this.pairs[kind].rowW;
    let r = 0;
    for (let i = 0; i < old.length; i++) {
      if (w[i]! > 0) r += w[i]! * Math.abs(Math.expm1((old[i]! - updated[i]!) / eps));
    }
    return r;
  }
}
