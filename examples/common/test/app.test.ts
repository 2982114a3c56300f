// The shared preset-app loop (runPresetApp) up to initCompute, and the embedded profile against the embedded data's
// recorded sample counts (test-fixtures/data/fairvlmed-mini/synth.json, written by its generator).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFixtureJson } from '@fairclip/test-fixtures';
import { PRESET_NAMES, resolvePresetConfig, type TrainConfig } from '@fairclip/train';
import { afterAll, describe, expect, test } from 'vitest';
import {
  CliError,
  DEFAULT_MODEL,
  EMBEDDED_FAIRVLMED,
  embeddedProfile,
  type PresetApp,
  runPresetApp,
} from '../src/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fc-example-app-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const synth = readFixtureJson<{ counts: { train: { samples: number } } }>('fairvlmed-mini/synth.json');
const TRAIN = synth.counts.train.samples;

describe('embeddedProfile', () => {
  test('linear probing gets a batch that fits the embedded training split and a short budget', () => {
    expect(embeddedProfile('linear-probe')).toEqual([
      'linearProbe.batchSize=16',
      'linearProbe.epochs=100',
      'linearProbe.augmentation="none"',
    ]);
    const preset = resolvePresetConfig('linear-probe').linearProbe!;
    expect(Math.floor(TRAIN / preset.batchSize)).toBe(0); // the preset alone makes no batch (the bug it fixes)
    const lp = resolvePresetConfig('linear-probe', embeddedProfile('linear-probe')).linearProbe!;
    expect(Math.floor(TRAIN / lp.batchSize)).toBeGreaterThanOrEqual(1);
    expect(lp.warmupEpochs).toBe(preset.warmupEpochs);
    expect(lp.evalEvery).toBe(preset.evalEvery);
    expect(lp.epochs % lp.evalEvery).toBe(0);
  });

  test('every FairVLMed preset, profiled, has at least one training batch on the embedded data', () => {
    const fairvlmed = PRESET_NAMES.filter((p) => resolvePresetConfig(p).data.dataset === 'fairvlmed');
    expect(fairvlmed.length).toBeGreaterThan(5);
    for (const p of fairvlmed) {
      const cfg = resolvePresetConfig(p, embeddedProfile(p));
      if (cfg.mode === 'linear-probe') expect(Math.floor(TRAIN / cfg.linearProbe!.batchSize), p).toBeGreaterThan(0);
      else {
        expect(embeddedProfile(p), p).toEqual([]);
        const batches = cfg.training.dropLast ? Math.floor(TRAIN / cfg.training.batchSize) : 1;
        expect(batches, p).toBeGreaterThan(0);
      }
    }
  });

  test('an unknown preset is refused by name', () => {
    expect(() => embeddedProfile('nope')).toThrow(/unknown preset 'nope'/);
  });
});

describe('runPresetApp', () => {
  // `check` records the resolved configuration and stops the run before initCompute.
  function app(extra: Partial<PresetApp> = {}): { spec: PresetApp; seen: TrainConfig[] } {
    const seen: TrainConfig[] = [];
    const spec: PresetApp = {
      name: 'fc-test',
      defaults: { preset: 'linear-probe', out: join(tmp, 'out') },
      dataset: 'fairvlmed',
      help: 'Usage: fc-test',
      check: (cfg) => {
        seen.push(cfg);
        throw new CliError('stopped before initCompute');
      },
      header: () => [],
      ...extra,
    };
    return { spec, seen };
  }
  async function run(spec: PresetApp, argv: string[]) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runPresetApp(spec, argv, { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t) });
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  }

  test('without --data the embedded profile applies before the user overrides; with --data it does not', async () => {
    const { spec, seen } = app();
    expect(await run(spec, [])).toEqual({ code: 2, stdout: '', stderr: 'fc-test: stopped before initCompute' });
    await run(spec, ['--set', 'linearProbe.batchSize=8']);
    await run(spec, ['--data', EMBEDDED_FAIRVLMED]);
    expect(seen.map((c) => [c.linearProbe?.batchSize, c.linearProbe?.epochs])).toEqual([
      [16, 100],
      [8, 100],
      [512, 1000],
    ]);
    expect(seen.every((c) => c.data.path === EMBEDDED_FAIRVLMED && c.model.arch === DEFAULT_MODEL)).toBe(true);
  });

  test('embeddedData replaces the embedded folder only when --data is not given', async () => {
    const { spec, seen } = app({ embeddedData: (out) => (out === join(tmp, 'out') ? EMBEDDED_FAIRVLMED : 'wrong') });
    await run(spec, []);
    expect(seen[0]?.data.path).toBe(EMBEDDED_FAIRVLMED);
    expect((await run(spec, ['--data', join(tmp, 'missing')])).stderr).toMatch(/dataset folder not found: .*missing/);
  });

  test('help, leftover arguments, several weights files, presets and overrides are handled before any work', async () => {
    const { spec, seen } = app({ presets: ['linear-probe'], weights: 'encoder file' });
    expect(await run(spec, ['--help'])).toEqual({ code: 0, stdout: 'Usage: fc-test', stderr: '' });
    expect((await run(spec, ['extra'])).stderr).toBe('fc-test: unexpected argument "extra" (see --help)');
    expect((await run(spec, ['--weights', 'a', '--weights', 'b'])).stderr).toBe(
      'fc-test: --weights: give one encoder file',
    );
    expect((await run(spec, ['--preset', 'clip-finetune'])).stderr).toBe(
      'fc-test: --preset: expected one of linear-probe, got "clip-finetune"',
    );
    const bad = await run(spec, ['--set', 'linearProbe.epochs=-1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('linearProbe.epochs');
    expect(seen).toHaveLength(0);
  });
});
