// fast-check generators of arrays for the npy/npz laws.
import fc from 'fast-check';
import { NPY_DTYPES, type NpyData, type NpyDtype } from '../src/index.ts';

export interface ArrayCase {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
  fortranOrder: boolean;
}

function dataFor(dtype: NpyDtype, n: number): fc.Arbitrary<NpyData> {
  const ints = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: n, maxLength: n });
  switch (dtype) {
    case 'float16':
      // Values that are exactly representable in half precision (the writer rounds; exactness keeps the law simple).
      return fc
        .array(fc.integer({ min: -2048, max: 2048 }), { minLength: n, maxLength: n })
        .chain((m) =>
          fc
            .array(fc.integer({ min: -14, max: 4 }), { minLength: n, maxLength: n })
            .map((e) => Float32Array.from(m, (v, i) => v * 2 ** e[i]!)),
        );
    case 'float32':
      return fc
        .array(fc.float({ noDefaultInfinity: false }), { minLength: n, maxLength: n })
        .map((v) => Float32Array.from(v));
    case 'float64':
      return fc.array(fc.double(), { minLength: n, maxLength: n }).map((v) => Float64Array.from(v));
    case 'int8':
      return ints(-128, 127).map((v) => Int8Array.from(v));
    case 'uint8':
      return ints(0, 255).map((v) => Uint8Array.from(v));
    case 'bool':
      return ints(0, 1).map((v) => Uint8Array.from(v));
    case 'int16':
      return ints(-32768, 32767).map((v) => Int16Array.from(v));
    case 'uint16':
      return ints(0, 65535).map((v) => Uint16Array.from(v));
    case 'int32':
      return ints(-(2 ** 31), 2 ** 31 - 1).map((v) => Int32Array.from(v));
    case 'uint32':
      return ints(0, 2 ** 32 - 1).map((v) => Uint32Array.from(v));
    case 'int64':
      return fc
        .array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: n, maxLength: n })
        .map((v) => BigInt64Array.from(v));
    case 'uint64':
      return fc
        .array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: n, maxLength: n })
        .map((v) => BigUint64Array.from(v));
  }
}

/** A random array: any supported dtype, 0 to 4 dimensions of size 0..5, C or Fortran order. */
export const arrayCase: fc.Arbitrary<ArrayCase> = fc
  .record({
    dtype: fc.constantFrom(...NPY_DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 }),
    fortranOrder: fc.boolean(),
  })
  .chain(({ dtype, shape, fortranOrder }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return dataFor(dtype, n).map((data) => ({ dtype, shape, fortranOrder, data }));
  });
