// One training step of the FairCLIP family:
//   L = L_CLIP + λ · Σ_a w_a · Σ_g D(batch scores, group-g scores)
// - group scores from separate per-group batches ('loaders', the official code): the K group batches of a step run
//   as ONE concatenated forward pass without gradient; each group's logit block s·Î_g·T̂_gᵀ is then formed from the
//   shared features, so 'official' scores diag(L_g·L_g) stay per group exactly as K separate forwards give them;
// - or from the groups inside the current batch ('batch', the paper's reading), with gradient on both sides;
// - all (attribute, group) distances of the step in ONE batched distance call (see losses.ts, distance.ts).
import { type ClipModel, contrastiveLoss, FLOAT16_MAX, roundToFloat16 } from '@fairclip/clip';
import { OtInputError } from '@fairclip/ot';
import * as tf from '@tensorflow/tfjs-core';
import type { FairnessConfig } from './config.ts';
import { TrainError } from './errors.ts';
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

/** The float16 rounding of a model in 'fp16-emulated' precision (gradient rounded too), else undefined. */
function halfRound(model: ClipModel): ((x: tf.Tensor) => tf.Tensor) | undefined {
  return model.precision === 'fp16-emulated' ? (x) => roundToFloat16(x, { gradient: 'float16' }) : undefined;
}

function unitRows(x: tf.Tensor2D, r?: (x: tf.Tensor) => tf.Tensor): tf.Tensor2D {
  if (r) return r(tf.div(x, r(tf.norm(x, 'euclidean', 1, true)))) as tf.Tensor2D;
  return tf.div(x, tf.norm(x, 'euclidean', 1, true)) as tf.Tensor2D;
}

/**
 * The per-pair similarity scores of a logit matrix: in 'fp16-emulated' precision rounded to float16, as the official
 * code's `(logits_per_image @ logits_per_text.T).diag()` is a half matmul (float32 accumulation, half output): the
 * 'official' scores diag(L·L), of order s²·B (100² · 32 with CLIP's s = 100), overflow to ±∞ from 65520.
 */
function scoresOf(model: ClipModel, logits: tf.Tensor2D, fairness: FairnessConfig): tf.Tensor1D {
  const x = similarityScores(logits, fairness.similarity);
  const r = halfRound(model);
  return (r ? r(x) : x) as tf.Tensor1D;
}

/**
 * The error a user sees when half precision overflowed: the official code crashes there (geomloss cannot build its
 * ε schedule from an infinite diameter), the study reports it for λ ≥ 1e-5. Returns `e` unchanged unless it is the
 * OT solver's refusal of non-finite scores in a 'fp16-emulated' run.
 */
export function explainHalfOverflow(e: unknown, model: ClipModel, where: string): unknown {
  if (model.precision !== 'fp16-emulated' || !(e instanceof OtInputError) || e.code !== 'NON_FINITE_POINTS') return e;
  return new TrainError(
    'NON_FINITE_LOSS',
    `${where}: fp16 overflow: a similarity score is not finite (float16 holds at most ±${FLOAT16_MAX}; the official ` +
      "scores diag(L·L) reach s²·B), as the official fp16 runs crash (the study: λ ≥ 1e-5); use training.precision='fp32' or a smaller λ",
    { cause: e },
  );
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
  const half = halfRound(model);
  return tf.tidy(() => {
    const img = unitRows(model.encodeImage(imagesTensor(batch, r)), half);
    const txt = unitRows(model.encodeText(tokenInput(batch, l)), half);
    const scale = tf.exp(model.logitScale);
    return parts.map((p) => {
      const idx = tf.tensor1d(Int32Array.from(p.positions), 'int32');
      // ClipModel.forward's logits (in half precision: (s · Î) rounded, then the half matmul rounded)
      const block = (
        half
          ? half(tf.matMul(half(tf.mul(scale, tf.gather(img, idx))) as tf.Tensor2D, tf.gather(txt, idx), false, true))
          : tf.mul(scale, tf.matMul(tf.gather(img, idx), tf.gather(txt, idx), false, true))
      ) as tf.Tensor2D;
      const y = normaliseScores(scoresOf(model, block, fairness), 'group', fairness.normalisation);
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
  const x = scoresOf(model, logitsPerImage, fairness);
  const xb = normaliseScores(x, 'batch', fairness.normalisation);
  const ys =
    groupScores ?? parts.map((p) => normaliseScores(selectScores(x, p.positions), 'group', fairness.normalisation));
  const attrs = attributeGroups(parts, ys, fairness);
  const explained: GroupDistance = (xs, groups) => {
    try {
      return distance(xs, groups);
    } catch (e) {
      throw explainHalfOverflow(e, model, 'fairness term');
    }
  };
  const { penalty, distances } = fairnessPenalty(xb, attrs, fairness.lambda, explained, fairness.attributeReduction);
  const ordered = attrs.filter((a) => distances[a.attribute]).map((a) => distances[a.attribute]!);
  return {
    // 'clip-loss-only': the study's MMD scripts as they ran (`loss = base_loss` after adding the term): the penalty is
    // computed and reported, the loss that is differentiated is the CLIP loss.
    total: fairness.asRan === 'clip-loss-only' ? clip : (tf.add(clip, penalty) as tf.Scalar),
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
    const x = scoresOf(model, logitsPerImage, fairness);
    const xb = normaliseScores(x, 'batch', fairness.normalisation);
    const ys =
      groupScores ?? parts.map((p) => normaliseScores(selectScores(x, p.positions), 'group', fairness.normalisation));
    // In attribute (config) order, the order fairnessPenalty hands the groups to the distance.
    const ordered = attributeGroups(parts, ys, fairness).flatMap((a) => a.groups);
    return { x: tf.keep(xb), groups: ordered.map((y) => tf.keep(y)) };
  });
}
