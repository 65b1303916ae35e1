#!/usr/bin/env bash
# PSF grids through the real program under mpirun:
#   - /grid/psf, /grid/psf_detector and /grid/cube are byte-identical on 1, 2 and 3 ranks
#     (jitter and IPC on, so the detector effects' gather is covered too);
#   - without a cube (each point kept as its sum, docs/grids.md) the same on 1, 2 and 3
#     ranks, and the same bytes as with a cube: /grid/psf, /grid/psf_detector and /psf; no
#     /cube in the file;
#   - a grid stopped by SIGTERM (exit 3, .partial kept) and continued with --resume gives the
#     same bytes as a grid computed in one go, with and without a cube;
#   - a grid whose OPD is a cube of maps (one per point) is byte-identical on 1 and 3 ranks;
#   - a job without `field` writes no /grid.
# POLYPSF_EXE names the program (set by ctest). Prints PASS/FAIL and "N passed, N failed".
set -u
# shellcheck source=cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"
cli_test_begin
for tool in mpirun h5dump h5ls; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "$tmp" || exit 1

grid_job() { # grid_job NPIX NX [CUBE]: an NX x NX grid, 3 wavelengths, field-dependent Zernikes
  cat <<JOB
pupil: {npix: $1}
wavelengths: {min: 1.0e-6, max: 1.6e-6, count: 3}
field: {grid: {nx: $2, ny: $2, x: [-60, 60], y: [-60, 60]}}
optics:
  - circular_aperture: {radius: 1.2}
  - secondary_obscuration: {secondary_radius: 0.2, n_supports: 3, support_width: 0.05}
  - zernike_wfe:
      radius: 1.2
      coefficients: [0, 0, 0, 2.0e-8]
      field_polynomial: [[4, 2, 0, 2.0e-11], [4, 0, 2, 2.0e-11], [7, 0, 1, 6.0e-10], [8, 1, 0, 6.0e-10]]
detector: {pixelscale: 0.03, fov_pixels: 25, oversample: 2, jitter_sigma: 0.01,
           ipc_kernel: [[0, 0.01, 0], [0.01, 0.96, 0.01], [0, 0.01, 0]]}
output: {cube: ${3:-true}}
JOB
}
dump() { # dump FILE DATASET OUT: the dataset's raw little-endian bytes
  h5dump -b LE -d "$2" -o "$3" "$1" >/dev/null 2>&1
}

on_1_2_3_ranks() { # on_1_2_3_ranks JOB PREFIX WHAT: runs JOB into PREFIX{1,2,3}.h5
  for ranks in 1 2 3; do
    mpirun -n "$ranks" --oversubscribe --bind-to none "$exe" run "$1" -o "$2$ranks.h5" \
      >"$2$ranks.log" 2>&1
    rc=$?
    report $([[ $rc == 0 ]]; echo $?) "$3 on $ranks rank(s) runs" "exit $rc: $(tail -3 "$2$ranks.log")"
  done
}

grid_job 64 3 >small.yaml
on_1_2_3_ranks small.yaml r "grid"
for set in /grid/psf /grid/psf_detector /grid/cube /grid/points; do
  for ranks in 1 2 3; do dump "r$ranks.h5" "$set" "r$ranks.bin"; done
  same=1
  [[ -s r1.bin ]] && cmp -s r1.bin r2.bin && cmp -s r1.bin r3.bin && same=0
  report $same "$set byte-identical on 1, 2 and 3 ranks" "sizes $(stat -c %s r1.bin r2.bin r3.bin 2>&1 | tr '\n' ' ')"
done

# Without a cube: each point's sum in /grid/psf, the same bits as summed from /cube.
grid_job 64 3 false >sums.yaml
on_1_2_3_ranks sums.yaml s "grid without a cube"
for set in /grid/psf /grid/psf_detector /psf; do
  dump r1.h5 "$set" cube.bin
  for ranks in 1 2 3; do dump "s$ranks.h5" "$set" "s$ranks.bin"; done
  same=1
  [[ -s s1.bin ]] && cmp -s s1.bin s2.bin && cmp -s s1.bin s3.bin && cmp -s s1.bin cube.bin && same=0
  report $same "$set without a cube: byte-identical on 1, 2 and 3 ranks and to the grid with a cube"
done
h5ls s1.h5 >s1.ls 2>&1
report $(! grep -q '^cube' s1.ls; echo $?) "a grid without a cube writes no /cube" "$(cat s1.ls)"

# info summarises a grid: one line per point, peaks equal /grid/psf's maxima (h5dump).
"$exe" info r1.h5 >info.out 2>&1
report $([[ $(grep -c '^  point ' info.out) == 9 ]]; echo $?) "info prints one line per field point" "$(tail -3 info.out)"
peaks_info=$(grep '^  point ' info.out | sed -n 's/.* peak \([^,]*\),.*/\1/p')
if /usr/bin/python3 -c 'import h5py' >/dev/null 2>&1; then
  peaks_file=$(/usr/bin/python3 -c 'import h5py, sys
for image in h5py.File(sys.argv[1], "r")["/grid/psf"][:]: print(repr(image.max()))' r1.h5)
  # info prints 6 significant digits
  close=$(paste <(echo "$peaks_file") <(echo "$peaks_info") |
    awk 'NF == 2 {n++; if ($1 - $2 > 1e-5 * $1 || $2 - $1 > 1e-5 * $1) bad++} END {print n == 9 && !bad}')
  report $([[ $close == 1 ]]; echo $?) \
    "info's per-point peaks are the maxima of /grid/psf (h5py)" \
    "file: $(echo $peaks_file) info: $(echo $peaks_info)"
fi

# Stop a longer grid once some tasks are on disk, resume it, compare with a run in one go;
# with a cube (slices on disk) and without (points' sums on disk).
stop_and_resume() { # stop_and_resume CUBE
  local name=long$1
  grid_job 256 4 "$1" >"$name.yaml"
  "$exe" run "$name.yaml" -o "$name-whole.h5" >/dev/null 2>&1
  "$exe" run "$name.yaml" -o "$name-stopped.h5" --checkpoint 0.01 >"$name-stopped.log" 2>&1 &
  local pid=$! rc
  for _ in $(seq 1 400); do
    if [[ -f $name-stopped.h5.partial ]] &&
        h5dump -d /status/completed "$name-stopped.h5.partial" 2>/dev/null | grep -q ' 1'; then
      break
    fi
    sleep 0.02
  done
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  if [[ $rc == 3 ]]; then
    report 0 "a grid (cube: $1) stopped by SIGTERM exits 3 and keeps its .partial"
    if [[ $1 == false ]] && /usr/bin/python3 -c 'import h5py' >/dev/null 2>&1; then
      # A copy marked as a finish had begun to blur its sums in place (what a run killed
      # in its finish leaves): the resume must compute every point again, and still give
      # the bytes of the run in one go.
      cp "$name-stopped.h5.partial" "$name-marked.h5.partial"
      /usr/bin/python3 -c 'import h5py, sys
with h5py.File(sys.argv[1], "r+") as f: f["grid"].attrs["psf_rewritten_by_finish"] = 1' \
        "$name-marked.h5.partial"
      "$exe" run "$name.yaml" -o "$name-marked.h5" --resume >"$name-marked.log" 2>&1
      rc=$?
      report $([[ $rc == 0 ]] && grep -q "resume: 0 of" "$name-marked.log"; echo $?) \
        "a grid marked as rewritten by its finish resumes by computing every point" \
        "exit $rc: $(grep resume "$name-marked.log")"
      dump "$name-whole.h5" /grid/psf a.bin
      dump "$name-marked.h5" /grid/psf b.bin
      same=1
      [[ -s a.bin ]] && cmp -s a.bin b.bin && same=0
      report $same "/grid/psf of the grid resumed from a marked file equals the grid run in one go"
    fi
    "$exe" run "$name.yaml" -o "$name-stopped.h5" --resume >"$name-resume.log" 2>&1
    rc=$?
    report $([[ $rc == 0 ]]; echo $?) "the stopped grid (cube: $1) resumes" \
      "exit $rc: $(tail -3 "$name-resume.log")"
    local sets="/grid/psf /grid/psf_detector /psf"
    [[ $1 == true ]] && sets="$sets /grid/cube"
    for set in $sets; do
      dump "$name-whole.h5" "$set" a.bin
      dump "$name-stopped.h5" "$set" b.bin
      same=1
      [[ -s a.bin ]] && cmp -s a.bin b.bin && same=0
      report $same "$set of the resumed grid (cube: $1) equals the grid run in one go"
    done
  else
    # the run finished before the signal reached it: nothing was stopped, say so
    report $([[ $rc == 0 ]]; echo $?) \
      "the grid (cube: $1) finished before SIGTERM (exit $rc); resume not exercised this time"
  fi
}
stop_and_resume true
stop_and_resume false

# A grid whose OPD is a cube of maps, one per point (jobs/examples/psf_grid_cube.yaml, made
# small): the same bytes on 1 and 3 ranks, each rank reading the maps of its own points.
examples="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../jobs/examples" && pwd)"
sed -e 's/npix: 512/npix: 64/; s/count: 6/count: 2/' \
    -e "s|opd: data/|opd: $examples/data/|" "$examples/psf_grid_cube.yaml" >cube.yaml
for ranks in 1 3; do
  mpirun -n "$ranks" --oversubscribe --bind-to none "$exe" run cube.yaml -o "cube$ranks.h5" \
    >"cube$ranks.log" 2>&1
  rc=$?
  report $([[ $rc == 0 ]]; echo $?) "cube-of-maps grid on $ranks rank(s) runs" \
    "exit $rc: $(tail -3 "cube$ranks.log")"
  dump "cube$ranks.h5" /grid/psf "cube$ranks.bin"
done
same=1
[[ -s cube1.bin ]] && cmp -s cube1.bin cube3.bin && same=0
report $same "cube-of-maps grid: /grid/psf byte-identical on 1 and 3 ranks"

# Without `field`: no /grid.
tiny_job 2 >plain.yaml
"$exe" run plain.yaml -o plain.h5 >/dev/null 2>&1
h5ls plain.h5 >plain.ls 2>&1
report $(! grep -q grid plain.ls; echo $?) "a job without field writes no /grid" "$(cat plain.ls)"
cli_test_end
