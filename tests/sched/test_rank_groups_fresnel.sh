#!/usr/bin/env bash
# FFTW-MPI rank groups for a Fresnel job (shared set-up: rank_groups_common.sh), forced by
# --mem-per-node: the Hubble example of docs/fresnel.md (n = 1024, a resampled detector)
# with a node limit whose share per rank lies halfway between a rank of a group of 2 (fits)
# and a rank alone (does not):
#   - on 2 ranks one group of 2, on 4 ranks two groups of 2 (the planner keeps the group
#     size that keeps the most ranks computing, ties to the smaller: groups of 4 are not
#     chosen), each within 1e-12 of the peak of the 1-rank run and within its memory share;
#   - /psf and /cube byte-identical on 2 and 4 ranks: every wavelength is computed by a group
#     of the same size (the same FFTW-MPI slabs and plans, the same fixed-order sums), and the
#     reduction is the same on any rank count;
#   - `polypsf plan` shows the groups.
# About 10 s on a loaded 2-core machine.
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
rank_groups_job='pupil: {npix: 256, diameter: 2.4}
wavelengths: {list: [5.0e-7, 5.5e-7, 6.0e-7], weights: [1, 3, 2]}
propagation: {mode: fresnel, beam_ratio: 0.25}
optics:
  - circular_aperture: {radius: 1.2}
  - secondary_obscuration: {secondary_radius: 0.396, n_supports: 4, support_width: 0.0264}
  - quadratic_lens: {f_lens: 5.52085, plane: pupil, name: primary}
  - quadratic_lens: {f_lens: -0.6790325, distance: 4.907028205, name: secondary}
detector: {pixelscale_m: 2.0e-6, fov_pixels: 128, distance: 6.3916645}
output: {cube: true}'
source "$(dirname "$0")/rank_groups_common.sh"

limit2=$(limit_for 2 "$task" "$group2")
limit4=$(limit_for 4 "$task" "$group2")
# `plan` assumes its own process baseline (it runs no MPI): its limit is sized from that one.
plan_base=$(sed -n 's/.*+ \([0-9.]*\) MiB per process.*/\1/p' "$work/plan.log" | head -1)
plan_limit4=$(awk -v b="$plan_base" -v hi="$task" -v lo="$group2" \
  'BEGIN{printf "%d", 4 * (b + (hi + lo) / 2) + 64}')
"$exe" plan "$work/job.yaml" --ranks-per-node 4 --mem-per-node "${plan_limit4}M" "${cal[@]}" \
  > "$work/plan4.log" 2>&1
check "polypsf plan shows two groups of 2 on 4 ranks at ${plan_limit4}M" \
  'grep -qF "node 0: 2 group(s) of 2 rank(s) (FFTW-MPI, N = 1024)" "$work/plan4.log"'
run_group 2 "$limit2" "fresnel-2-ranks" \
  "node 0: 1 group(s) of 2 rank(s) (FFTW-MPI, N = 1024)" "$work/job.yaml"
run_group 4 "$limit4" "fresnel-4-ranks" \
  "node 0: 2 group(s) of 2 rank(s) (FFTW-MPI, N = 1024)" "$work/job.yaml"
for dataset in /psf /cube; do
  h5dump -d "$dataset" -b LE -o "$work/two.bin" "$work/fresnel-2-ranks.h5" > /dev/null 2>&1
  h5dump -d "$dataset" -b LE -o "$work/four.bin" "$work/fresnel-4-ranks.h5" > /dev/null 2>&1
  check "$dataset: byte-identical from 1 group of 2 (2 ranks) and 2 groups of 2 (4 ranks)" \
    '[ -s "$work/two.bin" ] && cmp -s "$work/two.bin" "$work/four.bin"'
done
finish
