// Shared helpers of the model/weights/heads tests: the committed golden tiny-vit (OpenAI's code in float64, see
// test-fixtures/data/golden/README.md "clip/tiny-vit") and the Python fixtures under test-fixtures/data/clip/.
import { readFileSync } from 'node:fs';
import { fixturePath, readFixtureJson } from '@fairclip/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { readSafetensors, type StateDict } from '../src/index.ts';

type Nested = number | Nested[];

export function flat(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x];
}

export interface GoldenGrad {
  shape: number[];
  data: Nested;
}

export interface GoldenTinyVit {
  config: unknown;
  weights: StateDict;
  metadata: Record<string, string>;
  images: { shape: [number, number, number, number]; data: Nested };
  tokens: number[][];
  encode_image: Nested;
  encode_text: Nested;
  logit_scale_exp: number;
  logits_per_image: Nested;
  logits_per_text: Nested;
  loss: number;
  loss_image: number;
  loss_text: number;
  grads: Record<string, GoldenGrad>;
  token_embedding_grad_rows: { ids: number[]; rows: number[][] };
}

let golden: GoldenTinyVit | undefined;

/** The committed golden tiny-vit (config, weights, inputs and OpenAI's outputs). */
export function goldenTinyVit(): GoldenTinyVit {
  if (golden === undefined) {
    const expected = readFixtureJson<Omit<GoldenTinyVit, 'config' | 'weights' | 'metadata'>>(
      'golden/clip/tiny-vit/expected.json',
    );
    const contents = readSafetensors(
      readFileSync(fixturePath('golden/clip/tiny-vit/model.safetensors')),
      'golden/clip/tiny-vit/model.safetensors',
    );
    golden = {
      ...expected,
      config: readFixtureJson('golden/clip/tiny-vit/config.json'),
      weights: contents.tensors,
      metadata: contents.metadata,
    };
  }
  return golden;
}

export interface ResnetTiny {
  config: unknown;
  weights: StateDict;
  images: { shape: [number, number, number, number]; data: Nested };
  tokens: number[][];
  encode_image: Nested;
  encode_text: Nested;
  logits_per_image: Nested;
  loss: number;
  grads: Record<string, GoldenGrad>;
}

let resnet: ResnetTiny | undefined;

/** The tiny ModifiedResNet CLIP of test-fixtures/generators/clip_resnet.py. */
export function resnetTiny(): ResnetTiny {
  if (resnet === undefined) {
    const expected = readFixtureJson<Omit<ResnetTiny, 'config' | 'weights'>>('clip/resnet-tiny/expected.json');
    resnet = {
      ...expected,
      config: readFixtureJson('clip/resnet-tiny/config.json'),
      weights: readSafetensors(readFileSync(fixturePath('clip/resnet-tiny/model.safetensors'))).tensors,
    };
  }
  return resnet;
}

export function readFixtureBytes(rel: string): Uint8Array {
  return readFileSync(fixturePath(rel));
}

/** max |a − e| / max |e|: the error relative to the reference's scale (robust to near-zero elements). */
export function scaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    const d = Math.abs(actual[i]! - expected[i]!);
    err = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(err, d);
  }
  return scale === 0 ? err : err / scale;
}

export function expectScaledClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string) {
  const e = scaledError(actual, expected);
  expect(e, `${label}: max |error| / max |reference| = ${e.toExponential(2)} > ${tol}`).toBeLessThanOrEqual(tol);
  return e;
}

/** Reads a tensor's values and disposes it. */
export async function take(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return new Float32Array(v);
}

export function imagesTensor(images: { shape: [number, number, number, number]; data: Nested }): tf.Tensor4D {
  return tf.tensor4d(flat(images.data), images.shape);
}

/** Index of the first difference of two array-likes (−1 when equal): cheap on large arrays, unlike toEqual's diff. */
export function firstDifference(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

export function expectSameValues(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>, label: string): void {
  const i = firstDifference(a, b);
  expect(
    i,
    `${label}: first difference at ${i} (${String(a[i])} vs ${String(b[i])}; lengths ${a.length}, ${b.length})`,
  ).toBe(-1);
}
