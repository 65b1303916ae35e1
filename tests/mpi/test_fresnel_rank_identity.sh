#!/usr/bin/env bash
# A Fresnel job gives the same bits on 1, 2 and 3 ranks (issue 14): each rank computes whole
# wavelengths, so /psf, /psf_detector and every /cube slice must be byte-identical to the
# 1-rank run (binary dumps + cmp, and h5diff without tolerance).
#
# The job: a 64 px pupil padded to 128 (beam_ratio 0.5), an obscured aperture, a Zernike
# term, two lenses with a distance between them and a resampled detector; 5 wavelengths with
# unequal weights, so that a sum in another order would show in the last bits.
# Environment: POLYPSF or POLYPSF_EXE (the program; set by ctest), MPIRUN (default mpirun).
# Exit 77 (skip) when the program or the tools are missing. Prints PASS/FAIL per check and
# "N passed, N failed".
set -u
exe="${POLYPSF:-${POLYPSF_EXE:-}}"
if [[ -z "$exe" || ! -x "$exe" ]]; then
  echo "SKIP: POLYPSF (or POLYPSF_EXE) is not set or not executable ('$exe')"
  exit 77
fi
exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"
mpirun="${MPIRUN:-mpirun}"
for tool in "$mpirun" h5dump h5diff cmp timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: '$tool' not found (Debian: openmpi-bin, hdf5-tools)"
    exit 77
  fi
done
[[ "$(id -u)" == 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
tmp="$(mktemp -d "${TMPDIR:-/tmp}/polypsf-fresnel-ranks.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
source "$(dirname "$0")/../cli/cli_test_lib.sh"

cat >"$tmp/job.yaml" <<'YAML'
pupil: {npix: 64, diameter: 2.4}
wavelengths: {list: [5.0e-7, 5.5e-7, 6.0e-7, 6.5e-7, 7.0e-7], weights: [1, 3, 2, 5, 4]}
propagation: {mode: fresnel, beam_ratio: 0.5}
optics:
  - circular_aperture: {radius: 1.2}
  - secondary_obscuration: {secondary_radius: 0.4, n_supports: 4, support_width: 0.05}
  - zernike_wfe: {radius: 1.2, coefficients: [0, 0, 0, 30.0e-9, 0, 0, 20.0e-9]}
  - quadratic_lens: {f_lens: 5.52085, plane: pupil}
  - quadratic_lens: {f_lens: -0.6790325, distance: 4.907028205}
detector: {pixelscale_m: 4.0e-6, fov_pixels: 48, distance: 6.3916645}
YAML

mpi_flags=()
"$mpirun" --version 2>/dev/null | grep -q "Open MPI" &&
  mpi_flags=(--oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS)
dump() { h5dump -d "$2" -b LE -o "$3" "$1" >/dev/null 2>&1; }

for ranks in 1 2 3; do
  (cd "$tmp" && timeout 300 "$mpirun" -n "$ranks" "${mpi_flags[@]}" \
     "$exe" run job.yaml -o "r$ranks.h5" --force >"$tmp/out$ranks" 2>"$tmp/err$ranks")
  status=$?
  report $([[ $status == 0 ]] && grep -q "5 wavelength(s) on $ranks rank(s)" "$tmp/out$ranks"; echo $?) \
    "$ranks rank(s): the Fresnel job runs" "exit $status: $(tail -c 300 "$tmp/err$ranks")"
  [[ $ranks == 1 ]] && continue
  for dataset in /psf /psf_detector /cube; do
    dump "$tmp/r1.h5" "$dataset" "$tmp/a.bin"
    dump "$tmp/r$ranks.h5" "$dataset" "$tmp/b.bin"
    same=1
    [[ -s "$tmp/a.bin" ]] && cmp -s "$tmp/a.bin" "$tmp/b.bin" && same=0
    report $same "$ranks rank(s): $dataset byte-identical to 1 rank"
    h5diff "$tmp/r1.h5" "$tmp/r$ranks.h5" "$dataset" "$dataset" >/dev/null 2>&1
    report $? "$ranks rank(s): h5diff $dataset finds no difference"
  done
done
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
