# Helpers of the tests that run jobs on a private Slurm (test_slurm.sh, two_nodes.sh),
# sourced: PASS/FAIL lines with the elapsed time, a job's state, exit code and restarts,
# waiting for a job to end, comparing two result files bit for bit, counting the completed
# flags of a (partial) result file. Counters are kept if the caller has some already.
: "${passed:=0}" "${failed:=0}"
check() { if eval "$2"; then echo "PASS $1 [${SECONDS} s]"; passed=$((passed+1)); else echo "FAIL $1 [${SECONDS} s]"; failed=$((failed+1)); fi; }
state() { squeue -h -t all -j "$1" -o %T 2>/dev/null; }
# Polls squeue (sbatch --wait polls slowly) until the job has ended, at most 3 minutes;
# prints its state.
wait_job() {
  local s= deadline=$((SECONDS + 180))
  while [ $SECONDS -lt $deadline ]; do
    s=$(state "$1")
    case "$s" in COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|BOOT_FAIL|DEADLINE|PREEMPTED) break;; esac
    sleep 0.1
  done
  echo "$s"
}
exit_code() { scontrol show job "$1" | sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p'; }
restarts() { scontrol show job "$1" | sed -n 's/.* Restarts=\([0-9]*\) .*/\1/p'; }
# same_bits A B [IGNORE]: every computed dataset of two result files, exactly; IGNORE, a
# regular expression, names more attributes that describe the run rather than the result
# (e.g. n_nodes when a one-host run is compared with a two-node one).
same_bits() {
  local d
  for d in /psf /psf_detector /cube /status/completed /wavelengths /weights; do
    h5diff -q "$1" "$2" "$d" "$d" || return 1
  done
  # and nothing else differs but the creation time and the per-task provenance (which rank
  # computed what, how long it took, its memory)
  h5diff -r "$1" "$2" 2>&1 | awk -v ignore="${3:-}" '/^(attribute|dataset):/ {cur = $0; next}
    /differences found/ && $1 != "0" && cur !~ /creation_date_utc|\/provenance\/tasks/ &&
    (ignore == "" || cur !~ ignore) {
      bad = 1; print "differs: " cur }
    END {exit bad}'
}
completed_count() {  # completed flags set in a file, or nothing while it is unreadable
  h5dump -d /status/completed -y -w 0 "$1" 2>/dev/null |
    awk '/DATA \{/ && !seen {on=1; seen=1; next} on && /\}/ {exit} on' |
    tr -c '0-9\n' ' ' | tr ' ' '\n' | grep -c '^1$'
}
