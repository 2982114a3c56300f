/**
 * initCompute: picks and initialises a tfjs backend (webgpu on Dawn or the browser's navigator.gpu, wasm, cpu) and
 * registers this package's kernels. See README "Backend choice".
 */
import * as tf from '@tensorflow/tfjs-core';
import { type AdapterInfoSummary, describeAdapter, diagnoseNoAdapter, summarizeAdapter } from './adapter.ts';
import {
  type BufferStats,
  bufferStats,
  deviceLost,
  deviceLostPromise,
  resetBufferStats,
  takeDeviceErrors,
  trackDevice,
} from './device-state.ts';
import {
  BackendUnavailableError,
  ComputeError,
  type DeviceLostError,
  InvalidArgumentError,
  LimitExceededError,
  NoAdapterError,
  SoftwareAdapterRefusedError,
} from './errors.ts';
import { registerKernels } from './kernels.ts';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';

export interface InitComputeOptions {
  /** 'auto' (default): a hardware WebGPU adapter, else wasm, else cpu. */
  backend?: 'auto' | BackendName;
  /** Accept a software adapter (lavapipe/llvmpipe, SwiftShader). Default false. */
  allowSoftwareAdapter?: boolean;
  powerPreference?: 'low-power' | 'high-performance';
  /** Flags for Dawn's `create()` in Node, e.g. ['backend=vulkan'] or ['enable-dawn-features=...']. */
  dawnFlags?: string[];
  /** Dawn adapter name to use in Node (becomes the flag `adapter=<name>`). */
  adapter?: string;
  /**
   * Register tfjs-core's gradient functions (default true). tfjs-core alone registers none, so tf.grad over
   * e.g. tf.sum fails without them; the union package `@tensorflow/tfjs` would do this at import.
   */
  registerGradients?: boolean;
}

export interface ComputeHandle {
  readonly backend: BackendName;
  /** Set for webgpu. */
  readonly adapterInfo?: AdapterInfoSummary;
  /** The device's limits (webgpu only). */
  readonly limits?: Readonly<Record<string, number>>;
  readonly device?: GPUDevice;
  /** Why preferred backends were skipped (backend 'auto'), in order. */
  readonly fallbackReasons: readonly string[];
  /** Resolves with a DeviceLostError if the device is lost (webgpu only; never resolves otherwise). */
  readonly lost: Promise<DeviceLostError>;
  /** Reads a tensor; on webgpu the promise rejects with DeviceLostError if the device is lost first. */
  read<T extends tf.Tensor>(t: T): Promise<tf.backend_util.TypedArray>;
  /** Throws LimitExceededError when a buffer of `bytes` cannot be bound on this device. */
  assertFits(bytes: number, what: string): void;
  /** GPU buffer statistics (zeros off webgpu). */
  bufferStats(): BufferStats;
  resetBufferStats(): void;
  /**
   * Returns and clears the uncaptured WebGPU errors (validation, out-of-memory) seen on the device since the last
   * call: such errors do not throw, the affected commands are skipped. Always [] off webgpu.
   */
  takeErrors(): string[];
  /** Releases the device (webgpu: destroys it and drops Dawn's instance once the last handle is disposed). */
  dispose(): Promise<void>;
}

type WebGPUModule = { create(flags: string[]): GPU; globals: Record<string, unknown> };

interface WebGPUContext {
  gpu: GPU | undefined;
  device: GPUDevice;
  adapterInfo: AdapterInfoSummary;
  limits: Record<string, number>;
  adapterLimits: Record<string, number>;
  refs: number;
  definedNavigatorGpu: boolean;
}

let liveWebGPU: WebGPUContext | undefined;

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
const never = new Promise<DeviceLostError>(() => {});
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function limitsRecord(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  // GPUSupportedLimits keeps its fields as prototype getters: walk the prototype chain.
  let proto: object | null = limits;
  while (proto && proto !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const value = (limits as unknown as Record<string, unknown>)[key];
      if (typeof value === 'number') out[key] = value;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return out;
}

async function loadNodeWebGPU(): Promise<WebGPUModule> {
  const spec = 'webgpu'; // a variable keeps bundlers from pulling Dawn into browser builds
  try {
    return (await import(/* @vite-ignore */ spec)) as WebGPUModule;
  } catch (cause) {
    throw new ComputeError(
      'WEBGPU_UNAVAILABLE',
      `Could not load the 'webgpu' package (Dawn for Node): ${(cause as Error).message}. ` +
        "Fix: install it (it ships prebuilt binaries for linux/mac/windows x64/arm64) or use backend 'wasm'/'cpu'.",
      { cause },
    );
  }
}

function diagnosisEnv() {
  return import('node:fs').then((fs) => ({
    platform: process.platform,
    exists: (p: string) => fs.existsSync(p),
    env: process.env as Record<string, string | undefined>,
  }));
}

async function noAdapterError(detail: string): Promise<ComputeError> {
  if (!isNode) return new NoAdapterError(detail);
  return diagnoseNoAdapter(await diagnosisEnv(), detail);
}

function setNavigatorGpu(gpu: GPU): boolean {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  if (g.navigator!.gpu === gpu) return false;
  // tfjs-backend-webgpu checks navigator.gpu in its constructor.
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return true;
}

function clearNavigatorGpu(): void {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav && Object.getOwnPropertyDescriptor(nav, 'gpu')?.configurable) delete nav.gpu;
}

async function acquireWebGPU(opts: InitComputeOptions, allowSoftware: boolean): Promise<WebGPUContext> {
  if (liveWebGPU && !deviceLost(liveWebGPU.device)) {
    if (liveWebGPU.adapterInfo.software && !allowSoftware) {
      throw new SoftwareAdapterRefusedError(describeAdapter(liveWebGPU.adapterInfo));
    }
    liveWebGPU.refs++;
    return liveWebGPU;
  }
  let gpu: GPU | undefined;
  let definedNavigatorGpu = false;
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu && !isNode) {
    gpu = browserGpu;
  } else if (isNode) {
    const mod = await loadNodeWebGPU();
    Object.assign(globalThis, mod.globals);
    const flags = [...(opts.dawnFlags ?? [])];
    if (opts.adapter !== undefined) flags.push(`adapter=${opts.adapter}`);
    try {
      gpu = mod.create(flags);
    } catch (cause) {
      throw await noAdapterError(`Dawn's create() failed: ${(cause as Error).message}`);
    }
  } else {
    throw new ComputeError(
      'WEBGPU_UNAVAILABLE',
      "This runtime has no navigator.gpu. Fix: use a WebGPU-capable browser, Node with the 'webgpu' package, or backend 'wasm'/'cpu'.",
    );
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  } catch (cause) {
    throw await noAdapterError(`requestAdapter failed: ${(cause as Error).message}`);
  }
  if (!adapter) throw await noAdapterError('');
  const adapterInfo = summarizeAdapter(adapter as unknown as Parameters<typeof summarizeAdapter>[0]);
  if (adapterInfo.software && !allowSoftware) throw new SoftwareAdapterRefusedError(describeAdapter(adapterInfo));
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  trackDevice(device);
  if (isNode) definedNavigatorGpu = setNavigatorGpu(gpu);
  const ctx: WebGPUContext = {
    gpu,
    device,
    adapterInfo,
    limits: limitsRecord(device.limits),
    adapterLimits: limitsRecord(adapter.limits),
    refs: 1,
    definedNavigatorGpu,
  };
  const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
  // Bundlers may present the CommonJS build as { default: exports }.
  const WebGPUBackend = webgpu.WebGPUBackend ?? (webgpu as unknown as { default: typeof webgpu }).default.WebGPUBackend;
  // Replace tfjs' own factory (which would request its own adapter) with one bound to our device.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info), 3);
  liveWebGPU = ctx;
  return ctx;
}

/** Result of probeWebGPU: the adapter's summary and limits, or the reason there is none. */
export type WebGPUProbe =
  | { adapterInfo: AdapterInfoSummary; adapterLimits: Record<string, number> }
  | { adapterInfo: undefined; reason: string };

/**
 * Whether a WebGPU adapter exists (software ones included), without creating a device: its summary, or
 * undefined with the reason. Never throws.
 */
export async function probeWebGPU(
  opts: Pick<InitComputeOptions, 'dawnFlags' | 'adapter' | 'powerPreference'> = {},
): Promise<WebGPUProbe> {
  if (liveWebGPU && !deviceLost(liveWebGPU.device)) {
    return { adapterInfo: liveWebGPU.adapterInfo, adapterLimits: liveWebGPU.adapterLimits };
  }
  try {
    let gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (isNode) {
      const mod = await loadNodeWebGPU();
      Object.assign(globalThis, mod.globals);
      const flags = [...(opts.dawnFlags ?? [])];
      if (opts.adapter !== undefined) flags.push(`adapter=${opts.adapter}`);
      gpu = mod.create(flags);
    }
    if (!gpu) return { adapterInfo: undefined, reason: 'this runtime has no navigator.gpu' };
    const adapter = await gpu.requestAdapter(
      opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined,
    );
    if (!adapter) return { adapterInfo: undefined, reason: (await noAdapterError('')).message };
    return {
      adapterInfo: summarizeAdapter(adapter as unknown as Parameters<typeof summarizeAdapter>[0]),
      adapterLimits: limitsRecord(adapter.limits),
    };
  } catch (err) {
    return { adapterInfo: undefined, reason: (err as Error).message };
  }
}

function releaseWebGPU(ctx: WebGPUContext): void {
  ctx.refs--;
  if (ctx.refs > 0) return;
  if (liveWebGPU === ctx) liveWebGPU = undefined;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // disposes tfjs' buffers
  ctx.device.destroy();
  if (ctx.definedNavigatorGpu) clearNavigatorGpu();
  ctx.gpu = undefined; // drop Dawn's instance so the process can exit
}

async function activate(name: BackendName): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (cause) {
    throw new BackendUnavailableError(name, (cause as Error).message, { cause });
  }
  if (!ok) throw new BackendUnavailableError(name, `tf.setBackend('${name}') returned false (see the console for why)`);
  await tf.ready();
}

async function initCpuLike(name: 'wasm' | 'cpu'): Promise<void> {
  try {
    if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
    else await import('@tensorflow/tfjs-backend-wasm');
  } catch (cause) {
    throw new BackendUnavailableError(name, `importing its tfjs package failed: ${(cause as Error).message}`, {
      cause,
    });
  }
  registerKernels();
  await activate(name);
}

function makeHandle(backend: BackendName, ctx: WebGPUContext | undefined, fallbackReasons: string[]): ComputeHandle {
  let disposed = false;
  const device = ctx?.device;
  const lost = device ? deviceLostPromise(device) : never;
  const handle: ComputeHandle = {
    backend,
    fallbackReasons,
    lost,
    read(t) {
      if (!device) return t.data() as Promise<tf.backend_util.TypedArray>;
      const gone = deviceLost(device);
      if (gone) return Promise.reject(gone);
      // A read pending when the device goes away rejects (Dawn aborts the buffer mapping); report it as a
      // DeviceLostError. lost.then(reject) also covers implementations whose mapping would never settle.
      const data = (t.data() as Promise<tf.backend_util.TypedArray>).catch(async (err: unknown) => {
        const reason = deviceLost(device) ?? (await Promise.race([lost, delay(100).then(() => undefined)]));
        throw reason ?? err;
      });
      return Promise.race([data, lost.then((err) => Promise.reject(err))]);
    },
    assertFits(bytes, what) {
      if (!ctx) return;
      const max = ctx.limits.maxStorageBufferBindingSize ?? Number.POSITIVE_INFINITY;
      if (bytes > max) throw new LimitExceededError('maxStorageBufferBindingSize', bytes, max, what);
    },
    bufferStats: () => (device ? bufferStats(device) : { created: 0, live: 0, liveBytes: 0, largestBytes: 0 }),
    resetBufferStats: () => {
      if (device) resetBufferStats(device);
    },
    takeErrors: () => (device ? takeDeviceErrors(device) : []),
    async dispose() {
      if (disposed) return;
      disposed = true;
      if (ctx) releaseWebGPU(ctx);
    },
  };
  if (ctx) {
    Object.assign(handle, { adapterInfo: ctx.adapterInfo, limits: ctx.limits, device: ctx.device });
  }
  return handle;
}

let gradientsState: Promise<boolean> | undefined;

/**
 * Registers tfjs-core's gradients (tfjs-core's own `dist/register_all_gradients`). That file is ES module source
 * with extensionless imports: bundlers and vite/vitest load it, plain Node cannot — there it warns once and
 * tf.grad works only for ops whose gradients someone else registered (e.g. by bundling that file or using the
 * `@tensorflow/tfjs` union package). Resolves to whether registration succeeded.
 */
export function registerGradientsOnce(): Promise<boolean> {
  gradientsState ??= (async () => {
    const spec = '@tensorflow/tfjs-core/dist/register_all_gradients';
    try {
      await import(/* @vite-ignore */ spec);
      return true;
    } catch (err) {
      if (tf.getGradient('Sum') !== undefined) return true; // registered by someone else
      console.warn(
        `[@fairclip/compute] could not load ${spec} (${(err as Error).message.split('\n')[0]}); ` +
          'tf.grad will fail for ops without a registered gradient. Fix: bundle that file into the app ' +
          '(tsup noExternal) or run under vite/vitest.',
      );
      return false;
    }
  })();
  return gradientsState;
}

/**
 * Initialises a backend, makes it tfjs' active backend and registers this package's kernels on it.
 * Errors are ComputeError subclasses whose message says how to fix the problem.
 */
export async function initCompute(opts: InitComputeOptions = {}): Promise<ComputeHandle> {
  const backend = opts.backend ?? 'auto';
  if (!['auto', 'webgpu', 'wasm', 'cpu'].includes(backend)) {
    throw new InvalidArgumentError(`initCompute: unknown backend '${backend}' (use 'auto', 'webgpu', 'wasm' or 'cpu')`);
  }
  if (opts.registerGradients ?? true) await registerGradientsOnce();
  const allowSoftware = opts.allowSoftwareAdapter ?? false;
  if (backend === 'webgpu') {
    const ctx = await acquireWebGPU(opts, allowSoftware);
    try {
      registerKernels();
      await activate('webgpu');
    } catch (err) {
      releaseWebGPU(ctx);
      throw err;
    }
    return makeHandle('webgpu', ctx, []);
  }
  if (backend === 'wasm' || backend === 'cpu') {
    await initCpuLike(backend);
    return makeHandle(backend, undefined, []);
  }
  const reasons: string[] = [];
  try {
    const ctx = await acquireWebGPU(opts, allowSoftware);
    try {
      registerKernels();
      await activate('webgpu');
      return makeHandle('webgpu', ctx, reasons);
    } catch (err) {
      releaseWebGPU(ctx);
      throw err;
    }
  } catch (err) {
    reasons.push(`webgpu: ${(err as Error).message}`);
  }
  try {
    await initCpuLike('wasm');
    return makeHandle('wasm', undefined, reasons);
  } catch (err) {
    reasons.push(`wasm: ${(err as Error).message}`);
  }
  await initCpuLike('cpu');
  return makeHandle('cpu', undefined, reasons);
}
