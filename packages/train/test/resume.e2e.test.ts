// Resume after a kill: a run interrupted at any step resumes from its last checkpoint and ends with bit-identical
// weights (and identical logs) to an uninterrupted run — on the cpu backend (the reference), and on wasm for the
// mid-epoch step checkpoints. Also: the two distance paths (synchronous on cpu/wasm, two-phase elsewhere) give the
// same step, a finished run is reused, and a folder holding another configuration's run is refused.
// (The cpu backend runs this model about 5x slower than wasm, so its scenario is the smallest that still replays a
// partial epoch with the per-group loaders' positions restored.)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '@fairclip/clip';
import { initCompute } from '@fairclip/compute';
import { beforeAll, describe, expect, test } from 'vitest';
import { CheckpointError } from '../src/checkpoint.ts';
import { ImageCache } from '../src/data.ts';
import { resolvePresetConfig } from '../src/presets.ts';
import { runTraining, type TrainRunOptions } from '../src/run.ts';
import { microFairVlmed, TINY_MODEL, tempDir } from './helpers/runs.ts';

let data = '';
const cache = new ImageCache();
beforeAll(() => {
  data = microFairVlmed({ train: 8, val: 4, test: 4, seed: 5 });
});

// A-FairCLIP with the official per-group loaders (their positions are part of the resumed state), group batches of
// 1 or 2, one evaluation at the end on the first 2 validation and test samples.
const base = [TINY_MODEL, 'eval.every=2', 'data.limits.val=2', 'data.limits.test=2'];
const CPU = [...base, 'data.limits.train=2', 'training.batchSize=2', 'training.epochs=2', 'fairness.groupBatchSize=1'];
const WASM = [...base, 'data.limits.train=4', 'training.batchSize=2', 'training.epochs=2', 'fairness.groupBatchSize=2'];

async function finalWeights(outDir: string): Promise<Map<string, Uint8Array>> {
  const latest = JSON.parse(readFileSync(join(outDir, 'checkpoints', 'latest.json'), 'utf8')) as { name: string };
  const { tensors } = readSafetensors(readFileSync(join(outDir, 'checkpoints', latest.name, 'model.safetensors')));
  return new Map([...tensors].map(([k, t]) => [k, new Uint8Array((t.data as Float32Array).buffer.slice(0))]));
}

function expectSameWeights(a: Map<string, Uint8Array>, b: Map<string, Uint8Array>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  let differing = 0;
  for (const [k, v] of a) if (Buffer.compare(Buffer.from(v), Buffer.from(b.get(k)!)) !== 0) differing++;
  expect(differing).toBe(0);
}

const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8').replaceAll(dir, '<out>');

async function run(overrides: string[], outDir: string, extra: Partial<TrainRunOptions> = {}) {
  const r = await runTraining({
    config: resolvePresetConfig('a-fairclip', overrides),
    outDir,
    dataRoot: data,
    imageCache: cache,
    ...extra,
  });
  r.model?.dispose();
  return r;
}

describe('resume after a kill, cpu backend', () => {
  let reference = '';
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    reference = join(tempDir('fc-train-resume-'), 'uninterrupted');
    expect((await run(CPU, reference)).resumedFromStep).toBeNull();
  });

  test('aborted (AbortSignal) during epoch 1: resumes from the epoch-0 checkpoint, bit-identical weights', async () => {
    const outDir = join(tempDir('fc-train-resume-'), 'aborted');
    const ctl = new AbortController();
    await expect(
      run(CPU, outDir, { signal: ctl.signal, hooks: { onStep: (s) => void (s.globalStep === 2 && ctl.abort()) } }),
    ).rejects.toThrow(/abort/i);
    expect(existsSync(join(outDir, 'result.json'))).toBe(true); // the outputs of the finished epoch survive
    const r = await run(CPU, outDir);
    expect(r.resumedFromStep).toBe(1);
    expectSameWeights(await finalWeights(outDir), await finalWeights(reference));
    for (const f of ['steps.csv', 'epochs_test.csv', 'epochs_val.csv'])
      expect(read(outDir, f), f).toBe(read(reference, f));
  });
});

describe('resume after a kill, wasm backend', () => {
  let reference = '';
  beforeAll(async () => {
    await initCompute({ backend: 'wasm' });
    reference = join(tempDir('fc-train-resume-'), 'uninterrupted');
    expect((await run(WASM, reference)).resumedFromStep).toBeNull();
  });
  test('killed by a throwing hook mid-epoch with step checkpoints: resumes at that step, same final weights', async () => {
    const outDir = join(tempDir('fc-train-resume-'), 'thrown');
    await expect(
      run(WASM, outDir, {
        checkpointEverySteps: 1,
        hooks: {
          onStep: (s) => {
            if (s.globalStep === 4) throw new Error('simulated kill');
          },
        },
      }),
    ).rejects.toThrow('simulated kill');
    const ckpts = readdirSync(join(outDir, 'checkpoints'));
    // the last checkpoint and the previous one are kept; older ones removed, no temp leftovers
    expect(ckpts.sort()).toEqual(['epoch-0000', 'latest.json', 'step-00000003']);
    const r = await run(WASM, outDir, { checkpointEverySteps: 1 });
    expect(r.resumedFromStep).toBe(3);
    expectSameWeights(await finalWeights(outDir), await finalWeights(reference));
    expect(read(outDir, 'steps.csv')).toBe(read(reference, 'steps.csv'));
  });

  test('a finished run is reused; another configuration in the same folder is refused', async () => {
    const before = await finalWeights(reference);
    const again = await run(WASM, reference);
    expect(again.resumedFromStep).toBe(4);
    expectSameWeights(await finalWeights(reference), before);
    const other = resolvePresetConfig('a-fairclip', [...WASM, 'fairness.lambda=0.5']);
    await expect(runTraining({ config: other, outDir: reference, dataRoot: data })).rejects.toThrow(CheckpointError);
    await expect(runTraining({ config: other, outDir: reference, dataRoot: data })).rejects.toThrow(
      /another configuration/,
    );
  });

  test('the two-phase distance path (WebGPU) gives the same step as the synchronous one', async () => {
    const cfg = resolvePresetConfig('a-fairclip', [...WASM, 'training.epochs=1', 'eval.every=1']);
    const dirs = [join(tempDir('fc-train-path-'), 'sync'), join(tempDir('fc-train-path-'), 'two-phase')];
    const losses: number[][] = [[], []];
    for (const [k, path] of (['sync', 'two-phase'] as const).entries()) {
      const r = await runTraining({
        config: cfg,
        outDir: dirs[k]!,
        dataRoot: data,
        imageCache: cache,
        distancePath: path,
        hooks: { onStep: (s) => void losses[k]!.push(s.loss, s.terms.fairness!) },
      });
      r.model?.dispose();
    }
    expect(losses[1]).toEqual(losses[0]);
    expect(losses[0]![1]).toBeGreaterThan(0);
    expectSameWeights(await finalWeights(dirs[1]!), await finalWeights(dirs[0]!));
  });

  test('linear probing resumes from its last evaluation checkpoint with the same head', async () => {
    const lp = [
      TINY_MODEL,
      'data.limits.train=8',
      'data.limits.val=2',
      'data.limits.test=2',
      'linearProbe.batchSize=4',
      'linearProbe.epochs=4',
      'linearProbe.evalEvery=2',
      'linearProbe.warmupEpochs=1',
      'linearProbe.blr=1',
    ];
    const cfg = resolvePresetConfig('linear-probe', lp);
    const ref = join(tempDir('fc-train-lp-'), 'uninterrupted');
    const killed = join(tempDir('fc-train-lp-'), 'killed');
    const opts = { config: cfg, dataRoot: data, imageCache: cache };
    await runTraining({ ...opts, outDir: ref });
    await expect(
      runTraining({
        ...opts,
        outDir: killed,
        hooks: {
          onStep: (s) => {
            if (s.globalStep === 7) throw new Error('simulated kill');
          },
        },
      }),
    ).rejects.toThrow('simulated kill');
    const r = await runTraining({ ...opts, outDir: killed });
    expect(r.resumedFromStep).toBe(4);
    expectSameWeights(await finalWeights(killed), await finalWeights(ref));
    expect(read(killed, 'epochs_test.csv')).toBe(read(ref, 'epochs_test.csv'));
  });
});
