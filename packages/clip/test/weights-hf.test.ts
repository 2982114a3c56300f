// Hugging Face CLIPModel safetensors: (1) a tiny CLIPModel saved by transformers' own save_pretrained
// (test-fixtures/generators/clip_hf_transformers.py, transformers 5.17) must give transformers' image/text features
// and logits (float64) through our mapping and model; (2) the small model written under HF names by
// test-fixtures/generators/clip_weights.py (following convert_clip_original_pytorch_to_hf.py) must map back to exactly
// the OpenAI-named reference; HF config.json → OpenAI constructor arguments; unmappable keys and unsupported configs
// are errors.
import { initCompute } from '@fairclip/compute';
import { withLeakCheck } from '@fairclip/compute/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  clipFromWeights,
  clipLogits,
  configFromHuggingFace,
  huggingFaceToOpenAI,
  isHuggingFaceClip,
  readSafetensors,
  readWeights,
} from '../src/index.ts';
import { expectSameValues, expectScaledClose, flat, imagesTensor, readFixtureBytes, take } from './model-helpers.ts';

const W = JSON.parse(new TextDecoder().decode(readFixtureBytes('clip/weights/expected.json'))) as {
  config: Record<string, unknown>;
  hf_position_ids: string[];
};
const REF = readSafetensors(readFixtureBytes('clip/weights/reference.safetensors')).tensors;
const HF_BYTES = readFixtureBytes('clip/weights/hf/model.safetensors');
const HF = readSafetensors(HF_BYTES).tensors;
const HF_CONFIG = JSON.parse(new TextDecoder().decode(readFixtureBytes('clip/weights/hf/config.json')));

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').toBeInstanceOf(Error);
  expect((caught as { code?: string }).code, (caught as Error).message).toBe(code);
  expect((caught as Error).message).toMatch(pattern);
}

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
});

describe('a CLIPModel saved by transformers (save_pretrained) against transformers’ outputs', () => {
  const dir = 'clip/hf-transformers';
  const expected = JSON.parse(new TextDecoder().decode(readFixtureBytes(`${dir}/expected.json`)));
  const hfConfig = JSON.parse(new TextDecoder().decode(readFixtureBytes(`${dir}/config.json`)));

  test('config.json → the OpenAI constructor arguments', () => {
    expect(configFromHuggingFace(hfConfig, `${dir}/config.json`)).toEqual(expected.openai_config);
  });

  test('image features, text features and logits to 1e-5 (cpu, float32 vs float64)', async () => {
    await withLeakCheck(async () => {
      const model = clipFromWeights(readFixtureBytes(`${dir}/model.safetensors`), `${dir}/model.safetensors`, {
        config: configFromHuggingFace(hfConfig),
      });
      const images = imagesTensor(expected.pixel_values);
      const img = model.encodeImage(images);
      const txt = model.encodeText(expected.input_ids);
      const { logitsPerImage, logitsPerText } = clipLogits(img, txt, model.logitScale);
      expectScaledClose(await take(img), flat(expected.image_embeds), 1e-5, 'image_embeds');
      expectScaledClose(await take(txt), flat(expected.text_embeds), 1e-5, 'text_embeds');
      expectScaledClose(await take(logitsPerImage), flat(expected.logits_per_image), 1e-5, 'logits_per_image');
      expectScaledClose(await take(logitsPerText), flat(expected.logits_per_text), 1e-5, 'logits_per_text');
      images.dispose();
      model.dispose();
    });
  });
});

describe('Hugging Face names → OpenAI names', () => {
  test('the HF file maps to exactly the OpenAI reference (q/k/v concatenated, projections transposed)', () => {
    expect(isHuggingFaceClip(HF.keys())).toBe(true);
    expect(isHuggingFaceClip(REF.keys())).toBe(false);
    for (const k of W.hf_position_ids) expect(HF.get(k)?.data).toBeInstanceOf(BigInt64Array);
    expect(HF.has('vision_model.pre_layrnorm.weight')).toBe(true);
    const mapped = huggingFaceToOpenAI(HF, 'hf/model.safetensors');
    expect([...mapped.keys()].sort()).toEqual([...REF.keys()].sort());
    for (const [name, t] of REF) {
      expect(mapped.get(name)!.shape, name).toEqual(t.shape);
      expectSameValues(mapped.get(name)!.data, t.data, name);
    }
  });

  test('config.json → OpenAI constructor arguments', () => {
    expect(configFromHuggingFace(HF_CONFIG)).toEqual(W.config);
  });

  test('readWeights detects the naming; a model builds from the HF file', async () => {
    const w = readWeights(HF_BYTES, 'hf/model.safetensors');
    expect([w.format, w.naming]).toEqual(['safetensors', 'huggingface']);
    await withLeakCheck(async () => {
      const model = clipFromWeights(HF_BYTES, 'hf/model.safetensors', { config: configFromHuggingFace(HF_CONFIG) });
      const sd = await model.stateDict();
      for (const [name, t] of REF) expectSameValues(sd.get(name)!.data, t.data, name);
      model.dispose();
    });
  });

  test('unmappable keys and missing q/k/v parts are listed', () => {
    const extra = new Map(HF);
    extra.set('vision_model.encoder.layers.0.self_attn.rotary.weight', { shape: [1], data: new Float32Array(1) });
    extra.set('text_model.pooler.dense.weight', { shape: [1], data: new Float32Array(1) });
    expectError(
      () => huggingFaceToOpenAI(extra, 'm.safetensors'),
      'HF_MAPPING',
      /\(2\): .*rotary\.weight, text_model\.pooler\.dense\.weight/,
    );
    const missing = new Map(HF);
    missing.delete('text_model.encoder.layers.0.self_attn.k_proj.bias');
    expectError(
      () => huggingFaceToOpenAI(missing),
      'HF_MAPPING',
      /transformer\.resblocks\.0\.attn\.in_proj_bias: the k projection is missing/,
    );
  });

  test('configs this implementation cannot run are refused', () => {
    const gelu = { ...HF_CONFIG, vision_config: { ...HF_CONFIG.vision_config, hidden_act: 'gelu' } };
    expectError(() => configFromHuggingFace(gelu), 'HF_MAPPING', /hidden_act is "gelu".*quick_gelu/);
    const heads = { ...HF_CONFIG, vision_config: { ...HF_CONFIG.vision_config, num_attention_heads: 2 } };
    expectError(() => configFromHuggingFace(heads), 'HF_MAPPING', /num_attention_heads 2 differs from OpenAI's rule/);
  });
});
