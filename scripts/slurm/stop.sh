#!/usr/bin/env bash
# Stops the single-node Slurm that scripts/slurm/start.sh started (slurmd, slurmctld, and munged when start.sh
# started it), by the process ids in their pid files. Idempotent. Jobs still queued are lost with the state folder
# only if you delete $FAIRCLIP_SLURM_DIR (default /tmp/fairclip-slurm); this script keeps it.
set -uo pipefail
dir="${FAIRCLIP_SLURM_DIR:-/tmp/fairclip-slurm}"
stop() { # pid file, name
  [ -f "$1" ] || return 0
  local pid
  pid="$(cat "$1")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stop.sh: stopped $2 ($pid)"
  fi
  rm -f "$1"
}
stop "$dir/run/slurmd.pid" slurmd
stop "$dir/run/slurmctld.pid" slurmctld
stop "$dir/run/munged.pid" munged
exit 0
