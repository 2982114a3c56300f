// The report says which trained cells ran in emulated fp16 (from each run's result.json), and that it is emulated.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { precisionNotes } from '../src/app.ts';
import type { CellResult } from '../src/report.ts';

const dir = mkdtempSync(join(tmpdir(), 'fc-precision-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cell(label: string, mode: string, precision: string | null): CellResult {
  const outDir = join(dir, label.replace(/\W+/g, '-'));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'result.json'), JSON.stringify(precision ? { precision: { mode: precision } } : {}));
  return { label, mode, runs: [{ seed: 1, outDir, reused: false, selectedEpoch: 0, optimistic: false }] } as CellResult;
}

test('names the fp16-emulated cells and says the fp16 is emulated', () => {
  const notes = precisionNotes([
    cell('CLIP zero-shot', 'zeroshot', 'fp32'),
    cell('CLIP fine-tuned', 'finetune', 'fp16-emulated'),
    cell('FairCLIP (official) [race]', 'finetune', 'fp16-emulated'),
    cell('A-FairCLIP [race]', 'finetune', 'fp32'),
  ]);
  expect(notes).toHaveLength(1);
  expect(notes[0]).toMatch(/^Precision: CLIP fine-tuned, FairCLIP \(official\) \[race\] ran in fp16-emulated mode/);
  expect(notes[0]).toContain('not native fp16');
  expect(notes[0]).not.toContain('A-FairCLIP');
});

test('all float32, and nothing for a grid without trained cells', () => {
  expect(precisionNotes([cell('A', 'finetune', 'fp32'), cell('B', 'finetune', null)])).toEqual([
    'Precision: every trained cell ran in float32 (training.precision fp32).',
  ]);
  expect(precisionNotes([cell('Z', 'zeroshot', 'fp32')])).toEqual([]);
});
