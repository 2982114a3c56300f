/**
 * The reproducibility study's Sinkhorn analysis (fairclip.md §6, experiments/distance/distance_test.py), shared by the
 * sinkhorn-distances and reproduce apps: the per-sample similarity diag(logits_per_image) = exp(logit_scale) ·
 * cos(image_i, text_i) of a split (text: the GPT-4 summary), then the Sinkhorn divergence between the whole split's
 * similarities and each group's, geomloss SamplesLoss("sinkhorn", p=2, blur=1e-4, diameter=2, scaling=0.95).
 */
import { samplesLoss } from '@fairclip/ot';
import type { loadModel, Progress, SplitData } from '@fairclip/train';
import * as tf from '@tensorflow/tfjs-core';
import { CliError } from './cli.ts';

/** The study's distance (distance_test.py). */
export const STUDY_DISTANCE = { loss: 'sinkhorn', p: 2, blur: 1e-4, diameter: 2, scaling: 0.95 } as const;

export type DistanceSolver = 'geomloss' | 'auto';

/** One row of the distances table: the distance between the split's similarities and one group's. */
export interface GroupDistanceRow {
  attribute: string;
  group: string;
  n: number;
  distance: number;
  converged: boolean;
}

/** exp(logit_scale) · cos(image_i, text_i) for every sample of a split, in batches (one progress tick per batch). */
export async function pairSimilarities(
  model: Awaited<ReturnType<typeof loadModel>>,
  split: SplitData,
  batchSize: number,
  progress?: Progress,
): Promise<Float64Array> {
  const { model: clip, tokenizer } = model;
  const l = clip.config.context_length;
  const r = clip.config.image_resolution;
  const texts = split.samples.map((s, i) => {
    if (s.caption === undefined)
      throw new CliError(`test sample ${i} (${s.file}) has no summary text (data_summary.csv gpt4_summary)`);
    return s.caption;
  });
  const tokens = tokenizer.tokenize(texts, { contextLength: l, truncate: true });
  const out = new Float64Array(split.size);
  for (let start = 0; start < split.size; start += batchSize) {
    const n = Math.min(batchSize, split.size - start);
    const images = new Float32Array(n * 3 * r * r);
    const loaded = await Promise.all(Array.from({ length: n }, (_, k) => split.image(start + k)));
    loaded.forEach((img, k) => images.set(img, k * 3 * r * r));
    const sims = tf.tidy(() => {
      const unit = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 'euclidean', 1, true));
      const img = unit(clip.encodeImage(tf.tensor4d(images, [n, 3, r, r])));
      const txt = unit(clip.encodeText({ data: tokens.data.subarray(start * l, (start + n) * l), shape: [n, l] }));
      return tf.mul(tf.exp(clip.logitScale), tf.sum(tf.mul(img, txt), 1));
    });
    const v = await sims.data();
    sims.dispose();
    for (let k = 0; k < n; k++) out[start + k] = v[k] as number;
    progress?.tick(1, {}, n);
  }
  return out;
}

/** The divergence between all similarities and each group's, per attribute (groups with no sample are skipped). */
export function groupDistances(
  sims: ArrayLike<number>,
  split: Pick<SplitData, 'samples'>,
  attributes: readonly string[],
  groupNames: Readonly<Record<string, readonly string[]>>,
  solver: DistanceSolver,
): GroupDistanceRow[] {
  const all = Float64Array.from(sims);
  return attributes.flatMap((a) =>
    (groupNames[a] ?? []).flatMap((name, g) => {
      const idx = split.samples.flatMap((s, i) => (s.groups[a] === g ? [i] : []));
      if (idx.length === 0) return [];
      const r = samplesLoss(
        all,
        idx.map((i) => all[i] as number),
        solver === 'geomloss'
          ? { ...STUDY_DISTANCE, solver: 'sinkhorn', geomlossCompatible: true }
          : { ...STUDY_DISTANCE, solver: 'auto' },
      );
      return [{ attribute: a, group: name, n: idx.length, distance: r.value, converged: r.converged }];
    }),
  );
}

/** What a run folder's distances.json holds (the reproduce app's cache; `key` names config, weights and method). */
export interface CellDistancesFile {
  key: string;
  weights: string | null;
  distances: GroupDistanceRow[];
}
