// Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna), its 128-bit state filled from the seed by
// splitmix32, and Fisher-Yates permutations. Pure 32-bit integer arithmetic: the same seed gives the same stream on
// every platform. The one generator of the workspace: data order and synthetic data (datasets), the linear probe's
// initialisation (train) and the bootstrap (fairness) all draw from it.
import { IoError } from './errors.ts';

const GOLDEN = 0x9e3779b9;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + GOLDEN) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes integers (seed, epoch, stream ids...) into one unsigned 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  const st = { s: 0x243f6a88 };
  let h = 0;
  for (const p of parts) {
    if (!Number.isSafeInteger(p)) throw new IoError('BAD_ARGUMENT', `seed parts must be safe integers, got ${p}`);
    st.s ^= (p >>> 0) ^ Math.floor(p / 0x1_0000_0000);
    h = splitmix32(st) ^ Math.imul(h, 31);
  }
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * xoshiro128** seeded by splitmix32. Any safe integer is a seed and the whole of it counts (its high 32 bits too);
 * a seed in [0, 2^32) — every {@link mixSeed} result — starts splitmix32 at the seed itself.
 */
export class SeededRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new IoError('BAD_ARGUMENT', `seed must be a safe integer, got ${String(seed)}`);
    }
    // splitmix32 over both 32-bit halves of the seed.
    const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 0x1_0000_0000) | 0, GOLDEN) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (two draws). */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), 1 <= n <= 2^32, without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!(n >= 1 && n <= 0x1_0000_0000 && Number.isInteger(n))) {
      throw new IoError('BAD_ARGUMENT', `nextInt(n) needs an integer 1 <= n <= 2^32, got ${n}`);
    }
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (Box-Muller, one value per two uniforms). */
  nextNormal(): number {
    let u = 0;
    while (u === 0) u = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.nextFloat());
  }
}

/** A seeded random permutation of 0..n-1 (Fisher-Yates over a {@link SeededRng}). */
export function permutation(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const rng = new SeededRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
