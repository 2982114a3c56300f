// Runnable example: pnpm exec tsx examples/basic.ts   (from packages/compute)
// Picks a backend (a hardware GPU if there is one, else wasm), runs the fused soft-min on two point clouds and
// checks it against the float64 reference.
import * as tf from '@tensorflow/tfjs-core';
import { describeAdapter, initCompute, softmin, softminReference } from '../src/index.ts';

const handle = await initCompute({ backend: 'auto' });
console.log(`backend: ${handle.backend}${handle.adapterInfo ? ` on ${describeAdapter(handle.adapterInfo)}` : ''}`);
for (const reason of handle.fallbackReasons) console.log(`  skipped ${reason.split('. ')[0]}`);

const n = 500;
const m = 400;
const d = 3;
const xs = Float32Array.from({ length: n * d }, () => Math.random());
const ys = Float32Array.from({ length: m * d }, () => Math.random() + 0.5);
const hs = new Float32Array(m).fill(-Math.log(m)); // log of uniform weights

// f_i = −ε log Σ_j exp(h_j − |x_i − y_j|² / (2ε)), without an N×M matrix
const f = softmin(tf.tensor2d(xs, [n, d]), tf.tensor2d(ys, [m, d]), tf.tensor1d(hs), 0.01, 2);
const values = await handle.read(f);
const reference = softminReference(xs, ys, hs, n, m, d, 0.01, 2);
let maxError = 0;
for (let i = 0; i < n; i++) maxError = Math.max(maxError, Math.abs(values[i]! - reference[i]!));
console.log(
  `f[0..3] = ${Array.from(values.slice(0, 3), (v) => v.toFixed(5)).join(', ')}; max |f − f64 reference| = ${maxError.toExponential(2)}`,
);
if (maxError > 1e-3) throw new Error(`softmin disagrees with the reference by ${maxError}`);

tf.disposeVariables();
await handle.dispose();
