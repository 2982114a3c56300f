/**
 * End to end with a tiny step budget (4 training samples, one epoch of one batch, 8 val / 8 test samples) on the
 * embedded synthetic FairVLMed with the default tiny CLIP (wasm backend): two seeds of FairCLIP (official 2024)
 * train and write every output; the printed mean ± std over seeds equals a recomputation from the runs' CSV files;
 * a rerun reuses both runs; bad presets are refused.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL, runCaptured } from '@fairclip/example-common';
import { afterAll, describe, expect, test } from 'vitest';
import { expectOneLine } from '../../common/test/user-errors.ts';
import { runApp } from '../src/app.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-finetune-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const TINY = [
  '--backend',
  'wasm',
  '--epochs',
  '1',
  '--batch-size',
  '4',
  '--set',
  'data.limits.train=4',
  '--set',
  'data.limits.val=8',
  '--set',
  'data.limits.test=8',
  '--set',
  'fairness.groupBatchSize=2',
];

const run = (argv: string[]) => runCaptured(runApp, argv);

/** The AUC column of a run's epochs_test.csv (official ", "-separated layout), parsed here. */
function testAucs(runDir: string): number[] {
  const [header, ...rows] = readFileSync(join(runDir, 'epochs_test.csv'), 'utf8').trim().split('\n');
  const k = header!.split(', ').indexOf('auc');
  expect(k).toBeGreaterThan(0);
  return rows.map((r) => Number(r.split(', ')[k]));
}

describe('finetune fairclip-official-2024, two seeds', () => {
  test('trains, writes every output, and prints mean ± std equal to a recomputation; a rerun reuses', async () => {
    const argv = ['--preset', 'fairclip-official-2024', '--seeds', '3,4', '--out', out, ...TINY];
    const r = await run(argv);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    // the progress bar of the training steps
    expect(r.bar).toMatch(/fairclip-official-2024 \[#+\] 1\/1 .*loss/);
    const aucs: number[] = [];
    for (const seed of [3, 4]) {
      const dir = join(out, 'fairclip-official-2024', `seed-${seed}`);
      for (const f of ['best.safetensors', 'steps.csv', 'epochs_val.csv', 'result.json', 'checkpoints/latest.json'])
        expect(statSync(join(dir, f)).size, f).toBeGreaterThan(0);
      const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
      expect(result.status).toBe('complete');
      expect(result.seed).toBe(seed);
      expect(result.steps).toBe(1);
      expect(result.config.fairness.lambda).toBe(1e-7);
      const col = testAucs(dir);
      expect(col).toHaveLength(1);
      aucs.push(col[0]!);
    }
    const mean = (aucs[0]! + aucs[1]!) / 2;
    const std = Math.abs(aucs[0]! - aucs[1]!) / Math.SQRT2; // sample std (ddof 1) of two values
    const row = r.stdout.split('\n').find((l) => l.startsWith('race '));
    expect(row).toBeDefined();
    // the CSV holds 6 decimals: compare at the table's precision
    const [m, s] = row!
      .trim()
      .split(/\s{2,}/)[1]!
      .split(' ± ')
      .map(Number);
    expect(m).toBeCloseTo(mean * 100, 1);
    expect(s).toBeCloseTo(std * 100, 1);
    expect(r.stdout).toContain('(optimistic, as the official code)');
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('Optimistic');
    expect(md.split('\n').filter((l) => /^\| [34] \|/.test(l))).toHaveLength(2);

    const again = await run([...argv, '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stderr.match(/finished run found/g)).toHaveLength(2);
    expect(again.bar).toBe('');
  }, 300_000);
});

describe('user errors', () => {
  test('a preset that is not fine-tuning is refused with the list', async () => {
    const r = await run(['--preset', 'linear-probe', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--preset: expected one of clip-finetune, fairclip-official-2024');
  });

  test('a bad override names the field before anything runs', async () => {
    const r = await run(['--out', out, '--set', 'fairness.lambda=-1', '--preset', 'a-fairclip']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('fairness.lambda');
  });

  test('a missing dataset names the expected layout', async () => {
    const r = await run(['--data', join(out, 'missing'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^fairclip-finetune: dataset folder not found: .*missing \(expected: a Harvard-FairVLMed folder[^\n]*$/,
    );
  });
});

describe('never a stale result', () => {
  /** The numbers of a run: its training losses and the selected epoch's test metrics. */
  const numbers = (dir: string) => {
    const r = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    return {
      losses: r.epochs.map((e: { record: { trainLoss: number } }) => e.record.trainLoss),
      test: r.selected.test,
    };
  };

  test('replacing the weights file starts afresh (the old run kept aside); the result equals a fresh run', async () => {
    const w = join(out, 'init.safetensors');
    copyFileSync(join(DEFAULT_MODEL, '..', 'weights.safetensors'), w);
    const argv = (o: string) => [
      '--preset',
      'a-fairclip',
      '--seeds',
      '5',
      '--weights',
      w,
      '--out',
      o,
      '--quiet',
      ...TINY,
    ];
    const a = join(out, 'stale-a');
    const seedDir = join(a, 'a-fairclip', 'seed-5');
    const first = await run(argv(a));
    expect(first.code).toBe(0);
    const old = numbers(seedDir);

    // the same path, other weights (the fine-tuned ones: same shapes, other values)
    copyFileSync(join(seedDir, 'best.safetensors'), w);
    const second = await run(argv(a));
    expect(second.code).toBe(0);
    const moved = second.stderr.split('\n').filter((l) => l.includes('made from other inputs'));
    expect(moved).toHaveLength(1);
    const aside = /moved aside to (\S+), starting afresh$/.exec(moved[0]!)?.[1];
    expect(aside).toMatch(/seed-5\.stale-\d{8}T\d{6}Z$/);
    expect(second.stderr).not.toContain('finished run found');
    // the old run is kept, untouched
    expect(numbers(aside!)).toEqual(old);
    // the new run is not the old one resumed: it equals a fresh run on the new weights in an empty folder
    const fresh = join(out, 'stale-fresh');
    expect((await run(argv(fresh))).code).toBe(0);
    const now = numbers(seedDir);
    expect(now).toEqual(numbers(join(fresh, 'a-fairclip', 'seed-5')));
    expect(now.losses).not.toEqual(old.losses);

    // a rerun with the same inputs reuses the finished run
    const third = await run(argv(a));
    expect(third.stderr).toContain('finished run found');
    expect(third.stderr).not.toContain('made from other inputs');

    // a run folder with contents but no stamp (made by an older version, or by hand) is not trusted either
    rmSync(join(seedDir, 'inputs-stamp.txt'));
    const fourth = await run(argv(a));
    expect(fourth.code).toBe(0);
    expect(fourth.stderr.split('\n').filter((l) => l.includes('made from other inputs'))).toHaveLength(1);
    expect(numbers(seedDir)).toEqual(now);
  }, 300_000);

  test('a damaged result or checkpoint pointer in a run folder: one line and exit code 2, or a clean resume', async () => {
    const o = join(out, 'damaged');
    const argv = ['--preset', 'a-fairclip', '--seeds', '6', '--out', o, '--quiet', ...TINY];
    expect((await run(argv)).code).toBe(0);
    const dir = join(o, 'a-fairclip', 'seed-6');
    const before = numbers(dir);
    writeFileSync(join(dir, 'result.json'), '{}');
    const r = await expectOneLine(runApp, 'fairclip-finetune', argv);
    expect(r).toBe(
      `fairclip-finetune: ${join(dir, 'result.json')} is not a run result (no status or configHash); delete the run folder ${dir} to rerun it`,
    );
    // latest.json holding {}: @fairclip/train either refuses it (a CheckpointError: one line) or resumes from the
    // checkpoint before it, which gives the same numbers (a resume is bit-identical)
    rmSync(join(dir, 'result.json'));
    writeFileSync(join(dir, 'checkpoints', 'latest.json'), '{}');
    const again = await run(argv);
    if (again.code === 0) expect(numbers(dir)).toEqual(before);
    else expect(await expectOneLine(runApp, 'fairclip-finetune', argv)).toContain('latest.json');
    expect(again.stderr).not.toMatch(/TypeError|RangeError|\n\s+at /);
  }, 300_000);
});
