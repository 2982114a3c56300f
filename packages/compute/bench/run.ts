// Benchmarks of @fairclip/compute, per backend, in one process (ratios are measured in the same run):
//  - matMul throughput (GFLOP/s);
//  - fused soft-min throughput (pairs/s) and the same computation composed from tfjs ops (materialised N×M cost),
//    reported as a ratio;
//  - roundToFloat16 (the fp16 emulation's rounding) against its previous composition (bench/fp16-legacy.ts), as a
//    ratio;
//  - largest GPU buffer of the fused soft-min at N = M = 10^5 in 3-D on a hardware GPU (on a software adapter a
//    smaller N is used and the output says so).
// Run: pnpm bench (from packages/compute). Env: BENCH_BACKENDS=cpu,wasm,webgpu  BENCH_OUT=results.json
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BackendName,
  type ComputeHandle,
  describeAdapter,
  initCompute,
  roundToFloat16,
  softmin,
} from '../src/index.ts';
import { roundValuesOld } from './fp16-legacy.ts';

interface Row {
  backend: string;
  case: string;
  ms: number;
  throughput: string;
  note?: string;
}

const rows: Row[] = [];
const extra: Record<string, unknown> = {};

function lcg(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** Median wall time (ms) of `fn`, which must wait for the result (await data()). */
async function time(fn: () => Promise<void>, reps: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function readAndDispose(t: tf.Tensor): Promise<void> {
  await t.data();
  t.dispose();
}

function composedSoftmin(x: tf.Tensor2D, y: tf.Tensor2D, h: tf.Tensor1D, eps: number): tf.Tensor1D {
  return tf.tidy(() => {
    const c = tf.div(tf.sum(tf.square(tf.sub(tf.expandDims(x, 1), tf.expandDims(y, 0))), -1), 2); // N×M
    return tf.mul(tf.logSumExp(tf.sub(h, tf.div(c, eps)), -1), -eps) as tf.Tensor1D;
  });
}

async function benchBackend(name: BackendName, handle: ComputeHandle): Promise<void> {
  const gpu = name === 'webgpu';
  const software = handle.adapterInfo?.software ?? false;
  const fast = gpu && !software;
  // matMul
  for (const size of fast ? [256, 1024, 2048] : [128, 256]) {
    const a = tf.tensor2d(lcg(size * size, 1), [size, size]);
    const b = tf.tensor2d(lcg(size * size, 2), [size, size]);
    const ms = await time(() => readAndDispose(tf.matMul(a, b)), fast ? 10 : 3);
    rows.push({
      backend: name,
      case: `matMul ${size}×${size}×${size}`,
      ms,
      throughput: `${((2 * size ** 3) / ms / 1e6).toFixed(2)} GFLOP/s`,
    });
    tf.dispose([a, b]);
  }
  // fused vs composed soft-min, same inputs, same run
  const sizes = fast ? [1024, 4096] : gpu ? [512] : [256, 1024];
  for (const n of sizes) {
    const d = 3;
    const x = tf.tensor2d(lcg(n * d, 3), [n, d]);
    const y = tf.tensor2d(lcg(n * d, 4), [n, d]);
    const h = tf.tensor1d(lcg(n, 5));
    const reps = fast ? 10 : 3;
    const fused = await time(() => readAndDispose(softmin(x, y, h, 0.05)), reps);
    const composed = await time(() => readAndDispose(composedSoftmin(x, y, h, 0.05)), reps);
    const pairs = n * n;
    rows.push({
      backend: name,
      case: `softmin fused N=M=${n} D=3`,
      ms: fused,
      throughput: `${(pairs / fused / 1e3).toFixed(1)} Mpairs/s`,
    });
    rows.push({
      backend: name,
      case: `softmin composed N=M=${n} D=3`,
      ms: composed,
      throughput: `${(pairs / composed / 1e3).toFixed(1)} Mpairs/s`,
      note: `composed time / fused time = ${(composed / fused).toFixed(2)}`,
    });
    tf.dispose([x, y, h]);
  }
  // roundToFloat16 against the previous composition, same inputs (values over binary16's whole range), same run.
  for (const n of fast ? [1 << 20, 1 << 22] : [1 << 12, 1 << 18]) {
    const x = tf.tidy(() => tf.mul(tf.tensor1d(lcg(n, 9)), 70000));
    const reps = fast ? 10 : 5;
    const now = await time(() => readAndDispose(roundToFloat16(x)), reps);
    const before = await time(() => readAndDispose(roundValuesOld(x)), reps);
    rows.push({
      backend: name,
      case: `roundToFloat16 n=${n}`,
      ms: now,
      throughput: `${(n / now / 1e3).toFixed(1)} Mvalues/s`,
      note: `previous composition (bench/fp16-legacy.ts) time / this time = ${(before / now).toFixed(2)}`,
    });
    x.dispose();
  }
  if (gpu) {
    // Largest buffer at N = M = 10^5 in 3-D (hardware), or a smaller N on a software adapter.
    const n = software ? 10_000 : 100_000;
    const d = 3;
    const x = tf.tensor2d(lcg(n * d, 6), [n, d]);
    const y = tf.tensor2d(lcg(n * d, 7), [n, d]);
    const h = tf.tensor1d(lcg(n, 8));
    const sums = [tf.sum(x), tf.sum(y), tf.sum(h)]; // uploads the inputs
    await Promise.all(sums.map((t) => t.data()));
    tf.dispose(sums);
    // First run after the reset: every buffer it needs is newly created (none of that size is pooled yet).
    handle.resetBufferStats();
    await readAndDispose(softmin(x, y, h, 0.05));
    const stats = handle.bufferStats();
    const reps = software ? 1 : 5;
    const ms = await time(() => readAndDispose(softmin(x, y, h, 0.05)), reps, 0);
    if (!software) {
      for (const workgroupSize of [128, 256]) {
        const t = await time(() => readAndDispose(softmin(x, y, h, 0.05, 2, { workgroupSize })), reps);
        rows.push({
          backend: name,
          case: `softmin fused N=M=${n} D=3 workgroup ${workgroupSize}`,
          ms: t,
          throughput: `${((n * n) / t / 1e6).toFixed(3)} Gpairs/s`,
          note: `time relative to workgroup 64: ${(t / ms).toFixed(2)}`,
        });
      }
    }
    const nm = n * n * 4;
    const ok = stats.largestBytes < nm;
    extra.largestBuffer = { n, m: n, d, software, largestBytes: stats.largestBytes, nTimesMBytes: nm, ok };
    rows.push({
      backend: name,
      case: `softmin fused N=M=${n} D=3${software ? ' (software adapter: reduced N)' : ''}`,
      ms,
      throughput: `${((n * n) / ms / 1e6).toFixed(3)} Gpairs/s`,
      note: `largest buffer ${stats.largestBytes} B vs N×M×4 = ${nm} B: ${ok ? 'no N×M buffer' : 'N×M BUFFER ALLOCATED'}`,
    });
    tf.dispose([x, y, h]);
  }
}

async function main(): Promise<void> {
  const wanted = (process.env.BENCH_BACKENDS ?? 'cpu,wasm,webgpu').split(',') as BackendName[];
  for (const name of wanted) {
    let handle: ComputeHandle;
    try {
      handle = await initCompute({ backend: name, allowSoftwareAdapter: true, registerGradients: false });
    } catch (err) {
      console.log(`${name}: unavailable (${(err as Error).message.split('. ')[0]})`);
      continue;
    }
    if (handle.adapterInfo) {
      const info = handle.adapterInfo;
      console.log(
        `webgpu adapter: ${describeAdapter(info)} [vendor ${info.vendor}, architecture ${info.architecture}]`,
      );
      if (info.software) console.log('  (software adapter: GPU sizes reduced; figures are not GPU performance)');
      extra.adapter = info;
    }
    await benchBackend(name, handle);
    await handle.dispose();
  }
  const w = Math.max(...rows.map((r) => r.case.length));
  console.log(`\n${'backend'.padEnd(8)} ${'case'.padEnd(w)} ${'median ms'.padStart(10)}  throughput`);
  for (const r of rows) {
    console.log(
      `${r.backend.padEnd(8)} ${r.case.padEnd(w)} ${r.ms.toFixed(2).padStart(10)}  ${r.throughput}${r.note ? `  (${r.note})` : ''}`,
    );
  }
  if (process.env.BENCH_OUT) {
    writeFileSync(process.env.BENCH_OUT, `${JSON.stringify({ rows, ...extra, node: process.version }, null, 2)}\n`);
  }
  const lb = extra.largestBuffer as { ok: boolean } | undefined;
  if (lb && !lb.ok) process.exitCode = 1;
}

await main();
