/**
 * Seeded pseudo-random numbers for the bootstrap: xoshiro128** (Blackman & Vigna), its 128-bit state filled from
 * the seed by splitmix32. Same seed, same stream, on every platform (pure 32-bit integer arithmetic).
 */
import { FairnessInputError } from './errors.ts';

export interface Rng {
  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform integer in [0, n), n in [1, 2^32], without modulo bias (rejection sampling). */
  nextInt(n: number): number;
  /** Uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export function createRng(seed: number): Rng {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new FairnessInputError('INVALID_OPTION', `seed must be a safe integer, got ${String(seed)}`);
  }
  // splitmix32 over both 32-bit halves of the seed.
  let sm = (seed >>> 0) ^ Math.imul(Math.floor(seed / 0x100000000) | 0, 0x9e3779b9);
  const next = (): number => {
    sm = (sm + 0x9e3779b9) | 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = next();
  let s1 = next();
  let s2 = next();
  let s3 = next();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  };
  return {
    nextUint32,
    nextInt(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > 0x100000000) {
        throw new FairnessInputError('INVALID_OPTION', `nextInt: n must be an integer in [1, 2^32], got ${n}`);
      }
      const limit = Math.floor(0x100000000 / n) * n;
      let x = nextUint32();
      while (x >= limit) x = nextUint32();
      return x % n;
    },
    nextFloat: () => nextUint32() / 0x100000000,
  };
}
