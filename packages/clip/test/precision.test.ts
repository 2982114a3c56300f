// The 'fp16-emulated' precision of ClipModel (OpenAI's CLIP after clip.model.convert_weights, on float32 backends):
// which parameters are half (against the fixture written from the list the Python generator applies), that half
// parameters, logits and the gradients of half parameters are float16 values, that fp32 stays the golden model, and
// that an activation past 65504 overflows to a non-finite output in fp16 but not in fp32.
import { roundToFloat16Reference } from '@fairclip/compute';
import { forEachBackend } from '@fairclip/compute/testing';
import { readFixtureJson } from '@fairclip/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { ClipModel, parseClipConfig } from '../src/index.ts';
import { isHalfParameter } from '../src/model/precision.ts';
import { stateDictSpec } from '../src/model/spec.ts';
import { flat, goldenTinyVit } from './model-helpers.ts';

interface WeightsExpected {
  config: unknown;
  checkpoint: { fp16_keys: string[] };
}

function isFloat16Valued(values: ArrayLike<number>): boolean {
  const r = roundToFloat16Reference(values);
  for (let i = 0; i < values.length; i++) if (!Object.is(r[i], values[i])) return false;
  return true;
}

test('isHalfParameter: the ViT parameters convert_weights makes fp16 (fixture list), none else', () => {
  const expected = readFixtureJson<WeightsExpected>('clip/weights/expected.json');
  const names = stateDictSpec(parseClipConfig(expected.config)).map((s) => s.name);
  expect(names.filter(isHalfParameter).sort()).toEqual([...expected.checkpoint.fp16_keys].sort());
});

test('isHalfParameter: ModifiedResNet convolutions and attention-pool projections, not BatchNorm', () => {
  for (const n of [
    'visual.conv1.weight',
    'visual.layer1.0.conv2.weight',
    'visual.layer2.0.downsample.0.weight',
    'visual.attnpool.q_proj.weight',
    'visual.attnpool.c_proj.bias',
  ])
    expect(isHalfParameter(n)).toBe(true);
  for (const n of [
    'visual.bn1.weight',
    'visual.layer2.0.downsample.1.weight',
    'visual.attnpool.positional_embedding',
    'visual.class_embedding',
    'token_embedding.weight',
    'logit_scale',
    'ln_final.weight',
  ])
    expect(isHalfParameter(n)).toBe(false);
});

forEachBackend(
  () => {
    const g = goldenTinyVit();
    const inputs = () => ({
      images: tf.tensor4d(flat(g.images.data), g.images.shape),
      tokens: {
        data: Int32Array.from(g.tokens.flat()),
        shape: [g.tokens.length, g.tokens[0]!.length] as [number, number],
      },
    });

    test('fp16-emulated: half weights, logits and half-weight gradients are float16 values; close to fp32', async () => {
      const m32 = ClipModel.create(g.config, { weights: g.weights });
      const m16 = ClipModel.create(g.config, { weights: g.weights, precision: 'fp16-emulated' });
      try {
        expect(m16.precision).toBe('fp16-emulated');
        expect(m32.precision).toBe('fp32');
        const sd16 = await m16.stateDict();
        const sd32 = await m32.stateDict();
        for (const [name, t] of sd16) {
          const data = t.data as Float32Array;
          if (isHalfParameter(name)) expect(isFloat16Valued(data), name).toBe(true);
          else expect(Array.from(data), name).toEqual(Array.from(sd32.get(name)!.data as Float32Array));
        }
        const { images, tokens } = inputs();
        const o32 = m32.forward(images, tokens);
        const o16 = m16.forward(images, tokens);
        const l32 = (await o32.logitsPerImage.data()) as Float32Array;
        const l16 = (await o16.logitsPerImage.data()) as Float32Array;
        expect(isFloat16Valued(l16)).toBe(true);
        // fp32 is the golden forward (OpenAI's code in float64) to float32 accuracy
        const golden = flat(g.logits_per_image);
        l32.forEach((v, i) => expect(Math.abs(v - golden[i]!)).toBeLessThan(1e-3 * (1 + Math.abs(golden[i]!))));
        // half precision differs from fp32 at the level of float16's resolution, no more
        let maxRel = 0;
        l16.forEach((v, i) => {
          maxRel = Math.max(maxRel, Math.abs(v - l32[i]!) / (1 + Math.abs(l32[i]!)));
        });
        expect(maxRel).toBeGreaterThan(0);
        expect(maxRel).toBeLessThan(0.05);
        const params = m16.parameters();
        const { grads, value } = tf.variableGrads(
          () => tf.sum(m16.forward(images, tokens).logitsPerImage) as tf.Scalar,
          [...params.values()],
        );
        for (const [name, v] of params) {
          const gr = grads[v.name];
          if (gr && isHalfParameter(name)) expect(isFloat16Valued(await gr.data()), name).toBe(true);
        }
        tf.dispose([images, value, ...Object.values(grads), o32.logitsPerImage, o32.logitsPerText]);
        tf.dispose([o16.logitsPerImage, o16.logitsPerText]);
      } finally {
        m32.dispose();
        m16.dispose();
      }
    }, 240_000);

    test('fp16-emulated: features past 65504 overflow (non-finite logits); fp32 stays finite', async () => {
      const big = new Map(g.weights);
      const proj = g.weights.get('visual.proj')!;
      // proj × 2^16: the image features reach the float16 overflow range (a float16 value times a power of two)
      big.set('visual.proj', {
        shape: proj.shape,
        data: Float32Array.from(proj.data as Float32Array, (v) => v * 2 ** 16),
      });
      const results: Record<string, number[]> = {};
      for (const precision of ['fp32', 'fp16-emulated'] as const) {
        const m = ClipModel.create(g.config, { weights: big, precision });
        const { images, tokens } = inputs();
        const f = m.encodeImage(images);
        const o = m.forward(images, tokens);
        const maxAbs = Math.max(...Array.from(await f.data(), Math.abs));
        results[precision] = [maxAbs, ...(await o.logitsPerImage.data())];
        tf.dispose([images, f, o.logitsPerImage, o.logitsPerText]);
        m.dispose();
      }
      expect(results.fp32![0]).toBeGreaterThan(65520);
      expect(results.fp32!.every(Number.isFinite)).toBe(true);
      expect(results['fp16-emulated']![0]).toBe(Number.POSITIVE_INFINITY);
      expect(results['fp16-emulated']!.slice(1).some((v) => !Number.isFinite(v))).toBe(true);
    });

    test('setPrecision refuses an unknown precision with a one-line message', () => {
      const m = ClipModel.create(g.config, { weights: g.weights });
      try {
        expect(() => m.setPrecision('fp8' as never)).toThrow(/precision must be one of fp32, fp16-emulated, got 'fp8'/);
      } finally {
        m.dispose();
      }
    });
  },
  { backends: ['cpu', 'wasm', 'webgpu'] },
);
