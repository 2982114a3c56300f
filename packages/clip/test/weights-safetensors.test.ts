// safetensors: the golden model file (written by the golden generator), F16 files written from torch's .half()
// (test-fixtures/generators/clip_weights.py), the writer's layout rules, round trips, and every corrupt-header case
// the issue lists (length past the end, overlapping and out-of-range offsets, unknown dtype) plus a few more.

import { decodeBFloat16, halfBitsToNumber, numberToBFloat16Bits, numberToHalfBits } from '@fairclip/io';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readSafetensors, readSafetensorsHeader, type StateDict, writeSafetensors } from '../src/index.ts';
import { expectSameValues, goldenTinyVit, readFixtureBytes } from './model-helpers.ts';

interface WeightsExpected {
  config: Record<string, unknown>;
  n_tensors: number;
  n_values: number;
  f16_upcast_samples: Record<string, number[]>;
}
const W = JSON.parse(new TextDecoder().decode(readFixtureBytes('clip/weights/expected.json'))) as WeightsExpected;

/** Builds a safetensors file from a raw header object and a data buffer (to make corrupt files). */
function craft(header: unknown, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').toBeInstanceOf(Error);
  expect((caught as { code?: string }).code).toBe(code);
  expect((caught as Error).message).toMatch(pattern);
}

describe('reading', () => {
  test('the golden model: names, shapes, F32 values, metadata', () => {
    const g = goldenTinyVit();
    expect(g.weights.size).toBe(62);
    expect(g.weights.get('logit_scale')?.shape).toEqual([]);
    expect((g.weights.get('logit_scale')!.data as Float32Array)[0]).toBeCloseTo(Math.log(1 / 0.07), 6);
    expect(g.weights.get('visual.conv1.weight')?.shape).toEqual([64, 3, 8, 8]);
    expect(g.weights.get('token_embedding.weight')?.shape).toEqual([49408, 48]);
    expect(g.metadata.format).toBe('pt');
    expect(JSON.parse(g.metadata.config!)).toMatchObject({ vision_width: 64, transformer_heads: 4 });
    let total = 0;
    for (const t of g.weights.values()) total += t.data.length;
    expect(total).toBe(2_549_169);
  });

  test('header facts of the golden file: sorted contiguous data, header padded to 8 bytes', () => {
    const bytes = readFixtureBytes('golden/clip/tiny-vit/model.safetensors');
    const h = readSafetensorsHeader(bytes, 'golden');
    expect((h.dataStart - 8) % 8).toBe(0);
    const names = h.entries.map((e) => e.name);
    expect(names).toEqual([...names].sort());
  });

  test('F16 file (torch .half()) decodes to torch’s float32 upcasts', () => {
    const f16 = readSafetensors(readFixtureBytes('clip/weights/reference_f16.safetensors'));
    expect(f16.tensors.size).toBe(W.n_tensors);
    for (const [name, samples] of Object.entries(W.f16_upcast_samples)) {
      expect(f16.dtypes.get(name)).toBe('F16');
      const data = f16.tensors.get(name)!.data as Float32Array;
      expect([...data.subarray(0, samples.length)]).toEqual(samples);
    }
  });

  test('float32 → float16 rounding equals torch’s .half() on every value of the reference', () => {
    const f32 = readSafetensors(readFixtureBytes('clip/weights/reference.safetensors')).tensors;
    const f16 = readSafetensors(readFixtureBytes('clip/weights/reference_f16.safetensors')).tensors;
    let checked = 0;
    for (const [name, t] of f32) {
      const a = t.data as Float32Array;
      const b = f16.get(name)!.data as Float32Array;
      for (let i = 0; i < a.length; i++) {
        if (halfBitsToNumber(numberToHalfBits(a[i]!)) !== b[i])
          expect.fail(`${name}[${i}]: ${a[i]} → ${halfBitsToNumber(numberToHalfBits(a[i]!))}, torch ${b[i]}`);
        checked++;
      }
    }
    expect(checked).toBe(W.n_values);
  });
});

describe('writing', () => {
  test('round trip of the golden state dict is exact, with sorted names, 8-byte header, metadata', () => {
    const g = goldenTinyVit();
    const bytes = writeSafetensors(g.weights, { metadata: { config: g.metadata.config!, note: 'x' } });
    const header = readSafetensorsHeader(bytes);
    expect((header.dataStart - 8) % 8).toBe(0);
    const names = header.entries.map((e) => e.name);
    expect(names).toEqual([...names].sort());
    let cursor = 0;
    for (const e of header.entries) {
      expect(e.begin).toBe(cursor);
      cursor = e.end;
    }
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ config: g.metadata.config, note: 'x' });
    for (const [name, t] of g.weights) {
      expect(back.tensors.get(name)?.shape).toEqual(t.shape);
      expectSameValues(back.tensors.get(name)!.data, t.data, name);
    }
    // The golden file itself was written with the same rules: same bytes for the tensor data.
    const original = readFixtureBytes('golden/clip/tiny-vit/model.safetensors');
    const oh = readSafetensorsHeader(original);
    expectSameValues(bytes.subarray(header.dataStart), original.subarray(oh.dataStart), 'data buffer');
  });

  test('names such as __proto__ stay tensor and metadata names', () => {
    const sd: StateDict = new Map([
      ['__proto__', { shape: [1], data: Float32Array.of(1.5) }],
      ['constructor', { shape: [], data: Float32Array.of(2) }],
    ]);
    const back = readSafetensors(writeSafetensors(sd, { metadata: JSON.parse('{"__proto__": "m"}') }));
    expect([...back.tensors.keys()].sort()).toEqual(['__proto__', 'constructor']);
    expect(back.tensors.get('__proto__')?.data).toEqual(Float32Array.of(1.5));
    expect(Object.keys(back.metadata)).toEqual(['__proto__']);
  });

  test('law: random state dicts round-trip (F32 exact, F16/BF16 equal to the rounded values, I64 exact)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__'),
          fc.tuple(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), fc.boolean(), fc.integer()),
          { maxKeys: 6 },
        ),
        fc.constantFrom('F32', 'F16', 'BF16') as fc.Arbitrary<'F32' | 'F16' | 'BF16'>,
        (spec, dtype) => {
          const sd: StateDict = new Map();
          for (const [name, [shape, integer, seed]] of Object.entries(spec)) {
            const n = shape.reduce((a, b) => a * b, 1);
            if (integer)
              sd.set(name, { shape, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(seed) * BigInt(i)) });
            else sd.set(name, { shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i) * 100) });
          }
          const back = readSafetensors(writeSafetensors(sd, { dtype }));
          expect([...back.tensors.keys()].sort()).toEqual([...sd.keys()].sort());
          for (const [name, t] of sd) {
            const got = back.tensors.get(name)!;
            expect(got.shape).toEqual(t.shape);
            if (t.data instanceof BigInt64Array) expect(got.data).toEqual(t.data);
            else {
              const round =
                dtype === 'F32'
                  ? (v: number) => Math.fround(v)
                  : dtype === 'F16'
                    ? (v: number) => halfBitsToNumber(numberToHalfBits(v))
                    : (v: number) =>
                        decodeBFloat16(
                          new Uint8Array([numberToBFloat16Bits(v) & 0xff, numberToBFloat16Bits(v) >> 8]),
                          1,
                        )[0]!;
              expect(got.data).toEqual(Float32Array.from(t.data, round));
            }
          }
        },
      ),
    );
  });
});

describe('corrupt files: clear errors, nothing allocated from untrusted sizes', () => {
  const data8 = new Uint8Array(8);
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  test('a well-formed crafted file reads', () => {
    expect(readSafetensors(craft(ok, data8)).tensors.get('a')?.shape).toEqual([2]);
  });

  test.each([
    ['shorter than 8 bytes', () => new Uint8Array(5), 'SAFETENSORS_CORRUPT', /less than the 8-byte header length/],
    [
      'header length past the end',
      () => craft(ok, data8, 10_000n),
      'SAFETENSORS_CORRUPT',
      /runs past the end of the file/,
    ],
    ['huge header length', () => craft(ok, data8, 2n ** 62n), 'SAFETENSORS_CORRUPT', /runs past the end/],
    [
      'not JSON',
      () => {
        const b = craft(ok, data8);
        b[9] = 0x00;
        return b;
      },
      'SAFETENSORS_CORRUPT',
      /not valid UTF-8 JSON/,
    ],
    ['not an object', () => craft([1, 2], new Uint8Array(0)), 'SAFETENSORS_CORRUPT', /not a JSON object/],
    [
      'unknown dtype',
      () => craft({ a: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)),
      'UNSUPPORTED_DTYPE',
      /F8_E4M3 is not supported/,
    ],
    [
      'offsets out of range',
      () => craft({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8),
      'SAFETENSORS_CORRUPT',
      /run past the data buffer/,
    ],
    [
      'size does not match shape',
      () => craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8),
      'SAFETENSORS_CORRUPT',
      /needs 12 bytes, data_offsets span 8/,
    ],
    [
      'overlapping offsets',
      () =>
        craft(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          },
          data8,
        ),
      'SAFETENSORS_CORRUPT',
      /overlap/,
    ],
    [
      'a hole in the buffer',
      () => craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8),
      'SAFETENSORS_CORRUPT',
      /gap of 4 bytes/,
    ],
    [
      'bytes left over',
      () => craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data8),
      'SAFETENSORS_CORRUPT',
      /tensors cover 4/,
    ],
    [
      'negative shape',
      () => craft({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data8),
      'SAFETENSORS_CORRUPT',
      /non-negative integers/,
    ],
    [
      'reversed offsets',
      () => craft({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data8),
      'SAFETENSORS_CORRUPT',
      /begin ≤ end/,
    ],
    [
      'metadata not strings',
      () => craft({ __metadata__: { a: 1 }, ...ok }, data8),
      'SAFETENSORS_CORRUPT',
      /is not a string/,
    ],
  ])('%s', (_name, make, code, pattern) => {
    expectError(() => readSafetensors(make(), 'bad.safetensors'), code, pattern);
  });

  test('the error names the file', () => {
    expectError(
      () => readSafetensors(new Uint8Array(3), 'weights/x.safetensors'),
      'SAFETENSORS_CORRUPT',
      /weights\/x\.safetensors/,
    );
  });

  test('writer refuses inconsistent tensors', () => {
    expectError(
      () => writeSafetensors(new Map([['a', { shape: [3], data: new Float32Array(2) }]])),
      'BAD_TENSOR',
      /needs 3 values, has 2/,
    );
  });
});
