# The pieces of a private Slurm cluster, sourced by private_slurm.sh (one node on loopback)
# and two_nodes.sh (two nodes in network namespaces): the checks that decide whether a
# cluster can be had (exit 77 with the reason otherwise), munged on a private socket, the
# slurm.conf every such cluster shares, waiting for the nodes, and the stop by PID.
#
# The caller sets, before sourcing: cluster_name (the prefix of its messages). It then uses:
#   cluster_require_tools / cluster_require_root_and_cgroups / cluster_cpu_line
#   cluster_make_base              -> $base (mktemp directory, mode 755) and $base/{munge,state,spool,log}
#   cluster_start_munged           -> $socket, munged's PID in cluster_pids
#   cluster_write_conf CONF CTLD_HOST CTLD_PORT SLURMD_PORT NODE_LINES PARTITION_NODES
#   cluster_add_pid PID            -> stopped (TERM, then KILL) by cluster_stop, last added first
#   cluster_ctld_pid               slurmctld's PID: jobs are cancelled only while it runs
#   cluster_wait_idle N LOGS...    -> waits until N nodes are idle; skips (77) on slurmd's
#                                     cgroup refusal, fails (exit 1) with the logs otherwise
#   cluster_client                 an array prefixed to client commands (sinfo, scancel, ...):
#                                     empty on loopback, `nsenter --net=...` in a namespace
#   cluster_stop                   cancels every job, stops the daemons by PID, removes $base
#
# Facts this relies on (Debian 12, Slurm 22.05): munged wants its socket directory mode
# 755; AuthInfo=socket=... keeps Slurm away from any system munge; Debian's Open MPI starts
# under srun only with MpiDefault=pmix (the mpi_pmix plugin of slurm-wlm-basic-plugins,
# linked to libpmix2, the PMIx Open MPI 4.1 uses). No accounting (sacct has nothing to
# show); a requeued job waits about 5 s (cred_expire, sched_interval) rather than 2 to 3
# minutes before it starts again. The daemons run as root (SlurmUser=root), as the tests do.
cluster_pids=()
cluster_ctld_pid=
cluster_client=()
base=

cluster_skip() { echo "$cluster_name: SKIP: $*" >&2; exit 77; }

cluster_require_tools() {  # the daemons and clients, and any more tools named
  local tool
  for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel srun "$@"; do
    command -v "$tool" > /dev/null 2>&1 ||
      PATH="$PATH:/usr/sbin" command -v "$tool" > /dev/null 2>&1 ||
      cluster_skip "'$tool' not found: install Debian's slurm-wlm and munge (make deps does)"
  done
  PATH="$PATH:/usr/sbin"
}

cluster_require_root_and_cgroups() {
  [ "$(id -u)" = 0 ] || cluster_skip "the private cluster's daemons run as root (SlurmUser=root); run as root"
  # slurmd needs a cgroup file system (see cluster_wait_idle, where it refuses other layouts).
  grep -q ' /sys/fs/cgroup ' /proc/self/mountinfo ||
    cluster_skip "no cgroup file system is mounted at /sys/fs/cgroup (a container?): slurmd cannot start"
}

# The first line of `slurmd -C` (NodeName=... CPUs=... RealMemory=...); skips below 2 CPUs.
cluster_cpu_line() {
  local line cpus
  line=$(slurmd -C 2>/dev/null | head -n 1)
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<< "$line")
  [ -n "$cpus" ] || cluster_skip "slurmd -C did not describe this machine"
  [ "$cpus" -ge 2 ] || cluster_skip "the Slurm tests need 2 CPUs, this machine has $cpus"
  echo "$line"
}

cluster_make_base() {
  base=$(mktemp -d "${TMPDIR:-/tmp}/polypsf-slurm.XXXXXX") || exit 1
  chmod 755 "$base"
  mkdir -p "$base/munge" "$base/state" "$base/spool" "$base/log"
  chmod 755 "$base/munge"   # munged refuses a socket directory others can write to
  chmod 700 "$base/state" "$base/spool"
}

cluster_add_pid() { cluster_pids+=("$1"); }

# One munged for the whole cluster: its socket is a file, which every network namespace
# reaches (munge would run once per host on a real cluster, all with the same key).
cluster_start_munged() {
  dd if=/dev/urandom of="$base/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$base/munge/munge.key"
  socket="$base/munge/munge.socket"
  munged --foreground --force --socket="$socket" --key-file="$base/munge/munge.key" \
    --pid-file="$base/munge/munged.pid" --log-file="$base/log/munged.log" \
    --seed-file="$base/munge/munged.seed" 2>> "$base/log/munged.log" &
  cluster_add_pid $!
  for _ in $(seq 1 50); do [ -S "$socket" ] && break; sleep 0.1; done
  [ -S "$socket" ] || { cat "$base/log/munged.log" >&2; cluster_skip "munged did not start"; }
}

# $1 conf file, $2 SlurmctldHost value, $3 and $4 the ports, $5 the NodeName lines, $6 the
# partition's nodes. Spool, PID and log files carry the node name (%n): several slurmd
# share the directory. $7 (optional) more lines.
cluster_write_conf() {
  cat > "$1" <<CONF
ClusterName=polypsftest
SlurmctldHost=$2
SlurmctldPort=$3
SlurmdPort=$4
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits this long before it starts again (default 120 s).
AuthInfo=socket=$socket,cred_expire=5
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool/%n
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd-%n.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd-%n.log
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
${7:-}
$5
PartitionName=debug Nodes=$6 Default=YES MaxTime=INFINITE State=UP
CONF
}

# Waits (10 s) until $1 nodes are idle; then returns. Otherwise: slurmd's cgroup refusal
# skips, anything else fails with the last lines of the logs.
cluster_wait_idle() {
  local want=$1; shift
  for _ in $(seq 1 100); do
    [ "$("${cluster_client[@]}" sinfo -h -N -t idle -o %N 2>/dev/null | wc -l)" -ge "$want" ] && return 0
    sleep 0.1
  done
  # Slurm 22.05's slurmd always starts its cgroup plugin, whatever ProctrackType and
  # TaskPlugin say, and refuses a machine whose cgroups it cannot use: none mounted (a
  # container), a cgroup2 mount while the process still sits in cgroup v1 hierarchies
  # ("Hybrid mode is not supported"), an unexpected file system type. That is the machine,
  # not polypsf: skip, with slurmd's own words. Any other failure to start is a failure.
  local cgroup_error
  cgroup_error=$(grep -h -i -m 1 -E "cgroup|hybrid mode" "$@" 2>/dev/null | head -n 1)
  [ -n "$cgroup_error" ] && cluster_skip "slurmd cannot use this machine's cgroups: ${cgroup_error#slurmd: }"
  tail -n 20 "$base/log/"* >&2
  echo "$cluster_name: the cluster did not come up (logs above)" >&2
  exit 1
}

cluster_stop() {
  # Jobs first (their slurmstepd processes belong to slurmd), then the daemons by PID, the
  # last started first.
  # A client retries a slurmctld that is gone for a long time: none is asked then, and none
  # for more than 10 s.
  if [ -n "$cluster_ctld_pid" ] && kill -0 "$cluster_ctld_pid" 2>/dev/null; then
    timeout 10 "${cluster_client[@]}" scancel --quiet --user=root 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$cluster_ctld_pid" 2>/dev/null || break
      [ -z "$(timeout 10 "${cluster_client[@]}" squeue -h -t running,completing,suspended -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  local i pid
  for ((i = ${#cluster_pids[@]} - 1; i >= 0; i--)); do kill -TERM "${cluster_pids[i]}" 2>/dev/null; done
  for ((i = ${#cluster_pids[@]} - 1; i >= 0; i--)); do
    pid=${cluster_pids[i]}
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  cluster_pids=()
  [ -n "$base" ] && rm -rf "$base"
}
