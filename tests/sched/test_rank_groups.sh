#!/usr/bin/env bash
# FFTW-MPI rank groups forced by --mem-per-node (shared set-up: rank_groups_common.sh): on 2
# ranks a limit no single rank fits but a group of 2 does; on 4 ranks one no pair of ranks
# fits but a group of 4 does (limits halfway between the model's thresholds). Then a budget
# too small for a group of all ranks is refused (exit 2) naming the group's need, and an odd
# padded size is refused for groups. About 8 s; 20-35 s under AddressSanitizer on a loaded
# 2-core machine.
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
source "$(dirname "$0")/rank_groups_common.sh"

run_group 2 "$(limit_for 2 "$task" "$group2")" "2-ranks" \
  "node 0: 1 group(s) of 2 rank(s) (FFTW-MPI, N = 2048)" "$work/job.yaml"
run_group 4 "$(limit_for 4 "$group2" "$group4")" "4-ranks" \
  "node 0: 1 group(s) of 4 rank(s) (FFTW-MPI, N = 2048)" "$work/job.yaml"

# Too small even for a group of all 4 ranks: refused (exit 2) naming the group's need. The
# plan is the run's own (pp_plan_create; a run refuses before anything is written, which
# test_mem_limit.sh checks); `polypsf plan` saves an mpirun. `plan` assumes its own process
# baseline (it runs no MPI), so the budget is sized from that one: half of what a group of 4,
# or a rank alone, would need beyond 4 baselines.
plan_base=$(sed -n 's/.*+ \([0-9.]*\) MiB per process.*/\1/p' "$work/plan.log" | head -1)
small=$(awk -v b="$plan_base" -v g="$group4" -v t="$task" \
  'BEGIN{n = 4 * g < t ? 4 * g : t; printf "%d", 4 * b + n / 2 + 64}')
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

finish
