// The synthetic FairFace: the study's layout read back by the adapter, the stratified validation/test guarantee, and
// images that carry the attributes (skin tone by race, hair at the sides by gender, grey hair with age).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import {
  ensureSynthFairFace,
  type FairFaceSynthOptions,
  fairfaceSynthSamples,
  renderFace,
  synthesizeFairFace,
} from '../src/fairface/synth.ts';
import { DatasetError, FAIRFACE_AGES, FAIRFACE_RACES, openFairFace } from '../src/index.ts';

const base: FairFaceSynthOptions = { seed: 3, train: 0, val: 0, valQuota: 0, bias: 0.5, imageSize: 48 };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('synthetic FairFace', () => {
  test('the study layout: train/, val/ and three label files, read back with the generated labels', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fairclip-ff-'));
    dirs.push(dir);
    const o = { ...base, train: 10, val: 6, valQuota: 1 };
    const samples = synthesizeFairFace(dir, o);
    for (const split of ['train', 'val', 'test'] as const) {
      const ds = openFairFace(dir, split);
      const expected = samples.filter((s) => s.split === (split === 'train' ? 'train' : 'val'));
      expect(ds.records.map((r) => r.file).sort()).toEqual(expected.map((s) => s.file).sort());
      const byFile = new Map(expected.map((s) => [s.file, s]));
      for (const r of ds.records) {
        const s = byFile.get(r.file)!;
        expect([r.gender, r.age, r.race]).toEqual([s.gender, s.age, s.race]);
      }
    }
    expect(readdirSync(join(dir, 'train'))).toHaveLength(10);
  });

  test('validation/test: every age and race group holds ≥ quota females and males', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 4 }),
        (seed, n, q) => {
          const val = fairfaceSynthSamples({ ...base, seed, val: n, valQuota: q }).filter((s) => s.split === 'val');
          for (const [attr, k] of [
            ['age', FAIRFACE_AGES.length],
            ['race', FAIRFACE_RACES.length],
          ] as const)
            for (let g = 0; g < k; g++)
              for (const y of [0, 1])
                expect(val.filter((s) => s[attr] === g && s.gender === y).length).toBeGreaterThanOrEqual(q);
        },
      ),
      { numRuns: 20 },
    );
  });

  test('images carry the attributes: darker faces for Black than White, more hair at the sides for females', () => {
    const o = { ...base, train: 600 };
    const s = fairfaceSynthSamples(o).filter((x) => x.age >= 3);
    const n = o.imageSize;
    const centre = (img: Uint8Array) => {
      const k = (Math.floor(n * 0.55) * n + Math.floor(n / 2)) * 3; // the cheek, below the eyes
      return img[k]! + img[k + 1]! + img[k + 2]!;
    };
    const side = (img: Uint8Array) => {
      // pixels beside the face at mouth height, as dark as hair
      let dark = 0;
      const y = Math.floor(n * 0.62);
      for (let x = 0; x < n; x++) {
        const k = (y * n + x) * 3;
        if (img[k]! + img[k + 1]! + img[k + 2]! < 150 && Math.abs(x - n / 2) > n * 0.2) dark++;
      }
      return dark;
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const skin = (race: number) => mean(s.filter((x) => x.race === race).map((x) => centre(renderFace(o, x))));
    expect(skin(2)).toBeLessThan(skin(3) - 100); // Black vs White: mean RGB sums ≈ 240 vs 604
    const hair = (gender: number) => mean(s.filter((x) => x.gender === gender).map((x) => side(renderFace(o, x))));
    expect(hair(0)).toBeGreaterThan(hair(1) + 1);
  });

  test('cache and bad options', () => {
    const root = mkdtempSync(join(tmpdir(), 'fairclip-ffc-'));
    dirs.push(root);
    const o = { ...base, train: 2, val: 2 };
    const a = ensureSynthFairFace(root, o);
    expect(a.generated).toBe(true);
    expect(ensureSynthFairFace(root, o)).toEqual({ dir: a.dir, generated: false, seconds: 0 });
    expect(() => fairfaceSynthSamples({ ...base, imageSize: 8 })).toThrow(DatasetError);
    expect(() => fairfaceSynthSamples({ ...base, bias: -1 })).toThrow(/bias must be in/);
  });
});
