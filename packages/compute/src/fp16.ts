/**
 * float32 → float16 → float32 rounding as a differentiable tfjs op on every backend (cpu, wasm, webgpu), for
 * emulating half-precision training where the hardware path is float32: IEEE 754 binary16 round to nearest, ties to
 * even, with binary16's subnormals (steps of 2^-24 below 2^-14), its largest finite value ±65504, overflow to ±∞ from
 * |x| ≥ 65520 (halfway between 65504 and 2^16), NaN kept and ±0 kept. numpy's `astype(np.float16)` and torch's
 * `.half()` round this way.
 *
 * Composed of existing tfjs ops only, each of them exact here: the binade comes from a log2 estimate corrected by
 * exact comparisons with powers of two read from a table (a gather: no `pow`, whose GPU implementations are not
 * exact), the value is scaled by a power of two (exact multiplication), split into integer and fraction with
 * `floor` and rounded to even with comparisons (no reliance on the backends' `round`, whose tie rule differs between
 * backends). No new kernel is needed, so every backend runs the same definition; {@link roundToFloat16Reference} is
 * the plain-JS twin.
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

/** Powers of two 2^k for k = POW2_MIN..POW2_MAX, exact in float32 (a gather table). */
const POW2_MIN = -26;
const POW2_MAX = 18;
const pow2Values = Float32Array.from({ length: POW2_MAX - POW2_MIN + 1 }, (_, i) => 2 ** (i + POW2_MIN));
const inversePow2Values = Float32Array.from(pow2Values, (v) => 1 / v);

/** 2^e for integer-valued float32 tensors e in [POW2_MIN, POW2_MAX], exactly (a gather). */
function pow2(table: tf.Tensor1D, e: tf.Tensor): tf.Tensor {
  return tf.gather(table, tf.cast(tf.sub(e, POW2_MIN), 'int32'));
}

/** The rounded values (no gradient definition): see the module comment for the method. */
function roundValues(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const table = tf.tensor1d(pow2Values);
    const inverse = tf.tensor1d(inversePow2Values);
    const a = tf.abs(x32);
    // A finite stand-in in [2^-26, 2^17] for the binade search: values below 2^-26 round to ±0 and values above 2^17
    // overflow whatever binade is used, NaN is restored at the end.
    const aSafe = tf.where(tf.isNaN(a), tf.onesLike(a), tf.clipByValue(a, 2 ** -26, 2 ** 17));
    // e ≈ floor(log2 |x|) (integer-valued float32), off by at most one near a power of two; corrected exactly
    // against 2^e and 2^(e+1).
    let e = tf.clipByValue(tf.floor(tf.mul(tf.log(aSafe), Math.LOG2E)), -26, 17);
    e = tf.sub(e, tf.cast(tf.greater(pow2(table, e), aSafe), 'float32'));
    e = tf.add(e, tf.cast(tf.lessEqual(pow2(table, tf.add(e, 1)), aSafe), 'float32'));
    // binary16 binades: 2^-14 (below it the subnormals share the step 2^-24) to 2^15.
    e = tf.clipByValue(e, -14, 15);
    const stepExp = tf.sub(e, 10);
    const step = pow2(table, stepExp);
    const q = tf.mul(a, pow2(inverse, stepExp)); // |x| in units of the binade's step, exactly
    const f = tf.floor(q);
    const frac = tf.sub(q, f);
    const odd = tf.equal(tf.sub(f, tf.mul(tf.floor(tf.mul(f, 0.5)), 2)), 1);
    const up = tf.logicalOr(tf.greater(frac, 0.5), tf.logicalAnd(tf.equal(frac, 0.5), odd));
    let m = tf.mul(tf.add(f, tf.cast(up, 'float32')), step);
    m = tf.where(tf.greater(m, FLOAT16_MAX), tf.fill(m.shape, Number.POSITIVE_INFINITY), m);
    let y = tf.where(tf.less(x32, 0), tf.neg(m), m);
    // ±0 keeps its sign (x·0 for a finite x), NaN stays NaN.
    y = tf.where(tf.equal(m, 0), tf.mul(x32, 0), y);
    return tf.where(tf.isNaN(x32), x32, y);
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
