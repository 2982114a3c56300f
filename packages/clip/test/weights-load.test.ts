// From files to models and back: format detection, configuration resolution (given, stored in the metadata,
// inferred), saving as safetensors and reloading (F32 exact, F16 rounded, int64 BatchNorm counters kept), mismatch
// and I/O errors that name the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCompute } from '@fairclip/compute';
import { withLeakCheck } from '@fairclip/compute/testing';
import { halfBitsToNumber, numberToHalfBits } from '@fairclip/io';
import { fixturePath } from '@fairclip/test-fixtures';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ClipModel,
  clipToSafetensors,
  loadClip,
  parseClipConfig,
  readSafetensors,
  readWeightsFile,
  saveClip,
  WeightsMismatchError,
} from '../src/index.ts';
import { detectWeightsFormat } from '../src/weights/load.ts';
import { expectSameValues, goldenTinyVit, readFixtureBytes, resnetTiny } from './model-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fairclip-clip-'));

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loading', () => {
  test('format detection', () => {
    expect(detectWeightsFormat(readFixtureBytes('golden/clip/tiny-vit/model.safetensors'))).toBe('safetensors');
    expect(detectWeightsFormat(readFixtureBytes('clip/weights/state_fp32.pt'))).toBe('pytorch');
    expect(detectWeightsFormat(readFixtureBytes('clip/weights/legacy.pt'))).toBe('pytorch');
    expect(detectWeightsFormat(new TextEncoder().encode('hello world'))).toBeUndefined();
  });

  test('loadClip takes the configuration from the golden file’s metadata', async () => {
    const g = goldenTinyVit();
    await withLeakCheck(async () => {
      const model = await loadClip(fixturePath('golden/clip/tiny-vit/model.safetensors'));
      expect(model.config).toEqual(parseClipConfig(g.config));
      const sd = await model.stateDict();
      for (const [name, t] of g.weights) expectSameValues(sd.get(name)!.data, t.data, name);
      model.dispose();
    });
  });

  test('a configuration that does not fit: every wrong shape is listed, naming the file', async () => {
    const path = fixturePath('golden/clip/tiny-vit/model.safetensors');
    const error = await loadClip(path, { config: 'ViT-B/16' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsMismatchError);
    const m = (error as WeightsMismatchError).mismatch;
    expect(m.wrongShape.find((w) => w.name === 'visual.conv1.weight')).toEqual({
      name: 'visual.conv1.weight',
      expected: [768, 3, 16, 16],
      got: [64, 3, 8, 8],
    });
    expect(m.missing).toContain('visual.transformer.resblocks.11.attn.in_proj_weight');
    expect((error as Error).message).toContain(path);
  });

  test('I/O errors name the path', async () => {
    const missing = join(dir, 'nope.safetensors');
    await expect(readWeightsFile(missing)).rejects.toThrow(/IO: .*nope\.safetensors: cannot read the weights file/);
  });
});

describe('saving', () => {
  test('save → load round trip is exact (ViT), configuration stored in the metadata', async () => {
    const g = goldenTinyVit();
    await withLeakCheck(async () => {
      const model = ClipModel.create(g.config, { weights: g.weights });
      const path = join(dir, 'vit.safetensors');
      await saveClip(model, path, { metadata: { note: 'fine-tuned' } });
      const back = await loadClip(path);
      expect(back.config).toEqual(model.config);
      const [a, b] = [await model.stateDict(), await back.stateDict()];
      for (const [name, t] of a) expectSameValues(b.get(name)!.data, t.data, name);
      const meta = (await readWeightsFile(path)).metadata;
      expect(meta.note).toBe('fine-tuned');
      expect(JSON.parse(meta.config!)).toEqual(model.config);
      model.dispose();
      back.dispose();
    });
  });

  test('F16 saving stores torch-style rounded halves', async () => {
    const g = goldenTinyVit();
    await withLeakCheck(async () => {
      const model = ClipModel.create(g.config, { weights: g.weights });
      const bytes = await clipToSafetensors(model, { dtype: 'F16' });
      const back = readSafetensors(bytes);
      expect(back.dtypes.get('visual.proj')).toBe('F16');
      const want = Float32Array.from(g.weights.get('visual.proj')!.data as Float32Array, (v) =>
        halfBitsToNumber(numberToHalfBits(v)),
      );
      expectSameValues(back.tensors.get('visual.proj')!.data, want, 'visual.proj');
      model.dispose();
    });
  });

  test('ModifiedResNet: BatchNorm running statistics and int64 num_batches_tracked survive a round trip', async () => {
    const r = resnetTiny();
    await withLeakCheck(async () => {
      const model = ClipModel.create(r.config, { weights: r.weights });
      const bytes = await clipToSafetensors(model);
      const back = readSafetensors(bytes);
      expect(back.dtypes.get('visual.bn1.num_batches_tracked')).toBe('I64');
      expect(back.tensors.get('visual.bn1.num_batches_tracked')!.data).toEqual(BigInt64Array.of(7n));
      for (const [name, t] of r.weights) expectSameValues(back.tensors.get(name)!.data, t.data, name);
      expect(back.tensors.size).toBe(r.weights.size);
      model.dispose();
    });
  });
});
