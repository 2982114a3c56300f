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
    throw new OtInputError('INVALID_OPTION', `method must be 'standard' or 'log', got ${String(method)}`);
  }
  if (method === 'standard') {
    if (options.epsScaling) {
      throw new OtInputError('INVALID_OPTION', "epsScaling needs method 'log' (the scaling domain underflows)");
    }
    return finish(knopp(wa, wb, C.data, C.rows, C.cols, eps, maxIter, tol), wa, wb, C.data, C.rows, C.cols, eps);
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
  return res;
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
  const KT = new Float64Array(m * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const k = Math.exp(c[i * m + j]! / -eps);
      K[i * m + j] = k;
      KT[j * n + i] = k;
    }
  }
  let u = new Float64Array(n).fill(1 / n);
  let v = new Float64Array(m).fill(1 / m);
  const errors: number[] = [];
  const warnings: string[] = [];
  let converged = false;
  let ii = 0;
  for (ii = 0; ii < maxIter; ii++) {
    const uprev = u;
    const vprev = v;
    const nv = new Float64Array(m);
    let bad = false;
    for (let j = 0; j < m; j++) {
      let s = 0;
      const off = j * n;
      for (let i = 0; i < n; i++) s += KT[off + i]! * u[i]!;
      if (s === 0) bad = true;
      nv[j] = b[j]! / s;
    }
    const nu = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const off = i * m;
      for (let j = 0; j < m; j++) s += K[off + j]! * nv[j]!;
      nu[i] = a[i]! / s;
    }
    for (let i = 0; i < n && !bad; i++) if (!Number.isFinite(nu[i]!)) bad = true;
    for (let j = 0; j < m && !bad; j++) if (!Number.isFinite(nv[j]!)) bad = true;
    if (bad) {
      warnings.push(`numerical errors at iteration ${ii}`);
      u = uprev;
      v = vprev;
      break;
    }
    u = nu;
    v = nv;
    if (ii % 10 === 0) {
      const col = new Float64Array(m);
      for (let i = 0; i < n; i++) {
        const off = i * m;
        const ui = u[i]!;
        for (let j = 0; j < m; j++) col[j] = col[j]! + ui * K[off + j]! * v[j]!;
      }
      let s = 0;
      for (let j = 0; j < m; j++) s += (col[j]! - b[j]!) ** 2;
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
  // Mr = −C/ε, stored twice for contiguous row and column reductions.
  const Mr = new Float64Array(n * m);
  const MrT = new Float64Array(m * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const t = -c[i * m + j]! / eps;
      Mr[i * m + j] = t;
      MrT[j * n + i] = t;
    }
  }
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
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      let mx = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < cols; k++) {
        const t = mat[off + k]! + add[k]!;
        if (t > mx) mx = t;
      }
      let s = 0;
      if (Number.isFinite(mx)) for (let k = 0; k < cols; k++) s += Math.exp(mat[off + k]! + add[k]! - mx);
      out[r] = logw[r]! - (Number.isFinite(mx) ? mx + Math.log(s) : mx);
    }
  };
  for (ii = 0; ii < maxIter; ii++) {
    lseInto(MrT, m, n, u, lb, v);
    lseInto(Mr, n, m, v, la, u);
    if (ii % 10 === 0) {
      const err = colErr(u, v, c, n, m, eps, b);
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

function finish(
  raw: RawResult,
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  n: number,
  m: number,
  eps: number,
): SinkhornResult {
  const { logU, logV } = raw;
  const plan = new Float64Array(n * m);
  let transportCost = 0;
  let kl = 0;
  let mass = 0;
  const rows = new Float64Array(n);
  const cols = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const lp = logU[i]! - c[i * m + j]! / eps + logV[j]!;
      const pij = Math.exp(lp);
      plan[i * m + j] = pij;
      transportCost += pij * c[i * m + j]!;
      if (pij > 0) kl += pij * (lp - Math.log(a[i]!) - Math.log(b[j]!));
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
