// .npy / .npz reading against files written by numpy (test-fixtures/generators/datasets_npy_fixtures.py), byte-exact
// writing, and every damaged-file case.
import { describe, expect, test } from 'vitest';
import {
  encodeNpy,
  IoError,
  listZipEntries,
  openNpz,
  parseNpy,
  parseNpyHeader,
  readNpz,
  toCOrder,
} from '../src/index.ts';
import { expectValues, fixtureBytes, type NpyFixture, type NpzFixture, npyFixtures } from './helpers.ts';

const fx = npyFixtures();
const npyFiles = Object.entries(fx.files).filter(([k]) => k.startsWith('npy/')) as [string, NpyFixture][];
const npzFiles = Object.entries(fx.files).filter(([k]) => k.startsWith('npz/')) as [string, NpzFixture][];

function caught(fn: () => unknown): IoError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IoError);
    return e as IoError;
  }
  throw new Error('expected a IoError, nothing was thrown');
}

describe('parseNpy against numpy-written files', () => {
  test('the fixture set covers every dtype, both byte orders, both memory orders and all three versions', () => {
    const dtypes = new Set(npyFiles.map(([, f]) => f.dtype));
    expect([...dtypes].sort()).toEqual([
      'bool',
      'float16',
      'float32',
      'float64',
      'int16',
      'int32',
      'int64',
      'int8',
      'uint16',
      'uint32',
      'uint64',
      'uint8',
    ]);
    expect(new Set(npyFiles.map(([, f]) => f.version[0]))).toEqual(new Set([1, 2, 3]));
    expect(npyFiles.some(([, f]) => f.big_endian && f.fortran_order)).toBe(true);
    expect(npyFiles.some(([, f]) => f.shape.length === 0)).toBe(true);
    expect(npyFiles.some(([, f]) => f.shape.includes(0))).toBe(true);
  });

  test.each(npyFiles)('%s', (name, f) => {
    const bytes = fixtureBytes(`datasets/${name}`);
    expect(bytes.length).toBe(f.bytes);
    const header = parseNpyHeader(bytes, name);
    expect(header.version).toEqual(f.version);
    expect(header.bigEndian).toBe(f.big_endian);
    const a = parseNpy(bytes, name);
    expect(a.dtype).toBe(f.dtype);
    expect(a.shape).toEqual(f.shape);
    expect(a.fortranOrder).toBe(f.fortran_order);
    expectValues(a.data, f.values_file, `${name} (file order)`);
    expectValues(toCOrder(a).data, f.values_c, `${name} (C order)`);
    // The result owns its memory: writing into it does not touch the file bytes.
    const before = bytes.slice();
    if (a.data.length > 0) (a.data as unknown as { [i: number]: unknown })[0] = typeof a.data[0] === 'bigint' ? 5n : 5;
    expect(bytes).toEqual(before);
  });
});

describe('encodeNpy writes what numpy writes', () => {
  test.each(npyFiles)('%s re-encodes byte for byte', (name, f) => {
    const bytes = fixtureBytes(`datasets/${name}`);
    const a = parseNpy(bytes, name);
    const again = encodeNpy(a, { version: f.version[0] as 1 | 2 | 3, bigEndian: f.big_endian });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('readNpz against numpy.savez / savez_compressed', () => {
  test.each(npzFiles)('%s', (name, f) => {
    const bytes = fixtureBytes(`datasets/${name}`);
    const entries = listZipEntries(bytes, name);
    expect(entries.map((e) => e.name)).toEqual(f.entries);
    expect([...new Set(entries.map((e) => e.method))].sort()).toEqual(f.methods);
    const arrays = readNpz(bytes, name);
    expect([...arrays.keys()].sort()).toEqual(Object.keys(f.arrays).sort());
    for (const [key, want] of Object.entries(f.arrays)) {
      const a = arrays.get(key)!;
      expect(a.dtype, key).toBe(want.dtype);
      expect(a.shape, key).toEqual(want.shape);
      expect(a.fortranOrder, key).toBe(want.fortran_order);
      expectValues(a.data, want.values_file, `${name}:${key}`);
      expectValues(toCOrder(a).data, want.values_c, `${name}:${key} C order`);
    }
  });

  test('openNpz decodes lazily and names missing keys', () => {
    const npz = openNpz(fixtureBytes('datasets/npz/deflated.npz'), 'deflated.npz');
    expect(npz.has('slo_fundus')).toBe(true);
    expect(npz.get('slo_fundus').shape).toEqual([40, 32]);
    const e = caught(() => npz.get('note'));
    expect(e.code).toBe('NPZ_MISSING_KEY');
    expect(e.message).toMatch(/deflated\.npz.*'note'.*slo_fundus/);
  });

  test('the zip64 fixture really uses zip64 records', () => {
    const bytes = fixtureBytes('datasets/npz/zip64.npz');
    const sig = Buffer.from([0x50, 0x4b, 0x06, 0x06]);
    expect(Buffer.from(bytes).includes(sig)).toBe(true);
  });
});

describe('damaged and unsupported files', () => {
  const bad = Object.entries(fx.bad);
  test('every case of the issue is represented', () => {
    const codes = new Set(bad.map(([, b]) => b.code));
    for (const c of [
      'NPY_BAD_MAGIC',
      'NPY_TRUNCATED',
      'NPY_UNSUPPORTED_DTYPE',
      'NPY_UNSUPPORTED_VERSION',
      'NPY_BAD_HEADER',
      'ZIP_CORRUPT',
      'ZIP_UNSAFE_PATH',
      'NPZ_MISSING_KEY',
    ]) {
      expect(codes.has(c), c).toBe(true);
    }
  });

  test.each(bad)('%s -> %o', (name, b) => {
    const bytes = fixtureBytes(`datasets/${name}`);
    const e = caught(() => {
      if (name.endsWith('.npy')) return parseNpy(bytes, name);
      const npz = openNpz(bytes, name);
      for (const k of npz.keys) npz.get(k);
      return npz.get('slo_fundus');
    });
    expect(e.code).toBe(b.code);
    expect(e.file).toContain(name);
    expect(e.message).toContain(name);
  });

  test('a header declaring 3.2e16 bytes fails before allocating anything', () => {
    const e = caught(() => parseNpy(fixtureBytes('datasets/bad/huge-shape.npy'), 'huge-shape.npy'));
    expect(e.code).toBe('NPY_TRUNCATED');
    expect(e.message).toMatch(/declares shape \(4000000000000000\) of float64.*holds 32/);
  });

  test('the CRC mismatch is reported as such', () => {
    const e = caught(() => readNpz(fixtureBytes('datasets/bad/crc-mismatch.npz'), 'crc-mismatch.npz'));
    expect(e.message).toMatch(/CRC-32 mismatch/);
  });

  test('dtype names appear in the unsupported-dtype messages', () => {
    const e = caught(() => parseNpy(fixtureBytes('datasets/bad/object.npy'), 'object.npy'));
    expect(e.message).toMatch(/'\|O'.*pickle/);
  });

  test('an empty .npy (0 bytes) is a bad-magic error', () => {
    expect(caught(() => parseNpy(new Uint8Array(0), 'empty.npy')).code).toBe('NPY_BAD_MAGIC');
  });
});
