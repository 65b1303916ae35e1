#!/usr/bin/env bash
# The result does not depend on the number of MPI ranks, bit for bit.
#
# One job (128 px pupil, secondary obscuration on 3 spiders, a Zernike coma term,
# 7 wavelengths with unequal weights, 24 px detector oversampled 2×, cube on) runs under
# mpirun with 1, 2, 3, 4 and 7 ranks (oversubscribed). For every rank count R:
#   - the run exits 0 and prints "polypsf: 7 wavelength(s) on R rank(s) ...";
#   - /psf and /psf_detector are bit-identical to the 1-rank run (binary dumps + cmp,
#     and h5diff without tolerance);
#   - every /cube slice is bit-identical to the 1-rank slice; /wavelengths and /weights too;
#   - /status/completed is all 1;
#   - /provenance/tasks has exactly one row per wavelength, each with a rank in [0, R),
#     a node ≥ 0 and a method that is not `none` (every slice written exactly once);
#   - the root attribute n_ranks is R.
# Then a job with fewer wavelengths (4) than ranks (7) must work the same way, and agree
# bit for bit with its own 1-rank run. Before all that, a self-check proves the
# comparison is exact: a copy of the 1-rank file with one /psf value changed by one ulp
# must be reported as different by both cmp and h5diff.
#
# Environment: POLYPSF or POLYPSF_EXE (the program; set by ctest), MPIRUN (default
# mpirun), KEEP=1 keeps the temporary directory. Exit 77 (skip) when the program or the
# tools are missing. Prints PASS/FAIL per check and the closing line "N passed, N failed".
set -u

exe="${POLYPSF:-${POLYPSF_EXE:-}}"
if [[ -z "$exe" || ! -x "$exe" ]]; then
  echo "SKIP: POLYPSF (or POLYPSF_EXE) is not set or not executable ('$exe')"
  exit 77
fi
exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"
mpirun="${MPIRUN:-mpirun}"
for tool in "$mpirun" h5dump h5diff h5ls cmp timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: '$tool' not found (Debian: openmpi-bin, hdf5-tools)"
    exit 77
  fi
done
[[ "$(id -u)" == 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

tmp="$(mktemp -d "${TMPDIR:-/tmp}/polypsf-ranks.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then trap 'echo "kept $tmp"' EXIT; else trap 'rm -rf "$tmp"' EXIT; fi

passed=0
failed=0
# report OK WHAT [DETAIL]: the command-line tests' PASS/FAIL counting (only functions are
# defined by sourcing it).
source "$(dirname "$0")/../cli/cli_test_lib.sh"

# The jobs. Weights are unequal so that a sum in another order would show in the last bits.
job_body() { # WAVELENGTH_LINES
  cat <<YAML
pupil: {npix: 128}
$1
optics:
  - circular_aperture: {radius: 3.25}
  - secondary_obscuration: {secondary_radius: 0.6, n_supports: 3, support_width: 0.12}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 0, 0, 0, 40.0e-9]}
detector: {pixelscale: 0.0311, fov_pixels: 24, oversample: 2}
propagation: {method: mft}
output: {path: unused.h5, cube: true}
YAML
}
job_body "wavelengths:
  list: [1.0e-6, 1.13e-6, 1.27e-6, 1.41e-6, 1.58e-6, 1.77e-6, 2.0e-6]
  weights: [0.3, 1.7, 2.9, 0.11, 5.0, 1.3, 0.77]" >"$tmp/seven.yaml"
job_body "wavelengths:
  list: [1.1e-6, 1.35e-6, 1.6e-6, 1.9e-6]
  weights: [2.5, 0.4, 1.9, 3.3]" >"$tmp/four.yaml"

mpi_flags=()
"$mpirun" --version 2>/dev/null | grep -q "Open MPI" &&
  mpi_flags=(--oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS)

# run JOB R OUT NLAMBDA: one run; reports its exit status, summary line and that no
# .partial file is left. Returns 0 when the run succeeded and OUT exists.
run() {
  local job="$1" ranks="$2" out="$3" n="$4" status=0 label
  label="$(basename "$job" .yaml), $ranks rank(s)"
  (cd "$tmp" && timeout 120 "$mpirun" -n "$ranks" "${mpi_flags[@]}" \
     "$exe" run "$job" -o "$out" --log-level warn >"$out.stdout" 2>"$out.stderr") || status=$?
  report "$([[ $status == 0 ]]; echo $?)" "$label: exit status 0" \
    "got $status: $(tail -n 5 "$out.stderr" | tr '\n' ' ')"
  [[ $status == 0 && -f "$out" ]] || return 1
  grep -q "^polypsf: $n wavelength(s) on $ranks rank(s) in " "$out.stdout"
  report $? "$label: summary line" "stdout: $(head -c 300 "$out.stdout")"
  [[ ! -e "$out.partial" ]]
  report $? "$label: no $(basename "$out").partial left"
  return 0
}

# dump FILE DATASET BIN: the dataset's raw bytes, little endian, exactly as stored.
dump() { h5dump -d "$2" -b LE -o "$3" "$1" >/dev/null 2>&1; }
# text FILE DATASET: the values, one per line (compound rows as "{a,b,c}").
text() {
  h5dump -A 0 -y -w 0 -m %.17g -d "$2" -o "$tmp/text" "$1" >/dev/null 2>&1 || return 1
  if grep -q '{' "$tmp/text"; then
    tr -d ' \t\n' <"$tmp/text" | sed 's/},{/}\n{/g'
    echo
  else
    tr -s ', \t\n' '\n' <"$tmp/text" | sed '/^$/d'
  fi
}
root_attribute() { # FILE NAME: an integer root attribute
  h5dump -a "/$2" -y -w 0 "$1" 2>/dev/null | awk '/DATA \{/ { getline; gsub(/[ \t]/, ""); print; exit }'
}

# same_bytes LABEL FILE REF DATASET
same_bytes() {
  local a="$tmp/a.bin" b="$tmp/b.bin"
  if ! dump "$2" "$4" "$a" || ! dump "$3" "$4" "$b"; then
    report 1 "$1: $4 readable in both files"
    return
  fi
  cmp -s "$a" "$b"
  report $? "$1: $4 bit-identical to the 1-rank run" "$(cmp "$a" "$b" 2>&1 | head -n 1)"
}

# check_file LABEL OUT REF R NLAMBDA: everything but the run itself.
check_file() {
  local label="$1" out="$2" ref="$3" ranks="$4" n="$5"
  for d in /psf /psf_detector /wavelengths /weights; do same_bytes "$label" "$out" "$ref" "$d"; done
  h5diff "$out" "$ref" /psf /psf >/dev/null 2>&1 &&
    h5diff "$out" "$ref" /psf_detector /psf_detector >/dev/null 2>&1
  report $? "$label: h5diff (no tolerance) finds /psf and /psf_detector equal"

  # /cube slice by slice (contiguous [n][ny][nx] float64: slice i is one byte range).
  if dump "$out" /cube "$tmp/cube.bin" && dump "$ref" /cube "$tmp/cube_ref.bin"; then
    local bytes per bad="" i
    bytes=$(stat -c %s "$tmp/cube_ref.bin")
    per=$((bytes / n))
    if [[ $bytes -ne $(stat -c %s "$tmp/cube.bin") || $per -eq 0 || $((per * n)) -ne $bytes ]]; then
      bad="sizes differ or do not split into $n slices"
    else
      for ((i = 0; i < n; i++)); do
        cmp -s <(tail -c +$((i * per + 1)) "$tmp/cube.bin" | head -c "$per") \
               <(tail -c +$((i * per + 1)) "$tmp/cube_ref.bin" | head -c "$per") || bad+=" $i"
      done
    fi
    report "$([[ -z "$bad" ]]; echo $?)" "$label: every /cube slice bit-identical to the 1-rank slice" \
      "slices differing:$bad"
  else
    report 1 "$label: /cube readable in both files"
  fi

  local flags
  flags="$(text "$out" /status/completed | paste -sd ' ')"
  report "$([[ "$flags" == "$(yes 1 | head -n "$n" | paste -sd ' ')" ]]; echo $?)" \
    "$label: /status/completed is $n ones" "got: $flags"

  # /provenance/tasks: one row per wavelength, each computed by a rank in [0, R).
  local rows bad_rows
  rows="$(text "$out" /provenance/tasks)"
  local n_rows
  n_rows=$(grep -c '^{' <<<"$rows")
  report "$([[ $n_rows == "$n" ]]; echo $?)" "$label: /provenance/tasks has $n rows" "got $n_rows"
  bad_rows="$(tr -d '{}' <<<"$rows" | awk -F, -v R="$ranks" \
    '!($1 ~ /^[0-9]+$/ && $1 < R && $2 ~ /^[0-9]+$/ && $3 != "none") { printf " row %d: %s;", NR - 1, $0 }')"
  report "$([[ -z "$bad_rows" ]]; echo $?)" \
    "$label: every provenance row has a rank in [0, $ranks), a node and a method" "$bad_rows"
  echo "     ranks that computed: $(tr -d '{}' <<<"$rows" | cut -d, -f1 | sort -n | uniq -c | awk '{printf "%s×%s ", $2, $1}')"
  local nr
  nr="$(root_attribute "$out" n_ranks)"
  report "$([[ "$nr" == "$ranks" ]]; echo $?)" "$label: root attribute n_ranks = $ranks" "got '$nr'"
}

start=$SECONDS
# 1 rank: the reference.
ref="$tmp/seven-1.h5"
if ! run "$tmp/seven.yaml" 1 "$ref" 7; then
  echo "$passed passed, $failed failed"
  exit 1
fi

# Self-check: cmp and h5diff see a one-ulp change of one /psf value (the lowest bit of
# the 100th float64, found through the dataset's storage offset in the file).
cp "$ref" "$tmp/ulp.h5"
offset="$(h5dump -p -H -d /psf "$ref" | awk '/OFFSET/ { print $2; exit }')"
if [[ "$offset" =~ ^[0-9]+$ ]]; then
  pos=$((offset + 8 * 100))
  byte=$(od -An -tu1 -j "$pos" -N 1 "$ref" | tr -d ' ')
  printf '%b' "\\$(printf '%03o' $((byte ^ 1)))" | dd of="$tmp/ulp.h5" bs=1 seek="$pos" conv=notrunc status=none
  dump "$ref" /psf "$tmp/a.bin" && dump "$tmp/ulp.h5" /psf "$tmp/b.bin"
  ! cmp -s "$tmp/a.bin" "$tmp/b.bin"
  report $? "self-check: cmp of binary dumps sees a 1-ulp change in /psf"
  h5diff "$ref" "$tmp/ulp.h5" /psf /psf >/dev/null 2>&1
  report "$([[ $? == 1 ]]; echo $?)" "self-check: h5diff without tolerance sees a 1-ulp change in /psf"
else
  report 1 "self-check: found the storage offset of /psf" "h5dump -p said '$offset'"
fi
check_file "seven, 1 rank(s)" "$ref" "$ref" 1 7

for ranks in 2 3 4 7; do
  out="$tmp/seven-$ranks.h5"
  run "$tmp/seven.yaml" "$ranks" "$out" 7 && check_file "seven, $ranks rank(s)" "$out" "$ref" "$ranks" 7
done

# More ranks than wavelengths: 4 wavelengths on 7 ranks, against its own 1-rank run.
if run "$tmp/four.yaml" 1 "$tmp/four-1.h5" 4; then
  run "$tmp/four.yaml" 7 "$tmp/four-7.h5" 4 &&
    check_file "four, 7 rank(s)" "$tmp/four-7.h5" "$tmp/four-1.h5" 7 4
fi

echo "($((SECONDS - start)) s)"
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
