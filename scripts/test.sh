#!/usr/bin/env bash
# Runs the whole test suite: lint, typecheck and every package's tests, then the packed packages under plain node
# (scripts/pack-smoke.mjs), then prints one summary line.
# REQUIRE_WEBGPU=1 turns "no WebGPU adapter" from a skip into a failure (CI sets it).
set -uo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
if [ -z "${FC_SEED:-}" ]; then
  FC_SEED=$(node -e 'console.log(Math.floor(Math.random() * 2 ** 31))')
fi
export FC_SEED
echo "test: FC_SEED=$FC_SEED${FC_NUM_RUNS:+ FC_NUM_RUNS=$FC_NUM_RUNS} REQUIRE_WEBGPU=${REQUIRE_WEBGPU:-0} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-<unset>}"
rm -rf packages/*/.test-results examples/*/.test-results test-fixtures/.test-results

status=0
node scripts/check-boundaries.mjs || status=1
node scripts/api-report.mjs --check || status=1
pnpm exec biome ci . || status=1
pnpm exec turbo run typecheck test --concurrency=2 --continue --output-logs=full || status=1
# The published packages as users get them: packed, installed from the tarballs, README examples under plain node.
node scripts/pack-smoke.mjs || status=1
node scripts/test-summary.mjs || status=1
exit $status
