// The shared plumbing of the apps: labels, option extraction, path checks, the tiny-model detection, aggregation.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@fairclip/test-fixtures';
import type { SplitEval } from '@fairclip/train';
import { afterAll, describe, expect, test } from 'vitest';
import {
  checkDataset,
  checkpointLabels,
  DEFAULT_MODEL,
  EMBEDDED_FAIRVLMED,
  markdownTable,
  modelOverrides,
  parseRunArgs,
  type SeedRun,
  sameShapesAsDefaultModel,
  summarizeSeeds,
  takeOption,
  textTable,
} from '../src/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fc-example-common-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('paths', () => {
  test('the embedded defaults are the committed fixtures', () => {
    expect(EMBEDDED_FAIRVLMED).toBe(fixturePath('fairvlmed-mini'));
    expect(DEFAULT_MODEL).toBe(fixturePath('default-model/config.json'));
    expect(checkDataset(null, 'fairvlmed')).toBe(EMBEDDED_FAIRVLMED);
  });

  test('a dataset folder without summaries or split folders is refused with the layout', () => {
    const dir = join(tmp, 'ds');
    for (const d of ['Training', 'Validation', 'Test']) mkdirSync(join(dir, d), { recursive: true });
    expect(() => checkDataset(dir, 'fairvlmed')).toThrow(
      /^no data_summary.csv .* \(expected: a Harvard-FairVLMed[^\n]*\)$/,
    );
    expect(() => checkDataset(join(tmp, 'none'), 'fairface')).toThrow(/\(expected: a FairFace folder holding train\//);
  });

  test('the tiny model is recognised by its parameter shapes; other files are not', () => {
    expect(sameShapesAsDefaultModel(fixturePath('default-model/weights.safetensors'))).toBe(true);
    const junk = join(tmp, 'junk.bin');
    writeFileSync(junk, 'PK\u0003\u0004 not a safetensors file');
    expect(sameShapesAsDefaultModel(junk)).toBe(false);
    const args = parseRunArgs(['--weights', junk], { preset: 'clip-zeroshot', out: tmp });
    expect(modelOverrides(args)).toEqual([`model.weights=${JSON.stringify(junk)}`]);
    expect(modelOverrides(parseRunArgs([], { preset: 'clip-zeroshot', out: tmp }))).toEqual([
      `model.arch=${JSON.stringify(DEFAULT_MODEL)}`,
    ]);
  });
});

describe('small helpers', () => {
  test('checkpoint labels are the shortest unique path suffixes without extension', () => {
    expect(checkpointLabels(['/a/seed-1/best.safetensors', '/a/seed-2/best.safetensors', null])).toEqual([
      'seed-1/best',
      'seed-2/best',
      'default-tiny-model',
    ]);
    expect(checkpointLabels(['/x/clip.pth', '/y/fairclip.pt'])).toEqual(['clip', 'fairclip']);
  });

  test('takeOption removes an app flag in both spellings', () => {
    expect(takeOption(['--solver', 'auto', '--out', 'o'], '--solver')).toEqual({ value: 'auto', rest: ['--out', 'o'] });
    expect(takeOption(['--solver=geomloss'], '--solver')).toEqual({ value: 'geomloss', rest: [] });
    expect(() => takeOption(['--solver'], '--solver')).toThrow('--solver needs a value');
  });

  test('tables', () => {
    expect(markdownTable(['a', 'b'], [['1', '2']])).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |');
    expect(textTable(['name', 'v', 'last'], [['x', '10', 'y']])).toBe('name   v  last\nx     10  y');
  });
});

describe('summarizeSeeds', () => {
  const ev = (auc: number, esAuc: number | null, g: (number | null)[]): SplitEval => ({
    n: 10,
    acc: 0.5,
    auc,
    loss: 0.69,
    attributes: [
      {
        name: 'race',
        groups: ['Asian', 'Black', 'White'],
        esAcc: 0.4,
        esAuc,
        groupAuc: g,
        dpd: 0.1,
        deodds: 0.2,
        stdDisparity: null,
        maxDisparity: null,
        notes: [],
      },
    ],
  });
  const runOf = (e: SplitEval) => ({ result: { selected: { val: null, test: e } }, outDir: tmp }) as unknown as SeedRun;

  test('mean and sample std over seeds; undefined values are left out and counted', () => {
    const s = summarizeSeeds([runOf(ev(0.6, 0.5, [0.7, null, 0.5])), runOf(ev(0.7, null, [0.8, 0.6, 0.5]))]);
    expect(s).toHaveLength(1);
    expect(s[0]!.auc.mean.value).toBeCloseTo(0.65, 12);
    expect(s[0]!.auc.std.value).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(s[0]!.esAuc.n).toBe(1);
    expect(s[0]!.esAuc.nUndefined).toBe(1);
    expect(s[0]!.groups.map((g) => g.auc.n)).toEqual([2, 1, 2]);
    expect(s[0]!.groups[2]!.auc.std.value).toBe(0);
  });
});
