/**
 * --weights: a checkpoint of the default tiny CLIP (a fine-tuned best.safetensors) runs every variant from it (its
 * architecture is recognised by its parameters); a safetensors file whose architecture cannot be told is refused
 * before any work, asking for --arch.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL, runCaptured } from '@fairclip/example-common';
import { afterAll, expect, test } from 'vitest';
import { runApp } from '../src/app.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-reproduce-weights-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const run = (argv: string[]) => runCaptured(runApp, argv);

const TINY = ['--backend', 'wasm', '--seeds', '3', '--set', 'data.limits.train=8', '--set', 'data.limits.test=12'];

test('a fine-tuned checkpoint of the tiny model is the starting point of every cell', async () => {
  const first = await run([
    '--out',
    join(out, 'a'),
    '--preset',
    'clip-finetune',
    '--epochs',
    '1',
    '--batch-size',
    '4',
    ...TINY,
  ]);
  expect(first.code).toBe(0);
  const best = join(out, 'a', 'runs', 'clip-finetune', 'seed-3', 'best.safetensors');
  expect(existsSync(best)).toBe(true);
  const again = await run(['--out', join(out, 'b'), '--preset', 'clip-zeroshot', '--weights', best, ...TINY]);
  expect(again.stderr).not.toMatch(/Error/);
  expect(again.code).toBe(0);
  const result = JSON.parse(readFileSync(join(out, 'b', 'runs', 'clip-zeroshot', 'seed-3', 'result.json'), 'utf8'));
  expect(result.model.weights).toBe(best);
  expect(result.model.arch).toBe(DEFAULT_MODEL);
  expect(readFileSync(join(out, 'b', 'report.md'), 'utf8')).toContain(`weights ${best}`);
}, 300_000);

test('a safetensors file of unknown architecture is refused, asking for --arch', async () => {
  const header = JSON.stringify({
    'vision_model.embeddings.patch_embedding.weight': { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
  });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  const file = join(out, 'hf-named.safetensors');
  writeFileSync(file, Buffer.concat([len, Buffer.from(header), Buffer.alloc(8)]));
  const r = await run(['--out', join(out, 'c'), '--weights', file, ...TINY]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(
    /cannot tell the architecture of .*hf-named\.safetensors.*pass --arch NAME \(ViT-B\/16, ViT-B\/32, ViT-L\/14, RN50\)/,
  );
  expect(existsSync(join(out, 'c', 'runs'))).toBe(false);
});
