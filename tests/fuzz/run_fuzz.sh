#!/usr/bin/env bash
# Runs every libFuzzer target of a POLYPSF_FUZZ build for a while; `make fuzz` calls it.
#   tests/fuzz/run_fuzz.sh <fuzz build dir> <seconds per target> [target...]
# Each target starts from its seeds and regression inputs (tests/fuzz/corpus/<target>/, read
# only) plus what earlier runs found (<build>/fuzz-corpus/<target>/, where new inputs go, so
# the tree stays as committed). A crash, a leak, a sanitizer report, an input slower than 5 s
# or more than 2 GiB of memory stops the target with its input saved as
# <build>/fuzz-artifacts/<target>-<kind>-<hash>; the script then fails (exit 1) naming it.
# The last line of each target's log (cov:, ft:, corp:, exec/s) and its final stats are
# printed: docs/reliability.md records them.
set -u
build=${1:?usage: run_fuzz.sh <fuzz build dir> <seconds> [target...]}
seconds=${2:?usage: run_fuzz.sh <fuzz build dir> <seconds> [target...]}
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(job spectrum map)
source_dir=$(cd "$(dirname "$0")" && pwd)
repo_dir=$(cd "$source_dir/../.." && pwd)
# LeakSanitizer: only Open MPI's and its runtime's keep-until-exit allocations are suppressed
# (the same list as make test's sanitizer pass); UBSan stops at the first report.
export LSAN_OPTIONS="suppressions=$repo_dir/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
failed=()
for target in "${targets[@]}"; do
  exe="$build/tests/fuzz/fuzz_$target"
  [ -x "$exe" ] || exe="$build/fuzz_$target"
  if [ ! -x "$exe" ]; then
    echo "run_fuzz: no fuzz_$target in $build (configure with -DPOLYPSF_FUZZ=ON)" >&2
    exit 2
  fi
  work="$build/fuzz-corpus/$target"
  artifacts="$build/fuzz-artifacts"
  log="$build/fuzz-logs/$target.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  echo "fuzz_$target: $seconds s (log: $log)"
  "$exe" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-" "$work" "$source_dir/corpus/$target" >"$log" 2>&1
  rc=$?
  grep -E '^#[0-9]+ +(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 | sed "s/^/  last: /"
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | sed "s/^/  /"
  if [ $rc -ne 0 ]; then
    echo "fuzz_$target FAILED (exit $rc); the report:" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|polypsf fuzz:' "$log" | head -n 20 >&2
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run_fuzz: every target ran $seconds s without a finding"
