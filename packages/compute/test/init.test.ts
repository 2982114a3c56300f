// initCompute: backend choice rules, kernel registration (explicit, not at import), handle contents, errors.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import {
  InvalidArgumentError,
  initCompute,
  kernelsRegistered,
  probeWebGPU,
  SOFTMIN_KERNEL,
  SoftwareAdapterRefusedError,
} from '../src/index.ts';
import { webgpuRequired } from '../src/testing.ts';

describe('initCompute', () => {
  test('importing the package registers no kernel (registration happens in initCompute)', () => {
    for (const backend of ['cpu', 'wasm', 'webgpu']) {
      expect(tf.getKernel(SOFTMIN_KERNEL, backend), backend).toBeUndefined();
    }
  });

  test("backend 'cpu' and 'wasm' become tfjs' active backend with the soft-min kernel registered", async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      const handle = await initCompute({ backend });
      expect(handle.backend).toBe(backend);
      expect(tf.getBackend()).toBe(backend);
      expect(kernelsRegistered(backend)).toBe(true);
      expect(handle.device).toBeUndefined();
      expect(handle.bufferStats()).toEqual({ created: 0, live: 0, liveBytes: 0, largestBytes: 0 });
      const t = tf.tensor1d([1, 2, 3]);
      expect(Array.from(await handle.read(t))).toEqual([1, 2, 3]);
      t.dispose();
      await handle.dispose();
    }
  });

  test('an unknown backend name is rejected with the valid choices', async () => {
    await expect(initCompute({ backend: 'webgl' as 'cpu' })).rejects.toThrow(InvalidArgumentError);
    await expect(initCompute({ backend: 'webgl' as 'cpu' })).rejects.toThrow(/'auto', 'webgpu', 'wasm' or 'cpu'/);
  });

  test("'auto' picks a hardware adapter, else wasm (explaining why), never a software adapter unless allowed", async () => {
    const probe = await probeWebGPU();
    const handle = await initCompute({ backend: 'auto' });
    try {
      if (probe.adapterInfo && !probe.adapterInfo.software) {
        expect(handle.backend).toBe('webgpu');
        expect(handle.adapterInfo?.software).toBe(false);
      } else {
        expect(handle.backend).toBe('wasm');
        expect(handle.fallbackReasons[0]).toMatch(probe.adapterInfo ? /software/ : /adapter|Vulkan|WebGPU/);
      }
    } finally {
      await handle.dispose();
    }
  });

  test("'webgpu': adapter info, limits raised to the adapter's maxima, software refused unless allowed", async (ctx) => {
    const probe = await probeWebGPU();
    if (!probe.adapterInfo) {
      if (webgpuRequired()) throw new Error(`REQUIRE_WEBGPU=1 but no adapter: ${probe.reason}`);
      ctx.skip(`no WebGPU adapter: ${probe.reason}`);
      return;
    }
    if (probe.adapterInfo.software) {
      await expect(initCompute({ backend: 'webgpu' })).rejects.toThrow(SoftwareAdapterRefusedError);
      await expect(initCompute({ backend: 'webgpu' })).rejects.toThrow(/allowSoftwareAdapter: true/);
    }
    const handle = await initCompute({ backend: 'webgpu', allowSoftwareAdapter: true });
    try {
      expect(handle.backend).toBe('webgpu');
      expect(tf.getBackend()).toBe('webgpu');
      expect(handle.adapterInfo).toEqual(probe.adapterInfo);
      for (const key of ['maxStorageBufferBindingSize', 'maxBufferSize']) {
        expect(handle.limits?.[key], key).toBe(probe.adapterLimits[key]);
      }
      expect(handle.device).toBeDefined();
      expect(kernelsRegistered('webgpu')).toBe(true);
      const t = tf.fill([4096], 4); // above tfjs-webgpu's CPU hand-off size: runs on the GPU
      const doubled = tf.mul(t, 2);
      expect((await handle.read(doubled)).every((v) => v === 8)).toBe(true);
      expect(handle.bufferStats().created).toBeGreaterThan(0);
      expect(handle.bufferStats().largestBytes).toBeGreaterThanOrEqual(4096 * 4);
      tf.dispose([t, doubled]);
    } finally {
      await handle.dispose();
    }
    expect(tf.findBackendFactory('webgpu') ?? undefined).toBeUndefined();
    await handle.dispose(); // idempotent
  });
});
