// CLIP throughput per backend against PyTorch on the CPU, measured in the same run (vitest prints each bench's time
// relative to the others of its group). `pnpm bench` (vitest bench --run) from packages/clip.
//
// Default (about 2 minutes on a 2-core CPU machine, part of the root `pnpm bench`): ViT-B/16 image features at
// batch 1 on wasm (its default thread count: the cores, see @fairclip/compute's `wasmThreads`), one warm-up and one
// timed call, against PyTorch on the same number of CPU threads in the same run; then the tiny-model leak check.
// FAIRCLIP_BENCH_FULL=1 is the longer variant (the issue's goals; about 40 minutes on a 2-core machine): image
// features at batch 1 and 8 and a training step at batch 8, each on wasm with the default threads and on wasm with
// one thread ('wasm:1'), against PyTorch. The cpu backend (≈ 5 minutes per ViT-B/16 image) runs only when named in
// BENCH_BACKENDS. A GPU run uses BENCH_BACKENDS=webgpu BENCH_TRAIN_BACKENDS=webgpu BENCH_BATCH=32
// BENCH_TRAIN_BATCH=32 … (or bench/device.ts).
//
// Environment (each overrides the default and the FULL variant):
//   FAIRCLIP_BENCH_FULL  '1' for the longer variant
//   BENCH_MODEL        'ViT-B/16' (default), 'ViT-B/32', 'ViT-L/14', or 'tiny'
//   BENCH_BACKENDS     'wasm' (default; FULL: 'wasm,wasm:1') — any of cpu, wasm, wasm:<threads>, webgpu
//   BENCH_BATCH        images per inference call, a comma list (default 1; FULL: '1,8')
//   BENCH_TRAIN_BATCH  pairs per training step (default 1; FULL: 8)
//   BENCH_TRAIN_BACKENDS  default none (FULL: 'wasm,wasm:1'), same names as BENCH_BACKENDS
//   BENCH_ITERATIONS   timed iterations per bench (default 1)
//   BENCH_TRAIN_WARMUP warm-up training steps before the timed ones (default 1); inference always warms up once
//   BENCH_PYTHON       Python with torch for the baseline (default /usr/bin/python3; skipped if it fails to start)
//   BENCH_TORCH_THREADS  PyTorch's CPU threads (default: the wasm default, the cores available, at most 8)
//   BENCH_LEAK_STEPS   training steps of the leak check (default 25; FULL: 100)
// Then a tiny CLIP's forward in fp32 and in 'fp16-emulated' (the cost of the float16 rounding), on the first backend.
// A last group runs those training steps of a tiny model and fails if tf.memory().numTensors grows.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type BackendName, type ComputeHandle, initCompute } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { startTorchWorker } from './torch-worker.ts';
import { benchConfig, createWorkload, type Workload } from './workload.ts';

const env = process.env;
const full = env.FAIRCLIP_BENCH_FULL === '1';
const modelName = env.BENCH_MODEL ?? 'ViT-B/16';
const list = (raw: string) => raw.split(',').filter(Boolean);
const impls = list(env.BENCH_BACKENDS ?? (full ? 'wasm,wasm:1' : 'wasm'));
const trainImpls = list(env.BENCH_TRAIN_BACKENDS ?? (full ? 'wasm,wasm:1' : ''));
const inferBatches = list(env.BENCH_BATCH ?? (full ? '1,8' : '1')).map(Number);
const trainBatch = Number(env.BENCH_TRAIN_BATCH ?? (full ? 8 : 1));
const iterations = Number(env.BENCH_ITERATIONS ?? 1);
const trainWarmup = Number(env.BENCH_TRAIN_WARMUP ?? 1);
const config = benchConfig(modelName);
const options = { iterations, time: 0, warmupIterations: 1, warmupTime: 0 };
const trainOptions = { ...options, warmupIterations: trainWarmup };
const leakSteps = Number(env.BENCH_LEAK_STEPS ?? (full ? 100 : 25));
/** initCompute's default wasm thread count (the cores available, at most 8), which PyTorch gets too by default. */
const defaultThreads = Math.min(8, availableParallelism());
const torchThreads = Number(env.BENCH_TORCH_THREADS ?? defaultThreads);

/** 'wasm' → wasm on the default threads, 'wasm:N' → N threads, else a backend name. */
function parseImpl(impl: string): { backend: BackendName; threads?: number } {
  const [backend, threads] = impl.split(':') as [BackendName, string | undefined];
  if (backend === 'wasm') return { backend, threads: threads ? Number(threads) : defaultThreads };
  return { backend };
}

function label(impl: string): string {
  const { backend, threads } = parseImpl(impl);
  return threads === undefined ? `fairclip-ts ${backend}` : `fairclip-ts wasm, ${threads} thread(s)`;
}

const handles = new Map<BackendName, ComputeHandle>();
const workloads = new Map<string, Workload>();

/** Makes `impl`'s backend active; the wasm backend is started again when the thread count changes. */
async function activate(impl: string): Promise<void> {
  const { backend, threads } = parseImpl(impl);
  const current = handles.get(backend);
  if (backend === 'wasm' && current !== undefined && current.wasmThreads !== threads) {
    for (const [key, w] of workloads) {
      if (key.startsWith('wasm')) {
        w.dispose();
        workloads.delete(key);
      }
    }
    tf.removeBackend('wasm'); // ends its thread pool; the next initCompute starts one with the new count
    handles.delete('wasm');
  }
  if (!handles.has(backend)) {
    const handle = await initCompute({
      backend,
      allowSoftwareAdapter: true,
      ...(threads ? { wasmThreads: threads } : {}),
    });
    handles.set(backend, handle);
    if (handle.wasmThreads !== undefined && handle.wasmThreads !== threads)
      console.warn(`[bench] ${impl}: runs ${handle.wasmThreads} thread(s): ${handle.fallbackReasons.join('; ')}`);
  }
  await tf.setBackend(backend);
}

async function workloadOn(impl: string): Promise<Workload> {
  await activate(impl);
  let w = workloads.get(impl);
  if (w === undefined) {
    w = createWorkload(config);
    workloads.set(impl, w);
  }
  return w;
}

const started = await startTorchWorker(
  env.BENCH_PYTHON ?? '/usr/bin/python3',
  fileURLToPath(new URL('./torch_worker.py', import.meta.url)),
  config,
  'cpu',
  torchThreads,
);
const torch = started?.worker;
if (started) console.log(`[bench] PyTorch baseline: ${started.info} (torch version, device, threads)`);

console.log(
  `[bench] ${modelName}: inference batch ${inferBatches.join(', ')} on ${impls.join(', ')}; ${trainImpls.length ? `training batch ${trainBatch} on ${trainImpls.join(', ')} (${trainWarmup} warm-up step(s))` : 'no training step (FAIRCLIP_BENCH_FULL=1 or BENCH_TRAIN_BACKENDS=wasm)'}; ${iterations} timed iteration(s)${full ? ' (FAIRCLIP_BENCH_FULL)' : ''}`,
);

for (const inferBatch of inferBatches) {
  describe(`${modelName} image features, batch ${inferBatch}`, () => {
    for (const impl of impls) {
      let w: Workload | undefined;
      bench(label(impl), async () => w!.infer(inferBatch), {
        ...options,
        setup: async () => {
          w = await workloadOn(impl);
        },
      });
    }
    if (torch)
      bench(
        `pytorch cpu, ${torchThreads} thread(s) (baseline)`,
        async () => void (await torch!.run(`infer ${inferBatch}`)),
        options,
      );
  });
}

describe.runIf(trainImpls.length > 0)(
  `${modelName} training step (contrastive loss, all parameters, SGD), batch ${trainBatch}`,
  () => {
    for (const impl of trainImpls) {
      let w: Workload | undefined;
      let tensorsBefore = 0;
      bench(label(impl), async () => w!.train(trainBatch), {
        ...trainOptions,
        setup: async () => {
          w = await workloadOn(impl);
          tensorsBefore = tf.memory().numTensors;
        },
        teardown: () => {
          const now = tf.memory().numTensors;
          if (now !== tensorsBefore)
            throw new Error(`${impl}: ${now - tensorsBefore} tensors leaked by training steps`);
        },
      });
    }
    if (torch)
      bench(
        `pytorch cpu, ${torchThreads} thread(s) (baseline)`,
        async () => void (await torch!.run(`train ${trainBatch}`)),
        trainOptions,
      );
  },
);

describe('tiny CLIP forward (batch 8): fp32 against fp16-emulated (the float16 rounding of every half op)', () => {
  const impl = impls[0] ?? 'wasm';
  let w: Workload | undefined;
  let images: tf.Tensor4D | undefined;
  const tokens = Array.from({ length: 8 }, (_, i) =>
    Array.from({ length: 77 }, (_, j) => (j < 10 ? 1 + ((i * 31 + j * 7) % 997) : j === 10 ? 999 : 0)),
  );
  const forward = async () => {
    const out = w!.model.forward(images!, tokens);
    await out.logitsPerImage.data();
    tf.dispose([out.logitsPerImage, out.logitsPerText]);
  };
  const setup = (precision: 'fp32' | 'fp16-emulated') => async () => {
    await activate(impl);
    w ??= createWorkload(benchConfig('tiny'));
    images ??= tf.randomNormal([8, 3, 32, 32]) as tf.Tensor4D;
    w.model.setPrecision(precision);
  };
  const tinyOptions = { iterations: 20, time: 0, warmupIterations: 3, warmupTime: 0 };
  bench(`${label(impl)}, fp32`, forward, { ...tinyOptions, setup: setup('fp32') });
  bench(`${label(impl)}, fp16-emulated`, forward, {
    ...tinyOptions,
    setup: setup('fp16-emulated'),
    teardown: () => {
      w?.dispose();
      images?.dispose();
      w = undefined;
      images = undefined;
    },
  });
});

describe(`leak check: ${leakSteps} training steps of a tiny CLIP`, () => {
  const impl = trainImpls[0] ?? 'wasm';
  bench(
    label(impl),
    async () => {
      await activate(impl);
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
