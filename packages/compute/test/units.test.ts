// Pure parts: dispatch folding, adapter classification and no-adapter diagnosis, error messages, argument checks.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  ComputeError,
  DeviceLostError,
  diagnoseNoAdapter,
  dispatchSize,
  foldDispatch,
  InvalidArgumentError,
  initCompute,
  LimitExceededError,
  NoAdapterError,
  NoVulkanLoaderError,
  softmin,
  softminBatched,
  softminUserCode,
  softminVariant,
  summarizeAdapter,
} from '../src/index.ts';
import { propertyRuns } from '../src/testing.ts';

describe('foldDispatch', () => {
  test('property: covers the count, respects the per-dimension limit, wastes less than one row', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (max, frac) => {
        const count = Math.floor(frac * max ** 3);
        const d = foldDispatch(count, max);
        expect(d.every((v) => v <= Math.max(max, 0) && v >= 0)).toBe(true);
        expect(dispatchSize(d)).toBeGreaterThanOrEqual(count);
        expect(dispatchSize(d) - count).toBeLessThan(Math.max(d[0] * d[1], 1));
      }),
      { numRuns: propertyRuns(100) },
    );
  });

  test('named cases: 1-D below the limit, 2-D and 3-D above it, too large throws', () => {
    expect(foldDispatch(65_535)).toEqual([65_535, 1, 1]);
    expect(foldDispatch(65_536)).toEqual([65_535, 2, 1]);
    expect(foldDispatch(0)).toEqual([0, 1, 1]);
    expect(foldDispatch(950, 10)).toEqual([10, 10, 10]);
    expect(foldDispatch(101, 10)).toEqual([10, 10, 2]);
    expect(() => foldDispatch(1001, 10)).toThrow(/exceeds 10\^3/);
    expect(() => foldDispatch(-1)).toThrow(ComputeError);
  });
});

describe('adapters', () => {
  test('lavapipe, SwiftShader and fallback adapters are software; a discrete GPU is not', () => {
    const lavapipe = summarizeAdapter({
      info: {
        vendor: 'mesa',
        architecture: 'software',
        device: 'llvmpipe-llvm-15',
        description: 'llvmpipe: Mesa 25.0.7',
      },
    });
    expect(lavapipe.software).toBe(true);
    expect(summarizeAdapter({ info: { vendor: 'google', device: 'SwiftShader Device (Subzero)' } }).software).toBe(
      true,
    );
    expect(summarizeAdapter({ info: { vendor: 'x', isFallbackAdapter: true } })).toMatchObject({
      isFallbackAdapter: true,
      software: true,
    });
    expect(summarizeAdapter({ isFallbackAdapter: true }).software).toBe(true);
    const nvidia = summarizeAdapter({
      info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' },
    });
    expect(nvidia).toEqual({
      vendor: 'nvidia',
      architecture: 'hopper',
      device: '',
      description: 'NVIDIA H100 80GB HBM3',
      isFallbackAdapter: false,
      software: false,
    });
  });

  test('no adapter and no libvulkan.so.1 on Linux: NoVulkanLoaderError with the install commands', () => {
    const err = diagnoseNoAdapter({ platform: 'linux', exists: () => false, env: {} });
    expect(err).toBeInstanceOf(NoVulkanLoaderError);
    expect(err.code).toBe('NO_VULKAN_LOADER');
    expect(err.message).toMatch(/libvulkan\.so\.1/);
    expect(err.message).toMatch(/bash scripts\/install-software-vulkan\.sh/);
    expect(err.message).toMatch(/mesa-vulkan-drivers/);
  });

  test('no adapter with the loader present: NoAdapterError naming VK_ICD_FILENAMES', () => {
    const loader = '/usr/lib/x86_64-linux-gnu/libvulkan.so.1';
    const err = diagnoseNoAdapter({
      platform: 'linux',
      exists: (p) => p === loader,
      env: { VK_ICD_FILENAMES: '/nope.json' },
    });
    expect(err).toBeInstanceOf(NoAdapterError);
    expect(err.message).toMatch(/VK_ICD_FILENAMES=\/nope\.json does not exist/);
    expect(err.message).toMatch(/allowSoftwareAdapter: true/);
    const viaLdPath = diagnoseNoAdapter({
      platform: 'linux',
      exists: (p) => p === '/opt/vk/libvulkan.so.1',
      env: { LD_LIBRARY_PATH: '/opt/vk' },
    });
    expect(viaLdPath).toBeInstanceOf(NoAdapterError);
    expect(diagnoseNoAdapter({ platform: 'darwin', exists: () => false, env: {} })).toBeInstanceOf(NoAdapterError);
  });

  test('limit and device-lost errors say what to do', () => {
    const limit = new LimitExceededError('maxStorageBufferBindingSize', 200, 100, 'softmin input x [1, 50]');
    expect(limit.message).toMatch(/softmin input x \[1, 50\] needs a buffer of 200 bytes .* is 100 bytes\. Fix: split/);
    const lost = new DeviceLostError('destroyed', 'Device was destroyed.');
    expect(lost.message).toMatch(/lost \(reason: destroyed.*Fix: call handle\.dispose\(\) and initCompute\(\) again/);
  });
});

describe('WGSL generation', () => {
  test('variants: p selects the cost, small D is tiled, large D or an oversized tile is generic', () => {
    expect(softminVariant(2, 3)).toEqual({ cost: 'p2', tiledDim: 3, workgroupSize: 64 });
    expect(softminVariant(1, 33)).toEqual({ cost: 'p1', tiledDim: undefined, workgroupSize: 64 });
    expect(softminVariant(1.5, 32, 256).tiledDim).toBeUndefined(); // 256·33·4 bytes > 16 KiB
    expect(softminUserCode(softminVariant(2, 3))).toMatch(/var<workgroup> tileY : array<f32, 192>/);
    expect(softminUserCode(softminVariant(1.5, 40))).toMatch(/pow\(r, uniforms\.p\)/);
  });
});

describe('softmin arguments (cpu backend)', () => {
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
  });

  test('bad shapes, dtypes and parameters throw InvalidArgumentError naming the problem', () => {
    const x = tf.zeros([3, 2]) as tf.Tensor2D;
    const y = tf.zeros([4, 2]) as tf.Tensor2D;
    const h = tf.zeros([4]) as tf.Tensor1D;
    const cases: Array<[() => unknown, RegExp]> = [
      [() => softmin(x, y, h, 0), /eps must be a finite number > 0, got 0/],
      [() => softmin(x, y, h, Number.NaN), /eps must be/],
      [() => softmin(x, y, h, 0.1, 0), /p must be a finite number > 0/],
      [() => softmin(x, tf.zeros([4, 3]) as tf.Tensor2D, h, 0.1), /same point dimension, got 2 and 3/],
      [() => softmin(x, y, tf.zeros([5]) as tf.Tensor1D, 0.1), /h must have shape \[1, 4\], got \[1, 5\]/],
      [() => softmin(x, y, tf.zeros([4], 'int32') as tf.Tensor1D, 0.1), /h must be float32, got int32/],
      [() => softmin(tf.zeros([3]) as unknown as tf.Tensor2D, y, h, 0.1), /x must have rank 2, got shape \[3\]/],
      [() => softmin(x, y, h, 0.1, 2, { workgroupSize: 300 }), /workgroupSize must be an integer in \[1, 256\]/],
      [
        () =>
          softminBatched(
            tf.zeros([2, 3, 1]) as tf.Tensor3D,
            tf.zeros([3, 3, 1]) as tf.Tensor3D,
            tf.zeros([3, 3]) as tf.Tensor2D,
            0.1,
          ),
        /same batch size, got 2 and 3/,
      ],
    ];
    for (const [fn, message] of cases) {
      expect(fn).toThrow(InvalidArgumentError);
      expect(fn).toThrow(message);
    }
    tf.disposeVariables();
  });

  test('softmin has no gradient: tf.grad through it throws (callers differentiate through potentials)', () => {
    const y = tf.zeros([4, 1]) as tf.Tensor2D;
    const h = tf.zeros([4]) as tf.Tensor1D;
    const g = tf.grad((x: tf.Tensor) => tf.sum(softmin(x as tf.Tensor2D, y, h, 0.1)));
    expect(() => g(tf.ones([2, 1]))).toThrow(/gradient function not found for FairclipSoftmin/);
  });
});
