// Laws of the loaders over an in-memory source: every sample exactly once per epoch, seeded orders, bounded
// read-ahead, skipping, and endless group loaders that only yield their group.

import { mixSeed, permutation } from '@fairclip/io';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DataLoader, DatasetError, EndlessLoader, type SampleSource } from '../src/index.ts';

class MemorySource implements SampleSource<number> {
  started = 0;
  constructor(
    readonly size: number,
    readonly bad: ReadonlySet<number> = new Set(),
  ) {}
  async load(i: number): Promise<number> {
    this.started++;
    await new Promise((r) => setTimeout(r, 0));
    if (this.bad.has(i)) throw new DatasetError('ZIP_CORRUPT', `sample ${i} is damaged`, { file: `f${i}` });
    return i * 10;
  }
}

async function collect(loader: DataLoader<number>, epoch: number) {
  const batches = [];
  for await (const b of loader.epoch(epoch)) batches.push(b);
  return batches;
}

const settings = fc.record({
  n: fc.integer({ min: 0, max: 60 }),
  batchSize: fc.integer({ min: 1, max: 17 }),
  seed: fc.integer({ min: -1000, max: 1000 }),
  epoch: fc.nat(50),
  shuffle: fc.boolean(),
  prefetch: fc.integer({ min: 0, max: 4 }),
});

describe('DataLoader laws', () => {
  test('every sample exactly once per epoch, any batch size and seed; batches are full except the last', async () => {
    await fc.assert(
      fc.asyncProperty(settings, async ({ n, batchSize, seed, epoch, shuffle, prefetch }) => {
        const loader = new DataLoader(new MemorySource(n), { batchSize, seed, shuffle, prefetch });
        const batches = await collect(loader, epoch);
        const seen = batches.flatMap((b) => b.indices);
        expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(batches.length).toBe(loader.length);
        batches.forEach((b, k) => {
          expect(b.index).toBe(k);
          expect(b.epoch).toBe(epoch);
          expect(b.items).toEqual(b.indices.map((i) => i * 10));
          if (k < batches.length - 1) expect(b.indices.length).toBe(batchSize);
        });
        if (!shuffle) expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
      { numRuns: 60 },
    );
  });

  test('dropLast drops only the short last batch', async () => {
    await fc.assert(
      fc.asyncProperty(settings, async ({ n, batchSize, seed, epoch }) => {
        const loader = new DataLoader(new MemorySource(n), { batchSize, seed, shuffle: true, dropLast: true });
        const batches = await collect(loader, epoch);
        expect(batches.length).toBe(Math.floor(n / batchSize));
        const seen = batches.flatMap((b) => b.indices);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen).toEqual(Array.from(loader.order(epoch)).slice(0, seen.length));
      }),
      { numRuns: 40 },
    );
  });

  test('the order is a function of (seed, epoch)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer(), fc.nat(100), (n, seed, epoch) => {
        const a = new DataLoader(new MemorySource(n), { batchSize: 3, shuffle: true, seed }).order(epoch);
        const b = new DataLoader(new MemorySource(n), { batchSize: 5, shuffle: true, seed }).order(epoch);
        expect(Array.from(a)).toEqual(Array.from(b));
        expect(Array.from(a)).toEqual(Array.from(permutation(n, mixSeed(seed, epoch))));
      }),
    );
  });

  test('read-ahead is bounded: at most prefetch batches beyond the one being consumed', async () => {
    await fc.assert(
      fc.asyncProperty(settings, async ({ n, batchSize, prefetch }) => {
        const src = new MemorySource(n);
        const loader = new DataLoader(src, { batchSize, prefetch });
        let consumed = 0;
        for await (const b of loader.epoch(0)) {
          consumed += b.indices.length;
          expect(src.started).toBeLessThanOrEqual(consumed + Math.max(1, prefetch) * batchSize);
          // Let the background loads run, then check again.
          await new Promise((r) => setTimeout(r, 2));
          expect(src.started).toBeLessThanOrEqual(consumed + prefetch * batchSize);
        }
        expect(src.started).toBe(n);
      }),
      { numRuns: 40 },
    );
  });

  test('read-ahead happens while the consumer works', async () => {
    const src = new MemorySource(40);
    const loader = new DataLoader(src, { batchSize: 4, prefetch: 3 });
    const it = loader.epoch(0);
    await it.next();
    await new Promise((r) => setTimeout(r, 5));
    expect(src.started).toBe(4 + 3 * 4);
    await it.return(undefined);
  });

  test('skipCorrupt reports and skips damaged samples; every other sample still comes exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        settings,
        fc.uniqueArray(fc.nat(59), { maxLength: 10 }),
        async ({ n, batchSize, seed, shuffle }, badList) => {
          const bad = new Set(badList.filter((i) => i < n));
          const skipped: number[] = [];
          const loader = new DataLoader(new MemorySource(n, bad), {
            batchSize,
            seed,
            shuffle,
            skipCorrupt: true,
            onSkip: (s) => skipped.push(s.index),
          });
          const seen = (await collect(loader, 0)).flatMap((b) => b.indices);
          expect([...seen].sort((a, b) => a - b)).toEqual(
            Array.from({ length: n }, (_, i) => i).filter((i) => !bad.has(i)),
          );
          expect([...skipped].sort((a, b) => a - b)).toEqual([...bad].sort((a, b) => a - b));
        },
      ),
      { numRuns: 40 },
    );
  });

  test('without skipCorrupt a damaged sample fails the epoch with its error', async () => {
    const loader = new DataLoader(new MemorySource(10, new Set([7])), { batchSize: 3 });
    await expect(collect(loader, 0)).rejects.toThrow(/sample 7 is damaged/);
  });

  test('bad options are typed errors', () => {
    const s = new MemorySource(3);
    expect(() => new DataLoader(s, { batchSize: 0 })).toThrow(DatasetError);
    expect(() => new DataLoader(s, { batchSize: 1.5 })).toThrow(/batchSize/);
    expect(() => new DataLoader(s, { batchSize: 1, prefetch: -1 })).toThrow(/prefetch/);
    expect(() => new EndlessLoader(s, [], { batchSize: 1 })).toThrow(/empty/);
    expect(() => new EndlessLoader(s, [3], { batchSize: 1 })).toThrow(/outside/);
  });
});

describe('EndlessLoader laws (group batches)', () => {
  test('only the group is yielded; each pass is a fresh seeded permutation of it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer(),
        fc.integer({ min: 0, max: 3 }),
        async (n, batchSize, seed, prefetch) => {
          const src = new MemorySource(100);
          const group = Array.from({ length: n }, (_, i) => 2 * i + 1);
          const loader = new EndlessLoader(src, group, { batchSize, seed, shuffle: true, prefetch, stream: 5 });
          const perPass = Math.ceil(n / batchSize);
          const passes: number[][] = [[], [], []];
          for (let k = 0; k < 3 * perPass; k++) {
            const b = await loader.next();
            expect(b.epoch).toBe(Math.floor(k / perPass));
            for (const i of b.indices) expect(group).toContain(i);
            passes[b.epoch]!.push(...b.indices);
          }
          passes.forEach((p, pass) => {
            expect([...p].sort((a, b) => a - b)).toEqual(group);
            expect(p).toEqual(loader.passOrder(pass));
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});
