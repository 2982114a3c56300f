/**
 * End to end on the embedded synthetic FairVLMed (wasm backend) with two weights files (the default tiny CLIP's and
 * a perturbed copy in another folder): the README-style table has one complete row per checkpoint; the first row
 * equals a recomputation from the encoders (σ(cos₁ − cos₀), @fairclip/fairness); a rerun reuses both evaluations.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '@fairclip/clip';
import { EMBEDDED_FAIRVLMED, runCaptured } from '@fairclip/example-common';
import { fairnessReport } from '@fairclip/fairness';
import { fixturePath } from '@fairclip/test-fixtures';
import { ImageCache, loadModel, openRunData, resolveModelFiles, resolvePresetConfig } from '@fairclip/train';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { runApp } from '../src/app.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-evaluate-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const TINY_WEIGHTS = fixturePath('default-model/weights.safetensors');

const run = (argv: string[]) => runCaptured(runApp, argv);

// Another checkpoint: every weight moved by up to `amplitude` of its magnitude, with an unstructured (hash-like)
// pattern, so its test metrics differ from the default's.
function perturbed(amplitude = 0.5): string {
  const { tensors } = readSafetensors(readFileSync(TINY_WEIGHTS));
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array) || name === 'logit_scale') continue;
    tensors.set(name, {
      shape: t.shape,
      data: Float32Array.from(t.data, (v, i) => v * (1 + amplitude * Math.sin(i * 12.9898 + name.length * 78.233))),
    });
  }
  mkdirSync(join(out, 'ckpt'), { recursive: true });
  const file = join(out, 'ckpt', 'released.safetensors');
  writeFileSync(file, writeSafetensors(tensors));
  return file;
}

async function recomputed() {
  const cfg = resolvePresetConfig('clip-zeroshot', [
    `model.arch=${JSON.stringify(fixturePath('default-model/config.json'))}`,
  ]);
  const loaded = await loadModel(resolveModelFiles(cfg), 0);
  const split = openRunData(cfg, EMBEDDED_FAIRVLMED, { resolution: 224, cache: new ImageCache() }).test;
  const imgs = await Promise.all(split.samples.map((_, i) => split.image(i)));
  const flat = new Float32Array(imgs.length * 3 * 224 * 224);
  imgs.forEach((a, k) => flat.set(a, k * a.length));
  const scores = tf.tidy(() => {
    const unit = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 'euclidean', 1, true));
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
    { mode: 'fairlearn' },
  );
}

describe('evaluate-checkpoint on two weights files', () => {
  test('prints the README-style table; the first row equals a recomputation; a rerun reuses', async () => {
    const second = perturbed();
    const argv = ['--weights', TINY_WEIGHTS, '--weights', second, '--backend', 'wasm', '--out', out];
    const r = await run(argv);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines[1]!.trim().split(/\s{2,}/);
    expect(header).toEqual([
      'Checkpoint',
      'AUC',
      'ES-AUC race',
      'ES-AUC gender',
      'ES-AUC ethnicity',
      'ES-AUC language',
      'Asian',
      'Black',
      'White',
      'Female',
      'Male',
      'Non-Hispanic',
      'Hispanic',
      'English',
      'Spanish',
      'Other',
    ]);
    const rowA = lines
      .find((l) => l.startsWith('weights '))!
      .trim()
      .split(/\s{2,}/);
    const rowB = lines
      .find((l) => l.startsWith('released '))!
      .trim()
      .split(/\s{2,}/);
    expect(rowA).toHaveLength(header.length);
    expect(rowB).toHaveLength(header.length);
    const lib = await recomputed();
    const f4 = (v: number | null) => (v === null ? '–' : v.toFixed(4));
    const attrs = ['race', 'gender', 'ethnicity', 'language'];
    const groupNames = [
      ['Asian', 'Black', 'White'],
      ['Female', 'Male'],
      ['Non-Hispanic', 'Hispanic'],
      ['English', 'Spanish', 'Other'],
    ];
    const expected = [
      'weights',
      f4(lib.auc.value),
      ...attrs.map((a) => f4(lib.attributes[a]!.esAuc.value)),
      ...attrs.flatMap((a, i) =>
        groupNames[i]!.map((_, g) => f4(lib.attributes[a]!.groups.find((x) => x.group === g)?.auc.value ?? null)),
      ),
    ];
    expect(rowA).toEqual(expected);
    expect(rowB.slice(1)).not.toEqual(rowA.slice(1));
    const md = readFileSync(join(out, 'table.md'), 'utf8');
    expect(md).toContain(`| ${expected.join(' | ')} |`);
    expect(md).toContain(`- released: ${second}`);

    const again = await run([...argv, '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stderr.match(/finished run found/g)).toHaveLength(2);
    expect(again.stdout).toBe(r.stdout);

    // a weights file replaced at the same path is evaluated again; the other one is still reused
    perturbed(0.2);
    const replaced = await run([...argv, '--quiet']);
    expect(replaced.code).toBe(0);
    expect(replaced.stderr.match(/finished run found/g)).toHaveLength(1);
    const rowB2 = replaced.stdout.split('\n').find((l) => l.startsWith('released '));
    expect(rowB2).not.toBe(lines.find((l) => l.startsWith('released ')));
  });
});

describe('user errors', () => {
  test('a missing or unreadable weights file', async () => {
    const missing = await run(['--weights', join(out, 'x.pth'), '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`weights file not found: ${join(out, 'x.pth')}`);
    const junk = join(out, 'junk.safetensors');
    writeFileSync(junk, 'not weights at all');
    const bad = await run([
      '--weights',
      junk,
      '--arch',
      fixturePath('default-model/config.json'),
      '--backend',
      'wasm',
      '--out',
      out,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(junk);
  });
});
