#!/usr/bin/env bash
# A whole run under valgrind: no invalid access anywhere, and no block definitely lost
# whose allocation passed through polypsf (pp_* frames). Open MPI keeps memory from
# MPI_Init/MPI_Finalize until exit; stacks through those two are Open MPI's and ignored.
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/job.yaml" <<'JOB'
pupil: {npix: 64}
wavelengths: {min: 1.0e-6, max: 1.5e-6, count: 2}
optics:
  - circular_aperture: {radius: 1.0}
  - secondary_obscuration: {secondary_radius: 0.2, n_supports: 3, support_width: 0.05}
  - zernike_wfe: {radius: 1.0, coefficients: [0, 0, 0, 5.0e-8]}
detector: {pixelscale: 0.05, fov_pixels: 16, oversample: 2}
output: {cube: true}
JOB
passed=0 failed=0
check() { if eval "$2"; then echo "PASS $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
# The calibration (0.2 s natively, minutes under valgrind) is measured by a plain `plan` into
# a private file: the run under valgrind reads it, whatever the user's cache holds. It is
# used only if its machine key matches, and OpenBLAS names its kernel in that key: valgrind's
# virtual CPU reports other features than the real one (here Haswell under valgrind,
# Prescott natively), so the run would measure again under valgrind (165 s instead of 8).
# Both get the same kernel; Prescott (SSE3) runs on every x86-64 CPU and under valgrind.
[ "$(uname -m)" = x86_64 ] && export OPENBLAS_CORETYPE=Prescott
"$exe" plan "$work/job.yaml" --calibration "$work/calibration.txt" > /dev/null 2>&1
check "plan measures the calibration (exit $?)" '[ -s "$work/calibration.txt" ]'
valgrind --leak-check=full --show-leak-kinds=definite --num-callers=40 \
  "$exe" run "$work/job.yaml" -o "$work/out.h5" --quiet --calibration "$work/calibration.txt" \
  > "$work/vg.log" 2>&1
rc=$?
check "run under valgrind exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "output written" '[ -f "$work/out.h5" ]'
invalid=$(grep -cE "Invalid (read|write|free)|uninitialised|Mismatched free" "$work/vg.log")
check "no invalid access or uninitialised use ($invalid found)" '[ "$invalid" -eq 0 ]'
ours=$(awk '/definitely lost in loss record/{blk=1; s=""} blk{s=s"\n"$0}
            /^==[0-9]+== $/{if (blk && s ~ / pp_[a-z_]+ / && s !~ /(PMPI|ompi_mpi)_(Init|init|Finalize|finalize)/) {print s; n++}; blk=0}
            END{print n+0 > "/dev/stderr"}' "$work/vg.log" 2>&1 >/dev/null)
check "no leak through polypsf code ($ours record(s))" '[ "$ours" -eq 0 ]'
[ "$failed" -eq 0 ] || cat "$work/vg.log" | tail -60
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
