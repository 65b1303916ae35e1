#!/usr/bin/env bash
# Memory limits the ranks: with --mem-per-node low enough for one computing rank per
# node, a 2-rank run succeeds, its log shows 1 of 2 ranks active, the measured memory
# high-water stays under the node budget, and the PSF equals an unlimited run's bit for
# bit. Then a limit too small for one task is refused (exit 2) before any file exists.
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { if eval "$2"; then echo "PASS $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
mpi=(mpirun -n 2 --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1)
# Under AddressSanitizer freed blocks sit in a quarantine (256 MiB by default) that counts in
# the resident size; FFTW's buffered solvers allocate and free a buffer per chirp-z execute, so
# the quarantine, not polypsf, would fill the budget. A tiny quarantine keeps the measured
# high-water meaningful (the variable does nothing without the sanitizer).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"

cat > "$work/job.yaml" <<'JOB'
pupil: {npix: 1024}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 4}
optics:
  - circular_aperture: {radius: 3.25}
  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}
output: {cube: true}
JOB
# The process baseline is measured after the calibration: a run that has to measure this
# machine (no cache yet, or one another thread count wrote) peaks higher than one that reads
# it. A private cache, filled first by `plan`, gives both runs below the same start.
cal=(--calibration "$work/calibration.txt")
"$exe" plan "$work/job.yaml" "${cal[@]}" > /dev/null 2>&1
check "plan fills the private calibration cache" '[ -s "$work/calibration.txt" ]'
# Size the limit from an unlimited run's own model (task T and process B MiB): a
# budget of 2B + 1.5T holds two processes and one task, not two; the limit adds the
# 64 MiB reserve polypsf keeps below 1.25 GiB.
"${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/free.h5" "${cal[@]}" > /dev/null 2> "$work/free.log"
check "unlimited run exits 0" '[ $? -eq 0 ]'
check "unlimited run has both ranks active" 'grep -q "node 0: 2 of 2 rank(s) active" "$work/free.log"'
task=$(sed -n 's/.*one task needs \([0-9.]*\) MiB.* + \([0-9.]*\) MiB per process.*/\1/p' "$work/free.log")
proc=$(sed -n 's/.*one task needs \([0-9.]*\) MiB.* + \([0-9.]*\) MiB per process.*/\2/p' "$work/free.log")
limit=$(awk -v t="$task" -v b="$proc" 'BEGIN{printf "%d", 2*b + 1.5*t + 64}')
want_budget=$((limit - 64))
"${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/limited.h5" --mem-per-node "${limit}M" "${cal[@]}" \
  > "$work/limited.out" 2> "$work/limited.log"
rc=$?
check "limited run exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "log shows 1 of 2 ranks active" 'grep -q "node 0: 1 of 2 rank(s) active" "$work/limited.log"'
budget=$(sed -n 's/.*node 0 ([^)]*): budget \([0-9]*\) MiB.*/\1/p' "$work/limited.log" | head -1)
high=$(sed -n 's/.*high-water per node: node 0 \([0-9.]*\) MiB.*/\1/p' "$work/limited.log" | tail -1)
check "budget read from the log ($budget MiB, limit ${limit} MiB)" '[ -n "$budget" ] && [ "$budget" -eq "$want_budget" ]'
check "measured high-water ${high:-?} MiB ≤ budget ${budget:-?} MiB" \
  '[ -n "$high" ] && awk -v h="$high" -v b="$budget" "BEGIN{exit !(h <= b)}"'
check "/psf equals the unlimited run bit for bit" \
  'h5diff -q "$work/limited.h5" "$work/free.h5" /psf /psf'

"${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/none.h5" --mem-per-node 100M \
  > /dev/null 2> "$work/refused.log"
rc=$?
check "a task larger than the node is refused with exit 2 (got $rc)" '[ $rc -eq 2 ]'
check "the refusal gives needed and available MiB" \
  'grep -q "one wavelength needs .* MiB .* budget is .* MiB" "$work/refused.log"'
check "nothing written" '! ls "$work"/none.h5* > /dev/null 2>&1'
[ "$failed" -eq 0 ] || cat "$work/limited.log" "$work/refused.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
