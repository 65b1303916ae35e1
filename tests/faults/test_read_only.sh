#!/usr/bin/env bash
# The output's file system turns read-only in the middle of a run. A tmpfs cannot show this:
# the kernel refuses `mount -o remount,ro` (busy) while a file on it is open for writing,
# which the .partial always is. What does turn read-only under open files is ext4 after an
# error with errors=remount-ro, so the test makes a small ext4 on a loop device and, once the
# run has flagged a few slices, raises an ext4 error through /sys/fs/ext4/<dev>/trigger_fs_error
# (the kernel's own path for a disk that fails). Checked:
#   - the run exits 1 with a message naming the .partial file and "Read-only file system";
#   - nothing appears under the output name;
#   - h5dump reads the .partial while the file system is read-only;
#   - after the file system is checked (e2fsck) and mounted again, every slice flagged
#     completed holds the bytes of an uninterrupted run (the flags were synced after the
#     slices), and --resume, despite the lock file the failed run could not remove,
#     computes only the missing slices: /psf, /psf_detector, /cube equal the uninterrupted
#     run bit for bit, and no .partial or lock file is left.
# POLYPSF_EXE names the program (set by ctest). Needs root, a loop device and ext4; exits 77
# otherwise.
set -u
# shellcheck source=faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"
faults_begin
h5py_python >/dev/null || { echo "SKIP: no python3 with h5py (python3-h5py)"; exit 77; }
command -v e2fsck >/dev/null || { echo "SKIP: e2fsck is missing (e2fsprogs)"; exit 77; }

n=60
slow_job $n >"$tmp/job.yaml"
"$exe" run "$tmp/job.yaml" -o "$tmp/full.h5" --quiet 2>"$tmp/full.log" ||
  { echo "FAIL the uninterrupted run: $(cat "$tmp/full.log")"; exit 1; }

dir="$tmp/disk"
mount_loop_ext4 "$dir" 32
trigger="/sys/fs/ext4/$(basename "$loop_device")/trigger_fs_error"
if [[ ! -w "$trigger" ]]; then
  echo "SKIP: this kernel has no $trigger to turn ext4 read-only on demand"
  exit 77
fi
out="$dir/psf.h5"
partial="$out.partial"
start_run "$tmp/run.log" "$tmp/job.yaml" -o "$out" --checkpoint 0
if ! wait_completed "$partial" 3 60; then
  finish_run
  report 1 "the run flags 3 slices within 60 s" "exit $run_rc: $(head -c 400 "$tmp/run.log")"
  cli_test_end
  exit 1
fi
echo 1 >"$trigger"
flagged_then="$(completed_count "$partial")"
finish_run
report $([[ $run_rc == 1 ]]; echo $?) "the file system turned read-only after $flagged_then of $n slices: exit 1" \
  "exit $run_rc: $(head -c 400 "$tmp/run.log")"
report $(grep -qF "'$partial'" "$tmp/run.log" && grep -q "Read-only file system" "$tmp/run.log"
  echo $?) "the message names the file and the error" "$(head -c 400 "$tmp/run.log")"
echo "  message: $(grep -m 1 "error:" "$tmp/run.log")"
report $([[ ! -e "$out" ]]; echo $?) "nothing under the output name" "$(ls -a "$dir")"
flagged="$(completed_count "$partial")"
report $([[ -n "$flagged" && "$flagged" -lt $n ]]; echo $?) \
  "h5dump reads the .partial on the read-only file system (${flagged:-?} of $n flagged)"

# Back in service: checked and mounted read-write again, as an administrator would.
umount "$dir"
e2fsck -fy "$loop_device" >"$tmp/fsck.log" 2>&1
fsck_rc=$?
report $([[ $fsck_rc -le 1 ]]; echo $?) "e2fsck repairs the file system (exit $fsck_rc)" "$(tail -n 5 "$tmp/fsck.log")"
mount -t ext4 "$loop_device" "$dir" ||
  { report 1 "the file system mounts again"; cli_test_end; exit 1; }
flagged="$(completed_count "$partial")"
match="$(flagged_slices_match "$partial" "$tmp/full.h5" 2>&1)"
report $? "after the remount every flagged slice holds the uninterrupted run's bytes ($match)"
report $([[ -n "$flagged" && "$flagged" -gt 0 ]]; echo $?) "the flags of the synced slices survived (${flagged:-?})"

rc=0
"$exe" run "$tmp/job.yaml" -o "$out" --resume >/dev/null 2>"$tmp/resume.log" || rc=$?
report $([[ $rc == 0 ]] && grep -q "resume: $flagged of $n slice(s) already on disk" "$tmp/resume.log"
  echo $?) "--resume keeps the $flagged slices and finishes" "exit $rc: $(head -c 400 "$tmp/resume.log")"
report $([[ -f "$out" && ! -e "$partial" && ! -e "$out.lock" ]]; echo $?) \
  "the output has its name, no .partial or lock file left" "$(ls -a "$dir")"
for d in /psf /psf_detector /cube; do
  report $(h5diff -q "$out" "$tmp/full.h5" $d $d >/dev/null 2>&1; echo $?) \
    "$d equals the uninterrupted run bit for bit"
done
cli_test_end
