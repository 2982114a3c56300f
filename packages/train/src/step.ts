// One training step of the FairCLIP family:
//   L = L_CLIP + λ · Σ_a w_a · Σ_g D(batch scores, group-g scores)
// - group scores from separate per-group batches ('loaders', the official code): the K group batches of a step run
//   as ONE concatenated forward pass without gradient; each group's logit block s·Î_g·T̂_gᵀ is then formed from the
//   shared features, so 'official' scores diag(L_g·L_g) stay per group exactly as K separate forwards give them;
// - or from the groups inside the current batch ('batch', the paper's reading), with gradient on both sides;
// - all (attribute, group) distances of the step in ONE batched distance call (see losses.ts, distance.ts).
import { type ClipModel, contrastiveLoss } from '@fairclip/clip';
import * as tf from '@tensorflow/tfjs-core';
import type { FairnessConfig } from './config.ts';
import {
  type AttributeGroups,
  fairnessPenalty,
  type GroupDistance,
  normaliseScores,
  similarityScores,
} from './losses.ts';

/** Images and token rows of a set of samples, on the host. */
export interface HostBatch {
  /** float32 [n, 3, R, R] (CHW per image). */
  images: Float32Array;
  /** int32 [n, L]. */
  tokens: Int32Array;
  n: number;
}

/** One (attribute, group) term: its samples inside a HostBatch (loaders: a slice; batch: positions in the batch). */
export interface GroupPart {
  attribute: string;
  group: number;
  /** Positions of the group's samples in the concatenated group batch ('loaders') or the training batch ('batch'). */
  positions: number[];
}

function imagesTensor(b: HostBatch, resolution: number): tf.Tensor4D {
  return tf.tensor4d(b.images, [b.n, 3, resolution, resolution]);
}

function tokenInput(b: HostBatch, context: number): { data: Int32Array; shape: [number, number] } {
  return { data: b.tokens, shape: [b.n, context] };
}

/**
 * x[positions] as a product with a one-hot selection matrix: its gradient is a matmul, which every backend has (the
 * gradient of tf.gather needs UnsortedSegmentSum, which tfjs-backend-wasm lacks).
 */
export function selectScores(x: tf.Tensor1D, positions: readonly number[]): tf.Tensor1D {
  const n = x.shape[0];
  const sel = new Float32Array(positions.length * n);
  positions.forEach((p, k) => {
    if (!Number.isInteger(p) || p < 0 || p >= n)
      throw new RangeError(`selectScores: position ${p} outside 0..${n - 1}`);
    sel[k * n + p] = 1;
  });
  return tf.tidy(
    () =>
      tf.reshape(tf.matMul(tf.tensor2d(sel, [positions.length, n]), tf.reshape(x, [n, 1])), [
        positions.length,
      ]) as tf.Tensor1D,
  );
}

function unitRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.norm(x, 'euclidean', 1, true)) as tf.Tensor2D;
}

/**
 * The group-side scores of the 'loaders' source: one forward of all group batches concatenated (no gradient), then
 * per group the logit block of its own samples, its similarity scores and the group-side normalisation. Returns the
 * scores per part (kept tensors: dispose them).
 */
export function groupScoresFromLoaders(
  model: ClipModel,
  batch: HostBatch,
  parts: readonly GroupPart[],
  fairness: FairnessConfig,
): tf.Tensor1D[] {
  const r = model.config.image_resolution;
  const l = model.config.context_length;
  return tf.tidy(() => {
    const img = unitRows(model.encodeImage(imagesTensor(batch, r)));
    const txt = unitRows(model.encodeText(tokenInput(batch, l)));
    const scale = tf.exp(model.logitScale);
    return parts.map((p) => {
      const idx = tf.tensor1d(Int32Array.from(p.positions), 'int32');
      const block = tf.mul(scale, tf.matMul(tf.gather(img, idx), tf.gather(txt, idx), false, true)) as tf.Tensor2D;
      const y = normaliseScores(similarityScores(block, fairness.similarity), 'group', fairness.normalisation);
      return tf.keep(y);
    });
  });
}

/** The attribute terms of a step from scores per part (in part order), grouped by attribute in config order. */
function attributeGroups(
  parts: readonly GroupPart[],
  scores: readonly tf.Tensor1D[],
  fairness: FairnessConfig,
): AttributeGroups[] {
  return Object.entries(fairness.attributes)
    .filter(([, w]) => w > 0)
    .map(([attribute, weight]) => ({
      attribute,
      weight,
      groups: parts.flatMap((p, k) => (p.attribute === attribute ? [scores[k]!] : [])),
    }));
}

export interface StepTerms {
  total: tf.Scalar;
  clip: tf.Scalar;
  penalty: tf.Scalar;
  /** All (attribute, group) distances, in part order ([0] when there is no fairness term). */
  distances: tf.Tensor1D;
}

/**
 * The loss of a training batch (call inside a gradient scope or tf.tidy). `groupScores` are the 'loaders' group
 * scores per part (constants); for the 'batch' source pass null and the parts' positions index the batch.
 */
export function stepLoss(
  model: ClipModel,
  batch: HostBatch,
  fairness: FairnessConfig | null,
  parts: readonly GroupPart[],
  groupScores: readonly tf.Tensor1D[] | null,
  distance: GroupDistance,
): StepTerms {
  const r = model.config.image_resolution;
  const l = model.config.context_length;
  const { logitsPerImage } = model.forward(imagesTensor(batch, r), tokenInput(batch, l));
  const clip = contrastiveLoss(logitsPerImage).loss;
  if (fairness === null || parts.length === 0) {
    return { total: clip, clip, penalty: tf.scalar(0), distances: tf.zeros([0]) as tf.Tensor1D };
  }
  const x = similarityScores(logitsPerImage, fairness.similarity);
  const xb = normaliseScores(x, 'batch', fairness.normalisation);
  const ys =
    groupScores ?? parts.map((p) => normaliseScores(selectScores(x, p.positions), 'group', fairness.normalisation));
  const attrs = attributeGroups(parts, ys, fairness);
  const { penalty, distances } = fairnessPenalty(xb, attrs, fairness.lambda, distance);
  const ordered = attrs.filter((a) => distances[a.attribute]).map((a) => distances[a.attribute]!);
  return {
    total: tf.add(clip, penalty) as tf.Scalar,
    clip,
    penalty,
    distances: (ordered.length ? tf.concat(ordered) : tf.zeros([0])) as tf.Tensor1D,
  };
}

/**
 * The batch-side and group-side scores without gradient (the two-phase distance path solves from them): returns
 * [xb, ys] as kept tensors.
 */
export function scoresForDistance(
  model: ClipModel,
  batch: HostBatch,
  fairness: FairnessConfig,
  parts: readonly GroupPart[],
  groupScores: readonly tf.Tensor1D[] | null,
): { x: tf.Tensor1D; groups: tf.Tensor1D[] } {
  return tf.tidy(() => {
    const r = model.config.image_resolution;
    const l = model.config.context_length;
    const { logitsPerImage } = model.forward(imagesTensor(batch, r), tokenInput(batch, l));
    const x = similarityScores(logitsPerImage, fairness.similarity);
    const xb = normaliseScores(x, 'batch', fairness.normalisation);
    const ys =
      groupScores ?? parts.map((p) => normaliseScores(selectScores(x, p.positions), 'group', fairness.normalisation));
    // In attribute (config) order, the order fairnessPenalty hands the groups to the distance.
    const ordered = attributeGroups(parts, ys, fairness).flatMap((a) => a.groups);
    return { x: tf.keep(xb), groups: ordered.map((y) => tf.keep(y)) };
  });
}
