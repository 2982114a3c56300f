// FairCLIP loss terms, each a small composable function over tfjs tensors.
//   L = L_CLIP + λ · Σ_a w_a · Σ_g D(batch scores, group-g scores)
// Every choice the papers and the official code differ on is a parameter (fairclip.md §3.2–§3.7).
import * as tf from '@tensorflow/tfjs-core';
import type { Normalisation, Similarity } from './config.ts';

/**
 * Per-pair similarity scores of a batch from its image-to-text logit matrix L (B×B, L = s·Î·T̂ᵀ):
 *  - 'pair'     = diag(L) = s·cos(I_i, T_i) (the paper's description, A-FairCLIP, FairCLIP+);
 *  - 'official' = diag(L·L), x_i = Σ_k L[i,k]·L[k,i] (what finetune_FairCLIP.py computes as diag(Lb @ Ltᵀ)).
 */
export function similarityScores(logitsPerImage: tf.Tensor2D, kind: Similarity): tf.Tensor1D {
  const [b, b2] = logitsPerImage.shape;
  if (b !== b2) throw new Error(`similarityScores: expected a square logit matrix, got ${b}×${b2}`);
  return tf.tidy(() => {
    if (kind === 'pair') return tf.sum(tf.mul(logitsPerImage, tf.eye(b)), 1) as tf.Tensor1D;
    return tf.sum(tf.mul(logitsPerImage, tf.transpose(logitsPerImage)), 1) as tf.Tensor1D;
  });
}

/** Divides a score vector by its sum (the official code's group-side normalisation). */
export function sumNormalise(x: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.div(x, tf.sum(x)) as tf.Tensor1D);
}

/**
 * Applies the normalisation policy: 'none'; 'group-sum' (official: group vector / its sum, batch untouched);
 * 'both' (the study's debugged version: both sides sum-normalised).
 */
export function normaliseScores(x: tf.Tensor1D, side: 'batch' | 'group', mode: Normalisation): tf.Tensor1D {
  if (mode === 'none' || (mode === 'group-sum' && side === 'batch')) return tf.clone(x);
  return sumNormalise(x);
}

/** A distance between the batch score cloud x (N) and K group clouds (each M_k), differentiable in x; returns K values. */
export type GroupDistance = (x: tf.Tensor1D, groups: readonly tf.Tensor1D[]) => tf.Tensor1D;

export interface AttributeGroups {
  attribute: string;
  weight: number;
  /** Scores of each group (already normalised as the policy asks; constants when computed without gradient). */
  groups: readonly tf.Tensor1D[];
}

/** λ · Σ_a w_a · Σ_g D(x, y_{a,g}); also returns the per-(attribute, group) distances for logging. */
export function fairnessPenalty(
  x: tf.Tensor1D,
  attributes: readonly AttributeGroups[],
  lambda: number,
  distance: GroupDistance,
): { penalty: tf.Scalar; distances: Record<string, tf.Tensor1D> } {
  if (!(lambda >= 0) || !Number.isFinite(lambda))
    throw new RangeError(`fairnessPenalty: λ must be a finite number >= 0, got ${lambda}`);
  const distances: Record<string, tf.Tensor1D> = {};
  let total: tf.Scalar = tf.scalar(0);
  for (const a of attributes) {
    if (a.weight === 0 || a.groups.length === 0) continue;
    const d = distance(x, a.groups);
    distances[a.attribute] = d;
    const next = tf.add(total, tf.mul(tf.sum(d), a.weight)) as tf.Scalar;
    total.dispose();
    total = next;
  }
  const penalty = tf.mul(total, lambda) as tf.Scalar;
  total.dispose();
  return { penalty, distances };
}
