#!/usr/bin/env bash
# Run a polypsf job on all cores of this machine with Open MPI.
#
#   jobs/workstation/run.sh JOB.yaml [OUT.h5] [more polypsf run options]
#   jobs/workstation/run.sh jobs/examples/example.yaml out/example.h5 --force
#   NP=4 jobs/workstation/run.sh job.yaml               # 4 ranks; output: the job's output.path
#   jobs/workstation/run.sh job.yaml out.h5 --resume    # continue out.h5.partial of a stopped run
#   jobs/workstation/run.sh job.yaml out.h5 --threads-per-rank 2   # cores ÷ 2 ranks × 2 threads
#
# One MPI rank per core, one BLAS thread per rank: ranks, not threads, are polypsf's unit
# of parallelism (OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 are passed to every rank).
# Ranks are bound to cores when there are no more ranks than cores; with more ranks than
# cores they run oversubscribed and unbound. With --threads-per-rank T (passed on to polypsf)
# the default is cores ÷ T ranks, each bound to T cores (--map-by slot:PE=T) when
# ranks × T fit the cores, else unbound.
#
# Environment:
#   NP        number of ranks (default: the CPUs this process may use, from its affinity
#             mask, Cpus_allowed_list in /proc/self/status; not nproc, which OMP_NUM_THREADS
#             changes)
#   POLYPSF   the program (default: build/polypsf of this repository, else polypsf on PATH)
#   MPIRUN    the launcher (default: mpirun)
#   MPIRUN_ARGS  extra launcher options, split on spaces (e.g. "--report-bindings")
# As root, Open MPI's OMPI_ALLOW_RUN_AS_ROOT and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM are set for
# you (containers); as any other user they are left alone.
# Exit status: mpirun's, which is polypsf's own (0 success, 2 bad input, 1 runtime failure,
# 3 stopped by SIGTERM sent to the ranks), except that SIGTERM sent to mpirun (or to this
# script, which becomes mpirun) gives 1 although the ranks stop at a checkpoint and keep
# OUT.h5.partial for --resume (their message says so); 2 for bad use of this script.
set -euo pipefail

usage() { sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: error: $*" >&2; exit 2; }

[[ $# -ge 1 ]] || { usage >&2; exit 2; }
[[ "$1" == -h || "$1" == --help ]] && { usage; exit 0; }
job="$1"
shift
[[ -f "$job" ]] || die "job file '$job' not found"
out_args=()
if [[ $# -ge 1 && "$1" != -* ]]; then
  out_args=(-o "$1")
  shift
fi

# --- the program -------------------------------------------------------------------------
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -n "${POLYPSF:-}" ]]; then
  exe="$POLYPSF"
  [[ "$exe" == */* ]] || exe="$(command -v "$exe" || true)"
  [[ -n "$exe" && -x "$exe" ]] || die "POLYPSF='$POLYPSF' is not an executable program"
elif [[ -x "$repo/build/polypsf" ]]; then
  exe="$repo/build/polypsf"
elif command -v polypsf >/dev/null 2>&1; then
  exe="$(command -v polypsf)"
else
  die "polypsf not found: build it (make build, in $repo), put it on PATH, or set POLYPSF"
fi
mpirun="${MPIRUN:-mpirun}"
command -v "$mpirun" >/dev/null 2>&1 ||
  die "'$mpirun' not found (Debian: apt-get install openmpi-bin), or set MPIRUN"

# --- ranks and cores -----------------------------------------------------------------------
# The CPUs this process may use: its affinity mask (which a cgroup cpuset, taskset or a batch
# system narrows), not GNU nproc, which honours OMP_NUM_THREADS (set to 1 for BLAS) and would
# give one rank.
allowed_cpus() {
  awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status 2>/dev/null
}
count_cpus() { # count_cpus LIST: CPUs in a list such as 0-3,8,10-11
  local n=0 range IFS=,
  for range in $1; do
    n=$((n + ${range#*-} - ${range%-*} + 1))
  done
  echo "$n"
}
cpu_list="$(allowed_cpus)"
if [[ "$cpu_list" =~ ^[0-9,-]+$ ]]; then
  cpus="$(count_cpus "$cpu_list")"
else
  cpus="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
fi
# --threads-per-rank T among polypsf's options: T threads per rank (checked by polypsf)
threads=1
args=("$@")
for ((k = 0; k + 1 < ${#args[@]}; k++)); do
  [[ "${args[k]}" == --threads-per-rank && "${args[k + 1]}" =~ ^[1-9][0-9]*$ ]] &&
    threads="${args[k + 1]}"
done

# Physical cores among the CPUs we may use (Open MPI binds to and counts cores, not
# hardware threads): distinct (package, core) pairs of the CPUs in our affinity mask.
physical_cores() {
  local list="$cpu_list" cpu first last n=0
  [[ "$list" =~ ^[0-9,-]+$ ]] || { echo "$cpus"; return; }
  local -A seen=()
  local IFS=,
  for range in $list; do
    first="${range%-*}" last="${range#*-}"
    for ((cpu = first; cpu <= last; cpu++)); do
      local topo="/sys/devices/system/cpu/cpu$cpu/topology"
      if [[ -r "$topo/core_id" && -r "$topo/physical_package_id" ]]; then
        seen["$(<"$topo/physical_package_id"):$(<"$topo/core_id")"]=1
      else
        seen["cpu$cpu"]=1
      fi
    done
  done
  n=${#seen[@]}
  echo $((n > 0 ? n : cpus))
}
cores="$(physical_cores)"
default_np=$((cpus / threads > 0 ? cpus / threads : 1))
np="${NP:-$default_np}"
[[ "$np" =~ ^[1-9][0-9]*$ ]] || die "NP='$np' is not a positive whole number"

mpi_args=(-n "$np")
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
if "$mpirun" --version 2>/dev/null | grep -q "Open MPI"; then
  if ((threads > 1 && np * threads <= cores)); then
    mpi_args+=(--map-by "slot:PE=$threads" --bind-to core)
  elif ((threads == 1 && np <= cores)); then
    mpi_args+=(--bind-to core --map-by core)
  else
    mpi_args+=(--oversubscribe --bind-to none)
  fi
  mpi_args+=(-x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS)
  if [[ "$(id -u)" == 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
fi # other launchers (MPICH's hydra) pass the whole environment by themselves
if [[ -n "${MPIRUN_ARGS:-}" ]]; then
  read -r -a extra <<<"$MPIRUN_ARGS"
  mpi_args+=("${extra[@]}")
fi

echo "run.sh: $np rank(s) × $threads thread(s) on $cores core(s) ($cpus CPU(s)): $mpirun ${mpi_args[*]}" \
     "$exe run $job ${out_args[*]} $*" >&2
exec "$mpirun" "${mpi_args[@]}" "$exe" run "$job" "${out_args[@]}" "$@"
