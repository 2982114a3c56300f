// Architectures as data: the shipped configurations against OpenAI's published parameter counts, configuration
// inference with OpenAI's build_model rules (a law over random configurations), validation errors, token checks,
// parameter groups, weights/config mismatch errors, seeded initialisation, disposal.

import { initCompute } from '@fairclip/compute';
import { withLeakCheck } from '@fairclip/compute/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  type ClipConfig,
  ClipModel,
  clipConfig,
  deriveConfig,
  inferClipConfig,
  PARAMETER_GROUPS,
  parseClipConfig,
  WeightsMismatchError,
} from '../src/index.ts';
import { stateDictSpec } from '../src/model/spec.ts';
import { toTokenBatch } from '../src/model/tokens.ts';
import { goldenTinyVit } from './model-helpers.ts';

const G = goldenTinyVit();

function specShapes(config: ClipConfig): Map<string, number[]> {
  return new Map(stateDictSpec(config).map((s) => [s.name, s.shape]));
}

function countParameters(config: ClipConfig): number {
  let n = 0;
  for (const s of stateDictSpec(config)) if (!s.buffer) n += s.shape.reduce((a, b) => a * b, 1);
  return n;
}

function expectCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').toBeInstanceOf(Error);
  expect((caught as { code?: string }).code).toBe(code);
  if (pattern) expect((caught as Error).message).toMatch(pattern);
}

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
});

describe('shipped architectures', () => {
  // Parameter counts of OpenAI's released models (sum of numel over model.parameters(), as OpenAI's
  // "Interacting with CLIP" notebook prints them; BatchNorm running statistics are buffers, not parameters).
  const openaiCounts = { 'ViT-B/32': 151_277_313, 'ViT-B/16': 149_620_737, 'ViT-L/14': 427_616_513, RN50: 102_007_137 };

  test.each(Object.entries(openaiCounts))('%s has OpenAI’s parameter count', (name, count) => {
    const config = clipConfig(name as keyof typeof openaiCounts);
    expect(countParameters(config)).toBe(count);
  });

  test('derived values (heads = width // 64, patch grid, attention-pool grid)', () => {
    expect(deriveConfig(clipConfig('ViT-B/16'))).toEqual({
      kind: 'vit',
      visionHeads: 12,
      grid: 14,
      visionTokens: 197,
      visionFeatureWidth: 768,
    });
    expect(deriveConfig(clipConfig('ViT-L/14'))).toMatchObject({ visionHeads: 16, grid: 16, visionTokens: 257 });
    expect(deriveConfig(clipConfig('ViT-B/32'))).toMatchObject({ visionHeads: 12, grid: 7, visionTokens: 50 });
    expect(deriveConfig(clipConfig('RN50'))).toEqual({
      kind: 'resnet',
      visionHeads: 32,
      grid: 7,
      visionTokens: 50,
      visionFeatureWidth: 2048,
    });
  });

  test.each(['ViT-B/16', 'ViT-B/32', 'ViT-L/14', 'RN50'] as const)(
    '%s: build_model inference from the state-dict shapes gives the configuration back',
    (name) => {
      const config = clipConfig(name);
      expect(inferClipConfig(specShapes(config))).toEqual(config);
    },
  );

  test('the golden config.json parses to its constructor arguments', () => {
    const c = parseClipConfig(G.config);
    expect(c).toEqual({
      embed_dim: 32,
      image_resolution: 32,
      vision_layers: 2,
      vision_width: 64,
      vision_patch_size: 8,
      context_length: 77,
      vocab_size: 49408,
      transformer_width: 48,
      transformer_heads: 4,
      transformer_layers: 2,
    });
    expect(deriveConfig(c)).toMatchObject({ visionHeads: 1, grid: 4, visionTokens: 17 });
    // OpenAI's n_parameters for it (config.json) counts everything in the state dict.
    expect(countParameters(c)).toBe((G.config as { n_parameters: number }).n_parameters);
  });

  test('inference needs an explicit head count when width // 64 is 0 (the tiny golden model)', () => {
    const shapes = new Map([...G.weights].map(([k, v]) => [k, v.shape]));
    expectCode(() => inferClipConfig(shapes), 'CANNOT_INFER_CONFIG', /transformer_heads/);
    expect(inferClipConfig(shapes, { transformer_heads: 4 })).toEqual(parseClipConfig(G.config));
  });

  test('law: inference inverts the state-dict shapes of random ViT configurations', () => {
    fc.assert(
      fc.property(
        fc.record({
          embed_dim: fc.integer({ min: 1, max: 64 }),
          grid: fc.integer({ min: 1, max: 8 }),
          vision_patch_size: fc.integer({ min: 1, max: 16 }),
          vision_layers: fc.integer({ min: 1, max: 4 }),
          vision_heads: fc.integer({ min: 1, max: 4 }),
          context_length: fc.integer({ min: 1, max: 80 }),
          vocab_size: fc.integer({ min: 2, max: 1000 }),
          text_heads: fc.integer({ min: 1, max: 4 }),
          transformer_layers: fc.integer({ min: 1, max: 4 }),
        }),
        (r) => {
          const config: ClipConfig = {
            embed_dim: r.embed_dim,
            image_resolution: r.grid * r.vision_patch_size,
            vision_layers: r.vision_layers,
            vision_width: 64 * r.vision_heads,
            vision_patch_size: r.vision_patch_size,
            context_length: r.context_length,
            vocab_size: r.vocab_size,
            transformer_width: 64 * r.text_heads,
            transformer_heads: r.text_heads,
            transformer_layers: r.transformer_layers,
          };
          expect(inferClipConfig(specShapes(parseClipConfig(config)))).toEqual(config);
        },
      ),
    );
  });

  test('law: inference inverts the state-dict shapes of random ModifiedResNet configurations', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 3 }),
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (layers, halfWidth, grid) => {
          const config: ClipConfig = {
            embed_dim: 16,
            image_resolution: 32 * grid,
            vision_layers: layers,
            vision_width: 2 * halfWidth,
            vision_patch_size: null,
            context_length: 5,
            vocab_size: 10,
            transformer_width: 64,
            transformer_heads: 1,
            transformer_layers: 1,
          };
          expect(inferClipConfig(specShapes(parseClipConfig(config)))).toEqual(config);
        },
      ),
    );
  });
});

describe('configuration errors name the field', () => {
  const base = { ...(G.config as { constructor_args: Record<string, unknown> }).constructor_args };
  test.each([
    [{ embed_dim: undefined }, /"embed_dim" must be a positive integer/],
    [{ vision_width: 64.5 }, /"vision_width" must be a positive integer/],
    [{ vision_layers: [1, 2, 3] }, /"vision_layers" must be/],
    [{ vision_layers: [1, 1, 1, 1], vision_patch_size: 8 }, /must be null for a ModifiedResNet/],
    [{ vision_patch_size: null }, /"vision_patch_size" must be a positive integer/],
    [{ image_resolution: 30 }, /not a multiple of vision_patch_size/],
    [{ transformer_heads: 5 }, /not divisible by transformer_heads/],
    [{ vision_width: 32 }, /gives 0 heads/],
    [{ vision_layers: [1, 1, 1, 1], vision_patch_size: null, image_resolution: 48 }, /multiple of 32/],
  ])('%o', (patch, message) => {
    expectCode(() => parseClipConfig({ ...base, ...patch }), 'BAD_CONFIG', message);
  });

  test('not an object', () => {
    expectCode(() => parseClipConfig(null), 'BAD_CONFIG', /expected an object/);
    expectCode(() => clipConfig('ViT-H/14' as never), 'BAD_CONFIG', /unknown architecture/);
  });
});

describe('token rows', () => {
  test('pooling position is the first largest id; rows are checked', () => {
    const b = toTokenBatch([[5, 9, 3, 9, 0]], 5, 10);
    expect([...b.eot]).toEqual([1]);
    expect(toTokenBatch({ data: new Int32Array([1, 2, 0, 3]), shape: [2, 2] }, 2, 4).eot).toEqual(
      new Int32Array([1, 1]),
    );
    expectCode(() => toTokenBatch([[1, 2, 3]], 77, 10), 'BAD_TOKENS', /length 3, the model's context_length is 77/);
    expectCode(() => toTokenBatch([[1, 12]], 2, 10), 'BAD_TOKENS', /id 12 is outside \[0, 10\)/);
    expectCode(() => toTokenBatch([[1, 2], [1]], 2, 10), 'BAD_TOKENS', /row 1 has 1 ids/);
    expectCode(() => toTokenBatch([], 2, 10), 'BAD_TOKENS', /batch size 0/);
    expectCode(() => toTokenBatch([[1, -1]], 2, 10), 'BAD_TOKENS', /outside/);
  });
});

describe('model construction', () => {
  test('parameter groups partition the parameters; the official groups are visual + transformer', async () => {
    await withLeakCheck(() => {
      const model = ClipModel.create(G.config, { weights: G.weights });
      const all = model.parameters();
      const groups = model.parameterGroups();
      expect(Object.keys(groups)).toEqual([...PARAMETER_GROUPS]);
      const union = new Set<string>();
      for (const g of Object.values(groups)) for (const k of g.keys()) union.add(k);
      expect(union.size).toBe(all.size);
      expect([...all.keys()].every((k) => union.has(k))).toBe(true);
      const official = model.parameters(['visual', 'transformer']);
      expect([...official.keys()].every((k) => k.startsWith('visual.') || k.startsWith('transformer.'))).toBe(true);
      expect(official.has('token_embedding.weight') || official.has('logit_scale')).toBe(false);
      expect(groups.token_embedding.get('token_embedding.weight')?.shape).toEqual([49408, 48]);
      expect([...groups.ln_final.keys()]).toEqual(['ln_final.weight', 'ln_final.bias']);
      expect(model.numParameters()).toBe(2_549_169);
      expect([...all.values()].every((v) => v.trainable)).toBe(true);
      model.dispose();
    });
  });

  test('mismatched weights: every missing, unexpected and wrong-shape key is listed', () => {
    const weights = new Map(G.weights);
    weights.delete('visual.proj');
    weights.delete('ln_final.bias');
    weights.set('visual.extra.weight', { shape: [2], data: new Float32Array(2) });
    weights.set('text_projection', { shape: [32, 48], data: new Float32Array(32 * 48) });
    let error: unknown;
    try {
      ClipModel.create(G.config, { weights, source: 'my.safetensors' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WeightsMismatchError);
    const m = (error as WeightsMismatchError).mismatch;
    expect(m.missing.sort()).toEqual(['ln_final.bias', 'visual.proj']);
    expect(m.unexpected).toEqual(['visual.extra.weight']);
    expect(m.wrongShape).toEqual([{ name: 'text_projection', expected: [48, 32], got: [32, 48] }]);
    expect((error as Error).message).toMatch(
      /my\.safetensors: .*missing keys \(2\).*unexpected keys \(1\).*wrong shapes \(1\)/,
    );
  });

  test('a DataParallel "module." prefix is recognised in the error', () => {
    const prefixed = new Map([...G.weights].map(([k, v]) => [`module.${k}`, v]));
    expect(() => ClipModel.create(G.config, { weights: prefixed })).toThrow(/prefixed with "module\."/);
  });

  test('buffers OpenAI/HF files may carry are accepted and ignored', async () => {
    const weights = new Map(G.weights);
    weights.set('input_resolution', { shape: [], data: BigInt64Array.of(32n) });
    weights.set('text_model.embeddings.position_ids', { shape: [1, 77], data: new BigInt64Array(77) });
    await withLeakCheck(() => ClipModel.create(G.config, { weights }).dispose());
  });

  test('seeded initialisation: same seed same values, OpenAI’s scales', async () => {
    const config = { ...(G.config as { constructor_args: ClipConfig }).constructor_args, vocab_size: 1000 };
    const a = ClipModel.create(config, { seed: 7 });
    const b = ClipModel.create(config, { seed: 7 });
    const c = ClipModel.create(config, { seed: 8 });
    const emb = async (m: ClipModel) => (await m.parameters().get('token_embedding.weight')!.data()) as Float32Array;
    const [ea, eb, ec] = [await emb(a), await emb(b), await emb(c)];
    expect(ea).toEqual(eb);
    expect(ea).not.toEqual(ec);
    const std = Math.sqrt(ea.reduce((s, v) => s + v * v, 0) / ea.length);
    expect(Math.abs(std - 0.02) / 0.02).toBeLessThan(0.05); // normal(0, 0.02), 48 000 draws
    const ln = (await a.parameters().get('ln_final.weight')!.data()) as Float32Array;
    expect([...ln].every((v) => v === 1)).toBe(true);
    const scale = (await a.logitScale.data())[0]!;
    expect(scale).toBeCloseTo(Math.log(1 / 0.07), 6);
    for (const m of [a, b, c]) m.dispose();
  });

  test('bad inputs and use after dispose', async () => {
    await withLeakCheck(() => {
      const model = ClipModel.create(G.config, { weights: G.weights });
      const nhwc = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
      expectCode(() => model.encodeImage(nhwc), 'BAD_INPUT', /\[B, 3, 32, 32\] \(NCHW\), got \[1, 32, 32, 3\]/);
      const ints = tf.zeros([1, 3, 32, 32], 'int32') as tf.Tensor4D;
      expectCode(() => model.encodeImage(ints), 'BAD_INPUT', /float32/);
      expectCode(() => model.encodeText([[1, 2, 3]]), 'BAD_TOKENS', /context_length is 77/);
      tf.dispose([nhwc, ints]);
      model.dispose();
      expect(model.isDisposed).toBe(true);
      expectCode(() => model.parameters(), 'DISPOSED');
      expectCode(() => model.encodeText(G.tokens), 'DISPOSED');
    });
  });

  test('no tensors leak over 10 training-like steps (forward, gradients, disposal)', async () => {
    const tiny = {
      embed_dim: 8,
      image_resolution: 8,
      vision_layers: 1,
      vision_width: 64,
      vision_patch_size: 4,
      context_length: 6,
      vocab_size: 20,
      transformer_width: 16,
      transformer_heads: 2,
      transformer_layers: 1,
    };
    const tokens = [
      [18, 3, 19, 0, 0, 0],
      [18, 5, 7, 9, 19, 0],
    ];
    await withLeakCheck(async () => {
      const model = ClipModel.create(tiny, { seed: 1 });
      const images = tf.randomNormal([2, 3, 8, 8]) as tf.Tensor4D;
      const params = [...model.parameters().values()];
      const before = tf.memory().numTensors;
      for (let step = 0; step < 10; step++) {
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(images, tokens);
          tf.dispose(out.logitsPerText);
          return tf.mean(out.logitsPerImage) as tf.Scalar;
        }, params);
        tf.tidy(() => {
          for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name]!, 1e-3)));
        });
        tf.dispose([value, ...Object.values(grads)]);
        expect(tf.memory().numTensors).toBe(before);
      }
      images.dispose();
      model.dispose();
    });
  });
});
