// Shared bundler for the GPU device machines (a GPU, but no npm registry, no pnpm and no node_modules). A package's
// thin wrapper (packages/compute/device/build.mjs, packages/clip/bench/device-build.mjs,
// packages/ot/bench/device-build.mjs) passes its config to buildDeviceBundle, which writes <package>/dist/device/:
//   <test>.mjs            one bundle per test file (vitest replaced by packages/compute/device/vitest-shim.ts)
//   bench.mjs             the package's benchmark entry
//   chunks/               code shared by several bundles (only when there is more than one entry)
//   node_modules/webgpu   the `webgpu` package with only linux-x64's dawn.node (xz)
//   *.wasm                tfjs-backend-wasm binaries, next to whichever file holds the wasm glue
//   libvulkan.so.1        this machine's Vulkan loader (the device image may lack one); node.xz (this node binary)
//   glvnd/                (config.glvnd) glvnd dispatch libraries, which NVIDIA's Vulkan ICD needs
//   run.sh                unpacks node, Dawn and the loader, finds NVIDIA's ICD, then runs config.run's body
// Workspace packages are bundled from source (the "@fairclip/source" condition). Not run directly.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const computePkg = join(root, 'packages', 'compute');
const requireFromRoot = createRequire(join(root, 'package.json'));
const requireFromCompute = createRequire(join(computePkg, 'package.json'));
const vitestShim = join(computePkg, 'device', 'vitest-shim.ts');

// Stand-in for @fairclip/test-fixtures that reads test-fixtures/data (or FAIRCLIP_FIXTURES_DIR) at run time,
// relative to the working directory: run the bundles from the repository root.
const runtimeFixturesShim = `import { existsSync, readFileSync } from 'node:fs';
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
`;

/**
 * @typedef {object} DeviceBundleConfig
 * @property {string} pkg                 the package folder (absolute)
 * @property {string[]} [tests]           test/<name>.test.ts files to bundle; DEVICE_TESTS (comma list) overrides
 * @property {boolean} [seedFastCheck]    seed fast-check in each test bundle as config/vitest.setup.ts does
 * @property {string} [fixtures]          module standing in for @fairclip/test-fixtures, or 'runtime'
 * @property {string} bench               the benchmark entry file (absolute)
 * @property {boolean} [benchGradients]   load tfjs-core's gradients before the benchmark
 * @property {string[]} [mainFields]      esbuild mainFields (e.g. ['module', 'main'] for one copy of tfjs-core)
 * @property {boolean} [glvnd]            also ship glvnd's dispatch libraries
 * @property {string[]} [extraFiles]      files copied next to the bundles (absolute)
 * @property {{ header: string, body: (tests: string[]) => string }} run  run.sh's usage comment and its last lines
 */

/** @param {DeviceBundleConfig} config */
export async function buildDeviceBundle(config) {
  const { pkg } = config;
  const out = join(pkg, 'dist', 'device');
  const entriesDir = join(out, 'entries');
  const requireFromPkg = createRequire(join(pkg, 'package.json'));
  const esbuild = createRequire(requireFromRoot.resolve('tsup'))('esbuild');
  const fromVitest = createRequire(requireFromRoot.resolve('vitest/package.json'));
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a by-hand build for the device machines, never a turbo task
  const tests = config.tests?.length ? (process.env.DEVICE_TESTS ?? config.tests.join(',')).split(',') : [];

  rmSync(out, { recursive: true, force: true });
  mkdirSync(entriesDir, { recursive: true });

  let fixtures = config.fixtures;
  if (fixtures === 'runtime') {
    fixtures = join(entriesDir, 'fixtures-shim.ts');
    writeFileSync(fixtures, runtimeFixturesShim);
  }

  const gradients = "import '@tensorflow/tfjs-core/dist/register_all_gradients';\n";
  const entryPoints = {};
  for (const t of tests) {
    const file = join(entriesDir, `${t}.ts`);
    const seed = config.seedFastCheck
      ? `const seed = Number(process.env.FC_SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
fc.configureGlobal({ seed, ...(process.env.FC_NUM_RUNS ? { numRuns: Number(process.env.FC_NUM_RUNS) } : {}) });
console.log('[fast-check] FC_SEED=' + seed);
`
      : '';
    writeFileSync(
      file,
      `${config.seedFastCheck ? "import fc from 'fast-check';\n" : ''}${gradients}import { runDeclared } from ${JSON.stringify(vitestShim)};
${seed}await import(${JSON.stringify(join(pkg, 'test', `${t}.test.ts`))});
const summary = { passed: 0, failed: 0, skipped: 0 };
await runDeclared(${JSON.stringify(`${t}.test.ts`)}, summary);
console.log('SUMMARY ${t}.test.ts ' + JSON.stringify(summary));
process.exit(summary.failed ? 1 : 0);
`,
    );
    entryPoints[t] = file;
  }
  if (config.benchGradients) {
    entryPoints.bench = join(entriesDir, 'bench.ts');
    writeFileSync(entryPoints.bench, `${gradients}await import(${JSON.stringify(config.bench)});\n`);
  } else {
    entryPoints.bench = config.bench;
  }

  const plugin = {
    name: 'device-resolve',
    setup(build) {
      build.onResolve({ filter: /^vitest$/ }, () => ({ path: vitestShim }));
      if (fixtures) build.onResolve({ filter: /^@fairclip\/test-fixtures$/ }, () => ({ path: fixtures }));
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

  // Chunks only serve to share code between several bundles.
  const splitting = Object.keys(entryPoints).length > 1;
  await esbuild.build({
    entryPoints,
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    ...(splitting ? { splitting, chunkNames: 'chunks/[name]-[hash]' } : {}),
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['webgpu'],
    conditions: ['@fairclip/source'],
    ...(config.mainFields ? { mainFields: config.mainFields } : {}),
    plugins: [plugin],
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
    },
  });
  rmSync(entriesDir, { recursive: true, force: true });

  const xz = (src, dst) => execFileSync('sh', ['-c', `xz -T2 -6 -c ${JSON.stringify(src)} > ${JSON.stringify(dst)}`]);
  // webgpu (Dawn) with only the linux-x64 binary
  const webgpuDir = dirname(requireFromCompute.resolve('webgpu/package.json'));
  const dst = join(out, 'node_modules', 'webgpu');
  mkdirSync(join(dst, 'dist', 'linux-x64'), { recursive: true });
  for (const f of ['package.json', 'index.js']) copyFileSync(join(webgpuDir, f), join(dst, f));
  xz(join(webgpuDir, 'dist', 'linux-x64', 'dawn.node'), join(dst, 'dist', 'linux-x64', 'dawn.node.xz'));
  // tfjs wasm binaries next to the bundles
  const wasmDir = dirname(requireFromCompute.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const wasmDirs = splitting ? [out, join(out, 'chunks')] : [out];
  for (const f of readdirSync(join(wasmDir, 'dist'))) {
    if (!f.endsWith('.wasm')) continue;
    for (const dir of wasmDirs) copyFileSync(join(wasmDir, 'dist', f), join(dir, f));
  }
  for (const f of config.extraFiles ?? []) copyFileSync(f, join(out, basename(f)));
  // Vulkan loader, glvnd (NVIDIA's ICD, libGLX_nvidia.so.0, needs it) and node itself
  const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].find((p) => existsSync(p));
  if (loader) cpSync(loader, join(out, 'libvulkan.so.1'), { dereference: true });
  if (config.glvnd) {
    mkdirSync(join(out, 'glvnd'), { recursive: true });
    for (const lib of ['libGLdispatch.so.0', 'libGLX.so.0', 'libEGL.so.1', 'libOpenGL.so.0']) {
      const src = join('/usr/lib/x86_64-linux-gnu', lib);
      if (existsSync(src)) cpSync(src, join(out, 'glvnd', lib), { dereference: true });
    }
  }
  xz(process.execPath, join(out, 'node.xz'));

  const glvndLine = config.glvnd
    ? `if ! ldconfig -p | grep -q libGLdispatch.so.0; then export LD_LIBRARY_PATH="$here/glvnd\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi\n`
    : '';
  writeFileSync(
    join(out, 'run.sh'),
    `#!/usr/bin/env bash
${config.run.header.replace(/^/gm, '# ')}
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v node >/dev/null || { xz -dc "$here/node.xz" > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH; }
d="$here/node_modules/webgpu/dist/linux-x64"; [ -f "$d/dawn.node" ] || xz -dc "$d/dawn.node.xz" > "$d/dawn.node"
if ! ldconfig -p | grep -q libvulkan.so.1; then export LD_LIBRARY_PATH="$here\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
${glvndLine}for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ] && [ -z "\${VK_ICD_FILENAMES:-}" ]; then export VK_ICD_FILENAMES="$icd"; fi
done
${config.run.body(tests)}`,
  );
  console.log(`device bundle written to ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.error(
    'scripts/device-build.mjs is a library: run a package wrapper, e.g. node device/build.mjs in packages/compute',
  );
  process.exitCode = 2;
}
