#!/usr/bin/env bash
# Two nodes for real on one machine: jobs/slurm/polypsf.sbatch on a private two-node Slurm
# whose nodes are network + UTS namespaces (hostnames node1 and node2, a veth pair between
# them with private addresses that exist only inside the two namespaces), so that Open MPI
# sees two hosts and talks TCP between them (srun --mpi=pmix). Checks:
#   1. a 2-node × 2-rank job: the log names node1 and node2, each with its own budget
#      (SLURM_MEM_PER_NODE) and the ranks Slurm placed there (SLURM_PROCID/SLURMD_NODENAME
#      of every task, recorded by a wrapper); Open MPI's TCP transport between the nodes;
#      /psf equal to a one-host mpirun run bit for bit (the whole file up to provenance);
#   1b. a step whose tasks fail to launch on node2 fails the job (non-zero exit code);
#   2. the fqpm coronagraph of the rank-group tests (tests/sched/rank_groups_common.sh),
#      1 rank per node, a node budget no single rank fits: one FFTW-MPI rank group across
#      node1 and node2, /psf and /cube equal to the 1-rank run to 1e-12 of the peak;
#   3. a node dies: once >= 2 checkpoints are on disk, node2's slurmd, its slurmstepd and
#      ranks (every process in node2's namespace) are killed; the job ends non-zero, the
#      .partial is intact (h5dump reads it; completed flags only for slices on disk), and
#      the requeued job, given node1 alone (scontrol update, as an operator would), resumes
#      and gives the bytes of an uninterrupted run.
# Everything lives in one mktemp directory; a trap stops the daemons by PID, kills what is
# left in the two namespaces and deletes them (and with them the veth pair). Exit 77 with
# the reason when network namespaces, root, slurm-wlm/munge or PMIx are missing. About
# 3 minutes on a loaded 2-core machine (30-40 s of it slurmctld noticing the dead node).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != --inside ]; then
  exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
  cluster_name=two_nodes
  source "$here/cluster_lib.sh"
  cluster_require_tools ip nsenter unshare hostname h5dump h5diff mpirun
  cluster_require_root_and_cgroups
  cpu_line=$(cluster_cpu_line) || exit $?
  node_hw=${cpu_line#NodeName=* }   # CPUs=... RealMemory=... of this machine, for each node

  top=$(mktemp -d "${TMPDIR:-/tmp}/polypsf-two-nodes.XXXXXX") || exit 1
  chmod 755 "$top"
  ns=(polypsf-$$-node1 polypsf-$$-node2)
  made_ns=()
  teardown() {
    cluster_stop
    # What is still in a namespace (a slurmstepd or rank the cancel did not end) was
    # started by this test: kill it by PID, then delete the namespace (its veth end goes
    # with it, and the peer with that).
    local n pid
    for n in "${made_ns[@]}"; do
      for pid in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
      ip netns del "$n" 2>/dev/null
    done
    rm -rf "$top"
  }
  trap teardown EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  ip netns add "${ns[0]}" 2>/dev/null || cluster_skip "cannot create a network namespace (ip netns add): not allowed here"
  made_ns+=("${ns[0]}")
  ip netns add "${ns[1]}" || exit 1
  made_ns+=("${ns[1]}")
  # A /24 of 10.0.0.0/8 that no address or route of this machine touches.
  for _ in $(seq 1 50); do
    net="10.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))"
    ! ip -4 -o addr show | grep -q " ${net%.*}\." && ! ip -4 route show | grep -q "^${net%.*}\." && break
  done
  addr=("$net.1" "$net.2")
  # The veth pair is created with its ends already inside the namespaces: the machine's own
  # network never sees it.
  ip link add pp-node1 netns "${ns[0]}" type veth peer name pp-node2 netns "${ns[1]}" ||
    cluster_skip "cannot create a veth pair between network namespaces"
  # `ip -n` enters the namespace in a mount namespace of its own, made a slave of / first:
  # where / is not a mount point (a chroot, such as tests/fresh/bare_debian.sh's root) that
  # fails, the links stay down and the nodes would never meet, so say so and skip.
  if ! err=$(ip -n "${ns[0]}" link set lo up 2>&1); then
    cluster_skip "cannot configure a network namespace (ip -n: ${err//$'\n'/ }): / is not a mount point here (a chroot?)"
  fi
  for i in 0 1; do
    ip -n "${ns[i]}" link set lo up || exit 1
    ip -n "${ns[i]}" addr add "${addr[i]}/24" dev "pp-node$((i + 1))" || exit 1
    ip -n "${ns[i]}" link set "pp-node$((i + 1))" up || exit 1
  done

  # on_node NAME COMMAND...: COMMAND in the node's network namespace and a UTS namespace of
  # its own with the node's hostname. Only in the background (`on_node ... &`): the
  # subshell, nsenter, unshare and sh all exec, so $! is COMMAND's PID.
  on_node() {
    local name=$1; shift
    exec nsenter --net="/run/netns/${ns[${name#node} - 1]}" unshare --uts \
      sh -c 'hostname "$0" && exec "$@"' "$name" "$@"
  }
  TMPDIR="$top" cluster_make_base
  cluster_start_munged
  conf="$base/slurm.conf"
  # node1 is also the head node (slurmctld); in the namespaces Slurm's own ports are free.
  # SlurmdTimeout: a node that stops answering is DOWN after 6 s, its job requeued.
  cluster_write_conf "$conf" "node1(${addr[0]})" 6817 6818 \
    "NodeName=node1 NodeAddr=${addr[0]} $node_hw State=UNKNOWN
NodeName=node2 NodeAddr=${addr[1]} $node_hw State=UNKNOWN" node1,node2 \
    "SlurmdTimeout=6"
  export SLURM_CONF="$conf"
  cluster_client=(nsenter --net="/run/netns/${ns[0]}")
  on_node node1 slurmctld -D -c -i -f "$conf" > "$base/log/slurmctld.out" 2>&1 &
  cluster_add_pid $!
  cluster_ctld_pid=$!
  # Each node its own configuration directory: the same slurm.conf, and an mpi.conf whose
  # PMIxCliTmpDirBase is the node's own. Slurm's PMIx plugin puts a directory named after
  # the job step under it (default /tmp): two nodes sharing /tmp would both create it and
  # the second one's tasks fail to launch ("File exists").
  for n in node1 node2; do
    mkdir -p "$base/$n/tmp" "$base/spool/$n"
    cp "$conf" "$base/$n/slurm.conf"
    echo "PMIxCliTmpDirBase=$base/$n/tmp" > "$base/$n/mpi.conf"
    SLURM_CONF="$base/$n/slurm.conf" on_node "$n" slurmd -D -N "$n" -f "$base/$n/slurm.conf" \
      > "$base/log/slurmd-$n.out" 2>&1 &
    cluster_add_pid $!
    eval "slurmd_pid_$n=$!"
  done
  cluster_wait_idle 2 "$base"/log/slurmd-*
  "${cluster_client[@]}" srun --mpi=list 2>&1 | grep -qw pmix ||
    cluster_skip "this Slurm has no PMIx plugin (srun --mpi=list; Debian: slurm-wlm-basic-plugins), which Debian's Open MPI needs under srun"
  export POLYPSF_SLURM_BASE="$base" TWO_NODES_NODE2_NS="${ns[1]}" TWO_NODES_NODE2_SLURMD="$slurmd_pid_node2"
  # The test itself on node1 (the login node, in effect): sbatch and squeue reach slurmctld.
  # In the background: bash runs the TERM/INT traps only once a foreground command ends.
  nsenter --net="/run/netns/${ns[0]}" bash "$0" --inside &
  inside_pid=$!
  trap 'kill -TERM "$inside_pid" 2>/dev/null; exit 143' TERM
  trap 'kill -TERM "$inside_pid" 2>/dev/null; exit 130' INT
  wait "$inside_pid"
  exit $?
fi

# ---- inside node1's network namespace, on the cluster (SLURM_CONF set) --------------
exe=$POLYPSF_EXE
repo=$(cd "$here/../.." && pwd)
# The rank-group set-up (the coronagraph job, its 1-rank reference, the memory model,
# limit_for, compare, finish) in a directory of the cluster's; then the Slurm job helpers.
export TMPDIR="$POLYPSF_SLURM_BASE"
source "$repo/tests/sched/rank_groups_common.sh"
source "$here/job_lib.sh"
cd "$work" || exit 1
sbatch_script="$repo/jobs/slurm/polypsf.sbatch"
# Every task of a job records where Slurm put it (its rank, Slurm's name for its node, the
# hostname it sees), then becomes polypsf.
cat > "$work/polypsf-placed" <<WRAP
#!/bin/sh
echo "\$SLURM_PROCID \$SLURMD_NODENAME \$(hostname)" >> "$work/placement-\$SLURM_JOB_ID.txt"
exec "$exe" "\$@"
WRAP
chmod +x "$work/polypsf-placed"
export POLYPSF="$work/polypsf-placed"
mpi4=(mpirun -n 4 --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1)
submit() { sbatch --parsable --time=5 "$@"; }

cat > small.yaml <<'JOB'
pupil: {npix: 256}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 8}
optics:
  - circular_aperture: {radius: 3.25}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 5.0e-8]}
detector: {pixelscale: 0.0311, fov_pixels: 41, oversample: 2}
propagation: {method: mft}
output: {cube: true}
JOB
# Slow enough to be stopped half-way (one slice every ~0.1 s per rank).
cat > slow.yaml <<'JOB'
pupil: {npix: 1024}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 20}
optics:
  - circular_aperture: {radius: 3.25}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 5.0e-8, 0, 2.0e-8]}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}
propagation: {method: mft}
output: {cube: true}
JOB
"${mpi4[@]}" "$exe" run small.yaml -o small-mpirun.h5 "${cal[@]}" --quiet > /dev/null 2>&1
check "one-host mpirun reference of the small job (4 ranks)" '[ $? -eq 0 ]'
"${mpi4[@]}" "$exe" run slow.yaml -o slow-mpirun.h5 "${cal[@]}" --quiet > /dev/null 2>&1
check "one-host mpirun reference of the slow job (4 ranks)" '[ $? -eq 0 ]'

# placement_in_log LOG: "node1 0 1" lines from the log's node lines (host, its ranks);
# placement_by_slurm FILE: the same from the tasks' own record (SLURMD_NODENAME, checked
# against the hostname each task saw).
placement_in_log() {
  sed -n 's/.* node [0-9]* (\([^)]*\)): budget .*; ranks \(.*\)$/\1 \2/p' "$1" | sort
}
placement_by_slurm() {
  sort -n "$1" | awk '$2 != $3 {print "hostname " $3 " on Slurm node " $2; next}
    {r[$2] = r[$2] " " $1} END {for (h in r) print h r[h]}' | sort
}

# 1. 2 nodes × 2 ranks.
id=$(submit --nodes=2 --ntasks-per-node=2 --mem=1G "$sbatch_script" small.yaml small.h5 "${cal[@]}")
s=$(wait_job "$id")
log=polypsf-$id.log
check "2-node job $id: COMPLETED on node[1-2] (got '$s', exit $(exit_code "$id"))" \
  '[ "$s" = COMPLETED ] && grep -q "on 2 node(s) (node\[1-2\]), 4 rank(s)" $log'
grep -E 'node [01] \((node1|node2)\): budget' "$log" | sed 's/; sources:.*;/; …;/'
check "the log names node1 and node2, each with its own budget from SLURM_MEM_PER_NODE=1024" \
  'grep -q "node 0 (node1): budget 960 MiB = limit 1024 MiB (SLURM_MEM_PER_NODE)" $log &&
   grep -q "node 1 (node2): budget 960 MiB = limit 1024 MiB (SLURM_MEM_PER_NODE)" $log'
check "rank placement in the log ($(placement_in_log "$log" | tr '\n' ';')) is Slurm's ($(placement_by_slurm "placement-$id.txt" | tr '\n' ';'))" \
  '[ "$(placement_in_log "$log")" = "$(placement_by_slurm "placement-$id.txt")" ] &&
   [ "$(placement_in_log "$log" | wc -l)" = 2 ]'
# The root attributes n_nodes and n_ranks describe the run, not the result.
run_attrs='attribute: <(n_nodes|n_ranks) of </>>'
check "2-node job: the same bits as the one-host mpirun run (n_nodes aside)" \
  'same_bits small.h5 small-mpirun.h5 "$run_attrs"'

# 1b. A step that fails to launch on node2 must fail the job (srun may exit 0 then): the
# directory Slurm's PMIx plugin makes for the next job's step on node2 is made first, so
# that its creation fails there ("File exists"), as it did when both nodes shared /tmp.
next=$(scontrol show config | sed -n 's/^NEXT_JOB_ID *= *\([0-9]*\).*/\1/p')
mkdir -p "$POLYPSF_SLURM_BASE/node2/tmp/spmix_appdir_$(id -u)_$next.0"
id=$(submit --nodes=2 --ntasks-per-node=2 --mem=1G "$sbatch_script" small.yaml small-nolaunch.h5 "${cal[@]}")
s=$(wait_job "$id")
log=polypsf-$id.log
grep -E "launch failed|aborted before|exited with status|did not run" "$log"
check "a step that did not launch on node2 (job $id, next id $next): FAILED with a non-zero exit code (got '$s', exit $(exit_code "$id"))" \
  '[ "$s" = FAILED ] && [ "$(exit_code "$id")" != 0 ] && ! grep -q "exited with status 0" $log && [ ! -e small-nolaunch.h5 ]'

# 2. A rank group across the two nodes: 1 rank per node, a node limit that fits a rank of a
# group of 2 but not a rank alone (limit_for, rank_groups_common.sh).
limit=$(limit_for 1 "$task" "$group2")
id=$(submit --nodes=2 --ntasks-per-node=1 --mem=2G "$sbatch_script" "$work/job.yaml" group.h5 \
  --mem-per-node "${limit}M" "${cal[@]}")
s=$(wait_job "$id")
log=polypsf-$id.log
check "rank-group job $id at --mem-per-node ${limit}M: COMPLETED (got '$s')" '[ "$s" = COMPLETED ]'
grep -F "across 2 node(s)" "$log"
check "one group of 2 ranks across node1 and node2" \
  'grep -qF "node 1: in group 0 of 2 rank(s) across 2 node(s) (FFTW-MPI, N = 2048)" $log &&
   grep -q "node 0 (node1): .*; ranks 0$" $log && grep -q "node 1 (node2): .*; ranks 1$" $log'
diff=$(compare group.h5)
check "rank group across nodes: /psf and /cube equal the 1-rank run to ${diff:-?} ≤ 1e-12 of the peak" \
  '[ -n "$diff" ] && awk -v d="$diff" "BEGIN{exit !(d <= 1e-12)}"'

# 3. A node dies: node2's slurmd, slurmstepd and ranks (every process in its namespace)
# killed once >= 3 slices are flagged (a checkpoint after each task).
id=$(submit --nodes=2 --ntasks-per-node=2 --mem=1G "$sbatch_script" slow.yaml slow.h5 --checkpoint 0 "${cal[@]}")
n=0 deadline=$((SECONDS + 180))
while [ $SECONDS -lt $deadline ]; do
  n=$(completed_count slow.h5.partial); [ "${n:-0}" -ge 3 ] && break
  [ -e slow.h5 ] && break
  sleep 0.05
done
# Open MPI's connections between the ranks on node1 and node2, as the kernel sees them.
node2_addr=$(sed -n 's/^NodeName=node2 NodeAddr=\([0-9.]*\) .*/\1/p' "$SLURM_CONF")
ss -tnp | grep -F '"polypsf"' | grep -F " $node2_addr:" > tcp.txt
head -n 2 tcp.txt
nodes_before=$(squeue -h -j "$id" -o %N)
check "node-death job $id runs on node[1-2] (got '$nodes_before'), its ranks on node1 connected to node2 ($node2_addr) by TCP" \
  '[ "$nodes_before" = "node[1-2]" ] && grep -q "^ESTAB" tcp.txt'
pids=$(ip netns pids "$TWO_NODES_NODE2_NS")
echo "killing node2 after $n flagged slice(s): PIDs $(echo $pids) ($(ps -o comm= -p "$(echo $pids | tr ' ' ,)" | sort | uniq -c | tr -s ' \n' ' '))"
kill -KILL $pids
# slurmctld finds node2 silent (SlurmdTimeout), sets it DOWN, ends the job and, as it was
# submitted with --requeue (the script's #SBATCH line), queues it again.
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  [ "$(restarts "$id")" = 1 ] && [ "$(state "$id")" = PENDING ] && break
  sleep 0.5
done
echo "after the kill: job $id $(state "$id") restarts $(restarts "$id"); $(sinfo -h -N -o '%N %T' | tr '\n' ' ')"
grep -F "JobId=$id" "$POLYPSF_SLURM_BASE/log/slurmctld.log" | grep -E "failure of node|NODE_FAIL|not responding" | tail -n 2
grep -h "node2 not responding\|Nodes node2 not responding" "$POLYPSF_SLURM_BASE/log/slurmctld.log" | tail -n 1
check "node death: job $id ended by the failure of node2 and requeued (state $(state "$id"), restarts $(restarts "$id"), node2 $(sinfo -h -n node2 -o %T))" \
  '[ "$(restarts "$id")" = 1 ] && [ "$(state "$id")" = PENDING ] &&
   grep -q "requeue job JobId=$id due to failure of node node2" "$POLYPSF_SLURM_BASE/log/slurmctld.log" &&
   [ "$(sinfo -h -n node2 -o %T)" = "down*" ] && grep -q "CANCELLED .* DUE TO NODE FAILURE" polypsf-$id.log &&
   ! grep -q "exited with status 0" polypsf-$id.log'
# The .partial as the dead job left it: readable by h5dump, and every slice flagged
# completed is on disk: equal to the uninterrupted run's slice bit for bit.
h5dump -H slow.h5.partial > /dev/null 2>&1 && h5dump -d /status/completed slow.h5.partial > /dev/null 2>&1
check "node death: h5dump reads slow.h5.partial (its structure, /status/completed)" '[ $? -eq 0 ]'
flagged=$("$python" - slow.h5.partial slow-mpirun.h5 <<'PY'
import sys, h5py, numpy as np
part, ref = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
done = np.flatnonzero(part["status/completed"][...])
bad = [int(k) for k in done if not np.array_equal(part["cube"][k], ref["cube"][k])]
print(len(done), "bad" if bad else "ok", *bad)
PY
)
check "node death: completed flags only for slices on disk (${flagged:-unreadable}: flagged, each equal to the uninterrupted run's)" \
  '[ "${flagged% *}" -ge 3 ] 2>/dev/null && [ "${flagged#* }" = ok ]'
# node2 is gone: the job, sized for two nodes, is given the one left (what an operator does).
# (A requeued job keeps the task and CPU counts of its first start: all three are updated.)
scontrol update JobId="$id" NumNodes=1-1 NumTasks=2 NumCPUs=2
s=$(wait_job "$id")
log=polypsf-$id.log
grep -E "polypsf.sbatch: (job|.*resuming)|resume:" "$log"
check "node death: the requeued job $id ran on node1 alone, resumed and COMPLETED (got '$s')" \
  '[ "$s" = COMPLETED ] && grep -q "on 1 node(s) (node1), 2 rank(s)" $log &&
   grep -q "resume: [1-9][0-9]* of 20 slice(s) already on disk" $log'
check "node death: the resumed result equals the uninterrupted run bit for bit (n_nodes, n_ranks aside)" \
  'same_bits slow.h5 slow-mpirun.h5 "$run_attrs" && [ ! -e slow.h5.partial ]'
finish
