#!/usr/bin/env bash
# The --resume/--force table of docs/output-format.md ("Resume") against the program, cell by
# cell: the test reads the table from the doc (the rows after the comment
# `<!-- resume-force table`), builds what a row's first column says is found at the output
# name, runs `polypsf run` with the column's options and checks the cell:
#   - "fresh start": exit 0, a finished output, no .partial left, no finished slice kept;
#   - "resumed": exit 0, the log says the finished slices were kept (`already on disk`);
#   - "refused: … names `A`, `B`": exit 2, the files on disk byte-identical, the message names
#     every option listed, and a run with the first one then succeeds (the advice works).
# A row the test cannot build, or a table that is missing, fails: the doc and the program
# change together. Also: the refusal of a .partial with K finished slices names K.
# POLYPSF_EXE names the program, POLYPSF_SOURCE_DIR the repository (set by ctest). Prints
# PASS/FAIL per check and "N passed, N failed".
set -u
# shellcheck source=cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"
cli_test_begin
doc="${POLYPSF_SOURCE_DIR:-}/docs/output-format.md"
if [[ ! -f "$doc" ]]; then
  echo "SKIP: POLYPSF_SOURCE_DIR does not hold docs/output-format.md ('$doc')"
  exit 77
fi

# A tiny job with the cube (resumable), and another job (another wavelength count).
tiny_job 3 >"$tmp/job.yaml"
tiny_job 2 >"$tmp/other.yaml"
"$exe" run "$tmp/job.yaml" -o "$tmp/finished.h5" --quiet || { echo "FAIL cannot make a result"; exit 1; }
"$exe" run "$tmp/other.yaml" -o "$tmp/other.h5" --quiet || { echo "FAIL cannot make a result"; exit 1; }

# setup ROW: makes $tmp/w/ hold what the row's first column names; 1 for an unknown row.
w="$tmp/w"
setup() {
  rm -rf "$w" && mkdir "$w"
  case "$1" in
    "nothing") ;;
    # A finished file under the temporary name stands for a stopped run: 3 of 3 flags set.
    '`psf.h5.partial` with finished slices') cp "$tmp/finished.h5" "$w/psf.h5.partial" ;;
    '`psf.h5.partial` that is not HDF5') echo "killed before the first flush" >"$w/psf.h5.partial" ;;
    '`psf.h5.partial` of another job') cp "$tmp/other.h5" "$w/psf.h5.partial" ;;
    '`psf.h5.partial` and `psf.h5`')
      cp "$tmp/finished.h5" "$w/psf.h5.partial"
      cp "$tmp/finished.h5" "$w/psf.h5" ;;
    '`psf.h5`, this job'"'"'s finished output') cp "$tmp/finished.h5" "$w/psf.h5" ;;
    '`psf.h5`, any other file') echo "someone else's file" >"$w/psf.h5" ;;
    *) return 1 ;;
  esac
}

# run OPTIONS...: polypsf run into $w/psf.h5; leaves the status in $rc and the log in $tmp/log.
run() {
  rc=0
  # shellcheck disable=SC2068
  "$exe" run "$tmp/job.yaml" -o "$w/psf.h5" $@ >/dev/null 2>"$tmp/log" || rc=$?
}

trim() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' <<<"$1"; }

table="$(awk '/<!-- resume-force table/ {on=1; next} on && /^\|/ {print; next} on {exit}' "$doc")"
report $([[ $(wc -l <<<"$table") -ge 4 ]]; echo $?) "docs/output-format.md has the resume-force table"
header="$(head -n 1 <<<"$table")"
IFS='|' read -r -a heads <<<"$header"
columns=()
for ((c = 2; c < ${#heads[@]}; c++)); do
  h="$(trim "${heads[$c]}")"
  [[ -z "$h" ]] && continue
  if [[ "$h" == "no option" ]]; then columns+=(""); else columns+=("$(tr -d '`' <<<"$h")"); fi
done
report $([[ ${#columns[@]} == 4 ]]; echo $?) "the table has 4 option columns" "got ${#columns[@]}"

rows=0
while IFS= read -r line; do
  IFS='|' read -r -a cells <<<"$line"
  row="$(trim "${cells[1]}")"
  rows=$((rows + 1))
  if ! setup "$row"; then
    report 1 "row '$row': the test knows how to build it"
    continue
  fi
  for ((c = 0; c < ${#columns[@]}; c++)); do
    options="${columns[$c]}"
    cell="$(trim "${cells[$((c + 2))]}")"
    what="row '$row', options '${options:-none}'"
    setup "$row"
    before="$(cd "$w" && sha256sum -- * 2>/dev/null)"
    run $options
    case "$cell" in
      "fresh start"*)
        report $([[ $rc == 0 && -f "$w/psf.h5" && ! -e "$w/psf.h5.partial" ]] &&
          ! grep -q "resume: [1-9][0-9]* of [0-9]* slice(s) already on disk" "$tmp/log"; echo $?) "$what: fresh start" \
          "exit $rc: $(head -c 300 "$tmp/log")" ;;
      "resumed"*)
        report $([[ $rc == 0 && -f "$w/psf.h5" && ! -e "$w/psf.h5.partial" ]] &&
          grep -q "resume: 3 of 3 slice(s) already on disk" "$tmp/log"; echo $?) "$what: resumed" \
          "exit $rc: $(head -c 300 "$tmp/log")" ;;
      "refused"*)
        after="$(cd "$w" && sha256sum -- * 2>/dev/null)"
        report $([[ $rc == 2 && "$before" == "$after" ]]; echo $?) "$what: refused, exit 2, files untouched" \
          "exit $rc: $(head -c 300 "$tmp/log")"
        named="$(grep -o '`--[^`]*`' <<<"$cell" | tr -d '`')"
        report $([[ -n "$named" ]]; echo $?) "$what: the doc names the options that work"
        while IFS= read -r option; do
          [[ -z "$option" ]] && continue
          report $(grep -qF -- "$option" "$tmp/log"; echo $?) "$what: the message names '$option'" \
            "$(head -c 300 "$tmp/log")"
        done <<<"$named"
        first="$(head -n 1 <<<"$named")"
        if [[ -n "$first" ]]; then
          run $first
          report $([[ $rc == 0 && -f "$w/psf.h5" ]]; echo $?) "$what: then '$first' works" \
            "exit $rc: $(head -c 300 "$tmp/log")"
        fi ;;
      *) report 1 "$what: a cell the test understands" "'$cell'" ;;
    esac
  done
done < <(tail -n +3 <<<"$table")
report $([[ $rows -ge 7 ]]; echo $?) "the table has its 7 rows" "got $rows"

# The number of finished slices that would be lost is named.
setup '`psf.h5.partial` with finished slices'
run
report $(grep -q "holds 3 of 3 finished slice(s)" "$tmp/log"; echo $?) \
  "a .partial with 3 finished slices: the refusal names 3 of 3" "$(head -c 300 "$tmp/log")"

cli_test_end
