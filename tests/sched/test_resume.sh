#!/usr/bin/env bash
# Resume: a 2-rank run checkpointing after every wave is killed (SIGKILL) once some
# slices are marked completed on disk; `run --resume` computes only the missing slices
# and the result equals an uninterrupted run bit for bit (/psf, /psf_detector, /cube).
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
work=$(mktemp -d)
trap '[ -n "$pid" ] && pkill -9 -s $pid 2>/dev/null; rm -rf "$work"' EXIT
pid=
passed=0 failed=0
check() { if eval "$2"; then echo "PASS $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
mpi=(mpirun -n 2 --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1)
n=40
cat > "$work/job.yaml" <<JOB
pupil: {npix: 1024}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: $n}
optics:
  - circular_aperture: {radius: 3.25}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 5.0e-8, 0, 2.0e-8]}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}
output: {cube: true}
JOB
completed_count() {  # completed flags set in a file, or nothing while it is unreadable
  h5dump -d /status/completed -y -w 0 "$1" 2>/dev/null |
    awk '/DATA \{/ && !seen {on=1; seen=1; next} on && /\}/ {exit} on' |
    tr -c '0-9\n' ' ' | tr ' ' '\n' | grep -c '^1$'
}
"${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/full.h5" --quiet > /dev/null 2>&1
check "uninterrupted run exits 0" '[ $? -eq 0 ]'

# In its own session, so that SIGKILL reaches mpirun and every rank at once.
setsid "${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/out.h5" --checkpoint 0 \
  > /dev/null 2> "$work/first.log" &
pid=$!
done_before=0
for _ in $(seq 1 400); do
  done_before=$(completed_count "$work/out.h5.partial")
  [ "${done_before:-0}" -ge 4 ] && break
  sleep 0.02
done
pkill -9 -s $pid 2>/dev/null  # mpirun puts ranks in their own process groups; the session holds all
wait $pid 2>/dev/null
for _ in $(seq 1 100); do pgrep -s $pid > /dev/null || break; sleep 0.05; done
pid=
check "run killed after $done_before completed slice(s), before the end" \
  '[ "${done_before:-0}" -ge 4 ] && [ ! -f "$work/out.h5" ] && [ -f "$work/out.h5.partial" ]'
on_disk=$(completed_count "$work/out.h5.partial")
check "the killed file is readable with ${on_disk:-0} of $n completed" \
  '[ "${on_disk:-0}" -ge 4 ] && [ "${on_disk:-0}" -lt $n ]'

"${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/out.h5" --resume \
  > /dev/null 2> "$work/resume.log"
check "resumed run exits 0" '[ $? -eq 0 ]'
check "it computed only the missing slices ($((n - ${on_disk:-0})))" \
  'grep -q "resume: ${on_disk} of $n slice(s) already on disk, $((n - on_disk)) to compute" "$work/resume.log"'
check "no .partial left" '[ ! -e "$work/out.h5.partial" ]'
for d in /psf /psf_detector /cube; do
  check "$d equals the uninterrupted run bit for bit" 'h5diff -q "$work/out.h5" "$work/full.h5" $d $d'
done
check "every slice completed" '[ "$(completed_count "$work/out.h5")" -eq $n ]'
"${mpi[@]}" "$exe" run "$work/job.yaml" -o "$work/out.h5" --resume > /dev/null 2> "$work/again.log"
rc=$?
check "resuming a finished file is refused with exit 2 (got $rc)" '[ $rc -eq 2 ] && grep -q "already complete" "$work/again.log"'
[ "$failed" -eq 0 ] || cat "$work/first.log" "$work/resume.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
