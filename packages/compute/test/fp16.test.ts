// roundToFloat16 (the fp16 emulation of the official FairCLIP runs) on every backend against numpy's
// astype(np.float16) (test-fixtures/generators/compute_float16_rounding.py): ties to even, subnormals, ±65504,
// overflow to ±∞ from 65520, NaN and ±0; its plain-JS twin against the same fixture; both gradient modes; and a
// property over random float32 bit patterns against the twin.
import { readFixtureJson } from '@fairclip/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FLOAT16_MAX, roundNumberToFloat16, roundToFloat16, roundToFloat16Reference } from '../src/index.ts';
import { forEachBackend, propertyRuns } from '../src/testing.ts';

interface Float16Fixture {
  generator: string;
  count: number;
  x_bits: number[];
  y_bits: number[];
}

const fixture = readFixtureJson<Float16Fixture>('compute/float16-rounding.json');
const fromBits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);
const X = fromBits(fixture.x_bits);
const Y = fromBits(fixture.y_bits);

/** Same float32 value, NaN equal to NaN and -0 distinct from +0; lists the first mismatches. */
function expectSameFloats(got: ArrayLike<number>, want: ArrayLike<number>, input: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && bad.length < 8) bad.push(`x=${input[i]}: got ${got[i]}, numpy ${want[i]}`);
  }
  expect(bad).toEqual([]);
}

describe('roundToFloat16Reference (plain-JS twin)', () => {
  test('matches numpy astype(float16) on every fixture value', () => {
    expect(fixture.count).toBe(X.length);
    expect(fixture.generator).toBe('test-fixtures/generators/compute_float16_rounding.py');
    expectSameFloats(roundToFloat16Reference(X), Y, X);
  });

  test('named boundaries', () => {
    expect(roundNumberToFloat16(65504)).toBe(FLOAT16_MAX);
    expect(roundNumberToFloat16(65519.99)).toBe(65504);
    expect(roundNumberToFloat16(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(roundNumberToFloat16(-65520)).toBe(Number.NEGATIVE_INFINITY);
    expect(roundNumberToFloat16(1 + 1 / 2048)).toBe(1); // tie, 1 is even
    expect(roundNumberToFloat16(1 + 3 / 2048)).toBe(1 + 4 / 2048); // tie, rounds up to even
    expect(roundNumberToFloat16(2 ** -25)).toBe(0); // halfway to the smallest subnormal: to even (0)
    expect(roundNumberToFloat16(3 * 2 ** -25)).toBe(2 ** -23); // 1.5 subnormal steps: to even (2 steps)
    expect(Object.is(roundNumberToFloat16(-1e-30), -0)).toBe(true);
    expect(roundNumberToFloat16(Number.NaN)).toBeNaN();
  });
});

forEachBackend((suite) => {
  test('matches numpy astype(float16) on every fixture value (edge cases + 1500 random)', async () => {
    const t = tf.tidy(() => roundToFloat16(tf.tensor1d(X)));
    const got = (await t.data()) as Float32Array;
    t.dispose();
    expectSameFloats(got, Y, X);
  });

  test('shapes and dtypes: rank 3 keeps its shape, int32 input rounds as float32', async () => {
    const t = tf.tidy(() => roundToFloat16(tf.tensor3d(X.subarray(0, 24), [2, 3, 4])));
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.dtype).toBe('float32');
    expectSameFloats((await t.data()) as Float32Array, Y.subarray(0, 24), X.subarray(0, 24));
    t.dispose();
    const i = tf.tidy(() => roundToFloat16(tf.tensor1d([70000, 2049, 4097, -65519], 'int32')));
    expect(Array.from(await i.data())).toEqual([Number.POSITIVE_INFINITY, 2048, 4096, -65504]);
    i.dispose();
  });

  test("gradient 'identity' is straight-through, 'float16' rounds the incoming gradient (overflow included)", async () => {
    const x = tf.tensor1d([1.0001, 3, -2.5, 100]);
    const dy = tf.tensor1d([1 + 1 / 2048 + 1e-7, 70000, -1e-30, 3 * 2 ** -25]);
    const gId = tf.grad((v: tf.Tensor) => roundToFloat16(v))(x, dy);
    const g16 = tf.grad((v: tf.Tensor) => roundToFloat16(v, { gradient: 'float16' }))(x, dy);
    expectSameFloats((await gId.data()) as Float32Array, await dy.data(), await dy.data());
    expectSameFloats((await g16.data()) as Float32Array, roundToFloat16Reference(await dy.data()), await dy.data());
    expect(Array.from(await g16.data()).slice(1, 2)).toEqual([Number.POSITIVE_INFINITY]);
    tf.dispose([x, dy, gId, g16]);
  });

  test('property: random float32 bit patterns agree with the twin', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 64 }),
        async (bits) => {
          const x = fromBits(bits);
          const t = tf.tidy(() => roundToFloat16(tf.tensor1d(x)));
          const got = (await t.data()) as Float32Array;
          t.dispose();
          expectSameFloats(got, roundToFloat16Reference(x), x);
        },
      ),
      { numRuns: propertyRuns(25, suite) },
    );
  });
});
