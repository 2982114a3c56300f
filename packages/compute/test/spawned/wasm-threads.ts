// Spawned by wasm-threads.test.ts (node --import tsx): initialises the wasm backend with the thread count named on
// the command line ('default' reads FAIRCLIP_WASM_THREADS or the cores; 'no-sab' first removes SharedArrayBuffer, as
// a runtime without WebAssembly threads), runs matrix products (one with a transposed operand, as in backprop) and a convolution of odd sizes (split
// unevenly between threads), and prints one JSON line: the handle's threads and reasons, and each result's largest
// difference from a float64 plain-JS reference. The test also checks that the process then exits by itself.
import * as tf from '@tensorflow/tfjs-core';
import { initCompute } from '../../src/index.ts';

const mode = process.argv[2] ?? 'default';
// 'switch': start with 1 thread, remove the backend, then run the checks on a new backend with 2 threads.
if (mode === 'switch') {
  const first = await initCompute({ backend: 'wasm', wasmThreads: 1 });
  const t = tf.tensor1d([1, 2, 3]);
  console.log(JSON.stringify({ first: first.wasmThreads, values: Array.from(await tf.mul(t, 2).data()) }));
  tf.removeBackend('wasm');
}
if (mode === 'no-sab') delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
const wasmThreads = /^\d+$/.test(mode) ? Number(mode) : mode === 'switch' ? 2 : undefined;
const handle = await initCompute({ backend: 'wasm', ...(wasmThreads !== undefined ? { wasmThreads } : {}) });

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function maxDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}

// (m×k)·(k×n), shapes that split unevenly.
const [m, k, n] = [67, 129, 45];
const a = values(m * k, 1);
const b = values(k * n, 2);
const prod = new Float64Array(m * n);
for (let i = 0; i < m; i++)
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
    prod[i * n + j] = s;
  }
const at = tf.tensor2d(a, [m, k]);
const bt = tf.tensor2d(b, [k, n]);
const matMul = maxDiff(await tf.matMul(at, bt).data(), prod);

// The gradient of sum(a·b) with respect to a, as backprop computes it: 1·bᵀ (a product with a transposed operand),
// whose every row holds the row sums of b.
const rowSums = Array.from({ length: k }, (_, p) => {
  let s = 0;
  for (let j = 0; j < n; j++) s += b[p * n + j]!;
  return s;
});
const grad = tf.matMul(tf.ones([m, n]), bt, false, true);
const gradient = maxDiff(
  await grad.data(),
  Array.from({ length: m * k }, (_, i) => rowSums[i % k]!),
);

// 3×3 'valid' convolution, NHWC, batch 3, 13×11 pixels, 5 → 7 channels.
const [batch, h, w, cin, cout] = [3, 13, 11, 5, 7];
const x = values(batch * h * w * cin, 3);
const f = values(3 * 3 * cin * cout, 4);
const conv = new Float64Array(batch * (h - 2) * (w - 2) * cout);
for (let bi = 0; bi < batch; bi++)
  for (let y = 0; y < h - 2; y++)
    for (let xx = 0; xx < w - 2; xx++)
      for (let o = 0; o < cout; o++) {
        let s = 0;
        for (let dy = 0; dy < 3; dy++)
          for (let dx = 0; dx < 3; dx++)
            for (let c = 0; c < cin; c++)
              s += x[((bi * h + y + dy) * w + xx + dx) * cin + c]! * f[((dy * 3 + dx) * cin + c) * cout + o]!;
        conv[((bi * (h - 2) + y) * (w - 2) + xx) * cout + o] = s;
      }
const convDiff = maxDiff(
  await tf.conv2d(tf.tensor4d(x, [batch, h, w, cin]), tf.tensor4d(f, [3, 3, cin, cout]), 1, 'valid').data(),
  conv,
);

console.log(
  JSON.stringify({
    backend: handle.backend,
    wasmThreads: handle.wasmThreads,
    fallbackReasons: handle.fallbackReasons,
    maxDiff: { matMul, gradient, conv2d: convDiff },
  }),
);
// No explicit exit: the test checks that the process ends by itself (the pool's workers must not keep it alive).
