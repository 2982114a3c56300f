// The linear probe's data pipeline as the official mae/main_linprobe.py builds it, against
// test-fixtures/generators/train_linear_probe_augment.py (PIL + torch): the 8-bit conversion first, the evaluation
// Resize((n, n)), the training crop/flip geometry for fixed boxes, BLIP's caption processor + truncate_note(170);
// the seeded crop sampler's laws (torchvision's RandomResizedCrop.get_params); per-epoch features; group captions.

import { type ImageU8, preprocessRgb } from '@fairclip/clip';
import { initCompute } from '@fairclip/compute';
import { readFixtureJson } from '@fairclip/test-fixtures';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { applyAugmentation, grayFloatToU8, ImageCache, noteCaption, openRunData } from '../src/data.ts';
import {
  augmentationFor,
  blipPreCaption,
  LinearProbeHead,
  randomResizedCropBox,
  trainLinearProbe,
} from '../src/linear-probe.ts';
import { resolvePresetConfig } from '../src/presets.ts';
import { FAIRVLMED_MINI, TINY_MODEL } from './helpers/runs.ts';

interface Fixture {
  size: number;
  gray: { height: number; width: number; data: number[] };
  rgb: { height: number; width: number; data: number[] };
  cases: {
    image: 'gray' | 'rgb';
    transform: 'eval' | 'train';
    box?: [number, number, number, number];
    flip?: boolean;
    expected: number[];
  }[];
  captions: { note: string; pre_caption: string; caption: string }[];
}
const fx = readFixtureJson<Fixture>('train/linear_probe_augment.json');

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
});

describe('images against PIL (torchvision on PIL images)', () => {
  const images: Record<'gray' | 'rgb', ImageU8> = {
    gray: grayFloatToU8(Float32Array.from(fx.gray.data), fx.gray.height, fx.gray.width),
    rgb: { data: Uint8Array.from(fx.rgb.data), height: fx.rgb.height, width: fx.rgb.width, channels: 3 },
  };
  test.each(fx.cases.map((c, k) => [`${c.image} ${c.transform} ${c.box?.join(',') ?? ''}${c.flip ? ' flip' : ''}`, k]))(
    '%s',
    (_name, k) => {
      const c = fx.cases[k as number]!;
      const img = images[c.image];
      const got =
        c.transform === 'eval'
          ? preprocessRgb(img, { size: fx.size, resize: 'square' })
          : applyAugmentation(
              img,
              { top: c.box![0], left: c.box![1], height: c.box![2], width: c.box![3], flip: c.flip! },
              fx.size,
            );
      expect(got.length).toBe(c.expected.length);
      // PIL's 8-bit resampling is reproduced bit-exactly, so the normalised floats agree to float32 rounding.
      c.expected.forEach((w, i) => expect(Math.abs(got[i]! - w), `value ${i}`).toBeLessThan(1e-6));
    },
  );
});

describe('captions: BLIP caption processor + truncate_note(170)', () => {
  const cfg = resolvePresetConfig('linear-probe', ['linearProbe.features=multimodal']);
  test.each(fx.captions.map((c, k) => [k, c] as const))('case %i', (_k, c) => {
    expect(blipPreCaption(c.note)).toBe(c.pre_caption);
    expect(noteCaption(cfg, c.note)).toBe(c.caption);
  });
  test("the probe's text cut is 170 characters; fine-tuning keeps the notes' own processing", () => {
    expect(cfg.data.summaryMaxChars).toBe(170);
    const ft = resolvePresetConfig('clip-finetune');
    expect(noteCaption(ft, 'A Note: with CAPS.')).toBe('A Note: with CAPS.');
  });
});

describe("the crop sampler follows torchvision's RandomResizedCrop.get_params", () => {
  test('boxes lie inside the image, area fraction in [0.5, 1] and aspect in [3/4, 4/3] up to rounding', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 700 }),
        fc.integer({ min: 8, max: 700 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.nat(1000),
        (h, w, seed, index) => {
          const b = augmentationFor(seed, 3, index, h, w);
          expect(b.top >= 0 && b.left >= 0 && b.top + b.height <= h && b.left + b.width <= w).toBe(true);
          const aspect = w / h;
          if (aspect >= 3 / 4 && aspect <= 4 / 3 && b.height < h) {
            // accepted draws (or the in-range fallback, the whole image): area and aspect within rounding
            expect(b.height * b.width).toBeGreaterThanOrEqual(0.5 * h * w - (b.height + b.width + 1));
            expect(b.width / b.height).toBeLessThanOrEqual((4 / 3) * (1 + 1 / b.height) + 1 / b.height);
            expect(b.width / b.height).toBeGreaterThanOrEqual((3 / 4) * (1 - 1 / b.height) - 1 / b.height);
          }
        },
      ),
    );
  });
  test('a strip no draw fits falls back to the central crop of the largest 4:3 box (by hand)', () => {
    // 10 × 100: every draw needs h >= sqrt(500 / (4/3)) > 10, so the fallback: h = 10, w = round(10 · 4/3) = 13,
    // top = 0, left = (100 − 13) // 2 = 43; and 100 × 10: w = 10, h = round(10 / (3/4)) = 13, top = 43.
    const b = randomResizedCropBox(10, 100, () => 0.3);
    expect([b.top, b.left, b.height, b.width]).toEqual([0, 43, 10, 13]);
    const t = randomResizedCropBox(100, 10, () => 0.3);
    expect([t.top, t.left, t.height, t.width]).toEqual([43, 0, 13, 10]);
  });
  test('draws are a function of (seed, epoch, sample); epochs differ; flips come half the time', () => {
    expect(augmentationFor(7, 2, 5, 664, 512)).toEqual(augmentationFor(7, 2, 5, 664, 512));
    const boxes = Array.from({ length: 400 }, (_, e) => augmentationFor(7, e, 5, 664, 512));
    expect(new Set(boxes.map((b) => `${b.top},${b.left},${b.height},${b.width}`)).size).toBeGreaterThan(350);
    const flips = boxes.filter((b) => b.flip).length;
    expect(flips).toBeGreaterThan(150);
    expect(flips).toBeLessThan(250);
  });
});

describe('the run data', () => {
  test('augmented training images: 3 × 224 × 224, reproducible, new each epoch; eval images convert to 8 bits first', async () => {
    const cfg = resolvePresetConfig('linear-probe', [TINY_MODEL, 'data.limits.train=2']);
    const data = openRunData(cfg, FAIRVLMED_MINI, { resolution: 224, cache: new ImageCache() });
    const a = await data.train.augmentedImage(1, 11, 0);
    expect(a.length).toBe(3 * 224 * 224);
    expect(Array.from(await data.train.augmentedImage(1, 11, 0))).toEqual(Array.from(a));
    expect(Array.from(await data.train.augmentedImage(1, 11, 1))).not.toEqual(Array.from(a));
    // The evaluation transform: the 8-bit image resized (not the float image resized, then converted).
    const sq = await data.train.image(1, 'square');
    expect(sq.length).toBe(3 * 224 * 224);
  });

  test('group batches take the notes even when training takes the label captions (data.groupTextSource)', () => {
    const cfg = resolvePresetConfig('fairclip-official-2024', [TINY_MODEL, 'data.textSource=label']);
    const data = openRunData(cfg, FAIRVLMED_MINI, { resolution: 224, cache: new ImageCache() });
    expect(data.train.samples.every((s) => /^A photo of (non-)?glaucoma$/.test(s.caption!))).toBe(true);
    expect(data.groupTrain.samples.some((s) => /^A photo of (non-)?glaucoma$/.test(s.caption!))).toBe(false);
    expect(data.groupTrain.samples.every((s) => (s.caption ?? '').length > 0)).toBe(true);
    expect(data.groupTrain.groupIndices('race', 0)).toEqual(data.train.groupIndices('race', 0));
    const same = openRunData(resolvePresetConfig('fairclip-official-2024', [TINY_MODEL]), FAIRVLMED_MINI, {
      resolution: 224,
    });
    expect(same.groupTrain).toBe(same.train);
    const labels = openRunData(
      resolvePresetConfig('fairclip-official-2024', [
        TINY_MODEL,
        'data.textSource=label',
        'data.groupTextSource=label',
      ]),
      FAIRVLMED_MINI,
      { resolution: 224 },
    );
    expect(labels.groupTrain).toBe(labels.train);
  });
});

describe('per-epoch features (augmentation on frozen features)', () => {
  test('trainLinearProbe asks for the features of every epoch and trains on them', async () => {
    const n = 8;
    const d = 3;
    const asked: number[] = [];
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
    const head = new LinearProbeHead(d, {
      initWeight: [
        [0, 0, 0],
        [0.01, -0.01, 0.02],
      ],
    });
    await trainLinearProbe(head, new Float32Array(n * d), labels, {
      epochs: 3,
      batchSize: 4,
      blr: 0.1,
      warmupEpochs: 1,
      featuresForEpoch: async (e) => {
        asked.push(e);
        return Float32Array.from({ length: n * d }, (_, i) => ((i * 7 + e) % 5) - 2);
      },
    });
    expect(asked).toEqual([0, 1, 2]);
    head.dispose();
    const bad = new LinearProbeHead(d, {
      initWeight: [
        [0, 0, 0],
        [0, 0, 0],
      ],
    });
    await expect(
      trainLinearProbe(bad, new Float32Array(n * d), labels, {
        epochs: 1,
        batchSize: 4,
        blr: 0.1,
        warmupEpochs: 0,
        featuresForEpoch: async () => new Float32Array(3),
      }),
    ).rejects.toThrow(/epoch 0 features hold 3 values, expected 8×3/);
    bad.dispose();
  });
});
