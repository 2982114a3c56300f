// What an app prints when it initialises the backends: none of tfjs-backend-cpu's "Hi, looks like you are running
// TensorFlow.js in Node.js…" banner, Dawn's adapter-limit notice at most once per process (Dawn writes it to stderr
// from native code when it enumerates adapters; initCompute reuses one Dawn instance, so that happens once), and
// genuine warnings still printed. Runs a real Node process: the banner and Dawn's notice bypass vitest's console.
import { expect, test } from 'vitest';
import { probeWebGPU } from '../src/index.ts';
import { webgpuRequired } from '../src/testing.ts';
import { runScript } from './spawn-script.ts';

const BANNER = /looks like you are running TensorFlow\.js in Node\.js/;
const DAWN_LIMIT_NOTICES = [
  /maxDynamicUniformBuffersPerPipelineLayout artificially reduced/g,
  /maxDynamicStorageBuffersPerPipelineLayout artificially reduced/g,
];

test('initialising cpu, wasm and webgpu (twice) prints no tfjs banner, Dawn’s limit notice at most once, and still prints genuine warnings', async () => {
  const probe = await probeWebGPU();
  if (!probe.adapterInfo && webgpuRequired()) throw new Error(`REQUIRE_WEBGPU=1 but no adapter: ${probe.reason}`);
  const backends = probe.adapterInfo ? ['cpu', 'wasm', 'webgpu'] : ['cpu', 'wasm'];
  const r = await runScript('quiet-init.ts', backends);
  expect(r.code, `exit code (signal ${r.signal}); stderr:\n${r.stderr}`).toBe(0);

  // Each backend ran its op (webgpu twice, after a probe).
  const results = r.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { backend: string; values: number[] });
  const expected = backends.flatMap((b) => (b === 'webgpu' ? [b, b] : [b]));
  expect(results.map((x) => x.backend)).toEqual(expected);
  for (const x of results) expect(x.values, x.backend).toEqual([3, 6, 9, 12]);

  const output = `${r.stdout}\n${r.stderr}`;
  expect(output).not.toMatch(BANNER);
  for (const notice of DAWN_LIMIT_NOTICES) {
    // Adapter enumeration happens once per Dawn instance; a probe and two initialisations share one instance.
    expect(output.match(notice)?.length ?? 0, String(notice)).toBeLessThanOrEqual(1);
  }
  // A genuine tfjs warning (log.warn, which tfjs' PROD/IS_TEST flags would mute) still gets through.
  expect(r.stderr).toContain("The kernel 'FairclipQuietOutputProbe' for backend 'cpu' is already registered");
});
