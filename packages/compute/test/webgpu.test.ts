// WebGPU-only checks: every WGSL module we ship compiles on the adapter; dispatches beyond 65,535 workgroups fold
// into 2-D grids and still cover every row; the fused soft-min never allocates an N×M buffer (while the composed
// version does); tensors over the binding limit raise LimitExceededError before touching the GPU.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, test } from 'vitest';
import {
  foldDispatch,
  LimitExceededError,
  softmin,
  softminBatched,
  softminReference,
  TILED_MAX_DIM,
} from '../src/index.ts';
import { expectAllClose, forEachBackend, softminScale } from '../src/testing.ts';
import { lcgArray } from './fixtures.ts';

forEachBackend(
  (suite) => {
    const modules: Array<{ label: string; module: GPUShaderModule; code: string }> = [];
    beforeAll(() => {
      const device = suite.handle.device!;
      const create = device.createShaderModule.bind(device);
      device.createShaderModule = (descriptor: GPUShaderModuleDescriptor) => {
        const module = create(descriptor);
        modules.push({ label: descriptor.label ?? '', module, code: descriptor.code });
        return module;
      };
    });

    test('every soft-min WGSL variant compiles without errors or warnings (createShaderModule + getCompilationInfo)', async () => {
      const device = suite.handle.device!;
      const start = modules.length;
      const variants: Array<{ p: number; d: number; workgroupSize: number }> = [];
      // cost variant × (tiled, generic), tiled edge dimensions, workgroup sizes (256 × 16 dims is the largest tile).
      for (const p of [2, 1, 1.5]) {
        for (const d of [3, TILED_MAX_DIM + 1]) variants.push({ p, d, workgroupSize: 64 });
      }
      variants.push({ p: 2, d: 1, workgroupSize: 64 }, { p: 2, d: TILED_MAX_DIM, workgroupSize: 64 });
      variants.push({ p: 2, d: 3, workgroupSize: 1 }, { p: 2, d: 15, workgroupSize: 256 });
      device.pushErrorScope('validation');
      for (const v of variants) {
        const out = tf.tidy(() =>
          softmin(
            tf.ones([3, v.d]) as tf.Tensor2D,
            tf.ones([5, v.d]) as tf.Tensor2D,
            tf.zeros([5]) as tf.Tensor1D,
            0.5,
            v.p,
            {
              workgroupSize: v.workgroupSize,
            },
          ),
        );
        await out.data();
        out.dispose();
      }
      expect(await device.popErrorScope()).toBeNull();
      expect(suite.handle.takeErrors()).toEqual([]);
      const ours = modules.slice(start).filter((m) => m.label === 'SoftminProgram');
      expect(ours.length).toBe(variants.length); // one pipeline per variant: the cache key separates them
      for (const m of ours) {
        const info = await m.module.getCompilationInfo();
        const problems = info.messages.filter((msg) => msg.type === 'error' || msg.type === 'warning');
        expect(problems.map((msg) => `${msg.type} line ${msg.lineNum}: ${msg.message}`)).toEqual([]);
      }
    });

    test('a dispatch over 65,535 workgroups folds into a 2-D grid and covers every row (workgroup size 1)', async () => {
      const maxPerDim = suite.handle.limits!.maxComputeWorkgroupsPerDimension!;
      const n = maxPerDim + 4465; // 70,000 rows with 65,535 per dimension
      expect(foldDispatch(n, maxPerDim)[1]).toBe(2);
      const x = Float32Array.from({ length: n }, (_, i) => (i % 1000) / 250 - 2);
      const y = [-1, 0.5, 1.75];
      const h = [0.2, -0.3, 0.1];
      const f = tf.tidy(() =>
        softmin(tf.tensor2d(x, [n, 1]), tf.tensor2d(y, [3, 1]), tf.tensor1d(h), 0.3, 2, { workgroupSize: 1 }),
      );
      const got = await f.data();
      f.dispose();
      const ref = softminReference(x, y, h, n, 3, 1, 0.3, 2);
      expectAllClose(got, ref, {
        rtol: suite.epsilon,
        atol: suite.epsilon * softminScale(x.subarray(0, 1000), y, h, 1000, 3, 1, 0.3),
      });
    });

    test('batched dispatch folds too: B · ⌈N/WG⌉ > 65,535 workgroups', async () => {
      const b = 3;
      const n = 30_000;
      const m = 2;
      const x = lcgArray(b * n, 11);
      const y = lcgArray(b * m, 12);
      const h = lcgArray(b * m, 13);
      const f = tf.tidy(() =>
        softminBatched(tf.tensor3d(x, [b, n, 1]), tf.tensor3d(y, [b, m, 1]), tf.tensor2d(h, [b, m]), 0.1, 2, {
          workgroupSize: 1,
        }),
      );
      const got = await f.data();
      f.dispose();
      for (let k = 0; k < b; k++) {
        const ref = softminReference(
          x.subarray(k * n, (k + 1) * n),
          y.subarray(k * m, (k + 1) * m),
          h.subarray(k * m, (k + 1) * m),
          n,
          m,
          1,
          0.1,
          2,
        );
        expectAllClose(got.subarray(k * n, (k + 1) * n), ref, {
          rtol: suite.epsilon,
          atol: suite.epsilon * 10,
          label: `batch ${k}`,
        });
      }
    });

    test('the fused soft-min allocates no N×M buffer; the composed (materialised) version does', async () => {
      const n = 600;
      const m = 700;
      const d = 3;
      const x = tf.tensor2d(lcgArray(n * d, 1), [n, d]);
      const y = tf.tensor2d(lcgArray(m * d, 2), [m, d]);
      const h = tf.tensor1d(lcgArray(m, 3));
      // Upload the inputs first so that only the kernel's own allocations are measured.
      const sums = [tf.sum(x), tf.sum(y), tf.sum(h)];
      await Promise.all(sums.map((t) => t.data()));
      tf.dispose(sums);
      suite.handle.resetBufferStats();
      const f = softmin(x, y, h, 0.1);
      await f.data();
      const fused = suite.handle.bufferStats().largestBytes;
      suite.handle.resetBufferStats();
      const composed = tf.tidy(() => {
        const c = tf.div(tf.sum(tf.square(tf.sub(tf.expandDims(x, 1), tf.expandDims(y, 0))), -1), 2);
        return tf.mul(tf.logSumExp(tf.sub(h, tf.div(c, 0.1)), -1), -0.1);
      });
      await composed.data();
      const materialised = suite.handle.bufferStats().largestBytes;
      expectAllClose(await f.data(), await composed.data(), { rtol: 1e-3, atol: 1e-3 * 20 });
      expect(fused).toBeLessThan(n * m * 4);
      expect(fused).toBeLessThanOrEqual(Math.max(n, m) * d * 4 + 4096);
      expect(materialised).toBeGreaterThanOrEqual(n * m * 4);
      tf.dispose([x, y, h, f, composed]);
    });

    test('an input over maxStorageBufferBindingSize raises LimitExceededError (before any upload)', () => {
      const max = suite.handle.limits!.maxStorageBufferBindingSize!;
      expect(() => suite.handle.assertFits(max + 4, 'a test buffer')).toThrow(LimitExceededError);
      expect(() => suite.handle.assertFits(max, 'a test buffer')).not.toThrow();
      const d = Math.floor(max / 4) + 1; // one row of x just over the limit (values stay on the CPU until uploaded)
      if (d * 4 > 1.1e9) return; // adapters with multi-GB bindings: the assertFits checks above cover it
      const x = tf.tensor2d(new Float32Array(d), [1, d]); // used as x and y: one host allocation
      const h = tf.zeros([1]) as tf.Tensor1D;
      try {
        expect(() => softmin(x, x, h, 0.1)).toThrow(
          /softmin input x \[1, 1, \d+\] needs a buffer of \d+ bytes.*maxStorageBufferBindingSize.*Fix:/,
        );
      } finally {
        tf.dispose([x, h]);
      }
    });
  },
  { backends: ['webgpu'] },
);
