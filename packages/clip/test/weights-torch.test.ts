// PyTorch zip checkpoints written by torch.save (test-fixtures/generators/clip_weights.py): fp32 and fp16 state
// dicts, protocol 4, FairCLIP's checkpoint layout (mixed precision model_state_dict, Adam state, storages tagged
// cuda:0), views with strides and shared storages; refusals (TorchScript, a pickled module, the legacy format,
// truncated files, opcodes and globals outside the subset) with clear errors and no code execution.
import { initCompute } from '@fairclip/compute';
import { withLeakCheck } from '@fairclip/compute/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  ClipModel,
  clipFromWeights,
  readSafetensors,
  readTorchCheckpoint,
  readWeights,
  type StateDict,
} from '../src/index.ts';
import { unpickle } from '../src/weights/pickle.ts';
import { expectSameValues, readFixtureBytes } from './model-helpers.ts';

interface WeightsExpected {
  config: Record<string, unknown>;
  n_tensors: number;
  checkpoint: { epoch: number; loss: number; state_dict_key: string; fp16_keys: string[]; other_keys: string[] };
}
const W = JSON.parse(new TextDecoder().decode(readFixtureBytes('clip/weights/expected.json'))) as WeightsExpected;
const REF = readSafetensors(readFixtureBytes('clip/weights/reference.safetensors')).tensors;
const REF16 = readSafetensors(readFixtureBytes('clip/weights/reference_f16.safetensors')).tensors;

function expectSameStateDict(got: StateDict, want: StateDict, label: string): void {
  expect([...got.keys()].sort(), label).toEqual([...want.keys()].sort());
  for (const [name, t] of want) {
    expect(got.get(name)!.shape, `${label} ${name}`).toEqual(t.shape);
    expectSameValues(got.get(name)!.data, t.data, `${label} ${name}`);
  }
}

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

describe('state dicts written by torch.save', () => {
  test('fp32 state dict equals the reference exactly', () => {
    const ck = readTorchCheckpoint(readFixtureBytes('clip/weights/state_fp32.pt'), 'state_fp32.pt');
    expect(ck.stateDictKey).toBeNull();
    expect(ck.stateDict.size).toBe(W.n_tensors);
    expectSameStateDict(ck.stateDict, REF, 'fp32');
    expect(new Set(ck.storageTypes.values())).toEqual(new Set(['FloatStorage']));
  });

  test('fp16 state dict becomes float32 equal to torch’s upcasts', () => {
    const ck = readTorchCheckpoint(readFixtureBytes('clip/weights/state_fp16.pt'));
    expect(new Set(ck.storageTypes.values())).toEqual(new Set(['HalfStorage']));
    expectSameStateDict(ck.stateDict, REF16, 'fp16');
  });

  test('pickle protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE)', () => {
    expectSameStateDict(readTorchCheckpoint(readFixtureBytes('clip/weights/state_protocol4.pt')).stateDict, REF, 'p4');
  });

  test('views: transposed strides and tensors sharing one storage at offsets', () => {
    expectSameStateDict(readTorchCheckpoint(readFixtureBytes('clip/weights/noncontiguous.pt')).stateDict, REF, 'views');
  });

  test('FairCLIP checkpoint: model_state_dict (mixed fp16/fp32, cuda:0 storages), extras, optimizer listed', () => {
    const ck = readTorchCheckpoint(readFixtureBytes('clip/weights/fairclip_checkpoint.pth'), 'clip_ep003.pth');
    expect(ck.stateDictKey).toBe(W.checkpoint.state_dict_key);
    expect(ck.extras).toEqual({ epoch: W.checkpoint.epoch, loss: W.checkpoint.loss });
    expect(ck.otherKeys).toEqual(W.checkpoint.other_keys);
    const fp16 = [...ck.storageTypes]
      .filter(([, t]) => t === 'HalfStorage')
      .map(([k]) => k)
      .sort();
    expect(fp16).toEqual(W.checkpoint.fp16_keys);
    for (const [name, t] of ck.stateDict) {
      const want = (fp16.includes(name) ? REF16 : REF).get(name)!;
      expectSameValues(t.data, want.data, name);
    }
  });

  test('a model loads from the FairCLIP checkpoint (configuration given, heads are not width // 64)', async () => {
    const bytes = readFixtureBytes('clip/weights/fairclip_checkpoint.pth');
    expectError(() => clipFromWeights(bytes, 'ck.pth'), 'CANNOT_INFER_CONFIG', /transformer_heads/);
    await withLeakCheck(async () => {
      const model = clipFromWeights(bytes, 'ck.pth', { config: W.config });
      const sd = await model.stateDict();
      expect(sd.size).toBe(W.n_tensors);
      model.dispose();
    });
    const w = readWeights(bytes, 'ck.pth');
    expect([w.format, w.naming, w.checkpoint?.stateDictKey]).toEqual(['pytorch', 'openai', 'model_state_dict']);
  });
});

describe('refused files: clear errors, nothing executed', () => {
  test('TorchScript archive (OpenAI JIT .pt)', () => {
    expectError(
      () => readTorchCheckpoint(readFixtureBytes('clip/weights/torchscript.pt'), 'ViT-B-16.pt'),
      'TORCHSCRIPT',
      /ViT-B-16\.pt: this is a TorchScript archive.*jit=False/,
    );
  });

  test('a pickled module (torch.save(model)) stops at its first global', () => {
    expectError(
      () => readTorchCheckpoint(readFixtureBytes('clip/weights/whole_module.pt')),
      'PICKLE_GLOBAL_NOT_ALLOWED',
      /global torch\.nn\.modules\.linear\.Linear is not in the allow-list.*state_dict/,
    );
  });

  test('pre-1.6 serialisation', () => {
    expectError(
      () => readTorchCheckpoint(readFixtureBytes('clip/weights/legacy.pt')),
      'LEGACY_TORCH_FORMAT',
      /pre-1\.6/,
    );
  });

  test('truncated checkpoints', () => {
    const bytes = readFixtureBytes('clip/weights/state_fp32.pt');
    for (const keep of [100, bytes.length >> 1, bytes.length - 30]) {
      expectError(() => readTorchCheckpoint(bytes.subarray(0, keep), 'cut.pt'), 'TRUNCATED', /cut\.pt/);
    }
  });

  test('not a checkpoint at all', () => {
    expectError(
      () => readWeights(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 'x.bin'),
      'UNKNOWN_FORMAT',
      /neither safetensors/,
    );
  });
});

describe('the pickle subset', () => {
  const enc = (s: string) => [...new TextEncoder().encode(s)];
  const p = (...ops: (number | number[])[]) => new Uint8Array(ops.flat());

  test('plain data: dicts, lists, tuples, ints, floats, strings, bools, None', () => {
    // {'a': [1, -2, 300, 70000], 'b': (1.5, True, None), 'c': 'x'}
    const bytes = p(
      0x80,
      2,
      0x7d,
      0x71,
      0,
      0x28,
      0x58,
      1,
      0,
      0,
      0,
      enc('a'),
      0x5d,
      0x28,
      0x4b,
      1,
      0x4a,
      0xfe,
      0xff,
      0xff,
      0xff,
      0x4d,
      0x2c,
      0x01,
      0x4a,
      0x70,
      0x11,
      0x01,
      0x00,
      0x65,
      0x58,
      1,
      0,
      0,
      0,
      enc('b'),
      0x47,
      0x3f,
      0xf8,
      0,
      0,
      0,
      0,
      0,
      0,
      0x88,
      0x4e,
      0x87,
      0x58,
      1,
      0,
      0,
      0,
      enc('c'),
      0x58,
      1,
      0,
      0,
      0,
      enc('x'),
      0x75,
      0x2e,
    );
    const v = unpickle(bytes) as { map: Map<string, unknown> };
    expect(v.map.get('a')).toEqual([1, -2, 300, 70000]);
    expect(v.map.get('b')).toEqual([1.5, true, null]);
    expect(v.map.get('c')).toBe('x');
  });

  test('LONG1 integers, large and negative', () => {
    expect(unpickle(p(0x80, 2, 0x8a, 2, 0xff, 0x7f, 0x2e))).toBe(32767);
    expect(unpickle(p(0x80, 2, 0x8a, 1, 0xff, 0x2e))).toBe(-1);
    expect(unpickle(p(0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2e))).toBe(2n ** 64n);
  });

  test.each([
    [
      'os.system via GLOBAL',
      p(0x80, 2, 0x63, enc('os\nsystem\n'), 0x2e),
      'PICKLE_GLOBAL_NOT_ALLOWED',
      /global os\.system is not in the allow-list.*nothing was executed/,
    ],
    [
      'builtins.eval via STACK_GLOBAL',
      p(0x80, 4, 0x8c, 8, enc('builtins'), 0x8c, 4, enc('eval'), 0x93, 0x2e),
      'PICKLE_GLOBAL_NOT_ALLOWED',
      /builtins\.eval/,
    ],
    [
      'INST opcode',
      p(0x80, 2, 0x69, enc('os\nsystem\n'), 0x2e),
      'PICKLE_UNSUPPORTED',
      /opcode INST \(0x69\) is outside the supported subset/,
    ],
    ['NEWOBJ opcode', p(0x80, 2, 0x29, 0x29, 0x81, 0x2e), 'PICKLE_UNSUPPORTED', /NEWOBJ/],
    [
      'string longer than the input',
      p(0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x2e),
      'TRUNCATED',
      /needs 2147483647 more bytes/,
    ],
    ['no STOP', p(0x80, 2, 0x4e), 'TRUNCATED', /needs 1 more bytes/],
    ['stack underflow', p(0x80, 2, 0x85, 0x2e), 'PICKLE_CORRUPT', /stack underflow/],
    ['unknown memo', p(0x80, 2, 0x68, 5, 0x2e), 'PICKLE_CORRUPT', /memo 5 was never stored/],
    [
      'REDUCE of a storage type',
      p(0x80, 2, 0x63, enc('torch\nFloatStorage\n'), 0x29, 0x52, 0x2e),
      'PICKLE_UNSUPPORTED',
      /REDUCE of torch\.FloatStorage/,
    ],
  ])('%s', (_name, bytes, code, pattern) => {
    expectError(() => unpickle(bytes), code, pattern);
  });

  test('the allow-list', () => {
    const od = unpickle(p(0x80, 2, 0x63, enc('collections\nOrderedDict\n'), 0x29, 0x52, 0x2e));
    expect((od as { map: Map<unknown, unknown> }).map.size).toBe(0);
  });

  test('a model can be built from an fp16 .pt (config given)', async () => {
    await withLeakCheck(async () => {
      const model = ClipModel.create(W.config, {
        weights: readTorchCheckpoint(readFixtureBytes('clip/weights/state_fp16.pt')).stateDict,
      });
      const w = (await model.parameters().get('visual.proj')!.data()) as Float32Array;
      expectSameValues(w, REF16.get('visual.proj')!.data, 'visual.proj');
      model.dispose();
    });
  });
});
