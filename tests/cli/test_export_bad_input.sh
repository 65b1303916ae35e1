#!/usr/bin/env bash
# Bad input to the commands that read a result: `polypsf export`, `render` and `info` must
#   - exit with status 2 and print one `polypsf: error:` sentence naming the problem,
#   - write nothing (no FITS or PNG file, no temporary file or directory left),
#   - leave an existing FITS file byte-identical.
# Inputs: a missing file, a directory, random bytes, an empty file, a truncated output file,
# an HDF5 file that is not a polypsf output, a FITS file given as input; outputs in a
# missing directory; bad options; an output that is the input under any name; a missing
# file beside a .partial. (A stopped run's .partial file, which export and render
# refuse and info reads, is in tests/io/test_export_fits.c and tests/cli/test_info.c.)
# POLYPSF_EXE names the program (set by ctest). Prints PASS/FAIL per check and the closing
# line "N passed, N failed".
set -u

exe="${POLYPSF_EXE:-}"
if [[ -z "$exe" || ! -x "$exe" ]]; then
  echo "SKIP: POLYPSF_EXE is not set or not executable ('$exe')"
  exit 77
fi
tmpdir="$(mktemp -d)"
trap 'rm -rf "$tmpdir"' EXIT
passed=0
failed=0
# shellcheck source=cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh" # report

# A real result to break in various ways: a tiny run (2 wavelengths, cube on).
cat >"$tmpdir/job.yaml" <<'JOB'
pupil: {npix: 32}
wavelengths: {min: 1.0e-6, max: 1.5e-6, count: 2}
optics:
  - circular_aperture: {radius: 1.0}
detector: {pixelscale: 0.05, fov_pixels: 8, oversample: 2}
propagation: {method: mft}
output: {path: good.h5, cube: true}
JOB
cat >"$tmpdir/nocube.yaml" <<'JOB'
pupil: {npix: 32}
wavelengths: {min: 1.0e-6, max: 1.5e-6, count: 2}
optics:
  - circular_aperture: {radius: 1.0}
detector: {pixelscale: 0.05, fov_pixels: 8, oversample: 2}
output: {path: nocube.h5, cube: false}
JOB
in="$tmpdir/in"
out="$tmpdir/out"
mkdir "$in" "$out"
"$exe" run "$tmpdir/job.yaml" -o "$in/good.h5" --quiet || { echo "FAIL cannot make a result"; exit 1; }
"$exe" run "$tmpdir/nocube.yaml" -o "$in/nocube.h5" --quiet || { echo "FAIL cannot make a result"; exit 1; }
head -c 3000 /dev/urandom >"$in/random.h5"
size=$(stat -c %s "$in/good.h5")
head -c $((size / 2)) "$in/good.h5" >"$in/truncated.h5"
"$exe" export "$in/good.h5" --fits "$in/psf.fits" >/dev/null || { echo "FAIL export of the good file"; exit 1; }
: >"$in/empty.h5"
# An HDF5 file that is not a polypsf output: one dataset copied out of the good one.
if command -v h5copy >/dev/null 2>&1; then
  h5copy -i "$in/good.h5" -o "$in/foreign.h5" -s /wavelengths -d /wavelengths
fi

# check_bad LABEL EXPECTED_TEXT COMMAND...: exit 2, the text on stderr, nothing in $out.
check_bad() {
  local label="$1" text="$2"
  shift 2
  "$@" >"$tmpdir/stdout" 2>"$tmpdir/stderr"
  local status=$?
  report $([[ $status == 2 ]]; echo $?) "$label: exit status 2" "got $status: $(head -c 300 "$tmpdir/stderr")"
  report $(grep -q "^polypsf: error: .*$text" "$tmpdir/stderr"; echo $?) "$label: error says '$text'" \
    "stderr: $(head -c 300 "$tmpdir/stderr")"
  local leftovers
  leftovers="$(ls -A "$out")"
  report $([[ -z "$leftovers" ]]; echo $?) "$label: nothing written" "found: $leftovers"
  rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null
}

for cmd in export render info; do
  case $cmd in
    export) args=(--fits "$out/psf.fits") ;;
    render) args=(-o "$out/psf.png") ;;
    info) args=() ;;
  esac
  check_bad "$cmd missing file" "No such file" "$exe" $cmd "$in/missing.h5" "${args[@]}"
  check_bad "$cmd directory" "is a directory" "$exe" $cmd "$in" "${args[@]}"
  check_bad "$cmd random bytes" "not an HDF5 file" "$exe" $cmd "$in/random.h5" "${args[@]}"
  check_bad "$cmd empty file" "not an HDF5 file" "$exe" $cmd "$in/empty.h5" "${args[@]}"
  check_bad "$cmd truncated output" "$in/truncated.h5" "$exe" $cmd "$in/truncated.h5" "${args[@]}"
  check_bad "$cmd FITS file as input" "not an HDF5 file" "$exe" $cmd "$in/psf.fits" "${args[@]}"
  if [[ -f "$in/foreign.h5" ]]; then
    check_bad "$cmd foreign HDF5" "not a polypsf output file" "$exe" $cmd "$in/foreign.h5" "${args[@]}"
  fi
  check_bad "$cmd unknown option" "unknown option '--bogus'" "$exe" $cmd "$in/good.h5" "${args[@]}" --bogus
  check_bad "$cmd no input" "needs an output file" "$exe" $cmd
done

check_bad "export into a missing directory" "does not exist" \
  "$exe" export "$in/good.h5" --fits "$out/no/such/dir/psf.fits"
check_bad "export without --fits" "needs --fits" "$exe" export "$in/good.h5"
check_bad "export --cube without /cube" "has no /cube" \
  "$exe" export "$in/nocube.h5" --fits "$out/psf.fits" --cube
check_bad "export --psf-grid of a file without /grid" "is not a PSF grid" \
  "$exe" export "$in/good.h5" --psf-grid "$out/grid.fits"
check_bad "export --psf-grid with --fits" "not both" \
  "$exe" export "$in/good.h5" --psf-grid "$out/grid.fits" --fits "$out/psf.fits"
check_bad "export --psf-grid with --cube" "holds /grid/psf only" \
  "$exe" export "$in/good.h5" --psf-grid "$out/grid.fits" --cube
check_bad "render into a missing directory" "does not exist" \
  "$exe" render "$in/good.h5" -o "$out/no/such/dir/psf.png"
check_bad "render bad colour map" "unknown colour map 'jet'" \
  "$exe" render "$in/good.h5" -o "$out/psf.png" --colormap jet
check_bad "render size 0" "whole number from 1" "$exe" render "$in/good.h5" -o "$out/psf.png" --size 0
check_bad "render size text" "whole number from 1" "$exe" render "$in/good.h5" -o "$out/psf.png" --size big
check_bad "render too few decades" "from 0.5 to 20" \
  "$exe" render "$in/good.h5" -o "$out/psf.png" --min-decades 0.1
check_bad "render scale bar wider than the image" "scale bar" \
  "$exe" render "$in/good.h5" -o "$out/psf.png" --scale-bar 100
check_bad "info bad --ee" "option --ee" "$exe" info "$in/good.h5" --ee 0.1,x

# An existing FITS file is never replaced without --force, and stays byte-identical.
cp "$in/psf.fits" "$out/keep.fits"
cp "$out/keep.fits" "$tmpdir/reference.fits"
"$exe" export "$in/good.h5" --fits "$out/keep.fits" >/dev/null 2>"$tmpdir/stderr"
status=$?
same=1
cmp -s "$out/keep.fits" "$tmpdir/reference.fits" && same=0
report $([[ $status == 2 && $same == 0 ]]; echo $?) "existing FITS without --force: exit 2, untouched" \
  "exit $status, identical: $([[ $same == 0 ]] && echo yes || echo no)"
report $(grep -q "use --force" "$tmpdir/stderr"; echo $?) "existing FITS: the error says --force" \
  "stderr: $(head -c 300 "$tmpdir/stderr")"
"$exe" export "$in/random.h5" --fits "$out/keep.fits" --force >/dev/null 2>&1
status=$?
cmp -s "$out/keep.fits" "$tmpdir/reference.fits"
report $([[ $status == 2 && $? == 0 ]]; echo $?) "bad input with --force: exit 2, existing FITS untouched"
report $([[ "$(ls -A "$out")" == "keep.fits" ]]; echo $?) "no temporary file or directory left" \
  "found: $(ls -A "$out")"
"$exe" export "$in/good.h5" --fits "$out/keep.fits" --force >/dev/null 2>&1
report $? "export --force replaces an existing FITS file"

# export and render never write over their input, --force or not, under its own name or
# another one (a hard link, a symbolic link, "./"): exit 2, the input byte-identical.
cp "$in/good.h5" "$tmpdir/good-reference.h5"
ln "$in/good.h5" "$in/hardlink.h5"
ln -s good.h5 "$in/symlink.h5"
for target in "$in/good.h5" "$in/./good.h5" "$in/hardlink.h5" "$in/symlink.h5"; do
  for cmd in "export --fits --force" "render -o"; do
    read -r name option force <<<"$cmd"
    "$exe" "$name" "$in/good.h5" "$option" "$target" ${force:+"$force"} >/dev/null 2>"$tmpdir/stderr"
    status=$?
    cmp -s "$in/good.h5" "$tmpdir/good-reference.h5"
    same=$?
    report $([[ $status == 2 && $same == 0 ]]; echo $?) \
      "$name onto its input as '${target#"$in"/}': exit 2, input byte-identical" \
      "exit $status, identical: $([[ $same == 0 ]] && echo yes || echo no)"
    report $(grep -q "is the input file" "$tmpdir/stderr"; echo $?) \
      "$name onto its input as '${target#"$in"/}': the error says so" \
      "stderr: $(head -c 300 "$tmpdir/stderr")"
  done
done
rm -f "$in/hardlink.h5" "$in/symlink.h5"

# info on a final file that is missing names the .partial of its stopped run.
cp "$in/good.h5" "$in/stopped.h5.partial"
"$exe" info "$in/stopped.h5" >/dev/null 2>"$tmpdir/stderr"
status=$?
report $([[ $status == 2 ]] && grep -q "stopped.h5.partial" "$tmpdir/stderr"; echo $?) \
  "info on a missing file beside its .partial: exit 2, names the .partial" \
  "exit $status, stderr: $(head -c 300 "$tmpdir/stderr")"
report $(grep -q "polypsf info '.*stopped.h5.partial'" "$tmpdir/stderr"; echo $?) \
  "info on a missing file: the error gives the command that reads the .partial"
rm -f "$in/stopped.h5.partial"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
