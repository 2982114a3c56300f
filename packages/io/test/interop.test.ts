// Files written by encodeNpz / writeZip are read by numpy.load (Debian's numpy), with the same values.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { encodeNpy, encodeNpz, type NpyInput } from '../src/index.ts';
import { numpyUnavailable, runPythonJson } from './python.ts';

const skip = numpyUnavailable();
const dir = mkdtempSync(join(tmpdir(), 'fairclip-npz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const arrays: Record<string, NpyInput> = {
  f16: { dtype: 'float16', shape: [2, 2], data: Float32Array.from([0.5, -2, 65504, 1 / 1024]) },
  f32: { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1.5, -0, Number.NaN, 3e38, -1e-40, 7]) },
  f64f: { dtype: 'float64', shape: [2, 3], data: Float64Array.from([1, 2, 3, 4, 5, 6]), fortranOrder: true },
  i8: { dtype: 'int8', shape: [3], data: Int8Array.from([-128, 0, 127]) },
  u8: { dtype: 'uint8', shape: [], data: Uint8Array.from([200]) },
  i16: { dtype: 'int16', shape: [2], data: Int16Array.from([-32768, 32767]) },
  u16: { dtype: 'uint16', shape: [2], data: Uint16Array.from([0, 65535]) },
  i32: { dtype: 'int32', shape: [1, 2], data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1]) },
  u32: { dtype: 'uint32', shape: [2], data: Uint32Array.from([0, 2 ** 32 - 1]) },
  i64: { dtype: 'int64', shape: [2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 53n + 1n]) },
  u64: { dtype: 'uint64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
  b: { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
  empty: { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
};

const READ = `
import json, sys, numpy as np
out = {}
for path in sys.argv[1:]:
    with np.load(path, allow_pickle=False) as z:
        out[path] = {k: {'dtype': z[k].dtype.name, 'shape': list(z[k].shape), 'big': z[k].dtype.byteorder == '>',
                         'fortran': bool(z[k].flags.f_contiguous and not z[k].flags.c_contiguous and z[k].ndim > 1),
                         'values': [repr(v) for v in z[k].ravel(order='C').tolist()]} for k in z.files}
print(json.dumps(out))
`;

describe.skipIf(skip !== undefined)('numpy reads our .npz files', () => {
  const cases: [string, { compress: boolean; bigEndian?: boolean; version?: 1 | 2 | 3 }][] = [
    ['deflated', { compress: true }],
    ['stored', { compress: false }],
    ['big-endian v2', { compress: true, bigEndian: true, version: 2 }],
  ];
  test.each(cases)('%s', (label, options) => {
    const path = join(dir, `${label.replace(/\W/g, '_')}.npz`);
    writeFileSync(path, encodeNpz(arrays, options));
    const got = runPythonJson<
      Record<
        string,
        Record<string, { dtype: string; shape: number[]; big: boolean; fortran: boolean; values: string[] }>
      >
    >(READ, [path]);
    const z = got[path]!;
    expect(Object.keys(z).sort()).toEqual(Object.keys(arrays).sort());
    for (const [k, a] of Object.entries(arrays)) {
      expect(z[k]!.dtype, k).toBe(a.dtype);
      expect(z[k]!.shape, k).toEqual(a.shape);
      expect(z[k]!.big, k).toBe(options.bigEndian === true && a.data.BYTES_PER_ELEMENT > 1);
      expect(z[k]!.fortran, k).toBe(a.fortranOrder === true);
    }
    expect(z.f16!.values).toEqual(['0.5', '-2.0', '65504.0', '0.0009765625']);
    expect(z.f32!.values).toEqual(['1.5', '-0.0', 'nan', repr32(3e38), repr32(-1e-40), '7.0']);
    // Fortran data [1..6] of shape (2,3) is, in C order, rows (1,3,5), (2,4,6).
    expect(z.f64f!.values).toEqual(['1.0', '3.0', '5.0', '2.0', '4.0', '6.0']);
    expect(z.i64!.values).toEqual(['-9223372036854775808', '9007199254740993']);
    expect(z.u64!.values).toEqual(['18446744073709551615']);
    expect(z.u8!.values).toEqual(['200']);
    expect(z.b!.values).toEqual(['True', 'False', 'True']);
    expect(z.empty!.values).toEqual([]);
  });

  test('a .npy we write is read by numpy.load too', () => {
    const path = join(dir, 'one.npy');
    writeFileSync(path, encodeNpy(arrays.i16!, { version: 3 }));
    const got = runPythonJson<number[]>(
      'import json,sys,numpy as np; print(json.dumps(np.load(sys.argv[1]).tolist()))',
      [path],
    );
    expect(got).toEqual([-32768, 32767]);
  });
});

/** Python's repr of a float32 value widened to float64 (what tolist() gives). */
function repr32(x: number): string {
  const v = Math.fround(x);
  const s = String(v);
  return s.includes('e') ? s.replace(/e([+-])(\d)$/, 'e$10$2').replace('e+', 'e+') : Number.isInteger(v) ? `${s}.0` : s;
}
