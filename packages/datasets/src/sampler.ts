// Index sampling, the one implementation shared by the loaders (loader.ts) and by training (@fairclip/train): the
// seeded epoch order (torch's shuffle=True), batch plans, and FairCLIP's endless per-group sampler as a resumable
// counter. Pure functions of (seed, epoch / stream, pass): no state beyond the counter.
import { mixSeed, permutation } from '@fairclip/io';

/** The sample order of epoch `epoch` over n samples: a seeded permutation (torch's DataLoader with shuffle=True). */
export function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  return permutation(n, mixSeed(seed, epoch));
}

/** Splits an order into batches of `batchSize` (the last one smaller unless dropLast drops it). */
export function batchPlan(order: ArrayLike<number>, batchSize: number, dropLast: boolean): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < order.length; s += batchSize) {
    const b = Array.from({ length: Math.min(batchSize, order.length - s) }, (_, k) => order[s + k]!);
    if (b.length < batchSize && dropLast) break;
    out.push(b);
  }
  return out;
}

/**
 * FairCLIP's endless loader over a subset (`endless_loader(DataLoader(group, shuffle=True, drop_last=False))`) as a
 * counter: batch number c is batch c mod P of pass ⌊c / P⌋ (P batches per pass), each pass a fresh seeded
 * permutation of the subset (identity when not shuffling). Resuming restores `drawn`.
 */
export class EndlessSampler {
  /** The subset (indices into the source), in the order given. */
  readonly indices: readonly number[];
  readonly batchSize: number;
  readonly seed: number;
  /** Distinguishes several samplers of one seed (one stream per group). */
  readonly stream: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** Batches drawn so far (the position to restore when resuming). */
  drawn = 0;
  private cachedPass = -1;
  private cachedPlan: number[][] = [];

  constructor(
    indices: readonly number[],
    options: { batchSize: number; seed: number; stream?: number; shuffle?: boolean; dropLast?: boolean },
  ) {
    this.indices = indices;
    this.batchSize = options.batchSize;
    this.seed = options.seed;
    this.stream = options.stream ?? 0;
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? false;
  }

  /** Batches per pass over the subset. */
  get batchesPerPass(): number {
    const n = this.indices.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The order of pass `pass`: positions into `indices` mapped to source indices. */
  passOrder(pass: number): number[] {
    const local = this.shuffle
      ? permutation(this.indices.length, mixSeed(this.seed, this.stream, pass))
      : Uint32Array.from({ length: this.indices.length }, (_, i) => i);
    return Array.from(local, (k) => this.indices[k]!);
  }

  /** The batches of pass `pass`. */
  passPlan(pass: number): number[][] {
    if (pass !== this.cachedPass) {
      this.cachedPlan = batchPlan(this.passOrder(pass), this.batchSize, this.dropLast);
      this.cachedPass = pass;
    }
    return this.cachedPlan;
  }

  /** The indices of batch number `count` (0-based) without moving the counter: [pass, position in pass, batch]. */
  peek(count: number): { pass: number; position: number; indices: number[] } {
    const per = this.batchesPerPass;
    const pass = Math.floor(count / per);
    const position = count % per;
    return { pass, position, indices: this.passPlan(pass)[position]! };
  }

  /** The sample indices of the next batch (advances the counter). */
  next(): number[] {
    const batch = this.peek(this.drawn).indices;
    this.drawn++;
    return batch;
  }
}
