// Writes test-fixtures/data/default-model/{config.json, vocab.txt.gz, weights.safetensors}.
// Run from packages/train: pnpm exec tsx --conditions=@fairclip/source scripts/make-default-model.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { buildDefaultModel } from './default-model.ts';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const out = join(repo, 'test-fixtures', 'data', 'default-model');
await tf.setBackend('cpu');
const files = await buildDefaultModel(join(repo, 'test-fixtures', 'data', 'fairvlmed-mini'));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'config.json'), files.config);
writeFileSync(join(out, 'vocab.txt.gz'), files.vocab);
writeFileSync(join(out, 'weights.safetensors'), files.weights);
console.log(
  `default model: ${files.learned.merges.length} merges, vocab ${files.learned.vocabSize}, ` +
    `weights ${files.weights.length} bytes, vocab file ${files.vocab.length} bytes -> ${out}`,
);
