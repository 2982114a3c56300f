/**
 * tfjs kernel configs of this package. Registration is explicit (registerKernels(), called by initCompute):
 * importing the package registers nothing.
 */

import type { KernelBackend, KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { assertDeviceAlive } from './device-state.ts';
import { LimitExceededError } from './errors.ts';
import { softminOnlineF64 } from './softmin-cpu.ts';
import { DEFAULT_WORKGROUP_SIZE, SoftminProgram, type WebGPUBackendLike } from './softmin-webgpu.ts';

/** Kernel name of the fused soft-min. Inputs x [B,N,D], y [B,M,D], h [B,M]; output [B,N]. */
export const SOFTMIN_KERNEL = 'FairclipSoftmin';

export interface SoftminKernelAttrs {
  eps: number;
  p: number;
  /** WebGPU workgroup size (1–256); ignored on cpu/wasm. */
  workgroupSize: number;
}

function softminShapes(inputs: NamedTensorInfoMap) {
  const x = inputs.x!;
  const y = inputs.y!;
  const h = inputs.h!;
  const [b, n, d] = x.shape as [number, number, number];
  const m = y.shape[1]!;
  return { x, y, h, b, n, m, d };
}

function softminCpuKernel(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as KernelBackend;
  const attrs = args.attrs as unknown as SoftminKernelAttrs;
  const { x, y, h, b, n, m, d } = softminShapes(args.inputs);
  const xv = backend.readSync(x.dataId) as Float32Array;
  const yv = backend.readSync(y.dataId) as Float32Array;
  const hv = backend.readSync(h.dataId) as Float32Array;
  const out = new Float32Array(b * n);
  softminOnlineF64(xv, yv, hv, b, n, m, d, attrs.eps, attrs.p, out);
  const dataId = backend.write(out, [b, n], 'float32');
  return { dataId, shape: [b, n], dtype: 'float32' };
}

function softminWebGPUKernel(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const attrs = args.attrs as unknown as SoftminKernelAttrs;
  const { x, y, h, b, n, m, d } = softminShapes(args.inputs);
  const device = backend.device;
  assertDeviceAlive(device);
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  for (const [name, t] of [
    ['x', x],
    ['y', y],
    ['h', h],
  ] as const) {
    const bytes = t.shape.reduce((a, s) => a * s, 4);
    if (bytes > maxBinding) {
      throw new LimitExceededError(
        'maxStorageBufferBindingSize',
        bytes,
        maxBinding,
        `softmin input ${name} [${t.shape.join(', ')}]`,
      );
    }
  }
  if (b * n * 4 > maxBinding) {
    throw new LimitExceededError('maxStorageBufferBindingSize', b * n * 4, maxBinding, `softmin output [${b}, ${n}]`);
  }
  const program = new SoftminProgram(
    b,
    n,
    d,
    attrs.p,
    attrs.workgroupSize ?? DEFAULT_WORKGROUP_SIZE,
    device.limits.maxComputeWorkgroupsPerDimension,
  );
  return backend.runWebGPUProgram(program, [x, y, h], 'float32', program.uniformData(b, n, m, d, attrs.eps, attrs.p));
}

/** Every kernel config this package provides, per backend. */
export const kernelConfigs: readonly KernelConfig[] = [
  { kernelName: SOFTMIN_KERNEL, backendName: 'cpu', kernelFunc: softminCpuKernel as KernelConfig['kernelFunc'] },
  { kernelName: SOFTMIN_KERNEL, backendName: 'wasm', kernelFunc: softminCpuKernel as KernelConfig['kernelFunc'] },
  { kernelName: SOFTMIN_KERNEL, backendName: 'webgpu', kernelFunc: softminWebGPUKernel as KernelConfig['kernelFunc'] },
];

/** Registers this package's kernels with tfjs (idempotent). initCompute calls it. */
export function registerKernels(): void {
  for (const config of kernelConfigs) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
}

/** Whether this package's kernels are registered for a backend name. */
export function kernelsRegistered(backendName: string): boolean {
  const mine = kernelConfigs.filter((c) => c.backendName === backendName);
  return mine.length > 0 && mine.every((c) => tf.getKernel(c.kernelName, backendName) !== undefined);
}
