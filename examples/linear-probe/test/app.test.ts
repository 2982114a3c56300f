/**
 * End to end with a tiny budget (16 training samples, 4 LARS epochs of 2 steps, evaluation every 2 epochs, 12 val /
 * 12 test samples) on the embedded synthetic FairVLMed with the default tiny CLIP (wasm backend): outputs complete;
 * the printed metrics are the test row of the epoch with the best validation AUC, re-selected here from the CSVs;
 * a rerun reuses the run.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '@fairclip/example-common';
import { afterAll, describe, expect, test } from 'vitest';
import { runApp } from '../src/app.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-linear-probe-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const TINY = [
  '--backend',
  'wasm',
  '--seeds',
  '7',
  '--set',
  'data.limits.train=16',
  '--set',
  'data.limits.val=12',
  '--set',
  'data.limits.test=12',
  '--set',
  'linearProbe.batchSize=8',
  '--set',
  'linearProbe.epochs=4',
  '--set',
  'linearProbe.evalEvery=2',
  '--set',
  'linearProbe.warmupEpochs=1',
];

const run = (argv: string[]) => runCaptured(runApp, argv);

function csv(file: string): { header: string[]; rows: string[][] } {
  const [h, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  return { header: h!.split(', '), rows: rows.map((r) => r.split(', ')) };
}

describe('linear probe on the embedded default', () => {
  test('trains the head, selects on validation AUC, prints the selected test row; a rerun reuses', async () => {
    const r = await run(['--out', out, ...TINY]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.bar).toContain('linear-probe [');
    const dir = join(out, 'linear-probe', 'seed-7');
    for (const f of ['result.json', 'epochs_val.csv', 'epochs_test.csv', 'summary.md'])
      expect(statSync(join(dir, f)).size, f).toBeGreaterThan(0);
    const val = csv(join(dir, 'epochs_val.csv'));
    const tst = csv(join(dir, 'epochs_test.csv'));
    expect(val.rows).toHaveLength(2);
    const k = val.header.indexOf('auc');
    let best = 0;
    // ties keep the later evaluated epoch, as the original scripts (`best_auc <= overall_auc`)
    val.rows.forEach((row, i) => {
      if (Number(row[k]) >= Number(val.rows[best]![k])) best = i;
    });
    const epoch = val.rows[best]![0];
    const testRow = tst.rows.find((row) => row[0] === epoch)!;
    const x100 = (v: string) => (v === 'nan' ? '–' : (Number(v) * 100).toFixed(2));
    const lines = r.stdout.split('\n');
    const attrs = ['race', 'gender', 'ethnicity', 'language'];
    attrs.forEach((a, i) => {
      const cells = lines
        .find((l) => l.startsWith(`${a} `))!
        .trim()
        .split(/\s{2,}/);
      expect(cells[1]).toBe(x100(testRow[k]!));
      expect(cells[2]).toBe(x100(testRow[tst.header.indexOf(`esauc_attr${i}`)]!));
      expect(cells[3]).toBe(x100(testRow[tst.header.indexOf(`dpd_attr${i}`)]!));
      expect(cells[4]).toBe(x100(testRow[tst.header.indexOf(`eod_attr${i}`)]!));
      expect(cells[5]).toBe(x100(testRow[tst.header.indexOf(`esacc_attr${i}`)]!));
    });
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    expect(result.selection.epoch).toBe(Number(epoch));
    expect(result.mode).toBe('linear-probe');

    const again = await run(['--out', out, ...TINY]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('finished run found');
    expect(again.stdout).toBe(r.stdout);
  });

  test('a preset that is not a linear probe is refused', async () => {
    const r = await run(['--preset', 'clip-finetune', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('clip-finetune is not a linear-probe preset');
  });
});
