// Hostile images through CLIP's preprocessing (issue 14): degenerate aspect ratios (a decoded 1 × 6000 JPEG strip
// became 224 × 1 344 000, 1.1 GB; 1 × 65 500 ended in an untyped RangeError) are refused before anything is
// allocated — in child processes, with their peak RSS measured — and so are resized images over the pixel cap and
// NaN/Infinity pixels, each with a typed one-line error.
import { describe, expect, test } from 'vitest';
import { PreprocessError } from '../src/preprocess/errors.ts';
import {
  DEFAULT_MAX_ASPECT_RATIO,
  fairclipGrayToU8,
  preprocessGrayFloat,
  preprocessRgb,
  resizeAndCropU8,
} from '../src/preprocess/pipeline.ts';
import { DEFAULT_MAX_RESIZED_PIXELS, type ImageF32, type ImageU8, resizeU8 } from '../src/preprocess/transforms.ts';
import { runChild } from './spawned-tok/spawn.ts';

function refusal(f: () => unknown, code: string): string {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(PreprocessError);
  expect((caught as PreprocessError).code).toBe(code);
  const message = (caught as Error).message;
  expect(message.startsWith(`${code}: `)).toBe(true);
  expect(message).not.toContain('\n');
  expect(message.length).toBeLessThan(400);
  return message;
}

const rgb = (height: number, width: number): ImageU8 => ({
  data: new Uint8Array(height * width * 3).map((_, i) => (i * 13) % 256),
  height,
  width,
  channels: 3,
});
const gray = (height: number, width: number): ImageF32 => ({
  data: new Float32Array(height * width).map((_, i) => (i * 7) % 256),
  height,
  width,
});

describe('degenerate images in a child process: refused before allocation, peak RSS under 400 MB', () => {
  test.each([
    [
      'rgb',
      1,
      6000,
      'the image is 1 × 6000, an aspect ratio of 6000:1, above the limit 64 (maxAspectRatio); Resize(224) would make it 224 × 1344000',
    ],
    [
      'rgb',
      1,
      65_500,
      'the image is 1 × 65500, an aspect ratio of 65500:1, above the limit 64 (maxAspectRatio); Resize(224) would make it 224 × 14672000',
    ],
    [
      'gray',
      1,
      6000,
      'the image is 1 × 6000, an aspect ratio of 6000:1, above the limit 64 (maxAspectRatio); Resize(224) would make it 224 × 1344000',
    ],
    ['square', 6000, 1, 'the image is 6000 × 1, an aspect ratio of 6000:1, above the limit 64 (maxAspectRatio): crop'],
  ])(
    '%s %d × %d: BAD_ASPECT_RATIO',
    async (kind, height, width, expected) => {
      const r = await runChild('image-bomb.ts', [kind, String(height), String(width)]);
      expect(r.name).toBe('PreprocessError');
      expect(r.code).toBe('BAD_ASPECT_RATIO');
      expect(r.message).toContain(`BAD_ASPECT_RATIO: ${expected}`);
      expect(r.message).toContain('crop the image to its content (or raise maxAspectRatio if it is genuine)');
      console.log(`[preprocess-hostile] ${kind} ${height} × ${width}: peak RSS ${Math.round(r.maxRssKb / 1024)} MB`);
      expect(r.maxRssKb).toBeLessThan(400 * 1024);
    },
    120_000,
  );

  test('with the ratio check off, the pixel cap still stops the 1 × 6000 strip (TOO_LARGE) before allocation', async () => {
    const r = await runChild('image-bomb.ts', ['rgb', '1', '6000', 'Infinity']);
    expect(r.code).toBe('TOO_LARGE');
    expect(r.message).toBe(
      'TOO_LARGE: resizing to 224 × 1344000 (301056000 pixels) exceeds the limit of 33554432 pixels ' +
        '(maxResizedPixels); crop or downscale the image first (or raise maxResizedPixels)',
    );
    console.log(
      `[preprocess-hostile] rgb 1 × 6000 without the ratio check: peak RSS ${Math.round(r.maxRssKb / 1024)} MB`,
    );
    expect(r.maxRssKb).toBeLessThan(400 * 1024);
  }, 120_000);
});

describe('the limits: defaults, boundaries, options', () => {
  test('defaults: aspect ratio 64, 2^25 resized pixels', () => {
    expect(DEFAULT_MAX_ASPECT_RATIO).toBe(64);
    expect(DEFAULT_MAX_RESIZED_PIXELS).toBe(2 ** 25);
  });

  test('a ratio of exactly 64 is processed, 65 is refused (both orientations, every mode and pipeline)', () => {
    expect(resizeAndCropU8(rgb(1, 64), { size: 8 }).data.length).toBe(8 * 8 * 3);
    expect(resizeAndCropU8(rgb(64, 1), { size: 8, resize: 'square' }).data.length).toBe(8 * 8 * 3);
    expect(fairclipGrayToU8(gray(2, 128), { size: 8 }).data.length).toBe(8 * 8);
    refusal(() => preprocessRgb(rgb(1, 65)), 'BAD_ASPECT_RATIO');
    refusal(() => preprocessRgb(rgb(65, 1), { resize: 'square' }), 'BAD_ASPECT_RATIO');
    refusal(() => preprocessGrayFloat(gray(2, 131)), 'BAD_ASPECT_RATIO');
    // Raised on purpose, the same strip is processed.
    expect(preprocessRgb(rgb(1, 65), { size: 4, maxAspectRatio: 65 }).length).toBe(3 * 4 * 4);
  });

  test('maxResizedPixels is checked on the resized size, before the resize', () => {
    const msg = refusal(() => preprocessRgb(rgb(40, 40), { maxResizedPixels: 1000 }), 'TOO_LARGE');
    expect(msg).toContain('resizing to 224 × 224 (50176 pixels) exceeds the limit of 1000 pixels');
    expect(preprocessRgb(rgb(40, 40), { size: 31, maxResizedPixels: 961 }).length).toBe(3 * 31 * 31);
    refusal(() => preprocessRgb(rgb(40, 40), { size: 32, maxResizedPixels: 961 }), 'TOO_LARGE');
    refusal(() => resizeU8(rgb(2, 2), 8000, 8000), 'TOO_LARGE');
  });

  test('bad limit values are BAD_ARGUMENT', () => {
    for (const bad of [0, -1, Number.NaN, '64' as unknown as number]) {
      refusal(() => preprocessRgb(rgb(4, 4), { maxAspectRatio: bad }), 'BAD_ARGUMENT');
      refusal(() => preprocessRgb(rgb(4, 4), { maxResizedPixels: bad }), 'BAD_ARGUMENT');
    }
  });
});

describe('NaN and Infinity in a float image are typed errors naming the pixel, never a silent NaN', () => {
  test.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('%s at row 2, column 3', (name, v) => {
    const img = gray(5, 4);
    img.data[2 * 4 + 3] = v;
    const msg = refusal(() => preprocessGrayFloat(img), 'NON_FINITE');
    expect(msg).toContain(`image has ${name} at row 2, column 3`);
    refusal(() => fairclipGrayToU8(img), 'NON_FINITE');
  });

  test('finite values that overflow float32 in the bicubic sums (±3.4e38) end in NON_FINITE, not NaN pixels', () => {
    const img: ImageF32 = { data: new Float32Array(16), height: 4, width: 4 };
    for (let i = 0; i < 16; i++) img.data[i] = (i + Math.floor(i / 4)) % 2 === 0 ? 3.4e38 : -3.4e38;
    const msg = refusal(() => preprocessGrayFloat(img, { size: 9 }), 'NON_FINITE');
    expect(msg).toContain('before the 8-bit conversion');
  });
});
