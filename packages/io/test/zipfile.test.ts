// Zip files on disk (positioned reads), large central directories and zip64 end records, checked with Python's
// zipfile as the reference reader.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@fairclip/test-fixtures';
import { afterAll, describe, expect, test } from 'vitest';
import { listZipEntries, readNpzKeys, readZipEntry, writeZip, ZipFileReader } from '../src/index.ts';
import { numpyUnavailable, runPythonJson } from './python.ts';

const tmp = mkdtempSync(join(tmpdir(), 'zipfile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ZipFileReader', () => {
  test('reads single entries of numpy files (zip64 local headers, zip64 end records) without reading the rest', () => {
    for (const name of ['stored', 'deflated', 'zip64']) {
      const path = fixturePath(`datasets/npz/${name}.npz`);
      const arrays = readNpzKeys(path, ['race', 'md', 'absent']);
      expect([...arrays.keys()]).toEqual(['race', 'md']);
      expect(arrays.get('race')!.data[0]).toBe(2n);
      expect(arrays.get('md')!.data[0]).toBe(-3.25);
    }
  });

  test('a central directory larger than the tail the reader fetches first (4,000 entries)', () => {
    const n = 4000;
    const inputs = Array.from({ length: n }, (_, i) => ({
      name: `folder_with_a_long_name/entry_${String(i).padStart(6, '0')}.bin`,
      data: Uint8Array.of(i & 0xff, (i >> 8) & 0xff),
    }));
    const zip = writeZip(inputs, { compress: false });
    const path = join(tmp, 'many.zip');
    writeFileSync(path, zip);
    const reader = ZipFileReader.open(path);
    try {
      expect(reader.entries.length).toBe(n);
      expect(Array.from(reader.read(reader.entries[n - 1]!))).toEqual([(n - 1) & 0xff, (n - 1) >> 8]);
      expect(Array.from(reader.read(reader.entries[1234]!))).toEqual([1234 & 0xff, 1234 >> 8]);
    } finally {
      reader.close();
    }
  });

  test.each([false, true])('forced zip64 records (compress %s): we and Python zipfile read them', (compress) => {
    const inputs = [
      { name: 'a.npy', data: new TextEncoder().encode('x'.repeat(3000)) },
      { name: 'dir/b.bin', data: Uint8Array.of(1, 2, 3) },
      { name: 'empty', data: new Uint8Array(0) },
    ];
    const zip = writeZip(inputs, { compress, forceZip64: true });
    expect(Buffer.from(zip).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    const path = join(tmp, `z64-${compress}.zip`);
    writeFileSync(path, zip);
    const entries = listZipEntries(zip, path);
    expect(entries.map((e) => [e.name, e.uncompressedSize])).toEqual(inputs.map((e) => [e.name, e.data.length]));
    entries.forEach((e, i) =>
      expect(Buffer.from(readZipEntry(zip, e, path)).equals(Buffer.from(inputs[i]!.data))).toBe(true),
    );
    const reader = ZipFileReader.open(path);
    expect(Array.from(reader.read(reader.entry('dir/b.bin')!))).toEqual([1, 2, 3]);
    reader.close();
    if (numpyUnavailable() === undefined) {
      const py = runPythonJson<[string, number, string][]>(
        'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([[i.filename, i.file_size, z.read(i)[:4].hex()] for i in z.infolist()]))',
        [path],
      );
      expect(py).toEqual(
        inputs.map((e) => [e.name, e.data.length, Buffer.from(e.data.subarray(0, 4)).toString('hex')]),
      );
    }
  });

  test('errors name the file', () => {
    expect(() => ZipFileReader.open(join(tmp, 'missing.zip'))).toThrow(/NOT_FOUND: .*missing\.zip/);
    const bad = join(tmp, 'bad.zip');
    writeFileSync(bad, 'not a zip');
    expect(() => ZipFileReader.open(bad)).toThrow(/ZIP_CORRUPT: .*bad\.zip/);
  });
});
