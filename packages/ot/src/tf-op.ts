/**
 * Differentiable tfjs ops for the Sinkhorn divergence (and biased OT_ε / unbalanced / exact 1-D), with geomloss's
 * envelope gradients w.r.t. the points and the weights.
 *
 * Engines (chosen per call, reported through `onInfo`):
 *  - 'cpu-f64': reads the inputs synchronously (cpu and wasm backends) and runs the float64 core (samples-loss.ts),
 *    including the exact 1-D path; gradients are precomputed and multiplied by the upstream gradient.
 *  - 'tensor': the same loop on float32 tensors (tensor-seam.ts) on the active backend: dense cost for small
 *    problems, @fairclip/compute's fused online soft-min for large ones. Works on WebGPU, where reads are async:
 *    there `diameter` must be given (the ε schedule's length depends on it). See tensor-seam.ts for float32 limits.
 *  - 'auto' (default): 'cpu-f64' when the backend reads synchronously and N·M <= 4·10^6, else 'tensor'.
 * On WebGPU without a diameter, or to get float64 there, use the async `solveDivergence` + `divergenceFromSolution`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OtInputError } from './errors.ts';
import { checkEqualMass, checkPositive } from './inputs.ts';
import { type SamplesLossOptions, type SamplesLossResult, type SolverUsed, samplesLoss } from './samples-loss.ts';
import { epsilonSchedule } from './schedule.ts';
import { tensorDivergence } from './tensor-divergence.ts';
import type { TensorCostMode } from './tensor-seam.ts';

export type Engine = 'auto' | 'cpu-f64' | 'tensor';

export interface DivergenceOptions extends Omit<SamplesLossOptions, 'a' | 'b' | 'costMode'> {
  /** 'auto' (default), 'cpu-f64' or 'tensor'. */
  engine?: Engine;
  /** Tensor engine cost: 'auto' (dense when B·N·M <= 2^22), 'dense' or 'online' (fused kernel; p = 2 for gradients). */
  tensorCost?: 'auto' | TensorCostMode;
  /**
   * Batched problems: 'per-problem' (default) estimates one diameter per problem, as separate geomloss calls do
   * (FairCLIP's per-group terms); 'shared' uses one diameter over the whole batch, as one batched geomloss call does.
   */
  diameterMode?: 'per-problem' | 'shared';
  /** Called with what each problem's solve did (engine, solver, ε list, convergence, float32 resolution). */
  onInfo?: (info: DivergenceInfo[]) => void;
}

export interface DivergenceInfo {
  engine: 'cpu-f64' | 'tensor';
  solver: SolverUsed;
  value: number | undefined;
  epsilon: number;
  epsList: number[];
  diameter: number;
  iterations: number;
  converged: boolean;
  /** exact-1d: bound on |value − S_ε|. */
  errorBound: number;
  /**
   * Tensor engine: false when ε < 1e-6 · diameter^p, i.e. the entropic smoothing is below float32 resolution
   * (a warning is printed once). Always true for cpu-f64.
   */
  float32Resolved: boolean;
}

/** One problem of a `sinkhornDivergenceMany` call: points [N] or [N, D], optional weights [N] (tensor or array). */
export interface DivergenceProblem {
  x: tf.Tensor;
  y: tf.Tensor;
  a?: tf.Tensor | ArrayLike<number>;
  b?: tf.Tensor | ArrayLike<number>;
}

/** Largest N·M the 'auto' engine sends to the float64 CPU core. */
export const F64_AUTO_MAX_ENTRIES = 4_000_000;
/** Largest B·N·M for which the tensor engine materialises the cost. */
export const TENSOR_DENSE_MAX_ENTRIES = 1 << 22;
/** The tensor engine warns when ε < FLOAT32_MIN_RELATIVE_EPS · diameter^p. */
export const FLOAT32_MIN_RELATIVE_EPS = 1e-6;

let warnedFloat32 = false;

function syncReadable(): boolean {
  const name = tf.getBackend();
  return name === 'cpu' || name === 'wasm';
}

function asPoints(name: string, t: tf.Tensor): { n: number; d: number } {
  if (!(t instanceof tf.Tensor)) throw new OtInputError('SHAPE_MISMATCH', `${name} must be a tf.Tensor`);
  if (t.rank === 1) return { n: t.shape[0]!, d: 1 };
  if (t.rank === 2) return { n: t.shape[0]!, d: t.shape[1]! };
  throw new OtInputError('SHAPE_MISMATCH', `${name} must have shape [N] or [N, D], got [${t.shape.join(', ')}]`);
}

function weightShape(name: string, w: tf.Tensor | ArrayLike<number> | undefined, n: number): void {
  if (w === undefined) return;
  const len = w instanceof tf.Tensor ? (w.rank === 1 ? w.shape[0] : -1) : w.length;
  if (len !== n) {
    throw new OtInputError(
      'SHAPE_MISMATCH',
      `${name} must have ${n} weights (one per point)${w instanceof tf.Tensor ? `, got shape [${w.shape.join(', ')}]` : `, got ${len}`}`,
    );
  }
}

function readSync(t: tf.Tensor): Float64Array {
  return Float64Array.from(t.dataSync() as Float32Array);
}

function pickEngine(opts: DivergenceOptions, maxEntries: number): 'cpu-f64' | 'tensor' {
  const engine = opts.engine ?? 'auto';
  if (engine === 'cpu-f64') {
    if (!syncReadable()) {
      throw new OtInputError(
        'SYNC_READ_UNAVAILABLE',
        `engine 'cpu-f64' reads tensors synchronously, which the '${tf.getBackend()}' backend cannot do; ` +
          "use engine 'tensor' (float32 on this backend, with a given diameter) or the async solveDivergence()",
      );
    }
    return 'cpu-f64';
  }
  if (engine === 'tensor') return 'tensor';
  if (engine !== 'auto') throw new OtInputError('INVALID_OPTION', `engine must be 'auto', 'cpu-f64' or 'tensor', got ${String(engine)}`);
  return syncReadable() && maxEntries <= F64_AUTO_MAX_ENTRIES ? 'cpu-f64' : 'tensor';
}

function f64Options(opts: DivergenceOptions, a: Float64Array | undefined, b: Float64Array | undefined): SamplesLossOptions {
  const { engine: _e, tensorCost: _t, diameterMode: _m, onInfo: _o, ...rest } = opts;
  const o: SamplesLossOptions = { ...rest };
  if (a) o.a = a;
  if (b) o.b = b;
  return o;
}

function infoFromF64(r: SamplesLossResult): DivergenceInfo {
  return {
    engine: 'cpu-f64',
    solver: r.solver,
    value: r.value,
    epsilon: r.epsilon,
    epsList: r.epsList,
    diameter: r.diameter,
    iterations: r.iterations,
    converged: r.converged,
    errorBound: r.errorBound,
    float32Resolved: true,
  };
}

function weightsF64(w: tf.Tensor | ArrayLike<number> | undefined): Float64Array | undefined {
  if (w === undefined) return undefined;
  return w instanceof tf.Tensor ? readSync(w) : Float64Array.from(w);
}

/**
 * Sinkhorn divergences of K problems as one differentiable op: returns a Tensor1D [K]. Gradients flow to every
 * x, y and to the weights given as tensors. Problems may have different sizes (FairCLIP: one batch vs each group).
 */
export function sinkhornDivergenceMany(problems: readonly DivergenceProblem[], opts: DivergenceOptions = {}): tf.Tensor1D {
  if (problems.length === 0) throw new OtInputError('EMPTY_INPUT', 'sinkhornDivergenceMany needs at least one problem');
  const loss = opts.loss ?? 'sinkhorn';
  let maxEntries = 0;
  const shapes = problems.map((pb, k) => {
    const sx = asPoints(`problems[${k}].x`, pb.x);
    const sy = asPoints(`problems[${k}].y`, pb.y);
    if (sx.d !== sy.d) {
      throw new OtInputError('SHAPE_MISMATCH', `problems[${k}]: x and y must have the same dimension, got ${sx.d} and ${sy.d}`);
    }
    if (sx.n === 0 || sy.n === 0) throw new OtInputError('EMPTY_INPUT', `problems[${k}]: empty point cloud`);
    weightShape(`problems[${k}].a`, pb.a, sx.n);
    weightShape(`problems[${k}].b`, pb.b, sy.n);
    maxEntries = Math.max(maxEntries, sx.n * sy.n);
    return { n: sx.n, m: sy.n, d: sx.d };
  });
  const engine = pickEngine(opts, maxEntries);
  if (engine === 'tensor' && loss !== 'sinkhorn') {
    throw new OtInputError('UNSUPPORTED', `the tensor engine implements loss 'sinkhorn' only (got '${loss}'); use engine 'cpu-f64'`);
  }
  // Flatten the inputs: x_k, y_k, then a_k / b_k when they are tensors.
  const inputs: tf.Tensor[] = [];
  const slots = problems.map((pb) => {
    const xi = inputs.push(pb.x) - 1;
    const yi = inputs.push(pb.y) - 1;
    const ai = pb.a instanceof tf.Tensor ? inputs.push(pb.a) - 1 : -1;
    const bi = pb.b instanceof tf.Tensor ? inputs.push(pb.b) - 1 : -1;
    return { xi, yi, ai, bi };
  });
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ins = args as tf.Tensor[];
    if (engine === 'cpu-f64') {
      const results = problems.map((pb, k) => {
        const s = slots[k]!;
        const x = readSync(ins[s.xi]!);
        const y = readSync(ins[s.yi]!);
        const a = s.ai >= 0 ? readSync(ins[s.ai]!) : weightsF64(pb.a);
        const b = s.bi >= 0 ? readSync(ins[s.bi]!) : weightsF64(pb.b);
        const sh = shapes[k]!;
        return samplesLoss({ data: x, n: sh.n, d: sh.d }, { data: y, n: sh.m, d: sh.d }, f64Options(opts, a, b));
      });
      opts.onInfo?.(results.map(infoFromF64));
      return {
        value: tf.tensor1d(results.map((r) => r.value)),
        gradFunc: (dy: tf.Tensor) => {
          const dys = tf.unstack(dy);
          const grads: tf.Tensor[] = new Array(ins.length);
          problems.forEach((_pb, k) => {
            const s = slots[k]!;
            const r = results[k]!;
            const dk = dys[k]!;
            grads[s.xi] = tf.mul(dk, tf.tensor(Float32Array.from(r.gradX), ins[s.xi]!.shape));
            grads[s.yi] = tf.mul(dk, tf.tensor(Float32Array.from(r.gradY), ins[s.yi]!.shape));
            if (s.ai >= 0) grads[s.ai] = tf.mul(dk, tf.tensor(Float32Array.from(r.gradA), ins[s.ai]!.shape));
            if (s.bi >= 0) grads[s.bi] = tf.mul(dk, tf.tensor(Float32Array.from(r.gradB), ins[s.bi]!.shape));
          });
          return grads;
        },
      };
    }
    // Tensor engine: one tensorDivergence per problem (B = 1); gradients saved for the backward pass.
    const values: tf.Tensor[] = [];
    const toSave: tf.Tensor[] = [];
    const infos: DivergenceInfo[] = [];
    problems.forEach((pb, k) => {
      const s = slots[k]!;
      const sh = shapes[k]!;
      const x3 = tf.reshape(ins[s.xi]!, [1, sh.n, sh.d]) as tf.Tensor3D;
      const y3 = tf.reshape(ins[s.yi]!, [1, sh.m, sh.d]) as tf.Tensor3D;
      const a2 = weightTensor(s.ai >= 0 ? ins[s.ai] : pb.a, sh.n);
      const b2 = weightTensor(s.bi >= 0 ? ins[s.bi] : pb.b, sh.m);
      const { params, info } = tensorParams(opts, [{ x: x3, y: y3, a: a2, b: b2 }], sh.n * sh.m);
      const r = tensorDivergence(x3, a2, y3, b2, params);
      values.push(r.value);
      toSave.push(r.gradX, r.gradY, r.gradA, r.gradB);
      infos.push(info);
      r.f.dispose();
      r.g.dispose();
    });
    save(toSave);
    opts.onInfo?.(infos);
    return {
      value: tf.concat(values) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dys = tf.unstack(dy);
        const grads: tf.Tensor[] = new Array(ins.length);
        problems.forEach((_pb, k) => {
          const s = slots[k]!;
          const dk = dys[k]!;
          grads[s.xi] = tf.reshape(tf.mul(dk, saved[4 * k]!), ins[s.xi]!.shape);
          grads[s.yi] = tf.reshape(tf.mul(dk, saved[4 * k + 1]!), ins[s.yi]!.shape);
          if (s.ai >= 0) grads[s.ai] = tf.reshape(tf.mul(dk, saved[4 * k + 2]!), ins[s.ai]!.shape);
          if (s.bi >= 0) grads[s.bi] = tf.reshape(tf.mul(dk, saved[4 * k + 3]!), ins[s.bi]!.shape);
        });
        return grads;
      },
    };
  });
  return op(...inputs) as tf.Tensor1D;
}

function weightTensor(w: tf.Tensor | ArrayLike<number> | undefined, n: number): tf.Tensor2D {
  if (w === undefined) return tf.fill([1, n], 1 / n) as tf.Tensor2D;
  if (w instanceof tf.Tensor) return tf.reshape(tf.cast(w, 'float32'), [1, n]) as tf.Tensor2D;
  return tf.tensor2d(Float32Array.from(w), [1, n]);
}

interface TensorProblem {
  x: tf.Tensor3D;
  y: tf.Tensor3D;
  a: tf.Tensor2D;
  b: tf.Tensor2D;
}

function tensorParams(
  opts: DivergenceOptions,
  problems: TensorProblem[],
  entries: number,
): { params: Parameters<typeof tensorDivergence>[4]; info: DivergenceInfo } {
  const p = opts.p ?? 2;
  const blur = opts.blur ?? 0.05;
  checkPositive('blur', blur);
  if (!(p >= 1 && Number.isFinite(p))) throw new OtInputError('INVALID_OPTION', `p must be a finite number >= 1, got ${p}`);
  const scaling = opts.scaling ?? 0.5;
  const debias = opts.debias ?? true;
  if (opts.solver === 'exact-1d') {
    throw new OtInputError('UNSUPPORTED', "solver 'exact-1d' runs on the float64 engine only (engine 'cpu-f64' or solveDivergence)");
  }
  if (opts.reach !== undefined) checkPositive('reach', opts.reach);
  const rho = opts.reach === undefined ? undefined : opts.reach ** p;
  let diameter = opts.diameter;
  if (diameter === undefined) {
    if (!syncReadable()) {
      throw new OtInputError(
        'SYNC_READ_UNAVAILABLE',
        `the ε schedule needs the diameter, and the '${tf.getBackend()}' backend cannot read tensors synchronously: ` +
          'pass `diameter` (an upper bound of the spread of the points), or use the async solveDivergence()',
      );
    }
    diameter = 0;
    for (const pb of problems) {
      const dd = tf.tidy(() => {
        const lo = tf.minimum(tf.min(pb.x, [0, 1]), tf.min(pb.y, [0, 1]));
        const hi = tf.maximum(tf.max(pb.x, [0, 1]), tf.max(pb.y, [0, 1]));
        return tf.norm(tf.sub(hi, lo));
      });
      diameter = Math.max(diameter, dd.dataSync()[0]!);
      dd.dispose();
    }
    if (!(diameter > 0)) diameter = blur;
  }
  if (opts.reach === undefined) {
    for (const pb of problems) {
      if (syncReadable()) checkEqualMass(pb.a.dataSync(), pb.b.dataSync(), opts.massTolerance ?? 1e-5, 'the weights a and b');
    }
  }
  const epsList = epsilonSchedule(p, diameter, blur, scaling);
  const eps = blur ** p;
  const float32Resolved = eps >= FLOAT32_MIN_RELATIVE_EPS * diameter ** p;
  if (!float32Resolved && !warnedFloat32) {
    warnedFloat32 = true;
    console.warn(
      `[@fairclip/ot] tensor engine (float32): ε = ${eps} is below ${FLOAT32_MIN_RELATIVE_EPS}·diameter^p = ${FLOAT32_MIN_RELATIVE_EPS * diameter ** p}; ` +
        'float32 cannot resolve the entropic smoothing there (values are accurate only to ~1e-7·diameter^p). ' +
        "Use engine 'cpu-f64' or solveDivergence() for float64 (and the exact 1-D path).",
    );
  }
  const costOpt = opts.tensorCost ?? 'auto';
  const mode: TensorCostMode = costOpt === 'auto' ? (entries * problems.length <= TENSOR_DENSE_MAX_ENTRIES ? 'dense' : 'online') : costOpt;
  if (mode === 'online' && p !== 2) {
    throw new OtInputError('UNSUPPORTED', `the online tensor cost computes gradients for p = 2 only (got p = ${p}); use tensorCost 'dense'`);
  }
  return {
    params: { p, eps, epsList, rho, debias, mode },
    info: {
      engine: 'tensor',
      solver: 'sinkhorn',
      value: undefined,
      epsilon: eps,
      epsList,
      diameter,
      iterations: epsList.length,
      converged: true,
      errorBound: 0,
      float32Resolved,
    },
  };
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
  return tf.tidy(() => tf.squeeze(sinkhornDivergenceMany([pb], rest)) as tf.Scalar);
}

/**
 * B problems of equal sizes: x [B, N, D], y [B, M, D], optional weights a [B, N], b [B, M] → Tensor1D [B].
 * 'per-problem' diameters (default) match B separate geomloss calls; 'shared' matches one batched geomloss call and
 * runs the tensor engine as a single batched loop.
 */
export function sinkhornDivergenceBatched(
  x: tf.Tensor3D,
  y: tf.Tensor3D,
  opts: DivergenceOptions & { a?: tf.Tensor2D; b?: tf.Tensor2D } = {},
): tf.Tensor1D {
  if (x.rank !== 3 || y.rank !== 3) {
    throw new OtInputError('SHAPE_MISMATCH', `x and y must have shape [B, N, D], got [${x.shape.join(', ')}] and [${y.shape.join(', ')}]`);
  }
  const [B, N, D] = x.shape;
  const [By, M, Dy] = y.shape;
  if (By !== B || Dy !== D) {
    throw new OtInputError('SHAPE_MISMATCH', `x [${x.shape.join(', ')}] and y [${y.shape.join(', ')}] must share B and D`);
  }
  const { a, b, ...rest } = opts;
  if (a && (a.rank !== 2 || a.shape[0] !== B || a.shape[1] !== N)) {
    throw new OtInputError('SHAPE_MISMATCH', `a must have shape [${B}, ${N}], got [${a.shape.join(', ')}]`);
  }
  if (b && (b.rank !== 2 || b.shape[0] !== B || b.shape[1] !== M)) {
    throw new OtInputError('SHAPE_MISMATCH', `b must have shape [${B}, ${M}], got [${b.shape.join(', ')}]`);
  }
  const shared = (rest.diameterMode ?? 'per-problem') === 'shared';
  const engine = pickEngine(rest, N * M);
  if (engine === 'tensor' && (shared || rest.diameter !== undefined)) {
    // One batched loop on the device.
    const inputs: tf.Tensor[] = [x, y];
    if (a) inputs.push(a);
    if (b) inputs.push(b);
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args.pop() as tf.GradSaveFunc;
      const ins = args as tf.Tensor[];
      const xs = ins[0] as tf.Tensor3D;
      const ys = ins[1] as tf.Tensor3D;
      const as = a ? (ins[2] as tf.Tensor2D) : (tf.fill([B, N], 1 / N) as tf.Tensor2D);
      const bs = b ? (ins[a ? 3 : 2] as tf.Tensor2D) : (tf.fill([B, M], 1 / M) as tf.Tensor2D);
      const { params, info } = tensorParams(rest, [{ x: xs, y: ys, a: as, b: bs }], N * M);
      const r = tensorDivergence(xs, as, ys, bs, params);
      save([r.gradX, r.gradY, r.gradA, r.gradB]);
      r.f.dispose();
      r.g.dispose();
      rest.onInfo?.(new Array(B).fill(info));
      return {
        value: r.value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const d3 = tf.reshape(dy, [B, 1, 1]);
          const d2 = tf.reshape(dy, [B, 1]);
          const grads = [tf.mul(d3, saved[0]!), tf.mul(d3, saved[1]!)];
          if (a) grads.push(tf.mul(d2, saved[2]!));
          if (b) grads.push(tf.mul(d2, saved[3]!));
          return grads;
        },
      };
    });
    return op(...inputs) as tf.Tensor1D;
  }
  let diameter = rest.diameter;
  if (shared && diameter === undefined && engine === 'cpu-f64') {
    const t = tf.tidy(() => {
      const lo = tf.minimum(tf.min(x, [0, 1]), tf.min(y, [0, 1]));
      const hi = tf.maximum(tf.max(x, [0, 1]), tf.max(y, [0, 1]));
      return tf.norm(tf.sub(hi, lo));
    });
    diameter = t.dataSync()[0]!;
    t.dispose();
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
    const o: DivergenceOptions = { ...rest, engine };
    if (diameter !== undefined) o.diameter = diameter;
    return sinkhornDivergenceMany(problems, o);
  });
}

/** A float64 solution computed from tensor values (async reads: works on WebGPU). */
export interface DivergenceSolution {
  readonly results: readonly SamplesLossResult[];
  readonly shapes: readonly { x: number[]; y: number[]; a?: number[]; b?: number[] }[];
}

/**
 * Reads the problems' tensors with `await data()` and solves them with the float64 core (samplesLoss semantics,
 * exact 1-D path included). Pair with `divergenceFromSolution` inside a gradient scope.
 */
export async function solveDivergence(
  problems: readonly DivergenceProblem[],
  opts: Omit<DivergenceOptions, 'engine' | 'tensorCost'> = {},
): Promise<DivergenceSolution> {
  const results: SamplesLossResult[] = [];
  const shapes: { x: number[]; y: number[]; a?: number[]; b?: number[] }[] = [];
  for (const [k, pb] of problems.entries()) {
    const sx = asPoints(`problems[${k}].x`, pb.x);
    const sy = asPoints(`problems[${k}].y`, pb.y);
    weightShape(`problems[${k}].a`, pb.a, sx.n);
    weightShape(`problems[${k}].b`, pb.b, sy.n);
    const x = Float64Array.from(await pb.x.data());
    const y = Float64Array.from(await pb.y.data());
    const a = pb.a instanceof tf.Tensor ? Float64Array.from(await pb.a.data()) : weightsF64(pb.a);
    const b = pb.b instanceof tf.Tensor ? Float64Array.from(await pb.b.data()) : weightsF64(pb.b);
    results.push(samplesLoss({ data: x, n: sx.n, d: sx.d }, { data: y, n: sy.n, d: sy.d }, f64Options(opts, a, b)));
    const sh: { x: number[]; y: number[]; a?: number[]; b?: number[] } = { x: pb.x.shape, y: pb.y.shape };
    if (pb.a instanceof tf.Tensor) sh.a = pb.a.shape;
    if (pb.b instanceof tf.Tensor) sh.b = pb.b.shape;
    shapes.push(sh);
  }
  opts.onInfo?.(results.map(infoFromF64));
  return { results, shapes };
}

/**
 * The solved values as a differentiable Tensor1D [K]: its gradient w.r.t. x_k, y_k (and a_k, b_k) is the float64
 * envelope gradient of `solution`. Valid for the very values that were solved (a training step recomputes the
 * forward pass inside its gradient scope and attaches the solution computed from the same numbers).
 */
export function divergenceFromSolution(problems: readonly DivergenceProblem[], solution: DivergenceSolution): tf.Tensor1D {
  if (problems.length !== solution.results.length) {
    throw new OtInputError('SHAPE_MISMATCH', `solution has ${solution.results.length} problems, got ${problems.length}`);
  }
  const inputs: tf.Tensor[] = [];
  const slots = problems.map((pb, k) => {
    const sh = solution.shapes[k]!;
    const same = (t: tf.Tensor, s: number[] | undefined) => s !== undefined && t.shape.length === s.length && t.shape.every((v, i) => v === s[i]);
    if (!same(pb.x, sh.x) || !same(pb.y, sh.y)) {
      throw new OtInputError('SHAPE_MISMATCH', `problems[${k}]: shapes differ from the solved problem`);
    }
    const xi = inputs.push(pb.x) - 1;
    const yi = inputs.push(pb.y) - 1;
    const ai = pb.a instanceof tf.Tensor ? inputs.push(pb.a) - 1 : -1;
    const bi = pb.b instanceof tf.Tensor ? inputs.push(pb.b) - 1 : -1;
    return { xi, yi, ai, bi };
  });
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    args.pop();
    const ins = args as tf.Tensor[];
    return {
      value: tf.tensor1d(solution.results.map((r) => r.value)),
      gradFunc: (dy: tf.Tensor) => {
        const dys = tf.unstack(dy);
        const grads: tf.Tensor[] = new Array(ins.length);
        slots.forEach((s, k) => {
          const r = solution.results[k]!;
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
