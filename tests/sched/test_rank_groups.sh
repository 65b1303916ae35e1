#!/usr/bin/env bash
# FFTW-MPI rank groups: a coronagraph whose padded 2048 × 2048 planes (64 MiB each) dominate
# a rank's memory, run on 2 and on 4 ranks with a --mem-per-node that lets no single rank (2
# ranks) and no pair of ranks (4 ranks) hold a task but fits one group of all the ranks, and on
# 4 ranks with one that fits two groups of 2 but not 4 single ranks (without a cube). The
# limits come from the program's own model (`polypsf plan`: one task, a rank of a group of 2
# and of 4) and the process baseline the reference run measured, halfway between the
# thresholds. Checks: the log shows the groups; /psf and /cube equal the 1-rank run's to
# 1e-12 of the peak; every rank's peak RSS stays within its share (budget / ranks); a budget
# too small for a group of all ranks is refused (exit 2) naming the group's need; an odd
# padded size is refused for groups. About 10 s; 25-40 s under AddressSanitizer on a loaded
# 2-core machine (three mpiruns).
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { if eval "$2"; then echo "PASS $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
mpi() { local n=$1; shift; mpirun -n "$n" --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1 "$@"; }
# AddressSanitizer's quarantine of freed blocks would count in the resident size (see
# test_mem_limit.sh); a tiny one keeps the high-water meaningful (no effect without ASan).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
if ! "$python" -c 'import h5py, numpy' 2> /dev/null; then echo "SKIP: $python lacks h5py/numpy"; exit 77; fi

# The fqpm coronagraph of ../shared/reference (tests/physics/test_coronagraph.c) on a
# 256 px pupil padded 8× for the FFTs: N = 2048.
cat > "$work/job.yaml" <<'JOB'
pupil: {npix: 256}
wavelengths: {min: 1.8e-6, max: 2.2e-6, count: 2}
optics:
  - circular_aperture: {radius: 3.0, gray_pixel: true}
  - fqpm_fft_aligner: {direction: forward}
  - ideal_fqpm: {wavelength: 2.0e-6}
  - fqpm_fft_aligner: {direction: backward}
  - circular_aperture: {radius: 2.7, gray_pixel: true, name: Lyot stop}
detector: {pixelscale: 0.02, fov_pixels: 64, oversample: 2}
propagation: {method: mft, fft_oversample: 8}
output: {cube: true}
JOB

"$exe" run "$work/job.yaml" -o "$work/ref.h5" > /dev/null 2> "$work/ref.log" # 1 rank, no mpirun
check "1-rank reference run exits 0" '[ $? -eq 0 ]'
"$exe" plan "$work/job.yaml" --ranks-per-node 4 --mem-per-node 64G > "$work/plan.log" 2>&1
check "polypsf plan exits 0" '[ $? -eq 0 ]'
cat "$work/plan.log" >> "$work/ref.log"
base=$(sed -n 's/.*+ \([0-9.]*\) MiB per process.*/\1/p' "$work/ref.log" | head -1)
task=$(sed -n 's/.*one task needs \([0-9.]*\) MiB.*/\1/p' "$work/plan.log" | head -1)
group2=$(sed -n 's/.*group of 2: \([0-9.]*\) MiB.*/\1/p' "$work/plan.log" | head -1)
group4=$(sed -n 's/.*group of 4: \([0-9.]*\) MiB.*/\1/p' "$work/plan.log" | head -1)
check "model read (process $base, task $task, group of 2 $group2, of 4 $group4 MiB)" \
  '[ -n "$base" ] && [ -n "$task" ] && [ -n "$group2" ] && [ -n "$group4" ]'
check "a rank of a group needs less than one rank alone, less in larger groups" \
  'awk -v t="$task" -v a="$group2" -v b="$group4" "BEGIN{exit !(b < a && a < t)}"'

# A node limit for R ranks whose share per rank lies halfway between a rank's needs with
# groups of `small` ranks (too much) and of R ranks (fits); the limit adds the 64 MiB reserve
# polypsf keeps below 1.25 GiB.
limit_for() { awk -v r="$1" -v b="$base" -v hi="$2" -v lo="$3" \
  'BEGIN{printf "%d", r * (b + (hi + lo) / 2) + 64}'; }

compare() { # $1 = file: max |Δ| / peak of /psf and /cube against the reference
  "$python" - "$work/ref.h5" "$1" <<'PY'
import sys, h5py, numpy as np
ref, run = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
worst = 0.0
for name in ("psf", "cube"):
    if name not in ref or name not in run:
        continue
    a, b = ref[name][...], run[name][...]
    worst = max(worst, float(np.abs(a - b).max() / np.abs(a).max()))
print(f"{worst:.3g}")
PY
}

within_share() { # every "rank r X [S]" of the memory line has X ≤ S
  grep 'memory: peak RSS per rank' "$1" | tail -1 | tr -d '[]' |
    awk '{n = 0; for (i = 1; i < NF; i++) if ($i == "rank") { n++; if ($(i+2) + 0 > $(i+3) + 0) bad = 1 }
          exit !(n > 0 && !bad)}'
}

run_group() { # $1 = ranks, $2 = limit MiB, $3 = groups, $4 = ranks per group, $5 = job
  local r=$1 limit=$2 groups=$3 g=$4 job=$5 out="$work/g$1x$3.h5" log="$work/g$1x$3.log"
  mpi "$r" "$exe" run "$job" -o "$out" --mem-per-node "${limit}M" > /dev/null 2> "$log"
  local rc=$?
  check "$r ranks at --mem-per-node ${limit}M exit 0 (got $rc)" '[ $rc -eq 0 ]'
  check "$r ranks: the log shows $groups group(s) of $g ranks" \
    'grep -q "node 0: $groups group(s) of $g rank(s) (FFTW-MPI, N = 2048)" "$log"'
  check "$r ranks: all $r ranks compute" 'grep -q "node 0: $r of $r rank(s) active" "$log"'
  local diff
  diff=$(compare "$out")
  check "$r ranks: /psf (and /cube) equal the 1-rank run to ${diff:-?} ≤ 1e-12 of the peak" \
    '[ -n "$diff" ] && awk -v d="$diff" "BEGIN{exit !(d <= 1e-12)}"'
  check "$r ranks: every rank's peak RSS within its share ($(grep -o 'rank 0 [0-9.]* \[[0-9.]*\]' "$log" | tail -1) …)" \
    'within_share "$log"'
}

run_group 2 "$(limit_for 2 "$task" "$group2")" 1 2 "$work/job.yaml"
run_group 4 "$(limit_for 4 "$group2" "$group4")" 1 4 "$work/job.yaml"
# Two groups of 2 on 4 ranks, each taking its own wavelength, without a cube: the slices stay
# on the groups' first ranks until the reduction scatters them. (A 4-rank share halfway
# between a single rank's need and a group of 2's lets at most 3 single ranks compute.)
sed -e 's/cube: true/cube: false/' "$work/job.yaml" > "$work/nocube.yaml"
run_group 4 "$(limit_for 4 "$task" "$group2")" 2 2 "$work/nocube.yaml"
# Which group takes which wavelength depends on timing; that only the groups' first ranks
# (0 and 2) record tasks does not.
check "4 ranks, 2 groups: /provenance/tasks names only the groups' first ranks (0, 2)" \
  '"$python" -c "import h5py, sys; t = h5py.File(sys.argv[1])[\"provenance/tasks\"][...]; sys.exit(not set(t[\"rank\"]) <= {0, 2})" "$work/g4x2.h5"'

# Too small even for a group of all 4 ranks: refused (exit 2) naming the group's need. The
# plan is the run's own (pp_plan_create; a run refuses before anything is written, which
# test_mem_limit.sh checks); `polypsf plan` saves an mpirun.
small=$(awk -v b="$base" -v g="$group4" 'BEGIN{printf "%d", 4 * (b + g / 2) + 64}')
"$exe" plan "$work/job.yaml" --ranks-per-node 4 --mem-per-node "${small}M" > "$work/refused.log" 2>&1
rc=$?
check "a budget too small for a group of 4 is refused with exit 2 (got $rc)" '[ $rc -eq 2 ]'
check "the refusal names the group's need per rank" \
  'grep -q "a group of all 4 ranks of the node sharing the padded 2048 × 2048 plane (FFTW-MPI) needs .* MiB per rank" "$work/refused.log"'

# An odd padded size (255 × 3 = 765) cannot be shared: refused with the reason.
sed -e 's/npix: 256/npix: 255/' -e 's/fft_oversample: 8/fft_oversample: 3/' "$work/job.yaml" \
  > "$work/odd.yaml"
"$exe" plan "$work/odd.yaml" --ranks-per-node 2 --mem-per-node 150M > "$work/odd.log" 2>&1
rc=$?
check "odd padded size with too little memory for one rank: plan refuses (got $rc)" '[ $rc -ne 0 ]'
check "the refusal says groups need an even size" \
  'grep -q "cannot share the padded 765 × 765 plane: its size npix·fft_oversample is odd" "$work/odd.log"'

[ "$failed" -eq 0 ] || cat "$work/ref.log" "$work"/g*.log "$work/refused.log" "$work/odd.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
