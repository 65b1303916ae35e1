#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/<target>/seed-*.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_seeds.py (needs numpy, h5py, astropy:
the Debian packages python3-numpy, python3-h5py, python3-astropy). The results are small and
committed; rerun only to change the seeds. Files named regression-* (inputs the fuzzer found,
kept once their bug is fixed) are never touched.

Seeds: job: jobs/examples, tests/cli/bad_jobs and every ```yaml block of docs/*.md;
spectrum: the text spectra of tests/cli/bad_jobs/spectra plus small valid and broken text,
HDF5 and FITS spectra; map: small valid and broken FITS images and HDF5 datasets.
"""
import glob
import io
import os
import re

import h5py
import numpy as np
from astropy.io import fits

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def corpus(target):
    path = os.path.join(HERE, "corpus", target)
    os.makedirs(path, exist_ok=True)
    for old in glob.glob(os.path.join(path, "seed-*")):
        os.remove(old)
    return path


def put(directory, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


def hdf5_bytes(fill, latest=False):
    """An HDF5 file made in memory by fill(file) (h5py's in-memory file image)."""
    buffer = io.BytesIO()
    kwargs = {"libver": "latest"} if latest else {}
    with h5py.File(buffer, "w", **kwargs) as f:
        fill(f)
    return buffer.getvalue()


def fits_bytes(hdus):
    buffer = io.BytesIO()
    fits.HDUList(hdus).writeto(buffer)
    return buffer.getvalue()


def job_seeds():
    out = corpus("job")
    for path in sorted(glob.glob(os.path.join(ROOT, "jobs", "examples", "*.yaml")) +
                       glob.glob(os.path.join(ROOT, "tests", "cli", "bad_jobs", "*.yaml"))):
        with open(path, "rb") as f:
            put(out, os.path.basename(os.path.dirname(path)) + "-" + os.path.basename(path),
                f.read())
    for path in sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        with open(path, encoding="utf-8") as f:
            blocks = re.findall(r"```yaml\n(.*?)```", f.read(), re.S)
        for k, block in enumerate(blocks):
            put(out, "docs-%s-%d.yaml" % (os.path.basename(path)[:-3], k), block)
    # a spectrum file the fuzzer's scratch directory holds (fuzz_job.c)
    put(out, "spectrum-file.yaml",
        "pupil: {npix: 64}\nwavelengths: {file: spectrum.txt, units: m}\n"
        "optics:\n  - circular_aperture: {radius: 1}\n"
        "detector: {pixelscale: 0.1, fov_pixels: 8}\n")


def spectrum_seeds():
    out = corpus("spectrum")
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "cli", "bad_jobs", "spectra",
                                              "*.txt"))):
        with open(path, "rb") as f:
            put(out, "text-" + os.path.basename(path), f.read())
    put(out, "text-good.txt", "# wavelength weight\n1.0e-6 1\n1.5e-6, 2 # note\n2e-6\t1\n")
    put(out, "text-crlf.txt", "1.0 1\r\n1.5 2\r\n")
    wl = np.array([1.0e-6, 1.5e-6, 2.0e-6])
    wt = np.array([1.0, 2.0, 1.0])

    def good(f):
        f["wavelengths"] = wl
        f["weights"] = wt

    def microns(f):
        f["wavelengths"] = (wl * 1e6).astype(np.float32)
        f["wavelengths"].attrs["units"] = "um"
        f["weights"] = np.array([1, 2, 1], dtype=np.int16)

    def fixed_units(f):
        f["wavelengths"] = wl
        f["wavelengths"].attrs["units"] = np.bytes_(b"nm  ")
        f["weights"] = wt

    def mismatch(f):
        f["wavelengths"] = wl
        f["weights"] = wt[:2]

    def two_d(f):
        f["wavelengths"] = wl.reshape(3, 1)
        f["weights"] = wt

    def text_data(f):
        f["wavelengths"] = np.array([b"a", b"b", b"c"])
        f["weights"] = wt

    def group(f):
        f.create_group("wavelengths")
        f["weights"] = wt

    put(out, "hdf5-good.h5", hdf5_bytes(good))
    put(out, "hdf5-latest.h5", hdf5_bytes(good, latest=True))
    put(out, "hdf5-microns.h5", hdf5_bytes(microns))
    put(out, "hdf5-fixed-units.h5", hdf5_bytes(fixed_units))
    put(out, "hdf5-mismatch.h5", hdf5_bytes(mismatch))
    put(out, "hdf5-2d.h5", hdf5_bytes(two_d))
    put(out, "hdf5-text.h5", hdf5_bytes(text_data))
    put(out, "hdf5-group.h5", hdf5_bytes(group))
    put(out, "hdf5-truncated.h5", hdf5_bytes(good)[:600])

    def table(columns, ascii=False):
        make = fits.TableHDU.from_columns if ascii else fits.BinTableHDU.from_columns
        return fits_bytes([fits.PrimaryHDU(), make(columns)])

    put(out, "fits-good.fits", table([
        fits.Column(name="WAVELENGTH", format="D", unit="m", array=wl),
        fits.Column(name="WEIGHT", format="E", array=wt)]))
    put(out, "fits-flux-angstrom.fits", table([
        fits.Column(name="WAVELENGTH", format="J", unit="Angstrom",
                    array=np.array([10000, 15000, 20000])),
        fits.Column(name="FLUX", format="D", array=wt)]))
    put(out, "fits-ascii.fits", table([
        fits.Column(name="WAVELENGTH", format="E12.4", array=wl),
        fits.Column(name="WEIGHT", format="E12.4", array=wt)], ascii=True))
    put(out, "fits-vector.fits", table([
        fits.Column(name="WAVELENGTH", format="2D", array=np.stack([wl, wl], axis=1)),
        fits.Column(name="WEIGHT", format="D", array=wt)]))
    put(out, "fits-no-weight.fits", table([
        fits.Column(name="WAVELENGTH", format="D", array=wl)]))
    put(out, "fits-image.fits", fits_bytes([fits.PrimaryHDU(np.zeros((2, 2)))]))
    put(out, "fits-truncated.fits", table([
        fits.Column(name="WAVELENGTH", format="D", array=wl),
        fits.Column(name="WEIGHT", format="D", array=wt)])[:4000])


def map_seeds():
    out = corpus("map")
    y, x = np.mgrid[0:4, 0:4]
    pupil = ((y - 1.5) ** 2 + (x - 1.5) ** 2 < 4).astype(np.float64)

    primary = fits.PrimaryHDU(pupil)
    primary.header["PIXELSCL"] = 0.01
    primary.header["BUNIT"] = "meters"
    put(out, "fits-float64.fits", fits_bytes([primary]))
    scaled = fits.PrimaryHDU((pupil * 100).astype(np.int16))
    scaled.header["BSCALE"] = 0.01
    scaled.header["BZERO"] = 0.0
    scaled.header["BLANK"] = -32768
    scaled.header["PUPLSCAL"] = 0.02
    put(out, "fits-int16-scaled.fits", fits_bytes([scaled]))
    extension = fits.ImageHDU(pupil.astype(np.float32), name="OPD")
    extension.header["PIXUNIT"] = "meters"
    extension.header["PIXELSCL"] = 0.01
    put(out, "fits-extension.fits", fits_bytes([fits.PrimaryHDU(), extension]))
    put(out, "fits-3d.fits", fits_bytes([fits.PrimaryHDU(np.zeros((2, 2, 2)))]))
    nan_map = pupil.copy()
    nan_map[2, 1] = np.nan
    put(out, "fits-nan.fits", fits_bytes([fits.PrimaryHDU(nan_map)]))
    bad_scale = fits.PrimaryHDU(pupil)
    bad_scale.header["PIXELSCL"] = -1.0
    put(out, "fits-bad-scale.fits", fits_bytes([bad_scale]))
    put(out, "fits-table.fits", fits_bytes([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
        [fits.Column(name="A", format="D", array=np.arange(3.0))])]))
    put(out, "fits-truncated.fits", fits_bytes([fits.PrimaryHDU(pupil)])[:3000])

    def good(f):
        d = f.create_dataset("map", data=pupil)
        d.attrs["pixelscale_m"] = 0.01
        d.attrs["units"] = "meters"

    def chunked(f):
        f.create_dataset("opd", data=pupil.astype(np.float32), chunks=(2, 2),
                         compression="gzip")

    def integers(f):
        d = f.create_dataset("map", data=pupil.astype(np.uint8))
        d.attrs["units"] = np.bytes_(b"m   ")

    def three_d(f):
        f["map"] = np.zeros((2, 2, 2))

    def two_maps(f):
        f["a"] = pupil
        f["b"] = pupil

    def text_map(f):
        f["map"] = np.array([[b"a", b"b"], [b"c", b"d"]])

    def bad_scale_attr(f):
        f["map"] = pupil
        f["map"].attrs["pixelscale_m"] = "big"

    put(out, "hdf5-good.h5", hdf5_bytes(good))
    put(out, "hdf5-latest.h5", hdf5_bytes(good, latest=True))
    put(out, "hdf5-chunked-gzip.h5", hdf5_bytes(chunked))
    put(out, "hdf5-uint8.h5", hdf5_bytes(integers))
    put(out, "hdf5-3d.h5", hdf5_bytes(three_d))
    put(out, "hdf5-two-maps.h5", hdf5_bytes(two_maps))
    put(out, "hdf5-text.h5", hdf5_bytes(text_map))
    put(out, "hdf5-bad-scale.h5", hdf5_bytes(bad_scale_attr))
    put(out, "hdf5-truncated.h5", hdf5_bytes(good)[:700])
    put(out, "text.txt", "not a map\n")


if __name__ == "__main__":
    job_seeds()
    spectrum_seeds()
    map_seeds()
