// Checkpoints are verified before a run resumes from them: every file against the sha256 its manifest records, the
// state against the run's configuration, the tensors against the model and the optimiser. A run whose last
// checkpoint is unusable resumes from the previous one (kept for that) with a one-line warning and still ends with
// the weights of an uninterrupted run; when no checkpoint is usable it stops with a one-line CheckpointError saying
// how to proceed — never a stack trace, an ENOENT, a silent resume of damaged weights, or "NaN loss: check λ".
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '@fairclip/clip';
import { initCompute } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { CheckpointError, readLatestCheckpoint, writeCheckpoint } from '../src/checkpoint.ts';
import { ImageCache, openRunData } from '../src/data.ts';
import { Adam, optimizerStateProblem } from '../src/optim.ts';
import { resolvePresetConfig } from '../src/presets.ts';
import { modelTensorsProblem, stateExpectations } from '../src/run/resume.ts';
import { type RunState, runStateProblem } from '../src/run/state.ts';
import { runTraining, type TrainRunOptions } from '../src/run.ts';
import { microFairVlmed, TINY_MODEL, tempDir } from './helpers/runs.ts';

let data = '';
const cache = new ImageCache();
// A-FairCLIP with the per-group loaders, 2 epochs of 2 steps, step checkpoints: a run killed at step 4 leaves
// epoch-0000 (step 2, the previous checkpoint) and step-00000003 (the latest).
const WASM = [
  TINY_MODEL,
  'eval.every=2',
  'data.limits.val=2',
  'data.limits.test=2',
  'data.limits.train=4',
  'training.batchSize=2',
  'training.epochs=2',
  'fairness.groupBatchSize=2',
];
let reference = '';
let killed = '';

async function run(outDir: string, extra: Partial<TrainRunOptions> = {}) {
  const r = await runTraining({
    config: resolvePresetConfig('a-fairclip', WASM),
    outDir,
    dataRoot: data,
    imageCache: cache,
    checkpointEverySteps: 1,
    ...extra,
  });
  r.model?.dispose();
  return r;
}

function finalWeights(outDir: string): Map<string, Buffer> {
  const ck = join(outDir, 'checkpoints');
  const { name } = JSON.parse(readFileSync(join(ck, 'latest.json'), 'utf8')) as { name: string };
  const { tensors } = readSafetensors(readFileSync(join(ck, name, 'model.safetensors')));
  return new Map([...tensors].map(([k, t]) => [k, Buffer.from((t.data as Float32Array).buffer.slice(0))]));
}

function expectSameWeights(a: Map<string, Buffer>, b: Map<string, Buffer>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  expect([...a].filter(([k, v]) => Buffer.compare(v, b.get(k)!) !== 0).map(([k]) => k)).toEqual([]);
}

/** A copy of the killed run's folder to damage. */
function copyOfKilled(): { dir: string; ck: string } {
  const dir = join(tempDir('fc-train-integrity-'), 'run');
  cpSync(killed, dir, { recursive: true });
  return { dir, ck: join(dir, 'checkpoints') };
}

/** What a determined editor does after changing a file: recompute the manifest's checksums. */
function rewriteManifest(folder: string): void {
  const file = join(folder, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
  for (const f of Object.keys(m.files)) {
    const bytes = readFileSync(join(folder, f));
    m.files[f] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  writeFileSync(file, JSON.stringify(m));
}

function editState(folder: string, edit: (stored: { optimizer: { step: number }; state: RunState }) => void): void {
  const file = join(folder, 'state.json');
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  edit(stored);
  writeFileSync(file, JSON.stringify(stored));
}

function editOptimizer(
  folder: string,
  edit: (buffers: Map<string, { shape: readonly number[]; data: Float32Array }>) => void,
) {
  const file = join(folder, 'optimizer.safetensors');
  const { tensors } = readSafetensors(readFileSync(file));
  const buffers = tensors as unknown as Map<string, { shape: readonly number[]; data: Float32Array }>;
  edit(buffers);
  writeFileSync(file, writeSafetensors(tensors));
}

/** Runs, expecting a one-line CheckpointError; returns its message. */
async function refused(dir: string): Promise<string> {
  const e = await run(dir).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CheckpointError);
  const msg = (e as Error).message;
  expect(msg).not.toContain('\n');
  expect(msg).not.toMatch(/ENOENT|NaN loss|check λ/);
  expect(msg).toMatch(/no usable checkpoint .*delete .*checkpoints to start this run over, or use another --out/);
  return msg;
}

/** Runs, expecting a fallback with one warning; checks the result against the uninterrupted run. */
async function fallsBack(dir: string, from: number): Promise<string> {
  const warnings: string[] = [];
  const r = await run(dir, { hooks: { onWarning: (m) => void warnings.push(m) } });
  expect(warnings.length).toBe(1);
  expect(warnings[0]).not.toContain('\n');
  expect(r.resumedFromStep).toBe(from);
  expectSameWeights(finalWeights(dir), finalWeights(reference));
  expect(readFileSync(join(dir, 'steps.csv'), 'utf8').replaceAll(dir, '<out>')).toBe(
    readFileSync(join(reference, 'steps.csv'), 'utf8').replaceAll(reference, '<out>'),
  );
  return warnings[0]!;
}

beforeAll(async () => {
  data = microFairVlmed({ train: 8, val: 4, test: 4, seed: 5 });
  await initCompute({ backend: 'wasm' });
  reference = join(tempDir('fc-train-integrity-'), 'uninterrupted');
  await run(reference);
  killed = join(tempDir('fc-train-integrity-'), 'killed');
  await expect(
    run(killed, {
      hooks: {
        onStep: (s) => {
          if (s.globalStep === 4) throw new Error('simulated kill');
        },
      },
    }),
  ).rejects.toThrow('simulated kill');
  expect(readdirSync(join(killed, 'checkpoints')).sort()).toEqual(['epoch-0000', 'latest.json', 'step-00000003']);
});

describe('the last checkpoint is unusable: resume from the previous one, with a warning', () => {
  test('a flipped byte in model.safetensors', async () => {
    const { dir, ck } = copyOfKilled();
    const f = join(ck, 'step-00000003', 'model.safetensors');
    const bytes = readFileSync(f);
    bytes[bytes.length - 5]! ^= 0x10; // inside the last tensor's data: still a valid safetensors file
    writeFileSync(f, bytes);
    const w = await fallsBack(dir, 2);
    expect(w).toMatch(/step-00000003 is unusable: model\.safetensors does not match its sha256/);
    expect(w).toMatch(/resuming from \S*epoch-0000 instead/);
  });

  test("without an onWarning hook the warning is one line on the run's progress stream", async () => {
    const { dir, ck } = copyOfKilled();
    rmSync(join(ck, 'step-00000003', 'model.safetensors'));
    const lines: string[] = [];
    const r = await run(dir, { progress: { write: (s: string) => void lines.push(s), isTTY: false } });
    expect(r.resumedFromStep).toBe(2);
    expect(lines.filter((l) => l.startsWith('warning: '))).toEqual([
      expect.stringMatching(
        /^warning: checkpoint: step-00000003 is unusable: model\.safetensors is missing; resuming from \S+epoch-0000 instead\n$/,
      ),
    ]);
  });

  test('a deleted optimizer.safetensors', async () => {
    const { dir, ck } = copyOfKilled();
    rmSync(join(ck, 'step-00000003', 'optimizer.safetensors'));
    expect(await fallsBack(dir, 2)).toMatch(/optimizer\.safetensors is missing/);
  });

  test('a truncated model.safetensors', async () => {
    const { dir, ck } = copyOfKilled();
    const f = join(ck, 'step-00000003', 'model.safetensors');
    writeFileSync(f, readFileSync(f).subarray(0, 1000));
    expect(await fallsBack(dir, 2)).toMatch(/model\.safetensors has 1000 bytes, manifest\.json says \d+/);
  });

  test('a hand-edited state.json (epoch 99): its checksum no longer matches', async () => {
    const { dir, ck } = copyOfKilled();
    editState(join(ck, 'step-00000003'), (s) => {
      s.state.epoch = 99;
    });
    expect(await fallsBack(dir, 2)).toMatch(/state\.json does not match its sha256/);
  });

  test('a corrupt optimizer state (a NaN moment) with matching checksums is reported as such', async () => {
    const { dir, ck } = copyOfKilled();
    const folder = join(ck, 'step-00000003');
    editOptimizer(folder, (b) => {
      const [, v] = [...b].find(([k]) => k.endsWith('/v'))!;
      v.data[0] = Number.NaN;
    });
    rewriteManifest(folder);
    expect(await fallsBack(dir, 2)).toMatch(
      /optimizer state in .*step-00000003\/optimizer\.safetensors is corrupt: buffer ".*\/v" holds NaN at index 0/,
    );
  });

  test('latest.json holding {}: the newest intact checkpoint, with a warning naming latest.json', async () => {
    const { dir, ck } = copyOfKilled();
    writeFileSync(join(ck, 'latest.json'), '{}');
    expect(await fallsBack(dir, 3)).toMatch(/latest\.json names no checkpoint/);
  });

  test('latest.json naming a missing folder', async () => {
    const { dir, ck } = copyOfKilled();
    writeFileSync(join(ck, 'latest.json'), '{"name":"step-00000009","previous":"epoch-0000"}');
    expect(await fallsBack(dir, 2)).toMatch(/step-00000009 is unusable: the folder is missing/);
  });
});

describe('no usable checkpoint: one line saying how to proceed', () => {
  test('both checkpoints hand-edited to epoch 99 with their manifests recomputed: refused by the state check', async () => {
    const { dir, ck } = copyOfKilled();
    for (const name of ['step-00000003', 'epoch-0000']) {
      editState(join(ck, name), (s) => {
        s.state.epoch = 99;
      });
      rewriteManifest(join(ck, name));
    }
    const msg = await refused(dir);
    expect(msg).toMatch(
      /step-00000003 is unusable: state\.json does not fit this run: epoch 99 is outside this run's 0…2/,
    );
    expect(msg).toMatch(/epoch-0000 is unusable/);
  });

  test('both model files deleted', async () => {
    const { dir, ck } = copyOfKilled();
    for (const name of ['step-00000003', 'epoch-0000']) rmSync(join(ck, name, 'model.safetensors'));
    expect(await refused(dir)).toMatch(/model\.safetensors is missing/);
  });

  test('latest.json holding {} and the only folder gone', async () => {
    const { dir, ck } = copyOfKilled();
    writeFileSync(join(ck, 'latest.json'), '{}');
    rmSync(join(ck, 'step-00000003'), { recursive: true });
    rmSync(join(ck, 'epoch-0000'), { recursive: true });
    expect(await refused(dir)).toMatch(/latest\.json names no checkpoint/);
  });

  test('an optimizer step that disagrees with the global step (state and manifest edited)', async () => {
    const { dir, ck } = copyOfKilled();
    for (const name of ['step-00000003', 'epoch-0000']) {
      editState(join(ck, name), (s) => {
        s.optimizer.step += 1;
      });
      rewriteManifest(join(ck, name));
    }
    expect(await refused(dir)).toMatch(/the optimizer made 4 steps, the run 3/);
  });
});

describe('state checks (state.json of a real run against its configuration)', () => {
  const cfg = () => resolvePresetConfig('a-fairclip', WASM);
  const expectations = () => {
    const c = cfg();
    const d = openRunData(c, data, { resolution: 32, cache: new ImageCache() });
    return stateExpectations(c, d)!;
  };
  const stored = () =>
    JSON.parse(readFileSync(join(killed, 'checkpoints', 'step-00000003', 'state.json'), 'utf8')) as {
      optimizer: { kind: string; step: number };
      state: RunState & Record<string, unknown>;
    };

  test('the state as written passes; every inconsistency is named', () => {
    const x = expectations();
    expect(x.stepsPerEpoch).toBe(2);
    const ok = stored();
    expect(runStateProblem(ok.state, ok.optimizer, x)).toBeNull();
    const cases: [string, (s: ReturnType<typeof stored>) => void, RegExp][] = [
      [
        'epoch past the run',
        (s) => {
          s.state.epoch = 3;
        },
        /epoch 3 is outside this run's 0…2/,
      ],
      [
        'negative epoch',
        (s) => {
          s.state.epoch = -1;
        },
        /epoch -1 is outside/,
      ],
      [
        'fractional step',
        (s) => {
          s.state.stepInEpoch = 0.5;
        },
        /step 0.5 of epoch 1 is outside 0…1/,
      ],
      [
        'step past the epoch',
        (s) => {
          s.state.stepInEpoch = 2;
        },
        /step 2 of epoch 1 is outside 0…1/,
      ],
      [
        'global step',
        (s) => {
          s.state.globalStep = 5;
        },
        /global step 5 disagrees with epoch 1 step 1 \(3/,
      ],
      ['history too long', (s) => void s.state.history.push(s.state.history[0]!), /2 recorded epochs, epoch 1 needs 1/],
      [
        'history emptied',
        (s) => {
          s.state.history = [];
        },
        /0 recorded epochs/,
      ],
      ['step rows', (s) => void s.state.steps.pop(), /2 step rows for 3 steps/],
      [
        'running sums',
        (s) => {
          s.state.acc.count = 7;
        },
        /running sums count 7 steps/,
      ],
      [
        'selected epoch',
        (s) => {
          s.state.best = { epoch: 5, value: 0.5 };
        },
        /selected epoch/,
      ],
      [
        'loader positions',
        (s) => {
          s.state.groupDrawn = { 'race:99': 1 };
        },
        /group loader race:99/,
      ],
      [
        'optimizer kind',
        (s) => {
          s.optimizer.kind = 'lars';
        },
        /optimizer state is lars, this run uses adam/,
      ],
      [
        'optimizer step',
        (s) => {
          s.optimizer.step = 2;
        },
        /optimizer made 2 steps, the run 3/,
      ],
      [
        'not an object',
        (s) => {
          (s as { state: unknown }).state = [1];
        },
        /not an object/,
      ],
    ];
    for (const [what, edit, message] of cases) {
      const s = stored();
      edit(s);
      expect(runStateProblem(s.state, s.optimizer, x), what).toMatch(message);
    }
  });

  test('model tensors: names, shapes and finite values', () => {
    const specs = [
      { name: 'a', shape: [2] },
      { name: 'b', shape: [1, 2] },
      { name: 'n', shape: [], integer: true },
    ];
    const t = (shape: number[], ...v: number[]) => ({ shape, data: Float32Array.from(v) });
    const ok = new Map([
      ['a', t([2], 1, 2)],
      ['b', t([1, 2], 3, 4)],
    ]);
    expect(modelTensorsProblem(ok, specs, 'm')).toBeNull();
    expect(modelTensorsProblem(new Map([...ok, ['c', t([1], 0)]]), specs, 'm')).toMatch(/m holds c, which the model/);
    expect(modelTensorsProblem(new Map([['a', t([2], 1, 2)]]), specs, 'm')).toMatch(/m lacks b/);
    expect(modelTensorsProblem(new Map([...ok, ['b', t([2, 1], 3, 4)]]), specs, 'm')).toMatch(
      /b has shape \[2, 1\], the model \[1, 2\]/,
    );
    expect(modelTensorsProblem(new Map([...ok, ['a', t([2], 1, Number.POSITIVE_INFINITY)]]), specs, 'm')).toMatch(
      /a holds Infinity at index 1/,
    );
  });

  test('optimizer states: kind, step, names, shapes, completeness, finite values, non-negative second moments', () => {
    const w = tf.variable(tf.zeros([2, 3]), true, 'integrity_w');
    const b = tf.variable(tf.zeros([3]), true, 'integrity_b');
    const groups = [{ name: 'g', params: [w, b], keys: ['w', 'b'] }];
    const buf = (n: number, v = 0.1) => new Float32Array(n).fill(v);
    const ok = () => ({
      kind: 'adam' as const,
      step: 3,
      buffers: {
        'w/m': { shape: [2, 3], data: buf(6) },
        'w/v': { shape: [2, 3], data: buf(6) },
        'b/m': { shape: [3], data: buf(3) },
        'b/v': { shape: [3], data: buf(3) },
      } as Record<string, { shape: number[]; data: Float32Array }>,
    });
    try {
      expect(optimizerStateProblem(ok(), 'adam', groups)).toBeNull();
      const cases: [string, (s: ReturnType<typeof ok>) => unknown, RegExp][] = [
        ['kind', (s) => ((s as { kind: string }).kind = 'lars'), /it is a lars state, the run uses adam/],
        ['step', (s) => ((s as { step: number }).step = -1), /step count -1/],
        ['fractional step', (s) => ((s as { step: number }).step = 1.5), /step count 1.5/],
        ['unknown buffer', (s) => (s.buffers['x/m'] = { shape: [1], data: buf(1) }), /"x\/m" belongs to no/],
        ['foreign buffer name', (s) => (s.buffers['w/mu'] = { shape: [2, 3], data: buf(6) }), /"w\/mu" belongs/],
        ['shape', (s) => (s.buffers['b/m'] = { shape: [1, 3], data: buf(3) }), /"b\/m" has shape \[1, 3\]/],
        ['length', (s) => (s.buffers['b/m'] = { shape: [3], data: buf(2) }), /"b\/m" holds 2 values, the parameter 3/],
        ['half the buffers', (s) => delete s.buffers['b/v'], /parameter "b" has 1 of its 2 buffers/],
        ['NaN', (s) => (s.buffers['w/m']!.data[4] = Number.NaN), /"w\/m" holds NaN at index 4/],
        ['negative v', (s) => (s.buffers['w/v']!.data[2] = -1), /"w\/v" \(a second moment\) holds the negative/],
      ];
      for (const [what, edit, message] of cases) {
        const s = ok();
        edit(s);
        expect(optimizerStateProblem(s, 'adam', groups), what).toMatch(message);
      }
      // Adam refuses to load a corrupt state instead of producing NaN weights later
      const opt = new Adam(groups, { lr: 0.1 });
      const bad = ok();
      bad.buffers['w/v']!.data[0] = -4;
      expect(() => opt.loadState(bad)).toThrow(/saved state is corrupt: buffer "w\/v"/);
      opt.dispose();
    } finally {
      tf.dispose([w, b]);
    }
  });
});

describe('checkpoint files', () => {
  test('an old checkpoint without checksums is named as such', () => {
    const ck = join(tempDir('fc-train-integrity-'), 'checkpoints');
    writeCheckpoint(ck, 'epoch-0000', { state: { epoch: 1 }, model: new Map(), optimizer: null });
    rmSync(join(ck, 'epoch-0000', 'manifest.json'));
    writeFileSync(
      join(ck, 'epoch-0000', 'state.json'),
      JSON.stringify({ version: 1, name: 'epoch-0000', optimizer: null, state: { epoch: 1 } }),
    );
    expect(() => readLatestCheckpoint(ck)).toThrow(
      /epoch-0000 is unusable: written by an older version without checksums/,
    );
  });

  test('latest.json naming a path outside the folder is not followed', () => {
    const root = tempDir('fc-train-integrity-');
    const ck = join(root, 'checkpoints');
    writeCheckpoint(ck, 'epoch-0000', { state: { epoch: 1 }, model: new Map(), optimizer: null });
    writeCheckpoint(join(root, 'elsewhere'), 'epoch-0005', { state: { epoch: 6 }, model: new Map(), optimizer: null });
    writeFileSync(join(ck, 'latest.json'), JSON.stringify({ name: '../elsewhere/epoch-0005' }));
    const warnings: string[] = [];
    const back = readLatestCheckpoint<{ epoch: number }>(ck, { warn: (m) => void warnings.push(m) });
    expect(back!.state.epoch).toBe(1);
    expect(warnings[0]).toMatch(/latest\.json names no checkpoint; resuming from \S*epoch-0000 instead/);
  });

  test('a rewrite of the same name (after a fallback) replaces it and keeps the checkpoint it resumed from', () => {
    const ck = join(tempDir('fc-train-integrity-'), 'checkpoints');
    const files = (epoch: number) => ({ state: { epoch }, model: new Map(), optimizer: null });
    writeCheckpoint(ck, 'epoch-0000', files(1));
    writeCheckpoint(ck, 'epoch-0001', files(2));
    writeCheckpoint(ck, 'step-00000009', files(3), { keep: 'epoch-0000' });
    expect(readdirSync(ck).sort()).toEqual(['epoch-0000', 'latest.json', 'step-00000009']);
    writeCheckpoint(ck, 'step-00000009', files(4), { keep: 'epoch-0000' });
    expect(readdirSync(ck).sort()).toEqual(['epoch-0000', 'latest.json', 'step-00000009']);
    expect(readLatestCheckpoint<{ epoch: number }>(ck)!.state.epoch).toBe(4);
    expect(JSON.parse(readFileSync(join(ck, 'latest.json'), 'utf8'))).toEqual({
      name: 'step-00000009',
      previous: 'epoch-0000',
    });
  });
});
