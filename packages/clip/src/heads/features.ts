/**
 * Frozen-encoder feature extraction for linear probing (reference brief §4.3): image features, or image and text
 * features side by side ("multimodal"), batch by batch into one host array. No gradients are recorded.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClipModel } from '../model/clip.ts';
import { ClipModelError } from '../model/errors.ts';
import type { TokenInput } from '../model/tokens.ts';
import { normalizeEmbeddings } from './contrastive.ts';

export interface FeatureBatch {
  /** [B, 3, R, R]; owned by the caller (not disposed here). */
  images: tf.Tensor4D;
  /** One token row per image; required for mode 'image+text'. */
  tokens?: TokenInput;
}

export interface FeatureOptions {
  /** 'image': encode_image (embed_dim values); 'image+text': [encode_image, encode_text] (2 · embed_dim). */
  mode?: 'image' | 'image+text';
  /** L2-normalise each part before concatenation. Default false (the raw projections). */
  normalize?: boolean;
}

export interface Features {
  /** Row-major [rows, dim]. */
  data: Float32Array;
  rows: number;
  dim: number;
}

/** Encodes every batch and returns the features as one host array. */
export async function extractFeatures(
  model: ClipModel,
  batches: Iterable<FeatureBatch> | AsyncIterable<FeatureBatch>,
  options: FeatureOptions = {},
): Promise<Features> {
  const mode = options.mode ?? 'image';
  const normalize = options.normalize ?? false;
  const dim = model.config.embed_dim * (mode === 'image' ? 1 : 2);
  const chunks: Float32Array[] = [];
  let rows = 0;
  let index = 0;
  for await (const batch of batches) {
    if (mode === 'image+text' && batch.tokens === undefined) {
      throw new ClipModelError(
        'BAD_INPUT',
        `extractFeatures: batch ${index} has no tokens (mode 'image+text' needs them)`,
      );
    }
    const out = tf.tidy(() => {
      const parts: tf.Tensor2D[] = [];
      const img = model.encodeImage(batch.images);
      parts.push(normalize ? normalizeEmbeddings(img) : img);
      if (mode === 'image+text') {
        const txt = model.encodeText(batch.tokens!);
        if (txt.shape[0] !== img.shape[0]) {
          throw new ClipModelError(
            'BAD_INPUT',
            `extractFeatures: batch ${index} has ${img.shape[0]} images but ${txt.shape[0]} token rows`,
          );
        }
        parts.push(normalize ? normalizeEmbeddings(txt) : txt);
      }
      return parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
    });
    try {
      chunks.push(new Float32Array((await out.data()) as Float32Array));
    } finally {
      out.dispose();
    }
    rows += out.shape[0]!;
    index++;
  }
  const data = new Float32Array(rows * dim);
  let offset = 0;
  for (const c of chunks) {
    data.set(c, offset);
    offset += c.length;
  }
  return { data, rows, dim };
}
