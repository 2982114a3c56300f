/**
 * Differentiable tfjs ops for the Sinkhorn divergence (and biased OT_ε, unbalanced transport, the exact 1-D path and
 * the kernel losses), with geomloss's envelope gradients w.r.t. the points and the weights: the synchronous ops and
 * their async pair (solveDivergence + divergenceFromSolution).
 *
 * Engines (chosen per call, reported through `onInfo`):
 *  - 'cpu-f64': the float64 core (samples-loss.ts), exact 1-D path included; needs the values on the CPU: read
 *    synchronously on cpu/wasm by the sync ops, or asynchronously by `solveDivergence` on any backend.
 *    Gradients are precomputed and multiplied by the upstream gradient.
 *  - 'tensor': the same loop on float32 tensors (tensor-seam.ts) on the active backend, problems of equal shape and
 *    equal ε schedule batched into one loop: dense cost for small problems, @fairclip/compute's fused online
 *    soft-min for large ones. Runs on WebGPU without any read-back once the diameter is known.
 *  - 'auto' (default): see routing.ts (chooseEngine).
 *
 * This module is the thin public API: shape checks (problems.ts), validation and diameters (summaries.ts) and the two
 * engines (engine-f64.ts, engine-tensor.ts) live in their own modules.
 *
 * On WebGPU the synchronous ops can only run the tensor engine, and need `diameter` (the ε schedule's length depends
 * on it) because they cannot read the points. The async pair `solveDivergence` + `divergenceFromSolution` works
 * everywhere: it reads what it needs, validates the values, routes small problems (and those float32 cannot resolve)
 * to the float64 CPU core and large ones to the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OtInputError } from '../errors.ts';
import { checkPositive } from '../inputs.ts';
import { backendReadsSync, chooseEngine, getRouting } from '../routing.ts';
import type { SamplesLossResult } from '../samples-loss.ts';
import { f64Op, f64Options, infoFromF64, readSync, solveF64, weightsF64 } from './engine-f64.ts';
import { tensorOp } from './engine-tensor.ts';
import { entriesOf, exactEligible, oneDimBalanced, shapesOf } from './problems.ts';
import { diametersFrom, summariesAsync, summariesSync } from './summaries.ts';
import type { DivergenceOptions, DivergenceProblem } from './types.ts';

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
