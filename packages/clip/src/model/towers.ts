/**
 * The forward passes of OpenAI's CLIP towers as tfjs-core ops (names and computations of `clip/model.py`):
 * VisionTransformer, ModifiedResNet and the text transformer. Call inside tf.tidy.
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
): tf.Tensor2D {
  const b = images.shape[0];
  const p = config.vision_patch_size!;
  const g = derived.grid;
  const w = config.vision_width;
  // [B,3,R,R] = [B·3·gy, py, gx, px] → [B·3·gy, gx, py, px] → [B, 3, gy·gx, py·px] → [B, gy·gx, 3, py·px]
  let x: tf.Tensor = tf.transpose(tf.reshape(images, [b * 3 * g, p, g, p]), [0, 2, 1, 3]);
  x = tf.transpose(tf.reshape(x, [b, 3, g * g, p * p]), [0, 2, 1, 3]);
  const patches = tf.reshape(x, [b * g * g, 3 * p * p]) as tf.Tensor2D;
  const kernel = tf.reshape(params('visual.conv1.weight'), [w, 3 * p * p]) as tf.Tensor2D; // (c, ky, kx) order
  x = tf.reshape(linear(patches, kernel), [b, g * g, w]);
  const cls = tf.add(tf.zeros([b, 1, w]), params('visual.class_embedding'));
  x = tf.concat([cls, x], 1);
  x = tf.add(x, params('visual.positional_embedding'));
  x = layerNormNamed(x, params, 'visual.ln_pre');
  const layers = config.vision_layers as number;
  for (let i = 0; i < layers; i++) {
    x = residualAttentionBlock(x, params, `visual.transformer.resblocks.${i}`, derived.visionHeads);
  }
  const clsOut = tf.reshape(tf.slice(x, [0, 0, 0], [b, 1, w]), [b, w]);
  const normed = layerNormNamed(clsOut, params, 'visual.ln_post');
  return tf.matMul(normed as tf.Tensor2D, params('visual.proj') as tf.Tensor2D);
}

/** CLIP.encode_text: token + positional embedding, causal transformer, ln_final, pooling at the EOT id, projection. */
export function textTransformer(tokens: TokenBatch, params: Params, config: ClipConfig): tf.Tensor2D {
  const { batch: b, length: l } = tokens;
  const w = config.transformer_width;
  let x = embeddingLookup(params('token_embedding.weight'), tokens.ids, [b, l, w]);
  x = tf.add(x, params('positional_embedding'));
  const mask = causalMask(l);
  for (let i = 0; i < config.transformer_layers; i++) {
    x = residualAttentionBlock(x, params, `transformer.resblocks.${i}`, config.transformer_heads, mask);
  }
  // x[arange(B), argmax(ids)] as a product with a one-hot over positions (a gather's gradient needs a kernel wasm
  // lacks); LayerNorm acts per position, so applying ln_final after the pooling is the same computation.
  const select = new Float32Array(b * l);
  for (let i = 0; i < b; i++) select[i * l + tokens.eot[i]!] = 1;
  const pooled = tf.sum(tf.mul(x, tf.tensor3d(select, [b, l, 1])), 1);
  const normed = layerNormNamed(pooled, params, 'ln_final');
  return tf.matMul(normed as tf.Tensor2D, params('text_projection') as tf.Tensor2D);
}

// ------------------------------------------------------------------------------------------------ ModifiedResNet

/** torch Conv2d weight [out, in, kh, kw] → tfjs filter [kh, kw, in, out]. */
function filterOf(params: Params, name: string): tf.Tensor4D {
  return tf.transpose(params(name), [2, 3, 1, 0]) as tf.Tensor4D;
}

/** A bias-free 1×1 convolution as a matmul over channels (NHWC). */
function conv1x1(x: tf.Tensor4D, params: Params, name: string): tf.Tensor4D {
  const [n, h, w, cin] = x.shape;
  const weight = params(name);
  const cout = weight.shape[0]!;
  const y = linear(tf.reshape(x, [n * h * w, cin]), tf.reshape(weight, [cout, cin]));
  return tf.reshape(y, [n, h, w, cout]) as tf.Tensor4D;
}

/** BatchNorm2d in evaluation mode (running statistics), eps 1e-5, over the channel axis of NHWC. */
function batchNorm(x: tf.Tensor4D, params: Params, prefix: string): tf.Tensor4D {
  const scale = tf.mul(tf.rsqrt(tf.add(params(`${prefix}.running_var`), 1e-5)), params(`${prefix}.weight`));
  return tf.add(tf.mul(tf.sub(x, params(`${prefix}.running_mean`)), scale), params(`${prefix}.bias`)) as tf.Tensor4D;
}

function avgPool(x: tf.Tensor4D, k: number): tf.Tensor4D {
  return k === 1 ? x : tf.avgPool(x, k, k, 'valid');
}

export interface ResNetOptions {
  /** Use the slice-based conv2d filter gradient even where the backend has Conv2DBackpropFilter (tests). */
  forceSliceConvGradient?: boolean;
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
  const conv3 = (x: tf.Tensor4D, name: string, stride: number) => conv2d(x, filterOf(params, name), stride, 1, force);
  let x = tf.transpose(images, [0, 2, 3, 1]) as tf.Tensor4D; // NCHW → NHWC
  x = tf.relu(batchNorm(conv3(x, 'visual.conv1.weight', 2), params, 'visual.bn1'));
  x = tf.relu(batchNorm(conv3(x, 'visual.conv2.weight', 1), params, 'visual.bn2'));
  x = tf.relu(batchNorm(conv3(x, 'visual.conv3.weight', 1), params, 'visual.bn3'));
  x = avgPool(x, 2);
  for (const block of resnetBlocks(config)) {
    const pre = block.prefix;
    let out = tf.relu(batchNorm(conv1x1(x, params, `${pre}.conv1.weight`), params, `${pre}.bn1`));
    out = tf.relu(batchNorm(conv3(out, `${pre}.conv2.weight`, 1), params, `${pre}.bn2`));
    out = avgPool(out, block.stride);
    out = batchNorm(conv1x1(out, params, `${pre}.conv3.weight`), params, `${pre}.bn3`);
    let identity = x;
    if (block.downsample) {
      identity = batchNorm(
        conv1x1(avgPool(x, block.stride), params, `${pre}.downsample.0.weight`),
        params,
        `${pre}.downsample.1`,
      );
    }
    x = tf.relu(tf.add(out, identity)) as tf.Tensor4D;
  }
  // AttentionPool2d
  const [n, h, w, c] = x.shape;
  let seq: tf.Tensor = tf.reshape(x, [n, h * w, c]);
  seq = tf.concat([tf.mean(seq, 1, true), seq], 1);
  seq = tf.add(seq, params('visual.attnpool.positional_embedding'));
  const first = tf.slice(seq, [0, 0, 0], [n, 1, c]);
  const q = linear(first, params('visual.attnpool.q_proj.weight'), params('visual.attnpool.q_proj.bias'));
  const k = linear(seq, params('visual.attnpool.k_proj.weight'), params('visual.attnpool.k_proj.bias'));
  const v = linear(seq, params('visual.attnpool.v_proj.weight'), params('visual.attnpool.v_proj.bias'));
  const pooled = attention(q, k, v, derived.visionHeads);
  const out = linear(pooled, params('visual.attnpool.c_proj.weight'), params('visual.attnpool.c_proj.bias'));
  return tf.reshape(out, [n, config.embed_dim]) as tf.Tensor2D;
}
