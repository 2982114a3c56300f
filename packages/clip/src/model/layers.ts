/**
 * The building blocks of CLIP as plain tfjs-core ops, with gradients on every backend:
 *  - token embedding: a gather whose gradient is a one-hot matmul over the distinct ids (the wasm backend has no
 *    kernel for gather's own gradient, UnsortedSegmentSum);
 *  - patch embedding: reshape/transpose + matmul instead of a strided conv2d;
 *  - 3×3 convolutions (ModifiedResNet): native conv2d, with a filter gradient built from matmuls of shifted input
 *    windows where the backend has no Conv2DBackpropFilter kernel (wasm);
 *  - multi-head attention as torch.nn.MultiheadAttention computes it (q scaled by head_dim^-0.5 before q·kᵀ).
 * The optional `r` of each block is the float16 rounding of the 'fp16-emulated' precision (precision.ts): applied to
 * each output PyTorch computes in half precision; absent in fp32, where no op is added.
 */
import { layerNorm, quickGelu } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import { type HalfRound, maybeRound } from './precision.ts';

/** Reads a named tensor from the store; the names are OpenAI's. */
export type Params = (name: string) => tf.Tensor;

/**
 * x @ Wᵀ + b over the last axis (torch.nn.Linear with weight [out, in]). Written with untransposed matmuls only,
 * forward and backward (W is transposed explicitly; the gradients are dX = dY·W, dW = dYᵀ·X with dYᵀ explicit):
 * tfjs-backend-wasm runs transposed matmuls on a path about 8× slower than its XNNPACK one.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor, r?: HalfRound): tf.Tensor {
  const inDim = x.shape[x.rank - 1]!;
  const outDim = weight.shape[0]!;
  const lead = x.shape.slice(0, -1);
  const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  const y = maybeRound(r, linear2d(x2, weight as tf.Tensor2D, bias));
  return tf.reshape(y, [...lead, outDim]);
}

function linear2d(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xin, w, b] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor | undefined];
    save([xin, w]);
    let value: tf.Tensor2D = tf.matMul(xin, tf.transpose(w));
    if (bias !== undefined) value = tf.add(value, b as tf.Tensor);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const d = dy as tf.Tensor2D;
        const dx = tf.matMul(d, ws);
        const dw = tf.matMul(tf.transpose(d), xs);
        return bias !== undefined ? [dx, dw, tf.sum(d, 0)] : [dx, dw];
      },
    };
  });
  return (bias !== undefined ? op(x, weight, bias) : op(x, weight)) as tf.Tensor2D;
}

/** OpenAI's LayerNorm: computed in float32, the result cast back to the input's precision (`r`). */
export function layerNormNamed(x: tf.Tensor, params: Params, prefix: string, r?: HalfRound): tf.Tensor {
  const y = layerNorm(x, params(`${prefix}.weight`) as tf.Tensor1D, params(`${prefix}.bias`) as tf.Tensor1D, 1e-5);
  return maybeRound(r, y);
}

/** QuickGELU, x · sigmoid(1.702 · x); with `r`, each of its three half-precision element-wise steps is rounded. */
export function quickGeluRounded(x: tf.Tensor, r?: HalfRound): tf.Tensor {
  if (r === undefined) return quickGelu(x);
  return r(tf.mul(x, r(tf.sigmoid(r(tf.mul(x, 1.702))))));
}

/** [B, L, H·dh] → [B, H, L, dh]. */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, l, w] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [b, l, heads, w / heads]), [0, 2, 1, 3]);
}

/** [B, H, L, dh] → [B, L, H·dh]. */
function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [b, h, l, dh] = x.shape as [number, number, number, number];
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, l, h * dh]);
}

/**
 * Scaled dot-product attention over heads: softmax(q·kᵀ·dh^-½ + mask)·v, q/k/v [B, L, W] already projected.
 * `mask` [Lq, Lk] is added to the scores (large negative values hide positions).
 */
export function attention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  heads: number,
  mask?: tf.Tensor,
  r?: HalfRound,
): tf.Tensor {
  const dh = q.shape[2]! / heads;
  const qh = tf.mul(splitHeads(q, heads), dh ** -0.5);
  let scores = tf.matMul(qh as tf.Tensor4D, splitHeads(k, heads) as tf.Tensor4D, false, true);
  if (mask) scores = tf.add(scores, mask);
  const probs = tf.softmax(scores);
  // With `r`: rounded once, as PyTorch 2's fused scaled_dot_product_attention returns its half output.
  return maybeRound(r, mergeHeads(tf.matMul(probs as tf.Tensor4D, splitHeads(v, heads) as tf.Tensor4D)));
}

/** torch.nn.MultiheadAttention self-attention with packed in_proj weights (OpenAI's `attn`). */
export function multiHeadSelfAttention(
  x: tf.Tensor,
  params: Params,
  prefix: string,
  heads: number,
  mask?: tf.Tensor,
  r?: HalfRound,
): tf.Tensor {
  const w = x.shape[2]!;
  const qkv = linear(x, params(`${prefix}.in_proj_weight`), params(`${prefix}.in_proj_bias`), r);
  const [q, k, v] = tf.split(qkv, [w, w, w], 2) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const out = attention(q, k, v, heads, mask, r);
  return linear(out, params(`${prefix}.out_proj.weight`), params(`${prefix}.out_proj.bias`), r);
}

/** OpenAI's ResidualAttentionBlock: x + attn(ln_1(x)); x + mlp(ln_2(x)) with a QuickGELU MLP. */
export function residualAttentionBlock(
  x: tf.Tensor,
  params: Params,
  prefix: string,
  heads: number,
  mask?: tf.Tensor,
  r?: HalfRound,
): tf.Tensor {
  const a = multiHeadSelfAttention(
    layerNormNamed(x, params, `${prefix}.ln_1`, r),
    params,
    `${prefix}.attn`,
    heads,
    mask,
    r,
  );
  x = maybeRound(r, tf.add(x, a));
  const h = linear(
    layerNormNamed(x, params, `${prefix}.ln_2`, r),
    params(`${prefix}.mlp.c_fc.weight`),
    params(`${prefix}.mlp.c_fc.bias`),
    r,
  );
  const m = linear(
    quickGeluRounded(h, r),
    params(`${prefix}.mlp.c_proj.weight`),
    params(`${prefix}.mlp.c_proj.bias`),
    r,
  );
  return maybeRound(r, tf.add(x, m));
}

/** Value used for masked attention scores: exp(score − max) underflows to exactly 0 in float32, as with −∞. */
export const MASKED_SCORE = -1e9;

/** OpenAI's causal mask for the text transformer: 0 on and below the diagonal, masked above. [L, L] */
export function causalMask(length: number): tf.Tensor2D {
  const data = new Float32Array(length * length);
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) data[i * length + j] = MASKED_SCORE;
  return tf.tensor2d(data, [length, length]);
}

/**
 * Embedding lookup table[ids] with a gradient that works on every backend: the forward is a gather; the gradient of
 * the table is (one-hot of the distinct ids)ᵀ · dy scattered back with a gather, i.e. PyTorch's dense embedding
 * gradient (zero rows for ids not present). `ids` are host-side integers already checked to lie in [0, V).
 */
export function embeddingLookup(table: tf.Tensor, ids: Int32Array, outShape: number[]): tf.Tensor {
  const [vocab, width] = table.shape as [number, number];
  const uniq = [...new Set(ids)].sort((a, b) => a - b);
  const position = new Map<number, number>();
  uniq.forEach((id, k) => position.set(id, k));
  const inverse = Int32Array.from(ids, (id) => position.get(id)!);
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor;
    const idx = tf.tensor1d(ids, 'int32');
    const value = tf.reshape(tf.gather(t, idx), outShape);
    idx.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const dyFlat = tf.reshape(dy, [ids.length, width]);
        const inv = tf.tensor1d(inverse, 'int32');
        // int32 one-hot then cast: tfjs-backend-wasm's OneHot writes integer bits into float32 outputs. Transposed
        // explicitly: wasm's matmul with transposeA is ~8× slower than its plain one.
        const oneHotT = tf.transpose(tf.cast(tf.oneHot(inv, uniq.length), 'float32')) as tf.Tensor2D; // [U, N]
        const rows = tf.matMul(oneHotT, dyFlat as tf.Tensor2D); // [U, D]
        const padded = tf.concat([tf.zeros([1, width]), rows], 0); // row 0 = zero gradient
        const map = new Int32Array(vocab);
        uniq.forEach((id, k) => {
          map[id] = k + 1;
        });
        return tf.gather(padded, tf.tensor1d(map, 'int32'));
      },
    };
  });
  return lookup(table);
}

// ------------------------------------------------------------------------------------------------ convolutions

export type Padding = [[number, number], [number, number], [number, number], [number, number]];

/** Torch-style symmetric padding of H and W for NHWC tensors. */
export function explicitPadding(pad: number): Padding {
  return [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ];
}

/** Whether the active backend has a kernel (capability check, not a backend choice). */
export function backendHasKernel(kernel: string): boolean {
  return tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

/**
 * ∂L/∂filter of an NHWC conv2d from shifted windows of the padded input: for each tap (i, j),
 * dW[i, j] = X_ijᵀ · dY with X_ij the input pixels that tap sees ([N·OH·OW, Cin]). Only matmuls and slices.
 */
export function conv2dFilterGradBySlices(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kernel: number,
  stride: number,
  pad: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, , , cin] = x.shape;
    const [, oh, ow, cout] = dy.shape;
    const xp = pad > 0 ? tf.pad(x, explicitPadding(pad)) : x;
    const dyFlat = tf.reshape(dy, [n * oh * ow, cout]) as tf.Tensor2D;
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kernel; i++) {
      for (let j = 0; j < kernel; j++) {
        const win = tf.stridedSlice(
          xp,
          [0, i, j, 0],
          [n, i + stride * (oh - 1) + 1, j + stride * (ow - 1) + 1, cin],
          [1, stride, stride, 1],
        );
        taps.push(tf.matMul(tf.transpose(tf.reshape(win, [n * oh * ow, cin])) as tf.Tensor2D, dyFlat));
      }
    }
    return tf.reshape(tf.stack(taps), [kernel, kernel, cin, cout]) as tf.Tensor4D;
  });
}

/**
 * NHWC conv2d with torch's symmetric zero padding, filter [kh, kw, Cin, Cout]. Differentiable on every backend:
 * where the backend lacks Conv2DBackpropFilter (wasm) the filter gradient comes from conv2dFilterGradBySlices.
 * `forceSliceGradient` selects that path everywhere (tests).
 */
export function conv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: number,
  forceSliceGradient = false,
): tf.Tensor4D {
  const padding = explicitPadding(pad);
  if (!forceSliceGradient && backendHasKernel('Conv2DBackpropFilter')) {
    return tf.conv2d(x, filter, stride, pad === 0 ? 'valid' : padding);
  }
  const kernel = filter.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xin, f, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([xin, f]);
    const value = tf.conv2d(xin as tf.Tensor4D, f as tf.Tensor4D, stride, pad === 0 ? 'valid' : padding);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, fs, xs.shape, stride, pad === 0 ? 'valid' : padding);
        const df = conv2dFilterGradBySlices(xs, dy as tf.Tensor4D, kernel, stride, pad);
        return [dx, df];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}
