/**
 * End to end on the embedded synthetic FairVLMed (wasm backend) with two checkpoints of the default tiny CLIP (its
 * weights and a perturbed copy): the table has one row per (attribute, group) present in the test set and one
 * column per checkpoint; the first checkpoint's similarities equal diag(logits_per_image) of ClipModel.forward
 * (a different code path) and its distances equal @fairclip/ot's samplesLoss on those with the study's options;
 * a rerun reuses both checkpoints' results.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '@fairclip/clip';
import { EMBEDDED_FAIRVLMED, runCaptured } from '@fairclip/example-common';
import { samplesLoss } from '@fairclip/ot';
import { fixturePath } from '@fairclip/test-fixtures';
import { ImageCache, loadModel, openRunData, resolveModelFiles, resolvePresetConfig } from '@fairclip/train';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { checkpointLabels, runApp } from '../src/app.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-sinkhorn-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const TINY_WEIGHTS = fixturePath('default-model/weights.safetensors');

const run = (argv: string[]) => runCaptured(runApp, argv);

/** A second checkpoint: the tiny model with its visual projection scaled by 1.5 and a shifted logit scale. */
function perturbedCheckpoint(): string {
  const { tensors } = readSafetensors(readFileSync(TINY_WEIGHTS));
  const proj = tensors.get('visual.proj')!;
  const data = Float32Array.from(proj.data as Float32Array, (v, i) => v * (1 + 0.5 * Math.sin(i)));
  tensors.set('visual.proj', { shape: proj.shape, data });
  const file = join(out, 'perturbed', 'best.safetensors');
  writeFileSync(file, writeSafetensors(tensors), { flag: 'w' });
  return file;
}

describe('sinkhorn-distances over two checkpoints', () => {
  test('writes the group × checkpoint table; values equal an independent recomputation; a rerun reuses', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(out, 'perturbed'));
    const second = perturbedCheckpoint();
    const argv = ['--weights', TINY_WEIGHTS, '--weights', second, '--backend', 'wasm', '--out', out];
    const r = await run(argv);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const [labelA, labelB] = checkpointLabels([TINY_WEIGHTS, second]);
    expect(labelA).toBe('weights');
    expect(labelB).toBe('best');
    expect(r.bar).toContain(`${labelA} [`);

    // independent similarities: diag(logits_per_image) of ClipModel.forward on the GPT-4 summaries
    const cfg = resolvePresetConfig('clip-zeroshot', [
      `model.arch=${JSON.stringify(fixturePath('default-model/config.json'))}`,
    ]);
    const loaded = await loadModel(resolveModelFiles(cfg), 0);
    const data = openRunData(cfg, EMBEDDED_FAIRVLMED, { resolution: 224, cache: new ImageCache() });
    const split = data.test;
    const imgs = await Promise.all(split.samples.map((_, i) => split.image(i)));
    const flat = new Float32Array(imgs.length * 3 * 224 * 224);
    imgs.forEach((a, k) => flat.set(a, k * a.length));
    const tokens = loaded.tokenizer.tokenize(
      split.samples.map((s) => s.caption!),
      { contextLength: 77, truncate: true },
    ).rows;
    const logits = loaded.model.forward(tf.tensor4d(flat, [imgs.length, 3, 224, 224]), tokens);
    const matrix = (await logits.logitsPerImage.array()) as number[][];
    tf.dispose([logits.logitsPerImage, logits.logitsPerText]);
    loaded.model.dispose();
    const sims = matrix.map((row, i) => row[i]!);

    const written = JSON.parse(readFileSync(join(out, labelA!, 'distances.json'), 'utf8'));
    expect(written.similarities).toHaveLength(split.size);
    written.similarities.forEach((v: number, i: number) => expect(v).toBeCloseTo(sims[i]!, 4));

    // the CSV: every (attribute, group) present in the test set, for both checkpoints
    const csv = readFileSync(join(out, 'distances.csv'), 'utf8').trim().split('\n').slice(1);
    const present = ['race', 'gender', 'ethnicity', 'language'].flatMap((a) =>
      data.groupNames[a]!.flatMap((g, gi) => (split.samples.some((s) => s.groups[a] === gi) ? [{ a, g, gi }] : [])),
    );
    expect(csv).toHaveLength(2 * present.length);
    for (const { a, g, gi } of present) {
      const idx = split.samples.flatMap((s, i) => (s.groups[a] === gi ? [i] : []));
      const expected = samplesLoss(
        sims,
        idx.map((i) => sims[i]!),
        {
          loss: 'sinkhorn',
          p: 2,
          blur: 1e-4,
          diameter: 2,
          scaling: 0.95,
          geomlossCompatible: true,
          solver: 'sinkhorn',
        },
      ).value;
      const line = csv.find((l) => l.startsWith(`${labelA},${TINY_WEIGHTS},${a},${g},`));
      expect(line, `${a} ${g}`).toBeDefined();
      const [, , , , n, d] = line!.split(',');
      expect(Number(n)).toBe(idx.length);
      expect(Number(d)).toBeCloseTo(expected, 3);
      expect(Number(d)).toBeGreaterThanOrEqual(-1e-9);
      const lineB = csv.find((l) => l.startsWith(`${labelB},${second},${a},${g},`));
      expect(Number(lineB!.split(',')[5])).not.toBe(Number(d));
    }
    const md = readFileSync(join(out, 'distances.md'), 'utf8');
    expect(md).toContain(`| attribute | group | n | ${labelA} | ${labelB} |`);
    expect(r.stdout.split('\n').filter((l) => /^(race|gender|ethnicity|language) /.test(l))).toHaveLength(
      present.length,
    );

    const before = statSync(join(out, labelA!, 'distances.json')).mtimeMs;
    const again = await run([...argv, '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stderr.match(/finished distances found/g)).toHaveLength(2);
    expect(statSync(join(out, labelA!, 'distances.json')).mtimeMs).toBe(before);
    expect(again.stdout).toBe(r.stdout);
  });
});

describe('user errors', () => {
  test('a missing checkpoint names the path and the accepted formats', async () => {
    const r = await run(['--weights', join(out, 'nope.safetensors'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('weights file not found');
    expect(r.stderr).toContain('(expected: a CLIP weights file');
  });

  test('a bad --solver and a missing dataset', async () => {
    expect((await run(['--solver', 'exact'])).stderr).toContain('--solver: expected geomloss or auto');
    const r = await run(['--data', join(out, 'none'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(expected: a Harvard-FairVLMed folder');
  });
});
