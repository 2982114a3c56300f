// Hostile and damaged weight files (issue 14): every size a file declares is capped before anything is allocated
// (memory bombs run in child processes with their peak RSS bounded), error messages print nothing unbounded, views are
// checked against their storages, non-finite weights and invalid config metadata get one clear typed error. Values
// are compared with what torch.load reads (test-fixtures/generators/clip_weights_hostile.py).
import { fileURLToPath } from 'node:url';
import { FairclipError } from '@fairclip/io';
import { runNodeScript, type ScriptResult } from '@fairclip/test-fixtures';
import { describe, expect, test } from 'vitest';
import { clipFromWeights, readSafetensors, readTorchCheckpoint, readWeights, WeightsError } from '../src/index.ts';
import {
  bytesOf,
  craftCheckpoint,
  craftZip,
  pInt,
  pickleStateDict,
  pNestedTupleKey,
  pStr,
  safetensorsWithHeader,
} from './weights-craft.ts';
import { HOSTILE as E, expectTorchValues, hostileFixture as fixture } from './weights-reference.ts';

function caught(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

function expectWeightsError(fn: () => unknown, code: string, pattern: RegExp, maxLength = 400): WeightsError {
  const e = caught(fn);
  expect(e, e.message).toBeInstanceOf(WeightsError);
  expect(e.code, e.message).toBe(code);
  expect(e.message).toMatch(pattern);
  expect(e.message).not.toContain('\n');
  expect(e.message.length, e.message.slice(0, 200)).toBeLessThanOrEqual(maxLength);
  return e as WeightsError;
}

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

describe('torch.save views and containers read as torch.load reads them', () => {
  test('tiny.pt: float32, float16, int64 and bool tensors', () => {
    expectTorchValues(readTorchCheckpoint(fixture('tiny.pt')).stateDict, E.tiny, 'tiny.pt');
  });

  test('views.pt: an expanded view (stride 0), a transposed one, a slice at an offset', () => {
    expect(E.views.expanded!.stride).toEqual([0, 1]);
    expectTorchValues(readTorchCheckpoint(fixture('views.pt')).stateDict, E.views, 'views.pt');
  });

  test('deflated.pt (re-zipped with deflate) reads like tiny.pt', () => {
    expect(E.deflated_torch_loads).toBe(true);
    expectTorchValues(readTorchCheckpoint(fixture('deflated.pt')).stateDict, E.tiny, 'deflated.pt');
  });
});

describe('sizes are checked against each other before anything is allocated', () => {
  const one = { name: 'w', storageKey: '0', numel: 1, offset: 0, size: [1], stride: [1] };

  test('a storage entry larger than its pickle declares', () => {
    const bytes = craftCheckpoint(pickleStateDict([one]), { '0': f32(1, 2) });
    expectWeightsError(
      () => readTorchCheckpoint(bytes, 'big.pt'),
      'BAD_TENSOR',
      /storage "0" of "w" has 8 bytes, its pickle says 1 × 4/,
    );
  });

  test('a storage entry smaller than its pickle declares', () => {
    const bytes = craftCheckpoint(pickleStateDict([{ ...one, numel: 3 }]), { '0': f32(1, 2) });
    expectWeightsError(() => readTorchCheckpoint(bytes, 'small.pt'), 'TRUNCATED', /has 8 bytes, its pickle says 3 × 4/);
  });

  test.each([
    ['offset past the storage', { offset: 2, size: [1], stride: [1] }, /reach element 2 of a storage of 2/],
    ['stride past the storage', { offset: 0, size: [2], stride: [2] }, /reach element 2 of a storage of 2/],
    ['huge size with stride 1', { offset: 0, size: [2 ** 40], stride: [1] }, /reach element/],
    ['negative stride', { offset: 0, size: [2], stride: [-1] }, /negative size or stride/],
    [
      'element count beyond 2^53',
      { offset: 0, size: [2 ** 30, 2 ** 30, 2 ** 30], stride: [0, 0, 0] },
      /absurd element count/,
    ],
  ])('%s', (_name, view, pattern) => {
    const bytes = craftCheckpoint(pickleStateDict([{ ...one, numel: 2, ...view }]), { '0': f32(1, 2) });
    expectWeightsError(() => readTorchCheckpoint(bytes, 'view.pt'), 'BAD_TENSOR', pattern);
  });

  test('a stride-0 view within the cap is expanded as torch expands it', () => {
    const bytes = craftCheckpoint(pickleStateDict([{ ...one, numel: 2, size: [3, 2], stride: [0, 1] }]), {
      '0': f32(5, 7),
    });
    expect([...(readTorchCheckpoint(bytes).stateDict.get('w')!.data as Float32Array)]).toEqual([5, 7, 5, 7, 5, 7]);
  });

  test('the decode cap: named in the error, configurable both ways', () => {
    const bytes = fixture('tiny.pt');
    expectWeightsError(
      () => readTorchCheckpoint(bytes, 'tiny.pt', { maxDecodedBytes: 40 }),
      'TOO_LARGE',
      /tiny\.pt: .* over maxDecodedBytes 40 B.*raise the cap with \{ maxDecodedBytes \}/,
    );
    // A stride-0 view of 2^22 elements (16 MiB) from a 600-byte file: within the default cap, refused under a lower one.
    const wide = craftCheckpoint(pickleStateDict([{ ...one, size: [2 ** 11, 2 ** 11], stride: [0, 0] }]), {
      '0': f32(3),
    });
    expect(readTorchCheckpoint(wide).stateDict.get('w')!.data.length).toBe(2 ** 22);
    expectWeightsError(
      () => readTorchCheckpoint(wide, 'w.pt', { maxDecodedBytes: 2 ** 20 }),
      'TOO_LARGE',
      /tensor "w" \[2048, 2048\]/,
    );
  });

  test('a deflated entry declaring more than the cap is refused before inflating', () => {
    const pkl = pickleStateDict([{ ...one, numel: 2 ** 26, size: [2 ** 26], stride: [1] }]);
    const bytes = craftZip([
      { name: 'archive/data.pkl', data: pkl },
      { name: 'archive/data/0', data: new Uint8Array([3, 0]), method: 8, uncompressedSize: 2 ** 28, crc: 0 },
    ]);
    expectWeightsError(
      () => readTorchCheckpoint(bytes, 'b.pt'),
      'TOO_LARGE',
      /storage "0" \(inflated\) needs 256\.0 MiB/,
    );
  });

  test('two zip entries with one name are refused (which one is meant is ambiguous)', () => {
    const pkl = pickleStateDict([one]);
    const bytes = craftZip([
      { name: 'archive/data.pkl', data: pkl },
      { name: 'archive/data/0', data: f32(1) },
      { name: 'archive/data/0', data: f32(2) },
    ]);
    expectWeightsError(
      () => readTorchCheckpoint(bytes, 'dup.pt'),
      'ARCHIVE_CORRUPT',
      /(two entries named|duplicate entry) "archive\/data\/0".*ambiguous/,
    );
  });

  test('a model whose configuration is given refuses mismatching shapes before decoding anything', () => {
    // token_embedding.weight of 2^30 elements (4 GiB as float32) over one stored float, with the cap raised: the
    // shape check against the configuration comes first, so nothing is allocated.
    const pkl = pickleStateDict([
      {
        name: 'token_embedding.weight',
        storageKey: '0',
        numel: 1,
        offset: 0,
        size: [2 ** 20, 2 ** 10],
        stride: [0, 0],
      },
    ]);
    const config = {
      embed_dim: 16,
      image_resolution: 16,
      vision_layers: 1,
      vision_width: 64,
      vision_patch_size: 8,
      context_length: 8,
      vocab_size: 40,
      transformer_width: 32,
      transformer_heads: 2,
      transformer_layers: 1,
    };
    const e = caught(() =>
      clipFromWeights(craftCheckpoint(pkl, { '0': f32(1) }), 'm.pt', { config, maxDecodedBytes: 2 ** 40 }),
    );
    expect(e.code, e.message).toBe('WEIGHTS_MISMATCH');
    expect(e.message).toMatch(/token_embedding\.weight expected \[40, 32\] got \[1048576, 1024\]/);
  });
});

describe('error messages print nothing unbounded', () => {
  test('a state-dict key that is a tuple of 2^34 shared leaves: refused at once, described in a few characters', () => {
    const pkl = pickleStateDict([
      { key: pNestedTupleKey(34), name: '', storageKey: '0', numel: 1, offset: 0, size: [1], stride: [1] },
    ]);
    expect(pkl.length).toBeLessThan(500);
    const e = expectWeightsError(
      () => readWeights(craftCheckpoint(pkl, { '0': f32(1) }), 'key.pt'),
      'NOT_A_STATE_DICT',
      /key #0 is a tuple \(\(\(\(.*…\), not a string/,
    );
    expect(e.file).toBe('key.pt');
  });

  test('the same key among the top-level keys of a checkpoint without a state dict', () => {
    // {'epoch': 1, <nested tuple>: 5}: the "no state dict found" message lists the keys, bounded.
    const pkl = bytesOf(0x80, 2, 0x7d, 0x28, pStr('epoch'), pInt(1), pNestedTupleKey(34), pInt(5), 0x75, 0x2e);
    expectWeightsError(
      () => readTorchCheckpoint(craftCheckpoint(pkl, {}), 'ck.pt'),
      'NOT_A_STATE_DICT',
      /no state dict found: the file is a dict with keys \[epoch, \(\(\(.*…\]/,
    );
  });

  test('the same key beside a state dict becomes a bounded name among the other keys', () => {
    const sd = pickleStateDict([{ name: 'w', storageKey: '0', numel: 1, offset: 0, size: [1], stride: [1] }]);
    // {'model_state_dict': {...}, <nested tuple>: [] }
    const inner = sd.subarray(2, sd.length - 1); // the dict, without PROTO and STOP
    const pkl = bytesOf(0x80, 2, 0x7d, 0x28, pStr('model_state_dict'), inner, pNestedTupleKey(34), 0x5d, 0x75, 0x2e);
    const ck = readTorchCheckpoint(craftCheckpoint(pkl, { '0': f32(4) }), 'ck.pt');
    expect(ck.stateDictKey).toBe('model_state_dict');
    expect(ck.otherKeys).toHaveLength(1);
    expect(ck.otherKeys[0]!.length).toBeLessThanOrEqual(81);
  });

  test('long names and values from files are cut', () => {
    const long = 'x'.repeat(100_000);
    const pkl = pickleStateDict([{ name: long, storageKey: '0', numel: 1, offset: 0, size: [2], stride: [1] }]);
    expectWeightsError(
      () => readTorchCheckpoint(craftCheckpoint(pkl, { '0': f32(1) }), 'n.pt'),
      'BAD_TENSOR',
      /"x{80}…"/,
    );
    const st = safetensorsWithHeader(JSON.stringify({ [long]: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }));
    expectWeightsError(() => readSafetensors(st, 'n.safetensors'), 'SAFETENSORS_CORRUPT', /tensor "x{80}…"/);
    const dtype = safetensorsWithHeader(JSON.stringify({ a: { dtype: long, shape: [], data_offsets: [0, 0] } }));
    expectWeightsError(
      () => readSafetensors(dtype, 'd.safetensors'),
      'UNSUPPORTED_DTYPE',
      /dtype x{20}… is not supported/,
    );
    const global = bytesOf(
      0x80,
      4,
      0x8d,
      pInt(100_000).subarray(2),
      new TextEncoder().encode(long),
      0x8c,
      1,
      0x61,
      0x93,
      0x2e,
    );
    const e = caught(() => readTorchCheckpoint(craftCheckpoint(global, {}), 'g.pt'));
    expect(e.code, e.message).toBe('PICKLE_GLOBAL_NOT_ALLOWED');
    expect(e.message.length).toBeLessThan(500);
  });
});

describe('non-finite weights: one line naming the tensor', () => {
  test.each(['nonfinite.pt', 'nonfinite.safetensors'])('%s', (name) => {
    expect(E.nonfinite.all_nan!.values).toEqual(['nan', 'nan', 'nan', 'nan']);
    expectWeightsError(
      () => readWeights(fixture(name), name),
      'NON_FINITE',
      new RegExp(
        `${name.replace('.', '\\.')}: tensor "all_nan" holds NaN at index 0 \\(4 non-finite values\\); 1 more tensors .*allowNonFinite`,
      ),
    );
    // Read anyway on request: the values torch reads.
    expectTorchValues(readWeights(fixture(name), name, { allowNonFinite: true }).stateDict, E.nonfinite, name);
  });
});

describe('config metadata', () => {
  test.each([
    ['config_not_json.safetensors', /the file's config metadata is invalid: not JSON/],
    [
      'config_invalid.safetensors',
      /the file's config metadata is invalid: transformer_width 30 is not divisible by transformer_heads 4/,
    ],
  ])('%s is reported as such, not as CANNOT_INFER_CONFIG', (name, pattern) => {
    const e = expectWeightsError(() => clipFromWeights(fixture(name), name), 'BAD_METADATA', pattern);
    expect(e.message).toMatch(/fix or remove the "config" entry.*\{ config: \.\.\. \}/);
    expect(e.message.startsWith(`BAD_METADATA: ${name}: `)).toBe(true);
  });
});

describe('safetensors headers: capped and checked before parsing', () => {
  test('a header longer than the cap', () => {
    const bytes = safetensorsWithHeader(`{"__metadata__":{"a":"${'b'.repeat(2000)}"}}`);
    expectWeightsError(
      () => readSafetensors(bytes, 'h.safetensors', { maxHeaderBytes: 1000 }),
      'TOO_LARGE',
      /header length 2025 .*exceeds the cap of 1000 B/,
    );
    expect(readSafetensors(bytes, 'h.safetensors').metadata.a).toHaveLength(2000);
  });

  test.each([
    ['an object in an entry', '{"a":{"b":{}}}', /a field of an entry is an object/],
    ['nested lists', '{"a":{"shape":[[1]]}}', /nested deeper than its 3 levels/],
    ['deep nesting', `{"a":${'['.repeat(50)}${']'.repeat(50)}}`, /a tensor entry is a list/],
    ['a list of 66 numbers', `{"a":{"shape":[${Array(66).fill(1).join(',')}]}}`, /a list of more than 65 numbers/],
    [
      'a rank of 65',
      `{"a":{"dtype":"F32","shape":[${Array(65).fill(1).join(',')}],"data_offsets":[0,4]}}`,
      /65 dimensions \(at most 64\)/,
    ],
    ['a top-level list', '[1,2]', /header is not a JSON object/],
  ])('%s', (_name, json, pattern) => {
    expectWeightsError(
      () => readSafetensors(safetensorsWithHeader(json), 's.safetensors'),
      'SAFETENSORS_CORRUPT',
      pattern,
    );
  });
});

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

function runBomb(kind: string): Promise<ScriptResult> {
  return runNodeScript(packageRoot, 'test/spawned/weights-bomb.ts', [kind]);
}

/** Peak resident memory allowed to a child that reads one former memory bomb (Node + tfjs alone take ~100 MB). */
const MAX_RSS_MB = 400;

describe('former memory bombs, each in a child process with its peak memory bounded', () => {
  const bombs: [string, string, RegExp][] = [
    ['deflated-storage', 'TOO_LARGE', /storage "0" \(inflated\) needs 3\.1 GiB/],
    ['stride0-16384', 'TOO_LARGE', /tensor "w" \[16384, 16384\] \(268435456 elements\) needs 1\.0 GiB/],
    ['stride0-2^31x2', 'TOO_LARGE', /tensor "w" \[2147483648, 2\] \(4294967296 elements\) needs 16\.0 GiB/],
    ['nested-tuple-key', 'NOT_A_STATE_DICT', /key #0 is a tuple/],
    ['safetensors-deep-header', 'SAFETENSORS_CORRUPT', /a tensor entry is a list/],
    ['safetensors-wide-header', 'SAFETENSORS_CORRUPT', /more than 100000 tensors/],
  ];
  test('every bomb is refused with its typed error and a bounded peak RSS', { timeout: 240_000 }, async () => {
    const results = await Promise.all(bombs.map(([kind]) => runBomb(kind)));
    results.forEach((r, i) => {
      const [kind, code, pattern] = bombs[i]!;
      expect(r.code, `${kind}: ${r.stderr}`).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        ok: boolean;
        errorClass: string;
        code: string;
        message: string;
        maxRSSKB: number;
        fileBytes: number;
      };
      console.log(`${kind}: ${out.fileBytes} bytes, peak RSS ${(out.maxRSSKB / 1024).toFixed(0)} MB: ${out.message}`);
      expect(out.ok, kind).toBe(false);
      expect(out.errorClass, kind).toBe('WeightsError');
      expect(out.code, out.message).toBe(code);
      expect(out.message).toMatch(pattern);
      expect(out.message).not.toContain('\n');
      expect(out.message.length).toBeLessThan(400);
      expect(out.maxRSSKB / 1024, kind).toBeLessThan(MAX_RSS_MB);
    });
  });

  test('FairclipError is the base of every weights error', () => {
    expect(new WeightsError('TOO_LARGE', 'x')).toBeInstanceOf(FairclipError);
  });
});
