#!/usr/bin/env bash
# Strong scaling of obscured_poly (1024 px pupil, secondary obscuration with 3 spiders,
# 404 × 404 detector pixels) with 8 wavelengths, 1 → 2 ranks on this machine. Runs 1 and
# 2 ranks alternately (so a busy neighbour slows both alike), takes the median of each
# stage over the repetitions, and prints the time per stage (the slowest rank's, from the
# run's own `timing` line: pp_run's wall time, without process start-up) and the parallel
# efficiency T1 / (2 · T2).
# Usage: jobs/bench/bench_scaling.sh [path/to/polypsf] [repetitions]
set -euo pipefail
exe=${1:-${POLYPSF:-build/polypsf}}
reps=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cat > "$work/job.yaml" <<'JOB'
pupil: {npix: 1024}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 8}
optics:
  - circular_aperture: {radius: 3.25}
  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}
output: {cube: true}
JOB
stages="set-up compute slice_writes checkpoints reduction psf_write close total"
for r in $(seq 1 "$reps"); do
  for n in 1 2; do
    mpirun -n $n --bind-to core "$exe" run "$work/job.yaml" -o "$work/out$n.h5" --force \
      > /dev/null 2> "$work/log"
    sed -n 's/.*timing (s, slowest rank): //p' "$work/log" |
      sed 's/slice writes/slice_writes/; s/psf write/psf_write/; s/,//g' >> "$work/t$n"
  done
done
h5diff -q "$work/out1.h5" "$work/out2.h5" /psf /psf && same=yes || same=no
median() {  # median of the value following stage name $1 in file $2
  awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' "$2" | sort -g |
    awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
echo "obscured_poly, 8 wavelengths, median of $reps alternating runs (seconds, slowest rank)"
echo
echo "| stage | 1 rank | 2 ranks |"
echo "| --- | ---: | ---: |"
for s in $stages; do
  printf "| %s | %.3f | %.3f |\n" "$s" "$(median "$s" "$work/t1")" "$(median "$s" "$work/t2")"
done
t1=$(median total "$work/t1"); t2=$(median total "$work/t2")
c1=$(median compute "$work/t1"); c2=$(median compute "$work/t2")
echo
awk -v a="$t1" -v b="$t2" -v c="$c1" -v d="$c2" 'BEGIN{
  printf "parallel efficiency T1/(2·T2): %.3f (whole run), %.3f (compute alone)\n", a / (2 * b), c / (2 * d)}'
echo "/psf identical for 1 and 2 ranks: $same"
