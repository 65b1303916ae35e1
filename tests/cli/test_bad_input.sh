#!/usr/bin/env bash
# Bad input never runs and never harms data. For every malformed job file in bad_jobs/
# (each starts with `# expect: L:C key`, optionally followed by `# message: TEXT` lines, each
# TEXT to be found on stderr), for a missing path, a directory and an
# unreadable file, `polypsf run` must
#   - exit with status 2,
#   - print FILE:L:C: and the key on stderr (FILE as given on the command line),
#   - create neither the output nor any temporary output.<suffix>,
#   - leave an existing output file byte-identical, even with --force.
# POLYPSF_EXE names the program (set by ctest, see cmake/PolypsfTesting.cmake).
# Prints PASS/FAIL per check and the closing line "N passed, N failed".
set -u

exe="${POLYPSF_EXE:-}"
if [[ -z "$exe" || ! -x "$exe" ]]; then
  echo "SKIP: POLYPSF_EXE is not set or not executable ('$exe')"
  exit 77
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmpdir="$(mktemp -d)"
trap 'chmod -R u+rwx "$tmpdir" 2>/dev/null; rm -rf "$tmpdir"' EXIT
# Run from an empty directory so that a job's default output path (psf.h5) could not
# land in the source tree, and so that any stray file shows up.
workdir="$tmpdir/work"
mkdir "$workdir"

passed=0
failed=0
# shellcheck source=cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh" # report

# run_bad JOB EXPECTED_PREFIX KEY LABEL: one bad run, its four checks, and a run with --force
# over an existing output. The two runs are independent (each in its own directory), so they
# run side by side: the sanitizer build spends most of its time starting the program.
run_bad() {
  local job="$1" prefix="$2" key="$3" label="$4"
  local fresh="$tmpdir/fresh" kept="$tmpdir/kept"
  rm -rf "$fresh" "$kept"
  mkdir -p "$fresh/work" "$kept/work"
  # An existing output stays byte-identical, even when --force asks to replace it.
  head -c 4096 /dev/urandom >"$kept/out.h5"
  cp "$kept/out.h5" "$tmpdir/reference.bin"
  (cd "$fresh/work" && "$exe" run "$job" -o "$fresh/out.h5" >/dev/null 2>"$fresh/stderr"
   echo $? >"$fresh/status") &
  (cd "$kept/work" && "$exe" run "$job" -o "$kept/out.h5" --force >/dev/null 2>&1
   echo $? >"$kept/status") &
  wait
  local status err="$fresh/stderr"
  status="$(cat "$fresh/status")"
  report $([[ $status == 2 ]]; echo $?) "$label: exit status 2" "got $status: $(head -c 300 "$err")"
  cp "$err" "$tmpdir/last_stderr"
  report $(grep -qF -- "$prefix" "$err"; echo $?) "$label: stderr has '$prefix'" \
    "stderr: $(head -c 300 "$err")"
  report $(grep -qF -- "$key" "$err"; echo $?) "$label: stderr names '$key'" \
    "stderr: $(head -c 300 "$err")"
  local leftovers
  leftovers="$(ls -A "$fresh" | grep -E '^out\.h5' ; ls -A "$fresh/work")"
  report $([[ -z "$leftovers" ]]; echo $?) "$label: no output created" "found: $leftovers"

  status="$(cat "$kept/status")"
  local same=1
  cmp -s "$kept/out.h5" "$tmpdir/reference.bin" && same=0
  report $([[ $status == 2 && $same == 0 ]]; echo $?) "$label: existing output untouched" \
    "exit $status, identical: $([[ $same == 0 ]] && echo yes || echo no)"
  leftovers="$(ls -A "$kept" | grep -E '^out\.h5.' ; ls -A "$kept/work")"
  report $([[ -z "$leftovers" ]]; echo $?) "$label: no temporary output left" "found: $leftovers"
  rm -rf "$fresh" "$kept" "$tmpdir/reference.bin"
}

n_files=0
for job in "$here"/bad_jobs/*.yaml; do
  first="$(head -n 1 "$job")"
  if [[ ! "$first" =~ ^#\ expect:\ ([0-9]+):([0-9]+)\ (.+)$ ]]; then
    report 1 "$(basename "$job"): has a '# expect: L:C key' first line" "got: $first"
    continue
  fi
  n_files=$((n_files + 1))
  run_bad "$job" "$job:${BASH_REMATCH[1]}:${BASH_REMATCH[2]}:" "${BASH_REMATCH[3]}" \
    "$(basename "$job")"
  # The message's own words, where the file asks for them (a hint, the allowed values).
  while IFS= read -r text; do
    report $(grep -qF -- "$text" "$tmpdir/last_stderr"; echo $?) \
      "$(basename "$job"): stderr says '$text'" "stderr: $(head -c 300 "$tmpdir/last_stderr")"
  done < <(sed -n '2,/^[^#]/s/^# message: //p' "$job")
done
report $([[ $n_files -ge 14 ]]; echo $?) "at least 14 bad job files" "found $n_files"

# Bad options with a good job: exit 2 and a sentence naming the option, nothing written.
good_job="$tmpdir/good.yaml"
sed 1d "$here/bad_jobs/threads_zero.yaml" | sed '/threads_per_rank/d' >"$good_job"
for value in 0 1025; do
  rm -f "$tmpdir"/out.h5*
  (cd "$workdir" && "$exe" run "$good_job" -o "$tmpdir/out.h5" --threads-per-rank "$value" \
     >/dev/null 2>"$tmpdir/stderr")
  status=$?
  report $([[ $status == 2 ]] && grep -q -- "--threads-per-rank" "$tmpdir/stderr"; echo $?) \
    "--threads-per-rank $value: exit 2 naming the option" "exit $status: $(head -c 300 "$tmpdir/stderr")"
  report $([[ -z "$(ls -A "$tmpdir" | grep -E '^out\.h5')" ]]; echo $?) \
    "--threads-per-rank $value: no output created"
done

# A path that does not exist: the message names it.
missing="$tmpdir/no_such_job.yaml"
run_bad "$missing" "$missing:" "cannot open" "non-existent job file"

# A directory where a job file should be.
mkdir "$tmpdir/a_directory.yaml"
run_bad "$tmpdir/a_directory.yaml" "$tmpdir/a_directory.yaml:" "cannot read" "directory as job file"

# A file without read permission (root reads anything, so only as another user).
unreadable="$tmpdir/unreadable.yaml"
cp "$here/bad_jobs/unknown_key.yaml" "$unreadable"
chmod 000 "$unreadable"
if [[ -r "$unreadable" ]]; then
  echo "SKIP unreadable job file: running as a user who can read mode-000 files (root)"
else
  run_bad "$unreadable" "$unreadable:" "cannot open" "unreadable job file"
fi

echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
