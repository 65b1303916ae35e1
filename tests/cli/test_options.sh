#!/usr/bin/env bash
# Option values through the real program, as strictly as the job file's keys:
#   - `polypsf COMMAND --help` prints the usage and exits 0 for every command;
#   - `info --ee`: an empty item, 0, a negative and a word all get the one message, exit 2;
#   - `--mem-per-node`: 64G, 64GB, 64GiB are the same size (as documented), 64XB is refused;
#   - `--threads-per-rank` has the job key's limits 1 … 1024, for run and plan;
#   - the option grammar (getopt_long): `--name=value` is `--name value`, "--" ends the
#     options, but no abbreviation (--forc), no value for a flag (--force=yes), no option of
#     another command (plan --force), no missing value: each exit 2 with its own message;
#   - the oversubscription advice fits the case (no "--threads-per-rank 1" when it is 1, no
#     "fewer ranks" with one rank).
# POLYPSF_EXE names the program (set by ctest). Prints PASS/FAIL and "N passed, N failed".
set -u
# shellcheck source=cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"
cli_test_begin
export XDG_CACHE_HOME="$tmp/cache"
tiny_job 2 >"$tmp/job.yaml"
"$exe" run "$tmp/job.yaml" -o "$tmp/good.h5" --quiet || { echo "FAIL cannot make a result"; exit 1; }

for cmd in run plan info export render; do
  "$exe" $cmd --help >"$tmp/out" 2>"$tmp/err"
  status=$?
  report $([[ $status == 0 ]] && grep -q "^usage: polypsf run" "$tmp/out" && [[ ! -s "$tmp/err" ]]; echo $?) \
    "polypsf $cmd --help: the usage on stdout, exit 0" "exit $status: $(head -c 200 "$tmp/err")"
done
"$exe" run "$tmp/job.yaml" -h >"$tmp/out" 2>&1
report $([[ $? == 0 ]] && grep -q "^usage:" "$tmp/out"; echo $?) "polypsf run JOB -h: the usage, nothing run"

for radii in "0.1,,0.2" "0" "-0.1" "0.1," "x"; do
  "$exe" info "$tmp/good.h5" --ee "$radii" >/dev/null 2>"$tmp/err"
  status=$?
  report $([[ $status == 2 ]] && grep -q "option --ee needs radii in arcsec, each > 0" "$tmp/err"; echo $?) \
    "info --ee '$radii': exit 2, the one message" "exit $status: $(head -c 300 "$tmp/err")"
done
"$exe" info "$tmp/good.h5" --ee 0.1,0.2 >"$tmp/out" 2>&1
report $? "info --ee 0.1,0.2 works"

budget() { "$exe" plan "$tmp/job.yaml" --mem-per-node "$1" 2>&1 | grep "^memory per node"; }
reference="$(budget 64G)"
for size in 64GB 64GiB 64gb; do
  report $([[ -n "$reference" && "$(budget $size)" == "$reference" ]]; echo $?) \
    "--mem-per-node $size is 64G" "got '$(budget $size)' against '$reference'"
done
"$exe" plan "$tmp/job.yaml" --mem-per-node 64XB >/dev/null 2>"$tmp/err"
report $([[ $? == 2 ]] && grep -q "unknown unit" "$tmp/err"; echo $?) "--mem-per-node 64XB: exit 2, unknown unit"

for cmd in run plan; do
  extra=()
  [[ $cmd == run ]] && extra=(-o "$tmp/t.h5")
  for value in 0 1025 1000000; do
    "$exe" $cmd "$tmp/job.yaml" "${extra[@]}" --threads-per-rank $value >/dev/null 2>"$tmp/err"
    status=$?
    report $([[ $status == 2 ]] && grep -q "from 1 to 1024, got '$value'" "$tmp/err"; echo $?) \
      "$cmd --threads-per-rank $value: exit 2, the job key's limits 1 … 1024" \
      "exit $status: $(head -c 300 "$tmp/err")"
  done
done

# The grammar. Abbreviations would let a script's --out silently mean something else the day
# another --out… option is added.
"$exe" plan "$tmp/job.yaml" --mem-per-node=64G 2>&1 | grep "^memory per node" >"$tmp/out"
report $([[ -s "$tmp/out" && "$(cat "$tmp/out")" == "$reference" ]]; echo $?) \
  "--mem-per-node=64G is --mem-per-node 64G" "got '$(cat "$tmp/out")'"
"$exe" plan --quiet -- "$tmp/job.yaml" >/dev/null 2>"$tmp/err"
report $? "plan --quiet -- JOB: words after -- are the job file" "$(head -c 300 "$tmp/err")"
check_option_refused() { # message, then the arguments
  local message="$1"; shift
  "$exe" "$@" >/dev/null 2>"$tmp/err"
  local status=$?
  report $([[ $status == 2 ]] && grep -qF -- "$message" "$tmp/err" && [[ ! -e "$tmp/refused.h5" ]]; echo $?) \
    "$* : exit 2, \"$message\", nothing written" "exit $status: $(head -c 300 "$tmp/err")"
}
check_option_refused "unknown option '--forc' for run (did you mean '--force'?)" \
  run "$tmp/job.yaml" -o "$tmp/refused.h5" --forc
check_option_refused "option --force takes no value, got '--force=yes'" \
  run "$tmp/job.yaml" -o "$tmp/refused.h5" --force=yes
check_option_refused "unknown option '--force' for plan" plan "$tmp/job.yaml" --force
check_option_refused "unknown option '--nodes' for run" \
  run "$tmp/job.yaml" -o "$tmp/refused.h5" --nodes 2
check_option_refused "option --checkpoint needs a number of seconds" \
  run "$tmp/job.yaml" -o "$tmp/refused.h5" --checkpoint
check_option_refused "unknown option '-x' for render" render "$tmp/good.h5" -x
check_option_refused "more than one input file given" info "$tmp/good.h5" "$tmp/good.h5"

cpus="$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))' 2>/dev/null || getconf _NPROCESSORS_ONLN)"
"$exe" plan "$tmp/job.yaml" --ranks-per-node $((cpus * 4)) >"$tmp/out" 2>&1
report $(grep -q "oversubscribed.*use at most $cpus rank(s) per node" "$tmp/out" &&
  ! grep "oversubscribed" "$tmp/out" | grep -q -- "--threads-per-rank"; echo $?) \
  "plan, $((cpus * 4)) ranks × 1 thread: fewer ranks, no --threads-per-rank advice" \
  "$(grep oversubscribed "$tmp/out")"
"$exe" plan "$tmp/job.yaml" --ranks-per-node 1 --threads-per-rank $((cpus * 4)) >"$tmp/out" 2>&1
report $(grep -q "oversubscribed.*use --threads-per-rank $cpus" "$tmp/out" &&
  ! grep "oversubscribed" "$tmp/out" | grep -q "rank(s) per node"; echo $?) \
  "plan, 1 rank × $((cpus * 4)) threads: fewer threads, no fewer-ranks advice" \
  "$(grep oversubscribed "$tmp/out")"

cli_test_end
