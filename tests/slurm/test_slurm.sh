#!/usr/bin/env bash
# jobs/slurm/polypsf.sbatch under a real Slurm (a private one-node cluster on loopback,
# tests/slurm/private_slurm.sh), compared with mpirun runs of the same jobs:
#   1. a small job, 2 tasks, --mem=1G: COMPLETED, the same /psf, /psf_detector, /cube,
#      /status/completed as mpirun bit for bit — the whole file differs only in its
#      creation time and /provenance/tasks (which rank, how long) — and the ranks planned with
#      SLURM_MEM_PER_NODE=1024; with --mem-per-cpu=512M the limit is SLURM_MEM_PER_CPU;
#   2. a job too big for --mem=1G fails fast with exit code 2 and the scheduler's
#      message in the job's output file;
#   3. the time limit: once some slices are on disk the batch shell gets SIGTERM the way
#      `--signal=B:TERM@60` delivers it (`scancel --batch --signal=TERM`: Slurm's minimum
#      --time is a minute, too long for a test; the warning itself is Slurm's business).
#      The ranks stop at a checkpoint (exit 3), the script requeues the job, the requeued
#      job resumes and the result equals an uninterrupted mpirun run bit for bit;
#   4. the same with --no-requeue: the job ends with exit code 3; submitted again it
#      resumes; cancelled with a plain scancel its ranks stop cleanly too and it is not
#      requeued; submitted once more it completes, bit for bit;
#   5. jobs/slurm/sweep.sbatch: a 2-task job array over two focus values, one output per
#      task, each equal to its mpirun run.
# Afterwards: no daemon, no job process, nothing left in the temporary directory.
# Skipped (77) only when the cluster cannot be had (slurm-wlm/munge missing, not root, no
# cgroups slurmd can use), with the reason.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != --inside ]; then
  exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
  top=$(mktemp -d) || exit 1
  trap 'rm -rf "$top"' EXIT
  # Live slurmstepd processes (a zombie waiting for init to reap it is not running).
  live_steps() { ps -eo stat=,comm= | awk '$2 == "slurmstepd" && $1 !~ /^Z/' | wc -l; }
  steps_before=$(live_steps)
  TMPDIR="$top" bash "$here/private_slurm.sh" bash "$0" --inside
  rc=$?
  [ $rc -eq 77 ] && exit 77
  left=0
  if [ -n "$(ls -A "$top")" ]; then echo "FAIL left behind in the temporary directory: $(ls -A "$top")"; left=1; fi
  if ps -eo args | grep -F "$top" | grep -v grep; then echo "FAIL a process of the cluster is still running"; left=1; fi
  steps_after=$(live_steps)
  if [ "$steps_after" -gt "$steps_before" ]; then echo "FAIL slurmstepd left running"; left=1; fi
  [ $left -eq 0 ] && echo "PASS no daemon, job process or file left behind"
  [ $rc -eq 0 ] && [ $left -eq 0 ]
  exit
fi

# ---- inside the private cluster (SLURM_CONF set) ------------------------------------
exe=$POLYPSF_EXE
repo=$(cd "$here/../.." && pwd)
work="$POLYPSF_SLURM_BASE/work"
mkdir -p "$work" && cd "$work" || exit 1
passed=0 failed=0
source "$here/job_lib.sh"
mpi=(mpirun -n 2 --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1)
# The batch scripts as a user submits them (sbatch passes this environment on: the program,
# and for sweep.sbatch where polypsf.sbatch is); sizes for this one-node, 2-CPU cluster.
export POLYPSF="$exe" POLYPSF_SBATCH="$repo/jobs/slurm/polypsf.sbatch"
submit() { sbatch --parsable --nodes=1 --ntasks-per-node=2 --time=5 "$@"; }
# The method is fixed so that every run computes alike whatever a calibration would choose.
cat > small.yaml <<'JOB'
pupil: {npix: 256}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 8}
optics:
  - circular_aperture: {radius: 3.25}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 5.0e-8]}
detector: {pixelscale: 0.0311, fov_pixels: 41, oversample: 2}
propagation: {method: mft}
output: {cube: true}
JOB
# One task of this needs far more than 1 GiB: refused by the plan.
cat > big.yaml <<'JOB'
pupil: {npix: 16384}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 4}
optics:
  - circular_aperture: {radius: 3.25}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}
propagation: {method: mft}
JOB
# Slow enough (~0.1 s per slice per rank) to be stopped half-way.
cat > slow.yaml <<'JOB'
pupil: {npix: 1024}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 40}
optics:
  - circular_aperture: {radius: 3.25}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 5.0e-8, 0, 2.0e-8]}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}
propagation: {method: mft}
output: {cube: true}
JOB
cal=(--calibration "$work/calibration.txt")
"${mpi[@]}" "$exe" run small.yaml -o small-mpirun.h5 "${cal[@]}" --quiet > /dev/null 2>&1
check "mpirun reference of the small job" '[ $? -eq 0 ]'
"${mpi[@]}" "$exe" run slow.yaml -o slow-mpirun.h5 "${cal[@]}" --quiet > /dev/null 2>&1
check "mpirun reference of the slow job" '[ $? -eq 0 ]'

# 1. The small job, --mem and --mem-per-cpu.
id=$(submit --mem=1G "$repo/jobs/slurm/polypsf.sbatch" small.yaml small.h5 "${cal[@]}")
s=$(wait_job "$id")
check "small job $id: COMPLETED (got '$s', exit $(exit_code "$id"))" '[ "$s" = COMPLETED ]'
check "small job: the same bits as mpirun" 'same_bits small.h5 small-mpirun.h5'
check "small job: the ranks planned with SLURM_MEM_PER_NODE=1024 (--mem=1G)" \
  'grep -q "budget 960 MiB = limit 1024 MiB (SLURM_MEM_PER_NODE)" polypsf-$id.log'
# sbatch refuses --mem with --mem-per-cpu, and the script has a --mem line: the user edits
# it (docs/slurm.md), so does this test.
sed 's/^#SBATCH --mem=.*/#SBATCH --mem-per-cpu=512M/' "$repo/jobs/slurm/polypsf.sbatch" > per-cpu.sbatch
id=$(submit per-cpu.sbatch small.yaml small-per-cpu.h5 "${cal[@]}")
s=$(wait_job "$id")
check "small job with --mem-per-cpu=512M: COMPLETED (got '$s')" '[ "$s" = COMPLETED ]'
check "with --mem-per-cpu the limit is SLURM_MEM_PER_CPU × 2 CPUs" \
  'grep -q "limit 1024 MiB (SLURM_MEM_PER_CPU)" polypsf-$id.log'
check "--mem-per-cpu run: the same bits as mpirun" 'same_bits small-per-cpu.h5 small-mpirun.h5'

# 2. Too big for --mem: refused at once with exit 2.
t0=$(date +%s)
id=$(submit --mem=1G "$repo/jobs/slurm/polypsf.sbatch" big.yaml big.h5 "${cal[@]}")
s=$(wait_job "$id")
took=$(( $(date +%s) - t0 ))
check "too-big job $id: FAILED with exit code 2 in ${took} s (got '$s', exit $(exit_code "$id"))" \
  '[ "$s" = FAILED ] && [ "$(exit_code "$id")" = 2 ] && [ $took -le 20 ]'
check "too-big job: the scheduler's message is in its output file" \
  'grep -q "one wavelength needs .* Give each node more memory" polypsf-$id.log &&
   grep -q "exited with status 2" polypsf-$id.log'
check "too-big job: no output file" '[ ! -e big.h5 ] && [ ! -e big.h5.partial ]'

# 5. A focus sweep as a job array: one output per task, each the same as its mpirun run.
mkdir -p sweep
for defocus in 0 100; do
  sed "s/coefficients: \[0, 0, 0, 5.0e-8\]/coefficients: [0, 0, 0, ${defocus}.0e-9]/" small.yaml \
    > "sweep/focus-$defocus.yaml"
  "${mpi[@]}" "$exe" run "sweep/focus-$defocus.yaml" -o "focus-$defocus-mpirun.h5" "${cal[@]}" \
    --quiet > /dev/null 2>&1
done
printf '# focus sweep\nsweep/focus-0.yaml\n\nsweep/focus-100.yaml\n' > sweep.txt
id=$(submit --mem=1G --array=0-1 "$repo/jobs/slurm/sweep.sbatch" sweep.txt sweep-out "${cal[@]}")
s0=$(wait_job "${id}_0") s1=$(wait_job "${id}_1")
check "sweep $id: both array tasks COMPLETED (got '$s0' '$s1')" \
  '[ "$s0" = COMPLETED ] && [ "$s1" = COMPLETED ]'
check "sweep: each task's output equals its mpirun run bit for bit, and the two differ" \
  'same_bits sweep-out/focus-0.h5 focus-0-mpirun.h5 && same_bits sweep-out/focus-100.h5 focus-100-mpirun.h5 &&
   ! h5diff -q sweep-out/focus-0.h5 sweep-out/focus-100.h5 /psf /psf > /dev/null 2>&1'
check "sweep: one log per task" '[ -s "polypsf-sweep-${id}_0.log" ] && [ -s "polypsf-sweep-${id}_1.log" ]'

# 3 and 4. SIGTERM to the batch shell once some slices are on disk.
# Waits up to 3 minutes, like wait_job: on a loaded machine the job may start, and srun
# launch its ranks, only after tens of seconds; a signal sent before the ranks exist aborts
# the step launch instead of testing the stop at a checkpoint.
stop_when_started() {  # $1 job id, $2 output: signal once >= 3 slices are marked completed
  local n=0 deadline=$((SECONDS + 180))
  while [ $SECONDS -lt $deadline ]; do
    n=$(completed_count "$2.partial")
    [ "${n:-0}" -ge 3 ] && break
    [ -e "$2" ] && break  # finished already: the check below reports it
    sleep 0.05
  done
  scancel --batch --signal=TERM "$1"
  echo "${n:-0}"
}
id=$(submit --mem=1G "$repo/jobs/slurm/polypsf.sbatch" slow.yaml slow.h5 --checkpoint 0 "${cal[@]}")
n=$(stop_when_started "$id" slow.h5)
s=$(wait_job "$id")
log=polypsf-$id.log
check "time limit: job $id stopped after $n slice(s) with exit 3" \
  'grep -q "stopped on request (SIGTERM)" $log && grep -q "exited with status 3" $log'
check "time limit: the script requeued the job (restarts: $(restarts "$id"))" \
  'grep -q "requeued job $id" $log && [ "$(restarts "$id")" = 1 ]'
check "time limit: the requeued job resumed and COMPLETED (got '$s')" \
  '[ "$s" = COMPLETED ] && grep -q "resume: [1-9][0-9]* of 40 slice(s) already on disk" $log'
check "time limit: the requeued result equals the uninterrupted run bit for bit" \
  'same_bits slow.h5 slow-mpirun.h5 && [ ! -e slow.h5.partial ]'

id=$(submit --mem=1G --no-requeue "$repo/jobs/slurm/polypsf.sbatch" slow.yaml slow2.h5 --checkpoint 0 "${cal[@]}")
n=$(stop_when_started "$id" slow2.h5)
s=$(wait_job "$id")
check "--no-requeue: job $id stopped after $n slice(s): FAILED, exit code 3, .partial kept (got '$s')" \
  '[ "$s" = FAILED ] && [ "$(exit_code "$id")" = 3 ] && [ -e slow2.h5.partial ] && [ ! -e slow2.h5 ]'
on_disk=$(completed_count slow2.h5.partial)
# Resubmitted, then cancelled with a plain scancel (SIGTERM to every process, then SIGKILL):
# the ranks stop cleanly too, and a cancelled job is not requeued.
id=$(submit --mem=1G "$repo/jobs/slurm/polypsf.sbatch" slow.yaml slow2.h5 --checkpoint 0 "${cal[@]}")
for _ in $(seq 1 600); do
  [ "$(completed_count slow2.h5.partial)" -ge $((on_disk + 3)) ] 2>/dev/null && break
  [ -e slow2.h5 ] && break
  sleep 0.05
done
scancel "$id"
s=$(wait_job "$id")
check "scancel: job $id CANCELLED, ranks stopped with exit 3, not requeued (got '$s')" \
  '[ "$s" = CANCELLED ] && grep -q "exited with status 3" polypsf-$id.log &&
   grep -q "not requeued" polypsf-$id.log && [ "$(restarts "$id")" = 0 ] && [ -e slow2.h5.partial ]'
sleep 1
check "scancel: the job stays cancelled" '[ "$(state "$id")" = CANCELLED ]'
on_disk=$(completed_count slow2.h5.partial)
id=$(submit --mem=1G --no-requeue "$repo/jobs/slurm/polypsf.sbatch" slow.yaml slow2.h5 --checkpoint 0 "${cal[@]}")
s=$(wait_job "$id")
check "resubmitted: job $id resumed ${on_disk:-0} slice(s) and COMPLETED (got '$s')" \
  '[ "$s" = COMPLETED ] && grep -q "resume: ${on_disk:-x} of 40 slice(s) already on disk" polypsf-$id.log'
check "resubmitted: the result equals the uninterrupted run bit for bit" \
  'same_bits slow2.h5 slow-mpirun.h5'

if [ "$failed" -ne 0 ]; then
  for f in polypsf-*.log; do echo "---- $f"; cat "$f"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
