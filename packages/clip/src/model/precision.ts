/**
 * The numeric precision of CLIP's forward pass.
 *
 * - 'fp32': float32 everywhere (the default; what `model.float()` gives in PyTorch).
 * - 'fp16-emulated': OpenAI's CLIP as `clip.load` / `clip.model.convert_weights` leave it on a GPU, the precision
 *   of the official FairCLIP and CLIP fine-tuning runs, emulated on float32 backends: the Linear / Conv / attention
 *   projection weights and biases and `proj` / `text_projection` are float16 values ({@link isHalfParameter}); the
 *   activations are rounded to float16 after every operation that PyTorch computes in half precision (the input
 *   images and embeddings cast to half, every matmul output with its bias, the attention output, QuickGELU's three
 *   element-wise steps, residual sums, the feature norms and divisions, `logit_scale · features` and the logits);
 *   LayerNorm and BatchNorm compute in float32 and round their output (OpenAI's LayerNorm casts to float32 and back).
 *   The gradients of those half tensors are rounded to float16 too, as autograd computes them in half precision, so
 *   activations and gradients overflow to ±∞ from 65520 as on the GPU. Each matmul accumulates in float32 and rounds
 *   once (cuBLAS' half GEMM with float32 accumulation); the attention is rounded as PyTorch 2's fused
 *   scaled_dot_product_attention returns it (scores and probabilities stay float32 inside). Kept in float32, as in
 *   PyTorch: LayerNorm / BatchNorm parameters, embeddings, `class_embedding`, `logit_scale`.
 */
import { roundToFloat16 } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';

export const CLIP_PRECISIONS = ['fp32', 'fp16-emulated'] as const;
export type ClipPrecision = (typeof CLIP_PRECISIONS)[number];

/** Rounds a tensor to the precision the original holds it in; undefined in fp32 (then no op is added at all). */
export type HalfRound = ((x: tf.Tensor) => tf.Tensor) | undefined;

function roundHalf(x: tf.Tensor): tf.Tensor {
  return roundToFloat16(x, { gradient: 'float16' });
}

/** The rounding of a precision: float16 rounding (value and gradient) for 'fp16-emulated', none for 'fp32'. */
export function halfRoundOf(precision: ClipPrecision): HalfRound {
  return precision === 'fp16-emulated' ? roundHalf : undefined;
}

/**
 * A half parameter as the forward reads it: its value unchanged (it is a float16 value already), its gradient
 * rounded to float16 (autograd's gradient of a half parameter is half). Cheaper than rounding the value again.
 */
export function halfParameter(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => roundToFloat16(dy),
  }));
  return op(x);
}

/** `r(x)` where a rounding is given, else x itself (the fp32 path stays op-for-op what it was). */
export function maybeRound<T extends tf.Tensor>(r: HalfRound, x: T): T {
  return (r === undefined ? x : r(x)) as T;
}

/**
 * Whether `clip.model.convert_weights` stores a parameter (OpenAI name) in float16: weights and biases of every
 * nn.Linear / nn.Conv2d (attention out_proj, MLP c_fc / c_proj, ViT conv1, ResNet convolutions and downsample
 * convolutions, attention-pool q/k/v/c_proj), nn.MultiheadAttention's in_proj_weight / in_proj_bias, and the
 * attributes `proj` / `text_projection`. LayerNorm, BatchNorm, embeddings, class_embedding and logit_scale stay fp32.
 */
export function isHalfParameter(name: string): boolean {
  if (name === 'text_projection' || name === 'visual.proj') return true;
  if (/\.attn\.in_proj_(weight|bias)$/.test(name)) return true;
  if (/\.(out_proj|c_fc|c_proj|q_proj|k_proj|v_proj)\.(weight|bias)$/.test(name)) return true;
  return /^visual\.(conv[123]|layer\d+\.\d+\.(conv[123]|downsample\.0))\.weight$/.test(name);
}
