// The data of a run, one shape for both datasets: per split the samples' labels, sensitive attributes and captions,
// their preprocessed images (FairCLIP's exact pipeline, cached), the seeded epoch order of the training loader and
// the per-group endless orders of FairCLIP's group loaders. Orders are pure functions of (seed, epoch) and
// (seed, stream, pass), so a run's data-order state is just counters: resuming needs no generator state.

import { preprocessGrayFloat, preprocessRgb } from '@fairclip/clip';
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
  /** Preprocessed image of sample i: float32 [3, size, size] (CHW), FairCLIP's pipeline. */
  image(i: number, resize?: 'shorter-side' | 'square'): Promise<Float32Array>;
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
}

export interface OpenDataOptions {
  /** Image side the model takes (224 for every shipped model and the default tiny one). */
  resolution: number;
  cache?: ImageCache;
}

function fairvlmedSplit(cfg: TrainConfig, root: string, split: SplitName, opts: Required<OpenDataOptions>): SplitData {
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
          : truncateNote(r.note, cfg.data.summaryMaxChars),
  }));
  return makeSplit(split, samples, (i, resize) =>
    opts.cache.get(`${records[i]!.path}|${opts.resolution}|${resize}`, async () => {
      const s = await ds.load(i);
      return preprocessGrayFloat(
        { data: s.image.data, height: s.image.shape[0], width: s.image.shape[1] },
        { size: opts.resolution, resize },
      );
    }),
  );
}

function fairfaceSplit(cfg: TrainConfig, root: string, split: SplitName, opts: Required<OpenDataOptions>): SplitData {
  const limit = cfg.data.limits[split];
  const options = limit !== null ? { limit } : {};
  const ds: FairFaceDataset = openFairFace(root, split, options);
  const samples: SampleInfo[] = ds.records.map((r) => ({
    file: r.path,
    label: r.gender,
    groups: { age: r.age, race: r.race },
    caption: cfg.data.textSource === 'label' ? undefined : r.caption,
  }));
  return makeSplit(split, samples, (i, resize) =>
    opts.cache.get(`${ds.records[i]!.path}|${opts.resolution}|${resize}`, async () => {
      const s = await ds.load(i);
      const [height, width] = s.image.shape;
      return preprocessRgb({ data: s.image.data, height, width, channels: 3 }, { size: opts.resolution, resize });
    }),
  );
}

function makeSplit(
  split: SplitName,
  samples: SampleInfo[],
  load: (i: number, resize: 'shorter-side' | 'square') => Promise<Float32Array>,
): SplitData {
  return {
    split,
    samples,
    size: samples.length,
    image: (i, resize = 'shorter-side') => {
      if (!Number.isInteger(i) || i < 0 || i >= samples.length)
        throw new RangeError(`${split}: sample index ${i} outside 0..${samples.length - 1}`);
      return load(i, resize);
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
  const train = open(cfg, root, 'train', opts);
  const val = open(cfg, root, 'val', opts);
  const test = open(cfg, root, 'test', opts);
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
  return { dataset: cfg.data.dataset, root, train, val, test, groupNames, stream };
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
