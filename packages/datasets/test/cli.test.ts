// The fairclip-data command: synth writes a dataset whose stats are the generator's counts; errors and usage.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@fairclip/test-fixtures';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from '../src/cli-main.ts';
import { synthSamples } from '../src/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('fairclip-data', () => {
  const dir = join(tmp, 'ds');
  const args = ['--train', '9', '--val', '5', '--test', '7', '--seed', '4', '--bias', '0.3', '--image-shape', '32x24'];

  test('synth writes the dataset and its provenance', async () => {
    const r = await run('synth', dir, ...args);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote 21 samples/);
    const prov = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8'));
    expect(prov.seed).toBe(4);
    expect(prov.options.bias).toBe(0.3);
    expect(prov.command).toBe(`fairclip-data synth ${dir} ${args.join(' ')}`);
    expect(existsSync(join(dir, 'Test'))).toBe(true);
  });

  test('stats counts splits, groups and labels like the generator drew them', async () => {
    const samples = synthSamples({ train: 9, val: 5, test: 7, seed: 4, bias: 0.3, imageShape: [32, 24] });
    const r = await run('stats', dir, '--json');
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.out) as {
      splits: {
        split: string;
        files: { n: number; glaucoma: number };
        used: { n: number };
        groups: Record<string, Record<string, { n: number; glaucoma: number }>>;
      }[];
      summaryCheck: { disagreements: string[] };
    };
    for (const s of stats.splits) {
      const mine = samples.filter((x) => x.split === s.split);
      expect(s.files.n).toBe(mine.length);
      expect(s.files.glaucoma).toBe(mine.filter((x) => x.glaucoma).length);
      const used =
        s.split === 'train'
          ? mine
          : mine.filter((x) =>
              ['race', 'gender', 'ethnicity', 'language'].every((a) => x.attributes[a as 'race'] !== -1),
            );
      expect(s.used.n).toBe(used.length);
      for (const [g, name] of ['asian', 'black', 'white'].entries()) {
        const inGroup = used.filter((x) => x.attributes.race === g);
        expect(s.groups.race![name]?.n ?? 0).toBe(inGroup.length);
        expect(s.groups.race![name]?.glaucoma ?? 0).toBe(inGroup.filter((x) => x.glaucoma).length);
      }
    }
    expect(stats.summaryCheck.disagreements).toEqual([]);
    const text = await run('stats', dir);
    expect(text.out).toMatch(/^split\s+files\s+used\s+glaucoma$/m);
    expect(text.out).toMatch(/^train\s+9\s+9\s/m);
    expect(text.out).toMatch(/^race\s+asian\s/m);
  });

  test('stats of the Python-made fixture reads Testing/ and checks data_summary.csv', async () => {
    const r = await run('stats', fixturePath('datasets/fairvlmed-py'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^test\s+4\s+3\s/m);
    expect(r.out).toMatch(/0 disagreements/);
  });

  test('synth refuses a non-empty folder (one line, exit 2) unless --force, and leaves it untouched', async () => {
    const before = readFileSync(join(dir, 'Training', 'data_00001.npz'));
    const again = ['--train', '2', '--val', '1', '--test', '1', '--seed', '9', '--image-shape', '16x16'];
    const refused = await run('synth', dir, ...again);
    expect(refused.code).toBe(2);
    expect(refused.out).toBe('');
    expect(refused.err).toBe(
      `fairclip-data: OUTPUT_NOT_EMPTY: ${dir}: the folder is not empty (6 entries: Test, Training, Validation, …); pick an empty folder, or pass --force (force: true) to overwrite the generated files\n`,
    );
    expect(readFileSync(join(dir, 'Training', 'data_00001.npz')).equals(before)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8')).seed).toBe(4);
    const forced = await run('synth', dir, ...again, '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'Training', 'data_00001.npz')).equals(before)).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8')).seed).toBe(9);
    // An empty existing folder is fine without --force.
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    expect((await run('synth', empty, ...again)).code).toBe(0);
  });

  test('every user error is one line and exit 2 (data errors name the file; usage errors point to --help)', async () => {
    const missing = await run('stats', join(tmp, 'missing'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^fairclip-data: NOT_FOUND: .*missing: dataset folder not found\n$/);
    const noTrain = await run('synth', join(tmp, 'x'), '--val', '1', '--test', '1');
    expect(noTrain.code).toBe(2);
    expect(noTrain.err).toBe('fairclip-data: --train is required (see fairclip-data --help)\n');
    expect((await run('synth', join(tmp, 'x'), '--train', 'many', '--val', '1', '--test', '1')).err).toMatch(
      /--train must be an integer/,
    );
    expect((await run('synth', join(tmp, 'x'), ...args, '--bias', '3')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('stats', '--nope', dir)).code).toBe(2);
    expect((await run()).code).toBe(2);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/fairclip-data synth <dir>/);
  });
});
