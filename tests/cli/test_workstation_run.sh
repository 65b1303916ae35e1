#!/usr/bin/env bash
# jobs/workstation/run.sh counts the CPUs it may use from its affinity mask, whatever
# OMP_NUM_THREADS says (GNU nproc honours it, and the README tells users to export
# OMP_NUM_THREADS=1): the launcher is a stand-in that records its arguments, so no MPI runs.
#   - default ranks = the CPUs in this process's affinity (os.sched_getaffinity, an independent
#     count), with OMP_NUM_THREADS=1 exported;
#   - under `taskset -c 0`: one rank (needs taskset and 2 or more CPUs, else said and skipped);
#   - --threads-per-rank 2: CPUs ÷ 2 ranks (at least 1).
# POLYPSF_EXE names the program, POLYPSF_SOURCE_DIR the repository (set by ctest).
set -u
# shellcheck source=cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"
cli_test_begin
script="${POLYPSF_SOURCE_DIR:-}/jobs/workstation/run.sh"
[[ -f "$script" ]] || { echo "SKIP: POLYPSF_SOURCE_DIR/jobs/workstation/run.sh missing"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 (the independent CPU count) missing"; exit 77; }
# The stand-in launcher: says it is Open MPI, writes its arguments to $tmp/args.
cat >"$tmp/mpirun" <<FAKE
#!/usr/bin/env bash
if [[ "\${1:-}" == --version ]]; then echo "mpirun (Open MPI) 4.1.4"; exit 0; fi
printf '%s\n' "\$@" >"$tmp/args"
FAKE
chmod +x "$tmp/mpirun"
echo "pupil: {npix: 32}" >"$tmp/job.yaml"
ranks() { # the -n the script gave the launcher
  awk 'prev == "-n" { print; exit } { prev = $0 }' "$tmp/args"
}
export POLYPSF="$exe" MPIRUN="$tmp/mpirun"
cpus="$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))')"

rm -f "$tmp/args"
OMP_NUM_THREADS=1 bash "$script" "$tmp/job.yaml" "$tmp/out.h5" 2>"$tmp/log"
report $([[ "$(ranks)" == "$cpus" ]]; echo $?) "OMP_NUM_THREADS=1: one rank per allowed CPU ($cpus)" \
  "got -n $(ranks): $(cat "$tmp/log")"

rm -f "$tmp/args"
OMP_NUM_THREADS=1 bash "$script" "$tmp/job.yaml" "$tmp/out.h5" --threads-per-rank 2 2>"$tmp/log"
want=$((cpus / 2 > 0 ? cpus / 2 : 1))
report $([[ "$(ranks)" == "$want" ]]; echo $?) "--threads-per-rank 2: $want rank(s)" \
  "got -n $(ranks): $(cat "$tmp/log")"

if command -v taskset >/dev/null && ((cpus >= 2)); then
  first="$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')"
  rm -f "$tmp/args"
  OMP_NUM_THREADS=1 taskset -c "$first" bash "$script" "$tmp/job.yaml" "$tmp/out.h5" 2>"$tmp/log"
  report $([[ "$(ranks)" == 1 ]]; echo $?) "taskset -c $first: one rank" \
    "got -n $(ranks): $(cat "$tmp/log")"
else
  echo "skip taskset check: needs taskset and 2 or more CPUs (have $cpus)"
fi
cli_test_end
