#!/usr/bin/env bash
# A PSF grid exported with `polypsf export --psf-grid` is what photutils' GriddedPSFModel is
# made from, as WebbPSF users make it: NDData(primary data, meta = {grid_xypos from the
# DET_YX<i> keywords, oversampling from OVERSAMP}). Checks, with Debian's python3-photutils:
#   - NUM_PSFS, OVERSAMP, NWAVES as the run; the data are /grid/psf × OVERSAMP² (h5py);
#   - DET_YX<i> are the job's field.detector_pixel, as "(y, x)";
#   - at each grid point the model is the stored PSF (against a FittableImageModel of that
#     PSF alone, evaluated on the same pixels);
#   - between two grid points it interpolates: at the midpoint of two neighbours in x, the
#     model is that of their mean PSF; at the centre of four, that of the mean of the four.
# /usr/bin/python3 first: a pyenv shim may shadow python3 without Debian's modules.
# POLYPSF_EXE names the program (set by ctest). Skipped (77) without photutils.
set -u
exe="${POLYPSF_EXE:-}"
if [[ -z "$exe" || ! -x "$exe" ]]; then
  echo "SKIP: POLYPSF_EXE is not set or not executable ('$exe')"
  exit 77
fi
python=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import photutils.psf, astropy.io.fits, h5py, numpy' >/dev/null 2>&1; then
    python="$candidate"
    break
  fi
done
if [[ -z "$python" ]]; then
  echo "SKIP: no python3 with photutils, astropy, h5py and numpy (Debian: python3-photutils)"
  exit 77
fi
tmpdir="$(mktemp -d)"
trap 'rm -rf "$tmpdir"' EXIT
cat >"$tmpdir/job.yaml" <<'JOB'
pupil: {npix: 64}
wavelengths: {min: 1.0e-6, max: 1.4e-6, count: 2}
field:
  grid: {nx: 3, ny: 2, x: [-60, 60], y: [-30, 30]}
  detector_pixel: [[100, 50], [600, 50], [1100, 50], [100, 350], [600, 350], [1100, 350]]
optics:
  - circular_aperture: {radius: 1.0}
  - zernike_wfe:
      radius: 1.0
      coefficients: [0]
      field_polynomial: [[4, 2, 0, 3.0e-11], [7, 0, 1, 2.0e-9], [8, 1, 0, 1.0e-9]]
detector: {pixelscale: 0.05, fov_pixels: 15, oversample: 2}
output: {cube: false}
JOB
"$exe" run "$tmpdir/job.yaml" -o "$tmpdir/out.h5" --quiet || { echo "FAIL polypsf run"; exit 1; }
"$exe" export "$tmpdir/out.h5" --psf-grid "$tmpdir/grid.fits" >/dev/null ||
  { echo "FAIL polypsf export --psf-grid"; exit 1; }
"$python" - "$tmpdir/out.h5" "$tmpdir/grid.fits" <<'PY'
import ast
import sys
import warnings

import h5py
import numpy as np
from astropy.io import fits
from astropy.nddata import NDData
from photutils.psf import FittableImageModel, GriddedPSFModel

warnings.simplefilter("ignore")
h5_path, fits_path = sys.argv[1:3]
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS", what)
    else:
        failed += 1
        print("FAIL", what, detail)


with fits.open(fits_path) as hdul:
    data = hdul[0].data.astype(float)
    header = hdul[0].header
with h5py.File(h5_path, "r") as f:
    stored = f["/grid/psf"][:]
os_ = header["OVERSAMP"]
check(header["NUM_PSFS"] == 6 and data.shape == (6, 30, 30), "NUM_PSFS and the cube's shape",
      f"{header['NUM_PSFS']} {data.shape}")
check(os_ == 2 and header["DET_SAMP"] == 2 and header["NWAVES"] == 2 and header["FOVPIXEL"] == 15,
      "OVERSAMP, DET_SAMP, NWAVES, FOVPIXEL")
check(np.array_equal(data, stored * os_**2), "the data are /grid/psf times OVERSAMP**2")
yx = [ast.literal_eval(header[f"DET_YX{i}"]) for i in range(header["NUM_PSFS"])]
want = [(50, 100), (50, 600), (50, 1100), (350, 100), (350, 600), (350, 1100)]
check([tuple(float(v) for v in p) for p in yx] == [tuple(map(float, p)) for p in want],
      "DET_YX<i> are the field.detector_pixel pairs as (y, x)", str(yx))

grid_xypos = [(p[1], p[0]) for p in yx]
model = GriddedPSFModel(NDData(data, meta={"grid_xypos": grid_xypos, "oversampling": os_}))


def evaluate(m, x0, y0):
    """The model on a 9 x 9 patch of detector pixels around (x0, y0)."""
    yy, xx = np.mgrid[-4:5, -4:5].astype(float)
    return m.evaluate(xx + x0, yy + y0, 1.0, x0, y0)


worst = 0.0
for i, (x0, y0) in enumerate(grid_xypos):
    got = evaluate(model, x0, y0)
    alone = evaluate(FittableImageModel(data[i], oversampling=os_), x0, y0)
    worst = max(worst, np.abs(got - alone).max() / np.abs(alone).max())
check(worst < 1e-12, "at each grid point the model is the stored PSF", f"worst {worst:.3g}")

# midpoint of points 0 and 1 (x = 350, y = 50): the mean of their PSFs
mid = evaluate(model, 350.0, 50.0)
mean01 = evaluate(FittableImageModel(0.5 * (data[0] + data[1]), oversampling=os_), 350.0, 50.0)
rel = np.abs(mid - mean01).max() / np.abs(mean01).max()
check(rel < 1e-12, "between two grid points the model is their mean PSF", f"{rel:.3g}")
centre = evaluate(model, 350.0, 200.0)
mean4 = evaluate(FittableImageModel(0.25 * (data[0] + data[1] + data[3] + data[4]),
                                    oversampling=os_), 350.0, 200.0)
rel = np.abs(centre - mean4).max() / np.abs(mean4).max()
check(rel < 1e-12, "at the centre of four grid points the model is their mean PSF", f"{rel:.3g}")
differs = np.abs(data[0] - data[2]).max() / data[0].max()
check(differs > 1e-3, "the field dependence is visible: PSF 0 and PSF 2 differ",
      f"{differs:.3g}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
PY
