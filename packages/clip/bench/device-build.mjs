// Builds a self-contained copy of @fairclip/clip's GPU-relevant tests (model-golden, model-resnet) and the GPU
// benchmark (bench/device.ts) for a machine with a GPU but no npm registry or node_modules, into dist/device/
// (ignored), with the shared bundler scripts/device-build.mjs (which lists the output). Fixtures are read at run
// time from the repository checkout (test-fixtures/data, or FAIRCLIP_FIXTURES_DIR). On the machine, from the
// repository root:
//   bash packages/clip/dist/device/run.sh [tests|bench|all]     # default: tests, then the benchmark
// Usage here: node bench/device-build.mjs   (from packages/clip)
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDeviceBundle } from '../../../scripts/device-build.mjs';

const here = dirname(fileURLToPath(import.meta.url));

await buildDeviceBundle({
  pkg: resolve(here, '..'),
  tests: ['model-golden', 'model-resnet'],
  fixtures: 'runtime',
  bench: join(here, 'device.ts'),
  benchGradients: true,
  // One copy of tfjs-core: its ESM build (register_all_gradients imports it), not the CommonJS "main" as well.
  mainFields: ['module', 'main'],
  extraFiles: [join(here, 'torch_worker.py')],
  run: {
    header: `Runs the bundled GPU tests, then the benchmark, with WebGPU required. From the repository root:
  bash packages/clip/dist/device/run.sh [tests|bench|all]`,
    body: (tests) => `export REQUIRE_WEBGPU=1 FAIRCLIP_SLOW_TESTS=1
status=0
what="\${1:-all}"
if [ "$what" != bench ]; then for t in ${tests.join(' ')}; do node "$here/$t.mjs" || status=1; done; fi
if [ "$what" != tests ]; then BENCH_TORCH_SCRIPT="$here/torch_worker.py" node "$here/bench.mjs" || status=1; fi
exit $status
`,
  },
});
