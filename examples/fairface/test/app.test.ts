/**
 * End to end on the embedded synthetic FairFace (wasm backend, default tiny CLIP): zero-shot gender classification
 * gives age and race rows whose AUC equals a recomputation from the encoders; FairCLIP+ over age and race trains
 * one step with one distance per (attribute, group); a rerun reuses; bad presets and data are refused.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '@fairclip/example-common';
import { rocAuc } from '@fairclip/fairness';
import { fixturePath } from '@fairclip/test-fixtures';
import { ImageCache, loadModel, openRunData, resolveModelFiles, resolvePresetConfig } from '@fairclip/train';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { runApp } from '../src/app.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-fairface-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const run = (argv: string[]) => runCaptured(runApp, argv);

describe('fairface on the embedded default', () => {
  test('zero-shot: age and race rows; the AUC equals a recomputation from the encoders; a rerun reuses', async () => {
    const r = await run(['--backend', 'wasm', '--out', out]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const data = join(out, 'embedded-fairface');
    expect(readFileSync(join(data, 'fairface_label_test.csv'), 'utf8')).toBe(
      readFileSync(fixturePath('fairface-mini/fairface_label_val.csv'), 'utf8'),
    );
    const cfg = resolvePresetConfig('fairface-clip-zeroshot', [
      `model.arch=${JSON.stringify(fixturePath('default-model/config.json'))}`,
    ]);
    const loaded = await loadModel(resolveModelFiles(cfg), 0);
    const split = openRunData(cfg, data, { resolution: 224, cache: new ImageCache() }).test;
    const imgs = await Promise.all(split.samples.map((_, i) => split.image(i)));
    const flat = new Float32Array(imgs.length * 3 * 224 * 224);
    imgs.forEach((a, k) => flat.set(a, k * a.length));
    const scores = tf.tidy(() => {
      const unit = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 'euclidean', 1, true));
      const im = unit(loaded.model.encodeImage(tf.tensor4d(flat, [imgs.length, 3, 224, 224])));
      const prompts = ['A picture of a female person', 'A picture of a male person'];
      expect(cfg.eval.prompts).toEqual(prompts);
      const tx = unit(loaded.model.encodeText(loaded.tokenizer.tokenize(prompts, { contextLength: 77 }).rows));
      const cos = tf.matMul(im, tx, false, true);
      return tf.sigmoid(tf.sub(tf.slice(cos, [0, 1], [-1, 1]), tf.slice(cos, [0, 0], [-1, 1]))).dataSync();
    });
    loaded.model.dispose();
    const auc = rocAuc(
      split.samples.map((s) => s.label),
      Float64Array.from(scores),
    ).value!;
    const lines = r.stdout.split('\n');
    for (const a of ['age', 'race']) {
      const cells = lines
        .find((l) => l.startsWith(`${a} `))!
        .trim()
        .split(/\s{2,}/);
      expect(cells[1]).toBe((auc * 100).toFixed(2));
    }
    const groups = lines.find((l) => l.startsWith('race '))!;
    for (const g of ['East Asian', 'Indian', 'Black', 'White', 'Middle Eastern', 'Southeast Asian', 'Latino_Hispanic'])
      expect(groups).toContain(g);
    const again = await run(['--backend', 'wasm', '--out', out, '--quiet']);
    expect(again.stderr).toContain('finished run found');
    expect(again.stdout).toBe(r.stdout);
  });

  test('FairCLIP+ over age and race trains with one distance per (attribute, group)', async () => {
    const r = await run([
      '--preset',
      'fairface-fairclip-plus',
      '--backend',
      'wasm',
      '--out',
      out,
      '--epochs',
      '1',
      '--batch-size',
      '4',
      '--set',
      'data.limits.train=4',
      '--set',
      'fairness.groupBatchSize=2',
    ]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.bar).toMatch(/fairface-fairclip-plus \[#+\] 1\/1/);
    const dir = join(out, 'fairface-fairclip-plus');
    const seedDir = join(dir, readFileSync(join(out, 'summary.json'), 'utf8').match(/seed-\d+/)![0]);
    expect(statSync(join(seedDir, 'best.safetensors')).size).toBeGreaterThan(0);
    const header = readFileSync(join(seedDir, 'steps.csv'), 'utf8').split('\n')[0]!.split(', ');
    const dist = header.filter((h) => h.startsWith('dist/'));
    expect(new Set(dist.map((d) => d.split('/')[1]))).toEqual(new Set(['age', 'race']));
    const result = JSON.parse(readFileSync(join(seedDir, 'result.json'), 'utf8'));
    expect(result.config.fairness.attributes).toEqual({ age: 0.5, race: 0.5 });
    expect(result.steps).toBe(1);
  });

  test('user errors', async () => {
    expect((await run(['--preset', 'clip-zeroshot', '--out', out])).stderr).toContain(
      '--preset: expected one of fairface-clip-zeroshot',
    );
    const r = await run(['--data', fixturePath('fairface-mini'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('label file fairface_label_test.csv not found');
    expect(r.stderr).toContain('(expected: a FairFace folder');
  });
});
