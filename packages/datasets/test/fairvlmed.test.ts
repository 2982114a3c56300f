// The Harvard-FairVLMed adapter against a numpy/csv-written folder and the official fair_vl_med_dataset logic
// (test-fixtures/generators/datasets_fairvlmed_fixture.py), and every bad-input case of the issue.
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, encodeNpz, type FairVlmedAttribute, type NpyInput, writeZip } from '@fairclip/io';
import { fixturePath, readFixtureJson } from '@fairclip/test-fixtures';
import { afterAll, describe, expect, test } from 'vitest';
import {
  DatasetError,
  labelsAndAttributes,
  openFairVlmed,
  readDataSummary,
  type SkippedSample,
  type Split,
  stackImages,
} from '../src/index.ts';

interface Expected {
  file: string;
  kept: boolean;
  glaucoma: number;
  attributes: Record<FairVlmedAttribute, number>;
  age: number;
  md: number;
  note: string | null;
  caption: string | null;
  image_shape: [number, number];
  image_c_order: number[];
}
const fx = readFixtureJson<{ expected: Record<Split, Expected[]>; folders: Record<Split, string> }>(
  'datasets/fairvlmed-py.json',
);
const root = fixturePath('datasets/fairvlmed-py');
const tmp = mkdtempSync(join(tmpdir(), 'fairvlmed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let copies = 0;
/** A scratch copy of the Python-made dataset to damage. */
function copy(): string {
  const dir = join(tmp, `copy${copies++}`);
  cpSync(root, dir, { recursive: true });
  return dir;
}

function caught(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}
async function caughtAsync(fn: () => Promise<unknown>): Promise<DatasetError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

const scalar = (v: number): NpyInput => ({ dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(v)) });
function sampleNpz(over: Record<string, NpyInput | undefined> = {}): Uint8Array {
  const arrays: Record<string, NpyInput | undefined> = {
    slo_fundus: { dtype: 'float32', shape: [4, 3], data: new Float32Array(12).fill(7) },
    glaucoma: scalar(1),
    race: scalar(2),
    gender: scalar(0),
    ethnicity: scalar(0),
    language: scalar(0),
    maritalstatus: scalar(0),
    ...over,
  };
  return encodeNpz(
    Object.fromEntries(Object.entries(arrays).filter(([, v]) => v !== undefined)) as Record<string, NpyInput>,
  );
}

describe('against the official logic on numpy-written files', () => {
  test.each(['train', 'val', 'test'] as const)(
    '%s split: files, filter, labels, attributes, text, images',
    async (split) => {
      const ds = openFairVlmed(root, split);
      const want = fx.expected[split].filter((e) => e.kept);
      expect(ds.folder.endsWith(fx.folders[split])).toBe(true);
      expect(ds.summaryFile?.endsWith('gpt4_summarized_notes.csv')).toBe(true);
      expect(ds.records.map((r) => r.file)).toEqual(want.map((e) => e.file));
      expect(ds.filteredOut).toEqual(fx.expected[split].filter((e) => !e.kept).map((e) => e.file));
      for (let i = 0; i < want.length; i++) {
        const r = ds.records[i]!;
        const e = want[i]!;
        expect(r.glaucoma, e.file).toBe(e.glaucoma);
        expect(r.attributes, e.file).toEqual(e.attributes);
        expect(r.age, e.file).toBe(e.age);
        expect(r.md, e.file).toBe(e.md);
        expect(r.note ?? null, e.file).toBe(e.note);
        expect(r.caption ?? null, e.file).toBe(e.caption);
        const s = await ds.load(i);
        expect(s.image.shape).toEqual(e.image_shape);
        expect(Array.from(s.image.data)).toEqual(e.image_c_order);
      }
    },
  );

  test('the captions include the truncation cases (a cut at a space, and the no-space quirk)', () => {
    const train = fx.expected.train;
    expect(train.some((e) => e.note !== null && [...e.note].length > 180 && e.note.includes(' '))).toBe(true);
    const noSpace = train.find((e) => e.note?.startsWith('XXXX'));
    expect(noSpace?.caption?.length).toBe(179);
  });

  test("filter 'none' keeps the unknowns; 'known' also drops them from training", () => {
    expect(openFairVlmed(root, 'val', { filter: 'none' }).size).toBe(fx.expected.val.length);
    const known = openFairVlmed(root, 'train', { filter: 'known' });
    expect(
      known.records.every((r) =>
        ['race', 'gender', 'ethnicity', 'language'].every((a) => r.attributes[a as FairVlmedAttribute] !== -1),
      ),
    ).toBe(true);
    expect(known.size).toBeLessThan(fx.expected.train.length);
  });

  test("textSource 'label' gives the label captions", () => {
    const ds = openFairVlmed(root, 'train', { textSource: 'label' });
    for (const r of ds.records) expect(r.caption).toBe(r.glaucoma ? 'A photo of glaucoma' : 'A photo of non-glaucoma');
  });

  test('batches stack images and give the official label tensor', async () => {
    const ds = openFairVlmed(root, 'val');
    const samples = [await ds.load(0), await ds.load(0)];
    const stacked = stackImages(samples);
    expect(stacked.shape).toEqual([2, ...samples[0]!.image.shape]);
    const r = ds.records[0]!;
    expect(Array.from(labelsAndAttributes(ds.records.slice(0, 1)))).toEqual([
      r.glaucoma,
      r.attributes.race,
      r.attributes.gender,
      r.attributes.ethnicity,
      r.attributes.language,
    ]);
    expect(() => stackImages([samples[0]!, { image: { data: new Float32Array(1), shape: [1, 1] } }])).toThrow(
      DatasetError,
    );
  });

  test('data_summary.csv decodes to the npz codes', () => {
    const rows = readDataSummary(join(root, 'data_summary.csv'));
    const all = [...fx.expected.train, ...fx.expected.val, ...fx.expected.test];
    expect(rows.length).toBe(all.length);
    for (const row of rows) {
      const e = all.find((x) => x.file === row.filename)!;
      expect(row.attributes).toEqual(e.attributes);
      expect(row.glaucoma).toBe(e.glaucoma);
    }
  });
});

describe('bad input: a clear error naming the file and the problem', () => {
  test('a missing dataset folder', () => {
    const e = caught(() => openFairVlmed(join(tmp, 'nope'), 'train'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.file).toBe(join(tmp, 'nope'));
  });

  test('a missing split folder names the accepted spellings', () => {
    const dir = copy();
    rmSync(join(dir, 'Testing'), { recursive: true });
    const e = caught(() => openFairVlmed(dir, 'test'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/Test\/ or Testing\//);
  });

  test('a missing summaries file (training text)', () => {
    const dir = copy();
    unlinkSync(join(dir, 'gpt4_summarized_notes.csv'));
    const e = caught(() => openFairVlmed(dir, 'train'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/gpt-4_summarized_notes\.csv or gpt4_summarized_notes\.csv/);
    // Validation does not need the text.
    expect(openFairVlmed(dir, 'val').size).toBeGreaterThan(0);
  });

  test('both summary spellings are found', () => {
    const dir = copy();
    renameSync(join(dir, 'gpt4_summarized_notes.csv'), join(dir, 'gpt-4_summarized_notes.csv'));
    expect(openFairVlmed(dir, 'train').summaryFile).toBe(join(dir, 'gpt-4_summarized_notes.csv'));
  });

  test('a truncated npz; skipCorrupt reports and skips it', () => {
    const dir = copy();
    const p = join(dir, 'Training', 'data_00012.npz');
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, bytes.length - 30));
    const e = caught(() => openFairVlmed(dir, 'train'));
    expect(e.code).toBe('ZIP_CORRUPT');
    expect(e.file).toBe(p);
    const reported: SkippedSample[] = [];
    const ds = openFairVlmed(dir, 'train', { skipCorrupt: true, onSkip: (s) => reported.push(s) });
    expect(ds.records.map((r) => r.file)).not.toContain('data_00012.npz');
    expect(ds.size).toBe(fx.expected.train.length - 1);
    expect(reported.map((s) => s.file)).toEqual([p]);
    expect(ds.skipped).toEqual(reported);
  });

  test('a corrupt image entry fails at load time; the loader skips it with skipCorrupt', async () => {
    const dir = copy();
    const p = join(dir, 'Validation', 'data_00200.npz');
    // Rebuild the file with the image entry's CRC damaged (flip a byte in the stored image data).
    const stored = writeZip(
      [
        { name: 'slo_fundus.npy', data: encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(4) }) },
        ...['glaucoma', 'race', 'gender', 'ethnicity', 'language'].map((k) => ({
          name: `${k}.npy`,
          data: encodeNpy(scalar(k === 'race' ? 1 : 0)),
        })),
      ],
      { compress: false },
    );
    stored[30 + 'slo_fundus.npy'.length + 130]! ^= 0xff;
    writeFileSync(p, stored);
    const ds = openFairVlmed(dir, 'val');
    const i = ds.records.findIndex((r) => r.file === 'data_00200.npz');
    const e = await caughtAsync(() => ds.load(i));
    expect(e.code).toBe('ZIP_CORRUPT');
    expect(e.message).toMatch(/CRC-32 mismatch/);
    expect(e.file).toBe(p);
    const skipped: SkippedSample[] = [];
    const seen: string[] = [];
    const loader = openFairVlmed(dir, 'val', { skipCorrupt: true, onSkip: (s) => skipped.push(s) }).loader({
      batchSize: 2,
    });
    for await (const b of loader.epoch(0)) for (const s of b.items) seen.push(s.file);
    expect(seen).toEqual(ds.records.map((r) => r.file).filter((f) => f !== 'data_00200.npz'));
    expect(skipped.map((s) => s.file)).toEqual([p]);
    // Without skipCorrupt the loader fails with the same error.
    const strict = ds.loader({ batchSize: 2 });
    const e2 = await caughtAsync(async () => {
      for await (const _ of strict.epoch(0)) {
        // drain
      }
    });
    expect(e2.code).toBe('ZIP_CORRUPT');
  });

  const npzCases: [string, () => Uint8Array, string, RegExp][] = [
    ['a missing key', () => sampleNpz({ race: undefined }), 'NPZ_MISSING_KEY', /'race'/],
    [
      'an unknown attribute value',
      () => sampleNpz({ race: scalar(7) }),
      'UNKNOWN_ATTRIBUTE_VALUE',
      /'race' = 7.*-1\.\.2/,
    ],
    ['a glaucoma label of -1', () => sampleNpz({ glaucoma: scalar(-1) }), 'UNKNOWN_ATTRIBUTE_VALUE', /'glaucoma' = -1/],
    [
      'a non-integer code',
      () => sampleNpz({ gender: { dtype: 'float64', shape: [], data: Float64Array.of(0.5) } }),
      'UNKNOWN_ATTRIBUTE_VALUE',
      /'gender' = 0\.5/,
    ],
    [
      'an attribute with several values',
      () => sampleNpz({ language: { dtype: 'int64', shape: [2], data: BigInt64Array.of(0n, 1n) } }),
      'BAD_SHAPE',
      /'language'.*shape \(2\)/,
    ],
    [
      'an entry path outside the dataset',
      () =>
        writeZip([
          { name: 'race.npy', data: encodeNpy(scalar(0)) },
          { name: 'escape_placeholder.npy', data: encodeNpy(scalar(0)) },
        ]),
      'ZIP_UNSAFE_PATH',
      /\.\./,
    ],
    [
      'a wrong npy magic',
      () => writeZip([{ name: 'race.npy', data: new TextEncoder().encode('not an npy file at all') }]),
      'NPY_BAD_MAGIC',
      /race\.npy/,
    ],
    [
      'an unsupported dtype',
      () => {
        const npy = encodeNpy(scalar(0));
        const text = new TextDecoder('latin1').decode(npy).replace("'<i8'", "'<c8'");
        return writeZip([{ name: 'race.npy', data: Uint8Array.from(text, (c) => c.charCodeAt(0)) }]);
      },
      'NPY_UNSUPPORTED_DTYPE',
      /'<c8'/,
    ],
    [
      'an npy header declaring more data than the file holds',
      () => {
        const npy = encodeNpy({ dtype: 'int64', shape: [3], data: BigInt64Array.of(1n, 2n, 3n) });
        return writeZip([{ name: 'race.npy', data: npy.subarray(0, npy.length - 8) }]);
      },
      'NPY_TRUNCATED',
      /declares shape \(3\) of int64 = 24 bytes.*holds 16/,
    ],
  ];
  test.each(npzCases)('%s', (_label, make, code, message) => {
    const dir = copy();
    const p = join(dir, 'Validation', 'data_00202.npz');
    let bytes = make();
    if (code === 'ZIP_UNSAFE_PATH') {
      // writeZip refuses unsafe names, so patch the name bytes in place (same length) in both headers.
      const s = Buffer.from(bytes);
      const from = Buffer.from('escape_placeholder.npy');
      const to = Buffer.from('../../../escape_xx.npy');
      expect(to.length).toBe(from.length);
      let at = s.indexOf(from);
      while (at >= 0) {
        to.copy(s, at);
        at = s.indexOf(from, at + 1);
      }
      bytes = new Uint8Array(s);
    }
    writeFileSync(p, bytes);
    const e = caught(() => openFairVlmed(dir, 'val'));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.message).toContain(p);
    const ds = openFairVlmed(dir, 'val', { skipCorrupt: true });
    expect(ds.skipped.map((s) => s.error.code)).toEqual([code]);
  });

  test('an image that is not 2-D', async () => {
    const dir = copy();
    const p = join(dir, 'Validation', 'data_00202.npz');
    writeFileSync(p, sampleNpz({ slo_fundus: { dtype: 'uint8', shape: [2, 2, 3], data: new Uint8Array(12) } }));
    const ds = openFairVlmed(dir, 'val');
    const i = ds.records.findIndex((r) => r.file === 'data_00202.npz');
    const e = await caughtAsync(() => ds.load(i));
    expect(e.code).toBe('BAD_SHAPE');
    expect(e.message).toMatch(/2-D grayscale.*\(2, 2, 3\)/);
  });

  test('a summaries CSV missing the summary column', () => {
    const dir = copy();
    writeFileSync(join(dir, 'gpt4_summarized_notes.csv'), 'File Name,Original Note\ndata_00003.npz,x\n');
    const e = caught(() => openFairVlmed(dir, 'train'));
    expect(e.code).toBe('CSV_MISSING_COLUMN');
    expect(e.file).toBe(join(dir, 'gpt4_summarized_notes.csv'));
  });

  test('a malformed CSV (unterminated quote) names the line', () => {
    const dir = copy();
    writeFileSync(join(dir, 'gpt4_summarized_notes.csv'), 'File Name,Original Note,Summarized Note\na,b,c\nd,"e,f\n');
    const e = caught(() => openFairVlmed(dir, 'train'));
    expect(e.code).toBe('CSV_PARSE');
    expect(e.message).toMatch(/line 3: unterminated quoted field/);
  });

  test('a training file without a summary; skipCorrupt skips it', () => {
    const dir = copy();
    const csv = readFileSync(join(dir, 'gpt4_summarized_notes.csv'), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('data_00003.npz'))
      .join('\n');
    writeFileSync(join(dir, 'gpt4_summarized_notes.csv'), csv);
    const e = caught(() => openFairVlmed(dir, 'train'));
    expect(e.code).toBe('MISSING_TEXT');
    expect(e.message).toMatch(/data_00003\.npz/);
    const ds = openFairVlmed(dir, 'train', { skipCorrupt: true });
    expect(ds.skipped.map((s) => s.error.code)).toEqual(['MISSING_TEXT']);
  });

  test('data_summary.csv missing a column, or with an unknown value', () => {
    const dir = copy();
    const p = join(dir, 'data_summary.csv');
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, text.replace('filename,age,gender,race,', 'filename,age,gender,ancestry,'));
    let e = caught(() => readDataSummary(p));
    expect(e.code).toBe('CSV_MISSING_COLUMN');
    expect(e.message).toMatch(/'race'/);
    writeFileSync(p, text.replace(',female,', ',martian,'));
    e = caught(() => readDataSummary(p));
    expect(e.code).toBe('UNKNOWN_ATTRIBUTE_VALUE');
    expect(e.message).toMatch(/line 2, column 'gender': unknown value "martian"/);
  });

  test('bad options', () => {
    expect(caught(() => openFairVlmed(root, 'val', { textSource: 'x' as 'note' })).code).toBe('BAD_ARGUMENT');
    expect(caught(() => openFairVlmed(root, 'val', { filter: 'x' as 'none' })).code).toBe('BAD_ARGUMENT');
    const ds = openFairVlmed(root, 'val');
    expect(caught(() => ds.loader({ batchSize: 0 })).code).toBe('BAD_ARGUMENT');
  });
});
