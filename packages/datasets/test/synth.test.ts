// The synthetic FairVLMed: read back by numpy (the reference reader) and by our adapter, group proportions against
// the published statistics, the label signal in the images, the bias knob, and the committed mini copy.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpz, SeededRng } from '@fairclip/io';
import { fixturePath, readFixtureJson } from '@fairclip/test-fixtures';
import { afterAll, describe, expect, test } from 'vitest';
import { renderFundus } from '../src/fairvlmed/synth.ts';
import {
  computeStats,
  openFairVlmed,
  readDataSummary,
  readSummaries,
  SYNTH_PROPORTIONS,
  type SynthOptions,
  synthesizeFairVlmed,
  synthSamples,
  truncateNote,
} from '../src/index.ts';
import { numpyUnavailable, runPythonJson } from './python.ts';

const tmp = mkdtempSync(join(tmpdir(), 'synth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const small: SynthOptions = { train: 10, val: 6, test: 6, seed: 11, bias: 0.5, imageShape: [40, 32] };
const dir = join(tmp, 'small');
const samples = synthesizeFairVlmed(dir, small);

describe('format', () => {
  test.skipIf(numpyUnavailable() !== undefined)('numpy.load reads every file with the real keys and dtypes', () => {
    const script = `
import json, os, sys, numpy as np
out = {}
for folder in ('Training', 'Validation', 'Test'):
    for f in sorted(os.listdir(os.path.join(sys.argv[1], folder))):
        z = np.load(os.path.join(sys.argv[1], folder, f), allow_pickle=False)
        out[f] = {k: [z[k].dtype.str, list(z[k].shape), float(z[k].astype(np.float64).sum())] for k in z.files}
print(json.dumps(out))`;
    const got = runPythonJson<Record<string, Record<string, [string, number[], number]>>>(script, [dir]);
    expect(Object.keys(got).length).toBe(samples.length);
    for (const s of samples) {
      const z = got[s.file]!;
      expect(Object.keys(z).sort()).toEqual(
        [
          'age',
          'ethnicity',
          'gender',
          'glaucoma',
          'language',
          'maritalstatus',
          'md',
          'race',
          'slo_fundus',
          'tds',
        ].sort(),
      );
      expect(z.slo_fundus!.slice(0, 2)).toEqual(['<f4', [40, 32]]);
      expect(z.tds!.slice(0, 2)).toEqual(['<f8', [52]]);
      for (const k of ['age', 'md']) expect(z[k]!.slice(0, 2)).toEqual(['<f8', []]);
      for (const k of ['gender', 'race', 'ethnicity', 'language', 'maritalstatus', 'glaucoma']) {
        expect(z[k]!.slice(0, 2)).toEqual(['<i8', []]);
      }
      expect(z.glaucoma![2]).toBe(s.glaucoma);
      expect(z.race![2]).toBe(s.attributes.race);
      expect(z.age![2]).toBe(s.age);
      // numpy's pixel sum equals ours.
      const folder = { train: 'Training', val: 'Validation', test: 'Test' }[s.split];
      const ours = readNpz(new Uint8Array(readFileSync(join(dir, folder, s.file))), s.file).get('slo_fundus')!;
      expect((ours.data as Float32Array).reduce((a, b) => a + b, 0)).toBe(z.slo_fundus![2]);
    }
  });

  test('the CSVs have the real columns and agree with the npz files', () => {
    const head = (f: string) => readFileSync(join(dir, f), 'utf8').split('\n')[0];
    expect(head('gpt-4_summarized_notes.csv')).toBe('File Name,Original Note,Summarized Note');
    expect(head('data_summary.csv')).toBe(
      'filename,age,gender,race,ethnicity,language,maritalstatus,note,gpt4_summary,glaucoma,use',
    );
    const rows = readDataSummary(join(dir, 'data_summary.csv'));
    expect(rows.map((r) => r.filename)).toEqual(samples.map((s) => s.file));
    rows.forEach((r, i) => {
      expect(r.attributes).toEqual(samples[i]!.attributes);
      expect(r.use).toBe(samples[i]!.split);
    });
    const summaries = readSummaries(join(dir, 'gpt-4_summarized_notes.csv'));
    for (const s of samples) expect(summaries.get(s.file)).toBe(s.summary);
    const check = computeStats(dir).summaryCheck!;
    expect(check.disagreements).toEqual([]);
    expect(check.missingFromCsv).toEqual([]);
  });

  test('the adapter reads it back: records, official filter, captions', async () => {
    for (const split of ['train', 'val', 'test'] as const) {
      const ds = openFairVlmed(dir, split);
      const want = samples.filter(
        (s) =>
          s.split === split &&
          (split === 'train' ||
            ['race', 'gender', 'ethnicity', 'language'].every((a) => s.attributes[a as 'race'] !== -1)),
      );
      expect(ds.records.map((r) => r.file)).toEqual(want.map((s) => s.file));
      ds.records.forEach((r, i) => {
        expect(r.glaucoma).toBe(want[i]!.glaucoma);
        expect(r.attributes).toEqual(want[i]!.attributes);
        expect(r.md).toBe(want[i]!.md);
        expect(r.caption).toBe(truncateNote(want[i]!.summary));
      });
      if (ds.size > 0) expect((await ds.load(0)).image.shape).toEqual([40, 32]);
    }
  });

  test('same seed, same data; another seed, other data', () => {
    const again = synthSamples(small);
    expect(again).toEqual(samples);
    const other = synthSamples({ ...small, seed: 12 });
    expect(other.map((s) => s.summary)).not.toEqual(samples.map((s) => s.summary));
  });

  test('bad options are typed errors', () => {
    expect(() => synthSamples({ ...small, train: -1 })).toThrow(/--train/);
    expect(() => synthSamples({ ...small, bias: 2 })).toThrow(/bias/);
    expect(() => synthSamples({ ...small, imageShape: [3, 3] })).toThrow(/imageShape/);
  });
});

describe('content', () => {
  const many = synthSamples({ train: 20_000, val: 0, test: 0, seed: 5, bias: 1 });
  const share = (f: (s: (typeof many)[number]) => boolean, among = many) => among.filter(f).length / among.length;
  // 4.5 binomial standard deviations.
  const near = (p: number, q: number, n: number) =>
    expect(Math.abs(p - q)).toBeLessThan(4.5 * Math.sqrt((q * (1 - q)) / n) + 1e-9);

  test('group proportions match the published statistics (fairclip.md §1.5)', () => {
    const n = many.length;
    SYNTH_PROPORTIONS.race.forEach((q, g) =>
      near(
        share((s) => s.attributes.race === g),
        q,
        n,
      ),
    );
    SYNTH_PROPORTIONS.gender.forEach((q, g) =>
      near(
        share((s) => s.attributes.gender === g),
        q,
        n,
      ),
    );
    near(
      share((s) => s.attributes.ethnicity === 0),
      0.906,
      n,
    );
    near(
      share((s) => s.attributes.ethnicity === 1),
      0.04,
      n,
    );
    near(
      share((s) => s.attributes.language === 0),
      0.925,
      n,
    );
    near(
      share((s) => s.attributes.language === 1),
      0.017,
      n,
    );
    near(
      share((s) => s.attributes.maritalstatus === 0),
      0.574,
      n,
    );
    near(
      share((s) => s.attributes.maritalstatus === 1),
      0.264,
      n,
    );
    SYNTH_PROPORTIONS.glaucomaByRace.forEach((q, g) => {
      const group = many.filter((s) => s.attributes.race === g);
      near(
        share((s) => s.glaucoma === 1, group),
        q,
        group.length,
      );
    });
    const ages = many.map((s) => s.age);
    const mean = ages.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean - 60.9)).toBeLessThan(0.5);
  });

  test('labels follow the VF rule: glaucoma MD < -3 dB, normal MD >= -1 dB; summaries state the label', () => {
    for (const s of many.slice(0, 2000)) {
      if (s.glaucoma) expect(s.md).toBeLessThan(-3);
      else expect(s.md).toBeGreaterThanOrEqual(-1);
      expect(/no glaucoma|no signs of glaucoma|without glaucoma|not to have glaucoma/.test(s.summary)).toBe(
        !s.glaucoma,
      );
    }
    expect(many.some((s) => [...s.summary].length > 180)).toBe(true);
  });

  test('the image carries the label: a glaucomatous cup is a larger bright area', () => {
    const bright = (cdr: number) =>
      renderFundus(new SeededRng(3), [664, 512], cdr, 0).reduce((a, v) => a + (v > 180 ? 1 : 0), 0);
    const normal = bright(0.35);
    const glaucoma = bright(0.7);
    expect(glaucoma).toBeGreaterThan(1.5 * normal);
  });

  test('bias weakens the signal for the disadvantaged groups only', () => {
    const gap = (bias: number, race: number) => {
      const xs = synthSamples({ train: 6000, val: 0, test: 0, seed: 9, bias }).filter(
        (s) => s.attributes.race === race && s.attributes.ethnicity !== 1,
      );
      const m = (g: number) => {
        const a = xs.filter((s) => s.glaucoma === g).map((s) => s.cupToDisc);
        return a.reduce((x, y) => x + y, 0) / a.length;
      };
      return m(1) - m(0);
    };
    // Expected cup-to-disc gap: 0.35 × (1 − bias × disadvantage); white 0, asian 0.5, black 1.
    expect(gap(0, 1)).toBeCloseTo(0.35, 1);
    expect(gap(1, 1)).toBeCloseTo(0, 1);
    expect(gap(1, 0)).toBeCloseTo(0.175, 1);
    expect(gap(1, 2)).toBeCloseTo(0.35, 1);
  });
});

describe('the committed mini copy (test-fixtures/data/fairvlmed-mini)', () => {
  const mini = fixturePath('fairvlmed-mini');
  const prov = readFixtureJson<{
    seed: number;
    options: SynthOptions & { imageShape: [number, number] };
    command: string;
  }>('fairvlmed-mini/synth.json');

  test('has the recorded sizes, real image shape, and stays small', () => {
    const files = (f: string) => readdirSync(join(mini, f));
    expect(files('Training').length).toBe(prov.options.train);
    expect(files('Validation').length).toBe(prov.options.val);
    expect(files('Test').length).toBe(prov.options.test);
    expect(prov.options.imageShape).toEqual([664, 512]);
    const total = ['Training', 'Validation', 'Test']
      .flatMap((f) => files(f).map((x) => statSync(join(mini, f, x)).size))
      .reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(4 * 1024 * 1024);
    expect(prov.command).toMatch(/^fairclip-data synth /);
  });

  test('matches what the recorded command generates (metadata of every sample, pixels of the first)', () => {
    const regenerated = synthSamples(prov.options);
    const rows = readDataSummary(join(mini, 'data_summary.csv'));
    expect(rows.map((r) => [r.filename, r.use, r.glaucoma, r.attributes])).toEqual(
      regenerated.map((s) => [s.file, s.split, s.glaucoma, s.attributes]),
    );
    const first = readNpz(new Uint8Array(readFileSync(join(mini, 'Training', regenerated[0]!.file))), 'first');
    const pixels = first.get('slo_fundus')!.data as Float32Array;
    const again = synthesizeFairVlmed(join(tmp, 'regen'), { ...prov.options, train: 1, val: 0, test: 0 });
    expect(again[0]!.file).toBe(regenerated[0]!.file);
    const regen = readNpz(new Uint8Array(readFileSync(join(tmp, 'regen', 'Training', again[0]!.file))), 'regen');
    expect(Buffer.from((regen.get('slo_fundus')!.data as Float32Array).buffer).equals(Buffer.from(pixels.buffer))).toBe(
      true,
    );
  });
});
