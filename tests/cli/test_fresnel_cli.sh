#!/usr/bin/env bash
# A Fresnel job from the command line (issue 14): jobs/examples/fresnel_hst.yaml runs, the
# file carries the pixel scale in metres (/psf pixelscale_m = the detector's 2e-6 m),
# `polypsf info` reports the sampling in metres and the FWHM near λ·F (F = f/D: 57.49 m /
# 2.4 m at the mean 0.55 µm, 13.2 µm), and `export --fits` writes PIXELSCL in metres with
# PIXUNIT 'meter' as POPPY's as_fits does outside image planes.
# POLYPSF_EXE and POLYPSF_SOURCE_DIR are set by ctest. Prints PASS/FAIL per check.
set -u
exe="${POLYPSF_EXE:-}"
src="${POLYPSF_SOURCE_DIR:-}"
if [[ -z "$exe" || ! -x "$exe" || ! -f "$src/jobs/examples/fresnel_hst.yaml" ]]; then
  echo "SKIP: POLYPSF_EXE or POLYPSF_SOURCE_DIR not set ('$exe', '$src')"
  exit 77
fi
command -v h5dump >/dev/null 2>&1 || { echo "SKIP: h5dump not found (hdf5-tools)"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
source "$(dirname "${BASH_SOURCE[0]}")/cli_test_lib.sh"

cd "$tmp" || exit 1
OPENBLAS_NUM_THREADS=1 "$exe" run "$src/jobs/examples/fresnel_hst.yaml" -o hst.h5 >out 2>err
report $? "fresnel_hst.yaml runs" "$(tail -c 300 err)"
scale="$(h5dump -a /psf/pixelscale_m hst.h5 2>/dev/null | awk '/\(0\)/ {print $2}')"
report $([[ "$scale" == 2e-06 ]]; echo $?) "/psf pixelscale_m is 2e-06" "got '$scale'"
mode="$(h5dump -a /propagation_mode hst.h5 2>/dev/null | grep -c fresnel)"
report $([[ "$mode" -ge 1 ]]; echo $?) "root propagation_mode is fresnel"
"$exe" info hst.h5 >info 2>err
report $? "info exits 0" "$(tail -c 300 err)"
report $(grep -q "px of 2e-06 m" info; echo $?) "info: sampling in metres" "$(grep sampling info)"
fwhm="$(awk '/^fwhm/ {print $2}' info)"
report $(awk -v f="$fwhm" 'BEGIN { exit !(f > 11e-6 && f < 15e-6) }'; echo $?) \
  "info: FWHM $fwhm m is about λ·F = 13.2 µm"
"$exe" export hst.h5 --fits hst.fits >/dev/null 2>err
report $? "export --fits exits 0" "$(tail -c 300 err)"
header="$(head -c 8640 hst.fits | tr -d '\0' | fold -w 80)"
report $(grep -q "^PIXUNIT = 'meter" <<<"$header"; echo $?) "FITS PIXUNIT = 'meter'"
report $(grep -qE "^PIXELSCL= +(2\.0*E-06|1\.99999+E-06)" <<<"$header"; echo $?) \
  "FITS PIXELSCL in metres (2e-6)" "$(grep PIXELSCL <<<"$header" | head -1)"

# output.planes in Fresnel mode: every optic its own plane, in metres, with the pilot beam's
# radius and the reference surface's curvature; the detector plane is /cube bit for bit.
sed 's/^output: .*/output: {path: planes.h5, planes: all}/' "$src/jobs/examples/fresnel_hst.yaml" >planes.yaml
OPENBLAS_NUM_THREADS=1 "$exe" run planes.yaml -o planes.h5 >out 2>err
report $? "fresnel_hst with planes: all runs" "$(tail -c 300 err)"
radius="$(h5dump -a /planes/2_primary/beam_radius_m planes.h5 2>/dev/null | awk '/\(0\)/ {print $2 $3}')"
report $([[ "$radius" == "1.2,1.2" ]]; echo $?) "plane after the primary: beam radius 1.2 m at both λ" "got '$radius'"
scale="$(h5dump -a /planes/0_circular_aperture/pixelscale_m planes.h5 2>/dev/null | awk '/\(0\)/ {print $2}')"
report $([[ "$scale" == "0.009375," ]]; echo $?) "pupil plane pixel scale 2.4 m / 256 = 0.009375 m" "got '$scale'"
curvature="$(h5dump -a /planes/3_secondary/reference_curvature_m planes.h5 2>/dev/null | awk '/\(0\)/ {print $2}')"
report $(awk -v c="${curvature%,}" 'BEGIN { exit !(c < -6.39 && c > -6.40) }'; echo $?) \
  "after the secondary the reference sphere is centred on the focus 6.39 m ahead" "got '$curvature'"
h5dump -d /planes/4_detector -b LE -o detector.bin planes.h5 >/dev/null 2>&1
h5dump -d /cube -b LE -o cube.bin planes.h5 >/dev/null 2>&1
report $([[ -s cube.bin ]] && cmp -s detector.bin cube.bin; echo $?) "the detector plane equals /cube, byte for byte"
"$exe" render planes.h5 --plane 4_detector --wavelength 1 -o detector.png >/dev/null 2>err
report $([[ -s detector.png ]]; echo $?) "render --plane 4_detector of a Fresnel result" "$(tail -c 300 err)"
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
