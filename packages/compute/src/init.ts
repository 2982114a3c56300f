/**
 * initCompute: picks and initialises a tfjs backend (webgpu on Dawn or the browser's navigator.gpu, wasm, cpu) and
 * registers this package's kernels. See README "Backend choice".
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type AdapterInfoSummary,
  describeAdapter,
  diagnoseNoAdapter,
  type IcdEnv,
  softwareOnlyVulkan,
  summarizeAdapter,
} from './adapter.ts';
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
import { registerGradientsOnce } from './gradients.ts';
import { registerKernels } from './kernels.ts';
import { defaultWasmThreads, MAX_WASM_THREADS, prepareWasmBackend, type WasmThreadsState } from './wasm-threads.ts';

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
  /**
   * Threads of the wasm backend's kernels (Node): default the `FAIRCLIP_WASM_THREADS` environment variable, else 1
   * (see defaultWasmThreads for the measurement), at most 8. More than one runs tfjs' pthreads + SIMD build (XNNPACK on a
   * thread pool of Node worker threads); 1 runs its single-threaded SIMD build. Fixed while the wasm backend lives
   * (tf.removeBackend('wasm') ends it and its tensors; the next initCompute starts anew). When threads cannot be
   * used, one thread runs and `fallbackReasons` says why.
   */
  wasmThreads?: number;
}

export interface ComputeHandle {
  readonly backend: BackendName;
  /** Set for webgpu. */
  readonly adapterInfo?: AdapterInfoSummary;
  /** The device's limits (webgpu only). */
  readonly limits?: Readonly<Record<string, number>>;
  readonly device?: GPUDevice;
  /** The threads of the wasm backend's kernels (wasm only). */
  readonly wasmThreads?: number;
  /**
   * Why preferred backends were skipped (backend 'auto'), in order; on wasm also why fewer threads run than were
   * requested (see `wasmThreads` in the options).
   */
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
  /**
   * Releases the backend. webgpu, once the last handle to the device is disposed: removes tfjs' backend (its
   * buffers), waits for submitted work, destroys the device and waits until Dawn has reported the loss. Dawn's
   * instance stays alive for the process (see `dawnInstance`).
   */
  dispose(): Promise<void>;
}

type WebGPUModule = { create(flags: string[]): GPU; globals: Record<string, unknown> };

interface WebGPUContext {
  gpu: GPU;
  device: GPUDevice;
  adapterInfo: AdapterInfoSummary;
  limits: Record<string, number>;
  adapterLimits: Record<string, number>;
  refs: number;
  definedNavigatorGpu: boolean;
}

let liveWebGPU: WebGPUContext | undefined;

/**
 * Dawn instances (what the 'webgpu' package's `create(flags)` returns), one per flag set, referenced for the life of
 * the process and never dropped. Dawn's Node binding polls its instance (`InstanceBase::ProcessEvents`, scheduled
 * with setImmediate while any of its promises is pending, device.lost included) through a poller that holds a raw
 * pointer to the native instance inside this JS object, while every adapter, device, buffer and queue object keeps
 * the poller itself alive. Once this object is unreferenced V8 may collect it (freeing the instance) while those
 * objects still exist, and the next poll locks a mutex in freed memory: the process aborts with glibc's
 * `tpp.c: __pthread_tpp_change_priority` assertion, `std::system_error: Invalid argument` or SIGSEGV, depending on
 * what the freed memory holds by then. No point in time is known after which no such object can exist (tfjs and
 * user code may hold the device), so the instance is never released. An idle instance costs no CPU and does not
 * keep Node from exiting. Reusing it also makes Dawn enumerate the adapters once per process instead of per call.
 */
const dawnInstances = new Map<string, GPU>();

function dawnInstance(mod: WebGPUModule, flags: readonly string[]): GPU {
  const key = JSON.stringify(flags);
  let gpu = dawnInstances.get(key);
  if (gpu === undefined) {
    gpu = mod.create([...flags]);
    dawnInstances.set(key, gpu);
  }
  return gpu;
}

/** The flags of Dawn's create() for these options. */
function dawnFlags(opts: Pick<InitComputeOptions, 'dawnFlags' | 'adapter'>): string[] {
  const flags = [...(opts.dawnFlags ?? [])];
  if (opts.adapter !== undefined) flags.push(`adapter=${opts.adapter}`);
  return flags;
}

/** How long dispose() waits for Dawn to report the loss of a destroyed device (it normally takes one poll). */
const LOST_AFTER_DESTROY_MS = 5000;

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
const never = new Promise<DeviceLostError>(() => {});
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Settles with p's value, or undefined after ms; the timer is cleared either way (it never delays exit). */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

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

/**
 * Dawn for Node: the `webgpu` package, an optional peer dependency (about 130 MB of native binaries that cpu/wasm
 * users never load), imported only when the webgpu backend is requested or probed.
 */
async function loadNodeWebGPU(): Promise<WebGPUModule> {
  const spec = 'webgpu'; // a variable keeps bundlers from pulling Dawn into browser builds
  try {
    return (await import(/* @vite-ignore */ spec)) as WebGPUModule;
  } catch (cause) {
    const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
    // Node: "Cannot find package 'webgpu' imported from …" (a file missing inside the package names its path).
    if (code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${spec}'`)) {
      throw new ComputeError(
        'WEBGPU_UNAVAILABLE',
        "Backend 'webgpu' in Node needs Dawn, the optional peer dependency 'webgpu', which is not installed. " +
          "Fix: npm install webgpu (prebuilt for linux/mac/windows x64/arm64), or use backend 'wasm' or 'cpu'.",
        { cause },
      );
    }
    throw new ComputeError(
      'WEBGPU_UNAVAILABLE',
      `Could not load the 'webgpu' package (Dawn for Node): ${(cause as Error).message}. ` +
        "Fix: install it (it ships prebuilt binaries for linux/mac/windows x64/arm64) or use backend 'wasm'/'cpu'.",
      { cause },
    );
  }
}

/** The host's Vulkan driver folders, for softwareOnlyVulkan (Node only). */
async function hostIcdEnv(): Promise<IcdEnv> {
  const fs = await import('node:fs');
  return {
    platform: process.platform,
    env: process.env as Record<string, string | undefined>,
    listJson: (dir: string) => {
      try {
        return fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
      } catch {
        return [];
      }
    },
    hasRenderNode: () => {
      try {
        return fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
      } catch {
        return false;
      }
    },
  };
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
    try {
      gpu = dawnInstance(mod, dawnFlags(opts));
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
      gpu = dawnInstance(mod, dawnFlags(opts));
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

/**
 * Drops one reference to the device; the last one tears it down in a fixed order: tfjs' backend first (it destroys
 * its buffers while the device still works), then submitted work is awaited, the device destroyed, and the loss
 * awaited, so that when this resolves Dawn has delivered the device's last callback and the binding no longer
 * polls for it. The instance (ctx.gpu) is kept: see dawnInstance.
 */
async function releaseWebGPU(ctx: WebGPUContext): Promise<void> {
  ctx.refs--;
  if (ctx.refs > 0) return;
  // Synchronous part first, so that an initCompute() running meanwhile starts from a clean state.
  if (liveWebGPU === ctx) liveWebGPU = undefined;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // disposes tfjs' buffers
  if (ctx.definedNavigatorGpu) clearNavigatorGpu();
  const { device } = ctx;
  const lost = deviceLostPromise(device);
  if (!deviceLost(device)) {
    await Promise.race([device.queue.onSubmittedWorkDone().catch(() => undefined), lost]);
  }
  device.destroy();
  await within(lost, LOST_AFTER_DESTROY_MS);
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

/** The wasm thread count asked for: the option, else FAIRCLIP_WASM_THREADS, else the available cores (at most 8). */
async function requestedWasmThreads(opts: InitComputeOptions): Promise<number> {
  const fromEnv = isNode ? process.env.FAIRCLIP_WASM_THREADS : undefined;
  const raw = opts.wasmThreads ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : undefined);
  if (raw === undefined) return defaultWasmThreads();
  if (!Number.isInteger(raw) || raw < 1) {
    const shown = String(opts.wasmThreads ?? fromEnv).slice(0, 40);
    const source = opts.wasmThreads !== undefined ? 'wasmThreads' : 'FAIRCLIP_WASM_THREADS';
    throw new InvalidArgumentError(
      `initCompute: ${source} must be a whole number of threads, 1 or more (got '${shown}'); ` +
        `use 1 for single-threaded wasm, up to ${MAX_WASM_THREADS}`,
    );
  }
  return raw;
}

/** Initialises cpu or wasm; for wasm, returns its threads (and why fewer than requested run, if so). */
async function initCpuLike(name: 'wasm' | 'cpu', opts: InitComputeOptions): Promise<WasmThreadsState | undefined> {
  try {
    if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
    else await import('@tensorflow/tfjs-backend-wasm');
  } catch (cause) {
    throw new BackendUnavailableError(name, `importing its tfjs package failed: ${(cause as Error).message}`, {
      cause,
    });
  }
  const threads = name === 'wasm' ? await prepareWasmBackend(await requestedWasmThreads(opts)) : undefined;
  registerKernels();
  await activate(name);
  if (name === 'cpu') silenceCpuBanner();
  return threads && { ...threads };
}

/**
 * tfjs-backend-cpu prints "Hi, looks like you are running TensorFlow.js in Node.js… install our node backend" (via
 * backend_util.warn) on the first tensor written to a MathBackendCPU instance, guarded by that instance's one-shot
 * `firstUse` flag. Clearing the flag on the engine's cpu backend silences exactly this banner. tfjs' own switches
 * are broader: PROD (and IS_TEST) mute every backend_util/log warning, e.g. "Initialization of backend … failed"
 * with its stack and kernel or gradient re-registration, which must stay visible.
 */
function silenceCpuBanner(): void {
  const backend = tf.findBackend('cpu') as { firstUse?: unknown } | null;
  if (backend !== null && typeof backend.firstUse === 'boolean') backend.firstUse = false;
}

function makeHandle(
  backend: BackendName,
  ctx: WebGPUContext | undefined,
  fallbackReasons: string[],
  wasm?: WasmThreadsState,
): ComputeHandle {
  if (wasm?.reason !== undefined) fallbackReasons.push(wasm.reason);
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
      if (ctx) await releaseWebGPU(ctx);
    },
  };
  if (ctx) {
    Object.assign(handle, { adapterInfo: ctx.adapterInfo, limits: ctx.limits, device: ctx.device });
  }
  if (wasm) Object.assign(handle, { wasmThreads: wasm.threads });
  return handle;
}

export { registerGradientsOnce } from './gradients.ts';

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
      await releaseWebGPU(ctx);
      throw err;
    }
    return makeHandle('webgpu', ctx, []);
  }
  if (backend === 'wasm' || backend === 'cpu') {
    const threads = await initCpuLike(backend, opts);
    return makeHandle(backend, undefined, [], threads);
  }
  const reasons: string[] = [];
  const softwareOnly = isNode && !allowSoftware ? softwareOnlyVulkan(await hostIcdEnv()) : undefined;
  if (softwareOnly) {
    // A software adapter would be refused: do not start Dawn at all (no adapter enumeration, no driver warnings).
    reasons.push(
      `webgpu: skipped, the only Vulkan drivers are software (${softwareOnly.join(', ')}); ` +
        'pass allowSoftwareAdapter: true to use one',
    );
  }
  if (!softwareOnly)
    try {
      const ctx = await acquireWebGPU(opts, allowSoftware);
      try {
        registerKernels();
        await activate('webgpu');
        return makeHandle('webgpu', ctx, reasons);
      } catch (err) {
        await releaseWebGPU(ctx);
        throw err;
      }
    } catch (err) {
      reasons.push(`webgpu: ${(err as Error).message}`);
    }
  try {
    const threads = await initCpuLike('wasm', opts);
    return makeHandle('wasm', undefined, reasons, threads);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    reasons.push(`wasm: ${(err as Error).message}`);
  }
  await initCpuLike('cpu', opts);
  return makeHandle('cpu', undefined, reasons);
}
