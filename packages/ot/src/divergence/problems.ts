/** Shape checks of divergence problems, the flattened op inputs, and the facts routing needs about them. */
import * as tf from '@tensorflow/tfjs-core';
import { OtInputError } from '../errors.ts';
import type { DivergenceOptions, DivergenceProblem, Shape } from './types.ts';

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

export function shapesOf(problems: readonly DivergenceProblem[]): Shape[] {
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

export interface Slot {
  xi: number;
  yi: number;
  ai: number;
  bi: number;
}

/** The op's inputs: x_k, y_k, then a_k / b_k when they are tensors (so gradients reach them). */
export function flatten(problems: readonly DivergenceProblem[]): { inputs: tf.Tensor[]; slots: Slot[] } {
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

export function entriesOf(shapes: readonly Shape[]): { maxEntries: number; totalEntries: number } {
  let maxEntries = 0;
  let totalEntries = 0;
  for (const s of shapes) {
    maxEntries = Math.max(maxEntries, s.n * s.m);
    totalEntries += s.n * s.m;
  }
  return { maxEntries, totalEntries };
}

export function oneDimBalanced(shapes: readonly Shape[], opts: DivergenceOptions): boolean {
  return opts.reach === undefined && shapes.every((s) => s.d === 1);
}

export function exactEligible(shapes: readonly Shape[], opts: DivergenceOptions): boolean {
  return (
    oneDimBalanced(shapes, opts) &&
    (opts.loss ?? 'sinkhorn') === 'sinkhorn' &&
    opts.solver !== 'sinkhorn' &&
    opts.geomlossCompatible !== true
  );
}
