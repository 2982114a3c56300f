/** Validation and ε-schedule diameters from device-side summaries of the problems (one small read per problem). */
import * as tf from '@tensorflow/tfjs-core';
import { OtInputError } from '../errors.ts';
import { checkPositive } from '../inputs.ts';
import type { DivergenceOptions, DivergenceProblem, Shape } from './types.ts';

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

export interface Summary {
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
export function diametersFrom(boxes: readonly Summary[], shapes: readonly Shape[], opts: DivergenceOptions): number[] {
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

export function summariesSync(
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

export async function summariesAsync(
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
