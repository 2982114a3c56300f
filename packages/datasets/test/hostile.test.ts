// Hostile and damaged samples: an npz in a dataset folder that honestly declares a 512 MiB image (532 KB on disk) is
// refused before it is inflated, in a child process that stays under 400 MB; NaN / Infinity in an image is one
// line naming the file; the per-sample cap is configurable; ages in data_summary.csv are strict decimals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpz, readNpz } from '@fairclip/io';
import { afterAll, describe, expect, test } from 'vitest';
import {
  DatasetError,
  DEFAULT_MAX_SAMPLE_BYTES,
  openFairVlmed,
  readDataSummary,
  synthesizeFairVlmed,
} from '../src/index.ts';
import { writeSampleBomb } from './bomb.ts';
import { runScript } from './spawn-script.ts';

const tmp = mkdtempSync(join(tmpdir(), 'datasets-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dataset(name: string): string {
  const dir = join(tmp, name);
  synthesizeFairVlmed(dir, { train: 0, val: 0, test: 3, seed: 7, imageShape: [32, 24] });
  return dir;
}

async function loadError(dir: string, index: number, options = {}): Promise<DatasetError> {
  const split = openFairVlmed(dir, 'test', { filter: 'none', textSource: 'label', ...options });
  try {
    await split.load(index);
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as Error).message).not.toMatch(/\n/);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('the dataset-folder npz bomb', () => {
  test('the default cap is a 4096 x 4096 float64 image', () => {
    expect(DEFAULT_MAX_SAMPLE_BYTES).toBe(4096 * 4096 * 8);
  });

  test('a 532 KB sample declaring a 512 MiB image: TOO_LARGE naming the file, child process under 400 MB', async () => {
    const dir = dataset('bomb');
    const bomb = join(dir, 'Test', 'data_00002.npz');
    const size = writeSampleBomb(bomb, 8192, 16384);
    expect(size).toBeLessThan(600 * 1024);
    const r = await runScript('dataset-bomb.ts', [dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { file: string; code: string; message: string }[]; maxRSS: number };
    expect(out.results.map((x) => [x.file, x.code])).toEqual([
      ['data_00001.npz', 'LOADED'],
      ['data_00002.npz', 'TOO_LARGE'],
      ['data_00003.npz', 'LOADED'],
    ]);
    expect(out.results[1]!.message).toBe(
      `TOO_LARGE: ${bomb}: entry "slo_fundus.npy" declares 536871040 bytes (512 MiB) uncompressed, over the cap of 134217728 bytes (128 MiB); if the file is trusted, raise the maxSampleBytes option (openFairVlmed)`,
    );
    console.log(`[bomb] 532 KB FairVLMed sample declaring 512 MiB: peak RSS ${(out.maxRSS / 1024).toFixed(0)} MB`);
    expect(out.maxRSS).toBeLessThan(400 * 1024);
  });

  test('maxSampleBytes sets the cap (a real sample is refused under a tiny cap, read at its size)', async () => {
    const dir = dataset('cap');
    const e = await loadError(dir, 0, { maxSampleBytes: 1000 });
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toMatch(/over the cap of 1000 bytes; if the file is trusted, raise the maxSampleBytes option/);
    const s = await openFairVlmed(dir, 'test', {
      filter: 'none',
      textSource: 'label',
      maxSampleBytes: 32 * 24 * 4 + 128,
    }).load(0);
    expect(s.image.shape).toEqual([32, 24]);
    expect(() => openFairVlmed(dir, 'test', { maxSampleBytes: 0 })).toThrow(
      /BAD_ARGUMENT: maxSampleBytes must be a positive integer/,
    );
  });

  test('a label entry declaring a large size is refused when the split is opened', () => {
    const dir = dataset('scalar');
    const path = join(dir, 'Test', 'data_00001.npz');
    const arrays = readNpz(readFileSync(path), path);
    arrays.set('race', { dtype: 'int64', shape: [20000], fortranOrder: false, data: new BigInt64Array(20000) });
    writeFileSync(path, encodeNpz(arrays, { compress: true }));
    expect(() => openFairVlmed(dir, 'test', { filter: 'none', textSource: 'label' })).toThrow(
      /TOO_LARGE: .*data_00001\.npz: entry "race\.npy" declares 160128 bytes \(156 KiB\) uncompressed, over the cap of 65536 bytes \(64 KiB\); a label or attribute entry holds one value/,
    );
  });
});

describe('non-finite pixels', () => {
  test.each([
    [Number.NaN, 'NaN', false],
    [Number.POSITIVE_INFINITY, 'Infinity', false],
    [Number.NEGATIVE_INFINITY, '-Infinity', true],
  ])(
    '%d in an image is IMAGE_NOT_FINITE naming the file, the value, row and column (Fortran order %s)',
    async (bad, shown, fortran) => {
      const dir = dataset(`nan-${shown}`);
      const path = join(dir, 'Test', 'data_00002.npz');
      const arrays = readNpz(readFileSync(path), path);
      const img = arrays.get('slo_fundus')!;
      const data = Float32Array.from(img.data as Float32Array);
      // Row 5, column 7 of the [32, 24] image, then row 30, column 1 (indices in file order: C or Fortran).
      const at = (r: number, c: number) => (fortran ? c * 32 + r : r * 24 + c);
      data[at(5, 7)] = bad;
      data[at(30, 1)] = Number.NaN;
      arrays.set('slo_fundus', { ...img, fortranOrder: fortran, data });
      writeFileSync(path, encodeNpz(arrays, { compress: true }));
      const e = await loadError(dir, 1);
      expect(e.code).toBe('IMAGE_NOT_FINITE');
      const [row, col] = fortran ? [30, 1] : [5, 7]; // the first in file order
      const first = fortran ? 'NaN' : shown;
      expect(e.message).toBe(
        `IMAGE_NOT_FINITE: ${path}: 'slo_fundus' holds 2 non-finite values (the first: ${first} at row ${row}, column ${col}): the image is damaged; re-export it, or pass skipCorrupt to skip such samples`,
      );
    },
  );
});

describe('data_summary.csv ages are strict decimals', () => {
  test.each(['0x1', '0b1', '0o7', 'Infinity', '1e999'])('age %s is refused', (age) => {
    const dir = join(tmp, `summary-${age}`);
    synthesizeFairVlmed(dir, { train: 1, val: 0, test: 0, seed: 3, imageShape: [16, 16] });
    const p = join(dir, 'data_summary.csv');
    const lines = readFileSync(p, 'utf8').split('\n');
    const cells = lines[1]!.split(',');
    cells[1] = age;
    lines[1] = cells.join(',');
    writeFileSync(p, lines.join('\n'));
    expect(() => readDataSummary(p)).toThrow(
      new RegExp(
        `UNKNOWN_ATTRIBUTE_VALUE: .*line 2, column 'age': unknown value "${age}" \\(expected a decimal number\\)`,
      ),
    );
  });
});
