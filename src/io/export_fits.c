/* `polypsf export --fits`: an output file as the FITS file POPPY's calc_psf would have
 * written (docs/export.md). Facts taken from POPPY (spacetelescope/poppy):
 *   poppy_core.py Wavefront.as_fits      PIXELSCL "Scale in arcsec/pix (after oversampling)",
 *                                        FOV or FOV_X/FOV_Y, DIFFLMT, OVERSAMP, DET_SAMP
 *   poppy_core.py OpticalSystem.calc_psf WAVELEN (weighted mean), NWAVES, WAVE<i>, WGHT<i>,
 *                                        NORMALIZ; the header is the first wavelength's, so
 *                                        DIFFLMT is λ_0/D of wavelength 0
 *   instrument.py Instrument._get_fits_header        EXTNAME OVERSAMP, DATE (UTC, no zone),
 *                                                    HISTORY "Created by POPPY version …"
 *   instrument.py Instrument._calc_psf_format_output extension DET_SAMP: a copy of the primary
 *                                        header with OVERSAMP 1, CALCSAMP, PIXELSCL × oversample
 *   instrument.py Instrument.calc_datacube           WAVELN%02d (< 100 slices) or WVLN%04d
 * FITS stores NAXIS1 (x) fastest, so writing the row-major [y][x] array as it is gives
 * astropy the same [y][x] array h5py gives: no flip. */
#define POLYPSF_IO_PACKAGE
#include "io/file_stage.h"
#include "formats/formats_fits.h"

#include <fitsio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/io.h"

/* Most lines of the job text copied into COMMENT cards (the whole text is in the HDF5). */
enum { PP_FITS_MAX_JOB_LINES = 1000 };

/* Σ w_i λ_i / Σ w_i, as POPPY's WAVELEN. */
static double pp_fits_mean_wavelength(const pp_result *r) {
  double sum = 0.0, weights = 0.0;
  for (size_t i = 0; i < r->n_wavelengths; i++) {
    sum += r->weights[i] * r->wavelengths_m[i];
    weights += r->weights[i];
  }
  return weights > 0.0 ? sum / weights : r->wavelengths_m[0];
}

/* FITS header text must be printable ASCII: anything else becomes '?'. */
static void pp_fits_ascii(char *text) {
  for (unsigned char *c = (unsigned char *)text; *c; c++)
    if (*c < 32 || *c > 126) *c = '?';
}

/* Keywords every image HDU gets (POPPY copies the primary header into DET_SAMP). The
 * pixel scale, OVERSAMP and EXTNAME differ per HDU and are written by the caller. Returns
 * the cfitsio status. */
static int pp_fits_write_common_keys(fitsfile *f, const pp_result *r, size_t ny, size_t nx,
                                     double pixelscale_arcsec) {
  int st = 0;
  char text[FLEN_VALUE], key[FLEN_KEYWORD], comment[FLEN_COMMENT];
  if (r->pixelscale_m > 0.0) {
    /* A Fresnel result: POPPY's as_fits for a plane in metres writes PIXUNIT 'meter' and no
     * field of view in arcsec. */
    fits_write_key_str(f, "PIXUNIT", "meter", "Unit for PIXELSCL", &st);
  } else if (nx == ny) {
    fits_write_key_dbl(f, "FOV", pixelscale_arcsec * (double)nx, -15,
                       "Field of view in arcsec (full array)", &st);
  } else {
    fits_write_key_dbl(f, "FOV_X", pixelscale_arcsec * (double)nx, -15,
                       "Field of view in arcsec (full array), X direction", &st);
    fits_write_key_dbl(f, "FOV_Y", pixelscale_arcsec * (double)ny, -15,
                       "Field of view in arcsec (full array), Y direction", &st);
    fits_write_key_str(f, "PIXUNIT", "arcsecond", NULL, &st);
  }
  fits_write_key_lng(f, "DET_SAMP", r->oversample, "Oversampling factor for MFT to detector plane",
                     &st);
  fits_write_key_dbl(f, "WAVELEN", pp_fits_mean_wavelength(r), -17,
                     "Weighted mean wavelength in meters", &st);
  if (r->pixelscale_m <= 0.0)
    fits_write_key_dbl(f, "DIFFLMT",
                       r->wavelengths_m[0] / r->pupil_diameter_m * PP_ARCSEC_PER_RADIAN, -15,
                       "Diffraction limit lambda/D in arcsec, WAVE0", &st);
  fits_write_key_lng(f, "NWAVES", (long)r->n_wavelengths, "Number of wavelengths used in calculation",
                     &st);
  /* WAVE9999 is the longest name that fits 8 characters; more are in the WAVELENGTHS table. */
  for (size_t i = 0; i < r->n_wavelengths && i < 10000 && st == 0; i++) {
    snprintf(key, sizeof key, "WAVE%zu", i);
    snprintf(comment, sizeof comment, "Wavelength %zu", i);
    fits_write_key_dbl(f, key, r->wavelengths_m[i], -17, comment, &st);
    snprintf(key, sizeof key, "WGHT%zu", i);
    snprintf(comment, sizeof comment, "Wavelength weight %zu", i);
    fits_write_key_dbl(f, key, r->weights[i], -17, comment, &st);
  }
  fits_write_key_str(f, "NORMALIZ", r->normalization, "PSF normalization method", &st);
  fits_write_key_str(f, "METHOD", r->method, "Propagation method the job asked for", &st);
  fits_write_key_dbl(f, "DIAM", r->pupil_diameter_m, -15, "Pupil array width in meters", &st);
  fits_write_key_lng(f, "NPIX", (long)r->pupil_npix, "Pupil array size in pixels", &st);
  /* POPPY's DATE is "YYYY-MM-DDTHH:MM:SS" in UTC; the file's creation date is the
   * calculation's, written with a trailing Z. */
  snprintf(text, sizeof text, "%.19s", r->creation_date_utc);
  fits_write_key_str(f, "DATE", text, "Date of calculation", &st);
  fits_write_key_str(f, "SOFTWARE", "polypsf", "Software that computed the PSF", &st);
  snprintf(text, sizeof text, "%s", r->software_version);
  pp_fits_ascii(text);
  fits_write_key_str(f, "VERSION", text, "polypsf software version", &st);
  fits_write_key_lng(f, "NRANKS", r->n_ranks, "MPI ranks of the run", &st);
  return st;
}

/* The job file as it was run: JOBFILE, the HISTORY line POPPY writes, and (with_text) the
 * job text as COMMENT cards. */
static int pp_fits_write_job(fitsfile *f, const pp_result *r, bool with_text) {
  int st = 0;
  char *source = strdup(r->job_source), *text = strdup(r->job_text);
  if (!source || !text) {
    free(source);
    free(text);
    return MEMORY_ALLOCATION;
  }
  pp_fits_ascii(source);
  if (strlen(source) > 68) fits_write_key_longwarn(f, &st); /* the CONTINUE convention */
  fits_write_key_longstr(f, "JOBFILE", source, "job file as given to polypsf run", &st);
  char history[FLEN_COMMENT + 80];
  snprintf(history, sizeof history, "Created by polypsf version %.40s", r->software_version);
  pp_fits_ascii(history);
  fits_write_history(f, history, &st);
  if (!with_text) {
    free(source);
    free(text);
    return st;
  }
  fits_write_comment(f, "The job file follows (the HDF5 root attribute job_text has it byte for byte):",
                     &st);
  size_t lines = 0;
  for (char *line = text; line && *line && st == 0; lines++) {
    char *end = strchr(line, '\n');
    if (end) *end = '\0';
    if (lines == PP_FITS_MAX_JOB_LINES) {
      fits_write_comment(f, "job: ... (more lines in the HDF5 file)", &st);
      break;
    }
    /* A tab or a UTF-8 character would be an illegal header byte; a blank line an empty card. */
    for (char *c = line; *c; c++)
      if (*c == '\t') *c = ' ';
    pp_fits_ascii(line);
    char card[80 * 4];
    snprintf(card, sizeof card, "job: %.300s", line);
    fits_write_comment(f, card, &st);
    line = end ? end + 1 : NULL;
  }
  free(source);
  free(text);
  return st;
}

/* One image HDU (the first call makes the primary), its keywords and its data. */
static int pp_fits_write_image(fitsfile *f, const pp_result *r, const char *extname,
                               const char *extname_comment, const double *values, size_t ny,
                               size_t nx, double pixelscale_arcsec, int oversamp,
                               const char *oversamp_comment, bool calcsamp) {
  /* POPPY's words for the oversampled HDU; its DET_SAMP copy keeps them although the
   * scale there is of detector pixels: this one says so. */
  const char *pixelscale_comment =
      calcsamp ? "Scale in arcsec/pix (detector pixels)" : "Scale in arcsec/pix (after oversampling)";
  int st = 0;
  long naxes[2] = {(long)nx, (long)ny};
  fits_create_img(f, DOUBLE_IMG, 2, naxes, &st);
  fits_write_key_str(f, "EXTNAME", extname, extname_comment, &st);
  if (r->pixelscale_m > 0.0) /* Fresnel: metres, as POPPY's as_fits outside image planes */
    fits_write_key_dbl(f, "PIXELSCL", r->pixelscale_m, -17, "Pixel scale in meters/pixel", &st);
  else
    fits_write_key_dbl(f, "PIXELSCL", pixelscale_arcsec, -17, pixelscale_comment, &st);
  fits_write_key_lng(f, "OVERSAMP", oversamp, oversamp_comment, &st);
  if (calcsamp)
    fits_write_key_lng(f, "CALCSAMP", r->oversample, "This much oversampling used in calculation",
                       &st);
  if (st == 0) st = pp_fits_write_common_keys(f, r, ny, nx, pixelscale_arcsec);
  if (st == 0) st = pp_fits_write_job(f, r, !calcsamp);
  /* cfitsio takes a non-const pointer; the arrays are not used after they are written, so
   * even a byte swap in place would be harmless. */
  fits_write_img(f, TDOUBLE, 1, (LONGLONG)(ny * nx), (void *)values, &st);
  fits_write_chksum(f, &st);
  return st;
}

static pp_status pp_fits_write_cube(fitsfile *f, const pp_result *r) {
  pp_status status = PP_SUCCESS;
  double *slice = NULL;
  int st = 0;
  size_t count = 0, bytes = 0;
  PP_CALL(pp_size_mul(r->ny, r->nx, &count));
  PP_CALL(pp_size_mul(count, sizeof *slice, &bytes));
  PP_CALL(pp_array_alloc(bytes, (void **)&slice));
  long naxes[3] = {(long)r->nx, (long)r->ny, (long)r->n_wavelengths};
  fits_create_img(f, DOUBLE_IMG, 3, naxes, &st);
  fits_write_key_str(f, "EXTNAME", "CUBE", "Monochromatic PSFs, [wavelength][y][x]", &st);
  if (r->pixelscale_m > 0.0)
    fits_write_key_dbl(f, "PIXELSCL", r->pixelscale_m, -17, "Pixel scale in meters/pixel", &st);
  else
    fits_write_key_dbl(f, "PIXELSCL", r->pixelscale_arcsec, -17,
                       "Scale in arcsec/pix (after oversampling)", &st);
  fits_write_key_lng(f, "OVERSAMP", r->oversample, "Oversampled pixels per detector pixel", &st);
  if (st == 0) st = pp_fits_write_common_keys(f, r, r->ny, r->nx, r->pixelscale_arcsec);
  /* POPPY's calc_datacube names the slices' wavelengths WAVELN00 … or WVLN0000 …. */
  for (size_t i = 0; i < r->n_wavelengths && i < 10000 && st == 0; i++) {
    char key[FLEN_KEYWORD], comment[FLEN_COMMENT];
    snprintf(key, sizeof key, r->n_wavelengths < 100 ? "WAVELN%02zu" : "WVLN%04zu", i);
    snprintf(comment, sizeof comment, "Wavelength of cube plane %zu in meters", i);
    fits_write_key_dbl(f, key, r->wavelengths_m[i], -17, comment, &st);
  }
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot write the CUBE header");
  for (size_t i = 0; i < r->n_wavelengths; i++) {
    PP_CALL_GOTO(status, pp_result_read_cube_slice(r, i, slice));
    fits_write_img(f, TDOUBLE, (LONGLONG)(i * count) + 1, (LONGLONG)count, slice, &st);
    PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot write cube plane %zu", i);
  }
  fits_write_chksum(f, &st);
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot write the CUBE checksum");
done:
  pp_array_free(&slice);
  return status;
}

/* Wavelengths and weights as a table: machine-readable for any count (keywords stop at
 * WAVE9999). Returns the cfitsio status. */
static int pp_fits_write_table(fitsfile *f, const pp_result *r) {
  int st = 0;
  char *names[2] = {"WAVELENGTH", "WEIGHT"}, *forms[2] = {"1D", "1D"}, *units[2] = {"m", ""};
  fits_create_tbl(f, BINARY_TBL, (LONGLONG)r->n_wavelengths, 2, names, forms, units,
                  "WAVELENGTHS", &st);
  fits_write_col(f, TDOUBLE, 1, 1, 1, (LONGLONG)r->n_wavelengths, r->wavelengths_m, &st);
  fits_write_col(f, TDOUBLE, 2, 1, 1, (LONGLONG)r->n_wavelengths, r->weights, &st);
  fits_write_chksum(f, &st);
  return st;
}

pp_status pp_export_fits(const char *input_path, const char *fits_path,
                         const pp_fits_export_options *options) {
  pp_status status = PP_SUCCESS;
  pp_result *r = NULL;
  pp_io_stage stage = {0};
  fitsfile *f = NULL;
  int st = 0;
  pp_fits_export_options opt = options ? *options : (pp_fits_export_options){0};

  /* Everything about the input is checked before anything is created. */
  PP_CALL_GOTO(status, pp_result_load(input_path, &r));
  PP_CALL_GOTO(status, pp_result_check_complete(r));
  PP_CHECK_GOTO(status, !opt.cube || r->has_cube, PP_ERR_INPUT,
                "--cube: '%s' has no /cube (its job did not say output: {cube: true})",
                input_path);
  PP_CALL_GOTO(status, pp_io_stage_begin(fits_path, input_path, opt.force, "FITS file", &stage));

  /* fits_create_diskfile: the name is taken literally (no cfitsio "!", "[...]" or ".gz"
   * syntax) and the file must not exist yet, which the private directory guarantees. */
  fits_create_diskfile(&f, stage.file_path, &st);
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot create '%s'", stage.file_path);
  st = pp_fits_write_image(f, r, "OVERSAMP", "This extension is oversampled.", r->psf, r->ny, r->nx,
                           r->pixelscale_arcsec, r->oversample,
                           "Oversampled pixels per detector pixel", false);
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot write the OVERSAMP (primary) HDU of '%s'",
                     fits_path);
  st = pp_fits_write_image(f, r, "DET_SAMP", "This extension is at detector sampling.",
                           r->psf_detector, r->detector_ny, r->detector_nx,
                           r->detector_pixelscale_arcsec, 1,
                           "These data are rebinned to detector pixels", true);
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot write the DET_SAMP HDU of '%s'",
                     fits_path);
  if (opt.cube) PP_CALL_GOTO(status, pp_fits_write_cube(f, r));
  st = pp_fits_write_table(f, r);
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot write the WAVELENGTHS table of '%s'",
                     fits_path);
  fits_close_file(f, &st);
  f = NULL;
  PP_FITS_CHECK_GOTO(status, PP_ERR_LIBRARY, st, "cannot finish '%s'", fits_path);
  PP_CALL_GOTO(status, pp_io_stage_publish(&stage, opt.force));
done:
  if (f) {
    int ignored = 0;
    fits_close_file(f, &ignored);
    fits_clear_errmsg();
  }
  pp_io_stage_abort(&stage);
  pp_result_destroy(&r);
  return status;
}
