// Spawned by teardown.test.ts (node --expose-gc --import tsx): the teardown sequence that used to abort the process
// (glibc's tpp.c assertion, std::system_error "Invalid argument" or SIGSEGV): a WebGPU handle is disposed while its
// device object stays referenced (as tfjs and user code may keep it), V8 collects garbage, Dawn's binding polls
// (it does while any of its promises is pending), and WebGPU is initialised again. Exits 0 and prints "teardown ok".
import * as tf from '@tensorflow/tfjs-core';
import { initCompute } from '../../src/index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function collectAndPoll(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 10)); // Dawn's poller runs on setImmediate in between
  }
}

const kept: unknown[] = [];
for (let round = 0; round < 3; round++) {
  const handle = await initCompute({ backend: 'webgpu', allowSoftwareAdapter: true, registerGradients: false });
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const x = tf.fill([4096], 2);
  const y = tf.mul(x, 3);
  const values = await handle.read(y);
  if (!values.every((v) => v === 6)) throw new Error(`round ${round}: wrong result ${values.slice(0, 4)}`);
  tf.dispose([x, y]);
  await handle.dispose();
  kept.push(handle.device); // the device outlives the handle
  // A buffer with a pending mapping keeps the binding polling after the device is gone.
  const buffer = handle.device!.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ });
  buffer.mapAsync(GPUMapMode.READ).catch(() => undefined);
  kept.push(buffer);
  await collectAndPoll();
}
await collectAndPoll();
console.log(`teardown ok (${kept.length} objects kept)`);
