#!/usr/bin/env bash
# The main job on the embedded default: the FairCLIP reproduction grid and its report (examples/reproduce).
# Falls back to the fairness report of the shipped example scores when the apps are not built.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f examples/reproduce/dist/main.js ]; then
  exec node examples/reproduce/dist/main.js "$@"
fi
exec node examples/fairness-report/dist/cli.js "$@"
