// The common flags of the example apps (parseRunArgs on node:util's parseArgs) and the path checks.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePresetConfig } from '@fairclip/train';
import { describe, expect, test } from 'vitest';
import { CliError, checkPath, parseRunArgs } from '../src/cli.ts';

const d = { preset: 'clip-zeroshot', out: 'out' };

describe('parseRunArgs', () => {
  test('defaults', () => {
    const a = parseRunArgs([], d);
    expect(a).toEqual({
      preset: 'clip-zeroshot',
      data: null,
      weights: [],
      vocab: null,
      backend: 'auto',
      seeds: [],
      out: 'out',
      overrides: [],
      allowSoftwareAdapter: false,
      quiet: false,
      help: false,
      rest: [],
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
        '--vocab',
        'v.txt.gz',
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
        '--allow-software-gpu',
        '--quiet',
        'x',
      ],
      d,
    );
    expect(a).toMatchObject({
      preset: 'a-fairclip',
      data: '/d',
      weights: ['a.pt', 'b.safetensors'],
      vocab: 'v.txt.gz',
      backend: 'wasm',
      seeds: [1, 2, 3],
      out: 'o',
      allowSoftwareAdapter: true,
      quiet: true,
      help: false,
      rest: ['x'],
    });
    expect(a.overrides).toEqual(['fairness.lambda=0.1', 'optim.lr=2e-5', 'fairness.attributes={"race":1,"gender":1}']);
    const cfg = resolvePresetConfig(a.preset, a.overrides);
    expect(cfg.fairness?.attributes).toEqual({ race: 1, gender: 1 });
    expect(cfg.optim.lr).toBe(2e-5);
  });
  test('overrides keep the command-line order across --set, --set= and the shorthands', () => {
    const a = parseRunArgs(
      ['--epochs', '3', '--set=training.epochs=4', '--batch-size=8', '--lambda', '-1e-6', '--arch', 'RN50'],
      d,
    );
    expect(a.overrides).toEqual([
      'training.epochs=3',
      'training.epochs=4',
      'training.batchSize=8',
      'fairness.lambda=-1e-6',
      'model.arch="RN50"',
    ]);
  });
  test('a repeated flag keeps its last value; -h and --help ask for help', () => {
    expect(parseRunArgs(['--out', 'a', '--out=b', '--preset', 'p', '--preset', 'q'], d)).toMatchObject({
      out: 'b',
      preset: 'q',
    });
    expect(parseRunArgs(['-h'], d).help).toBe(true);
    expect(parseRunArgs(['--help'], d).help).toBe(true);
  });
  test('errors are clear', () => {
    expect(() => parseRunArgs(['--bogus'], d)).toThrow(CliError);
    expect(() => parseRunArgs(['--bogus=1'], d)).toThrow('unknown option --bogus (see --help)');
    expect(() => parseRunArgs(['-x'], d)).toThrow('unknown option -x (see --help)');
    expect(() => parseRunArgs(['--', 'a'], d)).toThrow('unknown option -- (see --help)');
    expect(() => parseRunArgs(['--backend', 'tpu'], d)).toThrow(
      '--backend: expected auto, webgpu, wasm or cpu, got "tpu"',
    );
    expect(() => parseRunArgs(['--seeds', 'a,b'], d)).toThrow(
      '--seeds: expected comma-separated non-negative integers, got "a,b"',
    );
    expect(() => parseRunArgs(['--seeds', '-1'], d)).toThrow(/--seeds/);
    expect(() => parseRunArgs(['--out'], d)).toThrow('--out needs a value');
    expect(() => parseRunArgs(['--out', '--quiet'], d)).toThrow('--out needs a value');
    expect(() => parseRunArgs(['--lambda'], d)).toThrow('--lambda needs a value');
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
    expect(() => checkPath(dir, 'file', 'weights', 'a file')).toThrow(/must be a file/);
    expect(() => checkPath(f, 'file', 'weights', 'a file')).not.toThrow();
  });
});
