#!/usr/bin/env bash
# The PSF-grid benchmark (docs/grids.md, docs/performance.md): a 5 x 5 field grid x 8
# wavelengths (200 tasks) of a 512 px pupil with field-dependent Zernikes, on 1 and 2 ranks
# run alternately; prints
#   - the parallel efficiency T1 / (2 · T2), whole run and compute alone (as bench_scaling.sh);
#   - the per-task overhead outside the transform on one rank, as a fraction of one 256 px
#     task's transform (measured here too, as the compute of a 1-point grid of 8 wavelengths
#     over 8: one task alone is under the log's millisecond): per task, what the run spends
#     outside its compute
#     stage, over and above a 1-point grid of the same system (8 tasks), so that the fixed
#     start-up and close of a run are not charged to tasks: ((T − C)₂₀₀ − (T − C)₈) / 192;
#     the whole-run figure (T − C)₂₀₀ / 200 beside it;
#   - whether /grid/psf is byte-identical on 1 and 2 ranks;
#   - with POPPY_SRC=/path/to/poppy (a POPPY source tree; numpy, scipy, astropy importable by
#     /usr/bin/python3): the same grid computed by POPPY in one process, a loop over the
#     points as WebbPSF's psf_grid does, and the ratio POPPY time / polypsf time per core.
# Usage: [METHOD=auto|mft|czt] jobs/bench/bench_grid.sh [path/to/polypsf] [repetitions]
set -euo pipefail
exe=${1:-${POLYPSF:-build/polypsf}}
reps=${2:-3}
method=${METHOD:-auto} # the transform (auto: the default, as a user runs it; or mft, czt)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
grid_job() { # grid_job NPIX NX COUNT MAX_WAVELENGTH
  cat <<JOB
pupil: {npix: $1}
wavelengths: {min: 1.0e-6, max: $4, count: $3}
field: {grid: {nx: $2, ny: $2, x: [-60, 60], y: [-60, 60]}}
optics:
  - circular_aperture: {radius: 1.2}
  - secondary_obscuration: {secondary_radius: 0.18, n_supports: 4, support_width: 0.06}
  - zernike_wfe:
      radius: 1.2
      coefficients: [0, 0, 0, 1.0e-8]
      field_polynomial: [[4, 2, 0, 2.0e-11], [4, 0, 2, 2.0e-11], [5, 1, 1, 3.0e-11], [6, 2, 0, 1.5e-11], [6, 0, 2, -1.5e-11], [7, 0, 1, 6.0e-10], [8, 1, 0, 6.0e-10]]
detector: {pixelscale: 0.03, fov_pixels: 64, oversample: 2}
propagation: {method: $method}
output: {cube: ${CUBE:-false}}
JOB
}
grid_job 512 5 8 1.5e-6 > "$work/grid.yaml"
grid_job 512 1 8 1.5e-6 > "$work/point.yaml"
grid_job 256 1 8 1.5e-6 > "$work/one256.yaml"
tasks=200
timing() { # timing LOG: the run's `timing` line, as "stage value" words
  sed -n 's/.*timing (s, slowest rank): //p' "$1" |
    sed 's/slice writes/slice_writes/; s/psf write/psf_write/; s/,//g'
}
for r in $(seq 1 "$reps"); do
  for n in 1 2; do
    mpirun -n $n --bind-to none "$exe" run "$work/grid.yaml" -o "$work/out$n.h5" --force \
      > /dev/null 2> "$work/log"
    timing "$work/log" >> "$work/t$n"
  done
  "$exe" run "$work/one256.yaml" -o "$work/one.h5" --force > /dev/null 2> "$work/log"
  timing "$work/log" >> "$work/t256"
  "$exe" run "$work/point.yaml" -o "$work/point.h5" --force > /dev/null 2> "$work/log"
  timing "$work/log" >> "$work/t8"
done
h5diff -q "$work/out1.h5" "$work/out2.h5" /grid/psf /grid/psf && same=yes || same=no
median() {  # median of the value following stage name $1 in file $2
  awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' "$2" | sort -g |
    awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
t1=$(median total "$work/t1"); t2=$(median total "$work/t2")
c1=$(median compute "$work/t1"); c2=$(median compute "$work/t2")
task256=$(awk -v c="$(median compute "$work/t256")" 'BEGIN {print c / 8}')
t8=$(median total "$work/t8"); c8=$(median compute "$work/t8")
echo "PSF grid: 25 points x 8 wavelengths = $tasks tasks, 512 px pupil to 128 x 128 px, method $method;"
echo "median of $reps alternating runs (seconds, slowest rank)"
echo
echo "| ranks | total | compute |"
echo "| ---: | ---: | ---: |"
printf "| 1 | %.3f | %.3f |\n| 2 | %.3f | %.3f |\n" "$t1" "$c1" "$t2" "$c2"
echo
awk -v a="$t1" -v b="$t2" -v c="$c1" -v d="$c2" -v n="$tasks" -v s="$task256" \
    -v e="$t8" -v f="$c8" 'BEGIN{
  printf "parallel efficiency T1/(2·T2): %.3f (whole run), %.3f (compute alone)\n", a / (2 * b), c / (2 * d)
  m = ((a - c) - (e - f)) / (n - 8)
  printf "per-task overhead outside the transform (1 rank): %.5f s = %.1f %% of a 256 px task (%.5f s)\n", m, 100 * m / s, s
  o = (a - c) / n
  printf "  (whole run, start-up and close included: %.5f s per task = %.1f %%; 1-point grid: total %.3f s, compute %.3f s)\n", o, 100 * o / s, e, f}'
echo "/grid/psf identical for 1 and 2 ranks: $same"

# shellcheck source=poppy_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/poppy_env.sh"
if [[ -n "${POPPY_SRC:-}" ]] && poppy_setup; then
  # POPPY in one process, one BLAS thread, a loop over the points (WebbPSF's psf_grid).
  "$poppy_python" - "$t1" <<PY
$poppy_preamble
import sys, time
import numpy as np
import astropy.units as u

t_polypsf = float(sys.argv[1])
xs = np.linspace(-60, 60, 5)
wavelengths = np.linspace(1.0e-6, 1.5e-6, 8)
weights = np.ones(8)
start = time.perf_counter()
for y in xs:
    for x in xs:
        coeffs = [0, 0, 0,
                  1.0e-8 + 2.0e-11 * (x * x + y * y), 3.0e-11 * x * y,
                  1.5e-11 * (x * x - y * y), 6.0e-10 * y, 6.0e-10 * x]
        osys = poppy.OpticalSystem(npix=512, oversample=2)
        osys.add_pupil(poppy.CircularAperture(radius=1.2))
        osys.add_pupil(poppy.SecondaryObscuration(secondary_radius=0.18, n_supports=4,
                                                  support_width=0.06))
        osys.add_pupil(poppy.ZernikeWFE(radius=1.2, coefficients=coeffs))
        osys.add_detector(pixelscale=0.03, fov_pixels=64, oversample=2)
        osys.calc_psf(source={"wavelengths": wavelengths, "weights": weights})
t_poppy = time.perf_counter() - start
print(f"POPPY, one process, loop over 25 points: {t_poppy:.2f} s; polypsf on 1 rank: "
      f"{t_polypsf:.2f} s; ratio per core {t_poppy / t_polypsf:.1f}x")
PY
else
  echo "POPPY comparison: set POPPY_SRC to a POPPY source tree (that imports) to run it"
fi
