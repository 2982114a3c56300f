import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CliError, checkPath, parseRunArgs } from '../src/cli-args.ts';
import { resolveConfig } from '../src/presets.ts';

const d = { preset: 'clip-zeroshot', out: 'out' };

describe('parseRunArgs', () => {
  test('defaults', () => {
    const a = parseRunArgs([], d);
    expect(a).toMatchObject({
      preset: 'clip-zeroshot',
      data: null,
      weights: [],
      backend: 'auto',
      seeds: [],
      out: 'out',
      overrides: [],
    });
  });
  test('every common flag, inline and separate values', () => {
    const a = parseRunArgs(
      [
        '--preset',
        'a-fairclip',
        '--data=/d',
        '--weights',
        'a.pt',
        '--weights',
        'b.safetensors',
        '--backend',
        'wasm',
        '--seeds',
        '1,2,3',
        '--out',
        'o',
        '--set',
        'fairness.lambda=0.1',
        '--lr',
        '2e-5',
        '--attribute',
        'race,gender',
        '--quiet',
        'x',
      ],
      d,
    );
    expect(a).toMatchObject({
      preset: 'a-fairclip',
      data: '/d',
      weights: ['a.pt', 'b.safetensors'],
      backend: 'wasm',
      seeds: [1, 2, 3],
      out: 'o',
      quiet: true,
      rest: ['x'],
    });
    expect(a.overrides).toEqual(['fairness.lambda=0.1', 'optim.lr=2e-5', 'fairness.attributes={"race":1,"gender":1}']);
    const cfg = resolveConfig(a.preset, a.overrides);
    expect(cfg.fairness?.attributes).toEqual({ race: 1, gender: 1 });
    expect(cfg.optim.lr).toBe(2e-5);
  });
  test('errors are clear', () => {
    expect(() => parseRunArgs(['--bogus'], d)).toThrow(CliError);
    expect(() => parseRunArgs(['--backend', 'tpu'], d)).toThrow(/--backend/);
    expect(() => parseRunArgs(['--seeds', 'a,b'], d)).toThrow(/--seeds/);
    expect(() => parseRunArgs(['--out'], d)).toThrow(/needs a value/);
  });
});

describe('checkPath', () => {
  test('names the path and the expected layout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-'));
    const f = join(dir, 'w.pt');
    writeFileSync(f, 'x');
    expect(() =>
      checkPath(join(dir, 'missing'), 'dir', 'dataset', 'Harvard-FairVLMed/{data_summary.csv, Training/, ...}'),
    ).toThrow(/dataset not found: .*missing\nExpected: Harvard-FairVLMed/);
    expect(() => checkPath(f, 'dir', 'dataset', 'a folder')).toThrow(/must be a folder/);
    expect(() => checkPath(f, 'file', 'weights', 'a file')).not.toThrow();
  });
});
