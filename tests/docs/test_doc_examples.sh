#!/usr/bin/env bash
# The docs as tests: every ```yaml and ```sh block of README.md and docs/*.md runs, unless the
# doc marks it otherwise, so a documented example that stops working fails the suite.
#
# Conventions (HTML comments on the line(s) right above the opening fence; invisible when the
# Markdown is rendered):
#   <!-- fragment: WHY -->   not run: part of a job file, a synopsis with [options], commands
#                            for another machine (Slurm, make, benchmarks), alternatives that
#                            each need their own starting state. WHY says which.
#   <!-- shrinkable -->      a ```yaml job that may run smaller: `npix` above 128 becomes 128
#                            and `count` above 2 becomes 2 (nothing else changes).
#   <!-- needs: F.h5 … -->   a ```sh block that reads result files: each is made first, from
#                            the sandbox's job.yaml (below).
# Every other ```yaml block is a complete job file: `polypsf run BLOCK.yaml -o out.h5` must
# exit 0 and write out.h5 with /psf. Every other ```sh block runs as one `bash -e` script in a
# fresh sandbox directory holding `job.yaml` (a small job), a copy of `jobs/`,
# `build/polypsf` and `polypsf` on PATH (both the program under test); it must exit 0. Blocks
# in other languages (python, c, plain text) are not run.
# The calibration cache is private (XDG_CACHE_HOME), so the user's is never touched.
# POLYPSF_EXE names the program, POLYPSF_SOURCE_DIR the repository (set by ctest). Prints
# PASS/FAIL per block and "N passed, N failed".
set -u
# shellcheck source=../cli/cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cli/cli_test_lib.sh"
cli_test_begin
src="${POLYPSF_SOURCE_DIR:-}"
if [[ ! -f "$src/README.md" || ! -d "$src/docs" ]]; then
  echo "SKIP: POLYPSF_SOURCE_DIR does not hold README.md and docs/ ('$src')"
  exit 77
fi
for tool in perl h5ls; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
export XDG_CACHE_HOME="$tmp/cache"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# Every fenced block: $tmp/blocks/N.txt holds its text, $tmp/blocks/index one line per block:
# N <TAB> file:line <TAB> language <TAB> the markers above it.
mkdir "$tmp/blocks"
n=0
for doc in "$src/README.md" "$src"/docs/*.md; do
  name="${doc#"$src"/}"
  awk -v name="$name" -v dir="$tmp/blocks" -v start="$n" '
    BEGIN { count = start }
    /^```/ {
      if (inside) { inside = 0; close(out); next }
      inside = 1; count++; out = dir "/" count ".txt"; printf "" > out
      printf "%d\t%s:%d\t%s\t%s\n", count, name, NR, substr($0, 4), markers >> (dir "/index")
      markers = ""; next
    }
    inside { print > out; next }
    /^<!-- .* -->$/ { markers = markers " " $0; next }
    /^[[:space:]]*$/ { next }
    { markers = "" }
    END { print count > (dir "/count") }
  ' "$doc"
  n="$(cat "$tmp/blocks/count")"
done

# The sandbox every ```sh block starts from.
base="$tmp/base"
mkdir -p "$base/build" "$base/bin"
ln -s "$exe" "$base/build/polypsf"
ln -s "$exe" "$base/bin/polypsf"
cp -r "$src/jobs" "$base/jobs"
tiny_job 2 >"$base/job.yaml"

ran_yaml=0
ran_sh=0
while IFS=$'\t' read -r id where lang markers; do
  text="$tmp/blocks/$id.txt"
  case "$lang" in
    yaml | sh) ;;
    *) continue ;;
  esac
  if [[ "$markers" == *"<!-- fragment"* ]]; then
    echo "skip $where ($lang fragment)"
    continue
  fi
  case "$lang" in
    yaml)
      ran_yaml=$((ran_yaml + 1))
      work="$tmp/yaml$id"
      mkdir "$work"
      if [[ "$markers" == *"<!-- shrinkable -->"* ]]; then
        perl -pe 's/(\bnpix:\s*)(\d+)/$1.($2 > 128 ? 128 : $2)/e;
                  s/(\bcount:\s*)(\d+)/$1.($2 > 2 ? 2 : $2)/e' "$text" >"$work/job.yaml"
      else
        cp "$text" "$work/job.yaml"
      fi
      (cd "$work" && "$exe" run job.yaml -o out.h5 --quiet >"$work/log" 2>&1)
      status=$?
      report $([[ $status == 0 ]] && h5ls "$work/out.h5/psf" >/dev/null 2>&1; echo $?) \
        "$where: the job runs (exit 0, out.h5 with /psf)" "exit $status: $(head -c 400 "$work/log")"
      ;;
    sh)
      ran_sh=$((ran_sh + 1))
      work="$tmp/sh$id"
      cp -a "$base" "$work"
      needs="$(grep -o '<!-- needs: [^>]*-->' <<<"$markers" | sed -e 's/<!-- needs: //' -e 's/ -->//')"
      for file in $needs; do
        mkdir -p "$work/$(dirname "$file")"
        (cd "$work" && "$exe" run job.yaml -o "$file" --quiet) >/dev/null 2>&1 ||
          report 1 "$where: making $file it needs"
      done
      (cd "$work" && PATH="$work/bin:$PATH" bash -e "$text" >"$work/log" 2>&1 </dev/null)
      status=$?
      report $([[ $status == 0 ]]; echo $?) "$where: the commands run (exit 0)" \
        "exit $status: $(tail -c 400 "$work/log")"
      ;;
  esac
  rm -rf "$work"
done <"$tmp/blocks/index"

report $([[ $ran_yaml -ge 3 ]]; echo $?) "at least 3 job files ran from the docs" "ran $ran_yaml"
report $([[ $ran_sh -ge 3 ]]; echo $?) "at least 3 command blocks ran from the docs" "ran $ran_sh"
cli_test_end
