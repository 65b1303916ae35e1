#!/usr/bin/env bash
# Two runs with the same output path. Checked:
#   - started at the same moment: one exits 0, the other exits 2 saying that the output is
#     being written by another run, naming that run's process (its PID) and the lock file;
#     the winner's /psf equals a run made alone, bit for bit;
#   - a second run with --force (and with --resume, --resume --force) started while the
#     first is computing (paused with SIGSTOP meanwhile, so that it surely is): refused the
#     same way (exit 2), and the first finishes untouched: /psf and
#     /cube equal the run made alone (without the lock, --force would truncate the first
#     run's .partial under it);
#   - a lock file left by a killed run (its holder gone) does not block the next run, and
#     is removed when that run ends.
# POLYPSF_EXE names the program (set by ctest). Needs no root.
set -u
# shellcheck source=faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"
faults_begin no-root

n=40
slow_job $n >"$tmp/job.yaml"
"$exe" run "$tmp/job.yaml" -o "$tmp/alone.h5" --quiet 2>"$tmp/alone.log" ||
  { echo "FAIL the run made alone: $(cat "$tmp/alone.log")"; exit 1; }
mkdir "$tmp/w"
out="$tmp/w/psf.h5"

# 1. Both at once.
start_run "$tmp/a.log" "$tmp/job.yaml" -o "$out"
pid_a=$run_pid
start_run "$tmp/b.log" "$tmp/job.yaml" -o "$out"
pid_b=$run_pid
run_pid=$pid_a; finish_run; rc_a=$run_rc
run_pid=$pid_b; finish_run; rc_b=$run_rc
if [[ $rc_a == 0 ]]; then winner=$pid_a loser_log="$tmp/b.log" rc_loser=$rc_b
else winner=$pid_b loser_log="$tmp/a.log" rc_loser=$rc_a; fi
report $([[ "$rc_a,$rc_b" == "0,2" || "$rc_a,$rc_b" == "2,0" ]]; echo $?) \
  "started together: one exits 0, the other 2 (got $rc_a and $rc_b)"
# "process N on host H" once the winner has signed its lock file; "process N" (from the lock
# itself) when the loser looked in between the winner's lock and its signature
report $(grep -qE "output '$out' is being written by another polypsf run \(process $winner( on host |;)" "$loser_log" &&
  grep -qF "'$out.lock'" "$loser_log"; echo $?) "the refusal names the other run's process ($winner) and the lock file" \
  "$(grep -m 1 "error:" "$loser_log")"
echo "  message: $(grep -m 1 "error:" "$loser_log")"
report $(psf_equal "$out" "$tmp/alone.h5"; echo $?) "the winner's /psf equals the run made alone bit for bit"
report $([[ ! -e "$out.partial" && ! -e "$out.lock" ]]; echo $?) "no .partial or lock file left" "$(ls -a "$tmp/w")"

# 2. A second run while the first computes: --force, then --resume.
rm -f "$out"
start_run "$tmp/first.log" "$tmp/job.yaml" -o "$out" --checkpoint 0
first=$run_pid
if wait_completed "$out.partial" 2 60; then
  # Paused (it keeps its lock and its open file), so that it is surely still running while
  # the others try, however slow the machine (or a sanitizer) makes them.
  kill -STOP "$first"
  for option in --force --resume "--resume --force"; do
    rc=0
    # shellcheck disable=SC2086
    "$exe" run "$tmp/job.yaml" -o "$out" $option >/dev/null 2>"$tmp/second.log" || rc=$?
    report $([[ $rc == 2 ]] && grep -qF "is being written by another polypsf run (process $first on host" \
      "$tmp/second.log"; echo $?) "a second run with $option while the first computes: exit 2, the reason" \
      "exit $rc: $(grep -m 1 "error:" "$tmp/second.log")"
  done
  kill -CONT "$first"
else
  report 1 "the first run flags 2 slices within 60 s" "$(head -c 400 "$tmp/first.log")"
fi
run_pid=$first
finish_run
report $([[ $run_rc == 0 ]]; echo $?) "the first run then finishes (exit $run_rc)" "$(grep -m 1 "error:" "$tmp/first.log")"
for d in /psf /cube; do
  report $(h5diff -q "$out" "$tmp/alone.h5" $d $d >/dev/null 2>&1; echo $?) \
    "its $d equals the run made alone bit for bit"
done

# 3. A lock file whose holder is gone (a run killed with SIGKILL leaves one).
rm -f "$out"
echo "process 999999 on host gone" >"$out.lock"
tiny_job 2 >"$tmp/tiny.yaml"
rc=0
"$exe" run "$tmp/tiny.yaml" -o "$out" --quiet 2>"$tmp/stale.log" || rc=$?
report $([[ $rc == 0 && -f "$out" && ! -e "$out.lock" ]]; echo $?) \
  "a lock file left by a dead run blocks nothing and is removed at the end" \
  "exit $rc: $(head -c 400 "$tmp/stale.log")"
cli_test_end
