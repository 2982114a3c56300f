#!/usr/bin/env bash
# The main job on the embedded default. Today: the fairness report of the shipped example scores
# (examples/fairness-report). It grows into the full FairCLIP reproduction (examples/reproduce) as those land.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f examples/reproduce/dist/main.js ]; then
  exec node examples/reproduce/dist/main.js "$@"
fi
exec node examples/fairness-report/dist/cli.js "$@"
