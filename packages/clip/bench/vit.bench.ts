// CLIP throughput per backend against PyTorch on the CPU, measured in the same run (vitest prints each bench's time
// relative to the others of its group). `pnpm bench` (vitest bench --run) from packages/clip.
//
// Default (about 2 minutes on a 2-core CPU machine, part of the root `pnpm bench`): ViT-B/16 image features at
// batch 1 on wasm, one warm-up and one timed call, against PyTorch in the same run; then the tiny-model leak check.
// FAIRCLIP_BENCH_FULL=1 is the longer variant (about half an hour on a 2-core machine): image features on wasm and
// on the cpu backend (≈ 5 minutes per ViT-B/16 image there), a ViT-B/16 training step at batch 1 on wasm (1–2 minutes
// a step here) against PyTorch, 3 timed iterations after a warm-up everywhere. A GPU run uses BENCH_BACKENDS=webgpu
// BENCH_TRAIN_BACKENDS=webgpu BENCH_BATCH=32 BENCH_TRAIN_BATCH=32 … (or bench/device.ts).
//
// Environment (each overrides the default and the FULL variant):
//   FAIRCLIP_BENCH_FULL  '1' for the longer variant
//   BENCH_MODEL        'ViT-B/16' (default), 'ViT-B/32', 'ViT-L/14', or 'tiny'
//   BENCH_BACKENDS     'wasm' (default; FULL: 'wasm,cpu') — any of cpu, wasm, webgpu
//   BENCH_BATCH        images per inference call (default 1)
//   BENCH_TRAIN_BATCH  pairs per training step (default 1: ViT-B/16 training at batch 2 exhausts the wasm heap);
//                      training runs on the backends in BENCH_TRAIN_BACKENDS
//   BENCH_TRAIN_BACKENDS  default none (FULL: 'wasm'; the cpu backend needs minutes per ViT-B/16 step)
//   BENCH_ITERATIONS   timed iterations per bench (default 1; FULL: 3)
//   BENCH_TRAIN_WARMUP warm-up training steps before the timed ones (default 1); inference always warms up once
//   BENCH_PYTHON       Python with torch for the baseline (default /usr/bin/python3; skipped if it fails to start)
//   BENCH_LEAK_STEPS   training steps of the leak check (default 25; FULL: 100)
// A last group runs those training steps of a tiny model and fails if tf.memory().numTensors grows.
import { fileURLToPath } from 'node:url';
import { type BackendName, type ComputeHandle, initCompute } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { startTorchWorker } from './torch-worker.ts';
import { benchConfig, createWorkload, type Workload } from './workload.ts';

const env = process.env;
const full = env.FAIRCLIP_BENCH_FULL === '1';
const modelName = env.BENCH_MODEL ?? 'ViT-B/16';
const backends = (env.BENCH_BACKENDS ?? (full ? 'wasm,cpu' : 'wasm')).split(',').filter(Boolean) as BackendName[];
const trainBackends = (env.BENCH_TRAIN_BACKENDS ?? (full ? 'wasm' : '')).split(',').filter(Boolean) as BackendName[];
const inferBatch = Number(env.BENCH_BATCH ?? 1);
const trainBatch = Number(env.BENCH_TRAIN_BATCH ?? 1);
const iterations = Number(env.BENCH_ITERATIONS ?? (full ? 3 : 1));
const trainWarmup = Number(env.BENCH_TRAIN_WARMUP ?? 1);
const config = benchConfig(modelName);
const options = { iterations, time: 0, warmupIterations: 1, warmupTime: 0 };
const trainOptions = { ...options, warmupIterations: trainWarmup };
const leakSteps = Number(env.BENCH_LEAK_STEPS ?? (full ? 100 : 25));

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
  `[bench] ${modelName}: inference batch ${inferBatch} on ${backends.join(', ')}; ${trainBackends.length ? `training batch ${trainBatch} on ${trainBackends.join(', ')} (${trainWarmup} warm-up step(s))` : 'no training step (FAIRCLIP_BENCH_FULL=1 or BENCH_TRAIN_BACKENDS=wasm)'}; ${iterations} timed iteration(s)${full ? ' (FAIRCLIP_BENCH_FULL)' : ''}`,
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

describe.runIf(trainBackends.length > 0)(
  `${modelName} training step (contrastive loss, all parameters, SGD), batch ${trainBatch}`,
  () => {
    for (const backend of trainBackends) {
      let w: Workload | undefined;
      let tensorsBefore = 0;
      bench(`fairclip-ts ${backend}`, async () => w!.train(trainBatch), {
        ...trainOptions,
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
    if (torch)
      bench('pytorch cpu (baseline)', async () => void (await torch!.run(`train ${trainBatch}`)), trainOptions);
  },
);

describe(`leak check: ${leakSteps} training steps of a tiny CLIP`, () => {
  bench(
    `fairclip-ts ${trainBackends[0] ?? 'wasm'}`,
    async () => {
      const backend = trainBackends[0] ?? 'wasm';
      if (!handles.has(backend)) handles.set(backend, await initCompute({ backend, allowSoftwareAdapter: true }));
      await tf.setBackend(backend);
      const w = createWorkload(benchConfig('tiny'));
      const before = tf.memory().numTensors;
      for (let step = 0; step < leakSteps; step++) await w.train(4);
      const after = tf.memory().numTensors;
      w.dispose();
      if (after !== before) throw new Error(`${after - before} tensors leaked over ${leakSteps} training steps`);
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});

process.on('exit', () => {
  torch?.stop();
  for (const w of workloads.values()) w.dispose();
});
