// Builds a self-contained copy of this package's benchmark (bench/run.ts) for a GPU machine that has no npm registry
// and no node_modules, into dist/device/ (ignored), with the shared bundler scripts/device-build.mjs (which lists
// the output), including glvnd's libraries for NVIDIA's Vulkan ICD. run.sh passes its environment on to the
// benchmark (BENCH_SECTIONS, BENCH_QUICK, BENCH_OUT, ... as for pnpm bench).
// Usage: node bench/device-build.mjs   (from packages/ot); there: bash dist/device/run.sh
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDeviceBundle } from '../../../scripts/device-build.mjs';

const here = dirname(fileURLToPath(import.meta.url));

await buildDeviceBundle({
  pkg: resolve(here, '..'),
  bench: join(here, 'run.ts'),
  glvnd: true,
  run: {
    header:
      'Runs the ot benchmark with WebGPU required, as the full variant (FAIRCLIP_BENCH_FULL=1 unless set). Env as for\n' +
      'pnpm bench (BENCH_SECTIONS, BENCH_QUICK, BENCH_OUT, ...).',
    body: () => `cd "$here"
export REQUIRE_WEBGPU=1 FAIRCLIP_BENCH_FULL="\${FAIRCLIP_BENCH_FULL:-1}"
node bench.mjs
`,
  },
});
