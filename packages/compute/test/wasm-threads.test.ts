// The wasm backend's thread pool (tfjs' pthreads + SIMD build in Node, see src/wasm-threads.ts): the kernels give the
// float64 reference's results on 2 threads, the thread count follows the option and FAIRCLIP_WASM_THREADS, a runtime
// without WebAssembly threads and workers that fail to start fall back to one thread with the reason recorded, bad
// counts are refused, and the process exits by itself with the pool's workers alive. Each case runs in its own Node process: the pool is created
// once per process.
import { expect, test } from 'vitest';
import { InvalidArgumentError, initCompute } from '../src/index.ts';
import { runScript } from './spawn-script.ts';

interface Report {
  backend: string;
  wasmThreads: number;
  fallbackReasons: string[];
  maxDiff: { matMul: number; gradient: number; conv2d: number };
  switched?: { first: number; values: number[] };
}

async function run(mode: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Report> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    // Killed (code null) after 60 s: a pool worker keeping the event loop alive shows up as a timeout here.
    const r = await runScript('wasm-threads.ts', [mode], { timeoutMs: 60_000, nodeArgs });
    expect(r.code, `exit code (signal ${r.signal}); stderr:\n${r.stderr}`).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"backend"'));
    expect(line, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBeDefined();
    const first = r.stdout.split('\n').find((l) => l.startsWith('{"first"'));
    return { ...(JSON.parse(line!) as Report), ...(first ? { switched: JSON.parse(first) } : {}) };
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

/** float32 accumulation over ≤ 129 terms of magnitude ≤ 1 (45 for the convolution). */
function expectAccurate(report: Report): void {
  expect(report.maxDiff.matMul).toBeLessThan(1e-4);
  expect(report.maxDiff.gradient).toBeLessThan(1e-4);
  expect(report.maxDiff.conv2d).toBeLessThan(1e-4);
}

test('2 threads: the threaded build runs them, matches the float64 reference, and the process exits by itself', async () => {
  const report = await run('2');
  expect(report.backend).toBe('wasm');
  expect(report.wasmThreads).toBe(2);
  expect(report.fallbackReasons).toEqual([]);
  expectAccurate(report);
});

test('FAIRCLIP_WASM_THREADS=1 runs the single-threaded SIMD build', async () => {
  const report = await run('default', { FAIRCLIP_WASM_THREADS: '1' });
  expect(report.wasmThreads).toBe(1);
  expect(report.fallbackReasons).toEqual([]);
  expectAccurate(report);
});

test('by default one thread runs (the measured default), without a fallback reason', async () => {
  const report = await run('default', { FAIRCLIP_WASM_THREADS: '' });
  expect(report.wasmThreads).toBe(1);
  expect(report.fallbackReasons).toEqual([]);
  expectAccurate(report);
});

test('FAIRCLIP_WASM_THREADS=3 gives 3 threads', async () => {
  const report = await run('default', { FAIRCLIP_WASM_THREADS: '3' });
  expect(report.wasmThreads).toBe(3);
  expectAccurate(report);
});

test('without SharedArrayBuffer (no WebAssembly threads) one thread runs and the reason is recorded', async () => {
  const fallback = await run('no-sab', { FAIRCLIP_WASM_THREADS: '2' });
  expect(fallback.wasmThreads).toBe(1);
  expect(fallback.fallbackReasons).toHaveLength(1);
  expect(fallback.fallbackReasons[0]).toMatch(/one thread runs.*SharedArrayBuffer/);
  expectAccurate(fallback);
});

test('pthread workers that fail while starting: one thread runs with the reason, and the process does not crash', async () => {
  // Workers inherit the flag; the worker script evaluates tfjs' glue with eval, which it forbids. Emscripten's own
  // handler would throw from the worker's error event and end the process.
  const report = await run('2', {}, ['--disallow-code-generation-from-strings']);
  expect(report.wasmThreads).toBe(1);
  expect(report.fallbackReasons).toHaveLength(1);
  expect(report.fallbackReasons[0]).toMatch(
    /^wasm threads: fell back to one thread \(a pthread worker failed: .*Code generation/,
  );
  expectAccurate(report);
});

test('more than 8 threads are capped at 8, with the reason', async () => {
  const report = await run('12');
  expect(report.wasmThreads).toBe(8);
  expect(report.fallbackReasons).toEqual(["wasm: 12 threads requested, tfjs' wasm build runs at most 8"]);
  expectAccurate(report);
});

test('after tf.removeBackend the next initCompute starts a backend with the new thread count', async () => {
  const report = await run('switch');
  expect(report.switched).toEqual({ first: 1, values: [2, 4, 6] });
  expect(report.wasmThreads).toBe(2);
  expect(report.fallbackReasons).toEqual([]);
  expectAccurate(report);
});

test('a thread count that is not a whole number ≥ 1 is refused with the fix', async () => {
  for (const wasmThreads of [0, -2, 1.5, Number.NaN]) {
    const err = await initCompute({ backend: 'wasm', wasmThreads }).catch((e: unknown) => e);
    expect(err, String(wasmThreads)).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(/wasmThreads must be a whole number of threads, 1 or more/);
  }
  const saved = process.env.FAIRCLIP_WASM_THREADS;
  process.env.FAIRCLIP_WASM_THREADS = 'x'.repeat(500);
  try {
    const err = await initCompute({ backend: 'wasm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/^initCompute: FAIRCLIP_WASM_THREADS must be a whole number/);
    expect((err as Error).message.length).toBeLessThan(250);
  } finally {
    if (saved === undefined) delete process.env.FAIRCLIP_WASM_THREADS;
    else process.env.FAIRCLIP_WASM_THREADS = saved;
  }
});
