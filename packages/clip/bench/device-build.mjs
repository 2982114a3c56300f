// Builds a self-contained copy of @fairclip/clip's GPU-relevant tests (model-golden, model-resnet) and the GPU
// benchmark (bench/device.ts) for a machine with a GPU but no npm registry or node_modules (the project's device
// machines), following packages/compute/device/build.mjs (whose vitest stand-in it reuses). Output:
// packages/clip/dist/device/ (ignored). Fixtures are read at run time from the repository checkout
// (test-fixtures/data, or FAIRCLIP_FIXTURES_DIR). On the machine, from the repository root:
//   bash packages/clip/dist/device/run.sh            # tests, then the benchmark
// Usage here: node bench/device-build.mjs   (from packages/clip)
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');
const computePkg = resolve(pkg, '..', 'compute');
const out = join(pkg, 'dist', 'device');
const requireFromCompute = createRequire(join(computePkg, 'package.json'));
const requireFromClip = createRequire(join(pkg, 'package.json'));
const requireFromRoot = createRequire(resolve(pkg, '../../package.json'));
const esbuild = createRequire(requireFromRoot.resolve('tsup'))('esbuild');
const fromVitest = createRequire(requireFromRoot.resolve('vitest/package.json'));

const tests = (process.env.DEVICE_TESTS ?? 'model-golden,model-resnet').split(',');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'entries'), { recursive: true });

const shim = join(computePkg, 'device', 'vitest-shim.ts');
const fixturesShim = join(out, 'entries', 'fixtures-shim.ts');
writeFileSync(
  fixturesShim,
  `import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
export const dataDir = resolve(process.env.FAIRCLIP_FIXTURES_DIR ?? 'test-fixtures/data');
export function fixturePath(rel: string): string {
  const p = join(dataDir, rel);
  if (!existsSync(p)) throw new Error('fixture not found: ' + p + ' (run from the repository root)');
  return p;
}
export function readFixtureJson<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(fixturePath(rel), 'utf8')) as T;
}
export function goldenDir(): string | undefined { return undefined; }
export function goldenPath(_rel: string): string | undefined { return undefined; }
`,
);
const entryPoints = {};
for (const t of tests) {
  const file = join(out, 'entries', `${t}.ts`);
  writeFileSync(
    file,
    `import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { runDeclared } from ${JSON.stringify(shim)};
await import(${JSON.stringify(join(pkg, 'test', `${t}.test.ts`))});
const summary = { passed: 0, failed: 0, skipped: 0 };
await runDeclared(${JSON.stringify(`${t}.test.ts`)}, summary);
console.log('SUMMARY ${t}.test.ts ' + JSON.stringify(summary));
process.exit(summary.failed ? 1 : 0);
`,
  );
  entryPoints[t] = file;
}
const benchEntry = join(out, 'entries', 'bench.ts');
writeFileSync(
  benchEntry,
  `import '@tensorflow/tfjs-core/dist/register_all_gradients';\nawait import(${JSON.stringify(join(here, 'device.ts'))});\n`,
);
entryPoints.bench = benchEntry;

const plugin = {
  name: 'device-resolve',
  setup(build) {
    build.onResolve({ filter: /^vitest$/ }, () => ({ path: shim }));
    build.onResolve({ filter: /^@fairclip\/test-fixtures$/ }, () => ({ path: fixturesShim }));
    build.onResolve({ filter: /^(chai|@vitest\/expect)$/ }, (a) => ({ path: fromVitest.resolve(a.path) }));
    build.onResolve({ filter: /^fast-check$/ }, () => ({ path: requireFromRoot.resolve('fast-check') }));
    build.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients$/ }, () => ({
      path: join(
        dirname(requireFromClip.resolve('@tensorflow/tfjs-core/package.json')),
        'dist',
        'register_all_gradients.js',
      ),
    }));
  },
};

await esbuild.build({
  entryPoints,
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  conditions: ['@fairclip/source'],
  // One copy of tfjs-core: its ESM build (register_all_gradients imports it), not the CommonJS "main" as well.
  mainFields: ['module', 'main'],
  plugins: [plugin],
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
  },
});
rmSync(join(out, 'entries'), { recursive: true, force: true });

const webgpuDir = dirname(requireFromCompute.resolve('webgpu/package.json'));
const dst = join(out, 'node_modules', 'webgpu');
mkdirSync(join(dst, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js']) copyFileSync(join(webgpuDir, f), join(dst, f));
execFileSync('sh', [
  '-c',
  `xz -T2 -6 -c ${JSON.stringify(join(webgpuDir, 'dist', 'linux-x64', 'dawn.node'))} > ${JSON.stringify(join(dst, 'dist', 'linux-x64', 'dawn.node.xz'))}`,
]);
const wasmDir = dirname(requireFromCompute.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
for (const f of readdirSync(join(wasmDir, 'dist'))) {
  if (!f.endsWith('.wasm')) continue;
  for (const dir of [out, join(out, 'chunks')]) copyFileSync(join(wasmDir, 'dist', f), join(dir, f));
}
copyFileSync(join(here, 'torch_worker.py'), join(out, 'torch_worker.py'));
const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].find((p) => existsSync(p));
if (loader) cpSync(loader, join(out, 'libvulkan.so.1'), { dereference: true });
execFileSync('sh', [
  '-c',
  `xz -T2 -6 -c ${JSON.stringify(process.execPath)} > ${JSON.stringify(join(out, 'node.xz'))}`,
]);
writeFileSync(
  join(out, 'run.sh'),
  `#!/usr/bin/env bash
# Runs the bundled GPU tests, then the benchmark, with WebGPU required. From the repository root:
#   bash packages/clip/dist/device/run.sh [tests|bench|all]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v node >/dev/null || { xz -dc "$here/node.xz" > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH; }
d="$here/node_modules/webgpu/dist/linux-x64"; [ -f "$d/dawn.node" ] || xz -dc "$d/dawn.node.xz" > "$d/dawn.node"
if ! ldconfig -p | grep -q libvulkan.so.1; then export LD_LIBRARY_PATH="$here\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ] && [ -z "\${VK_ICD_FILENAMES:-}" ]; then export VK_ICD_FILENAMES="$icd"; fi
done
export REQUIRE_WEBGPU=1 FAIRCLIP_SLOW_TESTS=1
status=0
what="\${1:-all}"
if [ "$what" != bench ]; then for t in ${tests.join(' ')}; do node "$here/$t.mjs" || status=1; done; fi
if [ "$what" != tests ]; then BENCH_TORCH_SCRIPT="$here/torch_worker.py" node "$here/bench.mjs" || status=1; fi
exit $status
`,
);
console.log(`device bundle written to ${out}`);
