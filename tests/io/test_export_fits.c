/* io, FITS export: a known output file (non-square, so a transposition shows) exported
 * and read back with cfitsio. Data bit for bit; POPPY's keywords with independently
 * computed values; the HDU layout; the temporary name; refusals that write nothing.
 * One MPI process (writing the HDF5 file needs MPI). */
#include <fitsio.h>
#include <mpi.h>

#include "pp_test.h"
#include "result_test_support.h"

static const char job_text[] =
    "# export test job (UTF-8 on purpose: λ, ″ become ? in FITS)\n"
    "pupil: {npix: 64}\n"
    "\tdetector: {pixelscale: 0.05}\n";

/* Reads the whole image of the current HDU as float64 into a new array. */
static double *read_image(fitsfile *f, int want_naxis, const long *want_naxes, int *st) {
  int naxis = 0;
  long naxes[3] = {0, 0, 0};
  fits_get_img_dim(f, &naxis, st);
  fits_get_img_size(f, 3, naxes, st);
  if (*st || naxis != want_naxis) return NULL;
  size_t count = 1;
  for (int i = 0; i < naxis; i++) {
    if (naxes[i] != want_naxes[i]) return NULL;
    count *= (size_t)naxes[i];
  }
  double *values = malloc(count * sizeof *values);
  int anynul = 0;
  fits_read_img(f, TDOUBLE, 1, (LONGLONG)count, NULL, values, &anynul, st);
  return values;
}

static double key_double(fitsfile *f, const char *name, int *st) {
  double value = NAN;
  fits_read_key(f, TDOUBLE, name, &value, NULL, st);
  return value;
}

static long key_long(fitsfile *f, const char *name, int *st) {
  long value = -1;
  fits_read_key(f, TLONG, name, &value, NULL, st);
  return value;
}

static void key_string(fitsfile *f, const char *name, char value[FLEN_VALUE], int *st) {
  value[0] = '\0';
  fits_read_key(f, TSTRING, name, value, NULL, st);
}

static void check_fits(const result_test_file *rf, const char *h5, const char *fits, bool cube) {
  fitsfile *f = NULL;
  int st = 0, n_hdus = 0;
  char value[FLEN_VALUE], what[160];
  fits_open_diskfile(&f, fits, READONLY, &st);
  PP_TEST_TRUE(st == 0, "cfitsio opens the exported file");
  if (st) return;
  fits_get_num_hdus(f, &n_hdus, &st);
  PP_TEST_TRUE(n_hdus == (cube ? 4 : 3), cube ? "4 HDUs: OVERSAMP, DET_SAMP, CUBE, WAVELENGTHS"
                                              : "3 HDUs: OVERSAMP, DET_SAMP, WAVELENGTHS");
  size_t n = rf->t.job.n_wavelengths;
  int os = rf->t.job.detector.oversample;
  double diameter = rf->t.meta.geometry.pupil_diameter_m;

  /* primary: the oversampled PSF, [y][x] as in HDF5 with NAXIS1 = nx */
  long naxes[3] = {(long)rf->nx, (long)rf->ny, (long)n};
  double *data = read_image(f, 2, naxes, &st);
  PP_TEST_TRUE(data && memcmp(data, rf->psf, rf->ny * rf->nx * sizeof *data) == 0,
               "primary data = /psf bit for bit, NAXIS1 = nx (x fastest), no flip");
  free(data);
  key_string(f, "EXTNAME", value, &st);
  PP_TEST_TRUE(strcmp(value, "OVERSAMP") == 0, "primary EXTNAME = OVERSAMP (POPPY)");
  PP_TEST_NEAR(key_double(f, "PIXELSCL", &st), 0.05 / os, 0.0, "primary PIXELSCL = 0.05/os arcsec, exact");
  PP_TEST_NEAR((double)key_long(f, "OVERSAMP", &st), os, 0.0, "primary OVERSAMP = oversample");
  PP_TEST_NEAR((double)key_long(f, "DET_SAMP", &st), os, 0.0, "primary DET_SAMP = oversample");
  PP_TEST_NEAR((double)key_long(f, "NWAVES", &st), (double)n, 0.0, "NWAVES");
  double mean = 0.0, weights = 0.0;
  for (size_t i = 0; i < n; i++) {
    char key[32];
    snprintf(key, sizeof key, "WAVE%zu", i);
    snprintf(what, sizeof what, "%s = wavelength %zu, exact", key, i);
    PP_TEST_NEAR(key_double(f, key, &st), rf->t.wavelengths_m[i], 0.0, what);
    snprintf(key, sizeof key, "WGHT%zu", i);
    snprintf(what, sizeof what, "%s = weight %zu, exact", key, i);
    PP_TEST_NEAR(key_double(f, key, &st), rf->t.weights[i], 0.0, what);
    mean += rf->t.weights[i] * rf->t.wavelengths_m[i];
    weights += rf->t.weights[i];
  }
  PP_TEST_NEAR(key_double(f, "WAVELEN", &st), mean / weights, 1e-22,
               "WAVELEN = weighted mean wavelength (m)");
  PP_TEST_NEAR(key_double(f, "DIFFLMT", &st),
               rf->t.wavelengths_m[0] / diameter * (180.0 * 3600.0 / 3.14159265358979323846), 1e-14,
               "DIFFLMT = λ_0/D in arcsec (POPPY: the first wavelength's header)");
  PP_TEST_NEAR(key_double(f, "FOV_X", &st), 0.05 / os * (double)rf->nx, 1e-14, "FOV_X (arcsec)");
  PP_TEST_NEAR(key_double(f, "FOV_Y", &st), 0.05 / os * (double)rf->ny, 1e-14, "FOV_Y (arcsec)");
  key_string(f, "NORMALIZ", value, &st);
  PP_TEST_TRUE(strcmp(value, "first") == 0, "NORMALIZ = first");
  char *created = NULL;
  pp_status s = pp_output_read_string_attribute(h5, "/", "creation_date_utc", &created);
  key_string(f, "DATE", value, &st);
  PP_TEST_TRUE(s == PP_SUCCESS && strlen(value) == 19 && strncmp(value, created, 19) == 0 &&
                   value[10] == 'T',
               "DATE = YYYY-MM-DDTHH:MM:SS of the file's creation (UTC, POPPY's form)");
  pp_status_free(s);
  free(created);
  key_string(f, "VERSION", value, &st);
  PP_TEST_TRUE(strcmp(value, pp_version()) == 0, "VERSION = polypsf version");
  key_string(f, "JOBFILE", value, &st);
  PP_TEST_TRUE(strcmp(value, "hand-built.yaml") == 0, "JOBFILE = the job's source name");
  int verify_data = 0, verify_header = 0;
  fits_verify_chksum(f, &verify_data, &verify_header, &st);
  PP_TEST_TRUE(verify_data == 1 && verify_header == 1, "primary CHECKSUM and DATASUM verify");
  snprintf(what, sizeof what, "primary keywords read (cfitsio status %d)", st);
  PP_TEST_TRUE(st == 0, what);
  st = 0;

  /* DET_SAMP */
  fits_movnam_hdu(f, IMAGE_HDU, "DET_SAMP", 0, &st);
  PP_TEST_TRUE(st == 0, "extension DET_SAMP exists");
  long det_naxes[2] = {(long)rf->detector_nx, (long)rf->detector_ny};
  data = read_image(f, 2, det_naxes, &st);
  PP_TEST_TRUE(data && memcmp(data, rf->detector, rf->detector_ny * rf->detector_nx * sizeof *data) == 0,
               "DET_SAMP data = /psf_detector bit for bit");
  free(data);
  PP_TEST_NEAR(key_double(f, "PIXELSCL", &st), 0.05, 0.0, "DET_SAMP PIXELSCL = detector pixel");
  PP_TEST_NEAR((double)key_long(f, "OVERSAMP", &st), 1.0, 0.0, "DET_SAMP OVERSAMP = 1 (POPPY)");
  PP_TEST_NEAR((double)key_long(f, "CALCSAMP", &st), os, 0.0, "DET_SAMP CALCSAMP = oversample");
  PP_TEST_NEAR((double)key_long(f, "DET_SAMP", &st), os, 0.0, "DET_SAMP DET_SAMP = oversample");
  PP_TEST_NEAR(key_double(f, "WAVE1", &st), rf->t.wavelengths_m[1], 0.0,
               "DET_SAMP carries the primary's keywords (WAVE1)");
  snprintf(what, sizeof what, "DET_SAMP keywords read (cfitsio status %d)", st);
  PP_TEST_TRUE(st == 0, what);
  st = 0;

  if (cube) {
    fits_movnam_hdu(f, IMAGE_HDU, "CUBE", 0, &st);
    PP_TEST_TRUE(st == 0, "extension CUBE exists");
    data = read_image(f, 3, naxes, &st);
    PP_TEST_TRUE(data && memcmp(data, rf->slices, n * rf->ny * rf->nx * sizeof *data) == 0,
                 "CUBE data = /cube bit for bit, [λ][y][x]");
    free(data);
    for (size_t i = 0; i < n; i++) {
      char key[32];
      snprintf(key, sizeof key, "WAVELN%02zu", i);
      snprintf(what, sizeof what, "CUBE %s = wavelength %zu (POPPY's calc_datacube)", key, i);
      PP_TEST_NEAR(key_double(f, key, &st), rf->t.wavelengths_m[i], 0.0, what);
    }
    snprintf(what, sizeof what, "CUBE keywords read (cfitsio status %d)", st);
    PP_TEST_TRUE(st == 0, what);
    st = 0;
  }

  fits_movnam_hdu(f, BINARY_TBL, "WAVELENGTHS", 0, &st);
  PP_TEST_TRUE(st == 0, "table WAVELENGTHS exists");
  double column[IO_TEST_MAX_WAVELENGTHS];
  int anynul = 0;
  fits_read_col(f, TDOUBLE, 1, 1, 1, (LONGLONG)n, NULL, column, &anynul, &st);
  PP_TEST_TRUE(st == 0 && memcmp(column, rf->t.wavelengths_m, n * sizeof *column) == 0,
               "WAVELENGTHS column 1 = /wavelengths");
  fits_read_col(f, TDOUBLE, 2, 1, 1, (LONGLONG)n, NULL, column, &anynul, &st);
  PP_TEST_TRUE(st == 0 && memcmp(column, rf->t.weights, n * sizeof *column) == 0,
               "WAVELENGTHS column 2 = /weights");
  fits_close_file(f, &st);
}

static void test_export(const char *dir) {
  char h5[4096], fits[4096], partial_h5[4096], missing[4096];
  IO_TEST_PATH(h5, "%s/result.h5", dir);
  IO_TEST_PATH(fits, "%s/psf.fits", dir);
  result_test_file rf;
  result_test_init(&rf, 3, 6, 5, 2, true, job_text, 4.3, 5.6, 1.7);
  PP_TEST_TRUE(result_test_write(&rf, h5, 3, false), "known output file written");

  pp_fits_export_options with_cube = {.cube = true, .force = false};
  PP_TEST_OK(pp_export_fits(h5, fits, &with_cube), "export with the cube");
  check_fits(&rf, h5, fits, true);
  PP_TEST_TRUE(io_test_count_entries(dir) == 2, "only result.h5 and psf.fits in the directory");

  /* an existing FITS file: refused without force, untouched; replaced with force */
  size_t size_before = 0, size_after = 0;
  unsigned char *before = io_test_read_bytes(fits, &size_before);
  pp_status s = pp_export_fits(h5, fits, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "--force"),
               "existing FITS file without force: PP_ERR_INPUT mentioning --force");
  pp_status_free(s);
  unsigned char *after = io_test_read_bytes(fits, &size_after);
  PP_TEST_TRUE(before && after && size_before == size_after &&
                   memcmp(before, after, size_before) == 0,
               "the existing FITS file is untouched");
  free(before);
  free(after);
  pp_fits_export_options force = {.cube = false, .force = true};
  PP_TEST_OK(pp_export_fits(h5, fits, &force), "export with force replaces it (no cube)");
  check_fits(&rf, h5, fits, false);
  PP_TEST_TRUE(io_test_count_entries(dir) == 2, "no temporary file or directory left");

  /* refusals that write nothing */
  IO_TEST_PATH(missing, "%s/no/such/dir/psf.fits", dir);
  s = pp_export_fits(h5, missing, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "does not exist"),
               "FITS path in a missing directory: PP_ERR_INPUT");
  pp_status_free(s);
  IO_TEST_PATH(missing, "%s/nothing.h5", dir);
  IO_TEST_PATH(fits, "%s/other.fits", dir);
  s = pp_export_fits(missing, fits, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && !io_test_exists(fits),
               "missing input: PP_ERR_INPUT, nothing written");
  pp_status_free(s);
  s = pp_export_fits(dir, fits, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && !io_test_exists(fits),
               "a directory as input: PP_ERR_INPUT, nothing written");
  pp_status_free(s);

  result_test_file no_cube;
  result_test_init(&no_cube, 2, 4, 4, 1, false, job_text, 1.5, 1.5, 1.0);
  IO_TEST_PATH(h5, "%s/nocube.h5", dir);
  PP_TEST_TRUE(result_test_write(&no_cube, h5, 2, false), "output without cube written");
  s = pp_export_fits(h5, fits, &with_cube);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "cube") &&
                   !io_test_exists(fits),
               "--cube without /cube: PP_ERR_INPUT, nothing written");
  pp_status_free(s);
  unlink(h5);

  /* an unfinished run's file: /psf is not final */
  IO_TEST_PATH(h5, "%s/stopped.h5", dir);
  IO_TEST_PATH(partial_h5, "%s/stopped.h5.partial", dir);
  result_test_file stopped;
  result_test_init(&stopped, 3, 4, 4, 1, true, job_text, 1.5, 1.5, 1.0);
  PP_TEST_TRUE(result_test_write(&stopped, h5, 2, true), "stopped run's .partial written");
  s = pp_export_fits(partial_h5, fits, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "2 of 3") &&
                   !io_test_exists(fits),
               "unfinished file (2 of 3 completed): PP_ERR_INPUT, nothing written");
  pp_status_free(s);
  unlink(partial_h5);
  IO_TEST_PATH(h5, "%s/result.h5", dir);
  unlink(h5);
  IO_TEST_PATH(fits, "%s/psf.fits", dir);
  unlink(fits);
  PP_TEST_TRUE(io_test_count_entries(dir) == 0, "nothing else was left in the directory");
  result_test_free(&rf);
  result_test_free(&no_cube);
  result_test_free(&stopped);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  char dir[4096];
  if (!io_test_make_dir(dir, sizeof dir)) {
    printf("FAIL cannot make a temporary directory\n");
    MPI_Finalize();
    return 1;
  }
  test_export(dir);
  io_test_remove_dir(dir);
  MPI_Finalize();
  return pp_test_finish();
}
