// Builds a self-contained copy of this package's GPU-relevant test files and benchmark (bench/run.ts) for a machine
// that has a GPU but no npm registry and no node_modules, into dist/device/ (ignored), with the shared bundler
// scripts/device-build.mjs (which lists the output). Fixtures are inlined (device/fixtures-shim.ts).
// Usage: node device/build.mjs   (from packages/compute); there: bash dist/device/run.sh [test names... | bench]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDeviceBundle } from '../../../scripts/device-build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');

await buildDeviceBundle({
  pkg,
  tests: ['conformance', 'webgpu', 'device-lost', 'init', 'reference', 'units'],
  seedFastCheck: true,
  fixtures: join(here, 'fixtures-shim.ts'),
  bench: join(pkg, 'bench', 'run.ts'),
  run: {
    header: 'Runs the bundled tests and the benchmark with WebGPU required. Usage: bash run.sh [test names...]',
    body: (tests) => `cd "$here"
export REQUIRE_WEBGPU=1
status=0
for t in \${@:-${tests.join(' ')}}; do node "$t.mjs" || status=1; done
exit $status
`,
  },
});
