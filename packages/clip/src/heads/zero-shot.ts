/**
 * Zero-shot classification as FairCLIP scores it (`src/modules.py::compute_vl_prob`, reference brief §4.1): image and
 * class-prompt features are L2-normalised, the logits are the raw cosine similarities (no logit scale), the class
 * probabilities their softmax; for two classes the score is p₁ = σ(cos₁ − cos₀).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClipModel } from '../model/clip.ts';
import { ClipModelError } from '../model/errors.ts';
import type { TokenInput } from '../model/tokens.ts';
import { cosineSimilarity } from './contrastive.ts';

/** softmax over classes of cos(image, class prompt): [N, C] from image features [N, E] and class features [C, E]. */
export function zeroShotProbabilities(imageFeatures: tf.Tensor2D, classTextFeatures: tf.Tensor2D): tf.Tensor2D {
  if (classTextFeatures instanceof tf.Tensor && classTextFeatures.rank === 2 && classTextFeatures.shape[0] < 2) {
    throw new ClipModelError(
      'BAD_INPUT',
      `zero-shot needs at least 2 class prompts, got ${classTextFeatures.shape[0]}`,
    );
  }
  return tf.tidy(() => tf.softmax(cosineSimilarity(imageFeatures, classTextFeatures)) as tf.Tensor2D);
}

/** The probability of class `positiveClass` (default 1: "A photo of glaucoma" in FairCLIP), [N]. */
export function zeroShotScores(
  imageFeatures: tf.Tensor2D,
  classTextFeatures: tf.Tensor2D,
  positiveClass = 1,
): tf.Tensor1D {
  const classes = classTextFeatures.shape[0];
  if (!Number.isInteger(positiveClass) || positiveClass < 0 || positiveClass >= (classes ?? 0)) {
    throw new ClipModelError('BAD_INPUT', `positiveClass ${positiveClass} is not a class index in [0, ${classes})`);
  }
  return tf.tidy(() => {
    const probs = zeroShotProbabilities(imageFeatures, classTextFeatures);
    return tf.reshape(tf.slice(probs, [0, positiveClass], [-1, 1]), [-1]) as tf.Tensor1D;
  });
}

/**
 * Zero-shot class probabilities of images [N, 3, R, R] given one token row per class prompt ([C, context_length],
 * e.g. the tokens of "A photo of non-glaucoma" and "A photo of glaucoma").
 */
export function zeroShotClassify(model: ClipModel, images: tf.Tensor4D, classPromptTokens: TokenInput): tf.Tensor2D {
  const imageFeatures = model.encodeImage(images);
  try {
    return tf.tidy(() => zeroShotProbabilities(imageFeatures, model.encodeText(classPromptTokens)));
  } finally {
    imageFeatures.dispose();
  }
}
