// The previous composition of roundToFloat16's values (a binade search with a gather table of powers of two, floor
// and comparisons for ties to even; about 50 tfjs ops), kept as the baseline of bench/run.ts's roundToFloat16 case.
import * as tf from '@tensorflow/tfjs-core';

const FLOAT16_MAX = 65504;
const POW2_MIN = -26;
const POW2_MAX = 18;
const pow2Values = Float32Array.from({ length: POW2_MAX - POW2_MIN + 1 }, (_, i) => 2 ** (i + POW2_MIN));
const inversePow2Values = Float32Array.from(pow2Values, (v) => 1 / v);
function pow2(table: tf.Tensor1D, e: tf.Tensor): tf.Tensor {
  return tf.gather(table, tf.cast(tf.sub(e, POW2_MIN), 'int32'));
}
export function roundValuesOld(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const table = tf.tensor1d(pow2Values);
    const inverse = tf.tensor1d(inversePow2Values);
    const a = tf.abs(x32);
    const aSafe = tf.where(tf.isNaN(a), tf.onesLike(a), tf.clipByValue(a, 2 ** -26, 2 ** 17));
    let e = tf.clipByValue(tf.floor(tf.mul(tf.log(aSafe), Math.LOG2E)), -26, 17);
    e = tf.sub(e, tf.cast(tf.greater(pow2(table, e), aSafe), 'float32'));
    e = tf.add(e, tf.cast(tf.lessEqual(pow2(table, tf.add(e, 1)), aSafe), 'float32'));
    e = tf.clipByValue(e, -14, 15);
    const stepExp = tf.sub(e, 10);
    const step = pow2(table, stepExp);
    const q = tf.mul(a, pow2(inverse, stepExp));
    const f = tf.floor(q);
    const frac = tf.sub(q, f);
    const odd = tf.equal(tf.sub(f, tf.mul(tf.floor(tf.mul(f, 0.5)), 2)), 1);
    const up = tf.logicalOr(tf.greater(frac, 0.5), tf.logicalAnd(tf.equal(frac, 0.5), odd));
    let m = tf.mul(tf.add(f, tf.cast(up, 'float32')), step);
    m = tf.where(tf.greater(m, FLOAT16_MAX), tf.fill(m.shape, Number.POSITIVE_INFINITY), m);
    let y = tf.where(tf.less(x32, 0), tf.neg(m), m);
    y = tf.where(tf.equal(m, 0), tf.mul(x32, 0), y);
    return tf.where(tf.isNaN(x32), x32, y);
  });
}
