#!/usr/bin/env bash
# SIGTERM (what Slurm sends at the time limit, and srun passes to every task): a 2-rank run
# checkpointing after every wave gets SIGTERM on its ranks once some slices are marked
# completed. The ranks stop at the next checkpoint and exit with status 3 and a message;
# the .partial is kept with the finished slices, and `--resume` completes it with the same
# bits as an uninterrupted run. SIGTERM sent to mpirun instead: the ranks stop the same way
# and keep the .partial, mpirun exits 1 (what README says a mpirun user sees). Without a cube
# nothing can be resumed: the run stops with status 3 and leaves no file.
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
work=$(mktemp -d)
trap '[ -n "$pid" ] && pkill -9 -s $pid 2>/dev/null; rm -rf "$work"' EXIT
pid=
passed=0 failed=0
check() { if eval "$2"; then echo "PASS $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
mpi=(mpirun -n 2 --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1)
n=30
# 1024 px: long enough (about 4 s on 2 ranks) for the signals below to land mid-run; at
# 512 px the faster OPD phasors made the whole run about 1 s, and SIGTERM to mpirun could
# arrive after the run had finished.
job() {  # $1: cube true|false
  cat <<JOB
pupil: {npix: 1024}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: $n}
optics:
  - circular_aperture: {radius: 3.25}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 5.0e-8, 0, 2.0e-8]}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}
propagation: {method: mft}
output: {cube: $1}
JOB
}
job true > "$work/job.yaml"
job false > "$work/nocube.yaml"
completed_count() {  # completed flags set in a file, or nothing while it is unreadable
  h5dump -d /status/completed -y -w 0 "$1" 2>/dev/null |
    awk '/DATA \{/ && !seen {on=1; seen=1; next} on && /\}/ {exit} on' |
    tr -c '0-9\n' ' ' | tr ' ' '\n' | grep -c '^1$'
}
# Starts a run in its own session, waits until $2 says it is under way, sends SIGTERM to
# its ranks (not to mpirun: under Slurm the tasks get the signal themselves), and leaves
# the run's exit status in $rc.
run_and_stop() {  # $1 job, $2 output, $3 log, $4 test "under way"
  setsid "${mpi[@]}" "$exe" run "$1" -o "$2" --checkpoint 0 > /dev/null 2> "$3" &
  pid=$!
  for _ in $(seq 1 400); do eval "$4" && break; sleep 0.02; done
  pkill -TERM -s $pid -x polypsf
  rc=0
  wait $pid || rc=$?
  pid=
}
"${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/full.h5" --quiet > /dev/null 2>&1
check "uninterrupted run exits 0" '[ $? -eq 0 ]'

run_and_stop "$work/job.yaml" "$work/out.h5" "$work/stop.log" \
  '[ "$(completed_count "$work/out.h5.partial")" -ge 3 ] 2>/dev/null'
on_disk=$(completed_count "$work/out.h5.partial")
check "SIGTERM: exit status 3 (got $rc)" '[ $rc -eq 3 ]'
check "SIGTERM: the message names the slices kept and --resume" \
  'grep -q "stopped on request (SIGTERM): ${on_disk} of $n slice(s) are on disk in .*out.h5.partial; run again with --resume" "$work/stop.log"'
check "SIGTERM: .partial kept with ${on_disk:-0} of $n completed, no final file" \
  '[ "${on_disk:-0}" -ge 3 ] && [ "${on_disk:-0}" -lt $n ] && [ ! -e "$work/out.h5" ]'

"${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/out.h5" --resume > /dev/null 2> "$work/resume.log"
check "resumed run exits 0" '[ $? -eq 0 ]'
check "it computed only the missing slices ($((n - ${on_disk:-0})))" \
  'grep -q "resume: ${on_disk} of $n slice(s) already on disk, $((n - on_disk)) to compute" "$work/resume.log"'
for d in /psf /psf_detector /cube /status/completed; do
  check "$d equals the uninterrupted run bit for bit" 'h5diff -q "$work/out.h5" "$work/full.h5" $d $d'
done

# SIGTERM to mpirun itself (Ctrl-C's cousin, or `kill` of jobs/workstation/run.sh): Open MPI
# passes it to the ranks, which stop at a checkpoint and keep the .partial; mpirun's own
# status is then 1, as README's exit-status list says (3 only when the ranks get the signal).
rm -f "$work/out.h5" "$work/out.h5.partial"
setsid "${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/out.h5" --checkpoint 0 > /dev/null \
  2> "$work/mpirun.log" &
pid=$!
for _ in $(seq 1 400); do
  [ "$(completed_count "$work/out.h5.partial")" -ge 3 ] 2>/dev/null && break
  sleep 0.02
done
kill -TERM $pid
rc=0
wait $pid || rc=$?
pid=
kept=$(completed_count "$work/out.h5.partial")
check "SIGTERM to mpirun: exit status 1 (README; got $rc), .partial kept with ${kept:-0} slice(s)" \
  '[ $rc -eq 1 ] && [ "${kept:-0}" -ge 3 ] && grep -q "stopped on request (SIGTERM)" "$work/mpirun.log"'

# Without a cube: no way to resume, so nothing is kept. Stopped once it computes.
run_and_stop "$work/nocube.yaml" "$work/nocube.h5" "$work/nocube.log" \
  'grep -q "compute:" "$work/nocube.log"'
check "no cube: exit status 3 (got $rc), nothing kept" \
  '[ $rc -eq 3 ] && grep -q "without output.cube nothing can be resumed" "$work/nocube.log" &&
   [ ! -e "$work/nocube.h5" ] && [ ! -e "$work/nocube.h5.partial" ]'
[ "$failed" -eq 0 ] || cat "$work/stop.log" "$work/resume.log" "$work/mpirun.log" "$work/nocube.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
