// Shared set-up of the end-to-end tests: the default tiny model, the synthetic datasets, output checks.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '@fairclip/clip';
import { synthesizeFairVlmed } from '@fairclip/datasets';
import { fixturePath } from '@fairclip/test-fixtures';
import { afterAll, expect } from 'vitest';
import type { TrainConfig } from '../../src/config.ts';
import { configHash, officialCsvHeader } from '../../src/outputs.ts';

/** Overrides that select the default tiny model (and keep the runs small). */
export const TINY_MODEL = `model.arch=${JSON.stringify(fixturePath('default-model/config.json'))}`;

const made: string[] = [];
// Registered when a test file imports this module (collection time): the file's temporary folders go afterwards.
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test file (runs write ~7 MB of checkpoints each). */
export function tempDir(prefix = 'fc-train-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** fairvlmed-mini as committed (48 / 16 / 32 samples, 664 × 512 images). */
export const FAIRVLMED_MINI = fixturePath('fairvlmed-mini');

/**
 * fairface-mini with a test split: the study reads the test labels from fairface_label_test.csv in the val/ folder;
 * the committed fixture has none, so its val labels serve as test labels here.
 */
export function fairfaceWithTest(): string {
  const dir = join(tempDir('fc-train-fairface-'), 'fairface');
  cpSync(fixturePath('fairface-mini'), dir, { recursive: true });
  cpSync(join(dir, 'fairface_label_val.csv'), join(dir, 'fairface_label_test.csv'));
  return dir;
}

/** A very small synthetic FairVLMed (the @fairclip/datasets generator, small images): cheap on the cpu backend. */
export function microFairVlmed(opts: { train: number; val: number; test: number; seed: number }): string {
  const dir = join(tempDir('fc-train-fairvlmed-'), 'data');
  synthesizeFairVlmed(dir, { ...opts, imageShape: [64, 48] });
  return dir;
}

function parseCsv(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(', '));
}

/** Checks every output file of a finished run; returns the parsed result.json. */
export function checkOutputs(
  outDir: string,
  cfg: TrainConfig,
  opts: {
    /** Epoch records (every epoch run) and evaluated epochs (CSV rows). */
    epochs: number;
    evaluated: number;
    steps: number;
    groupsPerAttribute: number[];
    checkpoint: boolean;
    backend: string;
  },
): Record<string, unknown> {
  const header = officialCsvHeader(opts.groupsPerAttribute);
  for (const f of ['epochs_test.csv', 'epochs_val.csv']) {
    const rows = parseCsv(readFileSync(join(outDir, f), 'utf8'));
    expect(rows[0], f).toEqual(header);
    expect(rows.length - 1, `${f} rows`).toBe(opts.evaluated);
    for (const r of rows.slice(1)) {
      expect(r.length, f).toBe(header.length);
      expect(r.at(-1)).toBe(outDir);
      const auc = r[header.indexOf('auc')]!;
      expect(Number(auc) >= 0 && Number(auc) <= 1, `${f} auc ${auc}`).toBe(true);
      for (const v of r.slice(1, -1)) expect(v === 'nan' || Number.isFinite(Number(v)), `${f}: ${v}`).toBe(true);
    }
  }
  const steps = parseCsv(readFileSync(join(outDir, 'steps.csv'), 'utf8'));
  expect(steps[0]!.slice(0, 7)).toEqual(['epoch', 'step', 'global_step', 'samples', 'loss', 'clip', 'fairness']);
  expect(steps.length - 1, 'steps.csv rows').toBe(opts.steps);
  const result = JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')) as Record<string, unknown>;
  expect(result.status).toBe('complete');
  expect(result.config).toEqual(JSON.parse(JSON.stringify(cfg)));
  expect(result.configHash).toBe(configHash(cfg));
  expect(result.configHash).toMatch(/^[0-9a-f]{16}$/);
  expect(result.seed).toBe(cfg.training.seed);
  const versions = result.versions as Record<string, string>;
  for (const p of ['train', 'clip', 'ot', 'datasets', 'fairness', 'compute'])
    expect(versions[`@fairclip/${p}`], p).toMatch(/^\d+\.\d+\.\d+/);
  expect((result.backend as { name: string }).name).toBe(opts.backend);
  expect((result.epochs as unknown[]).length).toBe(opts.epochs);
  const reports = (
    result.epochs as { valReport: { attributes: object } | null; testReport: { attributes: object } | null }[]
  ).filter((e) => e.testReport !== null);
  expect(reports.length).toBe(opts.evaluated);
  for (const e of reports) {
    expect(Object.keys(e.testReport!.attributes)).toEqual(cfg.eval.attributes);
    expect(Object.keys(e.valReport!.attributes)).toEqual(cfg.eval.attributes);
  }
  const optimistic = cfg.eval.selection === 'test-auc' && cfg.mode !== 'zeroshot';
  expect((result.selection as { optimistic: boolean }).optimistic).toBe(optimistic);
  const md = readFileSync(join(outDir, 'summary.md'), 'utf8');
  expect(md).toContain(cfg.preset);
  expect(md).toContain(configHash(cfg));
  expect(md.includes('Optimistic')).toBe(optimistic);
  for (const a of cfg.eval.attributes) expect(md).toContain(`| ${a} |`);
  if (opts.checkpoint) {
    const latest = JSON.parse(readFileSync(join(outDir, 'checkpoints', 'latest.json'), 'utf8')) as { name: string };
    const ck = join(outDir, 'checkpoints', latest.name);
    const weights = readSafetensors(readFileSync(join(ck, 'model.safetensors')));
    expect(weights.tensors.size).toBeGreaterThan(0);
    expect(existsSync(join(ck, 'state.json'))).toBe(true);
    expect(existsSync(join(ck, 'optimizer.safetensors'))).toBe(true);
  }
  return result;
}
