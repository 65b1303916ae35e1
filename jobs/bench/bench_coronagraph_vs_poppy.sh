#!/usr/bin/env bash
# Coronagraphs, polypsf against POPPY 1.1 (issue 15): the whole polypsf process (`polypsf run`,
# one rank, one BLAS thread, default settings, a cold calibration cache and no wisdom: a first
# run) and, when POPPY_SRC names a POPPY source tree (its parent goes on PYTHONPATH), POPPY's
# calc_psf in one Python process (imports excluded from its time), each with its peak RSS
# (/usr/bin/time). Cases:
#   fqpm_512x4   FQPM, 512 px pupil padded ×4 (two 2048² FFTs per λ), 4 λ
#   fqpm_1024x4  FQPM, 1024 px padded ×4 (4096²), 1 λ
#   lyot_fft     Lyot coronagraph (occulting spot 0.25″), 512 px ×4, 4 λ, coronagraph: fft
#   lyot_semi    the same by coronagraph: semi_analytic (POPPY: SemiAnalyticCoronagraph,
#                oversample 8, occulter_box 0.3″)
# Usage: jobs/bench/bench_coronagraph_vs_poppy.sh [path/to/polypsf]   (prints a Markdown table)
# Environment: POPPY_SRC (optional; the tree's root or its poppy/), PYTHON (poppy_env.sh).
set -euo pipefail
exe=${1:-${POLYPSF:-build/polypsf}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export XDG_CACHE_HOME="$work/cache" # a first run on this machine: no calibration, no wisdom
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# job NAME NPIX WAVELENGTHS OPTICS PROPAGATION: writes $work/NAME.yaml
job() {
  cat > "$work/$1.yaml" <<JOB
pupil: {npix: $2}
wavelengths: $3
optics:
$4
detector: {pixelscale: 0.02, fov_pixels: 64, oversample: 2}
propagation: {$5}
JOB
}
fqpm_optics='  - circular_aperture: {radius: 3.0, gray_pixel: true}
  - fqpm_fft_aligner: {direction: forward}
  - ideal_fqpm: {wavelength: 2.0e-6}
  - fqpm_fft_aligner: {direction: backward}
  - circular_aperture: {radius: 2.7, gray_pixel: true}'
lyot_optics='  - circular_aperture: {radius: 1.0, gray_pixel: true}
  - circular_occulter: {radius: 0.25}
  - circular_aperture: {radius: 0.9, gray_pixel: true}'
four='{min: 1.9e-6, max: 2.1e-6, count: 4}'
one='{list: [2.0e-6]}'
job fqpm_512x4 512 "$four" "$fqpm_optics" "fft_oversample: 4"
job fqpm_1024x4 1024 "$one" "$fqpm_optics" "fft_oversample: 4"
job lyot_fft 512 "$four" "$lyot_optics" "fft_oversample: 4, coronagraph: fft"
job lyot_semi 512 "$four" "$lyot_optics" \
  "fft_oversample: 4, coronagraph: semi_analytic, coronagraph_oversample: 8, occulter_box: 0.3"

# The same systems in POPPY (the polypsf job above is the specification).
# shellcheck source=poppy_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/poppy_env.sh"
if [ -n "${POPPY_SRC:-}" ] && ! poppy_setup; then exit 2; fi
cat > "$work/poppy_case.py" <<PY
$poppy_preamble
PY
cat >> "$work/poppy_case.py" <<'PY'
import sys, time
import numpy as np
import astropy.units as u
name = sys.argv[1]
npix = {'fqpm_512x4': 512, 'fqpm_1024x4': 1024}.get(name, 512)
count = 1 if name == 'fqpm_1024x4' else 4
wavelengths = np.linspace(1.9e-6, 2.1e-6, count) if count > 1 else np.array([2.0e-6])
osys = poppy.OpticalSystem(oversample=4, npix=npix)
if name.startswith('fqpm'):
    osys.add_pupil(poppy.CircularAperture(radius=3.0, gray_pixel=True))
    osys.add_pupil(poppy.FQPM_FFT_aligner())
    osys.add_image(poppy.IdealFQPM(wavelength=2.0e-6 * u.m))
    osys.add_pupil(poppy.FQPM_FFT_aligner(direction='backward'))
    osys.add_pupil(poppy.CircularAperture(radius=2.7, gray_pixel=True))
else:
    osys.add_pupil(poppy.CircularAperture(radius=1.0, gray_pixel=True))
    osys.add_image(poppy.CircularOcculter(radius=0.25))
    osys.add_pupil(poppy.CircularAperture(radius=0.9, gray_pixel=True))
osys.add_detector(pixelscale=0.02, fov_pixels=64, oversample=2)
if name == 'lyot_semi':
    osys = poppy.SemiAnalyticCoronagraph(osys, oversample=8, occulter_box=0.3)
start = time.perf_counter()
osys.calc_psf(source={'wavelengths': wavelengths, 'weights': np.ones(count) / count})
print('%.3f' % (time.perf_counter() - start))
PY

# measure COMMAND…: prints "seconds MiB" (wall time and peak RSS of the process)
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$work/stdout" 2> "$work/stderr" || {
    echo "failed: $*" >&2; cat "$work/stderr" >&2; return 1; }
  awk '{printf "%.2f %.0f", $1, $2 / 1024}' "$work/time"
}

if [ -n "${POPPY_SRC:-}" ]; then
  echo "| case | POPPY calc_psf s | POPPY peak MiB | polypsf process s | polypsf peak MiB | POPPY / polypsf |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
else
  echo "| case | polypsf process s | polypsf peak MiB |"
  echo "| --- | ---: | ---: |"
fi
for name in fqpm_512x4 fqpm_1024x4 lyot_fft lyot_semi; do
  rm -rf "$XDG_CACHE_HOME"
  read -r seconds mib < <(measure "$exe" run "$work/$name.yaml" -o "$work/$name.h5" --force; echo)
  if [ -n "${POPPY_SRC:-}" ]; then
    read -r _ poppy_mib < <(measure "$poppy_python" "$work/poppy_case.py" "$name"; echo)
    poppy_seconds=$(tail -1 "$work/stdout")
    awk -v n="$name" -v ps="$poppy_seconds" -v pm="$poppy_mib" -v s="$seconds" -v m="$mib" \
      'BEGIN{printf "| %s | %.2f | %.0f | %.2f | %.0f | %.1f× |\n", n, ps, pm, s, m, ps / s}'
  else
    echo "| $name | $seconds | $mib |"
  fi
done
