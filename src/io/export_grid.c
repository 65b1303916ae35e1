/* `polypsf export OUT.h5 --psf-grid GRID.fits`: a PSF grid as WebbPSF's psf_grid writes one
 * (webbpsf/gridded_library.py, CreatePSFLibrary.create_grid with single_psf_centered false),
 * the file photutils' GriddedPSFModel is made from: the primary HDU the cube [point][y][x] of
 * oversampled PSFs scaled by oversample² (WebbPSF's normalization for GriddedPSFModel, whose
 * evaluation divides by it), and the keywords NUM_PSFS, DET_YX<i> = "(y, x)" (detector pixel
 * of PSF i), OVERSAMP, DET_SAMP, FOVPIXEL, WAVELEN, NWAVES, DIFFLMT, NORMALIZ, DATE.
 * docs/grids.md. Serial (no MPI). */
#define POLYPSF_IO_PACKAGE
#include "io/file_stage.h"
#include "formats/formats_fits.h"
#include "formats/formats_hdf5.h"

#include <fitsio.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/io.h"

/* A float64 dataset of `rank` dimensions, read whole; dims[] gets its shape. */
static pp_status pp_grid_read(hid_t file, const char *path, const char *name, int rank,
                              hsize_t *dims, double **data) {
  pp_status status = PP_SUCCESS;
  hid_t dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  dataset = H5Dopen2(file, name, H5P_DEFAULT);
  PP_CHECK_GOTO(status, dataset >= 0, PP_ERR_INPUT,
                "'%s' has no %s: it is not a PSF grid (its job has no `field:` section)", path,
                name);
  space = H5Dget_space(dataset);
  PP_CHECK_GOTO(status, space >= 0 && H5Sget_simple_extent_ndims(space) == rank, PP_ERR_INPUT,
                "'%s': %s is not %d-dimensional", path, name, rank);
  H5Sget_simple_extent_dims(space, dims, NULL);
  size_t count = 1;
  for (int d = 0; d < rank; d++) count *= (size_t)dims[d];
  PP_CALL_GOTO(status, pp_array_alloc((count ? count : 1) * sizeof(double), (void **)data));
  PP_H5_CHECK_GOTO(status,
                   H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) >= 0,
                   PP_ERR_INPUT, "'%s': cannot read %s", path, name);
done:
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dataset);
  return status;
}

static int pp_grid_fits_keys(fitsfile *f, const pp_result *r, size_t n_points, size_t n_lambda,
                             const double *detector_xy) {
  int st = 0;
  fits_write_key_lng(f, "NUM_PSFS", (long)n_points, "The total number of fiducial PSFs", &st);
  for (size_t p = 0; p < n_points && st == 0; p++) {
    char key[FLEN_KEYWORD], value[FLEN_VALUE], comment[FLEN_COMMENT];
    snprintf(key, sizeof key, "DET_YX%zu", p);
    snprintf(value, sizeof value, "(%.10g, %.10g)", detector_xy[2 * p + 1], detector_xy[2 * p]);
    snprintf(comment, sizeof comment, "The #%zu PSF's (y,x) detector pixel position", p);
    fits_write_key_str(f, key, value, comment, &st);
  }
  fits_write_key_lng(f, "OVERSAMP", r->oversample, "Oversampling factor for FFTs in computation",
                     &st);
  fits_write_key_lng(f, "DET_SAMP", r->oversample,
                     "Oversampling factor for MFT to detector plane", &st);
  fits_write_key_lng(f, "FOVPIXEL", (long)r->detector_nx, "Field of view in pixels (full array)",
                     &st);
  fits_write_key_dbl(f, "PIXELSCL", r->pixelscale_arcsec, -17,
                     "Scale in arcsec/pix (after oversampling)", &st);
  /* the tasks' wavelengths repeat each point's: their weighted mean is one point's */
  double mean = 0.0;
  for (size_t i = 0; i < r->n_wavelengths; i++) mean += r->weights[i] * r->wavelengths_m[i];
  fits_write_key_dbl(f, "WAVELEN", mean, -17, "Weighted mean wavelength in meters", &st);
  fits_write_key_lng(f, "NWAVES", (long)n_lambda, "Number of wavelengths used in calculation", &st);
  fits_write_key_dbl(f, "DIFFLMT", r->wavelengths_m[0] / r->pupil_diameter_m * PP_ARCSEC_PER_RADIAN,
                     -17, "Diffraction limit lambda/D in arcsec", &st);
  fits_write_key_str(f, "NORMALIZ", r->normalization, "PSF normalization method", &st);
  fits_write_key_dbl(f, "GRIDSCAL", (double)r->oversample * r->oversample, -17,
                     "Data are the PSFs times OVERSAMP**2 (WebbPSF psf_grid)", &st);
  char date[FLEN_VALUE];
  snprintf(date, sizeof date, "%.19s", r->creation_date_utc ? r->creation_date_utc : "");
  fits_write_key_str(f, "DATE", date, "Date of calculation", &st);
  fits_write_key_str(f, "SOFTWARE", "polypsf", "Software that computed the PSFs", &st);
  return st;
}

pp_status pp_export_psf_grid(const char *input_path, const char *fits_path, bool force) {
  pp_status status = PP_SUCCESS;
  pp_result *r = NULL;
  pp_io_stage stage = {0};
  fitsfile *f = NULL;
  hid_t file = H5I_INVALID_HID;
  double *psfs = NULL, *detector_xy = NULL;
  hsize_t dims[3] = {0}, xy_dims[2] = {0};
  int st = 0;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);

  /* Everything about the input is checked before anything is created. */
  PP_CALL_GOTO(status, pp_result_load(input_path, &r));
  PP_CALL_GOTO(status, pp_result_check_complete(r));
  PP_CALL_GOTO(status, pp_formats_hdf5_open_read(input_path, &file));
  PP_CALL_GOTO(status, pp_grid_read(file, input_path, "/grid/psf", 3, dims, &psfs));
  PP_CALL_GOTO(status, pp_grid_read(file, input_path, "/grid/detector_xy", 2, xy_dims,
                                    &detector_xy));
  double n_lambda = 0.0;
  PP_CALL_GOTO(status, pp_formats_hdf5_read_number_attribute(file, input_path, "/grid",
                                                             "n_wavelengths", &n_lambda));
  PP_CHECK_GOTO(status, xy_dims[0] == dims[0] && xy_dims[1] == 2, PP_ERR_INPUT,
                "'%s' is damaged: /grid/detector_xy does not hold one pair per PSF", input_path);
  PP_CALL_GOTO(status, pp_io_stage_begin(fits_path, input_path, force, "FITS file", &stage));

  fits_create_diskfile(&f, stage.file_path, &st);
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot create '%s'", stage.file_path);
  long naxes[3] = {(long)dims[2], (long)dims[1], (long)dims[0]};
  fits_create_img(f, DOUBLE_IMG, 3, naxes, &st);
  if (st == 0) st = pp_grid_fits_keys(f, r, (size_t)dims[0], (size_t)n_lambda, detector_xy);
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot write the header of '%s'", fits_path);
  size_t count = (size_t)(dims[0] * dims[1] * dims[2]);
  double scale = (double)r->oversample * (double)r->oversample;
  for (size_t q = 0; q < count; q++) psfs[q] *= scale;
  fits_write_img(f, TDOUBLE, 1, (LONGLONG)count, psfs, &st);
  fits_write_chksum(f, &st);
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot write the PSFs to '%s'", fits_path);
  fits_close_file(f, &st);
  f = NULL;
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot finish '%s'", fits_path);
  PP_CALL_GOTO(status, pp_io_stage_publish(&stage, force));
done:
  if (f) {
    int ignored = 0;
    fits_close_file(f, &ignored);
    fits_clear_errmsg();
  }
  pp_io_stage_abort(&stage);
  pp_array_free(&psfs);
  pp_array_free(&detector_xy);
  pp_formats_hdf5_read_end(&file, &quiet);
  pp_result_destroy(&r);
  return status;
}

pp_status pp_result_read_grid(const pp_result *result, pp_result_grid *grid) {
  *grid = (pp_result_grid){0};
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  hsize_t dims[3] = {0}, point_dims[2] = {0};
  PP_CALL_GOTO(status, pp_formats_hdf5_open_read(result->path, &file));
  if (H5Lexists(file, "/grid", H5P_DEFAULT) <= 0) goto done; /* not a grid */
  PP_CALL_GOTO(status, pp_grid_read(file, result->path, "/grid/psf", 3, dims, &grid->psf));
  PP_CALL_GOTO(status, pp_grid_read(file, result->path, "/grid/points", 2, point_dims,
                                    &grid->points));
  PP_CHECK_GOTO(status, point_dims[0] == dims[0] && point_dims[1] == 2, PP_ERR_INPUT,
                "'%s' is damaged: /grid/points does not hold one pair per PSF", result->path);
  grid->n_points = (size_t)dims[0];
  grid->ny = (size_t)dims[1];
  grid->nx = (size_t)dims[2];
done:
  if (status) pp_result_grid_free(grid);
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}

void pp_result_grid_free(pp_result_grid *grid) {
  pp_array_free(&grid->psf);
  pp_array_free(&grid->points);
  grid->n_points = 0;
}
