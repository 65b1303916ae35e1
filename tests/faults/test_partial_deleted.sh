#!/usr/bin/env bash
# The .partial file is deleted while the run writes it. The run cannot publish anything
# (an unlinked file cannot be given a name again), so it must say so at its next checkpoint
# instead of computing to the end and failing at the rename with a misleading message:
#   - exit 1, the message names the .partial and says it was deleted, before the run's end;
#   - nothing under the output name, no .partial and no lock file left behind;
#   - a new run on the same output then starts without any option and finishes.
# POLYPSF_EXE names the program (set by ctest). Needs no root.
set -u
# shellcheck source=faults_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/faults_lib.sh"
faults_begin no-root

n=100
slow_job $n >"$tmp/job.yaml"
mkdir "$tmp/out"
out="$tmp/out/psf.h5"
partial="$out.partial"
start_run "$tmp/run.log" "$tmp/job.yaml" -o "$out" --checkpoint 0
if ! wait_completed "$partial" 2 60; then
  finish_run
  report 1 "the run flags 2 slices within 60 s" "exit $run_rc: $(head -c 400 "$tmp/run.log")"
  cli_test_end
  exit 1
fi
rm -f "$partial"
deleted_at=$SECONDS
finish_run
report $([[ $run_rc == 1 ]]; echo $?) "the .partial deleted mid-run: exit 1" \
  "exit $run_rc: $(grep -m 1 "error:" "$tmp/run.log")"
report $(grep -qF "'$partial' was deleted while this run was writing it" "$tmp/run.log"; echo $?) \
  "the message names the file and says it was deleted" "$(grep -m 1 "error:" "$tmp/run.log")"
echo "  message: $(grep -m 1 "error:" "$tmp/run.log")"
report $(! grep -q "progress: $n/$n task(s) done" "$tmp/run.log"; echo $?) \
  "it stopped at the next checkpoint, before computing all $n slices ($((SECONDS - deleted_at)) s after the deletion)"
report $([[ ! -e "$out" && ! -e "$partial" && ! -e "$out.lock" ]]; echo $?) \
  "nothing under the output name, no .partial or lock file left" "$(ls -a "$tmp/out")"
rc=0
"$exe" run "$tmp/job.yaml" -o "$out" --quiet 2>"$tmp/again.log" || rc=$?
report $([[ $rc == 0 && -f "$out" ]]; echo $?) "a new run on that output starts without options and finishes" \
  "exit $rc: $(head -c 400 "$tmp/again.log")"
cli_test_end
