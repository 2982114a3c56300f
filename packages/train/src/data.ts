// The data of a run, one shape for both datasets: per split the samples' labels, sensitive attributes and captions,
// their preprocessed images (FairCLIP's exact pipeline, cached), the seeded epoch order of the training loader and
// the per-group endless orders of FairCLIP's group loaders. Orders are pure functions of (seed, epoch) and
// (seed, stream, pass), so a run's data-order state is just counters: resuming needs no generator state.

import { type ImageU8, PreprocessError, preprocessGrayFloat, preprocessRgb } from '@fairclip/clip';
import {
  EndlessSampler,
  FAIRFACE_AGES,
  FAIRFACE_RACES,
  type FairFaceDataset,
  type FairVlmedSplit,
  labelCaption,
  openFairFace,
  openFairVlmed,
  truncateNote,
} from '@fairclip/datasets';
import { FAIRVLMED_ATTRIBUTES, FAIRVLMED_GROUP_NAMES, FAIRVLMED_GROUPS } from '@fairclip/io';
import { ConfigError, DATASET_ATTRIBUTES, type TrainConfig } from './config.ts';
import { type AugmentationBox, augmentationFor, blipPreCaption, cropU8, flipChwInPlace } from './linear-probe.ts';

export type SplitName = 'train' | 'val' | 'test';

/** What the loop needs to know of a sample (no pixels). */
export interface SampleInfo {
  /** File (unique within the dataset), for messages. */
  file: string;
  /** Binary target: glaucoma (FairVLMed) or male (FairFace). */
  label: number;
  /** Group id per sensitive attribute (−1 unknown). */
  groups: Readonly<Record<string, number>>;
  /** Training text (FairVLMed: the truncated summary or the label caption); undefined when the split has none. */
  caption: string | undefined;
}

/**
 * Preprocessed images by file, size and resize mode, shared between runs (tests, seed sweeps): FairCLIP's exact
 * preprocessing of a 664 × 512 fundus costs far more than a tiny model's forward pass.
 */
export class ImageCache {
  private readonly map = new Map<string, Float32Array>();
  /** Upper bound on cached images (default unbounded); the oldest entries go first. */
  readonly maxEntries: number;
  hits = 0;
  misses = 0;
  constructor(maxEntries = Number.POSITIVE_INFINITY) {
    this.maxEntries = maxEntries;
  }
  async get(key: string, make: () => Promise<Float32Array>): Promise<Float32Array> {
    const hit = this.map.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const v = await make();
    this.map.set(key, v);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
    return v;
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
  }
}

export interface SplitData {
  readonly split: SplitName;
  readonly samples: readonly SampleInfo[];
  readonly size: number;
  /**
   * Preprocessed image of sample i: float32 [3, size, size] (CHW). 'shorter-side' (default): FairCLIP's pipeline
   * (CLIP's `_transform` on the float image); 'square': the linear probe's evaluation transform as
   * mae/main_linprobe.py applies it (`Image.fromarray(x).convert("RGB")` first, then BlipImageEvalProcessor's
   * Resize((size, size), BICUBIC) on the 8-bit image).
   */
  image(i: number, resize?: 'shorter-side' | 'square'): Promise<Float32Array>;
  /**
   * The linear probe's training transform of sample i in `epoch` (BLIP-2's train processor: the 8-bit image, a
   * RandomResizedCrop(size, scale (0.5, 1), ratio (3/4, 4/3), BICUBIC) and a horizontal flip with probability ½),
   * drawn from (seed, epoch, i) alone. Not cached: every epoch draws a new crop.
   */
  augmentedImage(i: number, seed: number, epoch: number): Promise<Float32Array>;
  /** Indices of the samples whose `attribute` is `group`. */
  groupIndices(attribute: string, group: number): number[];
}

export interface RunData {
  dataset: TrainConfig['data']['dataset'];
  root: string;
  train: SplitData;
  val: SplitData;
  test: SplitData;
  /** Display names of the groups of each attribute of the dataset (index = group id). */
  groupNames: Readonly<Record<string, readonly string[]>>;
  /** Stream id of the endless loader of (attribute, group), as the dataset adapters number them. */
  stream(attribute: string, group: number): number;
  /**
   * The training split as the group loaders of the fairness term see it: the same samples and images, captions from
   * `data.groupTextSource` (the original: always the notes). `train` itself when both sources agree.
   */
  groupTrain: SplitData;
}

export interface OpenDataOptions {
  /** Image side the model takes (224 for every shipped model and the default tiny one). */
  resolution: number;
  cache?: ImageCache;
}

/**
 * The training text of a note: truncate_note(note, summaryMaxChars); for the linear probe with the 'blip' caption
 * processor, BLIP's pre_caption first (mae/engine_finetune.py: `truncate_note(text_processor(note))`).
 */
export function noteCaption(cfg: TrainConfig, note: string): string {
  const blip = cfg.mode === 'linear-probe' && cfg.linearProbe?.captionProcessor === 'blip';
  return truncateNote(blip ? blipPreCaption(note) : note, cfg.data.summaryMaxChars);
}

/**
 * PIL's conversion of a mode-"F" image to "L" (and so to "RGB", three equal channels): values at or below 0 become 0,
 * at or above 255 become 255, the rest are truncated toward zero. NaN is refused.
 */
export function grayFloatToU8(data: Float32Array, height: number, width: number): ImageU8 {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v <= 0) out[i] = 0;
    else if (v >= 255) out[i] = 255;
    else if (v > 0) out[i] = Math.trunc(v);
    else
      throw new PreprocessError(
        'NON_FINITE',
        `NaN at row ${Math.floor(i / width)}, column ${i % width} before the 8-bit conversion`,
      );
  }
  return { data: out, height, width, channels: 1 };
}

/** The linear probe's training transform of an 8-bit image (see SplitData.augmentedImage). */
export function augmentImageU8(image: ImageU8, size: number, seed: number, epoch: number, index: number): Float32Array {
  return applyAugmentation(image, augmentationFor(seed, epoch, index, image.height, image.width), size);
}

/**
 * torchvision's RandomResizedCrop output for a given box on a PIL image (`img.crop(box)`, then
 * `resize((size, size), BICUBIC)`), the flip if drawn, ToTensor + Normalize: float32 [3, size, size].
 */
export function applyAugmentation(image: ImageU8, box: AugmentationBox, size: number): Float32Array {
  const crop = cropU8(image.data, image.height, image.width, image.channels, box);
  const chw = preprocessRgb(
    { data: crop, height: box.height, width: box.width, channels: image.channels },
    { size, resize: 'square' },
  );
  return box.flip ? flipChwInPlace(chw, 3, size, size) : chw;
}

/** A split and the captions its samples have in the group loaders (data.groupTextSource). */
interface OpenedSplit {
  split: SplitData;
  groupCaptions: (string | undefined)[];
}

function fairvlmedSplit(
  cfg: TrainConfig,
  root: string,
  split: SplitName,
  opts: Required<OpenDataOptions>,
): OpenedSplit {
  const ds: FairVlmedSplit = openFairVlmed(root, split, { textSource: cfg.data.textSource });
  const limit = cfg.data.limits[split] ?? ds.size;
  const records = ds.records.slice(0, limit);
  const samples: SampleInfo[] = records.map((r) => ({
    file: r.path,
    label: r.glaucoma,
    groups: Object.fromEntries(FAIRVLMED_ATTRIBUTES.map((a) => [a, r.attributes[a]])),
    caption:
      cfg.data.textSource === 'label'
        ? labelCaption(r.glaucoma)
        : r.note === undefined
          ? undefined
          : noteCaption(cfg, r.note),
  }));
  const u8 = async (i: number): Promise<ImageU8> => {
    const s = await ds.load(i);
    return grayFloatToU8(s.image.data, s.image.shape[0], s.image.shape[1]);
  };
  const data = makeSplit(
    split,
    samples,
    (i, resize) =>
      opts.cache.get(`${records[i]!.path}|${opts.resolution}|${resize}`, async () => {
        if (resize === 'square') return preprocessRgb(await u8(i), { size: opts.resolution, resize });
        const s = await ds.load(i);
        return preprocessGrayFloat(
          { data: s.image.data, height: s.image.shape[0], width: s.image.shape[1] },
          { size: opts.resolution, resize },
        );
      }),
    async (i, seed, epoch) => augmentImageU8(await u8(i), opts.resolution, seed, epoch, i),
  );
  // The group loaders' captions: the official fair_vl_group_dataset(..., text_source='note') truncates the note
  // with truncate_note's default (no BLIP processing: that is the linear probe's).
  const groupCaptions = records.map((r) =>
    cfg.data.groupTextSource === 'label'
      ? labelCaption(r.glaucoma)
      : r.note === undefined
        ? undefined
        : truncateNote(r.note, cfg.data.summaryMaxChars),
  );
  return { split: data, groupCaptions };
}

function fairfaceSplit(cfg: TrainConfig, root: string, split: SplitName, opts: Required<OpenDataOptions>): OpenedSplit {
  const limit = cfg.data.limits[split];
  const options = limit !== null ? { limit } : {};
  const ds: FairFaceDataset = openFairFace(root, split, options);
  const blip = cfg.mode === 'linear-probe' && cfg.linearProbe?.captionProcessor === 'blip';
  const samples: SampleInfo[] = ds.records.map((r) => ({
    file: r.path,
    label: r.gender,
    groups: { age: r.age, race: r.race },
    caption: cfg.data.textSource === 'label' ? undefined : blip ? noteCaption(cfg, r.caption) : r.caption,
  }));
  const u8 = async (i: number): Promise<ImageU8> => {
    const s = await ds.load(i);
    const [height, width] = s.image.shape;
    return { data: s.image.data, height, width, channels: 3 };
  };
  const data = makeSplit(
    split,
    samples,
    (i, resize) =>
      opts.cache.get(`${ds.records[i]!.path}|${opts.resolution}|${resize}`, async () =>
        preprocessRgb(await u8(i), { size: opts.resolution, resize }),
      ),
    async (i, seed, epoch) => augmentImageU8(await u8(i), opts.resolution, seed, epoch, i),
  );
  // FairFace's group datasets read the same caption column as the training one (the study's fairface_dataset).
  return { split: data, groupCaptions: ds.records.map((r) => r.caption) };
}

function makeSplit(
  split: SplitName,
  samples: SampleInfo[],
  load: (i: number, resize: 'shorter-side' | 'square') => Promise<Float32Array>,
  augmented: (i: number, seed: number, epoch: number) => Promise<Float32Array>,
): SplitData {
  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= samples.length)
      throw new RangeError(`${split}: sample index ${i} outside 0..${samples.length - 1}`);
  };
  return {
    split,
    samples,
    size: samples.length,
    image: (i, resize = 'shorter-side') => {
      check(i);
      return load(i, resize);
    },
    augmentedImage: (i, seed, epoch) => {
      check(i);
      return augmented(i, seed, epoch);
    },
    groupIndices: (attribute, group) => {
      const out: number[] = [];
      samples.forEach((s, i) => {
        if (s.groups[attribute] === group) out.push(i);
      });
      return out;
    },
  };
}

/** Opens the three splits of the configured dataset. Dataset errors keep their type (DatasetError, with the file). */
export function openRunData(cfg: TrainConfig, root: string, options: OpenDataOptions): RunData {
  const opts: Required<OpenDataOptions> = { resolution: options.resolution, cache: options.cache ?? new ImageCache() };
  const open = cfg.data.dataset === 'fairvlmed' ? fairvlmedSplit : fairfaceSplit;
  const opened = open(cfg, root, 'train', opts);
  const train = opened.split;
  const val = open(cfg, root, 'val', opts).split;
  const test = open(cfg, root, 'test', opts).split;
  const groupTrain = train.samples.every((s, i) => s.caption === opened.groupCaptions[i])
    ? train
    : { ...train, samples: train.samples.map((s, i) => ({ ...s, caption: opened.groupCaptions[i] })) };
  if (train.size === 0 && cfg.mode !== 'zeroshot')
    throw new ConfigError('data.path', `the training split of ${root} has no samples`);
  for (const s of [val, test])
    if (s.size === 0) throw new ConfigError('data.path', `the ${s.split} split of ${root} has no samples`);
  const groupNames: Record<string, readonly string[]> =
    cfg.data.dataset === 'fairvlmed'
      ? Object.fromEntries(
          DATASET_ATTRIBUTES.fairvlmed.map((a) => {
            const display = (FAIRVLMED_GROUP_NAMES as Record<string, Record<number, string>>)[a];
            return [a, FAIRVLMED_GROUPS[a as keyof typeof FAIRVLMED_GROUPS].map((g, i) => display?.[i] ?? g)];
          }),
        )
      : { age: [...FAIRFACE_AGES], race: [...FAIRFACE_RACES] };
  const stream =
    cfg.data.dataset === 'fairvlmed'
      ? (a: string, g: number) => FAIRVLMED_ATTRIBUTES.indexOf(a as (typeof FAIRVLMED_ATTRIBUTES)[number]) * 64 + g + 1
      : (a: string, g: number) => (a === 'age' ? 1000 : 2000) + g;
  return { dataset: cfg.data.dataset, root, train, val, test, groupNames, stream, groupTrain };
}

/**
 * FairCLIP's endless per-group loader for one (attribute, group): @fairclip/datasets' EndlessSampler (the sampler its
 * EndlessLoader uses) labelled with the group it draws from. Resuming restores `drawn`.
 */
export class GroupSampler extends EndlessSampler {
  readonly attribute: string;
  readonly group: number;

  constructor(
    attribute: string,
    group: number,
    indices: readonly number[],
    batchSize: number,
    seed: number,
    stream: number,
  ) {
    if (indices.length === 0) throw new RangeError(`group ${attribute}=${group} has no training samples`);
    super(indices, { batchSize, seed, stream, shuffle: true, dropLast: false });
    this.attribute = attribute;
    this.group = group;
  }
}
