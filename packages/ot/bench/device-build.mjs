// Builds a self-contained copy of this package's benchmark (bench/run.ts) for a GPU machine that has no npm registry
// and no node_modules (the project's device machines), as @fairclip/compute's device/build.mjs does for its tests.
// Output: dist/device/ (ignored):
//   bench.mjs               bench/run.ts bundled (workspace packages from source)
//   node_modules/webgpu     the `webgpu` package with only linux-x64's dawn.node (xz)
//   *.wasm                  tfjs-backend-wasm binaries
//   libvulkan.so.1, glvnd/  this machine's Vulkan loader and glvnd libraries (NVIDIA's ICD needs them; the device
//                           image may lack them), node.xz (this node binary)
//   run.sh                  unpacks and runs the benchmark with WebGPU required; arguments are passed as env
// Usage: node bench/device-build.mjs   (from packages/ot); there: bash dist/device/run.sh
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');
const out = join(pkg, 'dist', 'device');
const requireFromRoot = createRequire(resolve(pkg, '../../package.json'));
const requireFromCompute = createRequire(resolve(pkg, '../compute/package.json'));
const esbuild = createRequire(requireFromRoot.resolve('tsup'))('esbuild');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: { bench: join(here, 'run.ts') },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  conditions: ['@fairclip/source'],
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
  },
});

const webgpuDir = dirname(requireFromCompute.resolve('webgpu/package.json'));
const dst = join(out, 'node_modules', 'webgpu');
mkdirSync(join(dst, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js']) copyFileSync(join(webgpuDir, f), join(dst, f));
execFileSync('sh', [
  '-c',
  `xz -T2 -6 -c ${JSON.stringify(join(webgpuDir, 'dist', 'linux-x64', 'dawn.node'))} > ${JSON.stringify(join(dst, 'dist', 'linux-x64', 'dawn.node.xz'))}`,
]);
const wasmDir = dirname(requireFromCompute.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
for (const f of readdirSync(join(wasmDir, 'dist')))
  if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, 'dist', f), join(out, f));
const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].find((p) => existsSync(p));
if (loader) cpSync(loader, join(out, 'libvulkan.so.1'), { dereference: true });
// NVIDIA's Vulkan ICD (libGLX_nvidia.so.0) needs glvnd's dispatch libraries, which a bare image may lack.
mkdirSync(join(out, 'glvnd'), { recursive: true });
for (const lib of ['libGLdispatch.so.0', 'libGLX.so.0', 'libEGL.so.1', 'libOpenGL.so.0']) {
  const src = join('/usr/lib/x86_64-linux-gnu', lib);
  if (existsSync(src)) cpSync(src, join(out, 'glvnd', lib), { dereference: true });
}
execFileSync('sh', [
  '-c',
  `xz -T2 -6 -c ${JSON.stringify(process.execPath)} > ${JSON.stringify(join(out, 'node.xz'))}`,
]);
writeFileSync(
  join(out, 'run.sh'),
  `#!/usr/bin/env bash
# Runs the ot benchmark with WebGPU required. Env as for pnpm bench (BENCH_SECTIONS, BENCH_QUICK, BENCH_OUT, ...).
set -uo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH; }
d=node_modules/webgpu/dist/linux-x64; [ -f $d/dawn.node ] || xz -dc $d/dawn.node.xz > $d/dawn.node
if ! ldconfig -p | grep -q libvulkan.so.1; then export LD_LIBRARY_PATH="$PWD\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
if ! ldconfig -p | grep -q libGLdispatch.so.0; then export LD_LIBRARY_PATH="$PWD/glvnd\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ] && [ -z "\${VK_ICD_FILENAMES:-}" ]; then export VK_ICD_FILENAMES="$icd"; fi
done
export REQUIRE_WEBGPU=1
node bench.mjs
`,
);
console.log(`device bundle written to ${out}`);
