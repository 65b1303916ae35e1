#!/usr/bin/env bash
# The output's file system fills up during the slice writes (a tmpfs too small for the
# file, mounted by the test), with 1 rank and with 2 ranks under mpirun:
#   - the run exits 1, and its message names the .partial file and the error
#     ("No space left on device");
#   - nothing appears under the output name, and no lock file is left;
#   - the .partial is readable (h5dump), some but not all slices are flagged completed, and
#     every flagged slice holds the bytes of an uninterrupted run (a flag is never ahead of
#     its slice);
#   - a --resume with a changed job file is refused (exit 2, "different job", the reason),
#     and leaves the .partial byte for byte as it was;
#   - after the file system is made bigger (remount), --resume computes only the missing
#     slices and /psf, /psf_detector and /cube equal the uninterrupted run bit for bit.
# POLYPSF_EXE names the program (set by ctest). Needs root (mount); exits 77 otherwise.
set -u
# shellcheck source=faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"
faults_begin
h5py_python >/dev/null || { echo "SKIP: no python3 with h5py (python3-h5py)"; exit 77; }

# 24 slices of 64 × 64 doubles (32 KiB each): the file needs about 820 KiB, the tmpfs has
# 400 KiB, so the writes fail about half way.
n=24
cat >"$tmp/job.yaml" <<JOB
pupil: {npix: 64}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: $n}
optics:
  - circular_aperture: {radius: 1.0}
  - zernike_wfe: {radius: 1.0, coefficients: [0, 0, 0, 5.0e-8]}
detector: {pixelscale: 0.02, fov_pixels: 32, oversample: 2}
propagation: {method: mft}
output: {cube: true}
JOB
sed 's/5.0e-8/6.0e-8/' "$tmp/job.yaml" >"$tmp/changed.yaml"
"$exe" run "$tmp/job.yaml" -o "$tmp/full.h5" --quiet 2>"$tmp/full.log" ||
  { echo "FAIL the uninterrupted run: $(cat "$tmp/full.log")"; exit 1; }

scenario() { # scenario LABEL LAUNCHER...: fill up, refuse a changed job, resume after remount
  local label="$1"
  shift
  local dir="$tmp/small-$label" out partial rc=0
  mount_tmpfs "$dir" 400k
  out="$dir/psf.h5"
  partial="$out.partial"
  "$@" "$exe" run "$tmp/job.yaml" -o "$out" --checkpoint 0 >/dev/null 2>"$tmp/fill.log" || rc=$?
  report $([[ $rc == 1 ]]; echo $?) "$label: a full file system ends the run with exit 1" \
    "exit $rc: $(head -c 400 "$tmp/fill.log")"
  report $(grep -qF "'$partial'" "$tmp/fill.log" && grep -q "No space left on device" "$tmp/fill.log"
    echo $?) "$label: the message names the file and the error" "$(head -c 400 "$tmp/fill.log")"
  report $([[ ! -e "$out" && ! -e "$out.lock" ]]; echo $?) \
    "$label: nothing under the output name, no lock file left" "$(ls -a "$dir")"
  local flagged
  flagged="$(completed_count "$partial")"
  report $([[ -n "$flagged" && "$flagged" -gt 0 && "$flagged" -lt $n ]]; echo $?) \
    "$label: h5dump reads the .partial: ${flagged:-?} of $n slices flagged completed"
  local match
  match="$(flagged_slices_match "$partial" "$tmp/full.h5" 2>&1)"
  report $? "$label: every flagged slice holds the uninterrupted run's bytes ($match)"

  local before after
  before="$(sha256sum <"$partial")"
  rc=0
  "$@" "$exe" run "$tmp/changed.yaml" -o "$out" --resume >/dev/null 2>"$tmp/changed.log" || rc=$?
  after="$(sha256sum <"$partial")"
  report $([[ $rc == 2 ]] && grep -q "was written for a different job (its job text differs)" \
    "$tmp/changed.log"; echo $?) "$label: --resume with a changed job file: exit 2 and the reason" \
    "exit $rc: $(head -c 400 "$tmp/changed.log")"
  report $([[ "$before" == "$after" && ! -e "$out" && ! -e "$out.lock" ]]; echo $?) \
    "$label: the refusal left the .partial as it was"

  mount -o remount,size=8m "$dir"
  rc=0
  "$@" "$exe" run "$tmp/job.yaml" -o "$out" --resume >/dev/null 2>"$tmp/resume.log" || rc=$?
  report $([[ $rc == 0 ]] && grep -q "resume: $flagged of $n slice(s) already on disk" \
    "$tmp/resume.log"; echo $?) "$label: after the remount --resume keeps the $flagged slices and finishes" \
    "exit $rc: $(head -c 400 "$tmp/resume.log")"
  report $([[ -f "$out" && ! -e "$partial" && ! -e "$out.lock" ]]; echo $?) \
    "$label: the output has its name, no .partial or lock file left"
  local d
  for d in /psf /psf_detector /cube; do
    report $(h5diff -q "$out" "$tmp/full.h5" $d $d >/dev/null 2>&1; echo $?) \
      "$label: $d equals the uninterrupted run bit for bit"
  done
}

scenario "1 rank"
if command -v mpirun >/dev/null; then
  scenario "2 ranks" mpirun -n 2 --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1
else
  echo "(mpirun missing: the 2-rank case is left out)"
fi
cli_test_end
