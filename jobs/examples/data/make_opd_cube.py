#!/usr/bin/env python3
"""Writes psf_grid_opd_cube.fits, the cube of OPD maps of jobs/examples/psf_grid_cube.yaml:
one 32 x 32 map (nm, 0.075 m per pixel: a 2.4 m pupil) per point of a 3 x 3 field grid over
+-60 arcsec, in the job's order (row-major, y outer, x inner). Each map is the field model of
psf_grid.yaml (defocus, field curvature, astigmatism, coma) plus a ripple no polynomial in the
field gives: 4 nm of mid-frequency polishing error whose phase turns over the field.
Run from this directory: python3 make_opd_cube.py (numpy, astropy)."""
import numpy as np
from astropy.io import fits

n, scale_m, radius_m = 32, 0.075, 1.2
c = (np.arange(n) - (n - 1) / 2) * scale_m / radius_m  # pixel centres, units of the radius
x, y = np.meshgrid(c, c)  # [y][x]
rho2 = x * x + y * y
maps = []
for fy in (-60.0, 0.0, 60.0):
    for fx in (-60.0, 0.0, 60.0):
        z4 = 1.0e-8 + 2.0e-11 * (fx * fx + fy * fy)  # metres of each Noll term
        z5, z6 = 1.5e-11 * 2 * fx * fy, 1.5e-11 * (fx * fx - fy * fy)
        z7, z8 = 6.0e-10 * fy, 6.0e-10 * fx
        opd_m = (z4 * np.sqrt(3) * (2 * rho2 - 1) + z5 * np.sqrt(6) * 2 * x * y
                 + z6 * np.sqrt(6) * (x * x - y * y) + z7 * np.sqrt(8) * (3 * rho2 - 2) * y
                 + z8 * np.sqrt(8) * (3 * rho2 - 2) * x)
        turn = np.arctan2(fy, fx) if fx or fy else 0.0
        ripple_m = 4.0e-9 * np.sin(2 * np.pi * 3 * (x * np.cos(turn) + y * np.sin(turn)))
        maps.append((opd_m + ripple_m) * 1e9)  # nm
header = fits.Header()
header["PIXELSCL"] = (scale_m, "metres per pixel")
header["BUNIT"] = "nm"
header["COMMENT"] = "one OPD map per field point of psf_grid_cube.yaml (make_opd_cube.py)"
fits.PrimaryHDU(np.array(maps, dtype=np.float32), header=header).writeto(
    "psf_grid_opd_cube.fits", overwrite=True)
