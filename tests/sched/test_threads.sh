#!/usr/bin/env bash
# Threads per rank change the speed, not the result. The same job run with
# --threads-per-rank 2 (FFTW threads for the padded FFTs and the chirp-z, OpenBLAS threads
# for the MFT) and with 1 thread gives /psf equal to 1e-12 of its peak:
#   - an FQPM coronagraph (two padded 512² FFTs per wavelength, then chirp-z to the
#     detector): 1 rank × 1 thread against 1 rank × 2 threads and 2 ranks × 2 threads;
#   - direct imaging by the MFT (BLAS products), the threads asked for by the job file's
#     propagation.threads_per_rank: 2, against --threads-per-rank 1 (the option overrides).
# The log names the threads in force, and warns when ranks × threads exceed the node's CPUs
# (faked with SLURM_CPUS_ON_NODE=1) and only then. For a given thread count /psf stays the
# same bit for bit for any rank count. FFTW wisdom (fft_rigor: measure, --wisdom) serves
# both thread counts from one file, and measured 2-thread plans read back from it give the
# same bits again. A self-check first shows that the comparison catches a difference of 1e-9
# of the peak.
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
for tool in mpirun h5dump awk cmp; do
  command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: '$tool' not found"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { if eval "$2"; then echo "PASS $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
unset SLURM_CPUS_ON_NODE
run() { # run RANKS OUT LOG [polypsf args...]: one run under mpirun, exit status in $rc
  local ranks=$1 out=$2 log=$3
  shift 3
  mpirun -n "$ranks" --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1 \
    ${SLURM_CPUS_ON_NODE:+-x SLURM_CPUS_ON_NODE} "$exe" run "$@" -o "$out" --force \
    --calibration "$work/calibration.txt" >/dev/null 2>"$log"
  rc=$?
}
dump() { # dump FILE OUT: /psf as one number per line
  h5dump -A 0 -y -w 0 -m %.17g -d /psf -o "$work/text" "$1" >/dev/null 2>&1 &&
    tr ', ' '\n\n' <"$work/text" | grep -E '^[-0-9]' >"$2"
}
# rel_diff A B: max |a − b| / max |a| over two dumps of the same length ("" if they differ in length)
rel_diff() {
  awk 'NR == FNR { a[FNR] = $1; n = FNR; next }
       { if (FNR > n) { bad = 1; exit } d = $1 - a[FNR]; if (d < 0) d = -d; if (d > m) m = d;
         v = a[FNR] < 0 ? -a[FNR] : a[FNR]; if (v > p) p = v; c++ }
       END { if (bad || c != n || p == 0) print ""; else printf "%.3g\n", m / p }' "$1" "$2"
}
within() { [ -n "$1" ] && awk -v d="$1" 'BEGIN { exit !(d <= 1e-12) }'; }

cat > "$work/fqpm.yaml" <<'JOB'
pupil: {npix: 128}
wavelengths: {min: 1.8e-6, max: 2.2e-6, count: 4}
optics:
  - circular_aperture: {radius: 3.0, gray_pixel: true}
  - fqpm_fft_aligner: {direction: forward}
  - ideal_fqpm: {wavelength: 2.0e-6}
  - fqpm_fft_aligner: {direction: backward}
  - circular_aperture: {radius: 2.7, gray_pixel: true, name: Lyot stop}
detector: {pixelscale: 0.02, fov_pixels: 48, oversample: 2}
propagation: {method: czt, fft_oversample: 4}
output: {cube: false}
JOB
cat > "$work/mft.yaml" <<'JOB'
pupil: {npix: 256}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 4}
optics:
  - circular_aperture: {radius: 3.25}
  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 50.0e-9]}
detector: {pixelscale: 0.0311, fov_pixels: 64, oversample: 2}
propagation: {method: mft, threads_per_rank: 2}
output: {cube: false}
JOB

# Coronagraph: 1 thread, the reference.
run 1 "$work/c1.h5" "$work/c1.log" "$work/fqpm.yaml" --threads-per-rank 1
check "coronagraph, 1 rank × 1 thread exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "its log names 1 thread per rank" 'grep -q "cores: 1 thread(s) per rank" "$work/c1.log"'
check "1 × 1 on a node of ≥ 1 CPU: no oversubscription warning" '! grep -q oversubscribed "$work/c1.log"'
dump "$work/c1.h5" "$work/c1.txt"

# Self-check: one value moved by 1e-9 of the peak must be seen.
awk 'NR == 1 { m = 0 } { v[NR] = $1; a = $1 < 0 ? -$1 : $1; if (a > m) m = a }
     END { for (i = 1; i <= NR; i++) printf "%.17g\n", v[i] + (i == int(NR / 3) ? 1e-9 * m : 0) }' \
  "$work/c1.txt" >"$work/moved.txt"
moved=$(rel_diff "$work/c1.txt" "$work/moved.txt")
check "self-check: a change of 1e-9 of the peak is reported (${moved:-none})" \
  '[ -n "$moved" ] && ! within "$moved"'

run 1 "$work/c2.h5" "$work/c2.log" "$work/fqpm.yaml" --threads-per-rank 2
check "coronagraph, 1 rank × 2 threads exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "its log names 2 threads per rank" 'grep -q "cores: 2 thread(s) per rank" "$work/c2.log"'
attr_threads() { h5dump -a /threads_per_rank "$1" 2>/dev/null | awk '/\(0\)/ {print $2}'; }
check "the file records threads_per_rank 2 (1 for the 1-thread run)" \
  '[ "$(attr_threads "$work/c2.h5")" = 2 ] && [ "$(attr_threads "$work/c1.h5")" = 1 ]'
dump "$work/c2.h5" "$work/c2.txt"
d=$(rel_diff "$work/c1.txt" "$work/c2.txt")
echo "coronagraph: max |psf(2 threads) − psf(1 thread)| / peak = ${d:-?}"
check "coronagraph /psf, 2 threads vs 1: within 1e-12 of the peak (${d:-?})" 'within "$d"'

SLURM_CPUS_ON_NODE=1 run 2 "$work/c22.h5" "$work/c22.log" "$work/fqpm.yaml" --threads-per-rank 2
check "coronagraph, 2 ranks × 2 threads exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "SLURM_CPUS_ON_NODE=1: the log warns 2 × 2 = 4 cores oversubscribe 1 CPU" \
  'grep -q "warn .*2 rank(s) × 2 thread(s) = 4 cores on a node with 1 CPU(s): oversubscribed" "$work/c22.log"'
# --mem-per-cpu without SLURM_CPUS_ON_NODE: every thread holds a CPU of the allocation, so
# the node's memory is MiB per CPU × ranks × threads (1 × 2 × 256 MiB here).
env -u SLURM_CPUS_ON_NODE SLURM_MEM_PER_CPU=256 "$exe" run "$work/fqpm.yaml" -o "$work/cpu.h5" \
  --force --threads-per-rank 2 --calibration "$work/calibration.txt" >/dev/null 2>"$work/cpu.log"
check "SLURM_MEM_PER_CPU=256 for 1 rank × 2 threads: a 512 MiB limit" \
  'grep -q "limit 512 MiB (SLURM_MEM_PER_CPU)" "$work/cpu.log"'
dump "$work/c22.h5" "$work/c22.txt"
d=$(rel_diff "$work/c1.txt" "$work/c22.txt")
echo "coronagraph: max |psf(2 ranks × 2 threads) − psf(1 × 1)| / peak = ${d:-?}"
check "coronagraph /psf, 2 ranks × 2 threads vs 1 × 1: within 1e-12 of the peak (${d:-?})" 'within "$d"'

check "coronagraph /psf, 2 ranks × 2 threads vs 1 rank × 2 threads: bit for bit" \
  'cmp -s "$work/c2.txt" "$work/c22.txt"'

# Wisdom keyed by thread count: with fft_rigor measure and one --wisdom file, a 1-thread run,
# then two 2-thread runs on 2 ranks. The file serves both counts; the second 2-thread run
# plans from it and reproduces the first's bits; both agree with 1 thread to 1e-12.
sed 's/propagation: {method: czt, fft_oversample: 4}/propagation: {method: czt, fft_oversample: 4, fft_rigor: measure}/' \
  "$work/fqpm.yaml" >"$work/measure.yaml"
run 2 "$work/w1.h5" "$work/w1.log" "$work/measure.yaml" --threads-per-rank 1 --wisdom "$work/fftw.wisdom"
check "measure, 1 thread, --wisdom: exits 0 (got $rc)" '[ $rc -eq 0 ]'
run 2 "$work/w2.h5" "$work/w2.log" "$work/measure.yaml" --threads-per-rank 2 --wisdom "$work/fftw.wisdom"
check "measure, 2 threads, the 1-thread wisdom file: exits 0 (got $rc)" '[ $rc -eq 0 ]'
run 2 "$work/w3.h5" "$work/w3.log" "$work/measure.yaml" --threads-per-rank 2 --wisdom "$work/fftw.wisdom"
check "measure, 2 threads again from the file: exits 0 (got $rc)" '[ $rc -eq 0 ]'
dump "$work/w1.h5" "$work/w1.txt"
dump "$work/w2.h5" "$work/w2.txt"
dump "$work/w3.h5" "$work/w3.txt"
check "measured 2-thread plans from wisdom reproduce the first 2-thread run bit for bit" \
  'cmp -s "$work/w2.txt" "$work/w3.txt"'
d=$(rel_diff "$work/w1.txt" "$work/w2.txt")
echo "measure + wisdom: max |psf(2 threads) − psf(1 thread)| / peak = ${d:-?}"
check "measure + wisdom /psf, 2 threads vs 1: within 1e-12 of the peak (${d:-?})" 'within "$d"'

# MFT: the job file asks for 2 threads; the option brings it back to 1.
run 1 "$work/m2.h5" "$work/m2.log" "$work/mft.yaml"
check "MFT, threads from the job file, exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "its log names the job's 2 threads per rank" 'grep -q "cores: 2 thread(s) per rank" "$work/m2.log"'
check "its plan counts BLAS buffers for 2 threads (16 MiB)" 'grep -q "BLAS 16.0)" "$work/m2.log"'
run 1 "$work/m1.h5" "$work/m1.log" "$work/mft.yaml" --threads-per-rank 1
check "MFT, --threads-per-rank 1 over the job's 2, exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "the option overrides the job: 1 thread per rank" 'grep -q "cores: 1 thread(s) per rank" "$work/m1.log"'
dump "$work/m1.h5" "$work/m1.txt"
dump "$work/m2.h5" "$work/m2.txt"
d=$(rel_diff "$work/m1.txt" "$work/m2.txt")
echo "MFT: max |psf(2 threads) − psf(1 thread)| / peak = ${d:-?}"
check "MFT /psf, 2 threads vs 1: within 1e-12 of the peak (${d:-?})" 'within "$d"'

[ "$failed" -eq 0 ] || tail -n 30 "$work"/*.log
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
