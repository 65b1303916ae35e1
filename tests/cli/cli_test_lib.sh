# Shared by the command-line test scripts (sourced, not run): the program check, a private
# temporary directory, PASS/FAIL counting and a tiny job. After `source`:
#   cli_test_begin      exits 77 (skip) unless POLYPSF_EXE is an executable program; sets
#                       $exe to its absolute path and $tmp to a directory removed at exit
#   report OK WHAT [DETAIL]   PASS when OK is 0, else FAIL with the detail
#   tiny_job COUNT      prints a job of COUNT wavelengths (32 px pupil, cube on), seconds to run
#   cli_test_end        prints "N passed, N failed"; its status is the test's
# shellcheck shell=bash

cli_test_begin() {
  exe="${POLYPSF_EXE:-}"
  if [[ -z "$exe" || ! -x "$exe" ]]; then
    echo "SKIP: POLYPSF_EXE is not set or not executable ('$exe')"
    exit 77
  fi
  exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  passed=0
  failed=0
}

report() { # report OK WHAT [DETAIL]
  if [[ "$1" == 0 ]]; then
    passed=$((passed + 1))
    echo "PASS $2"
  else
    failed=$((failed + 1))
    echo "FAIL $2${3:+ — $3}"
  fi
}

tiny_job() { # tiny_job COUNT
  cat <<JOB
pupil: {npix: 32}
wavelengths: {min: 1.0e-6, max: 1.5e-6, count: $1}
optics:
  - circular_aperture: {radius: 1.0}
detector: {pixelscale: 0.05, fov_pixels: 8, oversample: 2}
propagation: {method: mft}
output: {cube: true}
JOB
}

cli_test_end() {
  echo "$passed passed, $failed failed"
  [[ $failed == 0 && $passed -gt 0 ]]
}
