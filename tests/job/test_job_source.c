/* job: the source — its spectrum (the blackbody and spectrum-file forms of `wavelengths`)
 * and its position (the `source` section, POPPY's offset_r/offset_theta or offset_x/_y).
 *
 * Spectrum files (text, HDF5, FITS) must give the pp_job that the same numbers written in
 * the job file give, bit for bit, including files in microns, nanometres and Angstrom
 * (the unit is applied through the number's text for text files, by an exact division
 * for binary ones). Relative paths are taken from the job file's directory.
 * Blackbody weights are checked against an independent integral: composite Simpson in λ
 * (2000 panels per e-fold of the integrand, at least 2000 per bin) of the photon spectral
 * radiance B_λ·λ/(h·c) ∝ λ⁻⁴/(exp(hc/λkT) − 1),
 * the code integrating in x = hc/(λkT) with Gauss–Legendre; agreement to 1e-12 relative.
 * Every bad input is PP_ERR_INPUT at the `file:` value (file:line:column of the job) and
 * names the data file and its line, dataset index or row. */
#include <fitsio.h>
#include <hdf5.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "polypsf/job.h"
#include "job_test_support.h"
#include "pp_test.h"

#define O "optics:\n  - circular_aperture: {radius: 3.25}\n"
#define D "detector: {pixelscale: 0.0311, fov_pixels: 101}\n"

static char pp_dir[64];          /* the temporary directory of this run */
static char pp_job_name[128];    /* "<dir>/job.yaml": data files are found beside it */

/* ---- helpers ------------------------------------------------------------------------------ */

static void pp_write_file(const char *name, const char *text, size_t length) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", pp_dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(text, 1, length, f) != length) printf("FAIL cannot write %s\n", path);
  if (f) fclose(f);
}
#define WRITE_TEXT(name, text) pp_write_file((name), (text), strlen(text))

#define PARSE_OK(text, what) job_test_parse_ok((text), pp_job_name, __LINE__, (what))

/* The parse fails with PP_ERR_INPUT, `job:L:C:` at the marker, and the message holds each
 * of the (up to two) words: the key path, the data file's location. */
static void pp_expect_error(const char *text, const char *marker, const char *word1,
                            const char *word2, int test_line, const char *what) {
  int line = 0, column = 0;
  if (!job_test_marker_position(text, marker, &line, &column)) {
    pp_test_report(0, __FILE__, test_line, what, "marker not in the job text (bad test)");
    return;
  }
  pp_job *job = NULL;
  pp_status status = pp_job_parse_string(text, strlen(text), pp_job_name, &job);
  char prefix[256], detail[1400];
  snprintf(prefix, sizeof prefix, "%s:%d:%d: ", pp_job_name, line, column);
  const char *message = pp_status_message(status);
  bool ok = status && !job && pp_status_code(status) == PP_ERR_INPUT &&
            strncmp(message, prefix, strlen(prefix)) == 0 && strstr(message, word1) &&
            (!word2 || strstr(message, word2));
  snprintf(detail, sizeof detail, "want '%s' ... '%s' ... '%s', got [%d] %s", prefix, word1,
           word2 ? word2 : "", (int)pp_status_code(status), status ? message : "success");
  pp_test_report(ok, __FILE__, test_line, what, ok ? message : detail);
  pp_status_free(status);
  pp_job_destroy(&job);
}
#define EXPECT_ERROR(text, marker, word1, word2, what) \
  pp_expect_error((text), (marker), (word1), (word2), __LINE__, (what))

/* Same wavelengths and weights, bit for bit. */
static bool pp_same_spectrum(const pp_job *a, const pp_job *b) {
  return a && b && a->n_wavelengths == b->n_wavelengths &&
         memcmp(a->wavelengths_m, b->wavelengths_m, a->n_wavelengths * sizeof(double)) == 0 &&
         memcmp(a->weights, b->weights, a->n_wavelengths * sizeof(double)) == 0;
}

static void pp_check_same(const char *file_job, const char *inline_job, int line,
                          const char *what) {
  pp_job *a = job_test_parse_ok(file_job, pp_job_name, line, what),
         *b = job_test_parse_ok(inline_job, pp_job_name, line, "inline twin");
  pp_test_report(pp_same_spectrum(a, b), __FILE__, line, what, "");
  pp_job_destroy(&a);
  pp_job_destroy(&b);
}
#define CHECK_SAME(file_job, inline_job, what) \
  pp_check_same((file_job), (inline_job), __LINE__, (what))

/* ---- text files ---------------------------------------------------------------------------- */

static void pp_check_text_files(void) {
  WRITE_TEXT("plain.txt", "# wavelength [m]  weight\n"
                          "1.0e-6 1\n"
                          "\n"
                          "  1.25e-6\t2   # tab, trailing comment\n"
                          "1.5e-6, 3\r\n"   /* comma and CRLF */
                          "1.75e-6 2\n"
                          "2.0e-6 1");      /* no final newline */
  static const char inline_job[] =
      "wavelengths:\n  list: [1.0e-6, 1.25e-6, 1.5e-6, 1.75e-6, 2.0e-6]\n"
      "  weights: [1, 2, 3, 2, 1]\n" O D;
  CHECK_SAME("wavelengths: {file: plain.txt}\n" O D, inline_job,
             "text file = inline list, bit for bit");
  pp_job *job = PARSE_OK("wavelengths: {file: plain.txt}\n" O D, "text file");
  if (job) {
    PP_TEST_TRUE(job->n_wavelengths == 5, "5 data lines");
    PP_TEST_NEAR(job->weights[2], 3.0 / 9.0, 1e-16, "weights normalized (3/9)");
  }
  pp_job_destroy(&job);

  /* Units through the text: "1.5" um is read as "1.5e-6", "1.1e3" nm as "1.1e-6". */
  WRITE_TEXT("microns.txt", "1.0 1\n1.5 2\n2.2 1\n");
  CHECK_SAME("wavelengths: {file: microns.txt, units: um}\n" O D,
             "wavelengths: {list: [1.0e-6, 1.5e-6, 2.2e-6], weights: [1, 2, 1]}\n" O D,
             "units: um gives the bits of the same numbers in metres");
  WRITE_TEXT("nanometres.txt", "1.1e3 1\n1234.5 1\n+1500 1\n");
  CHECK_SAME("wavelengths: {file: nanometres.txt, units: nm}\n" O D,
             "wavelengths: {list: [1.1e-6, 1234.5e-9, 1500e-9]}\n" O D,
             "units: nm, exponents and signs");
  WRITE_TEXT("metres.txt", "1.0e-6 1\n");
  CHECK_SAME("wavelengths: {file: metres.txt, units: m}\n" O D,
             "wavelengths: {list: [1.0e-6]}\n" O D, "units: m is the default");

  /* Paths: a sub-directory relative to the job file, and an absolute path. */
  char sub[128], absolute_job[512];
  snprintf(sub, sizeof sub, "%s/spectra", pp_dir);
  mkdir(sub, 0700);
  WRITE_TEXT("spectra/sub.txt", "1.0e-6 1\n2.0e-6 3\n");
  CHECK_SAME("wavelengths: {file: spectra/sub.txt}\n" O D,
             "wavelengths: {list: [1.0e-6, 2.0e-6], weights: [1, 3]}\n" O D,
             "relative path from the job file's directory");
  snprintf(absolute_job, sizeof absolute_job, "wavelengths: {file: '%s/spectra/sub.txt'}\n" O D,
           pp_dir);
  CHECK_SAME(absolute_job, "wavelengths: {list: [1.0e-6, 2.0e-6], weights: [1, 3]}\n" O D,
             "absolute path");
}

static void pp_check_text_errors(void) {
  static const struct {
    const char *name, *content, *location, *words, *what;
  } cases[] = {
      {"negative.txt", "1.0e-6 1\n1.5e-6 -0.5\n", "negative.txt:2", "negative", "negative weight"},
      {"one_column.txt", "1.0e-6 1\n1.5e-6\n", "one_column.txt:2", "one column", "one column"},
      {"three.txt", "# a\n1.0e-6 1 0.1\n", "three.txt:2", "3 columns", "three columns"},
      {"word.txt", "1.0e-6 1\nabc 2\n", "word.txt:2:1", "not a number", "text wavelength"},
      {"word_weight.txt", "1.0e-6 x\n", "word_weight.txt:1:8", "not a number", "text weight"},
      {"header.txt", "wavelength weight\n1e-6 1\n", "header.txt:1:1", "start with '#'",
       "header without '#'"},
      {"nan.txt", "nan 1\n", "nan.txt:1:1", "not a number", "nan"},
      {"inf.txt", "1e-6 inf\n", "inf.txt:1:6", "not a number", "inf weight"},
      {"hex.txt", "0x1p-20 1\n", "hex.txt:1:1", "not a number", "hex float"},
      {"huge.txt", "1e-6 1e999\n", "huge.txt:1:6", "too large", "overflowing weight"},
      {"empty.txt", "", "empty.txt", "holds no data", "empty file"},
      {"comments.txt", "# only\n\n   \n# comments\n", "comments.txt", "holds no data",
       "comments only"},
      {"zero.txt", "1.0e-6 0\n2.0e-6 0\n", "zero.txt", "all weights are 0", "zero total weight"},
      {"range.txt", "1.0e-6 1\n500 1\n", "range.txt:2", "outside 10 nm", "nanometres as metres"},
      {"short.txt", "1.0e-9 1\n", "short.txt:1", "outside 10 nm", "1 nm"},
      {"unsorted.txt", "2.0e-6 1\n1.0e-6 1\n", "unsorted.txt:2", "is smaller than",
       "decreasing wavelength"},
      {"duplicate.txt", "1.0e-6 1\n1.5e-6 1\n1.5e-6 2\n", "duplicate.txt:3", "repeats",
       "wavelength twice"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    WRITE_TEXT(cases[i].name, cases[i].content);
    char text[512], marker[128];
    snprintf(text, sizeof text, "pupil: {npix: 64}\nwavelengths:\n  file: %s\n" O D,
             cases[i].name);
    snprintf(marker, sizeof marker, "file: |%s", cases[i].name);
    pp_expect_error(text, marker, cases[i].location, cases[i].words, __LINE__, cases[i].what);
  }
  /* the positions in the message: "wavelengths.file" and the data file */
  EXPECT_ERROR("wavelengths: {file: negative.txt}\n" O D, "negative.txt", "wavelengths.file: ",
               "negative.txt:2: weight -0.5 is negative", "message layout");

  pp_write_file("nul.txt", "1e-6 1\n2e-6\0 1\n", 14);
  EXPECT_ERROR("wavelengths: {file: nul.txt}\n" O D, "nul.txt", "nul.txt:2", "NUL", "NUL byte");

  EXPECT_ERROR("wavelengths: {file: no_such_file.txt}\n" O D, "no_such_file", "cannot open",
               "no_such_file.txt", "missing file");
  EXPECT_ERROR("wavelengths: {file: spectra}\n" O D, "spectra}", "cannot read", "spectra",
               "a directory");
  EXPECT_ERROR("wavelengths: {file: ''}\n" O D, "''", "wavelengths.file", "empty", "empty name");
  EXPECT_ERROR("wavelengths: {file: [a.txt]}\n" O D, "[a.txt]", "wavelengths.file", NULL,
               "list as the name");

  /* Over the limit of PP_JOB_MAX_WAVELENGTHS lines. */
  size_t n = (size_t)PP_JOB_MAX_WAVELENGTHS + 1, bytes = 0;
  char *big = malloc(n * 24);
  for (size_t i = 0; big && i < n; i++)
    bytes += (size_t)sprintf(big + bytes, "%.12e 1\n", 1.0e-6 + (double)i * 1e-12);
  if (big) pp_write_file("big.txt", big, bytes);
  free(big);
  EXPECT_ERROR("wavelengths: {file: big.txt}\n" O D, "big.txt", "big.txt:100001", "100000",
               "more lines than the wavelength limit");
}

/* ---- form conflicts and units ---------------------------------------------------------------- */

static void pp_check_form_errors(void) {
  EXPECT_ERROR("wavelengths: {file: plain.txt, list: [1e-6]}\n" O D, "list", "wavelengths.list",
               "alone", "file and list");
  EXPECT_ERROR("wavelengths: {file: plain.txt, weights: [1]}\n" O D, "weights",
               "wavelengths.weights", "alone", "file and weights");
  EXPECT_ERROR("wavelengths: {min: 1e-6, max: 2e-6, count: 3, file: plain.txt}\n" O D, "min",
               "wavelengths.min", "alone", "file and a range");
  EXPECT_ERROR("wavelengths: {list: [1e-6], units: um}\n" O D, "units", "wavelengths.units",
               "goes with file", "units without a file");
  EXPECT_ERROR("wavelengths: {file: microns.txt, units: mm}\n" O D, "mm", "wavelengths.units",
               "m, um, nm", "unknown units word");
  EXPECT_ERROR("wavelengths: {file: microns.txt, units: 1}\n" O D, "units: |1",
               "wavelengths.units", NULL, "units not a word");
  EXPECT_ERROR("wavelengths: {min: 1e-6, max: 2e-6, count: 3, blackbody: 5800, weights: [1, 2, "
               "3]}\n" O D,
               "weights", "wavelengths.weights", "not both", "blackbody and weights");
  EXPECT_ERROR("wavelengths: {list: [1e-6], blackbody: 5800}\n" O D, "blackbody",
               "wavelengths.blackbody", "band", "blackbody with a list");
  EXPECT_ERROR("wavelengths: {blackbody: 5800}\n" O D, "wavelengths", "wavelengths", "give",
               "blackbody alone");
  EXPECT_ERROR("wavelengths: {min: 1e-6, count: 1, blackbody: 5800}\n" O D, "wavelengths",
               "wavelengths.max", "blackbody", "blackbody needs max");
  EXPECT_ERROR("wavelengths: {min: 1e-6, max: 1e-6, count: 1, blackbody: 5800}\n" O D,
               "max: |1e-6", "wavelengths.max", "edges", "blackbody band of zero width");
  EXPECT_ERROR("wavelengths: {min: 1e-6, max: 2e-6, count: 3, blackbody: 0}\n" O D,
               "blackbody: |0", "wavelengths.blackbody", "K", "blackbody at 0 K");
  EXPECT_ERROR("wavelengths: {min: 1e-6, max: 2e-6, count: 3, blackbody: 2e9}\n" O D, "2e9",
               "wavelengths.blackbody", "1000000000 K", "blackbody too hot");
  EXPECT_ERROR("wavelengths: {min: 1e-6, max: 2e-6, count: 3, blackbody: hot}\n" O D, "hot",
               "wavelengths.blackbody", "number", "blackbody as a word");
}

/* ---- HDF5 ----------------------------------------------------------------------------------- */

/* Writes datasets to <dir>/name: wavelengths (double, rank `rank`), weights (double);
 * units may be NULL. Lengths may differ on purpose. */
static void pp_write_h5(const char *name, const double *wavelengths, size_t n_wavelengths,
                        const double *weights, size_t n_weights, const char *units, int rank) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", pp_dir, name);
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[2] = {rank == 2 ? 1 : n_wavelengths, n_wavelengths};
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t dataset = H5Dcreate2(file, "wavelengths", H5T_IEEE_F64LE, space, H5P_DEFAULT,
                             H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, wavelengths);
  if (units) {
    hid_t text = H5Tcopy(H5T_C_S1);
    H5Tset_size(text, strlen(units));
    hid_t scalar = H5Screate(H5S_SCALAR);
    hid_t attribute = H5Acreate2(dataset, "units", text, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, text, units);
    H5Aclose(attribute);
    H5Sclose(scalar);
    H5Tclose(text);
  }
  H5Dclose(dataset);
  H5Sclose(space);
  if (weights) {
    hsize_t weight_dims[1] = {n_weights};
    space = H5Screate_simple(1, weight_dims, NULL);
    dataset = H5Dcreate2(file, "weights", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, weights);
    H5Dclose(dataset);
    H5Sclose(space);
  }
  H5Fclose(file);
}

static void pp_check_hdf5(void) {
  static const char inline_job[] =
      "wavelengths: {list: [1.0e-6, 1.5e-6, 2.2e-6], weights: [0.25, 0.5, 0.125]}\n" O D;
  const double metres[3] = {1.0e-6, 1.5e-6, 2.2e-6}, microns[3] = {1.0, 1.5, 2.2};
  const double weights[3] = {0.25, 0.5, 0.125}, negative[3] = {0.25, -0.5, 0.125};
  pp_write_h5("metres.h5", metres, 3, weights, 3, NULL, 1);
  CHECK_SAME("wavelengths: {file: metres.h5}\n" O D, inline_job, "HDF5 in metres = inline");
  pp_write_h5("microns.h5", microns, 3, weights, 3, "micron", 1);
  CHECK_SAME("wavelengths: {file: microns.h5}\n" O D, inline_job,
             "HDF5 with units attribute 'micron' = inline");
  CHECK_SAME("wavelengths: {file: microns.h5, units: um}\n" O D, inline_job,
             "HDF5 attribute and units: agreeing");
  pp_write_h5("microns_bare.h5", microns, 3, weights, 3, NULL, 1);
  CHECK_SAME("wavelengths: {file: microns_bare.h5, units: um}\n" O D, inline_job,
             "HDF5 without attribute, units: um");
  /* the format is told by content, not by name */
  pp_write_h5("hdf5_named.txt", metres, 3, weights, 3, NULL, 1);
  CHECK_SAME("wavelengths: {file: hdf5_named.txt}\n" O D, inline_job, "HDF5 named .txt");

  EXPECT_ERROR("wavelengths: {file: microns.h5, units: nm}\n" O D, "microns.h5",
               "microns.h5: the file gives its wavelengths in micron", "units: nm",
               "HDF5 attribute and units: disagreeing");
  pp_write_h5("furlong.h5", metres, 3, weights, 3, "furlong", 1);
  EXPECT_ERROR("wavelengths: {file: furlong.h5}\n" O D, "furlong.h5", "'furlong'", "m, um",
               "HDF5 unknown unit");
  pp_write_h5("negative.h5", metres, 3, negative, 3, NULL, 1);
  EXPECT_ERROR("wavelengths: {file: negative.h5}\n" O D, "negative.h5", "negative.h5: /weights[1]",
               "negative", "HDF5 negative weight");
  pp_write_h5("mismatch.h5", metres, 3, weights, 2, NULL, 1);
  EXPECT_ERROR("wavelengths: {file: mismatch.h5}\n" O D, "mismatch.h5", "has 3 values",
               "/weights has 2", "HDF5 lengths differ");
  pp_write_h5("no_weights.h5", metres, 3, NULL, 0, NULL, 1);
  EXPECT_ERROR("wavelengths: {file: no_weights.h5}\n" O D, "no_weights.h5",
               "no_weights.h5: has no dataset /weights", NULL, "HDF5 without weights");
  pp_write_h5("two_d.h5", metres, 3, weights, 3, NULL, 2);
  EXPECT_ERROR("wavelengths: {file: two_d.h5}\n" O D, "two_d.h5", "/wavelengths is not a 1-D",
               NULL, "HDF5 2-D wavelengths");
  pp_write_h5("empty.h5", metres, 0, weights, 0, NULL, 1);
  EXPECT_ERROR("wavelengths: {file: empty.h5}\n" O D, "empty.h5", "holds no data", NULL,
               "HDF5 empty datasets");
  const double unsorted[3] = {1.0e-6, 2.2e-6, 1.5e-6};
  pp_write_h5("unsorted.h5", unsorted, 3, weights, 3, NULL, 1);
  EXPECT_ERROR("wavelengths: {file: unsorted.h5}\n" O D, "unsorted.h5", "/wavelengths[2]",
               "is smaller than", "HDF5 unsorted");
  /* a truncated HDF5 file: the signature, then nothing */
  pp_write_file("truncated.h5", "\x89HDF\r\n\x1a\n\0\0\0\0", 12);
  EXPECT_ERROR("wavelengths: {file: truncated.h5}\n" O D, "truncated.h5",
               "cannot open it as an HDF5 file", NULL, "HDF5 truncated");
}

/* ---- FITS ----------------------------------------------------------------------------------- */

/* A binary table in HDU 2 with columns names[0..1] (TUNIT of the first may be NULL). */
static void pp_write_fits(const char *name, const char *first, const char *second,
                          const char *first_unit, const double *a, const double *b, long rows) {
  char path[300];
  snprintf(path, sizeof path, "!%s/%s", pp_dir, name); /* '!' overwrites */
  fitsfile *fits = NULL;
  int status = 0;
  char *types[2] = {(char *)first, (char *)second};
  char *forms[2] = {"1D", "1D"};
  char *units[2] = {(char *)(first_unit ? first_unit : ""), ""};
  fits_create_file(&fits, path, &status);
  fits_create_tbl(fits, BINARY_TBL, 0, 2, types, forms, units, "SPECTRUM", &status);
  fits_write_col(fits, TDOUBLE, 1, 1, 1, rows, (void *)a, &status);
  fits_write_col(fits, TDOUBLE, 2, 1, 1, rows, (void *)b, &status);
  fits_close_file(fits, &status);
  if (status) printf("FAIL writing %s: cfitsio status %d\n", name, status);
}

static void pp_check_fits(void) {
  static const char inline_job[] =
      "wavelengths: {list: [1.0e-6, 1.5e-6, 2.2e-6], weights: [0.25, 0.5, 0.125]}\n" O D;
  const double angstrom[3] = {10000.0, 15000.0, 22000.0}, nm[3] = {1000.0, 1500.0, 2200.0};
  const double weights[3] = {0.25, 0.5, 0.125}, negative[3] = {0.25, 0.5, -0.125};
  pp_write_fits("synphot.fits", "WAVELENGTH", "FLUX", "Angstrom", angstrom, weights, 3);
  CHECK_SAME("wavelengths: {file: synphot.fits}\n" O D, inline_job,
             "FITS WAVELENGTH [Angstrom] + FLUX = inline");
  pp_write_fits("weights_nm.fits", "wavelength", "weight", NULL, nm, weights, 3);
  CHECK_SAME("wavelengths: {file: weights_nm.fits, units: nm}\n" O D, inline_job,
             "FITS lower-case WEIGHT column, no TUNIT, units: nm");

  pp_write_fits("negative.fits", "WAVELENGTH", "FLUX", "Angstrom", angstrom, negative, 3);
  EXPECT_ERROR("wavelengths: {file: negative.fits}\n" O D, "negative.fits",
               "negative.fits: HDU 2, row 3 (FLUX)", "negative", "FITS negative flux");
  pp_write_fits("no_wavelength.fits", "LAMBDA", "FLUX", NULL, angstrom, weights, 3);
  EXPECT_ERROR("wavelengths: {file: no_wavelength.fits}\n" O D, "no_wavelength.fits",
               "no table", "WAVELENGTH", "FITS without WAVELENGTH");
  pp_write_fits("no_weight.fits", "WAVELENGTH", "ERROR", NULL, angstrom, weights, 3);
  EXPECT_ERROR("wavelengths: {file: no_weight.fits}\n" O D, "no_weight.fits",
               "no WEIGHT or FLUX", NULL, "FITS without weights");
  pp_write_fits("parsec.fits", "WAVELENGTH", "FLUX", "parsec", angstrom, weights, 3);
  EXPECT_ERROR("wavelengths: {file: parsec.fits}\n" O D, "parsec.fits", "'parsec'",
               "TUNIT1 in HDU 2", "FITS unknown TUNIT");
  EXPECT_ERROR("wavelengths: {file: synphot.fits, units: um}\n" O D, "synphot.fits",
               "Angstrom", "units: um", "FITS TUNIT and units: disagreeing");
  pp_write_fits("metres_default.fits", "WAVELENGTH", "FLUX", NULL, angstrom, weights, 3);
  EXPECT_ERROR("wavelengths: {file: metres_default.fits}\n" O D, "metres_default.fits",
               "row 1 (WAVELENGTH)", "outside 10 nm", "FITS without unit is metres");
  pp_write_file("not_fits.fits", "SIMPLE  = garbage", 17);
  EXPECT_ERROR("wavelengths: {file: not_fits.fits}\n" O D, "not_fits.fits",
               "cannot open it as a FITS file", NULL, "damaged FITS");
}

/* ---- blackbody -------------------------------------------------------------------------------- */

/* Photons per unit λ, up to a constant: λ⁻⁴/(exp(a/λ) − 1), scaled by exp(a/λ_ref) so that
 * cold sources stay representable; written in λ, independently of the code's x form. */
static double pp_photon_radiance(double lambda_m, double a_m, double lambda_ref_m) {
  double x = a_m / lambda_m;
  return exp(a_m / lambda_ref_m - x) / (-expm1(-x)) / pow(lambda_m, 4.0);
}

/* Composite Simpson over [lo, hi] with panels_per_efold panels for each e-fold the
 * integrand's exponential drops across the interval (at least that many in all). */
static double pp_simpson(double lo, double hi, double a_m, double ref_m, int panels_per_efold) {
  double efolds = a_m / lo - a_m / hi;
  int panels = 2 * (int)ceil(panels_per_efold * fmax(1.0, efolds) / 2.0);
  double h = (hi - lo) / panels, sum = 0.0;
  for (int k = 0; k <= panels; k++) {
    double weight = k == 0 || k == panels ? 1.0 : (k % 2 ? 4.0 : 2.0);
    sum += weight * pp_photon_radiance(lo + k * h, a_m, ref_m);
  }
  return sum * h / 3.0;
}

static void pp_check_blackbody_case(double temperature_k, double min_m, double max_m,
                                    size_t count) {
  char text[512], what[160];
  snprintf(text, sizeof text,
           "wavelengths: {min: %.17g, max: %.17g, count: %zu, blackbody: %.17g}\n" O D, min_m,
           max_m, count, temperature_k);
  snprintf(what, sizeof what, "blackbody %g K, %g..%g m, %zu bins", temperature_k, min_m, max_m,
           count);
  pp_job *job = PARSE_OK(text, what);
  if (!job) return;
  const double h = 6.62607015e-34, c = 299792458.0, k = 1.380649e-23;
  double a_m = h * c / (k * temperature_k), step = (max_m - min_m) / (double)count;
  double *truth = malloc(count * sizeof *truth), total = 0.0;
  for (size_t i = 0; i < count; i++) {
    truth[i] = pp_simpson(min_m + i * step, min_m + (i + 1) * step, a_m, max_m, 2000);
    total += truth[i];
  }
  double worst = 0.0, sum = 0.0, worst_centre = 0.0;
  for (size_t i = 0; i < count; i++) {
    double want = truth[i] / total;
    if (want > 0) worst = fmax(worst, fabs(job->weights[i] - want) / want);
    worst_centre = fmax(worst_centre, fabs(job->wavelengths_m[i] - (min_m + (i + 0.5) * step)));
    sum += job->weights[i];
  }
  PP_TEST_TRUE(job->n_wavelengths == count, "one wavelength per bin");
  snprintf(what, sizeof what, "%g K: max relative difference to Simpson in λ", temperature_k);
  PP_TEST_NEAR(worst, 0.0, 1e-12, what);
  PP_TEST_NEAR(worst_centre, 0.0, 1e-21, "wavelengths at the bin centres");
  PP_TEST_NEAR(sum, 1.0, 1e-15, "weights sum to 1");
  free(truth);
  pp_job_destroy(&job);
}

static void pp_check_blackbody(void) {
  pp_check_blackbody_case(5800.0, 1.0e-6, 2.0e-6, 10);   /* the Sun in J and H */
  pp_check_blackbody_case(5800.0, 0.3e-6, 5.0e-6, 7);    /* across the peak, wide bins */
  pp_check_blackbody_case(3.0e4, 0.1e-6, 1.0e-6, 50);    /* hot star, Rayleigh–Jeans side */
  pp_check_blackbody_case(1.0, 10.0e-6, 12.0e-6, 5);     /* exp(-x) ~ 1e-625: needs scaling */
  pp_check_blackbody_case(300.0, 8.0e-6, 13.0e-6, 1000); /* narrow bins */

  /* Photons, not energy: the ratio of two bins' weights is their photon-count ratio (the
   * energy ratio would be about 1.75/1.25 times smaller). */
  pp_job *job = PARSE_OK("wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 2, blackbody: 5800}\n"
                         O D, "2 bins");
  if (job) {
    const double h = 6.62607015e-34, c = 299792458.0, k = 1.380649e-23;
    double a_m = h * c / (k * 5800.0);
    double photons0 = pp_simpson(1.0e-6, 1.5e-6, a_m, 2.0e-6, 4000);
    double photons1 = pp_simpson(1.5e-6, 2.0e-6, a_m, 2.0e-6, 4000);
    PP_TEST_NEAR(job->weights[1] / job->weights[0], photons1 / photons0, 1e-10,
                 "photon-count ratio of the two bins");
    PP_TEST_NEAR(job->wavelengths_m[0], 1.25e-6, 1e-21, "bin centre 1.25 µm");
    PP_TEST_NEAR(job->wavelengths_m[1], 1.75e-6, 1e-21, "bin centre 1.75 µm");
  }
  pp_job_destroy(&job);

  job = PARSE_OK("wavelengths: {min: 1.0e-6, max: 3.0e-6, count: 1, blackbody: 5800}\n" O D,
                 "one bin");
  if (job) {
    PP_TEST_TRUE(job->n_wavelengths == 1 && job->weights[0] == 1.0, "one bin of weight 1");
    PP_TEST_NEAR(job->wavelengths_m[0], 2.0e-6, 1e-21, "one bin at its centre");
  }
  pp_job_destroy(&job);
}

/* ---- source --------------------------------------------------------------------------------- */

static void pp_check_source(void) {
  static const char W[] = "wavelengths: {list: [1.0e-6]}\n";
  char text[512];
  pp_job *job = PARSE_OK("wavelengths: {list: [1.0e-6]}\n" O D, "no source");
  if (job) PP_TEST_TRUE(job->source.offset_x_arcsec == 0.0 && job->source.offset_y_arcsec == 0.0 &&
                            job->source.line == 0,
                        "default on-axis");
  pp_job_destroy(&job);

  snprintf(text, sizeof text, "%s" O D "source: {offset_x: 0.5, offset_y: -1.25}\n", W);
  job = PARSE_OK(text, "offset_x, offset_y");
  if (job) {
    PP_TEST_TRUE(job->source.offset_x_arcsec == 0.5 && job->source.offset_y_arcsec == -1.25,
                 "x and y as given");
    PP_TEST_TRUE(job->source.line == 5 && job->source.column == 1, "source key at 5:1");
  }
  pp_job_destroy(&job);

  /* POPPY: offset_x = −r·sin θ, offset_y = r·cos θ, θ CCW from +Y. */
  static const struct {
    double theta_deg, x, y;
  } polar[] = {{0, 0, 2},  {90, -2, 0}, {180, 0, -2},
               {270, 2, 0}, {-90, 2, 0}, {45, -1.4142135623730951, 1.4142135623730951}};
  for (size_t i = 0; i < sizeof polar / sizeof polar[0]; i++) {
    char what[96];
    snprintf(text, sizeof text, "%s" O D "source: {offset_r: 2, offset_theta: %g}\n", W,
             polar[i].theta_deg);
    snprintf(what, sizeof what, "offset_r 2 at theta %g deg", polar[i].theta_deg);
    job = PARSE_OK(text, what);
    if (job) {
      PP_TEST_NEAR(job->source.offset_x_arcsec, polar[i].x, 1e-15, what);
      PP_TEST_NEAR(job->source.offset_y_arcsec, polar[i].y, 1e-15, what);
    }
    pp_job_destroy(&job);
  }
  snprintf(text, sizeof text, "%s" O D "source: {offset_r: 2}\n", W);
  job = PARSE_OK(text, "offset_r alone");
  if (job) PP_TEST_TRUE(job->source.offset_y_arcsec == 2.0, "theta defaults to 0: towards +Y");
  pp_job_destroy(&job);
  snprintf(text, sizeof text, "%s" O D "source:\n", W);
  job = PARSE_OK(text, "empty source");
  if (job) PP_TEST_TRUE(job->source.offset_x_arcsec == 0 && job->source.offset_y_arcsec == 0,
                        "empty source: on-axis");
  pp_job_destroy(&job);

  static const struct {
    const char *source, *marker, *word, *what;
  } bad[] = {
      {"{offset_r: 1, offset_x: 1}", "offset_x", "source.offset_x", "both forms"},
      {"{offset_y: 1, offset_theta: 10, offset_r: 1}", "offset_theta", "source.offset_theta",
       "both forms, polar second"},
      {"{offset_theta: 10}", "offset_theta", "needs offset_r", "theta without r"},
      {"{offset_r: -1}", "-1", "source.offset_r", "negative r"},
      {"{offset_x: 1 arcsec}", "1 arcsec", "source.offset_x", "number with a unit"},
      {"{offset_y: .nan}", ".nan", "source.offset_y", "NaN"},
      {"{offset_z: 1}", "offset_z", "offset_r, offset_theta, offset_x, offset_y", "unknown key"},
      {"[1, 2]", "[1, 2]", "source", "a list"},
  };
  /* Each marker occurs first in the source line (nothing before it looks like it). */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(text, sizeof text, "%s" O D "source: %s\n", W, bad[i].source);
    pp_expect_error(text, bad[i].marker, bad[i].word, NULL, __LINE__, bad[i].what);
  }
}

int main(void) {
  snprintf(pp_dir, sizeof pp_dir, "/tmp/pp_test_job_source_XXXXXX");
  if (!mkdtemp(pp_dir)) {
    printf("FAIL cannot make a temporary directory\n");
    return 1;
  }
  snprintf(pp_job_name, sizeof pp_job_name, "%s/job.yaml", pp_dir);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  pp_check_text_files();
  pp_check_text_errors();
  pp_check_form_errors();
  pp_check_hdf5();
  pp_check_fits();
  pp_check_blackbody();
  pp_check_source();
  char command[128];
  snprintf(command, sizeof command, "rm -rf '%s'", pp_dir);
  if (system(command) != 0) printf("(could not remove %s)\n", pp_dir);
  return pp_test_finish();
}
