#!/usr/bin/env bash
# A private, single-node Slurm cluster on loopback for the tests (and for trying
# docs/slurm.md by hand); no system service is used or changed, nothing is left behind.
#
#   tests/slurm/private_slurm.sh COMMAND [ARGS...]
#
# starts munged on a private socket and slurmctld and slurmd on free non-default loopback
# ports, all under one mktemp directory, runs COMMAND with SLURM_CONF pointing at the
# generated slurm.conf (so sbatch, squeue, scontrol, scancel, srun talk to this cluster),
# then cancels any job still there, stops the daemons by their PIDs and removes the
# directory. Its exit status is COMMAND's; 77 when the cluster cannot be had (no
# slurm-wlm/munge, not root, fewer than 2 CPUs, no cgroup file system or one slurmd cannot
# use), with the reason on stderr.
# `tests/slurm/private_slurm.sh bash` gives an interactive shell on the cluster.
#
# Facts this relies on (Debian 12, Slurm 22.05): munged wants its socket directory mode
# 755; AuthInfo=socket=... keeps Slurm away from any system munge; the hostname may be
# anything, so slurmd runs as `-N localhost` with NodeAddr=127.0.0.1 and the CPU line of
# `slurmd -C`; Debian's Open MPI starts under srun only with MpiDefault=pmix. Unlike a
# site's cluster: no accounting (sacct has nothing to show), and a requeued job waits
# about 5 s (cred_expire, sched_interval) rather than 2 to 3 minutes before it starts again.
# The daemons run as root (SlurmUser=root), as the tests do.
set -u
skip() { echo "private_slurm: SKIP: $*" >&2; exit 77; }
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel srun; do
  command -v "$tool" > /dev/null 2>&1 ||
    PATH="$PATH:/usr/sbin" command -v "$tool" > /dev/null 2>&1 ||
    skip "'$tool' not found: install Debian's slurm-wlm and munge (make deps does)"
done
PATH="$PATH:/usr/sbin"
[ "$(id -u)" = 0 ] || skip "the private cluster's daemons run as root (SlurmUser=root); run as root"
# slurmd needs a cgroup file system (see below, where it refuses other layouts).
grep -q ' /sys/fs/cgroup ' /proc/self/mountinfo ||
  skip "no cgroup file system is mounted at /sys/fs/cgroup (a container?): slurmd cannot start"

base=$(mktemp -d "${TMPDIR:-/tmp}/polypsf-slurm.XXXXXX") || exit 1
chmod 755 "$base"
munged_pid= slurmctld_pid= slurmd_pid=
stop_cluster() {
  # Jobs first (their slurmstepd processes belong to slurmd), then the daemons by PID.
  if [ -n "$slurmctld_pid" ] && kill -0 "$slurmctld_pid" 2>/dev/null; then
    scancel --quiet --user=root 2>/dev/null
    for _ in $(seq 1 50); do
      [ -z "$(squeue -h -t running,completing,suspended -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  local pid
  for pid in $slurmd_pid $slurmctld_pid $munged_pid; do kill -TERM "$pid" 2>/dev/null; done
  for pid in $slurmd_pid $slurmctld_pid $munged_pid; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$base"
}
trap stop_cluster EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

cpu_line=$(slurmd -C 2>/dev/null | head -n 1)
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<< "$cpu_line")
[ -n "$cpus" ] || skip "slurmd -C did not describe this machine"
[ "$cpus" -ge 2 ] || skip "the Slurm tests need 2 CPUs, this machine has $cpus"

# Two free loopback ports, away from Slurm's 6817/6818: random ones nothing answers on.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 20000))
    [ "$port" != "${1:-}" ] && ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  done
  echo "$port"
}
ctld_port=$(free_port) slurmd_port=$(free_port "$ctld_port")

mkdir -p "$base/munge" "$base/state" "$base/spool" "$base/log"
chmod 755 "$base/munge"   # munged refuses a socket directory others can write to
chmod 700 "$base/state" "$base/spool"
dd if=/dev/urandom of="$base/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$base/munge/munge.key"
socket="$base/munge/munge.socket"
munged --foreground --force --socket="$socket" --key-file="$base/munge/munge.key" \
  --pid-file="$base/munge/munged.pid" --log-file="$base/log/munged.log" \
  --seed-file="$base/munge/munged.seed" 2>> "$base/log/munged.log" &
munged_pid=$!

conf="$base/slurm.conf"
cat > "$conf" <<CONF
ClusterName=polypsftest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits this long before it starts again (default 120 s).
AuthInfo=socket=$socket,cred_expire=5
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=pmix
SchedulerType=sched/builtin
# Look at pending jobs every second (default 60 s): a requeued job starts as soon as its
# cred_expire wait is over.
SchedulerParameters=sched_interval=1
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# Time-limit handling: SIGTERM, then SIGKILL KillWait seconds later.
KillWait=10
MinJobAge=300
${cpu_line/NodeName=* CPUs=/NodeName=localhost NodeAddr=127.0.0.1 CPUs=} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$conf"

for _ in $(seq 1 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { cat "$base/log/munged.log" >&2; skip "munged did not start"; }
slurmctld -D -c -i -f "$conf" > "$base/log/slurmctld.out" 2>&1 &
slurmctld_pid=$!
slurmd -D -N localhost -f "$conf" > "$base/log/slurmd.out" 2>&1 &
slurmd_pid=$!
ready=
for _ in $(seq 1 100); do
  if [ "$(sinfo -h -N -o %T 2>/dev/null)" = idle ]; then ready=1; break; fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  # Slurm 22.05's slurmd always starts its cgroup plugin, whatever ProctrackType and
  # TaskPlugin say, and refuses a machine whose cgroups it cannot use: none mounted (a
  # container), a cgroup2 mount while the process still sits in cgroup v1 hierarchies
  # ("Hybrid mode is not supported"), an unexpected file system type. That is the machine,
  # not polypsf: skip, with slurmd's own words. Any other failure to start is a failure.
  cgroup_error=$(grep -h -i -m 1 -E "cgroup|hybrid mode" "$base/log/slurmd.out" "$base/log/slurmd.log" 2>/dev/null | head -n 1)
  [ -n "$cgroup_error" ] && skip "slurmd cannot use this machine's cgroups: ${cgroup_error#slurmd: }"
  tail -n 20 "$base/log/"* >&2
  echo "private_slurm: the cluster did not come up (logs above)" >&2
  exit 1
fi
export POLYPSF_SLURM_BASE="$base"
"$@"
