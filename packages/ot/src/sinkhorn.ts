/**
 * Sinkhorn on an explicit cost matrix (POT's role), float64 on the CPU.
 *
 * Problem (balanced): min_P ⟨P, C⟩ + ε·KL(P | a⊗b) subject to P1 = a, Pᵀ1 = b. The plan is the same as POT's
 * (which regularises with Σ P log P: the two objectives differ by the constant ε(H(a) + H(b)) on the constraint set).
 *
 * Iterations follow POT 0.8 exactly, so plans, `niter` and error histories can be compared with it:
 *  - 'standard' = `ot.sinkhorn(method='sinkhorn')` (sinkhorn_knopp): u = v = 1/dim, K = exp(−C/ε);
 *    each iteration v = b / Kᵀu then u = a / Kv (rows exact after each iteration); on a zero/NaN/∞ scaling the
 *    previous iterate is restored and the loop stops ("numerical errors").
 *  - 'log' = `ot.sinkhorn(method='sinkhorn_log')`: the same updates on log-scalings with log-sum-exp, from 0.
 *  Every 10 iterations (0, 10, 20, …): err = ‖Σ_i P_ij − b_j‖₂ (column-marginal violation), stop when < tol.
 */
import { OtInputError } from './errors.ts';
import {
  checkEpsilon,
  checkEqualMass,
  checkInteger,
  checkPositive,
  type MatrixInput,
  sum,
  toMatrix,
  toWeights,
} from './inputs.ts';
import { axpy, dot } from './linalg.ts';
import { paddedCols, SimdArena } from './wasm-simd.ts';

export type SinkhornMethod = 'standard' | 'log';

export interface SinkhornOptions {
  /** 'log' (default; stable for any ε) or 'standard' (scaling domain, fast, underflows when C/ε is large). */
  method?: SinkhornMethod;
  /** Iteration budget (POT numItermax, default 1000). */
  maxIter?: number;
  /** Stopping threshold on the L2 column-marginal error (POT stopThr, default 1e-9). */
  tol?: number;
  /**
   * ε-scaling (log method only): solve at ε_k = max(start · scaling^k, ε) for k = 0, 1, … warm-starting each stage
   * from the previous potentials; intermediate stages stop at `stageTol` (default 1e-3·mass) or `stageMaxIter`
   * (default 100) iterations. `start` defaults to max C − min C.
   */
  epsScaling?: { scaling?: number; start?: number; stageTol?: number; stageMaxIter?: number };
  /** Relative tolerance on |Σa − Σb| (default 1e-6). */
  massTolerance?: number;
}

export interface SinkhornResult {
  /** Transport plan, row-major rows × cols. */
  plan: Float64Array;
  rows: number;
  cols: number;
  /** Dual potentials in the KL convention: P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε). */
  f: Float64Array;
  g: Float64Array;
  /** POT's log-scalings: P_ij = exp(logU_i − C_ij/ε + logV_j) (POT log['log_u'], log['log_v']). */
  logU: Float64Array;
  logV: Float64Array;
  /** ⟨P, C⟩: the linear part, what POT's `sinkhorn2` returns. */
  transportCost: number;
  /** The KL-regularised primal value ⟨P, C⟩ + ε·KL(P | a⊗b) (geomloss/OTT convention, KL = Σ P log(P/ab) − ΣP + Σab). */
  value: number;
  /** Dual value ⟨a, f⟩ + ⟨b, g⟩ (equals `value` at convergence). */
  dualValue: number;
  /** Column-marginal error ‖Pᵀ1 − b‖₂ of the returned plan (POT measures it only every 10 iterations: see errors). */
  marginalError: number;
  /** Row-marginal error ‖P1 − a‖₂ of the returned plan. */
  rowMarginalError: number;
  /** Errors measured at iterations 0, 10, 20, … (POT log['err']). */
  errors: number[];
  /** Iterations run (POT's `niter` + 1). */
  iterations: number;
  /** POT's `niter`: index of the last iteration run, counting from 0. */
  niter: number;
  /** true when the error fell below tol. Never hidden: check it. */
  converged: boolean;
  /** POT-style warnings ('numerical errors at iteration k', 'did not converge'). */
  warnings: string[];
  epsilon: number;
}

/** Solves entropic OT between histograms a, b with cost C. See the module comment for the conventions. */
export function sinkhorn(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  cost: MatrixInput,
  eps: number,
  options: SinkhornOptions = {},
): SinkhornResult {
  const C = toMatrix('cost', cost);
  const wa = toWeights('a', a, C.rows);
  const wb = toWeights('b', b, C.cols);
  checkEpsilon('eps', eps);
  checkEqualMass(wa, wb, options.massTolerance ?? 1e-6);
  const method = options.method ?? 'log';
  const maxIter = options.maxIter ?? 1000;
  const tol = options.tol ?? 1e-9;
  checkInteger('maxIter', maxIter, 1);
  if (!(tol >= 0)) throw new OtInputError('INVALID_OPTION', `tol must be >= 0, got ${tol}`);
  if (method !== 'standard' && method !== 'log') {
    throw new OtInputError('INVALID_OPTION', `method must be 'standard' or 'log', got ${String(method).slice(0, 40)}`);
  }
  checkCostScale(C.data, eps, method);
  if (method === 'standard') {
    if (options.epsScaling) {
      throw new OtInputError('INVALID_OPTION', "epsScaling needs method 'log' (the scaling domain underflows)");
    }
    const simd = knoppSimd(wa, wb, C.data, C.rows, C.cols, eps, maxIter, tol);
    if (simd !== undefined) {
      return checkFinite(finish(simd.raw, wa, wb, C.data, C.rows, C.cols, eps, simd.scalings));
    }
    return checkFinite(
      finish(knopp(wa, wb, C.data, C.rows, C.cols, eps, maxIter, tol), wa, wb, C.data, C.rows, C.cols, eps),
    );
  }
  let init: { logU: Float64Array; logV: Float64Array } | undefined;
  let extraIters = 0;
  if (options.epsScaling) {
    const es = options.epsScaling;
    const scaling = es.scaling ?? 0.5;
    if (!(scaling > 0 && scaling < 1)) {
      throw new OtInputError('INVALID_OPTION', `epsScaling.scaling must be in (0, 1), got ${scaling}`);
    }
    let cmin = Number.POSITIVE_INFINITY;
    let cmax = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < C.data.length; k++) {
      cmin = Math.min(cmin, C.data[k]!);
      cmax = Math.max(cmax, C.data[k]!);
    }
    const start = es.start ?? Math.max(cmax - cmin, eps);
    checkPositive('epsScaling.start', start);
    const stageTol = es.stageTol ?? 1e-3 * sum(wa);
    const stageMaxIter = es.stageMaxIter ?? 100;
    const la = wa.map(Math.log);
    const lb = wb.map(Math.log);
    for (let e = start; e > eps; e *= scaling) {
      // The dual potentials f = ε(logU − log a), g = ε(logV − log b) carry over between stages (they converge as
      // ε decreases, the log-scalings do not): logU_next = f/ε_next + log a.
      const stage = logDomain(wa, wb, C.data, C.rows, C.cols, e, stageMaxIter, stageTol, init);
      extraIters += stage.niter + 1;
      const next = Math.max(e * scaling, eps);
      init = {
        logU: stage.logU.map((v, i) => (wa[i]! > 0 ? (e * (v - la[i]!)) / next + la[i]! : v)),
        logV: stage.logV.map((v, j) => (wb[j]! > 0 ? (e * (v - lb[j]!)) / next + lb[j]! : v)),
      };
    }
  }
  const res = finish(
    logDomain(wa, wb, C.data, C.rows, C.cols, eps, maxIter, tol, init),
    wa,
    wb,
    C.data,
    C.rows,
    C.cols,
    eps,
  );
  res.iterations += extraIters;
  return checkFinite(res);
}

/** A number for an error message, bounded in length. */
function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : String(v);
}

/**
 * Refuses costs whose scale overflows float64 up front: C/ε must be finite (both methods divide by ε), and for
 * 'standard' exp(−C/ε) must be finite (−C/ε <= ln(MAX_VALUE) ≈ 709.78; negative costs far below 0 overflow K).
 * Underflow (large C/ε) is not refused: 'standard' reports it as POT does ('numerical errors'), 'log' handles it.
 */
function checkCostScale(c: Float64Array, eps: number, method: SinkhornMethod): void {
  let cmin = Number.POSITIVE_INFINITY;
  let amax = 0;
  for (let k = 0; k < c.length; k++) {
    const v = c[k]!;
    if (v < cmin) cmin = v;
    const av = Math.abs(v);
    if (av > amax) amax = av;
  }
  if (!Number.isFinite(amax / eps)) {
    throw new OtInputError(
      'INVALID_EPSILON',
      `C/ε overflows float64 (largest |C| ${fmt(amax)}, ε ${fmt(eps)}): use a larger eps or rescale the cost matrix`,
    );
  }
  if (method === 'standard' && -cmin / eps > Math.log(Number.MAX_VALUE)) {
    throw new OtInputError(
      'INVALID_EPSILON',
      `method 'standard' overflows: exp(−C/ε) is infinite for C = ${fmt(cmin)} at ε = ${fmt(eps)}; ` +
        "use method 'log', a larger eps, or shift the cost (C − min C gives the same plan)",
    );
  }
}

/** Throws instead of returning a non-finite value or plan (never a silent Infinity or NaN with converged true). */
function checkFinite(r: SinkhornResult): SinkhornResult {
  let bad = !(Number.isFinite(r.value) && Number.isFinite(r.transportCost) && Number.isFinite(r.dualValue));
  for (let k = 0; !bad && k < r.plan.length; k++) if (!Number.isFinite(r.plan[k]!)) bad = true;
  if (bad) {
    throw new OtInputError(
      'NON_FINITE_RESULT',
      `sinkhorn: the result is not finite in float64 (⟨P, C⟩ ${fmt(r.transportCost)}, value ${fmt(r.value)}, ` +
        `ε ${fmt(r.epsilon)}); rescale the cost matrix (e.g. divide it by its largest entry, and eps likewise)`,
    );
  }
  return r;
}

interface RawResult {
  logU: Float64Array;
  logV: Float64Array;
  errors: number[];
  niter: number;
  converged: boolean;
  warnings: string[];
}

function colErr(
  logU: Float64Array,
  logV: Float64Array,
  c: Float64Array,
  n: number,
  m: number,
  eps: number,
  b: Float64Array,
): number {
  const col = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const off = i * m;
    for (let j = 0; j < m; j++) col[j] = col[j]! + Math.exp(logU[i]! - c[off + j]! / eps + logV[j]!);
  }
  let s = 0;
  for (let j = 0; j < m; j++) s += (col[j]! - b[j]!) ** 2;
  return Math.sqrt(s);
}

/**
 * POT's sinkhorn_knopp with one pass over K per iteration: the row pass u_i = a_i / (K v)_i also accumulates
 * Kᵀu (row i of K is still in cache) for the next iteration's v = b / Kᵀu, so no transposed copy of K is needed
 * (the sums over i run in the same order as a column-wise pass).
 */
function knopp(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  n: number,
  m: number,
  eps: number,
  maxIter: number,
  tol: number,
): RawResult {
  const K = new Float64Array(n * m);
  for (let k = 0; k < n * m; k++) K[k] = Math.exp(c[k]! / -eps);
  let u = new Float64Array(n).fill(1 / n);
  let v = new Float64Array(m).fill(1 / m);
  // Double buffers: (u, v) are restored on numerical errors, as POT does.
  let nu = new Float64Array(n);
  let nv = new Float64Array(m);
  let ktu = new Float64Array(m);
  let nktu = new Float64Array(m);
  for (let i = 0; i < n; i++) axpy(ktu, K, i * m, u[i]!, m);
  const errors: number[] = [];
  const warnings: string[] = [];
  let converged = false;
  let ii = 0;
  for (ii = 0; ii < maxIter; ii++) {
    let bad = false;
    for (let j = 0; j < m; j++) {
      const s = ktu[j]!;
      if (s === 0) bad = true;
      nv[j] = b[j]! / s;
    }
    nktu.fill(0);
    let i = 0;
    for (; i + 4 <= n; i += 4) rowBlock4(K, i, m, nv, a, nu, nktu);
    for (; i < n; i++) {
      const off = i * m;
      const ui = a[i]! / dot(K, off, nv, m);
      nu[i] = ui;
      axpy(nktu, K, off, ui, m);
    }
    for (let i = 0; i < n && !bad; i++) if (!Number.isFinite(nu[i]!)) bad = true;
    for (let j = 0; j < m && !bad; j++) if (!Number.isFinite(nv[j]!)) bad = true;
    if (bad) {
      warnings.push(`numerical errors at iteration ${ii}`);
      break;
    }
    [u, nu] = [nu, u];
    [v, nv] = [nv, v];
    [ktu, nktu] = [nktu, ktu];
    if (ii % 10 === 0) {
      // Column marginals Σ_i u_i K_ij v_j = v_j (Kᵀu)_j.
      let s = 0;
      for (let j = 0; j < m; j++) s += (v[j]! * ktu[j]! - b[j]!) ** 2;
      const err = Math.sqrt(s);
      errors.push(err);
      if (err < tol) {
        converged = true;
        break;
      }
    }
  }
  if (ii === maxIter) {
    ii = maxIter - 1;
    warnings.push('did not converge within maxIter iterations (increase maxIter or eps)');
  }
  const logU = u.map(Math.log);
  const logV = v.map(Math.log);
  return { logU, logV, errors, niter: ii, converged, warnings };
}

/** The scaling-domain solution: the plan is u_i·K_ij·v_j, as POT builds it (no exponential per entry). */
interface Scalings {
  K: Float64Array;
  /** Row stride of K (>= m). */
  stride: number;
  u: Float64Array;
  v: Float64Array;
}

/**
 * `knopp` on the WebAssembly SIMD kernels (wasm-simd.ts): K = exp(C/(−ε)) vectorised, then per iteration one fused
 * pass over K (u = a / Kv row by row, accumulating Kᵀu for the next v = b / Kᵀu), no allocation in the loop, the
 * error every 10 iterations from v·Kᵀu (m operations). Same iterates, warnings and stopping rule as `knopp`; sums
 * split over two lanes round differently (relative 1e-16). Undefined where SIMD is unavailable or K is too large for
 * one WebAssembly memory.
 */
function knoppSimd(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  n: number,
  m: number,
  eps: number,
  maxIter: number,
  tol: number,
): { raw: RawResult; scalings: Scalings } | undefined {
  const mp = paddedCols(m);
  const arena = SimdArena.create([n * mp, n, n, n, mp, mp, mp, mp]);
  if (arena === undefined) return undefined;
  const K = arena.buf(0);
  const A = arena.buf(1);
  let U = arena.buf(2);
  let NU = arena.buf(3);
  let V = arena.buf(4);
  let NV = arena.buf(5);
  let KTU = arena.buf(6);
  let NKTU = arena.buf(7);
  const kv = K.view;
  if (mp === m) kv.set(c);
  else {
    // Pad columns: C = +∞ gives K = 0 (and v = 0 there), so they add nothing to any sum.
    for (let i = 0; i < n; i++) {
      kv.set(c.subarray(i * m, (i + 1) * m), i * mp);
      kv[i * mp + m] = Number.POSITIVE_INFINITY;
    }
  }
  arena.fns.expDiv(K.ptr, K.ptr, n * mp * 8, -eps);
  A.view.set(a);
  U.view.fill(1 / n, 0, n);
  V.view.fill(1 / m, 0, m);
  arena.fns.matvecT(K.ptr, U.ptr, 0, KTU.ptr, 0, n, mp);
  const errors: number[] = [];
  const warnings: string[] = [];
  let converged = false;
  let ii = 0;
  for (ii = 0; ii < maxIter; ii++) {
    let bad = false;
    const nv = NV.view;
    const ktu = KTU.view;
    for (let j = 0; j < m; j++) {
      const s = ktu[j]!;
      if (s === 0) bad = true;
      nv[j] = b[j]! / s;
    }
    NKTU.view.fill(0);
    arena.fns.knoppPass(K.ptr, NV.ptr, A.ptr, NU.ptr, NKTU.ptr, n, mp);
    const nu = NU.view;
    for (let i = 0; i < n && !bad; i++) if (!Number.isFinite(nu[i]!)) bad = true;
    for (let j = 0; j < m && !bad; j++) if (!Number.isFinite(nv[j]!)) bad = true;
    if (bad) {
      warnings.push(`numerical errors at iteration ${ii}`);
      break;
    }
    [U, NU] = [NU, U];
    [V, NV] = [NV, V];
    [KTU, NKTU] = [NKTU, KTU];
    if (ii % 10 === 0) {
      const v = V.view;
      const kt = KTU.view;
      let s = 0;
      for (let j = 0; j < m; j++) s += (v[j]! * kt[j]! - b[j]!) ** 2;
      const err = Math.sqrt(s);
      errors.push(err);
      if (err < tol) {
        converged = true;
        break;
      }
    }
  }
  if (ii === maxIter) {
    ii = maxIter - 1;
    warnings.push('did not converge within maxIter iterations (increase maxIter or eps)');
  }
  const u = U.view.slice(0, n);
  const v = V.view.slice(0, m);
  return {
    raw: { logU: u.map(Math.log), logV: v.map(Math.log), errors, niter: ii, converged, warnings },
    scalings: { K: kv, stride: mp, u, v },
  };
}

/**
 * Rows i … i+3 of the Knopp row pass: u_r = a_r / (K v)_r (four dot products sharing the loads of v), then
 * ktu += Σ_r K_r·u_r, added row after row as a one-row-at-a-time pass would.
 */
function rowBlock4(
  K: Float64Array,
  i: number,
  m: number,
  v: Float64Array,
  a: Float64Array,
  u: Float64Array,
  ktu: Float64Array,
): void {
  const o0 = i * m;
  const o1 = o0 + m;
  const o2 = o1 + m;
  const o3 = o2 + m;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let j = 0; j < m; j++) {
    const x = v[j]!;
    s0 += K[o0 + j]! * x;
    s1 += K[o1 + j]! * x;
    s2 += K[o2 + j]! * x;
    s3 += K[o3 + j]! * x;
  }
  const u0 = a[i]! / s0;
  const u1 = a[i + 1]! / s1;
  const u2 = a[i + 2]! / s2;
  const u3 = a[i + 3]! / s3;
  u[i] = u0;
  u[i + 1] = u1;
  u[i + 2] = u2;
  u[i + 3] = u3;
  for (let j = 0; j < m; j++) ktu[j] = ktu[j]! + K[o0 + j]! * u0 + K[o1 + j]! * u1 + K[o2 + j]! * u2 + K[o3 + j]! * u3;
}

/**
 * A kernel-path sum below this (or not finite) is recomputed in the log domain: above it, terms that underflowed
 * (each < 2⁻¹⁰⁷⁴ with K <= 1 and the exponentiated log-scalings <= 1) change it by less than 1e-100 relative.
 */
const KERNEL_MIN_SUM = 1e-200;

/**
 * POT's sinkhorn_log: v = log b − logsumexp_i(Mr_ij + u_i), u = log a − logsumexp_j(Mr_ij + v_j), Mr = −C/ε.
 *
 * Each log-sum-exp is evaluated through the shifted kernel K = exp(Mr − max Mr) (<= 1, built once):
 * logsumexp_i(Mr_ij + u_i) = max Mr + max u + log Σ_i K_ij·exp(u_i − max u), a matrix–vector product and n + m
 * exponentials per iteration instead of 2·n·m. A row or column whose sum is tiny or not finite (large C/ε, far
 * log-scalings) is redone in the log domain, so the iteration stays stable for any ε; when that happens for more than
 * a quarter of the rows and columns, the rest of the solve runs in the log domain (then K is dropped).
 */
function logDomain(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  n: number,
  m: number,
  eps: number,
  maxIter: number,
  tol: number,
  init?: { logU: Float64Array; logV: Float64Array },
): RawResult {
  const la = a.map(Math.log);
  const lb = b.map(Math.log);
  let mu = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < n * m; k++) {
    const t = -c[k]! / eps;
    if (t > mu) mu = t;
  }
  let K: Float64Array | undefined;
  if (Number.isFinite(mu)) {
    K = new Float64Array(n * m);
    for (let k = 0; k < n * m; k++) K[k] = Math.exp(-c[k]! / eps - mu);
  }
  let Mr: Float64Array | undefined;
  let MrT: Float64Array | undefined;
  const u = init ? Float64Array.from(init.logU) : new Float64Array(n);
  const v = init ? Float64Array.from(init.logV) : new Float64Array(m);
  const errors: number[] = [];
  const warnings: string[] = [];
  let converged = false;
  let ii = 0;
  const lseInto = (
    mat: Float64Array,
    rows: number,
    cols: number,
    add: Float64Array,
    logw: Float64Array,
    out: Float64Array,
  ) => {
    for (let r = 0; r < rows; r++) out[r] = logw[r]! - lseLog(mat, r * cols, 1, cols, add);
  };
  const ex = new Float64Array(Math.max(n, m));
  // sums_j = Σ_i K_ij·exp(u_i − shift) for the current u (valid until u changes).
  const sums = new Float64Array(m);
  let sumsValid = false;
  let shift = Number.NaN;
  const columnSums = (kern: Float64Array): void => {
    shift = maxOf(u, n);
    sums.fill(0);
    if (Number.isFinite(shift)) {
      for (let i = 0; i < n; i++) ex[i] = Math.exp(u[i]! - shift);
      for (let i = 0; i < n; i++) {
        const w = ex[i]!;
        if (w !== 0) axpy(sums, kern, i * m, w, m);
      }
    }
    sumsValid = true;
  };
  // A kernel-path sum is used when in [KERNEL_MIN_SUM, count] (NaN fails both tests).
  const usable = (s: number, count: number) => s >= KERNEL_MIN_SUM && s <= count && Number.isFinite(shift);
  for (ii = 0; ii < maxIter; ii++) {
    if (K !== undefined) {
      let fallbacks = 0;
      // v_j = log b_j − logsumexp_i(Mr_ij + u_i).
      if (!sumsValid) columnSums(K);
      for (let j = 0; j < m; j++) {
        const s = sums[j]!;
        if (usable(s, n)) v[j] = lb[j]! - (mu + shift + Math.log(s));
        else {
          v[j] = lb[j]! - lseLogCol(c, j, n, m, eps, u);
          fallbacks++;
        }
      }
      // u_i = log a_i − logsumexp_j(Mr_ij + v_j).
      const vmax = maxOf(v, m);
      for (let j = 0; j < m; j++) ex[j] = Math.exp(v[j]! - vmax);
      for (let i = 0; i < n; i++) {
        const s = Number.isFinite(vmax) ? dot(K, i * m, ex, m) : Number.NaN;
        if (s >= KERNEL_MIN_SUM && s <= m) u[i] = la[i]! - (mu + vmax + Math.log(s));
        else {
          u[i] = la[i]! - lseLogRow(c, i, m, eps, v);
          fallbacks++;
        }
      }
      sumsValid = false;
      if (fallbacks > 0.25 * (n + m)) K = undefined;
    } else {
      if (Mr === undefined || MrT === undefined) {
        // Mr = −C/ε, stored twice for contiguous row and column reductions.
        Mr = new Float64Array(n * m);
        MrT = new Float64Array(m * n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < m; j++) {
            const t = -c[i * m + j]! / eps;
            Mr[i * m + j] = t;
            MrT[j * n + i] = t;
          }
        }
      }
      lseInto(MrT, m, n, u, lb, v);
      lseInto(Mr, n, m, v, la, u);
    }
    if (ii % 10 === 0) {
      let err: number;
      if (K !== undefined) {
        // Column marginals Σ_i exp(u_i + Mr_ij + v_j) = exp(v_j + max Mr + shift + log sums_j); the sums are those
        // the next iteration's v update needs.
        columnSums(K);
        let e2 = 0;
        for (let j = 0; j < m; j++) {
          const s = sums[j]!;
          const col = usable(s, n) ? Math.exp(v[j]! + mu + shift + Math.log(s)) : colSum(u, v, c, j, n, m, eps);
          e2 += (col - b[j]!) ** 2;
        }
        err = Math.sqrt(e2);
      } else {
        err = colErr(u, v, c, n, m, eps, b);
      }
      errors.push(err);
      if (err < tol) {
        converged = true;
        break;
      }
    }
  }
  if (ii === maxIter) {
    ii = maxIter - 1;
    warnings.push('did not converge within maxIter iterations (increase maxIter or eps)');
  }
  return { logU: u, logV: v, errors, niter: ii, converged, warnings };
}

/** Σ_i exp(logU_i − C_ij/ε + logV_j): one column of the plan's marginal (colErr's terms). */
function colSum(
  logU: Float64Array,
  logV: Float64Array,
  c: Float64Array,
  j: number,
  n: number,
  m: number,
  eps: number,
): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(logU[i]! - c[i * m + j]! / eps + logV[j]!);
  return s;
}

function maxOf(x: Float64Array, len: number): number {
  let mx = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < len; k++) if (x[k]! > mx) mx = x[k]!;
  return mx;
}

/** logsumexp_k(mat[off + k·stride] + add[k]) for k < len, two passes (max, then Σ exp(· − max)). */
function lseLog(mat: Float64Array, off: number, stride: number, len: number, add: Float64Array): number {
  let mx = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < len; k++) {
    const t = mat[off + k * stride]! + add[k]!;
    if (t > mx) mx = t;
  }
  if (!Number.isFinite(mx)) return mx;
  let s = 0;
  for (let k = 0; k < len; k++) s += Math.exp(mat[off + k * stride]! + add[k]! - mx);
  return mx + Math.log(s);
}

/** logsumexp_j(−C_ij/ε + v_j) from C itself (the log-domain fallback of one row). */
function lseLogRow(c: Float64Array, i: number, m: number, eps: number, v: Float64Array): number {
  const off = i * m;
  let mx = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < m; j++) {
    const t = -c[off + j]! / eps + v[j]!;
    if (t > mx) mx = t;
  }
  if (!Number.isFinite(mx)) return mx;
  let s = 0;
  for (let j = 0; j < m; j++) s += Math.exp(-c[off + j]! / eps + v[j]! - mx);
  return mx + Math.log(s);
}

/** logsumexp_i(−C_ij/ε + u_i) from C itself (the log-domain fallback of one column). */
function lseLogCol(c: Float64Array, j: number, n: number, m: number, eps: number, u: Float64Array): number {
  let mx = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = -c[i * m + j]! / eps + u[i]!;
    if (t > mx) mx = t;
  }
  if (!Number.isFinite(mx)) return mx;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(-c[i * m + j]! / eps + u[i]! - mx);
  return mx + Math.log(s);
}

function finish(
  raw: RawResult,
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  n: number,
  m: number,
  eps: number,
  scalings?: Scalings,
): SinkhornResult {
  const { logU, logV } = raw;
  const plan = new Float64Array(n * m);
  let transportCost = 0;
  let kl = 0;
  let mass = 0;
  const rows = new Float64Array(n);
  const cols = new Float64Array(m);
  const lb = b.map(Math.log);
  if (scalings !== undefined) {
    // P_ij = u_i·K_ij·v_j (POT's plan); log P_ij = log u_i − C_ij/ε + log v_j, so
    // Σ P log(P/ab) = Σ_i P_i·(log u_i − log a_i) + Σ_j P_·j (log v_j − log b_j) − ⟨P, C⟩/ε.
    const { K, stride, u, v } = scalings;
    for (let i = 0; i < n; i++) {
      const ui = u[i]!;
      const off = i * m;
      const koff = i * stride;
      let ri = 0;
      let ci = 0;
      for (let j = 0; j < m; j++) {
        const pij = ui * K[koff + j]! * v[j]!;
        plan[off + j] = pij;
        ci += pij * c[off + j]!;
        ri += pij;
        cols[j] = cols[j]! + pij;
      }
      rows[i] = ri;
      transportCost += ci;
      mass += ri;
      if (ri > 0) kl += ri * (logU[i]! - Math.log(a[i]!));
    }
    for (let j = 0; j < m; j++) if (cols[j]! > 0) kl += cols[j]! * (logV[j]! - lb[j]!);
    kl -= transportCost / eps;
  }
  for (let i = 0; i < n && scalings === undefined; i++) {
    const la = Math.log(a[i]!);
    const off = i * m;
    for (let j = 0; j < m; j++) {
      const lp = logU[i]! - c[off + j]! / eps + logV[j]!;
      const pij = Math.exp(lp);
      plan[off + j] = pij;
      transportCost += pij * c[off + j]!;
      if (pij > 0) kl += pij * (lp - la - lb[j]!);
      mass += pij;
      rows[i] = rows[i]! + pij;
      cols[j] = cols[j]! + pij;
    }
  }
  const massA = sum(a);
  const massB = sum(b);
  kl += -mass + massA * massB;
  const f = new Float64Array(n);
  const g = new Float64Array(m);
  let dualValue = 0;
  for (let i = 0; i < n; i++) {
    f[i] = a[i]! > 0 ? eps * (logU[i]! - Math.log(a[i]!)) : 0;
    dualValue += a[i]! * f[i]!;
  }
  for (let j = 0; j < m; j++) {
    g[j] = b[j]! > 0 ? eps * (logV[j]! - Math.log(b[j]!)) : 0;
    dualValue += b[j]! * g[j]!;
  }
  let re = 0;
  for (let i = 0; i < n; i++) re += (rows[i]! - a[i]!) ** 2;
  let ce = 0;
  for (let j = 0; j < m; j++) ce += (cols[j]! - b[j]!) ** 2;
  return {
    plan,
    rows: n,
    cols: m,
    f,
    g,
    logU,
    logV,
    transportCost,
    value: transportCost + eps * kl,
    dualValue,
    marginalError: Math.sqrt(ce),
    rowMarginalError: Math.sqrt(re),
    errors: raw.errors,
    iterations: raw.niter + 1,
    niter: raw.niter,
    converged: raw.converged,
    warnings: raw.warnings,
    epsilon: eps,
  };
}
