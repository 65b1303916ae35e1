#!/usr/bin/env bash
# output.planes from the command line: `polypsf plan` counts the planes and refuses a plane
# request that does not fit --mem-per-node (exit 2, needed and available bytes) while the
# same job without planes fits; `polypsf render --plane NAME --wavelength I` draws a plane as
# a PNG, and a bad plane name, wavelength index or option pairing is refused with exit 2 and
# nothing written; `polypsf info` lists the planes. POLYPSF_EXE names the program (set by ctest).
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { if eval "$2"; then echo "PASS $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }

# 1. The memory model. A 2048² pupil: its complex plane buffer is 2048² × 16 B = 64 MiB.
cat > "$work/big.yaml" <<'JOB'
pupil: {npix: 2048}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 3}
optics:
  - circular_aperture: {radius: 3.25, name: pupil}
detector: {pixelscale: 0.0311, fov_pixels: 32, oversample: 2}
propagation: {method: mft}
output: {planes: [pupil], plane_quantity: complex}
JOB
sed '/^output/d' "$work/big.yaml" > "$work/big_noplanes.yaml"
"$exe" plan "$work/big_noplanes.yaml" --ranks-per-node 1 --mem-per-node 200M \
  > "$work/noplanes.out" 2>&1
rc=$?
check "without planes the job fits 200M (exit $rc)" '[ $rc -eq 0 ]'
"$exe" plan "$work/big.yaml" --ranks-per-node 1 --mem-per-node 400M > "$work/fits.out" 2>&1
rc=$?
check "with planes it fits 400M (exit $rc)" '[ $rc -eq 0 ]'
check "the plan counts the 64 MiB plane buffer in the task" \
  'grep -q "one task needs .*planes 64.0)" "$work/fits.out"'
check "the plan gives the file growth: 3 × 2048² × 16 B = 192 MiB" \
  'grep -q "1 plane dataset(s) (complex) add 192.0 MiB to the output file" "$work/fits.out"'
"$exe" plan "$work/big.yaml" --ranks-per-node 1 --mem-per-node 200M > "$work/refused.out" 2>&1
rc=$?
check "with planes it is refused at 200M with exit 2 (got $rc)" '[ $rc -eq 2 ]'
check "the refusal names needed and available bytes" \
  'grep -q "Needed [0-9]* bytes (one task and the processes), available [0-9]*" "$work/refused.out"'
check "the refusal says the planes add 67108864 bytes" \
  'grep -q "output.planes adds 64.0 MiB (67108864 bytes)" "$work/refused.out"'
[ "$failed" -eq 0 ] || cat "$work/noplanes.out" "$work/refused.out"

# 2. Render. A small coronagraph run on one process.
cat > "$work/corona.yaml" <<'JOB'
pupil: {npix: 64}
wavelengths: {min: 1.8e-6, max: 2.2e-6, count: 2}
optics:
  - circular_aperture: {radius: 3.0, name: pupil}
  - fqpm_fft_aligner: {direction: forward}
  - ideal_fqpm: {wavelength: 2.0e-6, name: fqpm}
  - fqpm_fft_aligner: {direction: backward}
  - circular_aperture: {radius: 2.7, name: lyot}
detector: {pixelscale: 0.05, fov_pixels: 32, oversample: 2}
propagation: {method: mft}
output: {planes: [pupil, fqpm, lyot], plane_quantity: amplitude_phase}
JOB
"$exe" run "$work/corona.yaml" -o "$work/corona.h5" > "$work/run.out" 2>&1
rc=$?
check "the coronagraph run exits 0 (got $rc)" '[ $rc -eq 0 ]'
"$exe" info "$work/corona.h5" > "$work/info.out" 2>&1
check "info lists the planes with their grids (64 px pupil, padded ×2 after the mask)" \
  'grep -q "^planes      3 (amplitude_phase): 0_pupil pupil 64 x 64, 2_fqpm image 128 x 128, 4_lyot pupil 128 x 128 " "$work/info.out"'
"$exe" render "$work/corona.h5" --plane lyot --wavelength 1 -o "$work/lyot.png" > "$work/r1.out" 2>&1
rc=$?
check "render --plane lyot --wavelength 1 exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "it writes a PNG" '[ "$(head -c 8 "$work/lyot.png" | od -An -tx1 | tr -d " \n")" = "89504e470d0a1a0a" ]'
"$exe" render "$work/corona.h5" --plane 2_fqpm --wavelength 0 --scale-bar auto -o "$work/fqpm.png" \
  > "$work/r2.out" 2>&1
rc=$?
check "an image plane by its dataset name, with a scale bar (exit $rc)" '[ $rc -eq 0 ] && [ -s "$work/fqpm.png" ]'
bad() { # bad LABEL PATTERN ARGS...: exit 2, the pattern on stderr, no PNG
  local label=$1 pattern=$2
  shift 2
  rm -f "$work/bad.png"
  "$exe" render "$work/corona.h5" "$@" -o "$work/bad.png" > /dev/null 2> "$work/bad.err"
  local rc=$?
  check "$label: exit 2 (got $rc)" '[ $rc -eq 2 ]'
  check "$label: says '$pattern'" 'grep -q -- "$pattern" "$work/bad.err"'
  check "$label: no PNG" '[ ! -e "$work/bad.png" ]'
}
bad "unknown plane" "has no plane 'nope'; its planes are: 0_pupil, 2_fqpm, 4_lyot" --plane nope --wavelength 0
bad "wavelength out of range" "wavelength index 2 is out of range" --plane lyot --wavelength 2
bad "--plane without --wavelength" "needs --wavelength" --plane lyot
bad "--wavelength without --plane" "give --plane NAME too" --wavelength 0
bad "a scale bar on a pupil plane" "pupil plane" --plane pupil --wavelength 0 --scale-bar 1
[ "$failed" -eq 0 ] || cat "$work/run.out" "$work/r1.out" "$work/r2.out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
