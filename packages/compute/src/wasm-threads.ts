/**
 * Multi-threaded wasm kernels in Node: tfjs-backend-wasm 4.22 ships a pthreads + SIMD build
 * (tfjs-backend-wasm-threaded-simd.wasm, XNNPACK on a pthreadpool) but never uses it in Node, for four reasons that
 * this module works around without patching tfjs:
 *
 * 1. Its `WASM_HAS_MULTITHREAD_SUPPORT` flag answers false whenever `IS_NODE` (tfjs issue 3830), so tfjs always loads
 *    the single-threaded SIMD build.
 * 2. Its loader hands Emscripten a `blob:` URL for the pthread worker script and a Blob for the main script; Node's
 *    `worker_threads.Worker` accepts neither, and the glue it would evaluate (the factory inlined in
 *    tf-backend-wasm.node.js) refers to rollup's `require$$0` names that do not exist inside a worker.
 * 3. The C++ side sizes the pool as min(requested, 8, logical cores / 2): on a 2-core machine that is one thread.
 * 4. Emscripten `ref()`s the worker of every running pthread, and the pool's threads run for the life of the module,
 *    so Node would never exit.
 *
 * So this module builds the module itself from tfjs' own parts: the threaded factory from `wasm-out/` (plain Node
 * `require` glue), a `data:` URL ES-module worker that evaluates tfjs' pthread worker script (shipped as a string in
 * `wasm-out/…worker.js`), the factory's source posted to the workers (the worker's `importScripts` evaluates it),
 * an `instantiateWasm` hook that reports 2 × the requested threads as the logical core count, and after start-up it
 * unrefs the pool's workers (they sleep on a futex between kernels) and ends the idle spare workers that Emscripten
 * pre-spawns (8). The resulting module goes to tfjs' own `BackendWasm`, registered under the name 'wasm', so every
 * tfjs wasm kernel runs unchanged. Anything failing on the way falls back to tfjs' single-threaded SIMD factory and
 * the reason is kept for the compute handle.
 */
/// <reference path="./tfjs-wasm-out.d.ts" />
import * as tf from '@tensorflow/tfjs-core';

/** The most threads tfjs' wasm build runs (its C++ caps the pool at 8; Emscripten pre-spawns 8 workers). */
export const MAX_WASM_THREADS = 8;

/** How long the threaded module may take to start (workers loaded) before falling back. */
const START_TIMEOUT_MS = 60_000;

/** tfjs-backend-wasm's registration priority. */
const WASM_PRIORITY = 2;

/** What the wasm backend runs on once initialised in this process. */
export interface WasmThreadsState {
  /** Threads of the kernels' pool (1 = single-threaded). */
  threads: number;
  /** Why fewer threads run than were requested (fallback or cap), if so. */
  reason?: string;
}

let state: WasmThreadsState | undefined;

type WasmModule = {
  cwrap(name: string, ret: string | null, args: string[]): unknown;
  tfjs?: unknown;
  PThread?: { runningWorkers: NodeWorker[]; unusedWorkers: NodeWorker[]; terminateAllThreads(): void };
};
type NodeWorker = { ref?(): void; unref?(): void; terminate(): unknown };
type Factory = ((config: Record<string, unknown>) => Promise<WasmModule>) & { toString(): string };
type WasmPackage = {
  BackendWasm: new (module: WasmModule) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
};

/** The WebAssembly API (this package compiles without the DOM library, which types it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: unknown; module: unknown }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

/**
 * The default thread count: 1. Measured on 2 cores: the default tiny CLIP fine-tunes slower with 2 threads (50.2 s
 * against 42.0 s wall, back to back), and the grid's parallel processes (`--jobs`) already use the cores; ViT-B/16
 * image features gain about 10 % with 2 threads at batch 8. Ask for threads with the `wasmThreads` option or
 * FAIRCLIP_WASM_THREADS (e.g. the number of cores for one large model in one process).
 */
export async function defaultWasmThreads(): Promise<number> {
  return 1;
}

/** The wasm backend's threads in this process, once it was initialised through {@link prepareWasmBackend}. */
export function wasmThreadsState(): WasmThreadsState | undefined {
  return state;
}

/** WebAssembly threads (shared memory + atomics), from wasm-feature-detect as in tfjs' own flag. */
function hasWasmThreads(): boolean {
  try {
    if (typeof SharedArrayBuffer !== 'function') return false;
    return wasmApi.validate(
      new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16,
        2, 0, 26, 11,
      ]),
    );
  } catch {
    return false;
  }
}

/** WebAssembly SIMD, from wasm-feature-detect as in tfjs' own flag. */
function hasWasmSimd(): boolean {
  try {
    return wasmApi.validate(
      new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11,
      ]),
    );
  } catch {
    return false;
  }
}

/**
 * The pthread worker, as an ES module in a `data:` URL: gives tfjs' worker script the CommonJS globals it expects
 * (`require` for Node's built-ins, `__filename`), evaluates it, and lets its `importScripts` evaluate the factory
 * source that the main thread posts instead of a file name.
 */
async function workerUrl(): Promise<URL> {
  const mod = (await import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents?: string;
    default?: { wasmWorkerContents?: string };
  };
  const contents = mod.wasmWorkerContents ?? mod.default?.wasmWorkerContents;
  if (typeof contents !== 'string') throw new Error("tfjs-backend-wasm's pthread worker script was not found");
  // The script is a template literal in tfjs' file: its "\n" escapes arrive as newlines inside string literals
  // (tfjs' own loader re-escapes them the same way).
  const script = contents.replace(/\n/g, '\\n');
  const vm = await import('node:vm');
  new vm.Script(script); // a syntax error here would otherwise surface as an uncaught error in every worker
  const source = `import { createRequire } from 'node:module';
globalThis.require = createRequire(${JSON.stringify(process.execPath)});
globalThis.__require = globalThis.require; // bundlers (esbuild's ESM output) rename the factory's require calls
globalThis.__filename = 'fairclip-tfjs-wasm-pthread';
(0, eval)(${JSON.stringify(script)});
const importFile = globalThis.importScripts;
globalThis.importScripts = (s) => (s.startsWith('var WasmBackendModuleThreadedSimd') ? (0, eval)(s) : importFile(s));
`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/** Starts tfjs' threaded SIMD module with `threads` pool threads; rejects (and ends its workers) on failure. */
async function startThreadedModule(threads: number): Promise<WasmModule> {
  const imported = (await import(
    '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'
  )) as unknown as { default?: Factory };
  const factory = (imported.default ?? imported) as Factory;
  if (typeof factory !== 'function') throw new Error("tfjs-backend-wasm's threaded SIMD factory was not found");
  const url = await workerUrl();
  const { readFile } = await import('node:fs/promises');
  let wasmFile: string | undefined;
  let reject: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, rej) => {
    reject = rej;
  });
  failed.catch(() => {}); // settles after the race only when the timeout won: nothing is waiting for it then
  const previousWorker = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const config: Record<string, unknown> = {
    locateFile(path: string, prefix: string): string | URL {
      if (path.endsWith('.worker.js')) return url;
      wasmFile = prefix + path;
      return wasmFile;
    },
    instantiateWasm(info: { env: Record<string, unknown> }, receive: (instance: unknown, module: unknown) => void) {
      // tfjs sizes its pool as min(requested, 8, logical cores / 2) (it assumes two hyper-threads per core).
      info.env.emscripten_num_logical_cores = () => 2 * threads;
      readFile(wasmFile!)
        .then((bytes) => wasmApi.instantiate(bytes, info))
        .then((r) => {
          receive(r.instance, r.module); // posts the module to the workers and sets their onerror
          // Emscripten's onerror throws, which would end the process: while starting, a worker that fails to load
          // the module (say, a bundler renamed something the factory's source needs) means falling back instead.
          const pool = (config.PThread as WasmModule['PThread'] | undefined)?.unusedWorkers ?? [];
          for (const w of pool as (NodeWorker & { onerror?: (e: unknown) => void })[]) {
            const emscriptenOnError = w.onerror;
            w.onerror = (e: unknown) => {
              if (!started) reject(new Error(`a pthread worker failed: ${(e as Error)?.message ?? String(e)}`));
              else emscriptenOnError?.(e);
            };
          }
        })
        .catch((err: unknown) => reject(err));
      return {};
    },
    mainScriptUrlOrBlob: `var WasmBackendModuleThreadedSimd = ${factory.toString()}`,
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () => rej(new Error(`the pthread workers did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
  });
  let started = false;
  try {
    const module = await Promise.race([factory(config), failed, timeout]);
    started = true;
    if (!module.PThread) throw new Error('the threaded module has no PThread pool');
    return module;
  } catch (err) {
    (config.PThread as WasmModule['PThread'] | undefined)?.terminateAllThreads();
    throw err;
  } finally {
    clearTimeout(timer);
    // Emscripten's Node glue sets globalThis.Worker = worker_threads.Worker; put back what was there.
    if (previousWorker) Object.defineProperty(globalThis, 'Worker', previousWorker);
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}

/** The `tfjs` bridge that tfjs' own loader adds to the module (BackendWasm calls these). */
function addBridge(module: WasmModule): void {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
}

/** tfjs-backend-wasm's own factory (its single-threaded SIMD loader), kept for the fallback. */
let tfjsFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | undefined;

/**
 * Makes tfjs' 'wasm' backend factory start the threaded build with `requested` threads (Node; 1 keeps tfjs' own
 * single-threaded SIMD factory), falling back to tfjs' factory with the reason recorded. Call after importing
 * '@tensorflow/tfjs-backend-wasm' and before activating the backend. The thread count is fixed while the backend
 * lives: later calls report it (with a reason when it differs from `requested`); after tf.removeBackend('wasm') the
 * next call starts over. The returned state is final once the backend has been activated.
 */
export async function prepareWasmBackend(requested: number): Promise<WasmThreadsState> {
  const pkg = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmPackage;
  if (tf.findBackend('wasm') !== null) {
    // Already initialised: by an earlier call, or by tf.setBackend('wasm') before this package saw it.
    state ??= { threads: safeThreadsCount(pkg) };
    if (requested === state.threads) return { threads: state.threads };
    return {
      threads: state.threads,
      reason:
        state.reason ??
        `wasm: runs ${state.threads} thread(s), fixed when the backend was first initialised in this process (${requested} requested)`,
    };
  }
  // After tf.removeBackend('wasm') (which ends the pool's workers) the factory is gone too: register it again.
  const registered = tf.findBackendFactory('wasm') ?? tfjsFactory;
  if (registered === null || registered === undefined) return { threads: 1 }; // activation reports the problem
  if (tf.findBackendFactory('wasm') == null) tf.registerBackend('wasm', registered, WASM_PRIORITY);
  tfjsFactory ??= registered;
  const fallback = tfjsFactory;
  const threads = Math.min(requested, MAX_WASM_THREADS);
  const capped =
    requested > MAX_WASM_THREADS
      ? `wasm: ${requested} threads requested, tfjs' wasm build runs at most ${MAX_WASM_THREADS}`
      : undefined;
  let unavailable: string | undefined;
  if (threads > 1) {
    if (!isNode) unavailable = "only set up in Node here (browsers use tfjs-backend-wasm's own loader)";
    else if (!hasWasmSimd()) unavailable = 'this runtime has no WebAssembly SIMD, which the threaded build needs';
    else if (!hasWasmThreads()) unavailable = 'this runtime has no SharedArrayBuffer / WebAssembly threads';
  }
  if (threads <= 1 || unavailable !== undefined) {
    if (isNode) pkg.setThreadsCount(1);
    if (registered !== fallback) {
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', fallback, WASM_PRIORITY);
    }
    state = { threads: 1 };
    if (unavailable !== undefined) state.reason = `wasm threads: one thread runs, ${unavailable}`;
    return state;
  }
  const pending: WasmThreadsState = { threads };
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      let module: WasmModule | undefined;
      try {
        module = await startThreadedModule(threads);
        addBridge(module);
        pkg.setThreadsCount(threads);
        const backend = new pkg.BackendWasm(module); // creates the pool: pthread_create runs (and refs) its workers
        const pool = module.PThread!;
        for (const w of pool.runningWorkers) w.unref?.();
        for (const w of pool.unusedWorkers.splice(0)) w.terminate();
        pending.threads = safeThreadsCount(pkg);
        if (pending.threads < threads) pending.reason = `wasm threads: tfjs created ${pending.threads} of ${threads}`;
        else if (capped !== undefined) pending.reason = capped;
        return backend;
      } catch (err) {
        module?.PThread?.terminateAllThreads();
        pending.threads = 1;
        const why = err instanceof Error ? err.message : String(err);
        pending.reason = `wasm threads: fell back to one thread (${why.length > 200 ? `${why.slice(0, 200)}…` : why})`;
        pkg.setThreadsCount(1);
        return fallback();
      }
    },
    WASM_PRIORITY,
  );
  state = pending;
  return pending;
}

function safeThreadsCount(pkg: WasmPackage): number {
  try {
    return Math.max(1, pkg.getThreadsCount());
  } catch {
    return 1;
  }
}
