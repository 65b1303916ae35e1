#!/usr/bin/env bash
# The log warns when OpenBLAS runs kernels older than the CPU (its Prescott fallback for a
# CPU model it does not know, as in many virtual machines), names the OPENBLAS_CORETYPE to
# set, and says nothing when the kernels fit the CPU. Truth: the CPU's flags in /proc/cpuinfo
# (avx2, fma, avx512*) and the kernel forced through OPENBLAS_CORETYPE, which OpenBLAS
# obeys. Skipped off x86-64 and on a CPU without AVX2 and FMA (nothing to warn about).
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: not an x86-64 machine"; exit 77; }
flags=$(grep -m1 '^flags' /proc/cpuinfo)
for flag in avx2 fma; do
  [[ " $flags " == *" $flag "* ]] || { echo "SKIP: this CPU has no $flag"; exit 77; }
done
expected=Haswell
[[ " $flags " == *" avx512f "* && " $flags " == *" avx512dq "* && " $flags " == *" avx512bw "* &&
   " $flags " == *" avx512vl "* ]] && expected=SkylakeX
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { if eval "$2"; then echo "PASS $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
cat > "$work/job.yaml" <<'JOB'
pupil: {npix: 32}
wavelengths: {list: [1.0e-6]}
optics:
  - circular_aperture: {radius: 1.0}
detector: {pixelscale: 0.05, fov_pixels: 8}
JOB
run() { # run CORETYPE LOG
  OPENBLAS_CORETYPE=$1 "$exe" run "$work/job.yaml" -o "$work/out.h5" --force \
    --calibration "$work/calibration-$1.txt" >/dev/null 2>"$2"
  rc=$?
}
run Prescott "$work/old.log"
check "a run on Prescott kernels succeeds (exit $rc)" '[ $rc -eq 0 ]'
check "it warns that OpenBLAS runs its Prescott kernels and names OPENBLAS_CORETYPE=$expected" \
  'grep -q "warn  OpenBLAS runs its Prescott kernels.*OPENBLAS_CORETYPE=$expected" "$work/old.log"'
run "$expected" "$work/fit.log"
check "a run on $expected kernels succeeds (exit $rc)" '[ $rc -eq 0 ]'
check "it does not warn about the kernels" '! grep -q "OpenBLAS runs its" "$work/fit.log"'
[ "$failed" -eq 0 ] || { echo "--- Prescott log:"; cat "$work/old.log"; echo "--- $expected log:"; cat "$work/fit.log"; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
