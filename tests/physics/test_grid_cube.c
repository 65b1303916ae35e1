/* A PSF grid whose field dependence comes from a cube of OPD maps (fits_optical_element, one
 * map per field point) against the same grid through zernike_wfe's field_coefficients.
 *
 * Truth, independent of the code under test: the cube is written here, map p being the OPD
 * Σ_j c[p][j]·Z_j of point p's Noll coefficients evaluated from the Zernike polynomials'
 * Cartesian forms (Z2 = 2x, Z4 = √3(2ρ² − 1), Z5 = 2√6·xy, Z6 = √6(x² − y²), Z7 = √8(3ρ² −
 * 2)·y, Z8 = √8(3ρ² − 2)·x; x, y in units of the radius) at the pupil's pixel centres, 0
 * outside the radius (where zernike_wfe's terms are 0), laid pixel for pixel (its pixel scale
 * is the pupil's). The two jobs then build the same OPD up to the rounding of two
 * evaluations of the same polynomials (a few ulp of ~1e-7 m: phase differences ~1e-15 rad at
 * 1 µm), so every point's /grid/psf must agree to 1e-12 of its peak: far below any physical
 * difference (the test also checks that neighbouring points' PSFs differ by more than 1e-3
 * of the peak, so a wrong map for a point cannot pass). FORMAT: fits (a FITS cube, PIXELSCL
 * and BUNIT in its header) or hdf5 (an HDF5 [point][y][x] dataset with pixelscale_m and
 * units attributes, beside a 2-D transmission map of ones: 2-D and cube maps mix).
 * Usage: test_grid_cube fits|hdf5 */
#include <fitsio.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "compare.h"
#include "h5_read.h"
#include "pp_test.h"

enum { NPIX = 128, N_POINTS = 5, N_NOLL = 8 };
static const double radius_m = 1.2;
static const double points_arcsec[N_POINTS][2] = {
    {-60, -60}, {60, -60}, {0, 0}, {-60, 60}, {60, 60}};
/* Noll 1 … 8 per point, metres: tilt, defocus, astigmatism and coma changing over the field */
static const double coefficients_m[N_POINTS][N_NOLL] = {
    {0, 2e-9, 0, 3e-8, 1.5e-8, -1e-8, 2e-8, 1e-8},
    {0, 0, -1e-9, -2e-8, 0, 2.5e-8, -1e-8, 3e-8},
    {0, 0, 0, 1e-8, 0, 0, 0, 0},
    {0, -1e-9, 0, 2e-8, -2e-8, 1e-8, 1e-8, -2e-8},
    {0, 0, 1e-9, -1e-8, 1e-8, 0, -3e-8, 0}};

/* Σ_j c[j]·Z_j(x, y), x and y in units of the radius, ρ ≤ 1 (Noll's normalization). */
static double zernike_opd_m(const double *c, double x, double y) {
  double rho2 = x * x + y * y;
  return c[0] + c[1] * 2.0 * x + c[2] * 2.0 * y + c[3] * sqrt(3.0) * (2.0 * rho2 - 1.0) +
         c[4] * sqrt(6.0) * 2.0 * x * y + c[5] * sqrt(6.0) * (x * x - y * y) +
         c[6] * sqrt(8.0) * (3.0 * rho2 - 2.0) * y + c[7] * sqrt(8.0) * (3.0 * rho2 - 2.0) * x;
}

/* The cube [point][y][x] on the pupil's pixel centres ((i − (n − 1)/2)·pixelscale). */
static double *opd_cube(double pixelscale_m) {
  double *cube = malloc((size_t)N_POINTS * NPIX * NPIX * sizeof *cube);
  if (!cube) return NULL;
  for (size_t p = 0; p < N_POINTS; p++)
    for (size_t iy = 0; iy < NPIX; iy++)
      for (size_t ix = 0; ix < NPIX; ix++) {
        double x_m = ((double)ix - (NPIX - 1) / 2.0) * pixelscale_m;
        double y_m = ((double)iy - (NPIX - 1) / 2.0) * pixelscale_m;
        bool inside = sqrt(x_m * x_m + y_m * y_m) <= radius_m;
        cube[(p * NPIX + iy) * NPIX + ix] =
            inside ? zernike_opd_m(coefficients_m[p], x_m / radius_m, y_m / radius_m) : 0.0;
      }
  return cube;
}

static bool write_fits_cube(const char *path, const double *cube, double pixelscale_m) {
  unlink(path);
  fitsfile *f = NULL;
  int st = 0;
  long axes[3] = {NPIX, NPIX, N_POINTS};
  fits_create_diskfile(&f, path, &st);
  fits_create_img(f, DOUBLE_IMG, 3, axes, &st);
  fits_write_key(f, TDOUBLE, "PIXELSCL", &pixelscale_m, "m/pixel", &st);
  fits_write_key(f, TSTRING, "BUNIT", "m", NULL, &st);
  fits_write_img(f, TDOUBLE, 1, (LONGLONG)N_POINTS * NPIX * NPIX, (double *)cube, &st);
  fits_close_file(f, &st);
  return st == 0;
}

/* dataset `name` of rank `rank` in a new file, with pixelscale_m and units = "m" */
static bool write_h5_map(const char *path, const char *name, int rank, const hsize_t *dims,
                         const double *values, double pixelscale_m) {
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t dset = H5Dcreate2(file, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
  bool ok = file >= 0 && dset >= 0 &&
            H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0;
  hid_t scalar = H5Screate(H5S_SCALAR), text = H5Tcopy(H5T_C_S1);
  H5Tset_size(text, 1);
  hid_t scale = H5Acreate2(dset, "pixelscale_m", H5T_IEEE_F64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
  hid_t units = H5Acreate2(dset, "units", text, scalar, H5P_DEFAULT, H5P_DEFAULT);
  ok = ok && H5Awrite(scale, H5T_NATIVE_DOUBLE, &pixelscale_m) >= 0 &&
       H5Awrite(units, text, "m") >= 0;
  H5Aclose(units);
  H5Aclose(scale);
  H5Tclose(text);
  H5Sclose(scalar);
  H5Dclose(dset);
  H5Sclose(space);
  H5Fclose(file);
  return ok;
}

/* The common part of both jobs: pupil, two wavelengths, the field points, the detector. */
static int job_head(char *yaml, size_t size) {
  int len = snprintf(yaml, size,
                     "pupil: {npix: %d}\nwavelengths: {list: [1.0e-6, 1.4e-6], weights: [1, 1]}\n"
                     "detector: {pixelscale: 0.03, fov_pixels: 48, oversample: 2}\n"
                     "field:\n  points: [",
                     NPIX);
  for (size_t p = 0; p < N_POINTS; p++)
    len += snprintf(yaml + len, size - (size_t)len, "%s[%g, %g]", p ? ", " : "",
                    points_arcsec[p][0], points_arcsec[p][1]);
  len += snprintf(yaml + len, size - (size_t)len,
                  "]\noptics:\n  - circular_aperture: {radius: %.17g}\n", radius_m);
  return len;
}

/* Parses and runs yaml; /grid/psf (malloc'ed) or NULL. */
static double *run_grid(const char *yaml, const char *name, const char *out_path, size_t image) {
  pp_job *job = NULL;
  pp_status status = pp_job_parse_string(yaml, strlen(yaml), name, &job);
  PP_TEST_OK(status, name);
  if (status) return NULL;
  pp_run_options options = {.force = true};
  pp_run_summary summary;
  status = pp_run(job, &options, MPI_COMM_WORLD, &summary);
  PP_TEST_OK(status, "run");
  pp_job_destroy(&job);
  if (status) return NULL;
  hsize_t dims[4];
  int nd = 0;
  double *psf = pp_h5_read(out_path, "/grid/psf", dims, &nd, NULL);
  bool shape = psf && nd == 3 && dims[0] == N_POINTS && dims[1] * dims[2] == image;
  PP_TEST_TRUE(shape, "/grid/psf read, one PSF per point");
  if (!shape) {
    free(psf);
    return NULL;
  }
  return psf;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  const char *format = argc > 1 ? argv[1] : "";
  bool hdf5 = strcmp(format, "hdf5") == 0;
  if (!hdf5 && strcmp(format, "fits") != 0) {
    fprintf(stderr, "usage: test_grid_cube fits|hdf5\n");
    MPI_Finalize();
    return 1;
  }
  const double pixelscale_m = 2.0 * radius_m / NPIX; /* the pupil's: NPIX × scale = 2 × radius */
  const size_t image = 96 * 96;                      /* fov_pixels × oversample, squared */
  char cube_path[256], ones_path[256], out_cube[256], out_zernike[256];
  snprintf(cube_path, sizeof cube_path, "grid_cube_opd.%s", hdf5 ? "h5" : "fits");
  snprintf(ones_path, sizeof ones_path, "grid_cube_ones.h5");
  snprintf(out_cube, sizeof out_cube, "grid_cube_%s.h5", format);
  snprintf(out_zernike, sizeof out_zernike, "grid_cube_zernike_%s.h5", format);

  double *cube = opd_cube(pixelscale_m);
  PP_TEST_TRUE(cube != NULL, "cube computed");
  bool written = false;
  if (cube && hdf5) {
    hsize_t dims[3] = {N_POINTS, NPIX, NPIX};
    double *ones = malloc(NPIX * NPIX * sizeof *ones);
    for (size_t v = 0; ones && v < NPIX * NPIX; v++) ones[v] = 1.0;
    written = ones && write_h5_map(cube_path, "/opd", 3, dims, cube, pixelscale_m) &&
              write_h5_map(ones_path, "/transmission", 2, dims + 1, ones, pixelscale_m);
    free(ones);
  } else if (cube) {
    written = write_fits_cube(cube_path, cube, pixelscale_m);
  }
  free(cube);
  PP_TEST_TRUE(written, "cube file written");

  char yaml[8192];
  int len = job_head(yaml, sizeof yaml);
  if (hdf5)
    snprintf(yaml + len, sizeof yaml - (size_t)len,
             "  - fits_optical_element: {opd: '%s:/opd', transmission: '%s:/transmission'}\n"
             "output: {path: %s}\n",
             cube_path, ones_path, out_cube);
  else
    snprintf(yaml + len, sizeof yaml - (size_t)len,
             "  - fits_optical_element: {opd: %s}\noutput: {path: %s}\n", cube_path, out_cube);
  double *from_cube = written ? run_grid(yaml, "grid_cube", out_cube, image) : NULL;

  len = job_head(yaml, sizeof yaml);
  len += snprintf(yaml + len, sizeof yaml - (size_t)len,
                  "  - zernike_wfe:\n      radius: %.17g\n      coefficients: [0]\n"
                  "      field_coefficients:\n",
                  radius_m);
  for (size_t p = 0; p < N_POINTS; p++) {
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "        - [");
    for (size_t j = 0; j < N_NOLL; j++)
      len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", j ? ", " : "",
                      coefficients_m[p][j]);
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "]\n");
  }
  snprintf(yaml + len, sizeof yaml - (size_t)len, "output: {path: %s}\n", out_zernike);
  double *from_zernike = run_grid(yaml, "grid_zernike", out_zernike, image);

  if (from_cube && from_zernike) {
    double worst = 0.0, least_between = INFINITY;
    for (size_t p = 0; p < N_POINTS; p++) {
      worst = fmax(worst,
                   pp_worst_relative(from_cube + p * image, from_zernike + p * image, image));
      size_t q = (p + 1) % N_POINTS;
      least_between = fmin(least_between, pp_worst_relative(from_zernike + q * image,
                                                            from_zernike + p * image, image));
    }
    printf("grid from a %s cube: worst point %.3g of the field_coefficients grid's peak; "
           "neighbouring points differ by at least %.3g\n",
           format, worst, least_between);
    PP_TEST_NEAR(worst, 0.0, 1e-12, "every point's PSF within 1e-12 of the zernike_wfe grid's");
    PP_TEST_TRUE(least_between > 1e-3, "the points' PSFs differ (a wrong map would show)");
  }
  free(from_cube);
  free(from_zernike);
  int failed = pp_test_finish();
  MPI_Finalize();
  return failed;
}
