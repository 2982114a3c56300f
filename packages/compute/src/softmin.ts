/**
 * Fused online soft-min over an implicit cost, as a tfjs op backed by the 'FairclipSoftmin' kernel:
 *
 *   f_i = −ε · log Σ_j exp(h_j − C(x_i, y_j) / ε),   C(x, y) = |x − y|^p / p   (|·| Euclidean)
 *
 * computed without materialising the N×M cost matrix (WGSL on webgpu, float64 JS on cpu/wasm).
 *
 * Not differentiable: no gradient is registered for the kernel, so tf.grad through softmin throws. Callers (the OT
 * package) build gradients from the converged potentials (envelope theorem), as geomloss does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ComputeError, InvalidArgumentError } from './errors.ts';
import { kernelsRegistered, registerKernels, SOFTMIN_KERNEL, type SoftminKernelAttrs } from './kernels.ts';
import { checkSoftminParams } from './softmin-cpu.ts';
import { DEFAULT_WORKGROUP_SIZE } from './softmin-webgpu.ts';

export interface SoftminOptions {
  /** WebGPU workgroup size, 1–256 (default 64). Only for tuning and tests; ignored on cpu/wasm. */
  workgroupSize?: number;
}

function ensureKernels(): void {
  const backend = tf.getBackend();
  if (kernelsRegistered(backend)) return;
  registerKernels();
  if (!kernelsRegistered(backend)) {
    throw new ComputeError(
      'KERNELS_NOT_REGISTERED',
      `softmin has no kernel for the active tfjs backend '${backend}'. Fix: call initCompute({ backend: 'webgpu' | 'wasm' | 'cpu' }) first.`,
    );
  }
}

function checkFloat(name: string, t: tf.Tensor, rank: number): void {
  if (!(t instanceof tf.Tensor)) throw new InvalidArgumentError(`softmin: ${name} must be a tf.Tensor`);
  if (t.rank !== rank)
    throw new InvalidArgumentError(`softmin: ${name} must have rank ${rank}, got shape [${t.shape.join(', ')}]`);
  if (t.dtype !== 'float32') throw new InvalidArgumentError(`softmin: ${name} must be float32, got ${t.dtype}`);
}

/**
 * Batched soft-min: x [B,N,D], y [B,M,D], h [B,M] → f [B,N] with f[b,i] = −ε log Σ_j exp(h[b,j] − C(x[b,i], y[b,j])/ε).
 * M = 0 gives +∞ (empty sum); D = 0 gives C = 0.
 */
export function softminBatched(
  x: tf.Tensor3D,
  y: tf.Tensor3D,
  h: tf.Tensor2D,
  eps: number,
  p = 2,
  options: SoftminOptions = {},
): tf.Tensor2D {
  checkFloat('x', x, 3);
  checkFloat('y', y, 3);
  checkFloat('h', h, 2);
  checkSoftminParams(eps, p);
  const [b, n, d] = x.shape;
  const [by, m, dy] = y.shape;
  if (by !== b) throw new InvalidArgumentError(`softmin: x and y must have the same batch size, got ${b} and ${by}`);
  if (dy !== d)
    throw new InvalidArgumentError(`softmin: x and y must have the same point dimension, got ${d} and ${dy}`);
  if (h.shape[0] !== b || h.shape[1] !== m) {
    throw new InvalidArgumentError(`softmin: h must have shape [${b}, ${m}], got [${h.shape.join(', ')}]`);
  }
  const workgroupSize = options.workgroupSize ?? DEFAULT_WORKGROUP_SIZE;
  if (!(Number.isInteger(workgroupSize) && workgroupSize >= 1 && workgroupSize <= 256)) {
    throw new InvalidArgumentError(`softmin: workgroupSize must be an integer in [1, 256], got ${workgroupSize}`);
  }
  if (b === 0 || n === 0) return tf.zeros([b, n]);
  if (m === 0) return tf.fill([b, n], Number.POSITIVE_INFINITY);
  ensureKernels();
  const attrs: SoftminKernelAttrs = { eps, p, workgroupSize };
  const run = (xs: tf.Tensor3D, ys: tf.Tensor3D) =>
    tf.engine().runKernel(SOFTMIN_KERNEL, { x: xs, y: ys, h }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  if (d === 0) {
    // All points coincide: C = 0. One zero coordinate gives the same costs without empty buffers.
    return tf.tidy(() => run(tf.zeros([b, n, 1]), tf.zeros([b, m, 1])));
  }
  return run(x, y);
}

/** Soft-min of one problem: x [N,D], y [M,D], h [M] → f [N]. See softminBatched. */
export function softmin(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  h: tf.Tensor1D,
  eps: number,
  p = 2,
  options: SoftminOptions = {},
): tf.Tensor1D {
  checkFloat('x', x, 2);
  checkFloat('y', y, 2);
  checkFloat('h', h, 1);
  return tf.tidy(() => {
    const out = softminBatched(
      tf.expandDims(x, 0) as tf.Tensor3D,
      tf.expandDims(y, 0) as tf.Tensor3D,
      tf.expandDims(h, 0) as tf.Tensor2D,
      eps,
      p,
      options,
    );
    return tf.squeeze(out, [0]) as tf.Tensor1D;
  });
}
