#!/usr/bin/env bash
# The scheduler's memory model against the measured peak RSS of a rank (getrusage), for
# 256, 1024 and 2048 px pupils (obscured telescope with a Zernike WFE, 404 × 404 detector
# pixels). One rank per run, so the node's high-water mark is that rank's peak.
# Usage: jobs/bench/bench_memory.sh [path/to/polypsf]   (prints a Markdown table)
set -euo pipefail
exe=${1:-${POLYPSF:-build/polypsf}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "| pupil px | model task MiB | model process MiB | model peak MiB | measured peak MiB | measured / model |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for npix in 256 1024 2048; do
  cat > "$work/job.yaml" <<JOB
pupil: {npix: $npix}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 2}
optics:
  - circular_aperture: {radius: 3.25}
  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 5.0e-8]}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}
output: {cube: true}
JOB
  mpirun -n 1 "$exe" run "$work/job.yaml" -o "$work/out.h5" --force > /dev/null 2> "$work/log"
  task=$(sed -n 's/.*one task needs \([0-9.]*\) MiB.* + \([0-9.]*\) MiB per process.*/\1/p' "$work/log")
  proc=$(sed -n 's/.*one task needs \([0-9.]*\) MiB.* + \([0-9.]*\) MiB per process.*/\2/p' "$work/log")
  model=$(sed -n 's/.*node 0: [0-9]* of [0-9]* rank(s) active, expected peak \([0-9.]*\) MiB.*/\1/p' "$work/log")
  measured=$(sed -n 's/.*high-water per node: node 0 \([0-9.]*\) MiB.*/\1/p' "$work/log" | tail -1)
  awk -v n="$npix" -v t="$task" -v p="$proc" -v m="$model" -v r="$measured" \
    'BEGIN{printf "| %d | %.1f | %.1f | %.1f | %.1f | %.3f |\n", n, t, p, m, r, r / m}'
done
