/**
 * Differentiable tfjs ops for the Sinkhorn divergence (and biased OT_ε, unbalanced transport, the exact 1-D path and
 * the kernel losses), with geomloss's envelope gradients w.r.t. the points and the weights.
 *
 * Engines (chosen per call, reported through `onInfo`):
 *  - 'cpu-f64': the float64 core (samples-loss.ts), exact 1-D path included; needs the values on the CPU: read
 *    synchronously on cpu/wasm by the sync ops, or asynchronously by `solveDivergence` on any backend.
 *    Gradients are precomputed and multiplied by the upstream gradient.
 *  - 'tensor': the same loop on float32 tensors (tensor-seam.ts) on the active backend, problems of equal shape and
 *    equal ε schedule batched into one loop: dense cost for small problems, @fairclip/compute's fused online
 *    soft-min for large ones. Runs on WebGPU without any read-back once the diameter is known.
 *  - 'auto' (default): see routing.ts.
 *
 * On WebGPU the synchronous ops can only run the tensor engine, and need `diameter` (the ε schedule's length depends
 * on it) because they cannot read the points. The async pair `solveDivergence` + `divergenceFromSolution` works
 * everywhere: it reads what it needs, validates the values, routes small problems (and those float32 cannot resolve)
 * to the float64 CPU core and large ones to the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OtInputError } from './errors.ts';
import { checkPositive } from './inputs.ts';
import { getRouting, type RoutingConfig } from './routing.ts';
import { type SamplesLossOptions, type SamplesLossResult, type SolverUsed, samplesLoss } from './samples-loss.ts';
import { epsilonSchedule } from './schedule.ts';
import { tensorDivergence } from './tensor-divergence.ts';
import type { TensorCostMode } from './tensor-seam.ts';

export type Engine = 'auto' | 'cpu-f64' | 'tensor';

export interface DivergenceOptions extends Omit<SamplesLossOptions, 'a' | 'b' | 'costMode'> {
  /** 'auto' (default), 'cpu-f64' or 'tensor'. */
  engine?: Engine;
  /** Tensor engine cost: 'auto' (dense when K·N·M <= routing.tensorDenseMaxEntries), 'dense' or 'online' (p = 2). */
  tensorCost?: 'auto' | TensorCostMode;
  /** float64 core cost: 'auto' (dense when max(N, M)² <= routing.f64DenseMaxEntries), 'dense' or 'online'. */
  costMode?: NonNullable<SamplesLossOptions['costMode']>;
  /**
   * Several problems: 'per-problem' (default) estimates one diameter per problem, as separate geomloss calls do
   * (FairCLIP's per-group terms); 'shared' uses one diameter over all of them, as one batched geomloss call does.
   */
  diameterMode?: 'per-problem' | 'shared';
  /** Called with what each problem's solve did (engine, solver, ε list, convergence, float32 resolution). */
  onInfo?: (info: DivergenceInfo[]) => void;
}

export interface DivergenceInfo {
  engine: 'cpu-f64' | 'tensor';
  /** Why this engine: the routing rule that fired (see routing.ts). */
  route: string;
  solver: SolverUsed;
  /** The value (undefined when it stays on the device: tensor engine on WebGPU). */
  value: number | undefined;
  epsilon: number;
  epsList: number[];
  diameter: number;
  iterations: number;
  /**
   * Whether the marginal residual met tol·mass (see SamplesLossResult.converged). undefined when not measured (tensor
   * engine on a backend that cannot read synchronously: reading would stall the device) or not measurable (tensor
   * engine where float32 rounding of the potentials alone exceeds a 1 % marginal error: ε < ~4·10⁻⁴·diameter^p).
   */
  converged: boolean | undefined;
  /** The marginal residual (NaN when not measured or not applicable). */
  residual: number;
  /** exact-1d: bound on |value − S_ε|. */
  errorBound: number;
  /**
   * false when ε < routing.float32MinRelativeEps · diameter^p on the float32 tensor engine: the entropic smoothing is
   * below float32 resolution there (a warning is printed once). Always true for cpu-f64.
   */
  float32Resolved: boolean;
  /** Cost evaluation: 'dense' or 'online' (Sinkhorn), 'none' (exact-1d, kernels). */
  costMode: 'dense' | 'online' | 'none';
  /** How many problems ran in the same batched loop (1 for cpu-f64). */
  batch: number;
}

/** One problem of a `sinkhornDivergenceMany` call: points [N] or [N, D], optional weights [N] (tensor or array). */
export interface DivergenceProblem {
  x: tf.Tensor;
  y: tf.Tensor;
  a?: tf.Tensor | ArrayLike<number>;
  b?: tf.Tensor | ArrayLike<number>;
}

let warnedFloat32 = false;
/** The smallest ε the float32 tensor engine uses (schedules are clamped to it; such ε is never float32-resolved). */
const F32_MIN_EPS = 1e-30;

/** Whether the active backend can read tensors synchronously (cpu, wasm). */
export function backendReadsSync(backend: string = tf.getBackend()): boolean {
  return backend === 'cpu' || backend === 'wasm';
}

interface Shape {
  n: number;
  m: number;
  d: number;
}

function asPoints(name: string, t: tf.Tensor): { n: number; d: number } {
  if (!(t instanceof tf.Tensor)) throw new OtInputError('SHAPE_MISMATCH', `${name} must be a tf.Tensor`);
  if (t.dtype !== 'float32') throw new OtInputError('SHAPE_MISMATCH', `${name} must be float32, got ${t.dtype}`);
  if (t.rank === 1) return { n: t.shape[0]!, d: 1 };
  if (t.rank === 2) return { n: t.shape[0]!, d: t.shape[1]! };
  throw new OtInputError('SHAPE_MISMATCH', `${name} must have shape [N] or [N, D], got [${t.shape.join(', ')}]`);
}

function weightShape(name: string, w: tf.Tensor | ArrayLike<number> | undefined, n: number): void {
  if (w === undefined) return;
  if (w instanceof tf.Tensor && w.dtype !== 'float32') {
    throw new OtInputError('SHAPE_MISMATCH', `${name} must be float32, got ${w.dtype}`);
  }
  const len = w instanceof tf.Tensor ? (w.rank === 1 ? w.shape[0] : -1) : w.length;
  if (len !== n) {
    throw new OtInputError(
      'SHAPE_MISMATCH',
      `${name} must have ${n} weights (one per point)${w instanceof tf.Tensor ? `, got shape [${w.shape.join(', ')}]` : `, got ${len}`}`,
    );
  }
}

function shapesOf(problems: readonly DivergenceProblem[]): Shape[] {
  if (!Array.isArray(problems) || problems.length === 0) {
    throw new OtInputError('EMPTY_INPUT', 'expected a non-empty array of problems {x, y, a?, b?}');
  }
  return problems.map((pb, k) => {
    const sx = asPoints(`problems[${k}].x`, pb.x);
    const sy = asPoints(`problems[${k}].y`, pb.y);
    if (sx.d !== sy.d) {
      throw new OtInputError(
        'SHAPE_MISMATCH',
        `problems[${k}]: x and y must have the same dimension, got ${sx.d} and ${sy.d}`,
      );
    }
    if (sx.n === 0 || sy.n === 0) throw new OtInputError('EMPTY_INPUT', `problems[${k}]: empty point cloud`);
    if (sx.d === 0)
      throw new OtInputError('SHAPE_MISMATCH', `problems[${k}]: points must have at least one coordinate`);
    weightShape(`problems[${k}].a`, pb.a, sx.n);
    weightShape(`problems[${k}].b`, pb.b, sy.n);
    return { n: sx.n, m: sy.n, d: sx.d };
  });
}

function readSync(t: tf.Tensor): Float64Array {
  return Float64Array.from(t.dataSync() as Float32Array);
}

function weightsF64(w: tf.Tensor | ArrayLike<number> | undefined): Float64Array | undefined {
  if (w === undefined) return undefined;
  return w instanceof tf.Tensor ? readSync(w) : Float64Array.from(w);
}

function f64Options(
  opts: DivergenceOptions,
  a: Float64Array | undefined,
  b: Float64Array | undefined,
  diameter?: number,
) {
  const { engine: _e, tensorCost: _t, diameterMode: _m, onInfo: _o, ...rest } = opts;
  const o: SamplesLossOptions = { ...rest };
  if (a) o.a = a;
  if (b) o.b = b;
  if (diameter !== undefined) o.diameter = diameter;
  return o;
}

function infoFromF64(r: SamplesLossResult, route: string): DivergenceInfo {
  return {
    engine: 'cpu-f64',
    route,
    solver: r.solver,
    value: r.value,
    epsilon: r.epsilon,
    epsList: r.epsList,
    diameter: r.diameter,
    iterations: r.iterations,
    converged: r.converged,
    residual: r.residual,
    errorBound: r.errorBound,
    float32Resolved: true,
    costMode: r.costMode,
    batch: 1,
  };
}

/** samplesLoss with the problem index in error messages. */
function solveF64(k: number, x: Float64Array, y: Float64Array, sh: Shape, o: SamplesLossOptions): SamplesLossResult {
  try {
    return samplesLoss({ data: x, n: sh.n, d: sh.d }, { data: y, n: sh.m, d: sh.d }, o);
  } catch (err) {
    if (err instanceof OtInputError) throw new OtInputError(err.code, `problems[${k}]: ${err.message}`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Routing

export interface EngineChoice {
  engine: 'cpu-f64' | 'tensor';
  /** The rule that fired, in words. */
  reason: string;
}

export interface RouteQuery {
  /** tfjs backend name ('cpu', 'wasm', 'webgpu', ...). */
  backend: string;
  /** Whether the caller can wait for asynchronous reads (solveDivergence) or not (the synchronous ops). */
  async: boolean;
  /** Largest N·M of the problems, and their sum. */
  maxEntries: number;
  totalEntries: number;
  loss: SamplesLossOptions['loss'];
  /** Every problem is 1-D and balanced. */
  oneDimBalanced: boolean;
  /**
   * The exact 1-D path applies (1-D, balanced, loss 'sinkhorn', solver not 'sinkhorn', not geomlossCompatible):
   * such problems stay on the CPU whatever their size (O(n log n) after an O(n) read-back).
   */
  exactEligible?: boolean;
  /** Whether float32 resolves ε for every problem (undefined: not known yet). */
  float32Resolved?: boolean;
  engine?: Engine;
}

/** The engine routing of routing.ts, as a pure function (exported for tests and for callers that plan ahead). */
export function chooseEngine(q: RouteQuery, routing: Readonly<RoutingConfig> = getRouting()): EngineChoice {
  const engine = q.engine ?? 'auto';
  const sync = backendReadsSync(q.backend);
  if (engine === 'cpu-f64') {
    if (!sync && !q.async) {
      throw new OtInputError(
        'SYNC_READ_UNAVAILABLE',
        `engine 'cpu-f64' reads tensors synchronously, which the '${q.backend}' backend cannot do; ` +
          "use engine 'tensor' (float32 on this backend, with a given diameter) or the async solveDivergence()",
      );
    }
    return { engine: 'cpu-f64', reason: 'engine cpu-f64 requested' };
  }
  if (engine === 'tensor') {
    if (q.loss !== undefined && q.loss !== 'sinkhorn') {
      throw new OtInputError('UNSUPPORTED', `the tensor engine implements loss 'sinkhorn' only (got '${q.loss}')`);
    }
    return { engine: 'tensor', reason: 'engine tensor requested' };
  }
  if (engine !== 'auto') {
    throw new OtInputError('INVALID_OPTION', `engine must be 'auto', 'cpu-f64' or 'tensor', got ${String(engine)}`);
  }
  if (q.loss !== undefined && q.loss !== 'sinkhorn') {
    if (sync || q.async) return { engine: 'cpu-f64', reason: `loss '${q.loss}' runs on the float64 core only` };
    throw new OtInputError(
      'UNSUPPORTED',
      `loss '${q.loss}' runs on the float64 core only, which needs to read the points: use solveDivergence() on '${q.backend}'`,
    );
  }
  if ((sync || q.async) && q.exactEligible) {
    return {
      engine: 'cpu-f64',
      reason:
        '1-D balanced: the exact sorted-quantile path on the CPU (O(n log n); a GPU never beat it, see pnpm bench)',
    };
  }
  if (sync) {
    return q.maxEntries <= routing.f64MaxEntries
      ? {
          engine: 'cpu-f64',
          reason: `max N·M = ${q.maxEntries} <= f64MaxEntries (${routing.f64MaxEntries}) on ${q.backend}`,
        }
      : { engine: 'tensor', reason: `max N·M = ${q.maxEntries} > f64MaxEntries (${routing.f64MaxEntries})` };
  }
  if (!q.async) return { engine: 'tensor', reason: `the '${q.backend}' backend cannot read synchronously` };
  if (q.totalEntries <= routing.gpuMinEntries) {
    return {
      engine: 'cpu-f64',
      reason: `Σ N·M = ${q.totalEntries} <= gpuMinEntries (${routing.gpuMinEntries}): the CPU is faster for small problems`,
    };
  }
  if (q.float32Resolved === false && (q.oneDimBalanced || q.maxEntries <= routing.f64MaxEntries)) {
    return { engine: 'cpu-f64', reason: 'float32 cannot resolve ε: float64 on the CPU instead' };
  }
  return { engine: 'tensor', reason: `Σ N·M = ${q.totalEntries} > gpuMinEntries (${routing.gpuMinEntries})` };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation and diameters from device-side summaries (one small read per problem)

/** [lo(d), hi(d), #non-finite points, Σa, min a, #non-finite a, Σb, min b, #non-finite b] of one problem. */
function summaryTensor(pb: DivergenceProblem, sh: Shape): tf.Tensor1D {
  return tf.tidy(() => {
    const x2 = tf.reshape(pb.x, [sh.n, sh.d]);
    const y2 = tf.reshape(pb.y, [sh.m, sh.d]);
    const lo = tf.minimum(tf.min(x2, 0), tf.min(y2, 0));
    const hi = tf.maximum(tf.max(x2, 0), tf.max(y2, 0));
    const bad = (t: tf.Tensor) => tf.reshape(tf.sum(tf.cast(tf.logicalNot(tf.isFinite(t)), 'float32')), [1]);
    const parts: tf.Tensor[] = [lo, hi, tf.add(bad(x2), bad(y2))];
    for (const [w, n] of [
      [pb.a, sh.n],
      [pb.b, sh.m],
    ] as const) {
      if (w instanceof tf.Tensor) parts.push(tf.reshape(tf.sum(w), [1]), tf.reshape(tf.min(w), [1]), bad(w));
      else parts.push(tf.tensor1d([1, 1 / n, 0])); // arrays are validated in JS; uniform: mass 1
    }
    return tf.concat(parts) as tf.Tensor1D;
  });
}

interface Summary {
  lo: number[];
  hi: number[];
}

function checkSummary(
  k: number,
  s: ArrayLike<number>,
  sh: Shape,
  pb: DivergenceProblem,
  opts: DivergenceOptions,
): Summary {
  const d = sh.d;
  const lo = Array.from({ length: d }, (_, i) => s[i]!);
  const hi = Array.from({ length: d }, (_, i) => s[d + i]!);
  const o = 2 * d;
  if (s[o]! > 0) {
    throw new OtInputError('NON_FINITE_POINTS', `problems[${k}]: ${s[o]} point coordinates are not finite (NaN or ±∞)`);
  }
  const mass: number[] = [];
  for (const [side, w, off] of [
    ['a', pb.a, o + 1],
    ['b', pb.b, o + 4],
  ] as const) {
    if (w !== undefined && !(w instanceof tf.Tensor)) {
      // Arrays: full check in JS.
      let total = 0;
      for (let i = 0; i < w.length; i++) {
        const v = w[i]!;
        if (!Number.isFinite(v))
          throw new OtInputError('NON_FINITE_WEIGHTS', `problems[${k}].${side}[${i}] is not finite (${v})`);
        if (v < 0) throw new OtInputError('NEGATIVE_WEIGHTS', `problems[${k}].${side}[${i}] is negative (${v})`);
        total += v;
      }
      mass.push(total);
      continue;
    }
    const [sum, min, bad] = [s[off]!, s[off + 1]!, s[off + 2]!];
    if (bad > 0) throw new OtInputError('NON_FINITE_WEIGHTS', `problems[${k}].${side}: ${bad} weights are not finite`);
    if (min < 0) throw new OtInputError('NEGATIVE_WEIGHTS', `problems[${k}].${side}: a weight is negative (${min})`);
    mass.push(sum);
  }
  for (const [i, m] of mass.entries()) {
    if (!(m > 0)) {
      throw new OtInputError(
        'ZERO_MASS',
        `problems[${k}].${i === 0 ? 'a' : 'b'}: the weights sum to ${m}; need a positive mass`,
      );
    }
  }
  if (opts.reach === undefined) {
    const [ma, mb] = mass as [number, number];
    const rtol = opts.massTolerance ?? 1e-5; // float32 sums
    if (Math.abs(ma - mb) > rtol * Math.max(ma, mb)) {
      throw new OtInputError(
        'UNEQUAL_MASS',
        `problems[${k}]: the weights a and b have different total masses (${ma} vs ${mb}); balanced OT needs equal ` +
          'masses: normalise the weights, or use unbalanced transport (reach)',
      );
    }
  }
  return { lo, hi };
}

function diameterOf(boxes: readonly Summary[]): number {
  const d = boxes[0]!.lo.length;
  let s = 0;
  for (let i = 0; i < d; i++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const b of boxes) {
      lo = Math.min(lo, b.lo[i]!);
      hi = Math.max(hi, b.hi[i]!);
    }
    s += (hi - lo) ** 2;
  }
  return Math.sqrt(s);
}

/** Per-problem schedule diameters: the given one, else one estimate per problem or one shared estimate. */
function diametersFrom(boxes: readonly Summary[], shapes: readonly Shape[], opts: DivergenceOptions): number[] {
  if (opts.diameter !== undefined) {
    checkPositive('diameter', opts.diameter);
    return boxes.map(() => opts.diameter!);
  }
  const blur = opts.blur ?? 0.05;
  const fix = (v: number) => (v > 0 ? v : blur); // all points identical: geomloss would divide by 0
  if ((opts.diameterMode ?? 'per-problem') === 'shared') {
    const dims = new Set(shapes.map((s) => s.d));
    if (dims.size > 1)
      throw new OtInputError('SHAPE_MISMATCH', "diameterMode 'shared' needs one point dimension for all problems");
    const dd = fix(diameterOf(boxes));
    return boxes.map(() => dd);
  }
  return boxes.map((b) => fix(diameterOf([b])));
}

function summariesSync(
  problems: readonly DivergenceProblem[],
  shapes: readonly Shape[],
  opts: DivergenceOptions,
): Summary[] {
  return problems.map((pb, k) => {
    const t = summaryTensor(pb, shapes[k]!);
    const s = t.dataSync();
    t.dispose();
    return checkSummary(k, s, shapes[k]!, pb, opts);
  });
}

async function summariesAsync(
  problems: readonly DivergenceProblem[],
  shapes: readonly Shape[],
  opts: DivergenceOptions,
): Promise<Summary[]> {
  const ts = problems.map((pb, k) => summaryTensor(pb, shapes[k]!));
  try {
    const values = await Promise.all(ts.map((t) => t.data()));
    return values.map((s, k) => checkSummary(k, s, shapes[k]!, problems[k]!, opts));
  } finally {
    tf.dispose(ts);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The float64 op

function f64Op(
  problems: readonly DivergenceProblem[],
  results: readonly SamplesLossResult[] | undefined,
  solve: ((ins: tf.Tensor[], slots: Slot[]) => SamplesLossResult[]) | undefined,
  onResults?: (r: readonly SamplesLossResult[]) => void,
): tf.Tensor1D {
  const { inputs, slots } = flatten(problems);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    args.pop();
    const ins = args as tf.Tensor[];
    const rs = results ?? solve!(ins, slots);
    onResults?.(rs);
    return {
      value: tf.tensor1d(rs.map((r) => r.value)),
      gradFunc: (dy: tf.Tensor) => {
        const dys = tf.unstack(dy);
        const grads: tf.Tensor[] = new Array(ins.length);
        slots.forEach((s, k) => {
          const r = rs[k]!;
          const dk = dys[k]!;
          grads[s.xi] = tf.mul(dk, tf.tensor(Float32Array.from(r.gradX), ins[s.xi]!.shape));
          grads[s.yi] = tf.mul(dk, tf.tensor(Float32Array.from(r.gradY), ins[s.yi]!.shape));
          if (s.ai >= 0) grads[s.ai] = tf.mul(dk, tf.tensor(Float32Array.from(r.gradA), ins[s.ai]!.shape));
          if (s.bi >= 0) grads[s.bi] = tf.mul(dk, tf.tensor(Float32Array.from(r.gradB), ins[s.bi]!.shape));
        });
        return grads;
      },
    };
  });
  return op(...inputs) as tf.Tensor1D;
}

interface Slot {
  xi: number;
  yi: number;
  ai: number;
  bi: number;
}

/** The op's inputs: x_k, y_k, then a_k / b_k when they are tensors (so gradients reach them). */
function flatten(problems: readonly DivergenceProblem[]): { inputs: tf.Tensor[]; slots: Slot[] } {
  const inputs: tf.Tensor[] = [];
  const slots = problems.map((pb) => {
    const xi = inputs.push(pb.x) - 1;
    const yi = inputs.push(pb.y) - 1;
    const ai = pb.a instanceof tf.Tensor ? inputs.push(pb.a) - 1 : -1;
    const bi = pb.b instanceof tf.Tensor ? inputs.push(pb.b) - 1 : -1;
    return { xi, yi, ai, bi };
  });
  return { inputs, slots };
}

// ---------------------------------------------------------------------------------------------------------------
// The tensor op: problems of equal shape and schedule run as one batched loop

interface TensorPlan {
  p: number;
  eps: number;
  rho: number | undefined;
  debias: boolean;
  float32Resolved: boolean;
}

function tensorPlan(
  opts: DivergenceOptions,
  diameters: readonly number[],
  routing: Readonly<RoutingConfig>,
): TensorPlan {
  const p = opts.p ?? 2;
  const blur = opts.blur ?? 0.05;
  checkPositive('blur', blur);
  if (!(p >= 1 && Number.isFinite(p)))
    throw new OtInputError('INVALID_OPTION', `p must be a finite number >= 1, got ${p}`);
  if (opts.solver === 'exact-1d') {
    throw new OtInputError(
      'UNSUPPORTED',
      "solver 'exact-1d' runs on the float64 engine only (engine 'cpu-f64' or solveDivergence)",
    );
  }
  if (opts.loss !== undefined && opts.loss !== 'sinkhorn') {
    throw new OtInputError('UNSUPPORTED', `the tensor engine implements loss 'sinkhorn' only (got '${opts.loss}')`);
  }
  if (opts.reach !== undefined) checkPositive('reach', opts.reach);
  const eps = blur ** p;
  if (!(eps > 0)) throw new OtInputError('INVALID_EPSILON', `blur^p underflows to ${eps}; use a larger blur`);
  const maxDiam = Math.max(...diameters);
  const float32Resolved = eps >= routing.float32MinRelativeEps * maxDiam ** p;
  if (!float32Resolved && !warnedFloat32) {
    warnedFloat32 = true;
    console.warn(
      `[@fairclip/ot] tensor engine (float32): ε = ${eps} is below ${routing.float32MinRelativeEps}·diameter^p = ` +
        `${routing.float32MinRelativeEps * maxDiam ** p}; float32 cannot resolve the entropic smoothing there ` +
        '(values are accurate only to ~1e-7·diameter^p). Use solveDivergence() (routes such problems to float64) ' +
        "or engine 'cpu-f64'.",
    );
  }
  return {
    p,
    eps: Math.max(eps, F32_MIN_EPS),
    rho: opts.reach === undefined ? undefined : opts.reach ** p,
    debias: opts.debias ?? true,
    float32Resolved,
  };
}

function tensorOp(
  problems: readonly DivergenceProblem[],
  shapes: readonly Shape[],
  diameters: readonly number[],
  opts: DivergenceOptions,
  route: string,
): tf.Tensor1D {
  const routing = getRouting(opts.routing);
  const plan = tensorPlan(opts, diameters, routing);
  const scaling = opts.scaling ?? 0.5;
  const sync = backendReadsSync();
  // Groups: equal (n, m, d) and equal diameter (hence equal ε schedule) share one batched loop.
  const groups = new Map<string, number[]>();
  shapes.forEach((sh, k) => {
    const key = `${sh.n}|${sh.m}|${sh.d}|${diameters[k]}`;
    const g = groups.get(key);
    if (g) g.push(k);
    else groups.set(key, [k]);
  });
  const costOpt = opts.tensorCost ?? 'auto';
  if (costOpt !== 'auto' && costOpt !== 'dense' && costOpt !== 'online') {
    throw new OtInputError('INVALID_OPTION', `tensorCost must be 'auto', 'dense' or 'online', got ${String(costOpt)}`);
  }
  const { inputs, slots } = flatten(problems);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ins = args as tf.Tensor[];
    const values: tf.Tensor[] = new Array(problems.length);
    const saved: tf.Tensor[] = new Array(4 * problems.length);
    const infos: DivergenceInfo[] = new Array(problems.length);
    for (const ks of groups.values()) {
      const sh = shapes[ks[0]!]!;
      const B = ks.length;
      const diameter = diameters[ks[0]!]!;
      // float32 has no ε below ~1e-38 (a diameter of 1e-20 squares to 0 there): clamp the schedule at 1e-30.
      const epsList = epsilonSchedule(plan.p, diameter, opts.blur ?? 0.05, scaling).map((e) =>
        Math.max(e, F32_MIN_EPS),
      );
      const mode: TensorCostMode =
        costOpt === 'auto' ? (B * sh.n * sh.m <= routing.tensorDenseMaxEntries ? 'dense' : 'online') : costOpt;
      if (mode === 'online' && plan.p !== 2) {
        throw new OtInputError(
          'UNSUPPORTED',
          `the online tensor cost computes gradients for p = 2 only (got p = ${plan.p}); use tensorCost 'dense'`,
        );
      }
      const stackPts = (which: 'xi' | 'yi', n: number) =>
        tf.stack(ks.map((k) => tf.reshape(ins[slots[k]![which]]!, [n, sh.d]))) as tf.Tensor3D;
      const stackW = (which: 'ai' | 'bi', side: 'a' | 'b', n: number) =>
        tf.stack(
          ks.map((k) => {
            const s = slots[k]![which];
            if (s >= 0) return tf.cast(ins[s]!, 'float32');
            const w = problems[k]![side];
            return w === undefined ? tf.fill([n], 1 / n) : tf.tensor1d(Float32Array.from(w as ArrayLike<number>));
          }),
        ) as tf.Tensor2D;
      const x3 = stackPts('xi', sh.n);
      const y3 = stackPts('yi', sh.m);
      const a2 = stackW('ai', 'a', sh.n);
      const b2 = stackW('bi', 'b', sh.m);
      const r = tensorDivergence(x3, a2, y3, b2, {
        p: plan.p,
        eps: plan.eps,
        epsList,
        rho: plan.rho,
        debias: plan.debias,
        mode,
      });
      tf.dispose([x3, y3, a2, b2]);
      const vs = tf.unstack(r.value);
      const gx = tf.unstack(r.gradX);
      const gy = tf.unstack(r.gradY);
      const ga = tf.unstack(r.gradA);
      const gb = tf.unstack(r.gradB);
      const residual = sync ? r.residual.dataSync() : undefined;
      tf.dispose([r.value, r.gradX, r.gradY, r.gradA, r.gradB, r.f, r.g, r.residual]);
      ks.forEach((k, i) => {
        values[k] = vs[i]!;
        saved[4 * k] = gx[i]!;
        saved[4 * k + 1] = gy[i]!;
        saved[4 * k + 2] = ga[i]!;
        saved[4 * k + 3] = gb[i]!;
        const res = residual ? residual[i]! : Number.NaN;
        // float32 floor: potentials carry ~2⁻²⁴·diameter^p of rounding, i.e. that over ε in the residual's exponent;
        // above 1 % the residual says nothing (converged: undefined).
        const floor = (64 * 2 ** -24 * diameter ** plan.p) / plan.eps;
        const tol = Math.max(opts.tol ?? 1e-9, floor);
        infos[k] = {
          engine: 'tensor',
          route,
          solver: 'sinkhorn',
          value: sync ? vs[i]!.dataSync()[0] : undefined,
          epsilon: plan.eps,
          epsList,
          diameter,
          iterations: epsList.length,
          converged: residual && floor < 1e-2 ? res <= tol : undefined,
          residual: res,
          errorBound: 0,
          float32Resolved: plan.float32Resolved,
          costMode: mode,
          batch: B,
        };
      });
    }
    save(saved);
    opts.onInfo?.(infos);
    return {
      value: tf.stack(values) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, sv: tf.Tensor[]) => {
        const dys = tf.unstack(dy);
        const grads: tf.Tensor[] = new Array(ins.length);
        slots.forEach((s, k) => {
          const dk = dys[k]!;
          grads[s.xi] = tf.reshape(tf.mul(dk, sv[4 * k]!), ins[s.xi]!.shape);
          grads[s.yi] = tf.reshape(tf.mul(dk, sv[4 * k + 1]!), ins[s.yi]!.shape);
          if (s.ai >= 0) grads[s.ai] = tf.reshape(tf.mul(dk, sv[4 * k + 2]!), ins[s.ai]!.shape);
          if (s.bi >= 0) grads[s.bi] = tf.reshape(tf.mul(dk, sv[4 * k + 3]!), ins[s.bi]!.shape);
        });
        return grads;
      },
    };
  });
  return op(...inputs) as tf.Tensor1D;
}

// ---------------------------------------------------------------------------------------------------------------
// Public synchronous ops

function entriesOf(shapes: readonly Shape[]): { maxEntries: number; totalEntries: number } {
  let maxEntries = 0;
  let totalEntries = 0;
  for (const s of shapes) {
    maxEntries = Math.max(maxEntries, s.n * s.m);
    totalEntries += s.n * s.m;
  }
  return { maxEntries, totalEntries };
}

function oneDimBalanced(shapes: readonly Shape[], opts: DivergenceOptions): boolean {
  return opts.reach === undefined && shapes.every((s) => s.d === 1);
}

function exactEligible(shapes: readonly Shape[], opts: DivergenceOptions): boolean {
  return (
    oneDimBalanced(shapes, opts) &&
    (opts.loss ?? 'sinkhorn') === 'sinkhorn' &&
    opts.solver !== 'sinkhorn' &&
    opts.geomlossCompatible !== true
  );
}

/**
 * Sinkhorn divergences (or any samplesLoss) of K problems as one differentiable op: returns a Tensor1D [K]. Gradients
 * flow to every x, y and to the weights given as tensors. Problems may have different sizes (FairCLIP: one batch vs
 * each group); on the tensor engine, problems of equal shape and equal ε schedule run as one batched loop.
 */
export function sinkhornDivergenceMany(
  problems: readonly DivergenceProblem[],
  opts: DivergenceOptions = {},
): tf.Tensor1D {
  const shapes = shapesOf(problems);
  const routing = getRouting(opts.routing);
  const choice = chooseEngine(
    {
      backend: tf.getBackend(),
      async: false,
      ...entriesOf(shapes),
      loss: opts.loss,
      oneDimBalanced: oneDimBalanced(shapes, opts),
      exactEligible: exactEligible(shapes, opts),
      ...(opts.engine === undefined ? {} : { engine: opts.engine }),
    },
    routing,
  );
  const sync = backendReadsSync();
  if (choice.engine === 'cpu-f64') {
    // Shared diameter: estimated over all problems first (per-problem estimates are samplesLoss's own).
    let shared: number | undefined;
    if (opts.diameter === undefined && opts.diameterMode === 'shared') {
      shared = diametersFrom(summariesSync(problems, shapes, opts), shapes, opts)[0];
    }
    return f64Op(
      problems,
      undefined,
      (ins, slots) =>
        problems.map((pb, k) => {
          const s = slots[k]!;
          const a = s.ai >= 0 ? readSync(ins[s.ai]!) : weightsF64(pb.a);
          const b = s.bi >= 0 ? readSync(ins[s.bi]!) : weightsF64(pb.b);
          return solveF64(k, readSync(ins[s.xi]!), readSync(ins[s.yi]!), shapes[k]!, f64Options(opts, a, b, shared));
        }),
      (rs) => opts.onInfo?.(rs.map((r) => infoFromF64(r, choice.reason))),
    );
  }
  let diameters: number[];
  if (sync) {
    diameters = diametersFrom(summariesSync(problems, shapes, opts), shapes, opts);
  } else if (opts.diameter !== undefined) {
    checkPositive('diameter', opts.diameter);
    diameters = problems.map(() => opts.diameter!);
  } else {
    throw new OtInputError(
      'SYNC_READ_UNAVAILABLE',
      `the ε schedule needs the diameter, and the '${tf.getBackend()}' backend cannot read tensors synchronously: ` +
        'pass `diameter` (an upper bound of the spread of the points), or use the async solveDivergence()',
    );
  }
  return tensorOp(problems, shapes, diameters, opts, choice.reason);
}

/** Sinkhorn divergence (or another samplesLoss) between point clouds x [N] | [N, D] and y: a differentiable scalar. */
export function sinkhornDivergence(
  x: tf.Tensor,
  y: tf.Tensor,
  opts: DivergenceOptions & { a?: tf.Tensor | ArrayLike<number>; b?: tf.Tensor | ArrayLike<number> } = {},
): tf.Scalar {
  const { a, b, ...rest } = opts;
  const pb: DivergenceProblem = { x, y };
  if (a !== undefined) pb.a = a;
  if (b !== undefined) pb.b = b;
  return tf.tidy(() => tf.reshape(sinkhornDivergenceMany([pb], rest), []) as tf.Scalar);
}

/**
 * B problems of equal sizes: x [B, N, D], y [B, M, D], optional weights a [B, N], b [B, M] → Tensor1D [B].
 * 'per-problem' diameters (default) match B separate geomloss calls; 'shared' matches one batched geomloss call.
 */
export function sinkhornDivergenceBatched(
  x: tf.Tensor3D,
  y: tf.Tensor3D,
  opts: DivergenceOptions & { a?: tf.Tensor2D; b?: tf.Tensor2D } = {},
): tf.Tensor1D {
  if (!(x instanceof tf.Tensor) || !(y instanceof tf.Tensor) || x.rank !== 3 || y.rank !== 3) {
    throw new OtInputError('SHAPE_MISMATCH', 'x and y must be tf.Tensor3D of shape [B, N, D] and [B, M, D]');
  }
  const [B, N] = x.shape;
  const [By, M] = y.shape;
  if (By !== B || y.shape[2] !== x.shape[2]) {
    throw new OtInputError(
      'SHAPE_MISMATCH',
      `x [${x.shape.join(', ')}] and y [${y.shape.join(', ')}] must share B and D`,
    );
  }
  if (B === 0) throw new OtInputError('EMPTY_INPUT', 'the batch is empty (B = 0)');
  const { a, b, ...rest } = opts;
  if (a && (a.rank !== 2 || a.shape[0] !== B || a.shape[1] !== N)) {
    throw new OtInputError('SHAPE_MISMATCH', `a must have shape [${B}, ${N}], got [${a.shape.join(', ')}]`);
  }
  if (b && (b.rank !== 2 || b.shape[0] !== B || b.shape[1] !== M)) {
    throw new OtInputError('SHAPE_MISMATCH', `b must have shape [${B}, ${M}], got [${b.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const xs = tf.unstack(x);
    const ys = tf.unstack(y);
    const as = a ? tf.unstack(a) : undefined;
    const bs = b ? tf.unstack(b) : undefined;
    const problems = xs.map((xk, k) => {
      const pb: DivergenceProblem = { x: xk, y: ys[k]! };
      if (as) pb.a = as[k]!;
      if (bs) pb.b = bs[k]!;
      return pb;
    });
    return sinkhornDivergenceMany(problems, rest);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Async: read, validate, route; then attach inside a gradient scope

/** What `solveDivergence` decided and computed; consumed by `divergenceFromSolution`. */
export interface DivergenceSolution {
  readonly engine: 'cpu-f64' | 'tensor';
  /** Why (routing rule). */
  readonly route: string;
  /** cpu-f64: the float64 results (values, envelope gradients, potentials, convergence). Empty for 'tensor'. */
  readonly results: readonly SamplesLossResult[];
  /** The schedule diameters (tensor engine), for the device loop. */
  readonly diameters: readonly number[];
  readonly shapes: readonly { x: number[]; y: number[] }[];
  readonly options: DivergenceOptions;
}

/**
 * Reads what it needs from the problems' tensors with `await data()` (works on WebGPU), validates them (finite points,
 * weights >= 0 with equal masses when balanced), and routes (routing.ts): small problems, and those float32 cannot
 * resolve, are solved here by the float64 core (samplesLoss semantics, exact 1-D path included); large ones are left to
 * the device's tensor engine with the diameters measured here. Pair with `divergenceFromSolution` inside a gradient
 * scope.
 */
export async function solveDivergence(
  problems: readonly DivergenceProblem[],
  opts: DivergenceOptions = {},
): Promise<DivergenceSolution> {
  const shapes = shapesOf(problems);
  const routing = getRouting(opts.routing);
  const backend = tf.getBackend();
  const entries = entriesOf(shapes);
  const base = {
    backend,
    async: true,
    ...entries,
    loss: opts.loss,
    oneDimBalanced: oneDimBalanced(shapes, opts),
    exactEligible: exactEligible(shapes, opts),
    ...(opts.engine === undefined ? {} : { engine: opts.engine }),
  };
  let choice = chooseEngine(base, routing);
  let diameters: number[] = [];
  if (choice.engine === 'tensor' || opts.diameterMode === 'shared') {
    diameters = diametersFrom(await summariesAsync(problems, shapes, opts), shapes, opts);
    if (choice.engine === 'tensor' && (opts.engine ?? 'auto') === 'auto') {
      const p = opts.p ?? 2;
      const eps = (opts.blur ?? 0.05) ** p;
      const float32Resolved = eps >= routing.float32MinRelativeEps * Math.max(...diameters) ** p;
      choice = chooseEngine({ ...base, float32Resolved }, routing);
    }
  }
  const shapeList = problems.map((pb) => ({ x: [...pb.x.shape], y: [...pb.y.shape] }));
  if (choice.engine === 'tensor') {
    return { engine: 'tensor', route: choice.reason, results: [], diameters, shapes: shapeList, options: opts };
  }
  const results: SamplesLossResult[] = [];
  for (const [k, pb] of problems.entries()) {
    const [x, y, a, b] = await Promise.all([
      pb.x.data(),
      pb.y.data(),
      pb.a instanceof tf.Tensor ? pb.a.data() : Promise.resolve(pb.a),
      pb.b instanceof tf.Tensor ? pb.b.data() : Promise.resolve(pb.b),
    ]);
    const o = f64Options(
      opts,
      a === undefined ? undefined : Float64Array.from(a as ArrayLike<number>),
      b === undefined ? undefined : Float64Array.from(b as ArrayLike<number>),
      opts.diameterMode === 'shared' && opts.diameter === undefined ? diameters[0] : undefined,
    );
    results.push(
      solveF64(k, Float64Array.from(x as Float32Array), Float64Array.from(y as Float32Array), shapes[k]!, o),
    );
  }
  opts.onInfo?.(results.map((r) => infoFromF64(r, choice.reason)));
  return { engine: 'cpu-f64', route: choice.reason, results, diameters, shapes: shapeList, options: opts };
}

/**
 * The solution as a differentiable Tensor1D [K]. cpu-f64: the solved values, whose gradient w.r.t. x_k, y_k (and
 * a_k, b_k) is the float64 envelope gradient (valid for the very values that were solved: a training step recomputes
 * the forward pass inside its gradient scope and attaches the solution computed from the same numbers). tensor: runs
 * the device loop now, with the diameters measured by solveDivergence.
 */
export function divergenceFromSolution(
  problems: readonly DivergenceProblem[],
  solution: DivergenceSolution,
): tf.Tensor1D {
  const shapes = shapesOf(problems);
  if (problems.length !== solution.shapes.length) {
    throw new OtInputError('SHAPE_MISMATCH', `solution has ${solution.shapes.length} problems, got ${problems.length}`);
  }
  problems.forEach((pb, k) => {
    const sh = solution.shapes[k]!;
    const same = (t: tf.Tensor, s: number[]) => t.shape.length === s.length && t.shape.every((v, i) => v === s[i]);
    if (!same(pb.x, sh.x) || !same(pb.y, sh.y)) {
      throw new OtInputError('SHAPE_MISMATCH', `problems[${k}]: shapes differ from the solved problem`);
    }
  });
  if (solution.engine === 'tensor')
    return tensorOp(problems, shapes, solution.diameters, solution.options, solution.route);
  return f64Op(problems, solution.results, undefined);
}
