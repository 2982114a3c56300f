// FairCLIP's preprocessing against the golden outputs of OpenAI's `_transform` (PIL 9.4 + torchvision 0.14) and
// against PIL-generated fixtures (test-fixtures/generators/clip_preprocess_{float,rgb}.py).
import { readFileSync } from 'node:fs';
import { type NpyArray, parseNpy } from '@fairclip/io';
import { fixturePath, readFixtureJson } from '@fairclip/test-fixtures';
import { describe, expect, test } from 'vitest';
import {
  centerCropF32,
  fairclipGrayToU8,
  type ImageF32,
  type ImageU8,
  preprocessGrayFloat,
  preprocessRgb,
  resizeAndCropU8,
  resizeF32,
  resizeU8,
  shorterSideSize,
} from '../src/preprocess/index.ts';

function npy(rel: string): NpyArray {
  const path = fixturePath(rel);
  const a = parseNpy(new Uint8Array(readFileSync(path)), path);
  expect(a.fortranOrder, `${rel} in C order`).toBe(false);
  return a;
}

function f32(a: NpyArray): Float32Array {
  expect(a.dtype).toBe('float32');
  return a.data as Float32Array;
}

function u8(a: NpyArray): Uint8Array {
  expect(a.dtype).toBe('uint8');
  return a.data as Uint8Array;
}

interface Diff {
  maxAbs: number;
  mismatches: number;
}

function diff(actual: ArrayLike<number>, expected: ArrayLike<number>): Diff {
  expect(actual.length).toBe(expected.length);
  let maxAbs = 0;
  let mismatches = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs((actual[i] as number) - (expected[i] as number));
    if (e > maxAbs) maxAbs = e;
    if (!Object.is(actual[i], expected[i])) mismatches++;
  }
  return { maxAbs, mismatches };
}

describe('golden: FairCLIP preprocessing of a 664 × 512 float image (clip/preprocess)', () => {
  const dir = 'golden/clip/preprocess';
  const input = npy(`${dir}/image.npy`);
  const image: ImageF32 = { data: f32(input), height: input.shape[0] as number, width: input.shape[1] as number };

  test('resize of the mode-"F" image matches PIL bit for bit (resized_f32.npy)', () => {
    const ref = npy(`${dir}/resized_f32.npy`);
    const [h, w] = shorterSideSize(image.height, image.width, 224);
    expect([h, w]).toEqual(ref.shape);
    expect([h, w]).toEqual([290, 224]);
    const resized = resizeF32(image, h, w);
    const d = diff(resized.data, f32(ref));
    console.log(`[golden resize] 290×224 float32: max |error| ${d.maxAbs}, values not bit-identical: ${d.mismatches}`);
    expect(d.maxAbs).toBeLessThanOrEqual(1e-4);
    expect(d.mismatches).toBe(0);
  });

  test('center crop + conversion to 8-bit RGB matches exactly (rgb_u8.npy)', () => {
    const ref = u8(npy(`${dir}/rgb_u8.npy`));
    const gray = fairclipGrayToU8(image);
    expect([gray.height, gray.width, gray.channels]).toEqual([224, 224, 1]);
    let mismatches = 0;
    for (let i = 0; i < 224 * 224; i++) for (let c = 0; c < 3; c++) if (gray.data[i] !== ref[i * 3 + c]) mismatches++;
    console.log(`[golden rgb_u8] 224×224×3: ${mismatches} mismatching bytes`);
    expect(mismatches).toBe(0);
  });

  test('the final tensor matches expected.npy (float32 [3, 224, 224])', () => {
    const ref = npy(`${dir}/expected.npy`);
    expect(ref.shape).toEqual([3, 224, 224]);
    const out = preprocessGrayFloat(image);
    const d = diff(out, f32(ref));
    console.log(`[golden expected] max |error| ${d.maxAbs}, not bit-identical: ${d.mismatches}`);
    expect(d.maxAbs).toBeLessThanOrEqual(1e-6);
  });

  test('the crop offsets are the golden ones (top 33, left 0)', () => {
    const resized = resizeF32(image, 290, 224);
    const crop = centerCropF32(resized, 224);
    // Row 0 of the crop is row 33 of the resized image.
    expect(crop.data.subarray(0, 224)).toEqual(resized.data.subarray(33 * 224, 34 * 224));
    expect(crop.data.subarray(0, 224)).not.toEqual(resized.data.subarray(32 * 224, 33 * 224));
  });
});

interface FloatCase {
  name: string;
  input_shape_hw: [number, number];
  n_px: number;
  resize: 'shorter-side' | 'square';
  resized_hw: [number, number];
  crop_top_left: [number, number];
  files: Record<'input' | 'resized' | 'rgb' | 'expected', string>;
}

describe('PIL fixtures: more mode-"F" cases (clip_preprocess_float.py)', () => {
  const meta = readFixtureJson<{ cases: FloatCase[] }>('clip/preprocess-extra/f32_cases.json');

  test('there are cases', () => {
    expect(meta.cases.length).toBeGreaterThanOrEqual(6);
  });

  test.each(meta.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const dir = 'clip/preprocess-extra';
    const input = npy(`${dir}/${c.files.input}`);
    const image: ImageF32 = { data: f32(input), height: c.input_shape_hw[0], width: c.input_shape_hw[1] };
    const resizedSize: [number, number] =
      c.resize === 'square' ? [c.n_px, c.n_px] : shorterSideSize(image.height, image.width, c.n_px);
    expect(resizedSize).toEqual(c.resized_hw);
    const resized = resizeF32(image, resizedSize[0], resizedSize[1]);
    const d = diff(resized.data, f32(npy(`${dir}/${c.files.resized}`)));
    expect(d.mismatches, `resize of ${c.name}: max |error| ${d.maxAbs}`).toBe(0);

    const gray = fairclipGrayToU8(image, { size: c.n_px, resize: c.resize });
    const rgb = u8(npy(`${dir}/${c.files.rgb}`));
    const expanded = new Uint8Array(gray.data.length * 3);
    gray.data.forEach((v, i) => expanded.fill(v, i * 3, i * 3 + 3));
    expect(diff(expanded, rgb).mismatches).toBe(0);

    const out = preprocessGrayFloat(image, { size: c.n_px, resize: c.resize });
    expect(diff(out, f32(npy(`${dir}/${c.files.expected}`))).maxAbs).toBeLessThanOrEqual(1e-6);
  });
});

interface RgbCase {
  name: string;
  input_shape_hwc: [number, number, 1 | 3];
  n_px: number;
  resize: 'shorter-side' | 'square';
  resized_hw: [number, number];
  files: { input: string; resized: string; cropped: string; expected?: string };
}

describe("PIL fixtures: 8-bit RGB and gray images, PIL's fixed-point bicubic (clip_preprocess_rgb.py)", () => {
  const meta = readFixtureJson<{ cases: RgbCase[] }>('clip/preprocess-extra/rgb_cases.json');
  const dir = 'clip/preprocess-extra';

  test('there are cases, including RGB at 224 and a gray image', () => {
    expect(meta.cases.some((c) => c.n_px === 224 && c.input_shape_hwc[2] === 3)).toBe(true);
    expect(meta.cases.some((c) => c.input_shape_hwc[2] === 1)).toBe(true);
  });

  test.each(meta.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const [h, w, ch] = c.input_shape_hwc;
    const image: ImageU8 = { data: u8(npy(`${dir}/${c.files.input}`)), height: h, width: w, channels: ch };
    const size: [number, number] = c.resize === 'square' ? [c.n_px, c.n_px] : shorterSideSize(h, w, c.n_px);
    expect(size).toEqual(c.resized_hw);
    const resized = resizeU8(image, size[0], size[1]);
    const ref = u8(npy(`${dir}/${c.files.resized}`));
    const d = diff(resized.data, ref);
    console.log(`[8-bit ${c.name}] ${size.join('×')}×${ch}: ${d.mismatches} mismatching bytes`);
    expect(d.mismatches).toBe(0);

    const cropped = resizeAndCropU8(image, { size: c.n_px, resize: c.resize });
    expect(diff(cropped.data, u8(npy(`${dir}/${c.files.cropped}`))).mismatches).toBe(0);

    if (c.files.expected) {
      const out = preprocessRgb(image, { size: c.n_px, resize: c.resize });
      expect(diff(out, f32(npy(`${dir}/${c.files.expected}`))).maxAbs).toBeLessThanOrEqual(1e-6);
    }
  });

  test("the 224 case exercises PIL's clamping: the reference holds saturated 0 and 255 bytes", () => {
    const c = meta.cases.find((x) => x.n_px === 224) as RgbCase;
    const ref = u8(npy(`${dir}/${c.files.resized}`));
    expect(ref.includes(0)).toBe(true);
    expect(ref.includes(255)).toBe(true);
  });
});
