#!/usr/bin/env bash
# CI smoke test: one tiny job on 2 MPI ranks, end to end, in a few seconds.
#
#   jobs/ci/smoke.sh                    # uses $POLYPSF, else build/polypsf, else polypsf on PATH
#   POLYPSF=build-asan/polypsf jobs/ci/smoke.sh
#
# Writes a 64 px pupil, 3-wavelength, 16 px detector job into a temporary directory,
# runs it with `mpirun -n 2`, and checks the file: /psf, /psf_detector, /cube and
# /status/completed exist with the expected shapes, every completed flag is 1, the PSF
# sum is in (0, 1], no `.partial` file is left. Exits 0 when all is well, otherwise 1
# with a message saying what failed. Registered in ctest as `smoke_ci` (tests/mpi/).
#
# Environment: POLYPSF (the program), MPIRUN (default mpirun), SMOKE_TIMEOUT (seconds
# the run may take, default 120), SMOKE_KEEP=1 keeps the temporary directory.
set -euo pipefail

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# --- the program and the tools ----------------------------------------------------------
exe="${POLYPSF:-${POLYPSF_EXE:-}}"
if [[ -z "$exe" ]]; then
  if [[ -x "$repo/build/polypsf" ]]; then exe="$repo/build/polypsf"
  else exe="$(command -v polypsf || true)"; fi
fi
[[ -n "$exe" && -x "$exe" ]] ||
  fail "polypsf not found (set POLYPSF=path/to/polypsf, or build it: make build)"
[[ "$exe" == */* ]] && exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")" # the run cds
mpirun="${MPIRUN:-mpirun}"
for tool in "$mpirun" h5ls h5dump timeout; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "'$tool' not found (Debian: apt-get install openmpi-bin hdf5-tools coreutils)"
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/polypsf-smoke.XXXXXX")"
if [[ "${SMOKE_KEEP:-0}" == 1 ]]; then
  trap 'echo "smoke: kept $tmp" >&2' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi

# --- the job ---------------------------------------------------------------------------
cat >"$tmp/smoke.yaml" <<'YAML'
# polypsf CI smoke job: tiny on purpose (seconds, a few MiB).
pupil: {npix: 64}
wavelengths: {min: 1.0e-6, max: 1.5e-6, count: 3}
optics:
  - circular_aperture: {radius: 1.0}
  - secondary_obscuration: {secondary_radius: 0.25, n_supports: 3, support_width: 0.05}
detector: {pixelscale: 0.05, fov_pixels: 16, oversample: 2}
propagation: {method: mft}
output: {path: smoke.h5, cube: true}
YAML
n_lambda=3 side=32 det=16
out="$tmp/smoke.h5"

# --- the run: 2 ranks, one BLAS thread each ----------------------------------------------
# --oversubscribe: CI machines may have a single core. Root (containers) needs Open MPI's
# two OMPI_ALLOW_* variables; they are set only when running as root.
if [[ "$(id -u)" == 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mpi_args=(-n 2)
if "$mpirun" --version 2>/dev/null | grep -q "Open MPI"; then
  mpi_args+=(--oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS)
fi
echo "smoke: $mpirun ${mpi_args[*]} $exe run smoke.yaml -o $out"
status=0
(cd "$tmp" && timeout "${SMOKE_TIMEOUT:-120}" "$mpirun" "${mpi_args[@]}" \
    "$exe" run smoke.yaml -o "$out" >"$tmp/stdout" 2>"$tmp/stderr") || status=$?
if [[ $status != 0 ]]; then
  echo "--- stderr of the run (last 30 lines) ---" >&2
  tail -n 30 "$tmp/stderr" >&2
  [[ $status == 124 ]] && fail "the run did not finish within ${SMOKE_TIMEOUT:-120} s"
  fail "polypsf run exited with status $status (2: bad input, 1: runtime failure)"
fi
cat "$tmp/stdout"
grep -q "^polypsf: $n_lambda wavelength(s) on 2 rank(s)" "$tmp/stdout" ||
  fail "no summary line 'polypsf: $n_lambda wavelength(s) on 2 rank(s) ...' on stdout"
[[ -f "$out" ]] || fail "the run succeeded but $out does not exist"
[[ ! -e "$out.partial" ]] || fail "$out.partial was left behind"

# --- the file ----------------------------------------------------------------------------
h5ls -r "$out" >"$tmp/h5ls" 2>&1 || fail "h5ls cannot read $out: $(head -n 3 "$tmp/h5ls")"
expect_dataset() { # PATH SHAPE: h5ls prints "PATH  Dataset {SHAPE}"
  grep -Eq "^$1 +Dataset \{$2\}$" "$tmp/h5ls" ||
    fail "dataset $1 with shape {$2} missing; h5ls -r says: $(tr '\n' ';' <"$tmp/h5ls")"
}
expect_dataset /psf "$side, $side"
expect_dataset /psf_detector "$det, $det"
expect_dataset /cube "$n_lambda, $side, $side"
expect_dataset /status/completed "$n_lambda"

values() { # PATH: the dataset's values, one per line, floats with 17 digits
  h5dump -A 0 -y -w 0 -m %.17g -d "$1" -o "$tmp/values" "$out" >/dev/null 2>"$tmp/h5dump.err" ||
    fail "h5dump cannot read $1: $(head -n 3 "$tmp/h5dump.err")"
  tr -s ', \t\n' '\n' <"$tmp/values" | sed '/^$/d'
}
flags="$(values /status/completed | tr '\n' ' ')"
n_ones="$(values /status/completed | grep -c '^1$' || true)"
[[ "$n_ones" == "$n_lambda" ]] ||
  fail "/status/completed should be $n_lambda ones, is: $flags"
sum="$(values /psf | awk '{ s += $1 } END { printf "%.17g", s }')"
awk -v s="$sum" 'BEGIN { exit !(s > 0 && s <= 1) }' ||
  fail "PSF sum $sum is not in (0, 1]"
echo "smoke: OK: $out has /psf /psf_detector /cube /status/completed, flags $flags, PSF sum $sum"
