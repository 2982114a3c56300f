/**
 * CLIP's heads as plain differentiable tfjs ops: L2 normalisation, logits, the symmetric contrastive loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ClipModelError } from '../model/errors.ts';

function check2d(x: tf.Tensor, what: string): void {
  if (!(x instanceof tf.Tensor) || x.rank !== 2) {
    const got = x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x;
    throw new ClipModelError('BAD_INPUT', `${what} must be a 2-D tensor [N, D], got ${got}`);
  }
}

/** x / ‖x‖ along the last axis (OpenAI: `features / features.norm(dim=1, keepdim=True)`). */
export function normalizeEmbeddings(features: tf.Tensor2D): tf.Tensor2D {
  check2d(features, 'normalizeEmbeddings: features');
  return tf.tidy(() => tf.div(features, tf.norm(features, 'euclidean', 1, true)) as tf.Tensor2D);
}

/** Cosine similarities of every image to every text, [images, texts] (no scale). */
export function cosineSimilarity(imageFeatures: tf.Tensor2D, textFeatures: tf.Tensor2D): tf.Tensor2D {
  check2d(imageFeatures, 'cosineSimilarity: imageFeatures');
  check2d(textFeatures, 'cosineSimilarity: textFeatures');
  if (imageFeatures.shape[1] !== textFeatures.shape[1]) {
    throw new ClipModelError(
      'BAD_INPUT',
      `cosineSimilarity: image features have ${imageFeatures.shape[1]} dimensions, text features ${textFeatures.shape[1]}`,
    );
  }
  return tf.tidy(() => tf.matMul(normalizeEmbeddings(imageFeatures), normalizeEmbeddings(textFeatures), false, true));
}

/**
 * CLIP.forward's logits from unnormalised features: logits_per_image = exp(logit_scale) · cos, and its transpose.
 * `logitScale` is the parameter (its exponential scales the cosines).
 */
export function clipLogits(
  imageFeatures: tf.Tensor2D,
  textFeatures: tf.Tensor2D,
  logitScale: tf.Scalar | tf.Tensor | number,
): { logitsPerImage: tf.Tensor2D; logitsPerText: tf.Tensor2D } {
  return tf.tidy(() => {
    const scale = typeof logitScale === 'number' ? Math.exp(logitScale) : tf.exp(logitScale);
    const logitsPerImage = tf.mul(scale, cosineSimilarity(imageFeatures, textFeatures)) as tf.Tensor2D;
    return { logitsPerImage, logitsPerText: tf.transpose(logitsPerImage) as tf.Tensor2D };
  });
}

export interface ContrastiveLoss {
  /** (lossImage + lossText) / 2. */
  loss: tf.Scalar;
  /** Mean cross-entropy of the rows of logits_per_image against the diagonal. */
  lossImage: tf.Scalar;
  /** The same for logits_per_text (the columns). */
  lossText: tf.Scalar;
}

/**
 * The symmetric contrastive loss of CLIP / FairCLIP: (CE(L, arange(B)) + CE(Lᵀ, arange(B))) / 2, each cross-entropy a
 * mean over rows, from logits_per_image L [B, B] (pair i is image i with text i).
 */
export function contrastiveLoss(logitsPerImage: tf.Tensor2D): ContrastiveLoss {
  check2d(logitsPerImage, 'contrastiveLoss: logitsPerImage');
  const [n, m] = logitsPerImage.shape;
  if (n !== m || n < 1) {
    throw new ClipModelError(
      'BAD_INPUT',
      `contrastiveLoss: logits must be square [B, B] with B ≥ 1 (pair i = image i, text i), got [${n}, ${m}]`,
    );
  }
  return tf.tidy(() => {
    const diag = tf.sum(tf.mul(logitsPerImage, tf.eye(n)), 1);
    const lossImage = tf.mean(tf.sub(tf.logSumExp(logitsPerImage, 1), diag)) as tf.Scalar;
    const lossText = tf.mean(tf.sub(tf.logSumExp(logitsPerImage, 0), diag)) as tf.Scalar;
    const loss = tf.div(tf.add(lossImage, lossText), 2) as tf.Scalar;
    return { loss, lossImage, lossText };
  });
}
