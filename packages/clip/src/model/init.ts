/**
 * Seeded initial values following OpenAI's initialisation scheme (the distributions of `CLIP.initialize_parameters`
 * and torch's defaults; not PyTorch's random stream, so the numbers differ from a torch model with the same seed).
 */
import type { InitSpec } from './spec.ts';

/** splitmix32-seeded xorshift128+ style generator returning uniforms in (0, 1). */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  /** sfc32: a small, fast generator with a 128-bit state. */
  uniform(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return ((t >>> 0) + 0.5) / 4294967296;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export function initialValues(init: InitSpec, size: number, rng: SeededRandom): Float32Array {
  const out = new Float32Array(size);
  switch (init.kind) {
    case 'const':
      out.fill(init.value);
      break;
    case 'normal':
      for (let i = 0; i < size; i++) out[i] = rng.normal() * init.std;
      break;
    case 'uniform':
    case 'xavier':
      for (let i = 0; i < size; i++) out[i] = (2 * rng.uniform() - 1) * init.bound;
      break;
  }
  return out;
}
