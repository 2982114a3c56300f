/**
 * Composed tfjs ops the project relies on, written once so that every package (and the conformance suite) uses the
 * same composition. All are differentiable (plain tfjs ops).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './errors.ts';

/**
 * Layer normalisation over the last axis, as CLIP (torch.nn.LayerNorm) computes it:
 * y = (x − mean) · rsqrt(var + ε) · γ + β with the biased variance (divide by D). γ, β have shape [D].
 */
export function layerNorm(x: tf.Tensor, gamma?: tf.Tensor1D, beta?: tf.Tensor1D, epsilon = 1e-5): tf.Tensor {
  const d = x.shape[x.rank - 1];
  if (x.rank < 1 || d === undefined) throw new InvalidArgumentError('layerNorm: x must have rank >= 1');
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== d)) {
      throw new InvalidArgumentError(`layerNorm: ${name} must have shape [${d}], got [${t.shape.join(', ')}]`);
    }
  }
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    let y = tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon)));
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return y;
  });
}

/** Exact GELU, x · Φ(x) = 0.5 · x · (1 + erf(x / √2)) (torch.nn.GELU(), open_clip). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/** QuickGELU, x · sigmoid(1.702 · x) (OpenAI CLIP). */
export function quickGelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));
}
