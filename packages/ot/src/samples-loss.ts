/**
 * Point-cloud losses with geomloss 0.2.6 semantics (`SamplesLoss`), float64 on the CPU:
 *
 *  - 'sinkhorn': ε = blur^p, cost C(x, y) = |x − y|^p / p, the ε-scaling schedule of schedule.ts, symmetric averaged
 *    updates with the self-terms in the same loop, one final (non-averaged) extrapolation step whose derivative is
 *    the envelope gradient. Value: debiased S = OT(α,β) − ½OT(α,α) − ½OT(β,β) = ⟨α, f_ba − f_aa⟩ + ⟨β, g_ab − g_bb⟩,
 *    or OT(α,β) = ⟨α, f_ba⟩ + ⟨β, g_ab⟩ with debias false; unbalanced (reach ρ^(1/p)) with damping 1/(1+ε/ρ) and
 *    geomloss's exponentiated-potential formulas.
 *  - 'energy' | 'gaussian' | 'laplacian': kernel (MMD) losses ½‖α − β‖²_k with k = −|x − y|, exp(−|x − y|²/2σ²),
 *    exp(−|x − y|/σ), σ = blur.
 *
 * Solver choice for 'sinkhorn' (reported in the result as `solver`):
 *  - 'sinkhorn' + geomlossCompatible: exactly geomloss's fixed schedule, no stopping criterion.
 *  - 'sinkhorn': the same schedule, then extra symmetric updates at the final ε until the marginal residual
 *    is <= tol (or maxIter extra updates; `converged` says which).
 *  - 'exact-1d': the exact sorted-quantile OT W (ε → 0 limit). The debiased divergence satisfies
 *    W − ε(H(α)+H(β))/2 <= S_ε <= W + ε·min(H(α), H(β)) and the biased one W <= OT_ε <= W + ε·min(H(α), H(β)),
 *    so |value − S_ε| <= errorBound, reported in the result.
 *  - 'auto' (default): 'exact-1d' when the points are 1-D, transport is balanced, geomlossCompatible is off and
 *    errorBound <= exactTolerance · W; otherwise 'sinkhorn'.
 */
import { checkCostExponent, costGradFactor, sqDist } from './cost.ts';
import { damping, symmetricSinkhornLoop } from './dual-loop.ts';
import { OtInputError } from './errors.ts';
import { exact1dCore } from './exact.ts';
import {
  type Cloud,
  checkEqualMass,
  checkInteger,
  checkPositive,
  entropy,
  type PointsInput,
  sum,
  toCloud,
  toWeights,
} from './inputs.ts';
import { getRouting, type RoutingConfig } from './routing.ts';
import { DEFAULT_MAX_SCHEDULE_LENGTH, epsilonSchedule, scheduleDiameter } from './schedule.ts';
import { type CostMode, F64Seam } from './softmin-f64.ts';

export type LossName = 'sinkhorn' | 'energy' | 'gaussian' | 'laplacian';
export type SolverChoice = 'auto' | 'sinkhorn' | 'exact-1d';
export type SolverUsed = 'sinkhorn' | 'exact-1d' | 'kernel';

export interface SamplesLossOptions {
  /** Default 'sinkhorn'. */
  loss?: LossName;
  /** Cost exponent: C = |x − y|^p / p (default 2). geomloss supports p = 1 and 2. */
  p?: number;
  /** Sinkhorn: ε = blur^p. Kernels: the bandwidth σ. Default 0.05 (geomloss). */
  blur?: number;
  /** ε-scaling ratio in (0, 1) (default 0.5). */
  scaling?: number;
  /** Debiased divergence (default true). */
  debias?: boolean;
  /** Diameter for the schedule; default: geomloss's estimate (bounding-box diagonal of x ∪ y). */
  diameter?: number;
  /** Unbalanced transport: ρ = reach^p. Default: balanced. */
  reach?: number;
  /** Weights of x and y (default uniform 1/n, 1/m). Must be >= 0. */
  a?: ArrayLike<number>;
  b?: ArrayLike<number>;
  /** 'auto' (default), 'sinkhorn' or 'exact-1d'. */
  solver?: SolverChoice;
  /** Run exactly geomloss's fixed schedule (no extra iterations, never the exact path). Default false. */
  geomlossCompatible?: boolean;
  /** Extra-iteration stopping threshold on the L1 marginal residual (default 1e-9 · mass). */
  tol?: number;
  /** Extra symmetric updates allowed after the schedule (default 1000). */
  maxIter?: number;
  /** 'auto' (default: dense when max(n, m)² <= routing.f64DenseMaxEntries, 4·10⁶), 'dense' or 'online'. */
  costMode?: 'auto' | CostMode;
  /** Relative tolerance of the 'auto' exact-1d rule (default routing.exactTolerance, 1e-6). */
  exactTolerance?: number;
  /** Overrides of the process-wide routing thresholds (see routing.ts) for this call. */
  routing?: Partial<RoutingConfig>;
  /** Relative tolerance on |Σa − Σb| in balanced mode (default 1e-6). */
  massTolerance?: number;
  /**
   * Longest ε schedule accepted (default 10,000 steps; geomloss's usual scalings need tens to a few thousand): a
   * scaling closer to 1 is refused with an OtInputError naming the scaling, the schedule length and this cap.
   */
  maxScheduleLength?: number;
}

export interface SamplesLossResult {
  /** The loss value. */
  value: number;
  loss: LossName;
  /** Which algorithm produced the value. */
  solver: SolverUsed;
  /** ∂value/∂x (n × d, row-major): geomloss's envelope gradient for 'sinkhorn', exact for the others. */
  gradX: Float64Array;
  gradY: Float64Array;
  /** ∂value/∂a and ∂value/∂b (for Sinkhorn: the potentials, meaningful up to a constant in balanced mode). */
  gradA: Float64Array;
  gradB: Float64Array;
  /**
   * Dual potentials as geomloss returns them with potentials=True: debiased (f_ba − f_aa, g_ab − g_bb), biased
   * (f_ba, g_ab). For 'exact-1d' the exact dual potentials (gauge ⟨a,f⟩ = ⟨b,g⟩). Empty for kernels.
   */
  f: Float64Array;
  g: Float64Array;
  n: number;
  m: number;
  d: number;
  /** ε = blur^p (Sinkhorn), NaN for kernels. */
  epsilon: number;
  /** The ε schedule iterated over (empty for exact-1d and kernels). */
  epsList: number[];
  /** The diameter used by the schedule (NaN when no schedule ran). */
  diameter: number;
  /** Symmetric updates run (schedule length + extra iterations). */
  iterations: number;
  extraIterations: number;
  /**
   * Sinkhorn: the L1 marginal residual Σ_i w_i |exp((f_i − f̃_i)/ε) − 1| of the returned potentials (the worst of the
   * four problems): the last one measured by the stopping rule, or, with geomlossCompatible, the one left by
   * geomloss's fixed schedule (measured on the final extrapolation step; +∞ when exp overflows, i.e. the schedule
   * stopped far from the fixed point, typical at tiny ε). NaN for exact-1d and kernels.
   */
  residual: number;
  /**
   * Sinkhorn: residual <= tol·mass (the stopping rule was met; with geomlossCompatible this reports whether
   * geomloss's schedule happened to converge). Never hidden: check it. exact-1d and kernels: true.
   */
  converged: boolean;
  /** exact-1d: the bound on |value − S_ε| (or |value − OT_ε|); 0 otherwise. */
  errorBound: number;
  /** Cost evaluation used by the Sinkhorn path. */
  costMode: CostMode | 'none';
}

interface Prepared {
  x: Cloud;
  y: Cloud;
  a: Float64Array;
  b: Float64Array;
}

function prepare(xIn: PointsInput, yIn: PointsInput, opts: SamplesLossOptions): Prepared {
  const x = toCloud('x', xIn);
  const y = toCloud('y', yIn);
  if (x.d !== y.d) {
    throw new OtInputError('SHAPE_MISMATCH', `x and y must have the same dimension, got ${x.d} and ${y.d}`);
  }
  const a = toWeights('a', opts.a, x.n);
  const b = toWeights('b', opts.b, y.n);
  return { x, y, a, b };
}

/** A number for an error message, bounded in length. */
function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : String(v);
}

/**
 * Largest squared distance between any two points of x ∪ y, bounded by the squared bounding-box diagonal Σ_k span_k².
 * Refuses coordinates whose squared distances (or |x − y|^p) overflow float64: every cost, and every sum of costs
 * weighted by a unit mass, is then finite.
 */
function maxSquaredSpan(x: Cloud, y: Cloud, p: number): number {
  const d = x.d;
  let s = 0;
  let widest = 0;
  for (let k = 0; k < d; k++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const c of [x, y]) {
      for (let i = 0; i < c.n; i++) {
        const v = c.data[i * d + k]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    widest = Math.max(widest, hi - lo);
    s += (hi - lo) * (hi - lo);
  }
  if (!(Number.isFinite(s) && Number.isFinite(s ** (p / 2)))) {
    throw new OtInputError(
      'NON_FINITE_POINTS',
      `x and y: squared distances overflow float64 (coordinates spread over ${fmt(widest)}); ` +
        'rescale the points (e.g. subtract their mean and divide by their spread)',
    );
  }
  return s;
}

/** Throws instead of returning a non-finite value or gradient (never a silent Infinity or NaN). */
function checkFiniteResult(r: SamplesLossResult, what: string): SamplesLossResult {
  const bad = (v: Float64Array) => {
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return true;
    return false;
  };
  if (!Number.isFinite(r.value) || bad(r.gradX) || bad(r.gradY) || bad(r.gradA) || bad(r.gradB)) {
    throw new OtInputError(
      'NON_FINITE_RESULT',
      `samplesLoss: the ${what} is not finite in float64 (value ${fmt(r.value)}, ε ${fmt(r.epsilon)}); ` +
        'rescale the points or use a blur closer to their spread',
    );
  }
  return r;
}

/** geomloss `SamplesLoss(...)(a, x, b, y)` in float64, with gradients. See the module comment. */
export function samplesLoss(x: PointsInput, y: PointsInput, options: SamplesLossOptions = {}): SamplesLossResult {
  const loss = options.loss ?? 'sinkhorn';
  const prep = prepare(x, y, options);
  if (loss === 'sinkhorn') return checkFiniteResult(sinkhornLoss(prep, options), 'Sinkhorn loss or its gradient');
  if (loss === 'energy' || loss === 'gaussian' || loss === 'laplacian') {
    return checkFiniteResult(kernelLoss(prep, loss, options), `${loss} loss or its gradient`);
  }
  throw new OtInputError(
    'INVALID_OPTION',
    `loss must be 'sinkhorn', 'energy', 'gaussian' or 'laplacian', got ${String(loss).slice(0, 40)}`,
  );
}

function sinkhornLoss(prep: Prepared, o: SamplesLossOptions): SamplesLossResult {
  const { x, y, a, b } = prep;
  const p = o.p ?? 2;
  checkCostExponent(p);
  const blur = o.blur ?? 0.05;
  checkPositive('blur', blur);
  const scaling = o.scaling ?? 0.5;
  const debias = o.debias ?? true;
  const reach = o.reach;
  if (reach !== undefined) checkPositive('reach', reach);
  const rho = reach === undefined ? undefined : reach ** p;
  const eps = blur ** p;
  if (!(eps > 0)) {
    throw new OtInputError(
      'INVALID_EPSILON',
      `blur^p underflows to ${eps} (blur ${fmt(blur)}, p ${p}); use a larger blur`,
    );
  }
  if (!Number.isFinite(eps)) {
    throw new OtInputError(
      'INVALID_EPSILON',
      `blur^p overflows float64 (blur ${fmt(blur)}, p ${p}); use a blur on the scale of the points' spread`,
    );
  }
  if (rho !== undefined && !Number.isFinite(rho + eps)) {
    throw new OtInputError(
      'INVALID_OPTION',
      `reach^p overflows float64 (reach ${fmt(reach!)}, p ${p}); omit reach for balanced transport`,
    );
  }
  if (!(scaling > 0 && scaling < 1)) {
    throw new OtInputError('INVALID_OPTION', `scaling must be in (0, 1), got ${fmt(scaling)}`);
  }
  const maxCost = maxSquaredSpan(x, y, p) ** (p / 2) / p;
  if (rho === undefined) checkEqualMass(a, b, o.massTolerance ?? 1e-6, 'the weights a and b');
  const compat = o.geomlossCompatible ?? false;
  const routing = getRouting(o.routing);
  const modeOpt = o.costMode ?? 'auto';
  if (modeOpt !== 'auto' && modeOpt !== 'dense' && modeOpt !== 'online') {
    throw new OtInputError('INVALID_OPTION', `costMode must be 'auto', 'dense' or 'online', got ${String(modeOpt)}`);
  }
  const solver = o.solver ?? 'auto';
  if (solver !== 'auto' && solver !== 'sinkhorn' && solver !== 'exact-1d') {
    throw new OtInputError('INVALID_OPTION', `solver must be 'auto', 'sinkhorn' or 'exact-1d', got ${String(solver)}`);
  }
  const base = { loss: 'sinkhorn' as const, n: x.n, m: y.n, d: x.d, epsilon: eps };

  const canExact = x.d === 1 && rho === undefined;
  if (solver === 'exact-1d' || (solver === 'auto' && canExact && !compat)) {
    if (!canExact) {
      throw new OtInputError(
        'UNSUPPORTED',
        `solver 'exact-1d' needs 1-D points and balanced transport (got d = ${x.d}${rho === undefined ? '' : ', reach set'})`,
      );
    }
    if (compat) {
      throw new OtInputError('INVALID_OPTION', "solver 'exact-1d' contradicts geomlossCompatible: true");
    }
    const ex = exact1dCore(x.data, a, y.data, b, p);
    const ha = entropy(a);
    const hb = entropy(b);
    const errorBound = debias ? (eps * (ha + hb)) / 2 : eps * Math.min(ha, hb);
    const tolRel = o.exactTolerance ?? routing.exactTolerance;
    if (solver === 'exact-1d' || errorBound <= tolRel * ex.value) {
      return {
        ...base,
        value: ex.value,
        solver: 'exact-1d',
        gradX: ex.gradX,
        gradY: ex.gradY,
        gradA: ex.f,
        gradB: ex.g,
        f: ex.f,
        g: ex.g,
        epsList: [],
        diameter: Number.NaN,
        iterations: 0,
        extraIterations: 0,
        residual: Number.NaN,
        converged: true,
        errorBound,
        costMode: 'none',
      };
    }
  }

  // The Sinkhorn path divides costs by ε (and by every larger ε of the schedule): C/ε must stay finite.
  if (!Number.isFinite(maxCost / eps)) {
    throw new OtInputError(
      'INVALID_EPSILON',
      `blur ${fmt(blur)} is too small for points spread this far: C/ε overflows float64 (largest cost ${fmt(maxCost)}, ` +
        `ε ${fmt(eps)}); use a larger blur or rescale the points`,
    );
  }
  const diameter = scheduleDiameter(x, y, blur, o.diameter);
  const epsList = epsilonSchedule(p, diameter, blur, scaling, o.maxScheduleLength ?? DEFAULT_MAX_SCHEDULE_LENGTH);
  const seam = new F64Seam(x, a, y, b, p, debias, modeOpt === 'auto' ? undefined : modeOpt, routing.f64DenseMaxEntries);
  const maxIter = o.maxIter ?? 1000;
  checkInteger('maxIter', maxIter, 0);
  const tolIn = o.tol ?? 1e-9;
  if (!(tolIn >= 0)) throw new OtInputError('INVALID_OPTION', `tol must be >= 0, got ${tolIn}`);
  const tol = tolIn * sum(a);
  const converge = compat ? undefined : { tol, maxIter };
  const loop = symmetricSinkhornLoop(seam, epsList, { debias, rho, converge });
  const pot = loop.potentials;
  const lam = damping(eps, rho);
  // Final extrapolation with detached potentials: values and envelope gradients w.r.t. the row points.
  const xy = seam.softminWithGrad('xy', eps, lam, pot.gAB); // f_ba on x
  const yx = seam.softminWithGrad('yx', eps, lam, pot.fBA); // g_ab on y
  const xx = debias ? seam.softminWithGrad('xx', eps, lam, pot.fAA) : undefined;
  const yy = debias ? seam.softminWithGrad('yy', eps, lam, pot.gBB) : undefined;
  let residual = loop.residual;
  let converged = loop.converged;
  if (compat) {
    // geomloss has no stopping rule: measure where its schedule left the potentials (same residual as the rule's).
    residual = Math.max(seam.residual('xy', pot.fBA, xy.value, eps), seam.residual('yx', pot.gAB, yx.value, eps));
    if (xx && pot.fAA) residual = Math.max(residual, seam.residual('xx', pot.fAA, xx.value, eps));
    if (yy && pot.gBB) residual = Math.max(residual, seam.residual('yy', pot.gBB, yy.value, eps));
    if (Number.isNaN(residual)) residual = Number.POSITIVE_INFINITY;
    converged = residual <= tol;
  }
  const d = x.d;
  const gradX = new Float64Array(x.n * d);
  const gradY = new Float64Array(y.n * d);
  const gradA = new Float64Array(x.n);
  const gradB = new Float64Array(y.n);
  const fOut = new Float64Array(x.n);
  const gOut = new Float64Array(y.n);
  let value = 0;
  // Per-point coefficient c_i of the value: value = Σ_i a_i φ(f_i, ...) and gradX_i = a_i Σ_kind φ'·grad_kind.
  const accumulate = (
    w: Float64Array,
    cross: { value: Float64Array; grad: Float64Array },
    self: { value: Float64Array; grad: Float64Array } | undefined,
    gradOut: Float64Array,
    gradW: Float64Array,
    potOut: Float64Array,
  ) => {
    const k = w.length;
    for (let i = 0; i < k; i++) {
      const fc = cross.value[i]!;
      const fs = self ? self.value[i]! : 0;
      potOut[i] = self ? fc - fs : fc;
      let phi: number;
      let dCross: number;
      let dSelf: number;
      if (rho === undefined) {
        phi = fc - fs;
        dCross = 1;
        dSelf = self ? -1 : 0;
      } else {
        const uw = rho + eps / 2;
        const ec = Math.exp(-fc / rho);
        if (self) {
          const es = Math.exp(-fs / rho);
          phi = uw * (es - ec);
          dCross = (uw * ec) / rho;
          dSelf = (-uw * es) / rho;
        } else {
          phi = uw * (1 - ec);
          dCross = (uw * ec) / rho;
          dSelf = 0;
        }
      }
      gradW[i] = phi;
      value += w[i]! * phi;
      for (let t = 0; t < d; t++) {
        let gv = dCross * cross.grad[i * d + t]!;
        if (self) gv += dSelf * self.grad[i * d + t]!;
        gradOut[i * d + t] = w[i]! * gv;
      }
    }
  };
  accumulate(a, xy, xx, gradX, gradA, fOut);
  accumulate(b, yx, yy, gradY, gradB, gOut);
  return {
    ...base,
    value,
    solver: 'sinkhorn',
    gradX,
    gradY,
    gradA,
    gradB,
    f: fOut,
    g: gOut,
    epsList,
    diameter,
    iterations: loop.iterations,
    extraIterations: loop.extraIterations,
    residual,
    converged: converged ?? false,
    errorBound: 0,
    costMode: seam.mode,
  };
}

function kernelLoss(
  prep: Prepared,
  loss: 'energy' | 'gaussian' | 'laplacian',
  o: SamplesLossOptions,
): SamplesLossResult {
  const { x, y, a, b } = prep;
  const blur = o.blur ?? 0.05;
  checkPositive('blur', blur);
  maxSquaredSpan(x, y, 2);
  if (loss === 'gaussian' && !(blur * blur > 0 && Number.isFinite(blur * blur))) {
    throw new OtInputError(
      'INVALID_OPTION',
      `blur² must be a finite number > 0 for the gaussian kernel, got blur ${fmt(blur)}; use a blur on the points' scale`,
    );
  }
  const d = x.d;
  // k(r2) and the factor s with ∇ₓk(x, z) = s · (x − z).
  const kern = (r2: number): [number, number] => {
    if (loss === 'gaussian') {
      const k = Math.exp((-0.5 * r2) / (blur * blur));
      return [k, -k / (blur * blur)];
    }
    const r = Math.sqrt(r2);
    if (loss === 'laplacian') {
      const k = Math.exp(-r / blur);
      return [k, r === 0 ? 0 : -k / (blur * r)];
    }
    return [-r, -costGradFactor(r2, 1)];
  };
  const gradX = new Float64Array(x.n * d);
  const gradY = new Float64Array(y.n * d);
  const gradA = new Float64Array(x.n);
  const gradB = new Float64Array(y.n);
  let value = 0;
  // Self terms: ½ Σ_ij w_i w_j k(p_i, p_j); derivative w.r.t. p_i: w_i Σ_j w_j ∇k; w.r.t. w_i: Σ_j w_j k.
  const self = (c: Cloud, w: Float64Array, gp: Float64Array, gw: Float64Array) => {
    for (let i = 0; i < c.n; i++) {
      let kw = 0;
      for (let j = 0; j < c.n; j++) {
        const r2 = sqDist(c.data, i, c.data, j, d);
        const [k, s] = kern(r2);
        kw += w[j]! * k;
        for (let t = 0; t < d; t++)
          gp[i * d + t] = gp[i * d + t]! + w[i]! * w[j]! * s * (c.data[i * d + t]! - c.data[j * d + t]!);
      }
      gw[i] = kw;
      value += 0.5 * w[i]! * kw;
    }
  };
  self(x, a, gradX, gradA);
  self(y, b, gradY, gradB);
  for (let i = 0; i < x.n; i++) {
    for (let j = 0; j < y.n; j++) {
      const r2 = sqDist(x.data, i, y.data, j, d);
      const [k, s] = kern(r2);
      value -= a[i]! * b[j]! * k;
      gradA[i] = gradA[i]! - b[j]! * k;
      gradB[j] = gradB[j]! - a[i]! * k;
      for (let t = 0; t < d; t++) {
        const diff = x.data[i * d + t]! - y.data[j * d + t]!;
        gradX[i * d + t] = gradX[i * d + t]! - a[i]! * b[j]! * s * diff;
        gradY[j * d + t] = gradY[j * d + t]! + a[i]! * b[j]! * s * diff;
      }
    }
  }
  return {
    value,
    loss,
    solver: 'kernel',
    gradX,
    gradY,
    gradA,
    gradB,
    f: new Float64Array(0),
    g: new Float64Array(0),
    n: x.n,
    m: y.n,
    d,
    epsilon: Number.NaN,
    epsList: [],
    diameter: Number.NaN,
    iterations: 0,
    extraIterations: 0,
    residual: Number.NaN,
    converged: true,
    errorBound: 0,
    costMode: 'none',
  };
}
