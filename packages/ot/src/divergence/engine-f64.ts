/**
 * The 'cpu-f64' engine: the float64 core (samples-loss.ts) behind a tfjs custom-gradient op. Needs the values on the
 * CPU (read synchronously on cpu/wasm, or asynchronously by solveDivergence); the envelope gradients are precomputed
 * and multiplied by the upstream gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OtInputError } from '../errors.ts';
import { type SamplesLossOptions, type SamplesLossResult, samplesLoss } from '../samples-loss.ts';
import { flatten, type Slot } from './problems.ts';
import type { DivergenceInfo, DivergenceOptions, DivergenceProblem, Shape } from './types.ts';

export function readSync(t: tf.Tensor): Float64Array {
  return Float64Array.from(t.dataSync() as Float32Array);
}

export function weightsF64(w: tf.Tensor | ArrayLike<number> | undefined): Float64Array | undefined {
  if (w === undefined) return undefined;
  return w instanceof tf.Tensor ? readSync(w) : Float64Array.from(w);
}

export function f64Options(
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

export function infoFromF64(r: SamplesLossResult, route: string): DivergenceInfo {
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
export function solveF64(
  k: number,
  x: Float64Array,
  y: Float64Array,
  sh: Shape,
  o: SamplesLossOptions,
): SamplesLossResult {
  try {
    return samplesLoss({ data: x, n: sh.n, d: sh.d }, { data: y, n: sh.m, d: sh.d }, o);
  } catch (err) {
    if (err instanceof OtInputError) throw new OtInputError(err.code, `problems[${k}]: ${err.message}`);
    throw err;
  }
}

export function f64Op(
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
