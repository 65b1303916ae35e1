#!/usr/bin/env bash
# What POPPY users compare: astropy's fits.getdata of the exported FITS file gives the same
# [y][x] arrays, bit for bit, as h5py's f['/psf'][:], f['/psf_detector'][:] and f['/cube'][:]
# of the output file, and the header keywords read as POPPY's. A real (tiny) run, non-square
# field. Skipped (exit 77) when no python3 has both astropy and h5py.
# POLYPSF_EXE names the program (set by ctest).
set -u
exe="${POLYPSF_EXE:-}"
if [[ -z "$exe" || ! -x "$exe" ]]; then
  echo "SKIP: POLYPSF_EXE is not set or not executable ('$exe')"
  exit 77
fi
python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import astropy.io.fits, h5py, numpy' >/dev/null 2>&1; then
    python="$candidate"
    break
  fi
done
if [[ -z "$python" ]]; then
  echo "SKIP: no python3 with astropy, h5py and numpy"
  exit 77
fi
tmpdir="$(mktemp -d)"
trap 'rm -rf "$tmpdir"' EXIT
cat >"$tmpdir/job.yaml" <<'JOB'
# astropy comparison job: non-square field so that a transposition shows
pupil: {npix: 64}
wavelengths: {list: [1.0e-6, 1.3e-6, 1.7e-6], weights: [1, 2, 3]}
optics:
  - circular_aperture: {radius: 1.0}
detector: {pixelscale: 0.05, fov_pixels: [9, 13], oversample: 2}
propagation: {method: mft}
output: {path: out.h5, cube: true}
JOB
"$exe" run "$tmpdir/job.yaml" -o "$tmpdir/out.h5" --quiet || { echo "FAIL polypsf run"; exit 1; }
"$exe" export "$tmpdir/out.h5" --fits "$tmpdir/psf.fits" --cube >/dev/null ||
  { echo "FAIL polypsf export"; exit 1; }
"$python" - "$tmpdir/out.h5" "$tmpdir/psf.fits" <<'PY'
import sys
import numpy as np
import h5py
from astropy.io import fits

h5_path, fits_path = sys.argv[1], sys.argv[2]
passed = failed = 0
def check(ok, what):
    global passed, failed
    print(("PASS " if ok else "FAIL ") + what)
    if ok: passed += 1
    else: failed += 1

with h5py.File(h5_path, "r") as f, fits.open(fits_path) as hdul:
    psf, det, cube = f["/psf"][:], f["/psf_detector"][:], f["/cube"][:]
    waves, weights = f["/wavelengths"][:], f["/weights"][:]
    check(psf.shape == (18, 26), "h5py /psf is (ny, nx) = (18, 26)")
    for name, want in (("OVERSAMP", psf), ("DET_SAMP", det), ("CUBE", cube)):
        got = fits.getdata(fits_path, name)
        check(got.shape == want.shape and got.dtype.kind == "f" and got.itemsize == 8,
              f"getdata('{name}') shape {got.shape} float64 as h5py's {want.shape}")
        check(np.array_equal(got, want), f"getdata('{name}') == h5py array, bit for bit")
    check(np.array_equal(fits.getdata(fits_path), psf), "getdata() (primary) == f['/psf'][:]")
    h0, h1 = hdul[0].header, hdul["DET_SAMP"].header
    check(h0["EXTNAME"] == "OVERSAMP" and h1["EXTNAME"] == "DET_SAMP", "EXTNAMEs as POPPY's")
    check(h0["PIXELSCL"] == f.attrs["pixelscale_arcsec"], "PIXELSCL = pixelscale_arcsec")
    check(h1["PIXELSCL"] == f.attrs["detector_pixelscale_arcsec"], "DET_SAMP PIXELSCL = detector pixel")
    check(h0["OVERSAMP"] == 2 and h0["DET_SAMP"] == 2 and h1["OVERSAMP"] == 1, "OVERSAMP / DET_SAMP")
    check(h0["NWAVES"] == 3 and all(h0[f"WAVE{i}"] == waves[i] and h0[f"WGHT{i}"] == weights[i]
                                    for i in range(3)), "NWAVES, WAVE<i>, WGHT<i>")
    check(abs(h0["WAVELEN"] - (waves * weights).sum() / weights.sum()) < 1e-21, "WAVELEN weighted mean")
    check(abs(h0["DIFFLMT"] - waves[0] / f.attrs["pupil_diameter_m"] * 206264.80624709636) < 1e-13,
          "DIFFLMT = lambda_0/D arcsec")
    check(h0["NORMALIZ"] == "first", "NORMALIZ")
    check(all(hdul["CUBE"].header[f"WAVELN{i:02d}"] == waves[i] for i in range(3)), "CUBE WAVELN<ii>")
    table = hdul["WAVELENGTHS"].data
    check(np.array_equal(table["WAVELENGTH"], waves) and np.array_equal(table["WEIGHT"], weights),
          "WAVELENGTHS table")
    check(all(h.verify_checksum() == 1 for h in hdul), "every HDU's checksum verifies")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
