// The data of a run, one shape for both datasets: per split the samples' labels, sensitive attributes and captions,
// their preprocessed images (FairCLIP's exact pipeline, cached), the seeded epoch order of the training loader and
// the per-group endless orders of FairCLIP's group loaders. Orders are pure functions of (seed, epoch) and
// (seed, stream, pass), so a run's data-order state is just counters: resuming needs no generator state.

import { statSync } from 'node:fs';
import { type ImageU8, preprocessRgb } from '@fairclip/clip';
import {
  EndlessSampler,
  epochOrder,
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
import { grayFloatToU8, ImagePool, type PoolTicket, preprocessFairVlmedImage, sharedImagePool } from './image-pool.ts';
import { type AugmentationBox, augmentationFor, blipPreCaption, cropU8, flipChwInPlace } from './linear-probe.ts';

export { grayFloatToU8 } from './image-pool.ts';

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

/** Default {@link ImageCacheOptions.maxBytes}: 1 GiB of preprocessed images (about 1 780 at 224 × 224). */
export const DEFAULT_IMAGE_CACHE_BYTES = 2 ** 30;

export interface ImageCacheOptions {
  /** Upper bound on cached images (default unbounded). */
  maxEntries?: number;
  /** Upper bound on the bytes of the cached images (default {@link DEFAULT_IMAGE_CACHE_BYTES}). */
  maxBytes?: number;
}

/**
 * Preprocessed images by key, shared between runs (tests, seed sweeps, group loaders, evaluations): FairCLIP's exact
 * preprocessing of a 664 × 512 fundus costs far more than a tiny model's forward pass. The keys openRunData uses
 * name the file by path, device, inode, size, modification and change times (so a rewritten file is a new key,
 * never a stale hit) plus the resolution and the resize mode. Least recently used entries go first when a cap is
 * reached; concurrent requests for one key share one computation.
 */
export class ImageCache {
  private readonly map = new Map<string, Float32Array>();
  private readonly pending = new Map<string, Promise<Float32Array>>();
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Bytes of the cached images. */
  bytes = 0;
  hits = 0;
  misses = 0;
  /** `new ImageCache(n)` caps the entry count (the original signature); options cap entries and bytes. */
  constructor(options: number | ImageCacheOptions = {}) {
    const o = typeof options === 'number' ? { maxEntries: options } : options;
    const cap = (v: number | undefined, dflt: number, name: string) => {
      const x = v ?? dflt;
      if (typeof x !== 'number' || Number.isNaN(x) || x < 0 || (Number.isFinite(x) && !Number.isInteger(x)))
        throw new RangeError(
          `ImageCache: ${name} must be a non-negative integer or Infinity, got ${String(x).slice(0, 40)}`,
        );
      return x;
    };
    this.maxEntries = cap(o.maxEntries, Number.POSITIVE_INFINITY, 'maxEntries');
    this.maxBytes = cap(o.maxBytes, DEFAULT_IMAGE_CACHE_BYTES, 'maxBytes');
  }
  /** The cached image of `key`, or the result of `make` (cached when it fits, shared by concurrent callers). */
  get(key: string, make: () => Promise<Float32Array>): Promise<Float32Array> {
    const hit = this.map.get(key);
    if (hit) {
      this.hits++;
      this.map.delete(key);
      this.map.set(key, hit);
      return Promise.resolve(hit);
    }
    const inFlight = this.pending.get(key);
    if (inFlight) {
      this.hits++;
      return inFlight;
    }
    this.misses++;
    const p = make().then(
      (v) => {
        this.pending.delete(key);
        this.store(key, v);
        return v;
      },
      (e: unknown) => {
        this.pending.delete(key);
        throw e;
      },
    );
    this.pending.set(key, p);
    return p;
  }
  /** Whether `key` is cached or being computed. */
  has(key: string): boolean {
    return this.map.has(key) || this.pending.has(key);
  }
  private store(key: string, v: Float32Array): void {
    if (v.byteLength > this.maxBytes || this.maxEntries < 1) return;
    const old = this.map.get(key);
    if (old) this.bytes -= old.byteLength;
    this.map.set(key, v);
    this.bytes += v.byteLength;
    for (const [k, x] of this.map) {
      if (this.map.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= x.byteLength;
    }
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

/**
 * The part of an image cache key that names a file's current content: path, device, inode, size, modification and
 * change times (nanoseconds). A rewrite changes the change time even when the size and the modification time are
 * set back, so the key changes. Null when the file cannot be stat'ed (the loader then reports why).
 */
export function fileCacheKey(path: string): string | null {
  try {
    const s = statSync(path, { bigint: true });
    return `${path}|${s.dev}|${s.ino}|${s.size}|${s.mtimeNs}|${s.ctimeNs}`;
  } catch {
    return null;
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
  /**
   * Worker threads that decode and preprocess images ahead of their use (FairVLMed): a pool, or a count (0: every
   * image in the calling thread, no read-ahead). Default: the process's shared pool, one worker per core but one
   * (at most 4; FAIRCLIP_IMAGE_WORKERS overrides the count).
   */
  workers?: number | ImagePool;
}

/**
 * The training text of a note: truncate_note(note, summaryMaxChars); for the linear probe with the 'blip' caption
 * processor, BLIP's pre_caption first (mae/engine_finetune.py: `truncate_note(text_processor(note))`).
 */
export function noteCaption(cfg: TrainConfig, note: string): string {
  const blip = cfg.mode === 'linear-probe' && cfg.linearProbe?.captionProcessor === 'blip';
  return truncateNote(blip ? blipPreCaption(note) : note, cfg.data.summaryMaxChars);
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

type Resize = 'shorter-side' | 'square';
/** Loads (or fetches from the cache) image i of a split; `demanded` when a caller awaits it now. */
type ImageLoad = (i: number, resize: Resize, demanded: boolean) => Promise<Float32Array>;

/** A split, its image loader and the captions its samples have in the group loaders (data.groupTextSource). */
interface OpenedSplit {
  split: SplitData;
  load: ImageLoad;
  groupCaptions: (string | undefined)[];
}

interface SplitEnv {
  resolution: number;
  cache: ImageCache;
  /** Null: every image in the calling thread. */
  pool: ImagePool | null;
  /** Pool tasks in flight by cache key, so that a caller who starts waiting for one can move it to the front. */
  tickets: Map<string, PoolTicket>;
  /** Called before each image a split's user asks for (the read-ahead follows the run's progress). */
  touched: (split: SplitName, i: number, resize: Resize) => void;
}

/** The cache entry of a file's preprocessed image; without a key (no such file), the loader runs uncached. */
function cachedImage(
  env: SplitEnv,
  path: string,
  resize: Resize,
  demanded: boolean,
  local: () => Promise<Float32Array>,
  submit: ((key: string) => Promise<Float32Array>) | null,
): Promise<Float32Array> {
  const file = fileCacheKey(path);
  if (file === null) return local();
  const key = `${file}|${env.resolution}|${resize}`;
  if (demanded) env.tickets.get(key)?.demand();
  return env.cache.get(key, () => (submit ? submit(key) : local()));
}

function fairvlmedSplit(cfg: TrainConfig, root: string, split: SplitName, env: SplitEnv): OpenedSplit {
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
  // The in-thread path (and the one whose errors a caller sees): the dataset's loader, then the preprocessing.
  const local = (i: number, resize: Resize) => async () => {
    const s = await ds.load(i);
    return preprocessFairVlmedImage(s.image.data, s.image.shape[0], s.image.shape[1], env.resolution, resize);
  };
  const load: ImageLoad = (i, resize, demanded) => {
    const path = records[i]!.path;
    const pool = env.pool;
    const submit = pool
      ? (key: string) => {
          const ticket = pool.submit(
            { kind: 'fairvlmed', path, maxSampleBytes: ds.maxSampleBytes, resolution: env.resolution, resize },
            local(i, resize),
            demanded,
          );
          env.tickets.set(key, ticket);
          const done = () => env.tickets.delete(key);
          ticket.promise.then(done, done);
          return ticket.promise;
        }
      : null;
    return cachedImage(env, path, resize, demanded, local(i, resize), submit);
  };
  const data = makeSplit(split, samples, load, env, async (i, seed, epoch) =>
    augmentImageU8(await u8(i), env.resolution, seed, epoch, i),
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
  return { split: data, load, groupCaptions };
}

function fairfaceSplit(cfg: TrainConfig, root: string, split: SplitName, env: SplitEnv): OpenedSplit {
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
  // JPEG decoding stays in the calling thread (cached like every image).
  const load: ImageLoad = (i, resize, demanded) =>
    cachedImage(
      env,
      ds.records[i]!.path,
      resize,
      demanded,
      async () => preprocessRgb(await u8(i), { size: env.resolution, resize }),
      null,
    );
  const data = makeSplit(split, samples, load, env, async (i, seed, epoch) =>
    augmentImageU8(await u8(i), env.resolution, seed, epoch, i),
  );
  // FairFace's group datasets read the same caption column as the training one (the study's fairface_dataset).
  return { split: data, load, groupCaptions: ds.records.map((r) => r.caption) };
}

function makeSplit(
  split: SplitName,
  samples: SampleInfo[],
  load: ImageLoad,
  env: Pick<SplitEnv, 'touched'> | null,
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
      env?.touched(split, i, resize);
      return load(i, resize, true);
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

/**
 * Read-ahead over the images a run will ask for, in the order it will ask (a plan: position → split and index).
 * It keeps the images of the next `window` positions after the furthest position asked for so far loading or
 * cached; asks that are not in the window (a resumed run, the group loaders) move nothing. Memory stays bounded:
 * the finished images live in the (capped) cache, the pending ones are descriptions in the pool's queue.
 */
export class ReadAhead {
  private cursor = 0;
  private scheduled = 0;
  private readonly at = new Map<string, number>();
  private readonly fifo: { pos: number; key: string }[] = [];
  private head = 0;
  private stopped = false;

  constructor(
    private readonly plan: (pos: number) => { split: SplitName; index: number; resize: Resize } | undefined,
    readonly window: number,
    private readonly fetch: (split: SplitName, index: number, resize: Resize) => void,
  ) {}

  /** Plan positions handed out so far. */
  get ahead(): number {
    return this.scheduled;
  }

  touch(split: SplitName, index: number, resize: Resize): void {
    if (this.stopped) return;
    const key = `${split}:${index}:${resize}`;
    const p = this.at.get(key);
    if (p !== undefined && p >= this.cursor) this.cursor = p + 1;
    while (this.head < this.fifo.length && this.fifo[this.head]!.pos < this.cursor) {
      const e = this.fifo[this.head++]!;
      if (this.at.get(e.key) === e.pos) this.at.delete(e.key);
    }
    if (this.head > 1024) {
      this.fifo.splice(0, this.head);
      this.head = 0;
    }
    while (this.scheduled < this.cursor + this.window) {
      const item = this.plan(this.scheduled);
      if (!item) break;
      const k = `${item.split}:${item.index}:${item.resize}`;
      this.at.set(k, this.scheduled);
      this.fifo.push({ pos: this.scheduled, key: k });
      this.scheduled++;
      this.fetch(item.split, item.index, item.resize);
    }
  }

  /** No further read-ahead (what is loading finishes into the cache). */
  stop(): void {
    this.stopped = true;
  }
}

/**
 * The images a run asks for, in order: fine-tuning, each epoch's training order (the sampler's, as run/finetune.ts
 * draws it) then validation and test; zero-shot, validation and test; the linear probe, its evaluation transform of
 * each split (training too unless it augments). Undefined past the end.
 */
function runPlan(
  cfg: TrainConfig,
  sizes: Record<SplitName, number>,
): (pos: number) => { split: SplitName; index: number; resize: Resize } | undefined {
  const probe = cfg.mode === 'linear-probe';
  const resize: Resize = probe ? 'square' : 'shorter-side';
  const trainPasses =
    cfg.mode === 'finetune'
      ? cfg.training.epochs
      : probe && cfg.linearProbe?.augmentation !== 'original' && sizes.train > 0
        ? 1
        : 0;
  const evalPasses = cfg.mode === 'finetune' ? cfg.training.epochs : 1;
  const passes = Math.max(trainPasses, evalPasses);
  const period = sizes.train + sizes.val + sizes.test;
  let orderEpoch = -1;
  let order: Uint32Array | null = null;
  return (pos) => {
    if (period === 0) return undefined;
    const e = Math.floor(pos / period);
    if (e >= passes) return undefined;
    let r = pos - e * period;
    if (r < sizes.train) {
      if (e >= trainPasses) return undefined;
      if (cfg.mode !== 'finetune') return { split: 'train', index: r, resize };
      if (orderEpoch !== e) {
        order = epochOrder(sizes.train, cfg.training.seed, e);
        orderEpoch = e;
      }
      return { split: 'train', index: order![r]!, resize };
    }
    r -= sizes.train;
    if (e >= evalPasses) return undefined;
    if (r < sizes.val) return { split: 'val', index: r, resize };
    return { split: 'test', index: r - sizes.val, resize };
  };
}

/**
 * Opens the three splits of the configured dataset. Dataset errors keep their type (DatasetError, with the file).
 * FairVLMed images are decoded and preprocessed by worker threads ahead of their use (see
 * {@link OpenDataOptions.workers}) once the run asks for its first image.
 */
export function openRunData(cfg: TrainConfig, root: string, options: OpenDataOptions): RunData {
  const cache = options.cache ?? new ImageCache();
  const w = options.workers ?? sharedImagePool();
  const pool = typeof w === 'number' ? (w > 0 ? new ImagePool(w) : null) : w.size > 0 ? w : null;
  let readAhead: ReadAhead | null = null;
  let started = false;
  const env: SplitEnv = {
    resolution: options.resolution,
    cache,
    pool: cfg.data.dataset === 'fairvlmed' ? pool : null,
    tickets: new Map(),
    touched: (split, i, resize) => {
      if (!started) {
        started = true;
        readAhead = startReadAhead();
      }
      readAhead?.touch(split, i, resize);
    },
  };
  const open = cfg.data.dataset === 'fairvlmed' ? fairvlmedSplit : fairfaceSplit;
  const opened = open(cfg, root, 'train', env);
  const train = opened.split;
  const openedVal = open(cfg, root, 'val', env);
  const openedTest = open(cfg, root, 'test', env);
  const val = openedVal.split;
  const test = openedTest.split;
  const loads: Record<SplitName, ImageLoad> = { train: opened.load, val: openedVal.load, test: openedTest.load };
  const per = 3 * options.resolution * options.resolution * 4;
  function startReadAhead(): ReadAhead | null {
    if (!env.pool) return null;
    const budget = Math.min(cache.maxBytes, cache.maxEntries * per) / 2;
    const window = Math.min(1024, Math.floor(budget / per));
    if (window < 1) return null;
    const plan = runPlan(cfg, { train: train.size, val: val.size, test: test.size });
    return new ReadAhead(plan, window, (split, i, resize) => {
      loads[split](i, resize, false).catch(() => {
        // A failing image fails when it is asked for (the in-thread loader's error, with its type).
      });
    });
  }
  // With other captions, the group loaders' split reads the same images through the cache (without moving the
  // read-ahead: they draw samples at random).
  const groupTrain = train.samples.every((s, i) => s.caption === opened.groupCaptions[i])
    ? train
    : makeSplit(
        'train',
        train.samples.map((s, i) => ({ ...s, caption: opened.groupCaptions[i] })),
        opened.load,
        null,
        (i, seed, epoch) => train.augmentedImage(i, seed, epoch),
      );
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
