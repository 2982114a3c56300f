// CLIP throughput per backend against PyTorch on the CPU, measured in the same run (vitest prints each bench's time
// relative to the others of its group). `pnpm bench` (vitest bench --run) from packages/clip.
//
// Environment (defaults suit a small CPU machine; a GPU run uses BENCH_BACKENDS=webgpu BENCH_BATCH=32 …):
//   BENCH_MODEL        'ViT-B/16' (default), 'ViT-B/32', 'ViT-L/14', or 'tiny'
//   BENCH_BACKENDS     'wasm,cpu' (default) — any of cpu, wasm, webgpu
//   BENCH_BATCH        images per inference call (default 1)
//   BENCH_TRAIN_BATCH  pairs per training step (default 1: ViT-B/16 training at batch 2 exhausts the wasm heap);
//                      training runs on the backends in BENCH_TRAIN_BACKENDS
//   BENCH_TRAIN_BACKENDS  default 'wasm' (the cpu backend needs minutes per ViT-B/16 step)
//   BENCH_ITERATIONS   timed iterations per bench (default 3, after one warm-up)
//   BENCH_PYTHON       Python with torch for the baseline (default /usr/bin/python3; skipped if it fails to start)
// A last group runs 100 training steps of a tiny model and fails if tf.memory().numTensors grows.
import { fileURLToPath } from 'node:url';
import { type BackendName, type ComputeHandle, initCompute } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { startTorchWorker } from './torch-worker.ts';
import { benchConfig, createWorkload, type Workload } from './workload.ts';

const env = process.env;
const modelName = env.BENCH_MODEL ?? 'ViT-B/16';
const backends = (env.BENCH_BACKENDS ?? 'wasm,cpu').split(',').filter(Boolean) as BackendName[];
const trainBackends = (env.BENCH_TRAIN_BACKENDS ?? 'wasm').split(',').filter(Boolean) as BackendName[];
const inferBatch = Number(env.BENCH_BATCH ?? 1);
const trainBatch = Number(env.BENCH_TRAIN_BATCH ?? 1);
const iterations = Number(env.BENCH_ITERATIONS ?? 3);
const config = benchConfig(modelName);
const options = { iterations, time: 0, warmupIterations: 1, warmupTime: 0 };

const handles = new Map<BackendName, ComputeHandle>();
const workloads = new Map<BackendName, Workload>();

async function workloadOn(backend: BackendName): Promise<Workload> {
  if (!handles.has(backend)) handles.set(backend, await initCompute({ backend, allowSoftwareAdapter: true }));
  await tf.setBackend(backend);
  let w = workloads.get(backend);
  if (w === undefined) {
    w = createWorkload(config);
    workloads.set(backend, w);
  }
  return w;
}

const started = await startTorchWorker(
  env.BENCH_PYTHON ?? '/usr/bin/python3',
  fileURLToPath(new URL('./torch_worker.py', import.meta.url)),
  config,
);
const torch = started?.worker;
if (started) console.log(`[bench] PyTorch baseline: ${started.info} (torch version, device, threads)`);

console.log(
  `[bench] ${modelName}: inference batch ${inferBatch} on ${backends.join(', ')}; training batch ${trainBatch} on ${trainBackends.join(', ')}`,
);

describe(`${modelName} image features, batch ${inferBatch}`, () => {
  for (const backend of backends) {
    let w: Workload | undefined;
    bench(`fairclip-ts ${backend}`, async () => w!.infer(inferBatch), {
      ...options,
      setup: async () => {
        w = await workloadOn(backend);
      },
    });
  }
  if (torch) bench('pytorch cpu (baseline)', async () => void (await torch!.run(`infer ${inferBatch}`)), options);
});

describe(`${modelName} training step (contrastive loss, all parameters, SGD), batch ${trainBatch}`, () => {
  for (const backend of trainBackends) {
    let w: Workload | undefined;
    let tensorsBefore = 0;
    bench(`fairclip-ts ${backend}`, async () => w!.train(trainBatch), {
      ...options,
      setup: async () => {
        w = await workloadOn(backend);
        tensorsBefore = tf.memory().numTensors;
      },
      teardown: () => {
        const now = tf.memory().numTensors;
        if (now !== tensorsBefore)
          throw new Error(`${backend}: ${now - tensorsBefore} tensors leaked by training steps`);
      },
    });
  }
  if (torch) bench('pytorch cpu (baseline)', async () => void (await torch!.run(`train ${trainBatch}`)), options);
});

describe('leak check: 100 training steps of a tiny CLIP', () => {
  bench(
    `fairclip-ts ${trainBackends[0] ?? 'wasm'}`,
    async () => {
      const backend = trainBackends[0] ?? 'wasm';
      if (!handles.has(backend)) handles.set(backend, await initCompute({ backend, allowSoftwareAdapter: true }));
      await tf.setBackend(backend);
      const w = createWorkload(benchConfig('tiny'));
      const before = tf.memory().numTensors;
      for (let step = 0; step < 100; step++) await w.train(4);
      const after = tf.memory().numTensors;
      w.dispose();
      if (after !== before) throw new Error(`${after - before} tensors leaked over 100 training steps`);
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});

process.on('exit', () => {
  torch?.stop();
  for (const w of workloads.values()) w.dispose();
});
