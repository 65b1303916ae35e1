#!/usr/bin/env bash
# The pupil → detector transform through the real program (mpirun):
#   - `plan` prints both candidates (time per wavelength, memory) and the choice;
#   - `auto` on 1 and 3 ranks with one calibration file: the same method on every rank (the
#     provenance of every wavelength) and /psf, /cube bit-identical;
#   - `czt` and `mft` are recorded as such in /provenance/tasks;
#   - a corrupt calibration file is measured again and rewritten, the run succeeds;
#   - --wisdom round trip with fft_rigor: measure: the first run writes FFTW wisdom, later runs
#     (1 and 2 ranks) import it and reproduce the first run's /psf bit for bit;
#   - a --wisdom file that is not wisdom: exit 2, the file named, no output.
# POLYPSF_EXE names the program (set by ctest). Prints PASS/FAIL per check and the closing
# line "N passed, N failed". Exit 77 (skip) when the program or the tools are missing.
set -u

exe="${POLYPSF_EXE:-}"
if [[ -z "$exe" || ! -x "$exe" ]]; then
  echo "SKIP: POLYPSF_EXE is not set or not executable ('$exe')"
  exit 77
fi
mpirun="${MPIRUN:-mpirun}"
for tool in "$mpirun" h5dump cmp; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: '$tool' not found (Debian: openmpi-bin, hdf5-tools)"
    exit 77
  fi
done
[[ "$(id -u)" == 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mpi_flags=()
"$mpirun" --version 2>/dev/null | grep -q "Open MPI" &&
  mpi_flags=(--oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS)

tmp="$(mktemp -d "${TMPDIR:-/tmp}/polypsf-propagation.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
# shellcheck source=cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh" # report

# job METHOD RIGOR > file: 256 px obscured pupil with coma, 5 wavelengths, 128 × 128 pixels.
job() {
  cat <<YAML
pupil: {npix: 256}
wavelengths:
  list: [1.0e-6, 1.2e-6, 1.45e-6, 1.7e-6, 2.0e-6]
  weights: [0.7, 1.9, 1.1, 2.3, 0.4]
optics:
  - circular_aperture: {radius: 3.25}
  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 0, 0, 0, 40.0e-9]}
detector: {pixelscale: 0.0311, fov_pixels: 64, oversample: 2}
propagation: {method: $1, fft_rigor: $2}
output: {path: unused.h5, cube: true}
YAML
}
job auto estimate >"$tmp/auto.yaml"
job czt estimate >"$tmp/czt.yaml"
job mft estimate >"$tmp/mft.yaml"
job czt measure >"$tmp/measure.yaml"
calibration="$tmp/calibration.txt"

# run RANKS JOB OUT [options...]: runs, keeps stderr in OUT.log; returns the exit status.
run() {
  local ranks="$1" job="$2" out="$3"
  shift 3
  "$mpirun" -n "$ranks" "${mpi_flags[@]}" "$exe" run "$job" -o "$out" --force \
    --calibration "$calibration" "$@" >"$out.stdout" 2>"$out.log"
}
dump() { h5dump -d "$2" -b LE -o "$3" "$1" >/dev/null 2>&1; }
# methods OUT: the method column of `polypsf info`, one word per wavelength
methods() { "$exe" info "$1" 2>/dev/null | awk '$4 == "yes" && NF >= 9 { print $7 }' | sort | uniq -c | tr -s ' '; }

# --- plan ---------------------------------------------------------------------------------
"$exe" plan "$tmp/auto.yaml" --calibration "$calibration" >"$tmp/plan.txt" 2>&1
status=$?
report $([[ $status == 0 ]]; echo $?) "plan exits 0" "$(head -c 300 "$tmp/plan.txt")"
report $(grep -q "calibration: measured this machine" "$tmp/plan.txt"; echo $?) \
  "plan: the first use measures the machine and says so"
report $(grep -qE "plan: +mft .* ms per wavelength .*MiB" "$tmp/plan.txt" &&
         grep -qE "plan: +czt .* ms per wavelength .*MiB" "$tmp/plan.txt"; echo $?) \
  "plan: both candidates with time per wavelength and memory" "$(grep 'plan: ' "$tmp/plan.txt")"
report $(grep -q "<- chosen" "$tmp/plan.txt" && grep -q "method auto chose" "$tmp/plan.txt"; echo $?) \
  "plan: the choice is shown"
chosen="$(awk '/<- chosen/ { print $2; exit }' "$tmp/plan.txt")"
head -1 "$calibration" | grep -q "^# polypsf calibration"
report $? "plan wrote the calibration file"

# --- auto on 1 and 3 ranks -------------------------------------------------------------------
run 1 "$tmp/auto.yaml" "$tmp/auto1.h5"
report $? "auto, 1 rank: exit 0" "$(tail -c 300 "$tmp/auto1.h5.log")"
report $(grep -q "calibration: read $calibration" "$tmp/auto1.h5.log"; echo $?) \
  "auto: the run reads the calibration plan wrote"
run 3 "$tmp/auto.yaml" "$tmp/auto3.h5"
report $? "auto, 3 ranks: exit 0" "$(tail -c 300 "$tmp/auto3.h5.log")"
for n in 1 3; do
  got="$(methods "$tmp/auto$n.h5")"
  report $([[ "$got" == " 5 $chosen" ]]; echo $?) \
    "auto, $n rank(s): all 5 wavelengths ran $chosen (the plan's choice)" "got '$got'"
done
for d in /psf /cube; do
  dump "$tmp/auto1.h5" "$d" "$tmp/a1.bin" && dump "$tmp/auto3.h5" "$d" "$tmp/a3.bin" &&
    cmp -s "$tmp/a1.bin" "$tmp/a3.bin"
  report $? "auto: $d bit-identical on 1 and 3 ranks"
done

# --- explicit methods in the provenance ------------------------------------------------------
for m in czt mft; do
  run 2 "$tmp/$m.yaml" "$tmp/$m.h5"
  report $? "$m, 2 ranks: exit 0" "$(tail -c 300 "$tmp/$m.h5.log")"
  got="$(methods "$tmp/$m.h5")"
  report $([[ "$got" == " 5 $m" ]]; echo $?) "$m: /provenance/tasks names $m for every wavelength" \
    "got '$got'"
done

# --- a corrupt calibration file ------------------------------------------------------------------
sed -i 's/^zgemm 64 .*/zgemm 64 garbage/' "$calibration"
run 1 "$tmp/auto.yaml" "$tmp/recal.h5"
report $? "corrupt calibration: the run still succeeds" "$(tail -c 300 "$tmp/recal.h5.log")"
report $(grep -q "calibration: measured this machine .*$calibration:[0-9]*:" "$tmp/recal.h5.log"; echo $?) \
  "corrupt calibration: measured again, the bad line named" "$(grep calibration "$tmp/recal.h5.log")"
report $(grep -q "^zgemm 64 [0-9]" "$calibration" && grep -q "^end$" "$calibration"; echo $?) \
  "corrupt calibration: rewritten whole"

# --- wisdom round trip ------------------------------------------------------------------------
wisdom="$tmp/wisdom.txt"
run 1 "$tmp/measure.yaml" "$tmp/w1.h5" --wisdom "$wisdom"
report $? "wisdom, first run (measure): exit 0" "$(tail -c 300 "$tmp/w1.h5.log")"
report $(grep -q "wisdom: no file" "$tmp/w1.h5.log" && head -c 7 "$wisdom" | grep -q "(fftw-3"; echo $?) \
  "wisdom: the first run plans afresh and writes FFTW wisdom"
cp "$wisdom" "$tmp/wisdom.first"
for n in 2 1; do
  run "$n" "$tmp/measure.yaml" "$tmp/w$n.again.h5" --wisdom "$wisdom"
  report $? "wisdom, $n rank(s) from the file: exit 0" "$(tail -c 300 "$tmp/w$n.again.h5.log")"
  report $(grep -q "wisdom: imported $wisdom" "$tmp/w$n.again.h5.log"; echo $?) \
    "wisdom, $n rank(s): imported"
  dump "$tmp/w1.h5" /psf "$tmp/w1.bin" && dump "$tmp/w$n.again.h5" /psf "$tmp/wn.bin" &&
    cmp -s "$tmp/w1.bin" "$tmp/wn.bin"
  report $? "wisdom, $n rank(s): /psf bit-identical to the run that measured"
done

printf 'not FFTW wisdom\n' >"$tmp/bad_wisdom.txt"
rm -f "$tmp"/bad.h5*
run 2 "$tmp/czt.yaml" "$tmp/bad.h5" --wisdom "$tmp/bad_wisdom.txt"
status=$?
report $([[ $status == 2 ]]; echo $?) "a file that is not wisdom: exit 2" "got $status"
report $(grep -q "bad_wisdom.txt is not FFTW wisdom" "$tmp/bad.h5.log"; echo $?) \
  "… the message names the file" "$(head -c 300 "$tmp/bad.h5.log")"
report $([[ ! -e "$tmp/bad.h5" && ! -e "$tmp/bad.h5.partial" ]]; echo $?) "… no output created"

echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
