#!/usr/bin/env bash
# Fresnel benchmark (issue 14): polypsf's seconds per wavelength for the fresnel_hst system at
# 1024² and 4096² padded arrays (build/jobs/bench/bench_fresnel), beside POPPY's in the same
# run when POPPY_SRC names a POPPY source tree whose Python (numpy, scipy, astropy) imports;
# the ratio POPPY / polypsf per size. Without POPPY_SRC the 1024² ratio uses the time the
# reference file records (../shared/reference/fresnel_hst.h5, poppy_seconds_single_process,
# 2 wavelengths on a 2-core machine with one BLAS thread), and says so.
# One thread each (OPENBLAS_NUM_THREADS=1; POPPY as poppy_env.sh configures it).
# Usage: jobs/bench/bench_fresnel.sh [build-dir] [rounds]   (defaults: build, 3)
#        POPPY_SRC=/path/to/poppy jobs/bench/bench_fresnel.sh   (the tree's root or its poppy/)
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 MKL_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
reference=${POLYPSF_REFERENCE_DIR:-$here/../../../shared/reference}/fresnel_hst.h5

ours=$("$build/jobs/bench/bench_fresnel" "$rounds")
echo "$ours"

# shellcheck source=poppy_env.sh
source "$here/poppy_env.sh"
poppy_ok=no
[[ -n "${POPPY_SRC:-}" ]] && poppy_setup && poppy_ok=yes
poppy_seconds() { # NPIX: best seconds per wavelength of POPPY's fresnel_hst at NPIX/0.25
  "$poppy_python" - "$1" "$rounds" <<PY
$poppy_preamble
import sys, time
import astropy.units as u
npix, rounds = int(sys.argv[1]), int(sys.argv[2])
def system():
    s = poppy.FresnelOpticalSystem(pupil_diameter=2.4 * u.m, npix=npix, beam_ratio=0.25)
    s.add_optic(poppy.CircularAperture(radius=1.2 * u.m, gray_pixel=True))
    s.add_optic(poppy.SecondaryObscuration(secondary_radius=0.396 * u.m, n_supports=4,
                                           support_width=0.0264 * u.m))
    s.add_optic(poppy.QuadraticLens(5.52085 * u.m, planetype=poppy.poppy_core.PlaneType.pupil))
    s.add_optic(poppy.QuadraticLens(-0.6790325 * u.m), distance=4.907028205 * u.m)
    s.add_detector(pixelscale=2.0 * u.micron / u.pixel, fov_pixels=128 * u.pixel,
                   distance=6.3916645 * u.m)
    return s
s = system()
s.calc_psf(wavelength=0.5e-6)
best = min((lambda t0: (s.calc_psf(wavelength=0.5e-6), time.perf_counter() - t0)[1])(time.perf_counter())
           for _ in range(rounds))
print(best)
PY
}

# POPPY against the default engine's lines (the fftw2d ones are printed above for comparison).
grep 'engine passes' <<<"$ours" | while read -r _ size _ best _; do
  n=${size#N=}
  npix=$((n / 4))
  poppy=""
  source="POPPY in this run"
  if [[ $poppy_ok == yes ]]; then
    poppy=$(poppy_seconds "$npix" 2>/dev/null) || poppy=""
    [[ -z "$poppy" ]] && source="POPPY_SRC given but POPPY did not run"
  elif [[ $n == 1024 && -r "$reference" ]] && command -v h5dump >/dev/null; then
    total=$(h5dump -a poppy_seconds_single_process "$reference" | awk '/\(0\)/ {print $2}')
    poppy=$(awk -v t="$total" 'BEGIN { printf "%.4f", t / 2 }')
    source="POPPY's time recorded in fresnel_hst.h5 (2 wavelengths), not this run"
  else
    source="no POPPY time (set POPPY_SRC)"
  fi
  if [[ -n "$poppy" ]]; then
    awk -v n="$n" -v o="$best" -v p="$poppy" -v s="$source" \
      'BEGIN { printf "N=%d: polypsf %.4f s, POPPY %.4f s per wavelength: POPPY/polypsf = %.1fx (%s)\n", n, o, p, p / o, s }'
  else
    echo "N=$n: polypsf $best s per wavelength; $source"
  fi
done
