// The structured synthetic FairVLMed: the population against the published statistics (fairclip.md §1.5), the label
// definition, the stratified top-up's guarantee, the visibility of the label in images and notes, the bias mechanism
// (an image feature separates the labels less well for the disadvantaged group, and equally well at bias 0), the
// on-disk format read back by the dataset adapter, and the cache.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAIRVLMED_EVAL_ATTRIBUTES, FAIRVLMED_GROUPS, SeededRng } from '@fairclip/io';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { FAIRVLMED_STYLE, renderStructuredFundus } from '../src/fairvlmed/fundus.ts';
import {
  ensureStructuredFairVlmed,
  STRUCTURED_SYNTH_VERSION,
  type StructuredSynthOptions,
  structuredCacheName,
  structuredImage,
  structuredSamples,
  synthesizeStructuredFairVlmed,
} from '../src/fairvlmed/structured.ts';
import { computeStats, DatasetError, openFairVlmed } from '../src/index.ts';

const base: StructuredSynthOptions = {
  seed: 11,
  train: 0,
  val: 0,
  test: 0,
  valQuota: 0,
  testQuota: 0,
  bias: 0.5,
  imageShape: [116, 90],
  style: 'fairvlmed',
};

/** Mann–Whitney AUC (ties ½): the probability that a positive scores above a negative. */
function auc(scores: readonly number[], labels: readonly number[]): number {
  let pairs = 0;
  let wins = 0;
  scores.forEach((s, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((t, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'fairclip-structured-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('population (fairclip.md §1.5)', () => {
  const n = 40_000;
  const s = structuredSamples({ ...base, train: n });
  const share = (f: (x: (typeof s)[number]) => boolean, of: (x: (typeof s)[number]) => boolean = () => true) =>
    s.filter((x) => of(x) && f(x)).length / s.filter(of).length;
  // binomial sd of a share p over n is sqrt(p(1-p)/n) ≤ 0.0025 here; 4 sd tolerances
  test.each([
    ['race asian', (x: (typeof s)[number]) => x.attributes.race === 0, 0.0819, 0.006],
    ['race black', (x: (typeof s)[number]) => x.attributes.race === 1, 0.1491, 0.008],
    ['race white', (x: (typeof s)[number]) => x.attributes.race === 2, 0.769, 0.009],
    ['female', (x: (typeof s)[number]) => x.attributes.gender === 0, 0.563, 0.01],
    ['hispanic', (x: (typeof s)[number]) => x.attributes.ethnicity === 1, 0.04, 0.004],
    ['english', (x: (typeof s)[number]) => x.attributes.language === 0, 0.925, 0.006],
    ['spanish', (x: (typeof s)[number]) => x.attributes.language === 1, 0.017, 0.003],
    ['glaucoma', (x: (typeof s)[number]) => x.glaucoma === 1, 0.505, 0.012],
  ] as const)('%s share', (_name, f, expected, tol) => {
    expect(Math.abs(share(f) - expected)).toBeLessThan(tol);
  });
  test.each([
    [0, 0.487],
    [1, 0.649],
    [2, 0.479],
  ])('glaucoma rate of race %i is %f', (race, rate) => {
    expect(
      Math.abs(
        share(
          (x) => x.glaucoma === 1,
          (x) => x.attributes.race === race,
        ) - rate,
      ),
    ).toBeLessThan(0.03);
  });
  test('age 60.9 ± 16.2 (clipped to 18..95)', () => {
    const ages = s.map((x) => x.age);
    const mean = ages.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean - 60.9)).toBeLessThan(0.5);
    expect(Math.min(...ages)).toBeGreaterThanOrEqual(18);
    expect(Math.max(...ages)).toBeLessThanOrEqual(95);
  });
  test('label definition: glaucoma ⇔ MD < −3 dB, normal ⇔ MD ≥ −1 dB', () => {
    for (const x of s) {
      if (x.glaucoma === 1) expect(x.md).toBeLessThan(-3);
      else expect(x.md).toBeGreaterThanOrEqual(-1);
    }
  });
  test('note kinds: interpreter-mediated visits (Spanish, Other) have 0.4·bias more uninformative notes', () => {
    const unin = (lang: (l: number) => boolean) =>
      share(
        (x) => x.noteKind === 'uninformative',
        (x) => lang(x.attributes.language),
      );
    expect(Math.abs(unin((l) => l === 0) - 0.25)).toBeLessThan(0.015);
    expect(Math.abs(unin((l) => l === 1 || l === 2) - 0.45)).toBeLessThan(0.05);
  });
  test('informative notes carry the label, misleading ones the other label', () => {
    for (const x of s.slice(0, 3000)) {
      const says = /no signs of glaucoma|no glaucoma|ruled out|without glaucomatous/.test(x.summary)
        ? 0
        : / glaucoma/.test(x.summary)
          ? 1
          : null;
      if (x.noteKind === 'informative') expect(says).toBe(x.glaucoma);
      if (x.noteKind === 'uninformative') expect(/glaucoma/.test(x.summary)).toBe(false);
      if (x.noteKind === 'misleading') expect(says === x.glaucoma).toBe(false);
    }
  });
});

describe('splits', () => {
  test('deterministic in the options; another seed gives other samples', () => {
    const o = { ...base, train: 30, val: 20, test: 20, valQuota: 3, testQuota: 5 };
    expect(structuredSamples(o)).toEqual(structuredSamples(o));
    expect(structuredSamples({ ...o, seed: 12 })).not.toEqual(structuredSamples(o));
  });

  test('stratified top-up: every evaluated group has ≥ quota positives and negatives after the official filter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 6 }),
        (seed, n, quota) => {
          const s = structuredSamples({ ...base, seed, test: n, testQuota: quota });
          const used = s.filter((x) => FAIRVLMED_EVAL_ATTRIBUTES.every((a) => x.attributes[a] !== -1));
          for (const a of FAIRVLMED_EVAL_ATTRIBUTES)
            for (let g = 0; g < FAIRVLMED_GROUPS[a].length; g++)
              for (const y of [0, 1])
                expect(
                  used.filter((x) => x.attributes[a] === g && x.glaucoma === y).length,
                  `${a} ${g} ${y}`,
                ).toBeGreaterThanOrEqual(quota);
          // the natural draw comes first and is kept whole
          expect(s.filter((x) => !x.topUp)).toHaveLength(n);
          expect(s.slice(0, n).every((x) => !x.topUp)).toBe(true);
        },
      ),
      { numRuns: 15 },
    );
  });

  test('bad options are refused with a typed error', () => {
    expect(() => structuredSamples({ ...base, bias: 2 })).toThrow(DatasetError);
    expect(() => structuredSamples({ ...base, train: -1 })).toThrow(/train must be an integer/);
    expect(() => structuredSamples({ ...base, imageShape: [8, 8] })).toThrow(/imageShape/);
  });
});

describe('images', () => {
  // a fixed feature: the bright area (pixels above the 99th percentile of the field), which grows with the cup
  const brightArea = (img: Float32Array) => {
    const v = Array.from(img).filter((x) => x > 0);
    v.sort((a, b) => a - b);
    const cut = v[Math.floor(v.length * 0.97)]!;
    let sum = 0;
    for (const x of img) if (x >= cut) sum += x - cut;
    return sum;
  };
  const featureAuc = (bias: number, race: number) => {
    const o = { ...base, seed: 5, bias };
    const s = structuredSamples({ ...o, train: 700 })
      .filter((x) => x.attributes.race === race)
      .slice(0, 80);
    return auc(
      s.map((x) => brightArea(structuredImage(o, x))),
      s.map((x) => x.glaucoma),
    );
  };
  test('the label is visible (bright cup area separates glaucoma) and the bias lowers it for Black patients', () => {
    const white = featureAuc(0.5, 2);
    const black = featureAuc(0.5, 1);
    expect(white).toBeGreaterThan(0.75);
    expect(black).toBeLessThan(white);
  });
  test('pixels are integer gray levels in 0..255 and the shape is the option', () => {
    const img = renderStructuredFundus(
      new SeededRng(3),
      [64, 50],
      { cupToDisc: 0.5, notch: true },
      { contrast: 1, noiseSd: 6 },
      FAIRVLMED_STYLE,
    );
    expect(img).toHaveLength(64 * 50);
    expect(Array.from(img).every((x) => Number.isInteger(x) && x >= 0 && x <= 255)).toBe(true);
  });
});

describe('on disk', () => {
  test('the real format: the adapter reads every split back with the generated labels, attributes and notes', () => {
    const dir = tmp();
    const o = { ...base, train: 12, val: 4, test: 6, valQuota: 1, testQuota: 1 };
    const samples = synthesizeStructuredFairVlmed(dir, o);
    for (const split of ['train', 'val', 'test'] as const) {
      const opened = openFairVlmed(dir, split);
      const expected = samples.filter((x) => x.split === split);
      const byFile = new Map(expected.map((x) => [x.file, x]));
      // training keeps every sample; validation/test drop unknown race, gender, ethnicity, language (§1.4)
      const kept =
        split === 'train'
          ? expected
          : expected.filter((x) => FAIRVLMED_EVAL_ATTRIBUTES.every((a) => x.attributes[a] !== -1));
      expect(opened.records.map((r) => r.file).sort()).toEqual(kept.map((x) => x.file).sort());
      for (const r of opened.records) {
        const x = byFile.get(r.file)!;
        expect(r.glaucoma).toBe(x.glaucoma);
        expect(r.attributes).toEqual(x.attributes);
        expect(r.note).toBe(x.summary);
      }
    }
    const record = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8'));
    expect(record.versions.synth).toBe(STRUCTURED_SYNTH_VERSION);
    expect(record.parameters.raceDisadvantage).toEqual([0.5, 1, 0]);
    expect(record.counts.test.samples).toBe(samples.filter((x) => x.split === 'test').length);
    expect(computeStats(dir).splits.map((x) => x.files.n)).toEqual([
      12,
      record.counts.val.samples,
      record.counts.test.samples,
    ]);
  });

  test('the cache: generated once into a folder named by version and options, reused afterwards', () => {
    const root = tmp();
    const o = { ...base, train: 3, val: 2, test: 2 };
    const first = ensureStructuredFairVlmed(root, o);
    expect(first.generated).toBe(true);
    expect(first.dir).toBe(join(root, structuredCacheName(o)));
    expect(structuredCacheName(o)).toContain(`-v${STRUCTURED_SYNTH_VERSION}-`);
    const second = ensureStructuredFairVlmed(root, o);
    expect(second).toEqual({ dir: first.dir, generated: false, seconds: 0 });
    expect(readdirSync(root)).toEqual([structuredCacheName(o)]); // no temporary folder left
  });
});
