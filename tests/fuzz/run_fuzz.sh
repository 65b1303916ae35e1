#!/usr/bin/env bash
# Runs every libFuzzer target of a POLYPSF_FUZZ build for a while; `make fuzz` calls it.
#   tests/fuzz/run_fuzz.sh <fuzz build dir> <seconds per target> [target...]
# Each target starts from its seeds and regression inputs (tests/fuzz/corpus/<target>/, read
# only) plus what earlier runs found (<build>/fuzz-corpus/<target>/, where new inputs go, so
# the tree stays as committed). A crash, a leak, a sanitizer report, an input slower than 5 s
# or more than 2 GiB of memory stops the target with its input saved as
# <build>/fuzz-artifacts/<target>-<kind>-<hash>; the script then fails (exit 1) naming it.
# FUZZ_SEED (environment): libFuzzer's -seed, 0 (the default) a new one each run.
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
# LeakSanitizer: Open MPI's keep-until-exit allocations (tests/lsan.supp, as make test's
# sanitizer pass) and HDF5's own losses on corrupt files (lsan_fuzz.supp says which and why);
# UBSan stops at the first report.
suppressions="$build/fuzz-lsan.supp"
mkdir -p "$build"
cat "$repo_dir/tests/lsan.supp" "$source_dir/lsan_fuzz.supp" >"$suppressions"
export LSAN_OPTIONS="suppressions=$suppressions:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# allocator_may_return_null=1: HDF5 1.10.8 takes allocation sizes from a corrupt file's
# metadata (hundreds of TiB); given NULL it reports an error, which the reader turns into a
# clean message, instead of ASan aborting inside HDF5. polypsf's own sizes stay held: the
# targets treat PP_ERR_MEMORY on these small inputs as a finding, and libFuzzer still stops
# any allocation over the 2 GiB limit that succeeds. fast_unwind_on_malloc=0: HDF5 is built
# without frame pointers, and the suppression above must see H5C_protect in the stack.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1:fast_unwind_on_malloc=0:malloc_context_size=20"
# The suppressions above name functions (H5C_protect, …): LeakSanitizer matches them only
# on symbolized stacks, which takes llvm-symbolizer (Debian's llvm; clang only recommends
# it). Without it every HDF5 loss would be reported as a leak of polypsf's.
if ! command -v llvm-symbolizer >/dev/null; then
  echo "run_fuzz: llvm-symbolizer not found (Debian's package llvm; make fuzz installs it):" \
    "the leak suppressions need symbolized stacks" >&2
  exit 2
fi
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
  dict=()
  [ -f "$source_dir/$target.dict" ] && dict=(-dict="$source_dir/$target.dict")
  "$exe" -seed="${FUZZ_SEED:-0}" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    "${dict[@]}" -artifact_prefix="$artifacts/$target-" "$work" "$source_dir/corpus/$target" \
    >"$log" 2>&1
  rc=$?
  grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 | sed "s/^/  last: /"
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
