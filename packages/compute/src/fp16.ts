/**
 * float32 → float16 → float32 rounding as a differentiable tfjs op on every backend (cpu, wasm, webgpu), for
 * emulating half-precision training where the hardware path is float32: IEEE 754 binary16 round to nearest, ties to
 * even, with binary16's subnormals (steps of 2^-24 below 2^-14), its largest finite value ±65504, overflow to ±∞ from
 * |x| ≥ 65520 (halfway between 65504 and 2^16), NaN kept and ±0 kept. numpy's `astype(np.float16)` and torch's
 * `.half()` round this way.
 *
 * Composed of a dozen existing elementwise tfjs ops, each exact in float32 (no new kernel: every backend runs the
 * same definition; {@link roundToFloat16Reference} is the plain-JS twin):
 * - normal range (Veltkamp's splitting): c = x·(2^13 + 1), hi = c − (c − x) is x rounded to 24 − 13 = 11 significant
 *   bits, to nearest with ties to even (checked exhaustively over float32 against the twin), with no exponent range,
 *   so 65520 rounds up to 2^16;
 * - binary16's subnormals (|x| < 2^-14, a fixed step of 2^-24): (x + 0.75) − 0.75, since float32 numbers in
 *   [0.5, 1) are spaced 2^-24 and 0.75 is an even multiple of it (ties to even);
 * - overflow: |x| ≥ 65520 (where hi reaches 2^16, or c overflows) gives x·∞ = ±∞;
 * - a result of zero takes x's sign (x·0), so ±0 and tiny negatives give ±0 as binary16 does; NaN propagates.
 * tfjs runs each op as its own kernel writing float32 memory, so no backend fuses x·8193 − x into one rounding.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The largest finite binary16 value. */
export const FLOAT16_MAX = 65504;

/**
 * The gradient of {@link roundToFloat16}: 'identity' (straight-through: the rounding is treated as the identity) or
 * 'float16' (the incoming gradient is itself rounded to float16, as autograd computes the gradient of a half tensor
 * in half precision: it overflows to ±∞ where the gradient reaches 65520).
 */
export type Float16Gradient = 'identity' | 'float16';

export interface RoundToFloat16Options {
  /** Default 'identity' (straight-through). */
  gradient?: Float16Gradient;
}

/** Veltkamp's splitting constant for 11 of float32's 24 significant bits: 2^(24 − 11) + 1. */
const SPLITTER = 2 ** 13 + 1;
/** The smallest normal binary16 value; below it the step is 2^-24. */
const FLOAT16_MIN_NORMAL = 2 ** -14;
/** An even multiple of 2^-24 in [0.5, 1), where float32's spacing is 2^-24. */
const SUBNORMAL_SHIFTER = 0.75;
/** Halfway between 65504 and 2^16: from here on binary16 overflows. */
const FLOAT16_OVERFLOW = 65520;

/** The rounded values (no gradient definition): see the module comment for the method. */
function roundValues(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const a = tf.abs(x32);
    const c = tf.mul(x32, SPLITTER);
    const normal = tf.sub(c, tf.sub(c, x32));
    const subnormal = tf.sub(tf.add(x32, SUBNORMAL_SHIFTER), SUBNORMAL_SHIFTER);
    let y = tf.where(tf.less(a, FLOAT16_MIN_NORMAL), subnormal, normal);
    y = tf.where(tf.greaterEqual(a, FLOAT16_OVERFLOW), tf.mul(x32, Number.POSITIVE_INFINITY), y);
    return tf.where(tf.equal(y, 0), tf.mul(x32, 0), y);
  });
}

/**
 * Rounds every value of a float tensor to the nearest float16 value (ties to even, subnormals, overflow to ±∞ at
 * |x| ≥ 65520, NaN kept), returned as float32. Differentiable: the gradient is straight-through ('identity', the
 * default) or itself rounded to float16 (`gradient: 'float16'`).
 */
export function roundToFloat16(x: tf.Tensor, options: RoundToFloat16Options = {}): tf.Tensor {
  const gradient = options.gradient ?? 'identity';
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    return {
      value: roundValues(input),
      gradFunc: (dy: tf.Tensor) => (gradient === 'float16' ? roundValues(dy) : tf.clone(dy)),
    };
  });
  return op(x);
}

/** One value rounded to float16 (float64 arithmetic, plain JS): the reference of {@link roundToFloat16}. */
export function roundNumberToFloat16(v: number): number {
  if (Number.isNaN(v) || v === 0 || !Number.isFinite(v)) return v;
  const a = Math.abs(v);
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  e = Math.min(Math.max(e, -14), 15);
  const step = 2 ** (e - 10);
  const q = a / step;
  const f = Math.floor(q);
  const frac = q - f;
  const r = frac > 0.5 || (frac === 0.5 && f % 2 === 1) ? f + 1 : f;
  const m = r * step > FLOAT16_MAX ? Number.POSITIVE_INFINITY : r * step;
  return v < 0 ? -m : m;
}

/** The CPU twin of {@link roundToFloat16}: every value rounded to float16, as float32. */
export function roundToFloat16Reference(values: ArrayLike<number>): Float32Array {
  return Float32Array.from(values, (v) => roundNumberToFloat16(Math.fround(v)));
}
