#!/usr/bin/env bash
# Installs Debian's Slurm (slurm-wlm: slurmctld, slurmd and the client commands) and munge for the reproduce app's
# Slurm tests (examples/reproduce/test/slurm.e2e.test.ts). Idempotent: does nothing when they are installed.
# Needs root and apt (Debian/Ubuntu). Then scripts/slurm/start.sh starts a single-node cluster.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null &&
  command -v munged >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install.sh: apt-get not found: install Slurm (slurmctld, slurmd, sbatch) and munge with this system's packages" >&2
  exit 2
fi
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (apt-get install)" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
echo "install.sh: installed $(slurmctld -V) and munge"
