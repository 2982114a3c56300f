// Hostile sizes: every size a file declares is capped before anything is allocated (TOO_LARGE naming the file, the
// entry, the declared size, the cap and how to raise it); a 2 GiB honest npz bomb stays under 400 MB in a child
// process; shapes whose products overflow 2^53 or 2^63; the strict decimal parser of CSV numbers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_MAX_ENTRY_BYTES,
  encodeNpz,
  IoError,
  listZipEntries,
  openNpz,
  parseDecimal,
  parseNpy,
  readNpz,
  readNpzFileAsync,
  readNpzKeys,
  readZipEntry,
  writeZip,
  ZipFileReader,
} from '../src/index.ts';
import { decodeEntry, decodeEntryAsync } from '../src/zip/read.ts';
import { writeHonestNpzBomb } from './bomb.ts';
import { numpyUnavailable, runPythonJson } from './python.ts';
import { runScript } from './spawn-script.ts';

const tmp = mkdtempSync(join(tmpdir(), 'io-caps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function caught(fn: () => unknown): IoError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IoError);
    expect((e as Error).message).not.toMatch(/\n/);
    return e as IoError;
  }
  throw new Error('expected an IoError, nothing was thrown');
}
async function caughtAsync(fn: () => Promise<unknown>): Promise<IoError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IoError);
    return e as IoError;
  }
  throw new Error('expected an IoError, nothing was thrown');
}

const image = { dtype: 'float32' as const, shape: [64, 64], data: new Float32Array(64 * 64).fill(0.5) };

describe('maxEntryBytes', () => {
  test('the default is 1 GiB', () => {
    expect(DEFAULT_MAX_ENTRY_BYTES).toBe(2 ** 30);
  });

  test.each([true, false])(
    'every reader refuses an entry over the cap before reading it (compress %s), and reads it under the cap',
    async (compress) => {
      const npz = encodeNpz({ slo_fundus: image }, { compress });
      const path = join(tmp, `cap-${compress}.npz`);
      writeFileSync(path, npz);
      const declared = 64 * 64 * 4 + 128;
      const cap = { maxEntryBytes: 16_000 };
      const expected = new RegExp(
        `^TOO_LARGE: .*cap-${compress}\\.npz: entry "slo_fundus\\.npy" declares ${declared} bytes \\(16\\.1 KiB\\) uncompressed, over the cap of 16000 bytes \\(15\\.6 KiB\\); if the file is trusted, raise the cap with the maxEntryBytes option$`,
      );
      const [entry] = listZipEntries(npz, path);
      expect(entry!.uncompressedSize).toBe(declared);
      expect(caught(() => readZipEntry(npz, entry!, path, cap)).message).toMatch(expected);
      expect(caught(() => decodeEntry(new Uint8Array(0), entry!, path, cap)).message).toMatch(expected);
      expect((await caughtAsync(() => decodeEntryAsync(new Uint8Array(0), entry!, path, cap))).message).toMatch(
        expected,
      );
      expect(caught(() => readNpz(npz, path, cap)).message).toMatch(expected);
      expect(caught(() => openNpz(npz, path, cap).get('slo_fundus')).message).toMatch(expected);
      expect(caught(() => readNpzKeys(path, ['slo_fundus'], cap)).message).toMatch(expected);
      expect((await caughtAsync(() => readNpzFileAsync(path, undefined, cap))).message).toMatch(expected);
      const z = ZipFileReader.open(path);
      expect(caught(() => z.read(entry!, cap)).code).toBe('TOO_LARGE');
      z.close();
      // At the cap: read.
      expect(readNpz(npz, path, { maxEntryBytes: declared }).get('slo_fundus')!.data[0]).toBe(0.5);
      expect(
        caught(() => readNpz(npz, path, { maxEntryBytes: 100, capHint: 'pass --max-bytes to raise it' })).message,
      ).toMatch(/over the cap of 100 bytes; pass --max-bytes to raise it$/);
    },
  );

  test('a cap that is not a non-negative safe integer is BAD_ARGUMENT', () => {
    const npz = encodeNpz({ a: image });
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) {
      expect(caught(() => readNpz(npz, 'a.npz', { maxEntryBytes: bad })).code).toBe('BAD_ARGUMENT');
    }
  });

  test("a deflated entry declaring more than deflate's 1032:1 can give is ZIP_CORRUPT before inflating", () => {
    const zip = writeZip([{ name: 'a.npy', data: new Uint8Array(100) }], { compress: true });
    const [entry] = listZipEntries(zip, 'a.zip');
    const lying = { ...entry!, uncompressedSize: entry!.compressedSize * 1032 + 1025 };
    const e = caught(() => readZipEntry(zip, lying, 'a.zip'));
    expect(e.code).toBe('ZIP_CORRUPT');
    expect(e.message).toMatch(/declares \d+ bytes uncompressed, more than its \d+ deflated bytes can hold/);
  });

  test('long entry names are cut in messages', () => {
    const name = `${'x'.repeat(5000)}.npy`;
    const npz = writeZip([{ name, data: new Uint8Array(2000) }]);
    const e = caught(() => readNpz(npz, 'long.npz', { maxEntryBytes: 10 }));
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).toContain('xxx"…');
  });
});

describe('the honest 2 GiB npz bomb', () => {
  test('the construction is honest: Python zipfile inflates a small one to the declared size with a valid CRC', () => {
    const path = join(tmp, 'honest-8m.npz');
    const { declared } = writeHonestNpzBomb(path, 'slo_fundus', 8);
    if (numpyUnavailable() !== undefined) {
      expect(readNpz(readFileSync(path), path).get('slo_fundus')!.shape).toEqual([declared - 128]);
      return;
    }
    const py = runPythonJson<{ size: number; read: number; shape: number[]; nonzero: number }>(
      [
        'import json, sys, zipfile, numpy as np',
        'z = zipfile.ZipFile(sys.argv[1]); i = z.infolist()[0]',
        'a = np.load(z.open(i))',
        'print(json.dumps({"size": i.file_size, "read": int(a.nbytes) + 128, "shape": list(a.shape), "nonzero": int(np.count_nonzero(a))}))',
      ].join('\n'),
      [path],
    );
    expect(py).toEqual({ size: declared, read: declared, shape: [declared - 128], nonzero: 0 });
  });

  test('every reader refuses it with TOO_LARGE; the child process peaks under 400 MB', async () => {
    const path = join(tmp, 'bomb-2g.npz');
    const { bytes, declared } = writeHonestNpzBomb(path, 'slo_fundus', 2048);
    expect(declared).toBe(2 ** 31);
    expect(bytes).toBeLessThan(4 * 1024 * 1024);
    const r = await runScript('npz-bomb.ts', [path]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      results: { reader: string; code: string; message: string }[];
      maxRSS: number;
    };
    expect(out.results.map((x) => x.reader)).toEqual([
      'readNpz',
      'openNpz',
      'readNpzKeys',
      'readNpzFileAsync',
      'ZipFileReader',
    ]);
    for (const x of out.results) {
      expect(x.code, x.reader).toBe('TOO_LARGE');
      expect(x.message).toBe(
        `TOO_LARGE: ${path}: entry "slo_fundus.npy" declares 2147483648 bytes (2 GiB) uncompressed, over the cap of 1073741824 bytes (1 GiB); if the file is trusted, raise the cap with the maxEntryBytes option`,
      );
    }
    console.log(`[bomb] honest 2 GiB npz entry: peak RSS ${(out.maxRSS / 1024).toFixed(0)} MB`);
    expect(out.maxRSS).toBeLessThan(400 * 1024);
  });
});

describe('npy shapes inflated beyond the data', () => {
  const npy = (shape: string, descr = '<f8', data = 16) => {
    const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
    const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
    const out = new Uint8Array(total + data);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, (total - 10) & 0xff, (total - 10) >> 8]);
    out.set(new TextEncoder().encode(`${dict}${' '.repeat(total - 10 - dict.length - 1)}\n`), 10);
    return out;
  };

  test.each([
    ['(2, 3)', /NPY_TRUNCATED: .*shape \(2, 3\) of float64 = 48 bytes of data, but the file holds 16/],
    ['(4503599627370496,)', /NPY_TRUNCATED: .*= more than 2\^53 bytes of data, but the file holds 16/],
    ['(134217728, 134217728)', /NPY_TRUNCATED: .*more than 2\^53 bytes/],
    ['(4294967296, 4294967296, 0)', /NPY_BAD_HEADER: .*more than 2\^63 elements/],
    ['(18446744073709551616,)', /NPY_BAD_HEADER: .*integer too large/],
    [`(${'1, '.repeat(65)})`, /NPY_BAD_HEADER: .*65 dimensions/],
    [`${'('.repeat(40)}1,${')'.repeat(40)}`, /NPY_BAD_HEADER: .*nested more than 32 levels/],
  ])('shape %s', (shape, message) => {
    expect(caught(() => parseNpy(npy(shape), 'inflated.npy')).message).toMatch(message);
  });

  test('an empty array with a huge dimension is read without allocating', () => {
    expect(parseNpy(npy('(0, 4503599627370496)'), 'empty.npy').shape).toEqual([0, 4503599627370496]);
  });

  test('a header longer than numpy allows is refused', () => {
    const big = new Uint8Array(12 + 20_000);
    big.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    new DataView(big.buffer).setUint32(8, 20_000, true);
    expect(caught(() => parseNpy(big, 'long.npy')).message).toMatch(/NPY_BAD_HEADER: .*20000 bytes, more than numpy/);
  });
});

describe('parseDecimal', () => {
  test.each([
    ['0', 0],
    ['-0.25', -0.25],
    ['+3', 3],
    ['1e-3', 0.001],
    ['2.5E+2', 250],
    ['.5', 0.5],
    ['5.', 5],
    ['  7\t', 7],
    ['1e308', 1e308],
  ])('%j reads as %d (as Python float())', (text, want) => {
    expect(parseDecimal(text, "line 2, column 'score'")).toBe(want);
  });

  test.each([
    '0x1',
    '0b1',
    '0o7',
    '',
    ' ',
    'Infinity',
    '-inf',
    'NaN',
    'nan',
    '1_000',
    '1,5',
    '1e',
    'e3',
    '.',
    '--1',
    '٣',
    '1e999',
    '0x',
    '1 2',
  ])('%j is BAD_NUMBER naming where', (text) => {
    const e = caught(() => parseDecimal(text, "line 2, column 'score'", 'scores.csv'));
    expect(e.code).toBe('BAD_NUMBER');
    expect(e.message).toMatch(
      /^BAD_NUMBER: scores\.csv: line 2, column 'score': ".*" is (not a decimal number|beyond)/,
    );
  });

  test('a long value is cut in the message', () => {
    expect(caught(() => parseDecimal('x'.repeat(10_000), 'cell')).message.length).toBeLessThan(300);
  });
});
