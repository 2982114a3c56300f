// The image path of a run: the preprocessed-image cache (caps, shared in-flight work, never a stale entry), the
// worker pool (same bytes as the in-thread path, typed errors from the in-thread loader, no hanging workers) and
// the read-ahead (the run's order, a bounded window). References: the in-thread pipeline (@fairclip/clip's
// preprocessing, checked against PIL's golden outputs in packages/clip) on the very same files.
import { cpSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { preprocessGrayFloat } from '@fairclip/clip';
import { DatasetError, epochOrder, openFairVlmed } from '@fairclip/datasets';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { fileCacheKey, ImageCache, openRunData, ReadAhead, type SplitName } from '../src/data.ts';
import { ImagePool, preprocessFairVlmedImage, runImageJob } from '../src/image-pool.ts';
import { resolvePresetConfig } from '../src/presets.ts';
import { FAIRVLMED_MINI, TINY_MODEL, tempDir } from './helpers/runs.ts';

const R = 32;
const cfg = (overrides: string[] = []) =>
  resolvePresetConfig('clip-finetune', [TINY_MODEL, 'training.epochs=2', 'training.batchSize=4', ...overrides]);

/** The reference: the dataset's own loader and @fairclip/clip's pipeline, in this thread. */
async function reference(root: string, split: 'train' | 'val' | 'test', i: number, size = R): Promise<Float32Array> {
  const s = await openFairVlmed(root, split).load(i);
  return preprocessGrayFloat(
    { data: s.image.data, height: s.image.shape[0], width: s.image.shape[1] },
    { size, resize: 'shorter-side' },
  );
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('ImageCache', () => {
  const img = (n: number, v: number) => new Float32Array(n).fill(v);

  test('shares one computation between concurrent callers and does not keep failures', async () => {
    const cache = new ImageCache();
    let calls = 0;
    const make = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return img(4, 1);
    };
    const [a, b] = await Promise.all([cache.get('k', make), cache.get('k', make)]);
    expect(calls).toBe(1);
    expect(a).toBe(b);
    await expect(cache.get('bad', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(cache.has('bad')).toBe(false);
    expect(await cache.get('bad', async () => img(2, 3))).toEqual(img(2, 3));
  });

  test('keeps at most maxBytes, dropping the least recently used entries', async () => {
    const cache = new ImageCache({ maxBytes: 3 * 16 });
    for (const k of ['a', 'b', 'c']) await cache.get(k, async () => img(4, 0));
    await cache.get('a', async () => img(4, 9)); // a hit: 'a' becomes the most recent
    await cache.get('d', async () => img(4, 0));
    expect(cache.bytes).toBe(48);
    expect([cache.has('a'), cache.has('b'), cache.has('c'), cache.has('d')]).toEqual([true, false, true, true]);
    // An entry larger than the cap is returned but not kept.
    const big = await cache.get('big', async () => img(100, 1));
    expect(big.length).toBe(100);
    expect(cache.has('big')).toBe(false);
    expect(() => new ImageCache({ maxBytes: -1 })).toThrow(RangeError);
    const byCount = new ImageCache(2);
    for (const k of ['a', 'b', 'c']) await byCount.get(k, async () => img(1, 0));
    expect(byCount.size).toBe(2);
  });

  test('a rewritten file is a new key, even with its size and modification time put back', () => {
    const dir = tempDir('fc-cache-key-');
    const f = join(dir, 'x.npz');
    writeFileSync(f, 'aaaa');
    const before = fileCacheKey(f);
    const t = new Date('2020-01-01T00:00:00Z');
    utimesSync(f, t, t);
    const stamped = fileCacheKey(f);
    writeFileSync(f, 'bbbb');
    utimesSync(f, t, t);
    expect(fileCacheKey(f)).not.toBe(stamped);
    expect(before).not.toBeNull();
    expect(fileCacheKey(join(dir, 'missing.npz'))).toBeNull();
  });
});

describe('openRunData: cached, worker-made images equal the in-thread pipeline', () => {
  test('every image of fairvlmed-mini made by a worker thread equals the in-thread pipeline, byte for byte', async () => {
    const pool = new ImagePool(1);
    try {
      for (const split of ['train', 'val', 'test'] as const) {
        const ds = openFairVlmed(FAIRVLMED_MINI, split);
        const made = ds.records.map((r) =>
          pool.submit(
            {
              kind: 'fairvlmed',
              path: r.path,
              maxSampleBytes: ds.maxSampleBytes,
              resolution: R,
              resize: 'shorter-side',
            },
            // Read-ahead tasks never run in this thread unless a worker fails: then this would fail the test.
            () => Promise.reject(new Error('ran in the main thread')),
            false,
          ),
        );
        for (const [i, t] of made.entries())
          expect(bytesOf(await t.promise), `${split} ${i}`).toEqual(bytesOf(await reference(FAIRVLMED_MINI, split, i)));
      }
      expect(pool.counts.worker).toBe(48 + 15 + 27);
    } finally {
      await pool.close();
    }
  });

  test('openRunData with a pool (read-ahead, awaited images shared with this thread) equals it without', async () => {
    const pool = new ImagePool(1);
    try {
      const viaPool = openRunData(cfg(), FAIRVLMED_MINI, { resolution: R, workers: pool });
      const inThread = openRunData(cfg(), FAIRVLMED_MINI, { resolution: R, workers: 0 });
      for (const split of ['train', 'val', 'test'] as const) {
        const a = viaPool[split];
        const got = await Promise.all(Array.from({ length: a.size }, (_, i) => a.image(i)));
        for (let i = 0; i < a.size; i++)
          expect(bytesOf(got[i]!), `${split} ${i}`).toEqual(bytesOf(await inThread[split].image(i)));
      }
      const sq = await viaPool.val.image(3, 'square');
      expect(bytesOf(sq)).toEqual(bytesOf(await inThread.val.image(3, 'square')));
    } finally {
      await pool.close();
    }
  });

  test('a worker job is the same function as the in-thread one (runImageJob)', async () => {
    const ds = openFairVlmed(FAIRVLMED_MINI, 'test');
    const job = { kind: 'fairvlmed' as const, path: ds.records[5]!.path, maxSampleBytes: ds.maxSampleBytes };
    for (const resize of ['shorter-side', 'square'] as const) {
      const s = await ds.load(5);
      const want = preprocessFairVlmedImage(s.image.data, s.image.shape[0], s.image.shape[1], 48, resize);
      expect(bytesOf(await runImageJob({ ...job, resolution: 48, resize }))).toEqual(bytesOf(want));
    }
  });

  test('a file rewritten between two reads is read again (never a stale image)', async () => {
    const root = tempDir('fc-stale-');
    cpSync(FAIRVLMED_MINI, root, { recursive: true });
    const cache = new ImageCache();
    const open = () => openRunData(cfg(), root, { resolution: R, cache, workers: 0 });
    const first = await open().val.image(0);
    const file = open().val.samples[0]!.file;
    const other = open().val.samples[1]!.file;
    const st = readFileSync(file);
    const t = new Date('2021-06-01T00:00:00Z');
    writeFileSync(file, readFileSync(other));
    utimesSync(file, t, t);
    const second = await open().val.image(0);
    expect(bytesOf(second)).toEqual(bytesOf(await reference(root, 'val', 1)));
    expect(bytesOf(second)).not.toEqual(bytesOf(first));
    writeFileSync(file, st);
    utimesSync(file, t, t);
    expect(bytesOf(await open().val.image(0))).toEqual(bytesOf(first));
    expect(cache.misses).toBe(3);
  });

  test('a damaged file fails with the in-thread loader’s typed error, with or without workers', async () => {
    const root = tempDir('fc-damaged-');
    cpSync(FAIRVLMED_MINI, root, { recursive: true });
    const pool = new ImagePool(1);
    try {
      // Both opened before the damage (opening reads every file's labels).
      const withPool = openRunData(cfg(), root, { resolution: R, workers: pool });
      const without = openRunData(cfg(), root, { resolution: R, workers: 0 });
      const file = withPool.test.samples[2]!.file;
      const bytes = readFileSync(file);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const errorOf = async (p: Promise<unknown>) =>
        p.then(
          () => null,
          (e: unknown) => e,
        );
      const a = await errorOf(withPool.test.image(2));
      const b = await errorOf(without.test.image(2));
      expect(a).toBeInstanceOf(DatasetError);
      expect((a as DatasetError).code).toBe((b as DatasetError).code);
      expect((a as Error).message).toBe((b as Error).message);
      // The other images still come (the pool survived).
      expect(bytesOf(await withPool.test.image(3))).toEqual(bytesOf(await without.test.image(3)));
    } finally {
      await pool.close();
    }
  });
});

describe('ImagePool life cycle', () => {
  test('closing with work queued neither hangs nor loses a task; idle workers stop', async () => {
    const ds = openFairVlmed(FAIRVLMED_MINI, 'train');
    const pool = new ImagePool(2, { idleMs: 50 });
    const jobs = ds.records.slice(0, 6).map((r, i) => ({
      ticket: pool.submit(
        { kind: 'fairvlmed', path: r.path, maxSampleBytes: ds.maxSampleBytes, resolution: R, resize: 'shorter-side' },
        () => reference(FAIRVLMED_MINI, 'train', i),
        false,
      ),
      i,
    }));
    await pool.close();
    const got = await Promise.all(jobs.map((j) => j.ticket.promise));
    for (const [k, g] of got.entries())
      expect(bytesOf(g)).toEqual(bytesOf(await reference(FAIRVLMED_MINI, 'train', k)));
    const deadline = Date.now() + 15_000;
    while (pool.workers > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pool.workers).toBe(0);
  });

  test("a job that fails in a worker is answered by the caller's own loader", async () => {
    const pool = new ImagePool(1);
    // A job a worker cannot run (no such file): the caller's own loader answers, in this thread.
    const t = pool.submit(
      { kind: 'fairvlmed', path: '/nonexistent/x.npz', maxSampleBytes: 1, resolution: R, resize: 'shorter-side' },
      async () => new Float32Array([7]),
      true,
    );
    expect(Array.from(await t.promise)).toEqual([7]);
    await pool.close();
  });
});

describe('read-ahead', () => {
  test('never runs more than `window` positions past the furthest one asked for', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 30 }),
        (length, window, asks) => {
          const fetched: number[] = [];
          const ra = new ReadAhead(
            (p) => (p < length ? { split: 'train' as SplitName, index: p, resize: 'shorter-side' } : undefined),
            window,
            (_s, i) => fetched.push(i),
          );
          // The model: an ask moves the furthest position only if it was already handed out (before the ask).
          let furthest = -1;
          let handedOut = 0;
          for (const a of asks) {
            ra.touch('train', a, 'shorter-side');
            if (a < handedOut && a > furthest) furthest = a;
            handedOut = Math.min(length, furthest + 1 + window);
            expect(ra.ahead).toBe(handedOut);
          }
          expect(fetched).toEqual(Array.from({ length: ra.ahead }, (_, i) => i));
        },
      ),
    );
  });

  test("follows fine-tuning's order: epoch 0's sampler order, then validation and test", async () => {
    const fetched: string[] = [];
    const c = cfg();
    const pool = new ImagePool(1);
    try {
      const data = openRunData(c, FAIRVLMED_MINI, { resolution: R, workers: pool, cache: new ImageCache() });
      const spy = pool.submit.bind(pool);
      pool.submit = (job, local, demanded) => {
        if (!demanded) fetched.push(job.path);
        return spy(job, local, demanded);
      };
      const order = epochOrder(data.train.size, c.training.seed, 0);
      await data.train.image(order[0]!);
      const expected = [
        ...Array.from(order, (i) => data.train.samples[i]!.file),
        ...data.val.samples.map((s) => s.file),
        ...data.test.samples.map((s) => s.file),
      ];
      // The whole run in order, each file once (the second epoch finds them cached).
      expect(fetched).toEqual(expected);
    } finally {
      await pool.close();
    }
  });
});
