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
# The pieces it shares with two_nodes.sh (munged, slurm.conf, the stop by PID, the facts
# about Debian's Slurm they rely on) are in cluster_lib.sh. Here the hostname may be
# anything, so slurmd runs as `-N localhost` with NodeAddr=127.0.0.1 and the CPU line of
# `slurmd -C`.
set -u
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
cluster_name=private_slurm
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"
cluster_require_tools
cluster_require_root_and_cgroups
cpu_line=$(cluster_cpu_line) || exit $?

cluster_make_base
trap cluster_stop EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

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

cluster_start_munged
mkdir -p "$base/spool/localhost"
conf="$base/slurm.conf"
cluster_write_conf "$conf" "localhost(127.0.0.1)" "$ctld_port" "$slurmd_port" \
  "${cpu_line/NodeName=* CPUs=/NodeName=localhost NodeAddr=127.0.0.1 CPUs=} State=UNKNOWN" localhost
export SLURM_CONF="$conf"

slurmctld -D -c -i -f "$conf" > "$base/log/slurmctld.out" 2>&1 &
cluster_add_pid $!
cluster_ctld_pid=$!
slurmd -D -N localhost -f "$conf" > "$base/log/slurmd.out" 2>&1 &
cluster_add_pid $!
cluster_wait_idle 1 "$base/log/slurmd.out" "$base/log/slurmd-localhost.log"
export POLYPSF_SLURM_BASE="$base"
"$@"
