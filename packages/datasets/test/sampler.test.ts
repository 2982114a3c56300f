// The index sampler shared by the loaders and training: laws of the epoch order, batch plans and the endless sampler.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchPlan, EndlessSampler, epochOrder } from '../src/index.ts';

describe('epochOrder / batchPlan', () => {
  it('an epoch order is a permutation that changes with the epoch; plans cover it in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        (n, seed, bs, dropLast) => {
          const o = epochOrder(n, seed, 0);
          expect([...o].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
          const plan = batchPlan(o, bs, dropLast);
          expect(plan.length).toBe(dropLast ? Math.floor(n / bs) : Math.ceil(n / bs));
          expect(plan.flat()).toEqual([...o].slice(0, plan.length * bs));
          for (const b of plan.slice(0, -1)) expect(b.length).toBe(bs);
        },
      ),
    );
    expect(Array.from(epochOrder(50, 3, 0))).not.toEqual(Array.from(epochOrder(50, 3, 1)));
  });
});

describe('EndlessSampler', () => {
  it('draws pass after pass, each a shuffled cover of the subset; resuming at any count continues identically', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 20 }),
        (indices, bs, seed, cut) => {
          const a = new EndlessSampler(indices, { batchSize: bs, seed, stream: 5 });
          const per = Math.ceil(indices.length / bs);
          const draws = Array.from({ length: 3 * per }, () => a.next());
          for (let p = 0; p < 3; p++) {
            const pass = draws.slice(p * per, (p + 1) * per).flat();
            expect([...pass].sort((x, y) => x - y)).toEqual([...indices].sort((x, y) => x - y));
            expect(pass).toEqual(a.passOrder(p));
          }
          const b = new EndlessSampler(indices, { batchSize: bs, seed, stream: 5 });
          b.drawn = Math.min(cut, draws.length - 1);
          expect(b.next()).toEqual(draws[b.drawn - 1]);
        },
      ),
    );
  });

  it('does not shuffle when asked not to, and dropLast drops the partial batch of every pass', () => {
    const s = new EndlessSampler([7, 8, 9, 10, 11], { batchSize: 2, seed: 1, shuffle: false, dropLast: true });
    expect(s.batchesPerPass).toBe(2);
    expect([s.next(), s.next(), s.next()]).toEqual([
      [7, 8],
      [9, 10],
      [7, 8],
    ]);
  });
});
