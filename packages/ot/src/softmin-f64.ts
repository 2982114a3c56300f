/**
 * The float64 CPU soft-min seam: plain Float64Array potentials, the cost either materialised ('dense', geomloss's
 * "tensorized" backend) or recomputed on the fly ('online', linear memory). Also gives the envelope gradient of
 * the final extrapolation step: ∂/∂row_i of λ·softmin = λ · Σ_j π_ij ∇ₓC(row_i, col_j), π_i· = softmax_j(h_j − C_ij/ε).
 *
 * Dense mode also holds the kernels K = exp(−C/ε) of the current ε (same size as the cost matrices: memory doubles),
 * so a soft-min is a matrix–vector product plus m exponentials; rows where that sum could be hurt by underflow are
 * recomputed in the log domain (see logSumExpRows).
 */
import { costFromR2, costGradFactor, costMatrix, sqDist } from './cost.ts';
import type { PairKind, SoftminSeam } from './dual-loop.ts';
import type { Cloud } from './inputs.ts';
import { dot } from './linalg.ts';

/** geomloss `log_weights`: log w, with −100000 where w <= 0. */
export function logWeights(w: Float64Array): Float64Array {
  const out = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = w[i]! > 0 ? Math.log(w[i]!) : -100000;
  return out;
}

export type CostMode = 'dense' | 'online';

/**
 * Default largest max(N, M)² for which the dense mode is chosen automatically (4·10⁶ entries = 32 MB a matrix; up to 4
 * cost matrices and 4 kernels).
 */
export const DENSE_MAX_ENTRIES = 4_000_000;

function transpose(a: Float64Array, n: number, m: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < n; i++) {
    const off = i * m;
    for (let j = 0; j < m; j++) t[j * n + i] = a[off + j]!;
  }
  return t;
}

/**
 * A row sum Σ_j K_ij·E_j of the kernel path below this is recomputed in the log domain. Above it, the terms that
 * underflowed (each < 2⁻¹⁰⁷⁴ absolute, K_ij <= 1 and E_j <= 1) change the sum by less than m·1e-323/1e-200: the
 * kernel path then equals the log-domain log-sum-exp to rounding.
 */
const KERNEL_MIN_ROW_SUM = 1e-200;
/** When more than this fraction of a call's rows need the log domain, the kernel is dropped for that ε and below. */
const KERNEL_MAX_FALLBACK = 0.25;

type KernelGroup = 'cross' | 'xx' | 'yy';
const GROUP: Record<PairKind, KernelGroup> = { xy: 'cross', yx: 'cross', xx: 'xx', yy: 'yy' };

interface PairData {
  rows: Cloud;
  cols: Cloud;
  colLogW: Float64Array;
  rowW: Float64Array;
  cost?: Float64Array;
  /** K = exp(−C/ε) at ε = kernelEps (dense mode only; K <= 1 since C >= 0). */
  kernel?: Float64Array | undefined;
}

/** One problem (x, α) → (y, β) in float64. */
export class F64Seam implements SoftminSeam<Float64Array> {
  readonly mode: CostMode;
  private readonly pairs: Record<PairKind, PairData>;
  private readonly p: number;
  private readonly d: number;
  /** Scratch of length max(n, m): log-domain row values, column terms h, exp(h − max h), 1/row sum. */
  private readonly scratch: Float64Array;
  private readonly hBuf: Float64Array;
  private readonly eBuf: Float64Array;
  private readonly invBuf: Float64Array;
  /** ε of the kernels currently held per group (NaN: none). */
  private readonly kernelEps: Record<KernelGroup, number> = { cross: Number.NaN, xx: Number.NaN, yy: Number.NaN };
  /** The kernel path is off for ε <= this value (it needed the log domain for too many rows there). */
  private readonly kernelOffAt: Record<KernelGroup, number> = { cross: 0, xx: 0, yy: 0 };
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
      this.pairs.xy.cost = cxy;
      this.pairs.yx.cost = transpose(cxy, x.n, y.n);
      if (debias) {
        this.pairs.xx.cost = costMatrix(x.data, x.n, x.data, x.n, dd, p);
        this.pairs.yy.cost = costMatrix(y.data, y.n, y.data, y.n, dd, p);
      }
    }
    const len = Math.max(x.n, y.n);
    this.scratch = new Float64Array(len);
    this.hBuf = new Float64Array(len);
    this.eBuf = new Float64Array(len);
    this.invBuf = new Float64Array(len);
  }

  /**
   * The kernel K = exp(−C/ε) of `kind`'s group at this ε (built on first use, shared by xy and yx, symmetric
   * for xx and yy), or undefined where the group uses the log domain at this ε.
   */
  private kernelFor(kind: PairKind, eps: number): Float64Array | undefined {
    const pr = this.pairs[kind];
    const c = pr.cost;
    if (c === undefined) return undefined;
    const g = GROUP[kind];
    if (eps <= this.kernelOffAt[g]) return undefined;
    if (this.kernelEps[g] === eps && pr.kernel !== undefined) return pr.kernel;
    const n = pr.rows.n;
    const m = pr.cols.n;
    if (g === 'cross') {
      const xy = this.pairs.xy;
      const yx = this.pairs.yx;
      const cxy = xy.cost!;
      const nx = xy.rows.n;
      const ny = xy.cols.n;
      const kxy = xy.kernel ?? new Float64Array(nx * ny);
      const kyx = yx.kernel ?? new Float64Array(nx * ny);
      for (let i = 0; i < nx; i++) {
        const off = i * ny;
        for (let j = 0; j < ny; j++) {
          const k = Math.exp(-(cxy[off + j]! / eps));
          kxy[off + j] = k;
          kyx[j * nx + i] = k;
        }
      }
      xy.kernel = kxy;
      yx.kernel = kyx;
    } else {
      // C is exactly symmetric (same squared differences): one exp per pair.
      const k = pr.kernel ?? new Float64Array(n * m);
      for (let i = 0; i < n; i++) {
        const off = i * m;
        k[off + i] = Math.exp(-(c[off + i]! / eps));
        for (let j = i + 1; j < m; j++) {
          const v = Math.exp(-(c[off + j]! / eps));
          k[off + j] = v;
          k[j * m + i] = v;
        }
      }
      pr.kernel = k;
    }
    this.kernelEps[g] = eps;
    return pr.kernel;
  }

  private dropKernel(kind: PairKind, eps: number): void {
    const g = GROUP[kind];
    this.kernelOffAt[g] = Math.max(this.kernelOffAt[g], eps);
    this.kernelEps[g] = Number.NaN;
    if (g === 'cross') {
      this.pairs.xy.kernel = undefined;
      this.pairs.yx.kernel = undefined;
    } else {
      this.pairs[kind].kernel = undefined;
    }
  }

  /** Log-domain log-sum-exp of row i: v_j = h_j − C_ij/ε (the reference computation). */
  private lseRowLog(pr: PairData, i: number, eps: number, h: Float64Array): number {
    const m = pr.cols.n;
    const v = this.scratch;
    const c = pr.cost;
    let mx = Number.NEGATIVE_INFINITY;
    if (c !== undefined) {
      const off = i * m;
      for (let j = 0; j < m; j++) {
        const t = h[j]! - c[off + j]! / eps;
        v[j] = t;
        if (t > mx) mx = t;
      }
    } else {
      const d = this.d;
      const p = this.p;
      const xr = pr.rows.data;
      const yc = pr.cols.data;
      for (let j = 0; j < m; j++) {
        const t = h[j]! - costFromR2(sqDist(xr, i, yc, j, d), p) / eps;
        v[j] = t;
        if (t > mx) mx = t;
      }
    }
    if (mx === Number.NEGATIVE_INFINITY || mx === Number.POSITIVE_INFINITY || Number.isNaN(mx)) return mx;
    let s = 0;
    for (let j = 0; j < m; j++) s += Math.exp(v[j]! - mx);
    return mx + Math.log(s);
  }

  /**
   * h_j = log w_j + pot_j/ε (or log w_j), then per row v_ij = h_j − C_ij/ε; returns logsumexp_j v_ij in lse.
   * With a kernel K = exp(−C/ε) held for this ε, a row is Σ_j K_ij·exp(h_j − max h) (one product per entry, no exp);
   * rows whose sum is tiny (< KERNEL_MIN_ROW_SUM) or not finite are redone in the log domain. On return,
   * invBuf[i] = 1/row sum for kernel rows (NaN for log-domain rows), eBuf = exp(h − max h): softminWithGrad reuses
   * them. Returns max h where the kernel path ran, NaN otherwise.
   */
  private logSumExpRows(kind: PairKind, eps: number, pot: Float64Array | undefined, lse: Float64Array): number {
    const pr = this.pairs[kind];
    const n = pr.rows.n;
    const m = pr.cols.n;
    const h = this.hBuf;
    const lw = pr.colLogW;
    // Divisions, not multiplications by 1/ε: at FairCLIP's C/ε ≈ 1e16 the rounding of either matters, and geomloss
    // divides.
    let hmax = Number.NEGATIVE_INFINITY;
    if (pot === undefined) {
      for (let j = 0; j < m; j++) {
        const t = lw[j]!;
        h[j] = t;
        if (t > hmax) hmax = t;
      }
    } else {
      for (let j = 0; j < m; j++) {
        const t = lw[j]! + pot[j]! / eps;
        h[j] = t;
        if (t > hmax) hmax = t;
      }
    }
    this.softminCalls++;
    this.kernelEvaluations += n * m;
    const inv = this.invBuf;
    const K = Number.isFinite(hmax) ? this.kernelFor(kind, eps) : undefined;
    if (K === undefined) {
      for (let i = 0; i < n; i++) {
        lse[i] = this.lseRowLog(pr, i, eps, h);
        inv[i] = Number.NaN;
      }
      return Number.NaN;
    }
    const e = this.eBuf;
    for (let j = 0; j < m; j++) e[j] = Math.exp(h[j]! - hmax);
    let fallbacks = 0;
    for (let i = 0; i < n; i++) {
      const off = i * m;
      const s = dot(K, off, e, m);
      if (s >= KERNEL_MIN_ROW_SUM && s <= m) {
        lse[i] = hmax + Math.log(s);
        inv[i] = 1 / s;
      } else {
        lse[i] = this.lseRowLog(pr, i, eps, h);
        inv[i] = Number.NaN;
        fallbacks++;
      }
    }
    if (fallbacks > KERNEL_MAX_FALLBACK * n) this.dropKernel(kind, eps);
    return hmax;
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
    const hmax = this.logSumExpRows(kind, eps, pot, lse);
    // The kernel (if the lse pass used one) is still held: π_ij = K_ij·exp(h_j − max h)/s_i on kernel rows.
    const K = Number.isNaN(hmax) ? undefined : pr.kernel;
    const value = new Float64Array(n);
    const grad = new Float64Array(n * d);
    const h = this.hBuf;
    const e = this.eBuf;
    const inv = this.invBuf;
    const xr = pr.rows.data;
    const yc = pr.cols.data;
    const c = pr.cost;
    const acc = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      value[i] = damping * (-eps * lse[i]!);
      acc.fill(0);
      const off = i * m;
      const li = lse[i]!;
      const si = inv[i]!;
      const kernelRow = K !== undefined && !Number.isNaN(si);
      for (let j = 0; j < m; j++) {
        const w = kernelRow
          ? K[off + j]! * e[j]! * si
          : Math.exp(h[j]! - (c !== undefined ? c[off + j]! : costFromR2(sqDist(xr, i, yc, j, d), p)) / eps - li);
        if (w === 0) continue;
        const s = p === 2 ? w : w * costGradFactor(sqDist(xr, i, yc, j, d), p);
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
