// Laws of the resampling and preprocessing steps, known answers from Pillow/torchvision's documented rules, and bad
// input.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  bicubicCoefficients,
  bicubicKernel,
  centerCropOffsets,
  fixedPointWeights,
  floatToU8,
  type ImageF32,
  type ImageU8,
  isPreprocessError,
  PRECISION_BITS,
  preprocessGrayFloat,
  preprocessRgb,
  resizeF32,
  resizeU8,
  roundHalfEven,
  shorterSideSize,
  toNormalizedChw,
} from '../src/preprocess/index.ts';

const dims = fc.integer({ min: 1, max: 40 });

describe('bicubic kernel and coefficients', () => {
  test("Keys' kernel with a = -0.5: known values", () => {
    expect(bicubicKernel(0)).toBe(1);
    expect(Math.abs(bicubicKernel(1))).toBe(0); // −0 in Pillow's arithmetic too
    expect(Math.abs(bicubicKernel(2))).toBe(0);
    expect(bicubicKernel(0.5)).toBe(0.5625); // (1.5·0.5 − 2.5)·0.25 + 1
    expect(bicubicKernel(1.5)).toBe(-0.0625); // ((−3.5·1.5 + 8)·1.5 − 4)·(−0.5)
    expect(bicubicKernel(-1.5)).toBe(-0.0625);
    expect(bicubicKernel(2.5)).toBe(0);
  });

  test('law: every output position has normalised weights over an in-range window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: 120 }), (inSize, outSize) => {
        const c = bicubicCoefficients(inSize, outSize);
        const filterscale = Math.max(inSize / outSize, 1);
        expect(c.ksize).toBe(Math.ceil(2 * filterscale) * 2 + 1);
        const problems: string[] = [];
        for (let xx = 0; xx < outSize; xx++) {
          const xmin = c.bounds[2 * xx] as number;
          const n = c.bounds[2 * xx + 1] as number;
          if (xmin < 0 || n < 1 || n > c.ksize || xmin + n > inSize) problems.push(`window ${xx}: ${xmin}+${n}`);
          let sum = 0;
          for (let k = 0; k < c.ksize; k++) sum += c.weights[xx * c.ksize + k] as number;
          if (!(Math.abs(sum - 1) < 1e-12)) problems.push(`sum ${xx}: ${sum}`);
          for (let k = n; k < c.ksize; k++) if (c.weights[xx * c.ksize + k] !== 0) problems.push(`slot ${xx}/${k}`);
        }
        expect(problems).toEqual([]);
      }),
    );
  });

  test('fixed-point weights round half away from zero at 2^22', () => {
    const w = fixedPointWeights(new Float64Array([0.5, -0.25, 1, 1.5 / 2 ** 22, -1.5 / 2 ** 22, 0.4 / 2 ** 22]));
    expect(PRECISION_BITS).toBe(22);
    expect([...w]).toEqual([2 ** 21, -(2 ** 20), 2 ** 22, 2, -2, 0]);
  });

  test('identity: an unchanged size returns a copy, for both modes', () => {
    const img: ImageF32 = { data: new Float32Array([1.5, -2, 300, 7]), height: 2, width: 2 };
    const r = resizeF32(img, 2, 2);
    expect(r.data).toEqual(img.data);
    expect(r.data).not.toBe(img.data);
    const u: ImageU8 = { data: new Uint8Array([1, 2, 3, 4, 5, 6]), height: 1, width: 2, channels: 3 };
    expect(resizeU8(u, 1, 2).data).toEqual(u.data);
  });
});

describe('resampling laws', () => {
  test('law: a constant 8-bit image stays exactly constant at any size', () => {
    fc.assert(
      fc.property(
        dims,
        dims,
        dims,
        dims,
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(1, 3),
        (h, w, oh, ow, v, ch) => {
          const img: ImageU8 = { data: new Uint8Array(h * w * ch).fill(v), height: h, width: w, channels: ch as 1 | 3 };
          const out = resizeU8(img, oh, ow);
          expect(out.data.length).toBe(oh * ow * ch);
          expect(out.data.every((x) => x === v)).toBe(true);
        },
      ),
    );
  });

  test('law: a constant float image stays constant up to float32 rounding', () => {
    fc.assert(
      fc.property(dims, dims, dims, dims, fc.float({ min: -1000, max: 1000, noNaN: true }), (h, w, oh, ow, v) => {
        const img: ImageF32 = { data: new Float32Array(h * w).fill(v), height: h, width: w };
        const out = resizeF32(img, oh, ow);
        let worst = 0;
        for (const x of out.data) worst = Math.max(worst, Math.abs(x - Math.fround(v)));
        expect(worst).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)));
      }),
    );
  });

  test('law: the 8-bit RGB resize treats channels independently (RGB = three gray resizes)', () => {
    fc.assert(
      fc.property(dims, dims, dims, dims, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (h, w, oh, ow, seed) => {
        let s = seed;
        const rgb = new Uint8Array(h * w * 3).map(() => {
          s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
          return s >> 23;
        });
        const out = resizeU8({ data: rgb, height: h, width: w, channels: 3 }, oh, ow);
        for (let c = 0; c < 3; c++) {
          const plane = new Uint8Array(h * w).map((_, i) => rgb[i * 3 + c] as number);
          const g = resizeU8({ data: plane, height: h, width: w, channels: 1 }, oh, ow);
          const channel = new Uint8Array(oh * ow).map((_, i) => out.data[i * 3 + c] as number);
          expect(channel).toEqual(g.data);
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe("torchvision's geometry", () => {
  test('Resize(size): known answers and the law "shorter side = size, longer = trunc(size·long/short)"', () => {
    expect(shorterSideSize(664, 512, 224)).toEqual([290, 224]);
    expect(shorterSideSize(512, 664, 224)).toEqual([224, 290]);
    expect(shorterSideSize(300, 257, 224)).toEqual([261, 224]);
    expect(shorterSideSize(224, 224, 224)).toEqual([224, 224]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 512 }),
        (h, w, n) => {
          const [oh, ow] = shorterSideSize(h, w, n);
          if (w <= h) {
            expect(ow).toBe(n);
            expect(oh).toBe(Math.floor((n * h) / w));
          } else {
            expect(oh).toBe(n);
            expect(ow).toBe(Math.floor((n * w) / h));
          }
        },
      ),
    );
  });

  test("Python's round: halves go to the even neighbour", () => {
    expect([0.5, 1.5, 2.5, 3.5, 18.5, 33, 6.5, 7.5, 0.4, 0.6].map(roundHalfEven)).toEqual([
      0, 2, 2, 4, 18, 33, 6, 8, 0, 1,
    ]);
    expect(centerCropOffsets(290, 224, 224, 224)).toEqual([33, 0]);
    expect(centerCropOffsets(261, 224, 224, 224)).toEqual([18, 0]); // 18.5 → 18
    expect(centerCropOffsets(10, 47, 10, 32)).toEqual([0, 8]); // 7.5 → 8
  });
});

describe('conversion to 8 bits and normalisation', () => {
  test("PIL's F → L: clip to [0, 255], truncate (values checked with Pillow 9.4)", () => {
    const img: ImageF32 = {
      data: new Float32Array([1.7, 254.6, 300, -5, 0, 255, 254.99998, 0.5, -0.5, 128]),
      height: 1,
      width: 10,
    };
    expect([...floatToU8(img).data]).toEqual([1, 254, 255, 0, 0, 255, 254, 0, 0, 128]);
  });

  test('ToTensor + Normalize: known values of the CLIP constants, gray replicated to three channels', () => {
    const img: ImageU8 = { data: new Uint8Array([0, 255]), height: 1, width: 2, channels: 1 };
    const out = toNormalizedChw(img);
    const f = Math.fround;
    const expected = (v: number, m: number, s: number) => f(f(f(v / 255) - f(m)) / f(s));
    expect([...out]).toEqual([
      expected(0, 0.48145466, 0.26862954),
      expected(255, 0.48145466, 0.26862954),
      expected(0, 0.4578275, 0.26130258),
      expected(255, 0.4578275, 0.26130258),
      expected(0, 0.40821073, 0.27577711),
      expected(255, 0.40821073, 0.27577711),
    ]);
    expect(out[0]).toBeCloseTo(-1.7922626, 6);
    expect(out[1]).toBeCloseTo(1.9303361, 6);
  });

  test('writing into a batch buffer at an offset gives the same values', () => {
    const img: ImageU8 = {
      data: new Uint8Array(5 * 4 * 3).map((_, i) => (i * 37) % 256),
      height: 5,
      width: 4,
      channels: 3,
    };
    const single = preprocessRgb(img, { size: 3 });
    const batch = new Float32Array(2 * 27).fill(-9);
    const view = preprocessRgb(img, { size: 3, out: batch, offset: 27 });
    expect(view).toEqual(single);
    expect(batch.subarray(27)).toEqual(single);
    expect(batch.subarray(0, 27).every((v) => v === -9)).toBe(true);
  });
});

describe('bad input', () => {
  const good = (): ImageF32 => ({ data: new Float32Array(12), height: 3, width: 4 });

  test('a buffer that does not match the shape', () => {
    expect(() => preprocessGrayFloat({ data: new Float32Array(11), height: 3, width: 4 })).toThrow(
      /11 values.*needs 12/,
    );
    expect(() => preprocessRgb({ data: new Uint8Array(35), height: 3, width: 4, channels: 3 })).toThrow(
      /35 bytes.*needs 36/,
    );
    try {
      preprocessGrayFloat({ data: new Float32Array(11), height: 3, width: 4 });
    } catch (e) {
      expect(isPreprocessError(e, 'BAD_SHAPE')).toBe(true);
    }
  });

  test('non-integer, zero or negative sizes, and a wrong channel count', () => {
    expect(() => preprocessGrayFloat({ data: new Float32Array(0), height: 0, width: 4 })).toThrow(
      /height must be a positive integer/,
    );
    expect(() => preprocessGrayFloat({ ...good(), width: 4.5 })).toThrow(/width must be a positive integer/);
    expect(() => preprocessRgb({ data: new Uint8Array(48), height: 3, width: 4, channels: 4 as 3 })).toThrow(
      /channels must be 1 \(gray\) or 3 \(RGB\), got 4/,
    );
    expect(() => preprocessGrayFloat(good(), { size: 0 })).toThrow(/size must be a positive integer/);
    expect(() => preprocessGrayFloat(good(), { resize: 'stretch' as 'square' })).toThrow(/resize must be/);
  });

  test('the wrong typed array', () => {
    expect(() =>
      preprocessGrayFloat({ data: new Float64Array(12) as unknown as Float32Array, height: 3, width: 4 }),
    ).toThrow(/Float32Array/);
    expect(() =>
      preprocessRgb({ data: new Uint8ClampedArray(36) as unknown as Uint8Array, height: 3, width: 4, channels: 3 }),
    ).toThrow(/Uint8Array/);
  });

  test('NaN and Infinity are refused with the position of the first one', () => {
    const img = good();
    img.data[6] = Number.NaN;
    expect(() => preprocessGrayFloat(img)).toThrow(/NaN at row 1, column 2/);
    img.data[6] = 0;
    img.data[11] = Number.NEGATIVE_INFINITY;
    expect(() => preprocessGrayFloat(img)).toThrow(/-Infinity at row 2, column 3/);
    try {
      preprocessGrayFloat(img);
    } catch (e) {
      expect(isPreprocessError(e, 'NON_FINITE')).toBe(true);
    }
  });

  test('a crop larger than the image and a batch buffer that is too small', () => {
    expect(() => centerCropOffsets(10, 10, 11, 5)).toThrow(/larger than the image/);
    const img: ImageU8 = { data: new Uint8Array(12), height: 2, width: 2, channels: 3 };
    expect(() => preprocessRgb(img, { size: 2, out: new Float32Array(20), offset: 10 })).toThrow(/do not fit/);
  });
});
