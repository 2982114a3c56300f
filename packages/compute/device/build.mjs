// Builds a self-contained copy of this package's GPU-relevant test files and benchmark for a machine that has a
// GPU but no npm registry and no node_modules (the project's device machines). Output: dist/device/ (ignored):
//   <test>.mjs         one bundle per test file (vitest replaced by device/vitest-shim.ts, fixtures inlined)
//   bench.mjs          bench/run.ts
//   node_modules/webgpu   the `webgpu` package with only linux-x64's dawn.node
//   *.wasm             tfjs-backend-wasm binaries (loaded from the bundle's folder)
//   libvulkan.so.1     this machine's Vulkan loader (the device image may lack one), node.xz (this node binary)
//   run.sh             unpacks and runs everything; see README "Running on a GPU machine"
// Usage: node device/build.mjs   (from packages/compute)
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');
const out = join(pkg, 'dist', 'device');
const requireFromPkg = createRequire(join(pkg, 'package.json'));
const requireFromRoot = createRequire(resolve(pkg, '../../package.json'));
const esbuild = createRequire(requireFromRoot.resolve('tsup'))('esbuild');
const fromVitest = createRequire(requireFromRoot.resolve('vitest/package.json'));

const tests = (process.env.DEVICE_TESTS ?? 'conformance,webgpu,device-lost,init,reference,units').split(',');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'entries'), { recursive: true });

const shim = join(here, 'vitest-shim.ts');
const entryPoints = {};
for (const t of tests) {
  const file = join(out, 'entries', `${t}.ts`);
  writeFileSync(
    file,
    `import fc from 'fast-check';
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // bundled: plain Node cannot load this ESM file
import { runDeclared } from ${JSON.stringify(shim)};
const seed = Number(process.env.FC_SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
fc.configureGlobal({ seed, ...(process.env.FC_NUM_RUNS ? { numRuns: Number(process.env.FC_NUM_RUNS) } : {}) });
console.log('[fast-check] FC_SEED=' + seed);
await import(${JSON.stringify(join(pkg, 'test', `${t}.test.ts`))});
const summary = { passed: 0, failed: 0, skipped: 0 };
await runDeclared(${JSON.stringify(`${t}.test.ts`)}, summary);
console.log('SUMMARY ${t}.test.ts ' + JSON.stringify(summary));
process.exit(summary.failed ? 1 : 0);
`,
  );
  entryPoints[t] = file;
}
entryPoints.bench = join(pkg, 'bench', 'run.ts');

const resolveFrom = {
  name: 'device-resolve',
  setup(build) {
    build.onResolve({ filter: /^vitest$/ }, () => ({ path: shim }));
    build.onResolve({ filter: /^@fairclip\/test-fixtures$/ }, () => ({ path: join(here, 'fixtures-shim.ts') }));
    build.onResolve({ filter: /^(chai|@vitest\/expect)$/ }, (a) => ({ path: fromVitest.resolve(a.path) }));
    build.onResolve({ filter: /^fast-check$/ }, () => ({ path: requireFromRoot.resolve('fast-check') }));
    build.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients$/ }, () => ({
      path: join(
        dirname(requireFromPkg.resolve('@tensorflow/tfjs-core/package.json')),
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
  plugins: [resolveFrom],
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
  },
});
rmSync(join(out, 'entries'), { recursive: true, force: true });

// webgpu (Dawn) with only the linux-x64 binary
const webgpuDir = dirname(requireFromPkg.resolve('webgpu/package.json'));
const dst = join(out, 'node_modules', 'webgpu');
mkdirSync(join(dst, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js']) copyFileSync(join(webgpuDir, f), join(dst, f));
execFileSync('sh', [
  '-c',
  `xz -T2 -6 -c ${JSON.stringify(join(webgpuDir, 'dist', 'linux-x64', 'dawn.node'))} > ${JSON.stringify(join(dst, 'dist', 'linux-x64', 'dawn.node.xz'))}`,
]);
// tfjs wasm binaries next to the bundles
const wasmDir = dirname(requireFromPkg.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
for (const f of readdirSync(join(wasmDir, 'dist'))) {
  if (!f.endsWith('.wasm')) continue;
  for (const dir of [out, join(out, 'chunks')]) copyFileSync(join(wasmDir, 'dist', f), join(dir, f)); // next to whichever file holds the wasm glue
}
// Vulkan loader and node itself
const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].find((p) => existsSync(p));
if (loader) cpSync(loader, join(out, 'libvulkan.so.1'), { dereference: true });
execFileSync('sh', [
  '-c',
  `xz -T2 -6 -c ${JSON.stringify(process.execPath)} > ${JSON.stringify(join(out, 'node.xz'))}`,
]);
writeFileSync(
  join(out, 'run.sh'),
  `#!/usr/bin/env bash
# Runs the bundled tests and the benchmark with WebGPU required. Usage: bash run.sh [test names...]
set -uo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH; }
d=node_modules/webgpu/dist/linux-x64; [ -f $d/dawn.node ] || xz -dc $d/dawn.node.xz > $d/dawn.node
if ! ldconfig -p | grep -q libvulkan.so.1; then export LD_LIBRARY_PATH="$PWD\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ] && [ -z "\${VK_ICD_FILENAMES:-}" ]; then export VK_ICD_FILENAMES="$icd"; fi
done
export REQUIRE_WEBGPU=1
status=0
for t in \${@:-${tests.join(' ')}}; do node "$t.mjs" || status=1; done
exit $status
`,
);
console.log(`device bundle written to ${out}`);
