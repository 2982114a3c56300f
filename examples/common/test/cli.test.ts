// The common flags of the example apps (parseRunArgs on node:util's parseArgs) and the path checks.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFairclipError } from '@fairclip/io';
import { resolvePresetConfig } from '@fairclip/train';
import { describe, expect, test } from 'vitest';
import { CliError, checkPath, clip, parseIntegerFlag, parseNumberFlag, parseRunArgs } from '../src/cli.ts';

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
      '--seeds: expected comma-separated decimal integers from 0 to 9007199254740991, got "a,b"',
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
    ).toThrow(/^dataset not found: .*missing \(expected: Harvard-FairVLMed\/\{data_summary.csv, Training\/, ...\}\)$/);
    expect(() => checkPath(f, 'dir', 'dataset', 'a folder')).toThrow(/must be a folder/);
    expect(() => checkPath(dir, 'file', 'weights', 'a file')).toThrow(/must be a file/);
    expect(() => checkPath(f, 'file', 'weights', 'a file')).not.toThrow();
  });
});

describe('numbers on the command line: strict decimal, named by their flag', () => {
  const refused = (argv: string[], flag: string) => {
    let err: unknown;
    try {
      parseRunArgs(argv, d);
    } catch (e) {
      err = e;
    }
    expect(err, argv.join(' ')).toBeInstanceOf(CliError);
    expect(isFairclipError(err, 'CLI_USAGE'), argv.join(' ')).toBe(true);
    const m = (err as Error).message;
    expect(m.startsWith(`${flag}: `), m).toBe(true);
    expect(m).not.toContain('\n');
  };
  test('seeds: 2^53 and above, negative, fractional, hexadecimal, exponent, signs and blanks are refused', () => {
    for (const v of [
      '9007199254740992',
      '9007199254740993',
      '1e400',
      '-1',
      '1.5',
      '0x10',
      '0b1',
      '0o7',
      '1e3',
      '+1',
      '1_000',
      'Infinity',
      'NaN',
      ',',
      '1,,x',
      '١',
    ])
      refused(['--seeds', v], '--seeds');
    expect(parseRunArgs(['--seeds', '0, 7,9007199254740991'], d).seeds).toEqual([0, 7, 9007199254740991]);
    expect(parseRunArgs(['--seeds', '007'], d).seeds).toEqual([7]);
  });
  test('--epochs and --batch-size: positive decimal integers below 2^53', () => {
    for (const flag of ['--epochs', '--batch-size'])
      for (const v of ['0', '-1', '1.5', '0x10', '1e3', '9007199254740993', 'two', ' 3', '3 '])
        refused([flag, v], flag);
    expect(parseRunArgs(['--epochs', '3', '--batch-size=16'], d).overrides).toEqual([
      'training.epochs=3',
      'training.batchSize=16',
    ]);
  });
  test('--lambda and --lr: finite decimal numbers (exponents allowed), kept as written', () => {
    for (const flag of ['--lambda', '--lr'])
      for (const v of ['0x10', 'Infinity', 'NaN', '1e999', '1e', '.', '-', '1,5', '0b1', '']) refused([flag, v], flag);
    expect(parseRunArgs(['--lambda', '-1e-6', '--lr', '.5', '--lambda=+2E3'], d).overrides).toEqual([
      'fairness.lambda=-1e-6',
      'optim.lr=.5',
      'fairness.lambda=+2E3',
    ]);
  });
  test('the number parsers agree with the integers and decimals they accept', () => {
    expect(parseIntegerFlag('--n', '42', 1)).toBe(42);
    expect(() => parseIntegerFlag('--n', '0', 1)).toThrow(
      '--n: expected a decimal integer from 1 to 9007199254740991, got "0"',
    );
    expect(parseNumberFlag('--x', '-2.5e-3')).toBe(-0.0025);
  });
  test('values and names quoted in messages are cut', () => {
    const long = 'x'.repeat(5000);
    expect(clip(long)).toBe(`${'x'.repeat(80)}…`);
    for (const argv of [['--seeds', long], ['--backend', long], [`--${long}`], ['--epochs', long]]) {
      let m = '';
      try {
        parseRunArgs(argv, d);
      } catch (e) {
        m = (e as Error).message;
      }
      expect(m.length, argv[0]).toBeGreaterThan(10);
      expect(m.length, argv[0]).toBeLessThan(200);
    }
  });
});
