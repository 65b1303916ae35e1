/* job: good job files parse to the right numbers (wavelength range spaced like
 * numpy.linspace, weights normalized, detector forms, defaults), and every error path of
 * the parser is taken on purpose: each must be PP_ERR_INPUT with `name:line:column:` at
 * the offending key or value and the key's path in the message.
 *
 * Expected positions are found independently of libyaml: EXPECT_ERROR_AT names a marker
 * text, and the expected line and column are those of the marker's first occurrence in
 * the job text (1-based, counted in characters). The bad job files of tests/cli/bad_jobs
 * are parsed too, each against the `# expect: L:C key` line it starts with. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "polypsf/job.h"
#include "job_test_support.h"
#include "pp_test.h"

#define NAME "t.yaml"

/* Pieces of a valid job to build test jobs from; each ends with a newline. */
#define W "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 3}\n"
#define O "optics:\n  - circular_aperture: {radius: 3.25}\n"
#define D "detector: {pixelscale: 0.0311, fov_pixels: 101}\n"

/* ---- helpers ---------------------------------------------------------------------------- */

#define PARSE_OK(text, what) job_test_parse_ok((text), NAME, __LINE__, (what))

/* Checks code, position prefix and key of a failed parse; reports one line. */
static void check_error(pp_status status, const pp_job *job, const char *name, int line,
                        int column, const char *key, int test_line, const char *what) {
  char prefix[256], detail[1400];
  snprintf(prefix, sizeof prefix, "%s:%d:%d:", name, line, column);
  const char *message = pp_status_message(status);
  bool ok = status != PP_SUCCESS && job == NULL && pp_status_code(status) == PP_ERR_INPUT &&
            strncmp(message, prefix, strlen(prefix)) == 0 && strstr(message, key) != NULL;
  snprintf(detail, sizeof detail, "want '%s' ... '%s', got [%d] %s", prefix, key,
           (int)pp_status_code(status), status ? message : "success");
  pp_test_report(ok, __FILE__, test_line, what, ok ? "" : detail);
}

static void expect_error(const char *text, int line, int column, const char *key, int test_line,
                         const char *what) {
  pp_job *job = NULL;
  pp_status status = pp_job_parse_string(text, strlen(text), NAME, &job);
  check_error(status, job, NAME, line, column, key, test_line, what);
  pp_status_free(status);
  pp_job_destroy(&job);
}
#define EXPECT_ERROR(text, line, column, key, what) \
  expect_error((text), (line), (column), (key), __LINE__, (what))

static void expect_error_at(const char *text, const char *marker, const char *key, int test_line,
                            const char *what) {
  int line = 0, column = 0;
  if (!job_test_marker_position(text, marker, &line, &column)) {
    pp_test_report(0, __FILE__, test_line, what, "marker not in the test text (bad test)");
    return;
  }
  expect_error(text, line, column, key, test_line, what);
}
#define EXPECT_ERROR_AT(text, marker, key, what) \
  expect_error_at((text), (marker), (key), __LINE__, (what))

/* The text is refused with a message that mentions a word (e.g. the list of allowed
 * values), or, with present false, does not (no suggestion where none fits). */
static void expect_message(const char *text, const char *word, bool present, int test_line,
                           const char *what) {
  pp_job *job = NULL;
  pp_status status = pp_job_parse_string(text, strlen(text), NAME, &job);
  pp_test_report(status && (strstr(pp_status_message(status), word) != NULL) == present,
                 __FILE__, test_line, what, pp_status_message(status));
  pp_status_free(status);
  pp_job_destroy(&job);
}
#define EXPECT_MESSAGE_HAS(text, word, what) \
  expect_message((text), (word), true, __LINE__, (what))
#define EXPECT_MESSAGE_LACKS(text, word, what) \
  expect_message((text), (word), false, __LINE__, (what))

/* ---- good files ---------------------------------------------------------------------------- */

static void test_design_example(void) {
  static const char text[] =
      "pupil: {npix: 1024}\n"
      "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 10}     # or: list: [...]\n"
      "optics:\n"
      "  - circular_aperture: {radius: 3.25}\n"
      "  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}\n"
      "  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 50.0e-9]}\n"
      "detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}\n"
      "propagation: {method: auto, fft_oversample: 2}   # method: auto | mft | czt\n"
      "output: {path: psf.h5, cube: true}\n";
  pp_job *job = PARSE_OK(text, "DESIGN.md example parses");
  if (!job) return;
  PP_TEST_TRUE(job->pupil_npix == 1024, "pupil.npix");
  PP_TEST_TRUE(job->n_wavelengths == 10, "10 wavelengths");
  PP_TEST_NEAR(job->wavelengths_m[0], 1.0e-6, 0.0, "first wavelength is min exactly");
  PP_TEST_NEAR(job->wavelengths_m[9], 2.0e-6, 0.0, "last wavelength is max exactly");
  /* numpy.linspace(1e-6, 2e-6, 10)[3] = 1e-6 + 3 * (1e-6 / 9) */
  PP_TEST_NEAR(job->wavelengths_m[3], 1.0e-6 + 3.0 * (1.0e-6 / 9.0), 0.0, "evenly spaced");
  double sum = 0;
  for (size_t i = 0; i < 10; i++) sum += job->weights[i];
  PP_TEST_NEAR(job->weights[4], 0.1, 1e-16, "equal weights 1/10");
  PP_TEST_NEAR(sum, 1.0, 1e-15, "weights sum to 1");
  PP_TEST_TRUE(job->n_optics == 3, "three optics");
  PP_TEST_TRUE(strcmp(job->optics[0].type->name, "circular_aperture") == 0, "optic 0 type");
  PP_TEST_NEAR(pp_optic_spec_get(&job->optics[0], "radius"), 3.25, 0.0, "radius 3.25");
  PP_TEST_TRUE(job->optics[0].line == 4 && job->optics[0].column == 5, "optic 0 at 4:5");
  PP_TEST_TRUE(strcmp(job->optics[0].name, "circular_aperture") == 0, "name defaults to type");
  PP_TEST_NEAR(pp_optic_spec_get(&job->optics[1], "n_supports"), 3, 0.0, "n_supports 3");
  PP_TEST_NEAR(pp_optic_spec_get(&job->optics[1], "support_width"), 0.1, 0.0, "width 0.1");
  PP_TEST_TRUE(job->optics[1].line == 5 && job->optics[1].column == 5, "optic 1 at 5:5");
  PP_TEST_TRUE(job->optics[2].list_len == 4, "four Zernike coefficients");
  PP_TEST_NEAR(job->optics[2].list[3], 50.0e-9, 0.0, "Z4 coefficient 50 nm");
  PP_TEST_NEAR(job->detector.pixelscale_arcsec, 0.0311, 0.0, "pixelscale");
  PP_TEST_TRUE(job->detector.fov_pixels_y == 101 && job->detector.fov_pixels_x == 101,
               "fov_pixels scalar is square");
  PP_TEST_TRUE(job->detector.oversample == 4, "oversample 4");
  PP_TEST_TRUE(job->method == PP_METHOD_AUTO && job->fft_oversample == 2, "propagation");
  PP_TEST_TRUE(job->normalize == PP_NORMALIZE_FIRST, "normalize defaults to first");
  PP_TEST_TRUE(strcmp(job->output_path, "psf.h5") == 0 && job->output_cube, "output");
  PP_TEST_TRUE(strcmp(job->text, text) == 0, "job->text is the whole file");
  PP_TEST_TRUE(strcmp(job->source_name, NAME) == 0, "source_name");
  pp_job_destroy(&job);
  PP_TEST_TRUE(job == NULL, "destroy sets the handle to NULL");
  pp_job_destroy(&job); /* and accepts NULL */
}

static void test_wavelength_forms(void) {
  /* POPPY's reference obscured_poly lists numpy.linspace(1e-6, 2e-6, 5): the second value
   * is 1.2499999999999999e-06, not 1.25e-06. */
  pp_job *job = PARSE_OK("wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 5}\n" O D, "range 5");
  if (job) {
    PP_TEST_NEAR(job->wavelengths_m[1], 1.2499999999999999e-06, 0.0, "linspace bits [1]");
    PP_TEST_NEAR(job->wavelengths_m[3], 1.75e-06, 0.0, "linspace [3]");
    PP_TEST_NEAR(job->wavelengths_m[4], 2.0e-06, 0.0, "linspace [4] = max");
  }
  pp_job_destroy(&job);

  job = PARSE_OK("wavelengths:\n  list: [1.0e-6, 1.5e-6, 2.0e-6, 2.5e-6, 3.0e-6]\n"
                 "  weights: [1, 2, 3, 2, 1]\n" O D, "list + weights");
  if (job) {
    PP_TEST_TRUE(job->n_wavelengths == 5, "5 listed");
    PP_TEST_NEAR(job->wavelengths_m[2], 2.0e-6, 0.0, "list kept in order");
    PP_TEST_NEAR(job->weights[0], 1.0 / 9.0, 1e-16, "weight 1/9");
    PP_TEST_NEAR(job->weights[2], 3.0 / 9.0, 1e-16, "weight 3/9");
  }
  pp_job_destroy(&job);

  job = PARSE_OK("wavelengths: {list: [2.0e-6, 1.0e-6]}\n" O D, "list without weights");
  if (job) PP_TEST_NEAR(job->weights[1], 0.5, 0.0, "list weights default equal");
  pp_job_destroy(&job);

  job = PARSE_OK("wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 2, weights: [0, 4]}\n" O D,
                 "range + weights");
  if (job) PP_TEST_TRUE(job->weights[0] == 0.0 && job->weights[1] == 1.0, "zero weight kept");
  pp_job_destroy(&job);

  job = PARSE_OK("wavelengths: {min: 1.5e-6, count: 1}\n" O D, "count 1 without max");
  if (job) PP_TEST_TRUE(job->n_wavelengths == 1 && job->wavelengths_m[0] == 1.5e-6, "= min");
  pp_job_destroy(&job);

  job = PARSE_OK("wavelengths: {min: 1.5e-6, max: 1.5e-6, count: 1}\n" O D, "count 1, max=min");
  if (job) PP_TEST_TRUE(job->weights[0] == 1.0, "single weight 1");
  pp_job_destroy(&job);

  /* YAML 1.2 number forms (1e-6 is a string to YAML 1.1 readers; we take it). */
  job = PARSE_OK("wavelengths: {list: [1e-6, 1.0E-6, +1.0e-6, 0.000001, 1.e-6, .1e-5]}\n" O D,
                 "number spellings");
  if (job) {
    bool all = true;
    for (size_t i = 0; i < job->n_wavelengths; i++) all = all && job->wavelengths_m[i] == 1e-6;
    PP_TEST_TRUE(job->n_wavelengths == 6 && all, "all spellings are 1e-6");
  }
  pp_job_destroy(&job);
}

static void test_detector_forms(void) {
  pp_job *job = PARSE_OK(W O "detector: {pixelscale: 0.01, fov_pixels: [64, 128]}\n", "[ny, nx]");
  if (job)
    PP_TEST_TRUE(job->detector.fov_pixels_y == 64 && job->detector.fov_pixels_x == 128,
                 "fov_pixels [ny, nx] is y first");
  pp_job_destroy(&job);

  job = PARSE_OK(W O "detector: {pixelscale: 0.0311, fov_arcsec: 3.11}\n", "fov_arcsec");
  if (job) PP_TEST_TRUE(job->detector.fov_pixels_x == 100, "3.11 / 0.0311 -> 100 pixels");
  pp_job_destroy(&job);

  job = PARSE_OK(W O "detector: {pixelscale: 0.1, fov_arcsec: [1.0, 2.04]}\n", "fov_arcsec pair");
  if (job)
    PP_TEST_TRUE(job->detector.fov_pixels_y == 10 && job->detector.fov_pixels_x == 20,
                 "[1.0, 2.04] arcsec at 0.1 -> [10, 20] (rounded)");
  pp_job_destroy(&job);

  /* POPPY's Detector uses numpy.round: to nearest, halves to even. */
  static const struct { const char *fov; size_t pixels; } rounding[] = {
      {"2.4", 2}, {"2.5", 2}, {"2.6", 3}, {"3.5", 4}, {"0.5000001", 1}};
  for (size_t i = 0; i < sizeof rounding / sizeof rounding[0]; i++) {
    char text[512], what[96];
    snprintf(text, sizeof text, W O "detector: {pixelscale: 1.0, fov_arcsec: %s}\n",
             rounding[i].fov);
    snprintf(what, sizeof what, "fov_arcsec %s at 1 arcsec/px -> %zu px", rounding[i].fov,
             rounding[i].pixels);
    job = PARSE_OK(text, what);
    if (job) PP_TEST_TRUE(job->detector.fov_pixels_x == rounding[i].pixels, what);
    pp_job_destroy(&job);
  }

  job = PARSE_OK(W O "detector:\n  pixelscale: 0.5\n  fov_pixels: 8\n  oversample: 64\n",
                 "block style detector, oversample at its limit");
  if (job) PP_TEST_TRUE(job->detector.oversample == 64, "oversample 64");
  pp_job_destroy(&job);
}

static void test_defaults(void) {
  pp_job *job = PARSE_OK(W "optics:\n  - circular_aperture:\n" D, "minimal job");
  if (!job) return;
  PP_TEST_TRUE(job->pupil_npix == 1024, "npix default 1024 (POPPY's)");
  PP_TEST_TRUE(job->method == PP_METHOD_AUTO, "method default auto");
  PP_TEST_TRUE(job->fft_oversample == 2, "fft_oversample default 2");
  PP_TEST_TRUE(job->detector.oversample == 2, "detector.oversample defaults to fft_oversample");
  PP_TEST_TRUE(job->normalize == PP_NORMALIZE_FIRST, "normalize default first");
  PP_TEST_TRUE(strcmp(job->output_path, "psf.h5") == 0, "output.path default psf.h5");
  PP_TEST_TRUE(job->output_cube, "output.cube default true");
  PP_TEST_NEAR(pp_optic_spec_get(&job->optics[0], "radius"), 1.0, 0.0,
               "null parameters: table default radius");
  PP_TEST_TRUE(!job->optics[0].given[0], "default not marked given");
  pp_job_destroy(&job);

  job = PARSE_OK(W O D "propagation: {fft_oversample: 4}\n", "fft_oversample 4");
  if (job) PP_TEST_TRUE(job->detector.oversample == 4, "oversample follows fft_oversample 4");
  pp_job_destroy(&job);

  job = PARSE_OK(W O D "propagation:\noutput:\npupil:\n", "empty optional sections");
  if (job) PP_TEST_TRUE(job->pupil_npix == 1024 && job->output_cube, "null sections = defaults");
  pp_job_destroy(&job);
}

static void test_other_values(void) {
  static const char *const words[] = {"auto", "mft", "czt"};
  for (int m = 0; m < 3; m++) {
    char text[512];
    snprintf(text, sizeof text, W O D "propagation: {method: %s, normalize: none}\n", words[m]);
    pp_job *job = PARSE_OK(text, words[m]);
    if (job) {
      PP_TEST_TRUE((int)job->method == m, "method word -> enum");
      PP_TEST_TRUE(strcmp(pp_method_name(job->method), words[m]) == 0, "pp_method_name");
      PP_TEST_TRUE(job->normalize == PP_NORMALIZE_NONE, "normalize none");
    }
    pp_job_destroy(&job);
  }
  PP_TEST_TRUE(strcmp(pp_normalize_name(PP_NORMALIZE_FIRST), "first") == 0, "normalize name");

  pp_job *job = PARSE_OK(
      "# a comment\n---\n" W
      "optics:\n"
      "  - circular_aperture: {radius: &r 3.25, name: primary, gray_pixel: false}\n"
      "  - zernike_wfe:\n"
      "      radius: *r\n"
      "      coefficients:\n"
      "        - 0\n"
      "        - 1.0e-8\n" D "output: {path: 'out dir/psf.h5', cube: false}\n"
      "pupil: {npix: 512.0}\n"
      "...\n",
      "block lists, anchors, quotes, document markers");
  if (job) {
    PP_TEST_TRUE(strcmp(job->optics[0].name, "primary") == 0, "name: sets spec.name");
    PP_TEST_NEAR(pp_optic_spec_get(&job->optics[0], "gray_pixel"), 0.0, 0.0, "bool false -> 0");
    PP_TEST_NEAR(pp_optic_spec_get(&job->optics[1], "radius"), 3.25, 0.0, "alias *r");
    PP_TEST_TRUE(job->optics[1].list_len == 2 && job->optics[1].list[1] == 1.0e-8, "block list");
    PP_TEST_TRUE(strcmp(job->output_path, "out dir/psf.h5") == 0 && !job->output_cube, "output");
    PP_TEST_TRUE(job->pupil_npix == 512, "512.0 is a whole number");
  }
  pp_job_destroy(&job);

  job = PARSE_OK(W O D "pupil: {npix: 16384}\n", "npix at its limit");
  pp_job_destroy(&job);
  job = PARSE_OK(W O D "pupil: {npix: 2}\n", "npix 2");
  pp_job_destroy(&job);
}

/* ---- errors: the file as a whole ----------------------------------------------------------- */

static void test_document_errors(void) {
  EXPECT_ERROR("", 1, 1, "empty", "empty text");
  EXPECT_ERROR("# nothing but a comment\n\n", 1, 1, "empty", "comments only");
  EXPECT_ERROR("~\n", 1, 1, "empty", "null document");
  EXPECT_ERROR_AT("just some words\n", "just", "expects a mapping", "root is text");
  EXPECT_ERROR_AT("- a\n- b\n", "- a", "expects a mapping", "root is a list");
  /* libyaml reports an unclosed bracket where the text ends, naming the line it opened. */
  EXPECT_ERROR(W O D "detector: {pixelscale: [1, 2\n", 6, 1, "which starts at line 5",
               "unclosed bracket");
  /* The stray colon line: libyaml reports where the mapping value cannot start. */
  EXPECT_ERROR(W "optics: - x\n", 2, 9, "not valid YAML", "block entry inside a flow value");
  EXPECT_ERROR(W "\tpupil: {npix: 4}\n", 2, 1, "not valid YAML", "tab indentation");
  /* second document's root is the mapping after '---': line 6, column 1 */
  EXPECT_ERROR(W O D "---\n" W, 6, 1, "second YAML document", "second document position");
  static const char with_nul[] = "pupil: {npix: 4}\nwave\0lengths: 1\n";
  pp_job *job = NULL;
  pp_status status = pp_job_parse_string(with_nul, sizeof with_nul - 1, NAME, &job);
  check_error(status, job, NAME, 2, 5, "NUL", __LINE__, "NUL byte");
  pp_status_free(status);
  EXPECT_ERROR_AT("pupil: {npix: 4}\nwavelengths: {min: \xff}\n", "\xff", "not valid YAML",
                  "invalid UTF-8");
}

static void test_key_errors(void) {
  EXPECT_ERROR_AT(W O D "bogus: 1\n", "bogus", "bogus", "unknown top-level key");
  EXPECT_MESSAGE_HAS(W O D "bogus: 1\n", "pupil, wavelengths, source, optics, detector, propagation",
                     "unknown key lists allowed keys");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: 10, oversampling: 2}\n",
                  "oversampling", "detector.oversampling", "unknown key in detector");
  EXPECT_ERROR_AT(W O D "pupil: {npix: 4, diameter: 1}\n", "diameter", "pupil.diameter",
                  "unknown key in pupil");
  EXPECT_ERROR_AT(W O D "output: {path: a.h5, compress: true}\n", "compress", "output.compress",
                  "unknown key in output");
  EXPECT_ERROR_AT(W O D "propagation: {fft: 2}\n", "fft:", "propagation.fft",
                  "unknown key in propagation");
  EXPECT_ERROR_AT(W O D "pupil: {npix: 512}\npupil: {npix: 256}\n", "pupil: {npix: 256}",
                  "duplicate key 'pupil'", "duplicate top-level key");
  EXPECT_ERROR_AT(W "optics:\n  - circular_aperture: {radius: 1, radius: 2}\n" D, "radius: 2",
                  "optics[0].circular_aperture.radius", "duplicate optic parameter");
  EXPECT_ERROR_AT(W O D "? [a, b]\n: 1\n", "[a, b]", "plain word", "list as a key");
  EXPECT_ERROR_AT(W O D "pupil: {npix: 4, ~: 1}\n", "~", "plain word", "null key");
}

/* ---- errors: values ---------------------------------------------------------------------- */

static void test_value_errors(void) {
  EXPECT_ERROR_AT(W O "detector: {pixelscale: abc, fov_pixels: 101}\n", "abc",
                  "detector.pixelscale", "text where a number");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: \"0.03\", fov_pixels: 101}\n", "\"0.03\"",
                  "without quotes", "quoted number");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 1e-6x, fov_pixels: 101}\n", "1e-6x",
                  "detector.pixelscale", "number with trailing junk");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: .nan, fov_pixels: 101}\n", ".nan", "finite",
                  "NaN");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: .inf, fov_pixels: 101}\n", ".inf", "finite", "inf");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: -inf, fov_pixels: 101}\n", "-inf", "finite",
                  "-inf");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 1e999, fov_pixels: 101}\n", "1e999", "too large",
                  "overflowing number");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0x10, fov_pixels: 101}\n", "0x10",
                  "detector.pixelscale", "hex number");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: , fov_pixels: 101}\n", ", fov",
                  "detector.pixelscale", "empty value where a number");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: [0.03], fov_pixels: 101}\n", "[0.03]",
                  "detector.pixelscale", "list where a number");
  EXPECT_ERROR_AT(W O D "output: {cube: yes}\n", "yes", "output.cube", "yes is not a boolean");
  EXPECT_ERROR_AT(W O D "output: {cube: True}\n", "True", "true or false", "True refused");
  EXPECT_ERROR_AT(W O D "output: {cube: \"true\"}\n", "\"true\"", "output.cube", "quoted true");
  EXPECT_ERROR_AT(W O D "output: {path: \"\"}\n", "\"\"", "output.path", "empty path");
  EXPECT_ERROR_AT(W O D "output: {path: }\n", "path: |}", "output.path", "null path");
  EXPECT_ERROR_AT(W O D "output: {path: [a.h5]}\n", "[a.h5]", "output.path", "list as path");
  EXPECT_ERROR_AT(W O D "output: [psf.h5]\n", "[psf.h5]", "output", "list where a mapping");
  EXPECT_ERROR_AT(W O D "pupil: 1024\n", "1024", "pupil", "number where a mapping");
  EXPECT_ERROR_AT(W O D "propagation: mft\n", "mft", "propagation", "word where a mapping");
}

static void test_pupil_errors(void) {
  EXPECT_ERROR_AT(W O D "pupil: {npix: -512}\n", "-512", "pupil.npix", "negative npix");
  EXPECT_ERROR_AT(W O D "pupil: {npix: 1}\n", "npix: |1}", "pupil.npix", "npix 1");
  EXPECT_ERROR_AT(W O D "pupil: {npix: 512.5}\n", "512.5", "whole number", "fractional npix");
  EXPECT_ERROR_AT(W O D "pupil: {npix: 100000}\n", "100000", "pupil.npix", "huge npix");
  EXPECT_MESSAGE_HAS(W O D "pupil: {npix: 100000}\n", "16384", "huge npix names the limit");
  EXPECT_MESSAGE_HAS(W O D "pupil: {npix: 16385}\n", "GiB", "huge npix explains the memory");
  EXPECT_ERROR_AT(W O D "pupil: {npix: 1e300}\n", "1e300", "pupil.npix", "absurd npix");
}

static void test_wavelength_errors(void) {
  EXPECT_ERROR(O D, 1, 1, "wavelengths", "missing wavelengths section");
  EXPECT_ERROR_AT(O D "wavelengths:\n", "wavelengths:", "wavelengths", "null wavelengths");
  EXPECT_ERROR_AT(O D "wavelengths: [1.0e-6]\n", "[1.0e-6]", "wavelengths", "bare list");
  EXPECT_ERROR_AT(O D "wavelengths: {list: [1.0e-6], min: 1.0e-6}\n", "min", "wavelengths.min",
                  "both forms");
  EXPECT_ERROR_AT(O D "wavelengths: {weights: [1]}\n", "wavelengths", "wavelengths",
                  "neither form");
  EXPECT_ERROR_AT(O D "wavelengths: {max: 2.0e-6, count: 2}\n", "wavelengths", "wavelengths.min",
                  "missing min");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 1.0e-6, max: 2.0e-6}\n", "wavelengths",
                  "wavelengths.count", "missing count");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 1.0e-6, count: 3}\n", "wavelengths", "wavelengths.max",
                  "missing max with count > 1");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 0}\n", "0}",
                  "wavelengths.count", "count 0");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 2.5}\n", "2.5",
                  "wavelengths.count", "fractional count");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 1000001}\n", "1000001",
                  "wavelengths.count", "count over the limit");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 1}\n", "2.0e-6",
                  "wavelengths.max", "count 1 with max != min");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 2.0e-6, max: 1.0e-6, count: 3}\n", "1.0e-6",
                  "wavelengths.max", "max < min");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 500, max: 600, count: 3}\n", "500", "wavelengths.min",
                  "wavelength in nm by mistake");
  EXPECT_ERROR_AT(O D "wavelengths: {min: 1.0e-6, max: 2.0, count: 3}\n", "2.0,",
                  "wavelengths.max", "max out of range");
  EXPECT_ERROR_AT(O D "wavelengths: {min: -1.0e-6, count: 1}\n", "-1.0e-6", "wavelengths.min",
                  "negative wavelength");
  EXPECT_ERROR_AT(O D "wavelengths: {list: []}\n", "[]", "wavelengths.list", "empty list");
  EXPECT_ERROR_AT(O D "wavelengths: {list: 1.0e-6}\n", "1.0e-6", "wavelengths.list",
                  "scalar where a list");
  EXPECT_ERROR_AT(O D "wavelengths: {list: [1.0e-6, 1 um]}\n", "1 um", "wavelengths.list[1]",
                  "list item not a number");
  EXPECT_ERROR_AT(O D "wavelengths: {list: [1.0e-6, 0.0]}\n", "0.0]", "wavelengths.list[1]",
                  "zero wavelength in list");
  EXPECT_ERROR_AT(O D "wavelengths: {list: [1.0e-6, 2.0e-6], weights: [1, 2, 3]}\n", "[1, 2, 3]",
                  "wavelengths.weights", "weights count differs");
  EXPECT_ERROR_AT(O D "wavelengths: {list: [1.0e-6, 2.0e-6], weights: [1, -2]}\n", "-2",
                  "wavelengths.weights[1]", "negative weight");
  EXPECT_ERROR_AT(O D "wavelengths: {list: [1.0e-6, 2.0e-6], weights: [0, 0]}\n", "[0, 0]",
                  "wavelengths.weights", "all weights zero");
  EXPECT_ERROR_AT(O D "wavelengths: {list: [1.0e-6, 2.0e-6], weights: [1e308, 1e308]}\n",
                  "[1e308", "wavelengths.weights", "weights sum overflows");
  EXPECT_ERROR_AT(O D "wavelengths: {list: [1.0e-6], weights: one}\n", "one",
                  "wavelengths.weights", "weights not a list");
}

static void test_optics_errors(void) {
  EXPECT_ERROR(W D, 1, 1, "optics", "missing optics section");
  EXPECT_ERROR_AT(W D "optics:\n", "optics:", "optics", "null optics");
  EXPECT_ERROR_AT(W D "optics: []\n", "[]", "optics", "empty optics list");
  EXPECT_ERROR_AT(W D "optics: {circular_aperture: {radius: 1}}\n", "{circular", "optics",
                  "mapping where the list of optics");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture\n", "circular_aperture", "optics[0]",
                  "bare word item");
  EXPECT_ERROR_AT(W D "optics:\n  - {}\n", "{}", "optics[0]", "empty item");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: {radius: 1}\n    zernike_wfe: {}\n",
                  "zernike_wfe", "optics[0]", "two optics in one item");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: {radius: 1}\n  - hubble_space_telescope: {}\n",
                  "hubble", "hubble_space_telescope", "unknown optic type");
  EXPECT_MESSAGE_HAS(W D "optics:\n  - warp_drive: {}\n", "circular_aperture, square_aperture",
                     "unknown type lists the allowed types");
  EXPECT_MESSAGE_HAS(W D "optics:\n  - type: circular_aperture\n", "write the type as the key",
                     "'type:' style gets a hint");
  /* did you mean: POPPY's class names and one edit away, nothing for others */
  EXPECT_MESSAGE_HAS(W D "optics:\n  - CircularAperture: {radius: 1}\n",
                     "(did you mean 'circular_aperture'?)", "POPPY class name → snake_case");
  EXPECT_MESSAGE_HAS(W D "optics:\n  - IdealFQPM: {}\n", "(did you mean 'ideal_fqpm'?)",
                     "POPPY class name with an acronym → snake_case");
  EXPECT_MESSAGE_HAS(W D "optics:\n  - FQPM_FFT_Aligner: {}\n", "(did you mean 'fqpm_fft_aligner'?)",
                     "POPPY class name with underscores → snake_case");
  EXPECT_MESSAGE_HAS(W D "optics:\n  - circular_aperture: {radius: 1}\n  - zernike_wf: {}\n",
                     "(did you mean 'zernike_wfe'?)", "optic type one letter short");
  EXPECT_MESSAGE_HAS(W D "optics:\n  - circular_aperture: {raidus: 1}\n",
                     "(did you mean 'radius'?)", "parameter with two letters swapped");
  EXPECT_MESSAGE_HAS(W O "detecter: {pixelscale: 0.01, fov_pixels: 8}\n",
                     "(did you mean 'detector'?)", "top-level key one letter changed");
  EXPECT_MESSAGE_LACKS(W D "optics:\n  - warp_drive: {}\n", "did you mean",
                       "no suggestion for a word far from every type");
  EXPECT_MESSAGE_LACKS(W D "optics:\n  - circular_aperture: {rad: 1}\n", "did you mean",
                       "no suggestion two edits away");
  EXPECT_MESSAGE_HAS("pupil:\n\tnpix: 64\n", "it is a tab character",
                     "a tab in the indentation is named as a tab");
  EXPECT_MESSAGE_LACKS("pupil: [1, 2\n", "tab character", "other YAML errors do not say tab");
  /* examples in messages are valid values of the key */
  EXPECT_MESSAGE_HAS("pupil: {npix: big}\n" W O D, "such as 1024,", "npix's example is a size");
  EXPECT_MESSAGE_HAS("wavelengths: {list: 5}\n" O D, "such as [1.0e-6, 2.5e-6]",
                     "wavelengths.list's example is in metres");
  EXPECT_MESSAGE_HAS("wavelengths: {min: 1.0e-6, max: 2.0e-6, count: x}\n" O D, "such as 64,",
                     "count's example is a whole number in range");
  EXPECT_ERROR_AT(W D "optics:\n  - [circular_aperture]: {}\n", "[circular", "optics[0]",
                  "list as the type");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: 3.25\n", "3.25",
                  "optics[0].circular_aperture", "number where parameters");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: {radius: 1, radios: 2}\n", "radios",
                  "optics[0].circular_aperture.radios", "unknown optic parameter");
  EXPECT_MESSAGE_HAS(W D "optics:\n  - circular_aperture: {radios: 2}\n",
                     "radius, gray_pixel, shift_x, shift_y, name",
                     "unknown parameter lists the allowed ones");
  EXPECT_ERROR_AT(W D "optics:\n  - zernike_wfe: {coefficients: [0, 1.0e-8]}\n", "zernike_wfe",
                  "optics[0].zernike_wfe.radius", "missing required parameter");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: {radius: -1}\n", "-1",
                  "optics[0].circular_aperture.radius", "parameter out of range");
  EXPECT_MESSAGE_HAS(W D "optics:\n  - circular_aperture: {radius: 0}\n", "must be > 0 m",
                     "exclusive minimum in the message");
  EXPECT_ERROR_AT(W D "optics:\n  - secondary_obscuration: {n_supports: 2.5}\n", "2.5",
                  "optics[0].secondary_obscuration.n_supports", "integer parameter fractional");
  EXPECT_ERROR_AT(W D "optics:\n  - secondary_obscuration: {n_supports: 361}\n", "361",
                  "n_supports", "integer parameter over its maximum");
  EXPECT_ERROR_AT(W D "optics:\n  - scalar_transmission: {transmission: 1.5}\n", "1.5",
                  "transmission", "parameter over an inclusive maximum");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: {gray_pixel: 1}\n", "gray_pixel: |1",
                  "optics[0].circular_aperture.gray_pixel", "number where a boolean");
  EXPECT_ERROR_AT(W D "optics:\n  - zernike_wfe: {radius: 1, coefficients: 5.0e-8}\n", "5.0e-8",
                  "optics[0].zernike_wfe.coefficients", "scalar where a list");
  EXPECT_ERROR_AT(W D "optics:\n  - zernike_wfe: {radius: 1, coefficients: []}\n", "[]",
                  "coefficients", "empty list parameter");
  EXPECT_ERROR_AT(W D "optics:\n  - zernike_wfe: {radius: 1, coefficients: [0, x]}\n", "x]",
                  "optics[0].zernike_wfe.coefficients[1]", "list item not a number");
  EXPECT_ERROR_AT(W D "optics:\n  - multi_hexagon_aperture: {segmentlist: [0, -1]}\n", "-1",
                  "segmentlist[1]", "list item out of range");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: {name: [a]}\n", "[a]",
                  "optics[0].circular_aperture.name", "name not text");
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: {name: "
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
                  "aaaa", "optics[0].circular_aperture.name", "name too long");
  /* A relation between parameters, checked by the type's validate: prefixed with position. */
  EXPECT_ERROR_AT(W D "optics:\n  - circular_aperture: {radius: 1}\n"
                      "  - hexagon_aperture: {side: 1, flattoflat: 1.7}\n",
                  "hexagon_aperture", "optics[1].hexagon_aperture", "type's validate fails");
}

static void test_detector_errors(void) {
  EXPECT_ERROR(W O, 1, 1, "detector", "missing detector section");
  EXPECT_ERROR_AT(W O "detector:\n", "detector", "detector.pixelscale", "null detector");
  EXPECT_ERROR_AT(W O "detector: {fov_pixels: 101}\n", "detector", "detector.pixelscale",
                  "missing pixelscale");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0, fov_pixels: 101}\n", "0,",
                  "detector.pixelscale", "zero pixelscale");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: 10, fov_arcsec: 0.3}\n",
                  "fov_arcsec", "detector.fov_arcsec", "both fov forms");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_arcsec: 0.3, fov_pixels: 10}\n",
                  "fov_pixels", "detector.fov_pixels", "both fov forms, pixels second");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03}\n", "detector", "fov_pixels",
                  "no field of view");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: 0}\n", "0}",
                  "detector.fov_pixels", "zero fov_pixels");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: 10.5}\n", "10.5",
                  "detector.fov_pixels", "fractional fov_pixels");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: [10, 20, 30]}\n", "[10",
                  "detector.fov_pixels", "three fov values");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: [10, -20]}\n", "-20",
                  "detector.fov_pixels[1]", "negative nx");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: {ny: 1}}\n", "{ny",
                  "detector.fov_pixels", "mapping as fov");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_arcsec: -1}\n", "-1",
                  "detector.fov_arcsec", "negative fov_arcsec");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_arcsec: 0.01}\n", "0.01",
                  "detector.fov_arcsec", "fov_arcsec under half a pixel");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_arcsec: [1, 0.001]}\n", "0.001",
                  "detector.fov_arcsec[1]", "fov_arcsec nx under half a pixel");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 1.0e-6, fov_arcsec: 1}\n", "1}",
                  "detector.fov_arcsec", "fov_arcsec too many pixels");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: 10, oversample: 0}\n", "0}",
                  "detector.oversample", "oversample 0");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: 10, oversample: 65}\n", "65",
                  "detector.oversample", "oversample 65");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: 4096, oversample: 64}\n", "64}",
                  "detector.oversample", "fov x oversample over the limit");
  EXPECT_ERROR_AT(W O "detector: {pixelscale: 0.03, fov_pixels: 100000}\n"
                      "propagation: {fft_oversample: 2}\n",
                  "100000", "detector", "fov x default oversample over the limit");
}

static void test_propagation_errors(void) {
  EXPECT_ERROR_AT(W O D "propagation: {method: MFT}\n", "MFT", "propagation.method",
                  "method is case-sensitive");
  EXPECT_MESSAGE_HAS(W O D "propagation: {method: fresnel}\n", "auto, mft, czt; got",
                     "bad method lists the words");
  EXPECT_ERROR_AT(W O D "propagation: {method: fft}\n", "fft}", "propagation.method",
                  "method fft (no pupil → detector FFT) refused where it stands");
  EXPECT_MESSAGE_HAS(W O D "propagation: {method: fft}\n", "auto, mft, czt; got 'fft'",
                     "method fft: the message lists the valid methods");
  PP_TEST_TRUE(strcmp(pp_method_name(PP_METHOD_FFT), "fft") == 0,
               "pp_method_name still names the FFT planes (provenance)");
  EXPECT_ERROR_AT(W O D "propagation: {method: [mft]}\n", "[mft]", "propagation.method",
                  "list as method");
  EXPECT_ERROR_AT(W O D "propagation: {fft_oversample: 0}\n", "0}", "propagation.fft_oversample",
                  "fft_oversample 0");
  EXPECT_ERROR_AT(W O D "propagation: {fft_oversample: 33}\n", "33", "propagation.fft_oversample",
                  "fft_oversample over the limit");
  EXPECT_ERROR_AT(W O D "propagation: {normalize: last}\n", "last", "propagation.normalize",
                  "normalize word");
}

/* ---- files ------------------------------------------------------------------------------- */

static void test_files(void) {
  pp_job *job = NULL;
  pp_status status = pp_job_parse_file("/nonexistent/dir/job.yaml", &job);
  PP_TEST_TRUE(pp_status_code(status) == PP_ERR_INPUT && job == NULL, "missing file: input error");
  PP_TEST_TRUE(strstr(pp_status_message(status), "/nonexistent/dir/job.yaml") != NULL,
               "missing file: message names the path");
  pp_status_free(status);

  status = pp_job_parse_file("/", &job);
  PP_TEST_TRUE(pp_status_code(status) == PP_ERR_INPUT && strstr(pp_status_message(status), "/:"),
               "a directory: input error naming it");
  pp_status_free(status);

  char path[] = "/tmp/pp_test_job_XXXXXX";
  int fd = mkstemp(path);
  static const char text[] = W O D;
  bool written = fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1);
  if (fd >= 0) close(fd);
  PP_TEST_TRUE(written, "temporary job file written");
  status = pp_job_parse_file(path, &job);
  PP_TEST_TRUE(status == PP_SUCCESS && job && strcmp(job->text, text) == 0 &&
                   strcmp(job->source_name, path) == 0,
               "file: text and source_name kept");
  pp_status_free(status);
  pp_job_destroy(&job);

  /* Unreadable: only meaningful when not root (root reads mode-000 files). */
  if (geteuid() != 0 && chmod(path, 0) == 0) {
    status = pp_job_parse_file(path, &job);
    PP_TEST_TRUE(pp_status_code(status) == PP_ERR_INPUT && strstr(pp_status_message(status), path),
                 "unreadable file: input error naming it");
    pp_status_free(status);
  }
  unlink(path);

  /* An error in a file carries the path as its name. */
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(W O "detector: {pixelscale: -1, fov_pixels: 3}\n", f);
    fclose(f);
  }
  status = pp_job_parse_file(path, &job);
  check_error(status, job, path, 4, 24, "detector.pixelscale", __LINE__, "file error position");
  pp_status_free(status);
  unlink(path);
}

/* Each .yaml file in tests/cli/bad_jobs starts with `# expect: L:C key`. */
static void test_bad_job_files(void) {
  const char *source = getenv("POLYPSF_SOURCE_DIR");
  if (!source) {
    printf("SKIP bad_jobs: POLYPSF_SOURCE_DIR not set\n");
    return;
  }
  char dir_path[1024];
  snprintf(dir_path, sizeof dir_path, "%s/tests/cli/bad_jobs", source);
  DIR *dir = opendir(dir_path);
  PP_TEST_TRUE(dir != NULL, "tests/cli/bad_jobs exists");
  if (!dir) return;
  int n_files = 0;
  struct dirent *entry;
  while ((entry = readdir(dir))) {
    size_t len = strlen(entry->d_name);
    if (len < 6 || strcmp(entry->d_name + len - 5, ".yaml") != 0) continue;
    char file[2048], first[512] = "", key[256] = "";
    snprintf(file, sizeof file, "%s/%s", dir_path, entry->d_name);
    FILE *f = fopen(file, "r");
    if (f) {
      if (!fgets(first, sizeof first, f)) first[0] = '\0';
      fclose(f);
    }
    int line = 0, column = 0;
    bool header = sscanf(first, "# expect: %d:%d %255s", &line, &column, key) == 3;
    pp_test_report(header, __FILE__, __LINE__, entry->d_name, header ? "" : "no # expect: line");
    if (!header) continue;
    pp_job *job = NULL;
    pp_status status = pp_job_parse_file(file, &job);
    check_error(status, job, file, line, column, key, __LINE__, entry->d_name);
    pp_status_free(status);
    pp_job_destroy(&job);
    n_files++;
  }
  closedir(dir);
  PP_TEST_TRUE(n_files >= 14, "at least 14 bad job files");
}

int main(void) {
  test_design_example();
  test_wavelength_forms();
  test_detector_forms();
  test_defaults();
  test_other_values();
  test_document_errors();
  test_key_errors();
  test_value_errors();
  test_pupil_errors();
  test_wavelength_errors();
  test_optics_errors();
  test_detector_errors();
  test_propagation_errors();
  test_files();
  test_bad_job_files();
  return pp_test_finish();
}
