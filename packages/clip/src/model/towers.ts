/**
 * The forward passes of OpenAI's CLIP towers as tfjs-core ops (names and computations of `clip/model.py`):
 * VisionTransformer, ModifiedResNet and the text transformer. Call inside tf.tidy. The optional `r` is the float16
 * rounding of the 'fp16-emulated' precision (precision.ts), applied where OpenAI's half-precision model holds a half
 * tensor; absent (fp32), the computation is op for op the float32 one.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClipConfig, DerivedConfig } from './config.ts';
import {
  attention,
  causalMask,
  conv2d,
  embeddingLookup,
  layerNormNamed,
  linear,
  type Params,
  residualAttentionBlock,
} from './layers.ts';
import { type HalfRound, maybeRound } from './precision.ts';
import { resnetBlocks } from './spec.ts';
import type { TokenBatch } from './tokens.ts';

/**
 * VisionTransformer.forward: patch embedding (the stride-p, bias-free conv1 as a reshape/transpose + matmul), class
 * token, positional embedding, ln_pre, residual blocks, ln_post on the class token, projection. images [B, 3, R, R].
 */
export function visionTransformer(
  images: tf.Tensor4D,
  params: Params,
  config: ClipConfig,
  derived: DerivedConfig,
  r?: HalfRound,
): tf.Tensor2D {
  images = maybeRound(r, images); // image.type(self.dtype)
  const b = images.shape[0];
  const p = config.vision_patch_size!;
  const g = derived.grid;
  const w = config.vision_width;
  // [B,3,R,R] = [B·3·gy, py, gx, px] → [B·3·gy, gx, py, px] → [B, 3, gy·gx, py·px] → [B, gy·gx, 3, py·px]
  let x: tf.Tensor = tf.transpose(tf.reshape(images, [b * 3 * g, p, g, p]), [0, 2, 1, 3]);
  x = tf.transpose(tf.reshape(x, [b, 3, g * g, p * p]), [0, 2, 1, 3]);
  const patches = tf.reshape(x, [b * g * g, 3 * p * p]) as tf.Tensor2D;
  const kernel = tf.reshape(params('visual.conv1.weight'), [w, 3 * p * p]) as tf.Tensor2D; // (c, ky, kx) order
  x = tf.reshape(linear(patches, kernel, undefined, r), [b, g * g, w]);
  const cls = tf.add(tf.zeros([b, 1, w]), maybeRound(r, params('visual.class_embedding')));
  x = tf.concat([cls, x], 1);
  x = maybeRound(r, tf.add(x, maybeRound(r, params('visual.positional_embedding'))));
  x = layerNormNamed(x, params, 'visual.ln_pre', r);
  const layers = config.vision_layers as number;
  for (let i = 0; i < layers; i++) {
    x = residualAttentionBlock(x, params, `visual.transformer.resblocks.${i}`, derived.visionHeads, undefined, r);
  }
  const clsOut = tf.reshape(tf.slice(x, [0, 0, 0], [b, 1, w]), [b, w]);
  const normed = layerNormNamed(clsOut, params, 'visual.ln_post', r);
  return maybeRound(r, tf.matMul(normed as tf.Tensor2D, params('visual.proj') as tf.Tensor2D));
}

/** CLIP.encode_text: token + positional embedding, causal transformer, ln_final, pooling at the EOT id, projection. */
export function textTransformer(tokens: TokenBatch, params: Params, config: ClipConfig, r?: HalfRound): tf.Tensor2D {
  const { batch: b, length: l } = tokens;
  const w = config.transformer_width;
  let x = maybeRound(r, embeddingLookup(params('token_embedding.weight'), tokens.ids, [b, l, w]));
  x = maybeRound(r, tf.add(x, maybeRound(r, params('positional_embedding'))));
  const mask = causalMask(l);
  for (let i = 0; i < config.transformer_layers; i++) {
    x = residualAttentionBlock(x, params, `transformer.resblocks.${i}`, config.transformer_heads, mask, r);
  }
  // x[arange(B), argmax(ids)] as a product with a one-hot over positions (a gather's gradient needs a kernel wasm
  // lacks); LayerNorm acts per position, so applying ln_final after the pooling is the same computation.
  const select = new Float32Array(b * l);
  for (let i = 0; i < b; i++) select[i * l + tokens.eot[i]!] = 1;
  // In half precision a position after the EOT token may overflow to ±∞ (0·∞ would be NaN): select, not multiply.
  const pooled =
    r === undefined
      ? tf.sum(tf.mul(x, tf.tensor3d(select, [b, l, 1])), 1)
      : tf.sum(tf.where(tf.tile(tf.tensor3d(select, [b, l, 1], 'bool'), [1, 1, w]), x, tf.zerosLike(x)), 1);
  const normed = layerNormNamed(pooled, params, 'ln_final', r);
  return maybeRound(r, tf.matMul(normed as tf.Tensor2D, params('text_projection') as tf.Tensor2D));
}

// ------------------------------------------------------------------------------------------------ ModifiedResNet

/** torch Conv2d weight [out, in, kh, kw] → tfjs filter [kh, kw, in, out]. */
function filterOf(params: Params, name: string): tf.Tensor4D {
  return tf.transpose(params(name), [2, 3, 1, 0]) as tf.Tensor4D;
}

/** A bias-free 1×1 convolution as a matmul over channels (NHWC). */
function conv1x1(x: tf.Tensor4D, params: Params, name: string, r?: HalfRound): tf.Tensor4D {
  const [n, h, w, cin] = x.shape;
  const weight = params(name);
  const cout = weight.shape[0]!;
  const y = linear(tf.reshape(x, [n * h * w, cin]), tf.reshape(weight, [cout, cin]), undefined, r);
  return tf.reshape(y, [n, h, w, cout]) as tf.Tensor4D;
}

/**
 * BatchNorm2d in evaluation mode (running statistics), eps 1e-5, over the channel axis of NHWC; in half precision
 * computed in float32 and rounded (`r`), as cuDNN's half BatchNorm with float32 parameters.
 */
function batchNorm(x: tf.Tensor4D, params: Params, prefix: string, r?: HalfRound): tf.Tensor4D {
  const scale = tf.mul(tf.rsqrt(tf.add(params(`${prefix}.running_var`), 1e-5)), params(`${prefix}.weight`));
  const y = tf.add(tf.mul(tf.sub(x, params(`${prefix}.running_mean`)), scale), params(`${prefix}.bias`));
  return maybeRound(r, y) as tf.Tensor4D;
}

function avgPool(x: tf.Tensor4D, k: number, r?: HalfRound): tf.Tensor4D {
  return k === 1 ? x : maybeRound(r, tf.avgPool(x, k, k, 'valid'));
}

export interface ResNetOptions {
  /** Use the slice-based conv2d filter gradient even where the backend has Conv2DBackpropFilter (tests). */
  forceSliceConvGradient?: boolean;
  /** The float16 rounding of the 'fp16-emulated' precision (none: fp32). */
  round?: HalfRound;
}

/**
 * ModifiedResNet.forward: a 3-convolution stem with an average pool, anti-aliased Bottleneck stages (average
 * pooling before the stride-free 3×3 convolution and in the downsample branch) and the attention pool (mean token,
 * positional embedding, multi-head attention of the mean token over all positions, c_proj). images [B, 3, R, R].
 * BatchNorm uses the running statistics (evaluation mode, as `clip.load` returns the model).
 */
export function modifiedResNet(
  images: tf.Tensor4D,
  params: Params,
  config: ClipConfig,
  derived: DerivedConfig,
  options: ResNetOptions = {},
): tf.Tensor2D {
  const force = options.forceSliceConvGradient ?? false;
  const r = options.round;
  const conv3 = (x: tf.Tensor4D, name: string, stride: number) =>
    maybeRound(r, conv2d(x, filterOf(params, name), stride, 1, force));
  let x = tf.transpose(maybeRound(r, images), [0, 2, 3, 1]) as tf.Tensor4D; // NCHW → NHWC
  x = tf.relu(batchNorm(conv3(x, 'visual.conv1.weight', 2), params, 'visual.bn1', r));
  x = tf.relu(batchNorm(conv3(x, 'visual.conv2.weight', 1), params, 'visual.bn2', r));
  x = tf.relu(batchNorm(conv3(x, 'visual.conv3.weight', 1), params, 'visual.bn3', r));
  x = avgPool(x, 2, r);
  for (const block of resnetBlocks(config)) {
    const pre = block.prefix;
    let out = tf.relu(batchNorm(conv1x1(x, params, `${pre}.conv1.weight`, r), params, `${pre}.bn1`, r));
    out = tf.relu(batchNorm(conv3(out, `${pre}.conv2.weight`, 1), params, `${pre}.bn2`, r));
    out = avgPool(out, block.stride, r);
    out = batchNorm(conv1x1(out, params, `${pre}.conv3.weight`, r), params, `${pre}.bn3`, r);
    let identity = x;
    if (block.downsample) {
      identity = batchNorm(
        conv1x1(avgPool(x, block.stride, r), params, `${pre}.downsample.0.weight`, r),
        params,
        `${pre}.downsample.1`,
        r,
      );
    }
    x = tf.relu(maybeRound(r, tf.add(out, identity))) as tf.Tensor4D;
  }
  // AttentionPool2d
  const [n, h, w, c] = x.shape;
  let seq: tf.Tensor = tf.reshape(x, [n, h * w, c]);
  seq = tf.concat([maybeRound(r, tf.mean(seq, 1, true)), seq], 1);
  seq = maybeRound(r, tf.add(seq, maybeRound(r, params('visual.attnpool.positional_embedding'))));
  const first = tf.slice(seq, [0, 0, 0], [n, 1, c]);
  const q = linear(first, params('visual.attnpool.q_proj.weight'), params('visual.attnpool.q_proj.bias'), r);
  const k = linear(seq, params('visual.attnpool.k_proj.weight'), params('visual.attnpool.k_proj.bias'), r);
  const v = linear(seq, params('visual.attnpool.v_proj.weight'), params('visual.attnpool.v_proj.bias'), r);
  const pooled = attention(q, k, v, derived.visionHeads, undefined, r);
  const out = linear(pooled, params('visual.attnpool.c_proj.weight'), params('visual.attnpool.c_proj.bias'), r);
  return tf.reshape(out, [n, config.embed_dim]) as tf.Tensor2D;
}
