// What every training mode shares: the run's context (configuration, data, model, options), tokenised captions,
// host batches, the prompts, the progress bar and the regulariser's distance columns.
import { type ClipModel, TextTooLongError } from '@fairclip/clip';
import type { TrainConfig } from '../config.ts';
import type { RunData, SplitData } from '../data.ts';
import { TrainError } from '../errors.ts';
import type { LoadedModel } from '../model.ts';
import { Progress } from '../progress.ts';
import type { HostBatch } from '../step.ts';
import type { TrainRunOptions } from './types.ts';

export interface RunContext {
  cfg: TrainConfig;
  hash: string;
  outDir: string;
  ckptDir: string;
  data: RunData;
  loaded: LoadedModel;
  options: TrainRunOptions;
  signal: AbortSignal | undefined;
  root: string;
  started: number;
}

export function tokenizeCaptions(loaded: LoadedModel, split: SplitData, context: number): Int32Array {
  const texts = split.samples.map((s, i) => {
    if (s.caption === undefined)
      throw new TrainError('NO_CAPTION', `${split.split} sample ${i} (${s.file}) has no training text`);
    return s.caption;
  });
  try {
    return loaded.tokenizer.tokenize(texts, { contextLength: context }).data;
  } catch (e) {
    if (e instanceof TextTooLongError) {
      const s = split.samples[e.index];
      throw new TrainError(
        'TEXT_TOO_LONG',
        `${split.split} sample ${e.index} (${s?.file}): its text needs ${e.tokenCount} tokens, the context is ${context}`,
        { cause: e },
      );
    }
    throw e;
  }
}

export async function hostBatch(
  split: SplitData,
  indices: readonly number[],
  tokens: Int32Array,
  model: ClipModel,
): Promise<HostBatch> {
  const r = model.config.image_resolution;
  const l = model.config.context_length;
  const per = 3 * r * r;
  const images = new Float32Array(indices.length * per);
  const rows = new Int32Array(indices.length * l);
  const loaded = await Promise.all(indices.map((i) => split.image(i)));
  loaded.forEach((img, k) => {
    if (img.length !== per)
      throw new TrainError(
        'BAD_DATA',
        `image of ${split.samples[indices[k]!]!.file} has ${img.length} values, expected ${per}`,
      );
    images.set(img, k * per);
    const i = indices[k]!;
    rows.set(tokens.subarray(i * l, (i + 1) * l), k * l);
  });
  return { images, tokens: rows, n: indices.length };
}

export function promptTokens(ctx: RunContext): { data: Int32Array; shape: [number, number] } {
  const l = ctx.loaded.model.config.context_length;
  return { data: ctx.loaded.tokenizer.tokenize(ctx.cfg.eval.prompts, { contextLength: l }).data, shape: [2, l] };
}

export function progressFor(ctx: RunContext, total: number): Progress {
  const p = ctx.options.progress ?? false;
  return new Progress({
    label: ctx.cfg.preset,
    total,
    unit: 'samples',
    silent: p === false,
    ...(p === true || p === false ? {} : { stream: p }),
  });
}

export /** The (attribute, group) terms of the regulariser: attributes in configuration order, groups ascending. */
function distanceColumns(ctx: RunContext): { attribute: string; group: number; name: string }[] {
  const f = ctx.cfg.fairness;
  if (!f) return [];
  return Object.entries(f.attributes)
    .filter(([, w]) => w > 0)
    .flatMap(([a]) =>
      (ctx.data.groupNames[a] ?? []).flatMap((name, g) =>
        ctx.data.train.groupIndices(a, g).length > 0 ? [{ attribute: a, group: g, name: `dist/${a}/${name}` }] : [],
      ),
    );
}
