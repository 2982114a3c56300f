/**
 * End to end on the embedded synthetic FairVLMed with the default tiny CLIP (wasm backend): the table is complete,
 * its numbers equal a recomputation from the encoders (FairCLIP's score σ(cos₁ − cos₀) and @fairclip/fairness), a
 * rerun reuses the finished run, and wrong paths give messages naming the expected layout.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_FAIRVLMED, runCaptured } from '@fairclip/example-common';
import { fairnessReport } from '@fairclip/fairness';
import { fixturePath } from '@fairclip/test-fixtures';
import { ImageCache, loadModel, openRunData, resolveModelFiles, resolvePresetConfig } from '@fairclip/train';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { runApp } from '../src/app.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-zero-shot-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const run = (argv: string[]) => runCaptured(runApp, argv);

const x100 = (v: number | null) => (v === null ? '–' : (v * 100).toFixed(2));

/** Zero-shot scores recomputed from the encoders, independently of the evaluation code of @fairclip/train. */
async function recomputedReport() {
  const cfg = resolvePresetConfig('clip-zeroshot', [
    `model.arch=${JSON.stringify(fixturePath('default-model/config.json'))}`,
  ]);
  const loaded = await loadModel(resolveModelFiles(cfg), cfg.training.seed);
  const split = openRunData(cfg, EMBEDDED_FAIRVLMED, { resolution: 224, cache: new ImageCache() }).test;
  const imgs = await Promise.all(split.samples.map((_, i) => split.image(i)));
  const scores = tf.tidy(() => {
    const unit = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 'euclidean', 1, true));
    const flat = new Float32Array(imgs.length * 3 * 224 * 224);
    imgs.forEach((a, k) => flat.set(a, k * a.length));
    const im = unit(loaded.model.encodeImage(tf.tensor4d(flat, [imgs.length, 3, 224, 224])));
    const tx = unit(loaded.model.encodeText(loaded.tokenizer.tokenize(cfg.eval.prompts, { contextLength: 77 }).rows));
    const cos = tf.matMul(im, tx, false, true);
    return tf.sigmoid(tf.sub(tf.slice(cos, [0, 1], [-1, 1]), tf.slice(cos, [0, 0], [-1, 1]))).dataSync();
  });
  loaded.model.dispose();
  const attrs = Object.fromEntries(
    ['race', 'gender', 'ethnicity', 'language'].map((a) => [a, split.samples.map((s) => s.groups[a] ?? -1)]),
  );
  return fairnessReport(
    split.samples.map((s) => s.label),
    Float64Array.from(scores),
    attrs,
    { mode: 'fairlearn', threshold: 0.5 },
  );
}

describe('zero-shot on the embedded default', () => {
  test('writes the runs and the summary; the table equals a recomputation from the encoders', async () => {
    const r = await run(['--backend', 'wasm', '--out', out]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const runDir = join(out, 'clip-zeroshot', 'seed-8390');
    for (const f of ['result.json', 'epochs_test.csv', 'epochs_val.csv', 'summary.md'])
      expect(statSync(join(runDir, f)).isFile(), f).toBe(true);
    expect(r.bar).toContain('clip-zeroshot [');
    const lib = await recomputedReport();
    const lines = r.stdout.split('\n');
    for (const [name, a] of Object.entries(lib.attributes)) {
      const row = lines.find((l) => l.startsWith(`${name} `));
      expect(row, `row for ${name}`).toBeDefined();
      const cells = row!.trim().split(/\s{2,}/);
      expect(cells.slice(0, 6)).toEqual([
        name,
        x100(lib.auc.value),
        x100(a.esAuc.value),
        x100(a.dpd),
        x100(a.eod.value),
        x100(a.esAcc),
      ]);
      for (const g of a.groups) expect(cells[6]).toContain(x100(g.auc.value));
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.attributes.map((a: { attribute: string }) => a.attribute)).toEqual([
      'race',
      'gender',
      'ethnicity',
      'language',
    ]);
    expect(summary.attributes[0].auc.mean.value).toBeCloseTo(lib.auc.value!, 12);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md.split('\n').filter((l) => /^\| (race|gender|ethnicity|language) \|/.test(l))).toHaveLength(4);

    // a rerun reuses the finished run: nothing is recomputed
    const before = statSync(join(runDir, 'result.json')).mtimeMs;
    const again = await run(['--backend', 'wasm', '--out', out, '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('finished run found');
    expect(statSync(join(runDir, 'result.json')).mtimeMs).toBe(before);
    expect(again.stdout.split('\n').slice(1, 6)).toEqual(r.stdout.split('\n').slice(1, 6));
  });
});

describe('user errors', () => {
  test('a missing dataset folder names the path and the expected layout; exit code 2', async () => {
    const r = await run(['--data', '/nonexistent/FairVLMed', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('dataset folder not found: /nonexistent/FairVLMed');
    expect(r.stderr).toContain('(expected: a Harvard-FairVLMed folder holding Training/, Validation/ and Test/');
  });

  test('a folder without the split folders names the missing one', async () => {
    const dir = join(out, 'not-a-dataset');
    mkdirSync(join(dir, 'Training'), { recursive: true });
    const r = await run(['--data', dir, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`dataset split folder Validation/ not found: ${join(dir, 'Validation')}`);
  });

  test('a missing weights file names the path and the accepted formats', async () => {
    const r = await run(['--weights', '/nonexistent/clip.pth', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('weights file not found: /nonexistent/clip.pth');
    expect(r.stderr).toContain('.safetensors');
  });

  test('bad flags and --help', async () => {
    expect((await run(['--backend', 'tpu'])).stderr).toContain('--backend: expected auto, webgpu, wasm or cpu');
    expect((await run(['--seeds', 'a'])).code).toBe(2);
    expect((await run(['--preset', 'nope', '--out', out])).stderr).toMatch(/nope/);
    expect((await run(['--help'])).stdout).toContain('Usage: fairclip-zero-shot');
  });
});
