// float16 / bfloat16 laws with known answers (moved from @fairclip/clip's weight tests when the two float16
// implementations became this one). numpy's float16 rounding is checked byte for byte by the npy fixtures
// (npy.test.ts: numpy-written float16 files decode exactly and re-encode to the same bytes) and the laws in
// laws.prop.test.ts; torch's .half() by @fairclip/clip's safetensors tests.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  decodeBFloat16,
  decodeFloat16,
  halfBitsToNumber,
  numberToBFloat16Bits,
  numberToHalfBits,
} from '../src/index.ts';

describe('float16 / bfloat16 conversions (laws with known answers)', () => {
  test('known values', () => {
    expect(halfBitsToNumber(0x3c00)).toBe(1);
    expect(halfBitsToNumber(0xc000)).toBe(-2);
    expect(halfBitsToNumber(0x7bff)).toBe(65504);
    expect(halfBitsToNumber(0x0001)).toBe(2 ** -24);
    expect(halfBitsToNumber(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(halfBitsToNumber(0x7e00))).toBe(true);
    expect(numberToHalfBits(65520)).toBe(0x7c00); // rounds up to infinity
    expect(numberToHalfBits(2 ** -25)).toBe(0); // tie to even (0)
    expect(numberToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(numberToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToBFloat16Bits(1)).toBe(0x3f80);
    expect(decodeBFloat16(new Uint8Array([0x80, 0x3f, 0x40, 0xc0]), 2)).toEqual(new Float32Array([1, -3]));
  });

  test('every non-NaN half pattern survives half → float → half', () => {
    const bytes = new Uint8Array(2 * 65536);
    for (let h = 0; h < 65536; h++) {
      bytes[2 * h] = h & 0xff;
      bytes[2 * h + 1] = h >> 8;
    }
    const values = decodeFloat16(bytes, 65536);
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(values[h]!)) continue;
      if (numberToHalfBits(values[h]!) !== h)
        expect.fail(`pattern 0x${h.toString(16)} → ${values[h]} → 0x${numberToHalfBits(values[h]!).toString(16)}`);
    }
    expect(values[0x3555]).toBeCloseTo(1 / 3, 3);
  });

  test('bfloat16: widening is exact and narrowing returns the nearest representable value', () => {
    fc.assert(
      fc.property(
        fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }),
        (x) => {
          const b = numberToBFloat16Bits(x);
          const back = decodeBFloat16(new Uint8Array([b & 0xff, b >> 8]), 1)[0]!;
          expect(Math.abs(back - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8 + 1e-38);
        },
      ),
    );
  });
});
