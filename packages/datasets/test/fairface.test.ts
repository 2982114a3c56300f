// FairFace against PIL-made JPEGs and the study's fairface_dataset logic
// (test-fixtures/generators/datasets_fairface_fixture.py), and its bad-input cases.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath, readFixtureJson } from '@fairclip/test-fixtures';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeJpeg } from '../src/fairface/dataset.ts';
import { DatasetError, FAIRFACE_PROMPTS, fairfaceCaption, openFairFace } from '../src/index.ts';

interface Expected {
  file: string;
  gender: number;
  age: number;
  race: number;
  caption: string;
  shape: [number, number, 3];
  chroma: string;
  pixels: number[];
}
const fx = readFixtureJson<{ expected: Record<'train' | 'val', { limit: number | null; samples: Expected[] }> }>(
  'fairface-mini/expected.json',
);
const root = fixturePath('fairface-mini');
const tmp = mkdtempSync(join(tmpdir(), 'fairface-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * jpeg-js and PIL (libjpeg) differ in IDCT and YCbCr->RGB rounding (a few levels), and upsample 4:2:0 chroma
 * differently (replication vs libjpeg's triangular "fancy" filter). Bounds per chroma layout, measured on the
 * fixture: max |diff| 1 / 3 / 9, mean 0.07 / 0.57 / 1.80 (gray / 4:4:4 / 4:2:0).
 */
const TOLERANCE: Record<string, { max: number; mean: number }> = {
  gray: { max: 1, mean: 0.1 },
  '4:4:4': { max: 3, mean: 0.7 },
  '4:2:0': { max: 12, mean: 2.5 },
};

describe('against the study logic and PIL decoding', () => {
  test.each(['train', 'val'] as const)('%s', async (split) => {
    const want = fx.expected[split];
    const ds = openFairFace(root, split, want.limit === null ? {} : { limit: want.limit });
    expect(ds.records.map((r) => r.file)).toEqual(want.samples.map((s) => s.file));
    expect(new Set(want.samples.map((s) => s.chroma))).toContain('4:4:4');
    for (let i = 0; i < ds.size; i++) {
      const r = ds.records[i]!;
      const e = want.samples[i]!;
      expect([r.gender, r.age, r.race], r.file).toEqual([e.gender, e.age, e.race]);
      expect(r.caption).toBe(e.caption);
      const s = await ds.load(i);
      expect(s.image.shape).toEqual(e.shape);
      let sum = 0;
      let maxDiff = 0;
      for (let k = 0; k < e.pixels.length; k++) {
        const d = Math.abs(s.image.data[k]! - e.pixels[k]!);
        sum += d;
        maxDiff = Math.max(maxDiff, d);
      }
      const tol = TOLERANCE[e.chroma]!;
      expect(sum / e.pixels.length, `${r.file} mean |diff|`).toBeLessThan(tol.mean);
      expect(maxDiff, `${r.file} max |diff|`).toBeLessThanOrEqual(tol.max);
    }
  });

  test('the first files are taken in natural order (10 before 2 would be lexicographic)', () => {
    const files = openFairFace(root, 'train', { limit: 10 }).records.map((r) => r.file);
    expect(files).toEqual(Array.from({ length: 10 }, (_, i) => `train/${i + 1}.jpg`));
  });

  test('caption template and prompts of the study', () => {
    expect(fairfaceCaption('20-29', 'White', 'Male')).toBe(
      'Image of a person that is 20-29 years old, and their race is: WhiteThey are Male',
    );
    expect(FAIRFACE_PROMPTS).toEqual(['A picture of a female person', 'A picture of a male person']);
  });

  test('group loaders yield only their group', async () => {
    const ds = openFairFace(root, 'train');
    const loaders = ds.groupLoaders('race', { batchSize: 2, shuffle: true, seed: 1 });
    expect(loaders.length).toBe(7);
    for (const [g, l] of loaders.entries()) {
      if (!l) {
        expect(ds.groupIndices('race', g)).toEqual([]);
        continue;
      }
      for (let k = 0; k < 3; k++) for (const s of (await l.next()).items) expect(s.race).toBe(g);
    }
  });
});

describe('bad input', () => {
  function copy(name: string): string {
    const dir = join(tmp, name);
    cpSync(root, dir, { recursive: true });
    return dir;
  }

  test('a missing folder or label file', () => {
    expect(() => openFairFace(join(tmp, 'none'), 'train')).toThrow(/NOT_FOUND/);
    const e = (() => {
      try {
        openFairFace(root, 'test');
      } catch (err) {
        return err as DatasetError;
      }
    })();
    expect(e?.code).toBe('NOT_FOUND');
    expect(e?.file).toBe(join(root, 'fairface_label_test.csv'));
  });

  test('a label CSV missing a column', () => {
    const dir = copy('nocol');
    const p = join(dir, 'fairface_label_val.csv');
    writeFileSync(
      p,
      readFileSync(p, 'utf8').replace('file,age,gender,race,service_test', 'file,age,sex,race,service_test'),
    );
    expect(() => openFairFace(dir, 'val')).toThrow(/CSV_MISSING_COLUMN.*'gender'/);
  });

  test('an unknown attribute value names line and column; skipCorrupt skips the sample', () => {
    const dir = copy('badvalue');
    const p = join(dir, 'fairface_label_val.csv');
    const lines = readFileSync(p, 'utf8').split('\n');
    lines[2] = lines[2]!.replace(/,(Male|Female),/, ',Robot,');
    writeFileSync(p, lines.join('\n'));
    expect(() => openFairFace(dir, 'val')).toThrow(/UNKNOWN_ATTRIBUTE_VALUE.*line 3, column 'gender'.*"Robot"/);
    const skipped: string[] = [];
    const ds = openFairFace(dir, 'val', { skipCorrupt: true, onSkip: (s) => skipped.push(s.error.code) });
    expect(skipped).toEqual(['UNKNOWN_ATTRIBUTE_VALUE']);
    expect(ds.size).toBe(fx.expected.val.samples.length - 1);
  });

  test('an image without a label row', () => {
    const dir = copy('nolabel');
    writeFileSync(join(dir, 'val', '99.jpg'), readFileSync(join(dir, 'val', '1.jpg')));
    expect(() => openFairFace(dir, 'val')).toThrow(/MISSING_LABEL.*val\/99\.jpg/);
  });

  test('a corrupt JPEG is an IMAGE_DECODE error naming the file', async () => {
    const dir = copy('badjpeg');
    const p = join(dir, 'val', '2.jpg');
    writeFileSync(p, readFileSync(p).subarray(0, 40));
    const ds = openFairFace(dir, 'val');
    await expect(ds.load(1)).rejects.toThrow(/IMAGE_DECODE.*2\.jpg/);
    expect(() => decodeJpeg(new Uint8Array([1, 2, 3]), 'x.jpg')).toThrow(DatasetError);
    const seen: string[] = [];
    for await (const b of openFairFace(dir, 'val', { skipCorrupt: true }).loader({ batchSize: 4 }).epoch(0)) {
      seen.push(...b.items.map((s) => s.file));
    }
    expect(seen).not.toContain('val/2.jpg');
    expect(seen.length).toBe(fx.expected.val.samples.length - 1);
  });

  test('the decoder refuses images beyond its resolution limit (no unbounded allocation)', () => {
    const bytes = new Uint8Array(readFileSync(join(root, 'val', '1.jpg')));
    expect(() => decodeJpeg(bytes, '1.jpg', { maxResolutionInMP: 0.0001 })).toThrow(/IMAGE_DECODE/);
  });
});
