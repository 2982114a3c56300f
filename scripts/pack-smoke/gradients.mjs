// Run by scripts/pack-smoke.mjs in a project where the packed packages are installed: an ES module consumer gets
// tfjs-core's gradients from initCompute under plain Node. Usage: node gradients.mjs cpu|wasm
import { initCompute } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import checks from './gradient-checks.cjs';

const backend = process.argv[2] ?? 'cpu';
if (tf.getGradient('Sum') !== undefined) throw new Error('a gradient for Sum was registered before initCompute');
const handle = await initCompute({ backend });
if (handle.backend !== backend) throw new Error(`initCompute gave backend ${handle.backend}, not ${backend}`);
const n = checks.checkGradients(tf);
await handle.dispose();
console.log(`${n} gradients match their closed forms on ${backend}`);
