// FairCLIP loss terms, each a small composable function over tfjs tensors.
//   L = L_CLIP + λ · Σ_a w_a · Σ_g D(batch scores, group-g scores)
// Every choice the papers and the official code differ on is a parameter (fairclip.md §3.2–§3.7).
import * as tf from '@tensorflow/tfjs-core';
import type { AttributeReduction, Normalisation, Similarity } from './config.ts';

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

/**
 * λ · Σ_a w_a · Σ_g D(x, y_{a,g}) (reduction 'sum'), or the same divided by the number of attributes with a non-zero
 * weight ('mean-over-weighted', the study's FairFace script: `total_sinkhorn_loss/total_groups`); also returns the
 * per-(attribute, group) distances for logging. The distance is called ONCE with the groups of every attribute
 * (weight > 0) concatenated, so a batched distance (one `sinkhornDivergenceMany` call) solves all terms of a step
 * together.
 */
export function fairnessPenalty(
  x: tf.Tensor1D,
  attributes: readonly AttributeGroups[],
  lambda: number,
  distance: GroupDistance,
  reduction: AttributeReduction = 'sum',
): { penalty: tf.Scalar; distances: Record<string, tf.Tensor1D> } {
  // Call inside tf.tidy (or a gradient scope): intermediate tensors are left to the scope.
  if (!(lambda >= 0) || !Number.isFinite(lambda))
    throw new RangeError(`fairnessPenalty: λ must be a finite number >= 0, got ${lambda}`);
  for (const a of attributes)
    if (!(a.weight >= 0) || !Number.isFinite(a.weight))
      throw new RangeError(`fairnessPenalty: weight of '${a.attribute}' must be a finite number >= 0, got ${a.weight}`);
  const used = attributes.filter((a) => a.weight !== 0 && a.groups.length > 0);
  const distances: Record<string, tf.Tensor1D> = {};
  if (used.length === 0) return { penalty: tf.scalar(0), distances };
  const all = distance(
    x,
    used.flatMap((a) => a.groups),
  );
  const expected = used.reduce((n, a) => n + a.groups.length, 0);
  if (all.rank !== 1 || all.shape[0] !== expected)
    throw new Error(`fairnessPenalty: the distance returned shape [${all.shape.join(', ')}], expected [${expected}]`);
  const weights = new Float32Array(expected);
  // The study's FairFace script counts the attributes with a non-zero weight (`total_groups += 1` per such attribute).
  const divisor = reduction === 'mean-over-weighted' ? attributes.filter((a) => a.weight !== 0).length : 1;
  let offset = 0;
  for (const a of used) {
    distances[a.attribute] = tf.slice(all, [offset], [a.groups.length]) as tf.Tensor1D;
    weights.fill((a.weight * lambda) / divisor, offset, offset + a.groups.length);
    offset += a.groups.length;
  }
  const penalty = tf.sum(tf.mul(all, tf.tensor1d(weights))) as tf.Scalar;
  return { penalty, distances };
}
