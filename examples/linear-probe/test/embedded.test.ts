/**
 * The no-argument run (only --out, --seeds and --backend wasm; no --set): the embedded profile makes the preset fit
 * the embedded synthetic FairVLMed (whose training size is read from its generator record, synth.json).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '@fairclip/example-common';
import { readFixtureJson } from '@fairclip/test-fixtures';
import { afterAll, expect, test } from 'vitest';
import { HELP, runApp } from '../src/app.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-linear-probe-embedded-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const TRAIN = readFixtureJson<{ counts: { train: { samples: number } } }>('fairvlmed-mini/synth.json').counts.train
  .samples;

test('runs on the embedded data without overrides, with the embedded profile', async () => {
  const argv = ['--out', out, '--seeds', '3', '--backend', 'wasm', '--quiet'];
  const { code, stdout, stderr } = await runCaptured(runApp, argv);
  expect(stderr).not.toMatch(/Error|no batch/);
  expect(code).toBe(0);
  const result = JSON.parse(readFileSync(join(out, 'linear-probe', 'seed-3', 'result.json'), 'utf8'));
  const lp = result.config.linearProbe;
  expect([lp.batchSize, lp.epochs]).toEqual([16, 100]);
  expect(result.steps).toBe(lp.epochs * Math.floor(TRAIN / lp.batchSize));
  const valRows = readFileSync(join(out, 'linear-probe', 'seed-3', 'epochs_val.csv'), 'utf8')
    .trim()
    .split('\n');
  expect(valRows).toHaveLength(1 + lp.epochs / lp.evalEvery);
  expect(stdout).toMatch(/^race +\d/m);
  expect(HELP).toContain('linearProbe.batchSize=16');
});
