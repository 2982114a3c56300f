// GPU-machine benchmark (bundled by bench/device-build.mjs; plain Node, no vitest): CLIP image features and training
// steps per second on the given backends, with PyTorch (CUDA and CPU, same machine, same run) as baselines, and a
// 100-step leak check. Prints a table and writes JSON to $BENCH_OUT (default ./clip-bench.json).
//   BENCH_MODEL (ViT-B/16), BENCH_BACKENDS (webgpu), BENCH_BATCH (32), BENCH_TRAIN_BATCH (32), BENCH_ITERATIONS (10),
//   BENCH_PYTHON (python3), BENCH_TORCH_DEVICES (cuda,cpu), BENCH_TORCH_SCRIPT (path of torch_worker.py)
import { writeFileSync } from 'node:fs';
import { type BackendName, describeAdapter, initCompute } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import { startTorchWorker } from './torch-worker.ts';
import { benchConfig, createWorkload } from './workload.ts';

const env = process.env;
const modelName = env.BENCH_MODEL ?? 'ViT-B/16';
const backends = (env.BENCH_BACKENDS ?? 'webgpu').split(',').filter(Boolean) as BackendName[];
const inferBatch = Number(env.BENCH_BATCH ?? 32);
const trainBatch = Number(env.BENCH_TRAIN_BATCH ?? 32);
const iterations = Number(env.BENCH_ITERATIONS ?? 10);
const config = benchConfig(modelName);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function time(fn: () => Promise<unknown>, n: number): Promise<number> {
  await fn(); // warm-up (shader compilation, allocation)
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

interface Row {
  impl: string;
  task: string;
  batch: number;
  medianMs: number;
  perSecond: number;
}
const rows: Row[] = [];
function record(impl: string, task: string, batch: number, ms: number): void {
  rows.push({ impl, task, batch, medianMs: ms, perSecond: (1000 * batch) / ms });
  console.log(
    `${impl.padEnd(22)} ${task.padEnd(10)} batch ${String(batch).padStart(3)}  ${ms.toFixed(1).padStart(9)} ms  ${((1000 * batch) / ms).toFixed(1).padStart(8)} /s`,
  );
}

const info: Record<string, unknown> = { model: modelName, iterations, inferBatch, trainBatch };
for (const backend of backends) {
  const handle = await initCompute({ backend, allowSoftwareAdapter: true });
  if (handle.adapterInfo) info[`${backend}Adapter`] = describeAdapter(handle.adapterInfo);
  const w = createWorkload(config);
  record(`fairclip-ts ${backend}`, 'infer', inferBatch, await time(() => w.infer(inferBatch), iterations));
  const before = tf.memory().numTensors;
  record(`fairclip-ts ${backend}`, 'train', trainBatch, await time(() => w.train(trainBatch), iterations));
  info[`${backend}TensorsLeakedByTraining`] = tf.memory().numTensors - before;
  w.dispose();
  const tiny = createWorkload(benchConfig('tiny'));
  const t0 = tf.memory().numTensors;
  for (let i = 0; i < 100; i++) await tiny.train(4);
  info[`${backend}TensorsLeakedOver100TinySteps`] = tf.memory().numTensors - t0;
  tiny.dispose();
  await handle.dispose();
}

const script = env.BENCH_TORCH_SCRIPT ?? 'torch_worker.py';
for (const device of (env.BENCH_TORCH_DEVICES ?? 'cuda,cpu').split(',').filter(Boolean)) {
  const started = await startTorchWorker(env.BENCH_PYTHON ?? 'python3', script, config, device);
  if (!started) continue;
  info[`torch_${device}`] = started.info;
  const { worker } = started;
  record(`pytorch ${device}`, 'infer', inferBatch, await time(() => worker.run(`infer ${inferBatch}`), iterations));
  record(`pytorch ${device}`, 'train', trainBatch, await time(() => worker.run(`train ${trainBatch}`), iterations));
  worker.stop();
}

for (const task of ['infer', 'train']) {
  for (const base of rows.filter((r) => r.task === task && r.impl.startsWith('pytorch'))) {
    for (const ours of rows.filter((r) => r.task === task && r.impl.startsWith('fairclip-ts'))) {
      console.log(
        `${task}: ${ours.impl} takes ${(ours.medianMs / base.medianMs).toFixed(2)}× the time of ${base.impl}`,
      );
    }
  }
}
writeFileSync(env.BENCH_OUT ?? 'clip-bench.json', JSON.stringify({ info, rows }, null, 1));
console.log(JSON.stringify(info));
process.exit(0);
