// Loaders: seeded shuffling, batching, background prefetch, and endless per-group loaders (FairCLIP's group batches).
import { DatasetError, isDatasetError } from './errors.ts';
import { batchPlan, EndlessSampler, epochOrder } from './sampler.ts';

/** Anything that can load sample `index` (0 <= index < size) asynchronously. */
export interface SampleSource<T> {
  readonly size: number;
  load(index: number): Promise<T>;
}

/** One batch: the source indices it holds and their samples, in the same order. */
export interface Batch<T> {
  /** Epoch (or pass, for endless loaders) it belongs to. */
  epoch: number;
  /** Position of the batch within its epoch. */
  index: number;
  indices: number[];
  items: T[];
}

/** A sample that failed to load and was skipped (with `skipCorrupt`). */
export interface SkippedLoad {
  index: number;
  error: DatasetError;
}

export interface LoaderOptions {
  batchSize: number;
  /** Shuffle every epoch (seeded by `seed` and the epoch number). Default false. */
  shuffle?: boolean;
  /** Seed of the shuffles (default 0). */
  seed?: number;
  /** Drop a last batch smaller than `batchSize` (default false, like torch's DataLoader). */
  dropLast?: boolean;
  /** Batches loaded ahead in the background while the consumer works (default 2; 0 disables read-ahead). */
  prefetch?: number;
  /** Skip samples whose load throws a DatasetError (reported to `onSkip`) instead of failing. Default false. */
  skipCorrupt?: boolean;
  onSkip?: (skipped: SkippedLoad) => void;
}

/**
 * A loader's options completed with its dataset's skip policy: the dataset's `skipCorrupt` where the loader sets
 * none, and the dataset's file-level `onSkip` (file names from `fileOf`) where the loader has no handler.
 */
export function withDatasetSkip(
  options: LoaderOptions,
  dataset: { skipCorrupt?: boolean; onSkip?: (skipped: { file: string; error: DatasetError }) => void },
  fileOf: (index: number) => string | undefined,
): LoaderOptions {
  const out: LoaderOptions = { ...options };
  if (out.skipCorrupt === undefined && dataset.skipCorrupt !== undefined) out.skipCorrupt = dataset.skipCorrupt;
  if (out.onSkip === undefined && dataset.onSkip) {
    const report = dataset.onSkip;
    out.onSkip = ({ index, error }) => report({ file: fileOf(index) ?? String(index), error });
  }
  return out;
}

type CheckedOptions = Required<Omit<LoaderOptions, 'onSkip'>> & { onSkip: ((s: SkippedLoad) => void) | undefined };

function checkOptions(o: LoaderOptions): CheckedOptions {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new DatasetError('BAD_ARGUMENT', `batchSize must be a positive integer, got ${o.batchSize}`);
  }
  const prefetch = o.prefetch ?? 2;
  if (!Number.isInteger(prefetch) || prefetch < 0) {
    throw new DatasetError('BAD_ARGUMENT', `prefetch must be a non-negative integer, got ${prefetch}`);
  }
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new DatasetError('BAD_ARGUMENT', `seed must be an integer, got ${seed}`);
  return {
    batchSize: o.batchSize,
    shuffle: o.shuffle ?? false,
    seed,
    dropLast: o.dropLast ?? false,
    prefetch,
    skipCorrupt: o.skipCorrupt ?? false,
    onSkip: o.onSkip,
  };
}

async function loadBatch<T>(
  source: SampleSource<T>,
  indices: number[],
  epoch: number,
  index: number,
  skipCorrupt: boolean,
  onSkip: ((s: SkippedLoad) => void) | undefined,
): Promise<Batch<T>> {
  const settled = await Promise.allSettled(indices.map((i) => source.load(i)));
  const keptIdx: number[] = [];
  const items: T[] = [];
  settled.forEach((r, k) => {
    if (r.status === 'fulfilled') {
      keptIdx.push(indices[k]!);
      items.push(r.value);
    } else if (skipCorrupt && isDatasetError(r.reason)) {
      onSkip?.({ index: indices[k]!, error: r.reason });
    } else {
      throw r.reason;
    }
  });
  return { epoch, index, indices: keptIdx, items };
}

/** Yields the batches in order while keeping up to `prefetch` further batches loading in the background. */
async function* prefetched<T>(
  plans: number[][],
  load: (indices: number[], index: number) => Promise<Batch<T>>,
  prefetch: number,
): AsyncGenerator<Batch<T>> {
  const pending: Promise<Batch<T>>[] = [];
  let next = 0;
  const fill = (target: number) => {
    while (next < plans.length && pending.length < target) {
      const p = load(plans[next]!, next);
      // Errors surface when the batch is awaited; this handler only keeps an early rejection from being "unhandled".
      p.catch(() => {});
      pending.push(p);
      next++;
    }
  };
  fill(Math.max(1, prefetch));
  for (;;) {
    if (pending.length === 0) fill(1);
    if (pending.length === 0) return;
    const batch = await pending.shift()!;
    // `prefetch` batches load while the consumer works on this one.
    fill(prefetch);
    yield batch;
  }
}

/** Batches over a sample source, optionally shuffled per epoch, with background read-ahead. */
export class DataLoader<T> {
  readonly source: SampleSource<T>;
  private readonly o: CheckedOptions;

  constructor(source: SampleSource<T>, options: LoaderOptions) {
    this.source = source;
    this.o = checkOptions(options);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.source.size;
    return this.o.dropLast ? Math.floor(n / this.o.batchSize) : Math.ceil(n / this.o.batchSize);
  }

  /** The sample order of an epoch: a seeded permutation when shuffling, 0..n-1 otherwise. */
  order(epoch: number): Uint32Array {
    const n = this.source.size;
    if (!this.o.shuffle) return Uint32Array.from({ length: n }, (_, i) => i);
    return epochOrder(n, this.o.seed, epoch);
  }

  /** The batches of one epoch. */
  epoch(epoch = 0): AsyncGenerator<Batch<T>> {
    const plans = batchPlan(this.order(epoch), this.o.batchSize, this.o.dropLast);
    const { skipCorrupt, onSkip } = this.o;
    return prefetched(
      plans,
      (indices, index) => loadBatch(this.source, indices, epoch, index, skipCorrupt, onSkip),
      this.o.prefetch,
    );
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch<T>> {
    return this.epoch(0);
  }
}

/**
 * An endless loader over a subset of a source (FairCLIP's per-group loaders: `endless_loader(DataLoader(group,
 * shuffle=True, drop_last=False))`): it goes through the subset in batches, reshuffling (seeded) at every pass, and
 * starts the next pass when one ends. Read-ahead crosses pass boundaries.
 */
export class EndlessLoader<T> {
  readonly indices: readonly number[];
  private readonly source: SampleSource<T>;
  private readonly o: CheckedOptions;
  private readonly sampler: EndlessSampler;
  private iterator: AsyncGenerator<Batch<T>>;

  constructor(source: SampleSource<T>, indices: readonly number[], options: LoaderOptions & { stream?: number }) {
    this.o = checkOptions(options);
    if (indices.length === 0) {
      throw new DatasetError('BAD_ARGUMENT', 'an endless loader needs at least one sample (the group is empty)');
    }
    if (this.o.dropLast && indices.length < this.o.batchSize) {
      throw new DatasetError(
        'BAD_ARGUMENT',
        `dropLast with ${indices.length} samples and batch size ${this.o.batchSize} would never yield a batch`,
      );
    }
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= source.size) {
        throw new DatasetError('BAD_ARGUMENT', `index ${i} is outside the source (size ${source.size})`);
      }
    }
    this.source = source;
    this.indices = [...indices];
    this.sampler = new EndlessSampler(this.indices, {
      batchSize: this.o.batchSize,
      seed: this.o.seed,
      stream: options.stream ?? 0,
      shuffle: this.o.shuffle,
      dropLast: this.o.dropLast,
    });
    this.iterator = this.run();
  }

  /** The order of pass `pass` (positions into `indices` mapped to source indices). */
  passOrder(pass: number): number[] {
    return this.sampler.passOrder(pass);
  }

  private async *run(): AsyncGenerator<Batch<T>> {
    const { skipCorrupt, onSkip, prefetch } = this.o;
    let pass = 0;
    let plans = this.sampler.passPlan(0);
    let pos = 0;
    const queue: Promise<Batch<T>>[] = [];
    const fill = (target: number) => {
      while (queue.length < target) {
        if (pos === plans.length) {
          pass++;
          plans = this.sampler.passPlan(pass);
          pos = 0;
        }
        const p = loadBatch(this.source, plans[pos]!, pass, pos, skipCorrupt, onSkip);
        p.catch(() => {});
        queue.push(p);
        pos++;
      }
    };
    fill(Math.max(1, prefetch));
    for (;;) {
      if (queue.length === 0) fill(1);
      const batch = await queue.shift()!;
      fill(prefetch);
      yield batch;
    }
  }

  /** The next batch (never ends). */
  async next(): Promise<Batch<T>> {
    const r = await this.iterator.next();
    return r.value as Batch<T>;
  }
}
