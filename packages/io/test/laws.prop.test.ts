// Laws of the npy/npz/zip codecs over random inputs.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { halfToFloat32 } from '../src/float16.ts';
import {
  encodeNpy,
  encodeNpz,
  halfBitsToNumber,
  IoError,
  listZipEntries,
  numberToHalfBits,
  parseNpy,
  readNpz,
  readZipEntry,
  toCOrder,
  writeZip,
} from '../src/index.ts';
import { crc32, crc32Js } from '../src/zip/crc32.ts';
import { arrayCase } from './arbitraries.ts';
import { fixtureBytes } from './helpers.ts';

function sameData(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === 'number' && typeof y === 'number' && Number.isNaN(x)) expect(Number.isNaN(y)).toBe(true);
    else expect(Object.is(x, y), `index ${i}: ${x} vs ${y}`).toBe(true);
  }
}

describe('npy laws', () => {
  test('write -> read is the identity (any dtype, shape, order, byte order, version)', () => {
    fc.assert(
      fc.property(arrayCase, fc.boolean(), fc.constantFrom(1 as const, 2 as const, 3 as const), (a, big, version) => {
        const bytes = encodeNpy(a, { bigEndian: big, version });
        const back = parseNpy(bytes, 'prop.npy');
        expect(back.dtype).toBe(a.dtype);
        expect(back.shape).toEqual(a.shape);
        expect(back.fortranOrder).toBe(a.fortranOrder);
        sameData(back.data, a.data);
      }),
    );
  });

  test('the data starts on a 64-byte boundary (numpy ARRAY_ALIGN)', () => {
    fc.assert(
      fc.property(arrayCase, (a) => {
        const bytes = encodeNpy(a);
        const n = a.data.length * (a.dtype === 'float16' ? 2 : a.data.BYTES_PER_ELEMENT);
        expect((bytes.length - n) % 64).toBe(0);
      }),
    );
  });

  test('toCOrder of a Fortran array equals the transpose-free index formula', () => {
    fc.assert(
      fc.property(arrayCase, (a) => {
        const f = { ...a, fortranOrder: true };
        const c = toCOrder(f);
        const shape = a.shape;
        const n = a.data.length;
        for (let ci = 0; ci < n; ci++) {
          // C multi-index of ci, then its Fortran offset.
          let rem = ci;
          let off = 0;
          const idx: number[] = new Array(shape.length);
          for (let k = shape.length - 1; k >= 0; k--) {
            idx[k] = rem % shape[k]!;
            rem = Math.floor(rem / shape[k]!);
          }
          let stride = 1;
          for (let k = 0; k < shape.length; k++) {
            off += idx[k]! * stride;
            stride *= shape[k]!;
          }
          expect(Object.is(c.data[ci], a.data[off]) || Number.isNaN(c.data[ci] as number)).toBe(true);
        }
        expect(c.fortranOrder).toBe(false);
      }),
    );
  });

  test('every truncation of a valid .npy is a typed error, never a crash or a short array', () => {
    const bytes = encodeNpy({ dtype: 'float64', shape: [3, 2], data: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), (cut) => {
        expect(() => parseNpy(bytes.subarray(0, cut), 'cut.npy')).toThrow(IoError);
      }),
    );
  });
});

describe('float16', () => {
  test('every non-NaN half bit pattern survives half -> float32 -> half', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = halfToFloat32(all);
    let checked = 0;
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(f[h]!)) {
        if (!Number.isNaN(halfBitsToNumber(h))) wrong.push(h);
        continue;
      }
      if (numberToHalfBits(f[h]!) !== h || f[h] !== halfBitsToNumber(h)) wrong.push(h);
      checked++;
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(65536 - 2 * 1023);
  });

  test('known answers: ties to even, overflow, subnormals (as numpy.float16 rounds)', () => {
    const cases: [number, number][] = [
      [1 + 2 ** -11, 1], // tie between 1 and 1 + 2^-10: even mantissa
      [1 + 3 * 2 ** -11, 1 + 2 ** -9],
      [65519, 65504],
      [65520, Number.POSITIVE_INFINITY], // tie at the top rounds to infinity
      [2 ** -25, 0], // tie between 0 and the smallest subnormal
      [3 * 2 ** -26, 2 ** -24],
      [-0, -0],
    ];
    for (const [x, want] of cases) expect(Object.is(halfBitsToNumber(numberToHalfBits(x)), want), `${x}`).toBe(true);
  });

  test('rounding to half is to nearest', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, min: -65504, max: 65504 }), (x) => {
        const h = numberToHalfBits(x);
        const v = halfBitsToNumber(h);
        // No other half value is strictly closer.
        for (const n of [h - 1, h + 1]) {
          if (n < 0 || n > 0xffff || (n & 0x7c00) === 0x7c00) continue;
          const w = halfBitsToNumber(n);
          if (w < 0 === v < 0 || w === 0 || v === 0) expect(Math.abs(w - x)).toBeGreaterThanOrEqual(Math.abs(v - x));
        }
      }),
    );
  });
});

describe('zip laws', () => {
  test('crc32 matches the standard check value and the JavaScript reference', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (d) => {
        expect(crc32(d)).toBe(crc32Js(d));
      }),
    );
  });

  test('writeZip -> listZipEntries/readZipEntry is the identity, stored and deflated, with or without zip64', () => {
    const name = fc.stringMatching(/^[a-z0-9_]{1,12}(\/[a-z0-9_]{1,8}(\.npy)?)?$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name, data: fc.uint8Array({ maxLength: 2000 }) }), {
          selector: (e) => e.name,
          maxLength: 6,
        }),
        fc.boolean(),
        fc.boolean(),
        (inputs, compress, forceZip64) => {
          const zip = writeZip(inputs, { compress, forceZip64 });
          const entries = listZipEntries(zip, 'prop.zip');
          expect(entries.map((e) => e.name)).toEqual(inputs.map((e) => e.name));
          entries.forEach((e, i) => {
            expect(e.method).toBe(compress ? 8 : 0);
            expect(Buffer.from(readZipEntry(zip, e, 'prop.zip')).equals(Buffer.from(inputs[i]!.data))).toBe(true);
          });
        },
      ),
    );
  });

  test('encodeNpz -> readNpz is the identity', () => {
    fc.assert(
      fc.property(fc.array(arrayCase, { maxLength: 4 }), fc.boolean(), (arrays, compress) => {
        const input = new Map(arrays.map((a, i) => [`k${i}`, a]));
        const back = readNpz(encodeNpz(input, { compress }), 'prop.npz');
        expect([...back.keys()]).toEqual([...input.keys()]);
        for (const [k, a] of input) sameData(back.get(k)!.data, a.data);
      }),
    );
  });

  test('any truncation or single-byte corruption of a numpy .npz is a typed error or the exact original data', () => {
    const bytes = fixtureBytes('datasets/npz/deflated.npz');
    const original = readNpz(bytes, 'deflated.npz');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bytes.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (pos, xor, truncate) => {
          const damaged = truncate ? bytes.slice(0, pos) : bytes.slice();
          if (!truncate) damaged[pos]! ^= xor;
          let result: Map<string, unknown> | undefined;
          try {
            result = readNpz(damaged, 'damaged.npz');
          } catch (e) {
            expect(e).toBeInstanceOf(IoError);
            return;
          }
          // Bytes that no reader uses (timestamps, version-made-by, external attributes) may change harmlessly.
          expect([...result.keys()]).toEqual([...original.keys()]);
          for (const [k, a] of original) sameData((result.get(k) as typeof a).data, a.data);
        },
      ),
      { numRuns: 300 },
    );
  });
});
