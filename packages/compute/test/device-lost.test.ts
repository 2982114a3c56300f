// Device loss during work surfaces as a rejected promise on the pending read and as a thrown DeviceLostError on
// the next soft-min, never as a hang; a new initCompute gives a working device again. (Own file: it destroys the
// device, which vitest isolates per file.)
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { DeviceLostError, initCompute, probeWebGPU, softmin } from '../src/index.ts';
import { webgpuRequired } from '../src/testing.ts';
import { lcgArray } from './fixtures.ts';

test('device lost: pending read rejects, the next kernel throws, re-initialising recovers', async (ctx) => {
  const probe = await probeWebGPU();
  if (!probe.adapterInfo) {
    if (webgpuRequired()) throw new Error(`REQUIRE_WEBGPU=1 but no adapter: ${probe.reason}`);
    ctx.skip(`no WebGPU adapter: ${probe.reason}`);
    return;
  }
  const handle = await initCompute({ backend: 'webgpu', allowSoftwareAdapter: true });
  const n = 2000;
  const x = tf.tensor2d(lcgArray(n * 3, 1), [n, 3]);
  const f = softmin(x, x, tf.zeros([n]) as tf.Tensor1D, 0.1);
  const pending = handle.read(f);
  handle.device!.destroy(); // what a driver reset looks like to WebGPU
  await expect(pending).rejects.toBeInstanceOf(DeviceLostError);
  await expect(pending).rejects.toThrow(
    /device was lost \(reason: destroyed.*Fix: call handle\.dispose\(\) and initCompute\(\) again/,
  );
  expect(await handle.lost).toBeInstanceOf(DeviceLostError);
  expect(() => softmin(x, x, tf.zeros([n]) as tf.Tensor1D, 0.1)).toThrow(DeviceLostError);
  await expect(handle.read(x)).rejects.toBeInstanceOf(DeviceLostError);
  await handle.dispose();

  const again = await initCompute({ backend: 'webgpu', allowSoftwareAdapter: true });
  try {
    const y = tf.tensor2d([[0], [1]]);
    const g = softmin(y, y, tf.zeros([2]) as tf.Tensor1D, 1);
    const values = await again.read(g);
    expect(values[0]).toBeCloseTo(-Math.log(1 + Math.exp(-0.5)), 5);
  } finally {
    await again.dispose();
  }
});
