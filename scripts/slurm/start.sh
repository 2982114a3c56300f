#!/usr/bin/env bash
# Starts a single-node Slurm (munged, slurmctld and slurmd on this machine) for the reproduce app's Slurm tests:
# writes slurm.conf into $FAIRCLIP_SLURM_DIR (default /tmp/fairclip-slurm; /etc/slurm is never touched), starts
# the daemons and waits until the node takes jobs. Idempotent: daemons already running from this folder are kept.
# Prints `export SLURM_CONF=...` (eval it, or pass SLURM_CONF to the Slurm commands). Stop with scripts/slurm/stop.sh.
# Needs root (munged and slurmd run as root here) and Debian's slurm-wlm and munge (scripts/slurm/install.sh).
set -euo pipefail
dir="${FAIRCLIP_SLURM_DIR:-/tmp/fairclip-slurm}"
for cmd in munged slurmctld slurmd sinfo; do
  command -v "$cmd" >/dev/null || { echo "start.sh: $cmd not found; run scripts/slurm/install.sh first" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "start.sh: run as root (munged and slurmd need it)" >&2; exit 2; }
mkdir -p "$dir"/{state,spool,log,run}
node="$(hostname -s)"
cpus="$(nproc)"
mem_mb=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024 - 512 ))
conf="$dir/slurm.conf"
# cgroup-free settings that work in a container: processes tracked by parent pid (proctrack/linuxproc), no task
# binding (task/none), no accounting daemon (so `sacct` is unavailable: the app reads squeue and its own files).
cat >"$conf.new" <<CONF
ClusterName=fairclip-test
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=600
KillWait=5
SchedulerParameters=sched_interval=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
NodeName=$node CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
# plugstack.conf next to slurm.conf (Debian's /etc/slurm one would otherwise be looked up there too)
: >"$dir/plugstack.conf"
if [ -f "$conf" ] && cmp -s "$conf" "$conf.new"; then rm "$conf.new"; else mv "$conf.new" "$conf"; fi
export SLURM_CONF="$conf"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# munge: the key comes with Debian's package; create one when it is missing
if ! pgrep -x munged >/dev/null; then
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge && dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  if id munge >/dev/null 2>&1; then
    runuser -u munge -- munged
  else
    munged --force
  fi
  for _ in $(seq 1 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
  cp /run/munge/munged.pid "$dir/run/munged.pid" 2>/dev/null || pgrep -x munged >"$dir/run/munged.pid"
  echo "start.sh: started munged" >&2
fi
if ! alive "$dir/run/slurmctld.pid"; then
  slurmctld -f "$conf"
  echo "start.sh: started slurmctld" >&2
fi
if ! alive "$dir/run/slurmd.pid"; then
  slurmd -f "$conf"
  echo "start.sh: started slurmd" >&2
fi

# wait until the node is idle (or mixed/allocated: already running jobs)
for _ in $(seq 1 60); do
  state="$(sinfo -h -n "$node" -o %t 2>/dev/null || true)"
  case "$state" in
    idle* | mix* | alloc*) echo "export SLURM_CONF=$conf"; exit 0 ;;
    down* | drain*) scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 1
done
echo "start.sh: the node $node did not become idle (state: ${state:-unknown}); see $dir/log/" >&2
exit 1
