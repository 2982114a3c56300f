// Evaluation of a split: FairCLIP's zero-shot scores (raw cosine to the two class prompts, p₁ = softmax₁,
// fairclip.md §4.1) or any given scores, then AUC, accuracy and every metric of @fairclip/fairness per attribute,
// in the shape of the official per-epoch CSV (outputs.ts) plus the full report.
import { type ClipModel, zeroShotScores } from '@fairclip/clip';
import { type FairnessReport, fairnessReport, type GroupsInput } from '@fairclip/fairness';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig, ValScoring } from './config.ts';
import type { SplitData } from './data.ts';
import type { AttributeEval, SplitEval } from './outputs.ts';

/**
 * p₁ of FairCLIP's `compute_vl_prob` from features WITHOUT the L2 normalisation: softmax over classes of the raw dot
 * products image · prompt (finetune_FairerCLIP.py's validation since commit a04db19, lines 327–333). [N].
 */
export function unnormalisedZeroShotScores(imageFeatures: tf.Tensor2D, classTextFeatures: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const probs = tf.softmax(tf.matMul(imageFeatures, classTextFeatures, false, true));
    return tf.reshape(tf.slice(probs, [0, 1], [-1, 1]), [-1]) as tf.Tensor1D;
  });
}

/**
 * Zero-shot glaucoma (or gender) scores of every sample of a split, in batches: cosines (the default, every official
 * script) or, with `scoring` 'unnormalised', raw dot products ({@link unnormalisedZeroShotScores}).
 */
export async function zeroShotSplitScores(
  model: ClipModel,
  split: SplitData,
  promptTokens: { data: Int32Array; shape: [number, number] },
  batchSize: number,
  signal?: AbortSignal,
  scoring: ValScoring = 'normalised',
): Promise<Float64Array> {
  const r = model.config.image_resolution;
  const per = 3 * r * r;
  const classFeatures = tf.tidy(() => model.encodeText(promptTokens));
  const out = new Float64Array(split.size);
  try {
    for (let start = 0; start < split.size; start += batchSize) {
      signal?.throwIfAborted();
      const n = Math.min(batchSize, split.size - start);
      const images = new Float32Array(n * per);
      const loaded = await Promise.all(Array.from({ length: n }, (_, k) => split.image(start + k)));
      loaded.forEach((img, k) => images.set(img, k * per));
      const scores = tf.tidy(() => {
        const feats = model.encodeImage(tf.tensor4d(images, [n, 3, r, r]));
        return scoring === 'unnormalised'
          ? unnormalisedZeroShotScores(feats, classFeatures)
          : zeroShotScores(feats, classFeatures, 1);
      });
      const values = await scores.data();
      scores.dispose();
      for (let k = 0; k < n; k++) out[start + k] = values[k]!;
    }
  } finally {
    classFeatures.dispose();
  }
  return out;
}

/**
 * The zero-shot scorer of a run's splits: the validation split as `eval.valScoring` says (the FairCLIP+ preset scores
 * it un-normalised, as the study's script selected its epochs), every other split normalised (evaluate_CLIP.py).
 */
export function zeroShotScorer(
  model: ClipModel,
  promptTokens: { data: Int32Array; shape: [number, number] },
  evalCfg: TrainConfig['eval'],
  signal?: AbortSignal,
): (split: SplitData) => Promise<Float64Array> {
  return (split) =>
    zeroShotSplitScores(
      model,
      split,
      promptTokens,
      evalCfg.batchSize,
      signal,
      split.split === 'val' ? evalCfg.valScoring : 'normalised',
    );
}

/** The evaluation of one split as the CSV row wants it, and the full @fairclip/fairness report. */
export interface SplitResult {
  eval: SplitEval;
  report: FairnessReport;
}

/** Mean binary cross-entropy of probabilities against labels (the official eval loss), clamped like torch's BCE. */
export function bce(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i]!;
    const y = labels[i]!;
    s -= y * Math.max(Math.log(p), -100) + (1 - y) * Math.max(Math.log(1 - p), -100);
  }
  return scores.length ? s / scores.length : Number.NaN;
}

/** Metrics of scores on a split, per evaluated attribute (groups in the dataset's order, absent groups null). */
export function evaluateScores(
  scores: Float64Array,
  split: SplitData,
  evalCfg: TrainConfig['eval'],
  groupNames: Readonly<Record<string, readonly string[]>>,
): SplitResult {
  const labels = Uint8Array.from(split.samples, (s) => s.label);
  const attributes: Record<string, GroupsInput> = {};
  for (const a of evalCfg.attributes) attributes[a] = Int32Array.from(split.samples, (s) => s.groups[a] ?? -1);
  const names = Object.fromEntries(
    evalCfg.attributes.map((a) => [a, Object.fromEntries((groupNames[a] ?? []).map((g, i) => [i, g]))]),
  );
  const report = fairnessReport(labels, scores, attributes, {
    threshold: evalCfg.threshold,
    mode: evalCfg.rateMode,
    groupNames: names,
  });
  const attrs: AttributeEval[] = evalCfg.attributes.map((a) => {
    const r = report.attributes[a]!;
    const all = groupNames[a] ?? [];
    const notes: string[] = [];
    const groupAuc = all.map((name, g) => {
      const gr = r.groups.find((x) => x.group === g);
      if (!gr) {
        notes.push(`group ${name} has no samples in the ${split.split} split`);
        return null;
      }
      if (gr.auc.value === null) notes.push(`group ${name}: AUC undefined (${gr.auc.reason})`);
      return gr.auc.value;
    });
    const unknown = r.groups.filter((g) => g.group < 0 || g.group >= all.length);
    if (unknown.length) notes.push(`${unknown.reduce((n, g) => n + g.n, 0)} samples with an unknown group`);
    if (r.esAuc.skippedGroups.length)
      notes.push(`ES-AUC leaves out groups ${r.esAuc.skippedGroups.map((g) => all[g] ?? g).join(', ')}`);
    for (const [what, m] of [
      ['ES-AUC', r.esAuc],
      ['DEOdds', r.eod],
    ] as const)
      if (m.value === null) notes.push(`${what} undefined (${m.reason})`);
    return {
      name: a,
      groups: [...all],
      esAcc: r.esAcc,
      esAuc: r.esAuc.value,
      groupAuc,
      dpd: r.dpd,
      deodds: r.eod.value,
      stdDisparity: r.stdGroupDisparity.value,
      maxDisparity: r.maxGroupDisparity.value,
      notes,
    };
  });
  return {
    eval: { n: split.size, acc: report.accuracy, auc: report.auc.value, loss: bce(scores, labels), attributes: attrs },
    report,
  };
}
