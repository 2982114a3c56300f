/**
 * '@fairclip/compute/testing': helpers for vitest suites of every package that runs on tensors.
 *
 *  - forEachBackend(fn): one `describe` per backend (cpu, wasm, webgpu); the webgpu suite is skipped only when no
 *    adapter exists AND REQUIRE_WEBGPU is not '1' (then it fails with the reason). Software adapters are used.
 *  - testEpsilon(backend): tolerance from the backend's float precision.
 *  - expectAllClose: elementwise |a − e| ≤ atol + rtol·|e|, NaN and ±∞ must match exactly.
 *  - leak checks: tf.memory().numTensors and tfjs' in-use GPU buffers unchanged.
 *  - float64 references of the conformance ops.
 *
 * Imports vitest: only for test code.
 */
/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';
import type { ComputeError } from './errors.ts';
import { type BackendName, type ComputeHandle, initCompute, probeWebGPU } from './init.ts';
import { costFromSquaredDistance } from './softmin-cpu.ts';

export { erfRef, geluRef, layerNormRef, logSumExpRef, matMulRef, quickGeluRef, softmaxRef } from './reference.ts';
export { softminOnlineF64 } from './softmin-cpu.ts';

export const ALL_BACKENDS: readonly BackendName[] = ['cpu', 'wasm', 'webgpu'];

/** REQUIRE_WEBGPU=1 turns "no WebGPU adapter" from a skip into a failure (CI sets it). */
export function webgpuRequired(): boolean {
  return typeof process !== 'undefined' && process.env.REQUIRE_WEBGPU === '1';
}

/** Backends usable here: cpu and wasm always, webgpu when an adapter (software included) exists. */
export async function availableBackends(): Promise<BackendName[]> {
  const probe = await probeWebGPU();
  return probe.adapterInfo ? ['cpu', 'wasm', 'webgpu'] : ['cpu', 'wasm'];
}

/**
 * Relative tolerance for composed float32 ops, derived from the backend's precision as tfjs does (testEpsilon()
 * in tfjs-core/src/test_util.ts): 1e-3 for 32-bit float backends, 1e-1 for 16-bit ones. float32's unit roundoff
 * is 2^-24 ≈ 6e-8; a reduction over L terms accumulates up to ~L·u (6e-4 at L = 10^4) and GPU exp/log are a few
 * ULP, so 1e-3 bounds the ops and sizes of this project's tests while still catching wrong formulas.
 */
export function testEpsilon(backend?: BackendName): number {
  const precision = backend === undefined || backend === tf.getBackend() ? tf.backend().floatPrecision() : 32;
  return precision === 32 ? 1e-3 : 1e-1;
}

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  label?: string;
}

/** Elementwise closeness with NaN/±∞ matched exactly; reports the worst element. Uses vitest's expect. */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): void {
  const rtol = opts.rtol ?? testEpsilon();
  const atol = opts.atol ?? rtol;
  const label = opts.label ? `${opts.label}: ` : '';
  expect(actual.length, `${label}length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a) || !Number.isFinite(e) || !Number.isFinite(a)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) {
        expect.fail(`${label}element ${i}: got ${a}, expected ${e}`);
      }
      continue;
    }
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    const a = actual[worst]!;
    const e = expected[worst]!;
    expect.fail(
      `${label}element ${worst} of ${expected.length}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > atol ${atol} + rtol ${rtol}·|e|)`,
    );
  }
  expect(worst, `${label}all close`).toBe(-1);
}

/**
 * fast-check run count for a property, honouring FC_NUM_RUNS: `base` runs by default (FC_NUM_RUNS scales it as
 * FC_NUM_RUNS/100 × base), a third of that on webgpu (shader compiles and dispatches are slow on software adapters).
 */
export function propertyRuns(base: number, suite?: Pick<BackendSuite, 'name'>): number {
  const raw = typeof process !== 'undefined' ? process.env.FC_NUM_RUNS : undefined;
  const scaled = raw ? Math.max(1, Math.round((Number(raw) * base) / 100)) : base;
  return suite?.name === 'webgpu' ? Math.max(1, Math.ceil(scaled / 3)) : scaled;
}

/**
 * Absolute tolerance scale of a soft-min computed in float32: f = −ε·LSE(h − C/ε) is accurate to a few ULP of the
 * largest |C_ij| and |ε·h_j| involved (the cost is formed in float32 before the log-sum-exp), so compare with
 * atol = testEpsilon · softminScale. Returns max(1, max_ij C_ij, max_j ε|h_j|) over finite entries.
 */
export function softminScale(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  h: ArrayLike<number>,
  n: number,
  m: number,
  d: number,
  eps: number,
  p = 2,
): number {
  let scale = 1;
  for (let j = 0; j < m; j++) {
    const eh = Math.abs(eps * h[j]!);
    if (Number.isFinite(eh) && eh > scale) scale = eh;
    for (let i = 0; i < n; i++) {
      let r2 = 0;
      for (let k = 0; k < d; k++) r2 += (x[i * d + k]! - y[j * d + k]!) ** 2;
      const c = costFromSquaredDistance(r2, p);
      if (Number.isFinite(c) && c > scale) scale = c;
    }
  }
  return scale;
}

/** What a leak check compares. gpuBuffersInUse is tfjs-webgpu's count of buffers bound to live tensors. */
export interface ResourceSnapshot {
  numTensors: number;
  gpuBuffersInUse: number | undefined;
}

type WebGPUBackendInternals = {
  bufferManager?: { getNumUsedBuffers(): number };
  submitQueue?: () => void;
  endComputePassEncoder?: () => void;
  ensureCommandEncoderReady?: () => void;
  device?: GPUDevice;
};

/** Current tensor count and (on webgpu) in-use GPU buffer count, after flushing pending disposals. */
export async function snapshotResources(): Promise<ResourceSnapshot> {
  const backend = tf.backend() as unknown as WebGPUBackendInternals;
  if (backend.bufferManager && backend.device) {
    // Submitting releases the buffers of tensors disposed while GPU work was still queued.
    backend.endComputePassEncoder?.();
    backend.ensureCommandEncoderReady?.();
    backend.submitQueue?.();
    await backend.device.queue.onSubmittedWorkDone();
  }
  return { numTensors: tf.memory().numTensors, gpuBuffersInUse: backend.bufferManager?.getNumUsedBuffers() };
}

/** Asserts that nothing leaked since `before`. */
export async function expectNoLeaks(before: ResourceSnapshot, label = ''): Promise<void> {
  const after = await snapshotResources();
  expect(after.numTensors, `${label}tensors leaked (tf.memory().numTensors)`).toBe(before.numTensors);
  expect(after.gpuBuffersInUse, `${label}GPU buffers leaked (in use by tfjs-webgpu)`).toBe(before.gpuBuffersInUse);
}

/** Runs fn and asserts it leaves no tensors or GPU buffers behind; returns fn's result (which must not be a tensor). */
export async function withLeakCheck<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = await snapshotResources();
  const result = await fn();
  await expectNoLeaks(before);
  return result;
}

/** Passed to a forEachBackend body; `handle` is valid inside tests and hooks (after the suite's beforeAll). */
export interface BackendSuite {
  readonly name: BackendName;
  readonly handle: ComputeHandle;
  /** testEpsilon of this backend. */
  readonly epsilon: number;
  /** true for webgpu on a software adapter (lavapipe): keep sizes small. */
  readonly software: boolean;
}

export interface ForEachBackendOptions {
  /** Default: all of cpu, wasm, webgpu. */
  backends?: readonly BackendName[];
  /** Check numTensors / GPU buffers around every test (default true). */
  leakCheck?: boolean;
  /**
   * Run every webgpu op on the GPU (default true): tfjs-webgpu otherwise forwards ops on small CPU-resident inputs
   * to its CPU kernels (flag WEBGPU_CPU_FORWARD), so a small-shape test would not exercise the GPU at all.
   */
  gpuOnly?: boolean;
}

/**
 * Declares one `describe('backend:<name>')` per backend and calls `fn` inside each. The backend is initialised in
 * beforeAll (initCompute, software adapters allowed), made active before each test, and disposed in afterAll.
 */
export function forEachBackend(fn: (suite: BackendSuite) => void, options: ForEachBackendOptions = {}): void {
  const backends = options.backends ?? ALL_BACKENDS;
  const leakCheck = options.leakCheck ?? true;
  const gpuOnly = options.gpuOnly ?? true;
  for (const name of backends) {
    describe(`backend:${name}`, () => {
      let handle: ComputeHandle | undefined;
      let skipReason: string | undefined;
      let snapshot: ResourceSnapshot | undefined;
      let savedCpuForward: boolean | undefined;
      const suite: BackendSuite = {
        name,
        get handle(): ComputeHandle {
          if (!handle) throw new Error(`backend ${name} is not initialised (use suite.handle inside tests or hooks)`);
          return handle;
        },
        get epsilon() {
          return testEpsilon(name);
        },
        get software() {
          return handle?.adapterInfo?.software ?? false;
        },
      };
      beforeAll(async () => {
        try {
          handle = await initCompute({ backend: name, allowSoftwareAdapter: true });
          if (name === 'webgpu' && gpuOnly) {
            savedCpuForward = tf.env().getBool('WEBGPU_CPU_FORWARD');
            tf.env().set('WEBGPU_CPU_FORWARD', false);
          }
        } catch (err) {
          const code = (err as ComputeError).code;
          const noAdapter = code === 'NO_ADAPTER' || code === 'NO_VULKAN_LOADER' || code === 'WEBGPU_UNAVAILABLE';
          if (name === 'webgpu' && noAdapter) {
            if (webgpuRequired()) {
              throw new Error(`REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${(err as Error).message}`, { cause: err });
            }
            skipReason = `no WebGPU adapter (set REQUIRE_WEBGPU=1 to fail instead): ${(err as Error).message}`;
            console.warn(`[forEachBackend] skipping webgpu: ${skipReason}`);
            return;
          }
          throw err;
        }
      });
      beforeEach(async (ctx) => {
        if (skipReason !== undefined) {
          ctx.skip(skipReason);
          return;
        }
        if (tf.getBackend() !== name) await tf.setBackend(name);
        if (leakCheck) snapshot = await snapshotResources();
      });
      afterEach(async (ctx) => {
        if (!leakCheck || snapshot === undefined || skipReason !== undefined) return;
        const before = snapshot;
        snapshot = undefined;
        if (ctx.task.result?.state === 'fail') return; // don't pile a leak report on a failure
        await expectNoLeaks(before, `${ctx.task.name}: `);
      });
      afterAll(async () => {
        if (savedCpuForward !== undefined) tf.env().set('WEBGPU_CPU_FORWARD', savedCpuForward);
        await handle?.dispose();
        handle = undefined;
      });
      fn(suite);
    });
  }
}
