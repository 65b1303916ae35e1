/* physics: the source — where it is on the sky and what spectrum it has.
 *
 * Off-axis sources. A tilt of the input wavefront is a shift of the PSF (Fourier shift
 * theorem): the off-axis PSF is the on-axis one moved by the offset, so the difference of
 * their centroids, in oversampled detector pixels, must be offset / pixelscale, with +x
 * along increasing column and +y along increasing row (POPPY's convention; for the polar
 * form POPPY's offset_x = −r·sin θ, offset_y = r·cos θ, θ counter-clockwise from +Y).
 * The centroid is flux-weighted inside a square window of half-width 40 pixels (4 λ/D at
 * the longer wavelength: core and first rings) centred on the current estimate, pixels
 * cut by the window counted by the fraction inside, iterated from the peak until it
 * stops moving: a centrosymmetric PSF is then measured at its centre, whatever its
 * sub-pixel position, without the bias of a window stuck on the peak pixel. Tolerance:
 * 1 % of a pixel, at 1 and 2 µm, for an (x, y) and an (r, θ) offset.
 * A zero offset (either form) must give the on-axis PSF bit for bit, and the offset limit
 * npix·λ/(2·D) is refused with the job file's position.
 *
 * Spectra. A spectrum file and the same numbers written in the job file give the same
 * pp_job bit for bit (wavelengths and normalized weights) and, run through the library
 * (pp_run → HDF5), the same /psf, /wavelengths and /weights bit for bit. */
#include <hdf5.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "h5_read.h"
#include "pp_test.h"

enum { PP_WINDOW_HALF_WIDTH_PX = 40 };

/* A 2 m circular pupil on 256 pixels, 0.01 arcsec oversampled pixels, 256 × 256 of them:
 * λ/D = 0.103 arcsec at 1 µm, 0.206 at 2 µm. */
static const char pp_base_job[] =
    "pupil: {npix: 256}\n"
    "wavelengths: {list: [1.0e-6, 2.0e-6]}\n"
    "optics:\n  - circular_aperture: {radius: 1.0}\n"
    "detector: {pixelscale: 0.02, fov_pixels: 128, oversample: 2}\n"
    "propagation: {method: mft}\n";

static pp_job *pp_parse(const char *text, const char *name) {
  pp_job *job = NULL;
  pp_status status = pp_job_parse_string(text, strlen(text), name, &job);
  pp_test_report(status == PP_SUCCESS, __FILE__, __LINE__, name, pp_status_message(status));
  pp_status_free(status);
  return job;
}

/* The job with a `source:` line appended (NULL: none). */
static pp_job *pp_job_with_source(const char *source_yaml) {
  char text[1024];
  snprintf(text, sizeof text, "%s%s%s%s", pp_base_job, source_yaml ? "source: " : "",
           source_yaml ? source_yaml : "", source_yaml ? "\n" : "");
  return pp_parse(text, source_yaml ? source_yaml : "on-axis job");
}

/* The PSF of job at wavelength_m (malloc'ed), its shape in ny, nx; NULL on failure. */
static double *pp_psf(const pp_job *job, double wavelength_m, size_t *ny, size_t *nx,
                      double *pixelscale_arcsec) {
  pp_system *system = NULL;
  pp_status status = pp_system_create(job, &system);
  double *psf = NULL;
  if (status == PP_SUCCESS) {
    pp_system_psf_shape(system, ny, nx);
    *pixelscale_arcsec = pp_system_pixelscale_arcsec(system);
    psf = malloc(*ny * *nx * sizeof *psf);
    if (psf) status = pp_system_psf(system, wavelength_m, psf);
  }
  if (status != PP_SUCCESS) {
    printf("FAIL PSF at %g m: %s\n", wavelength_m, pp_status_message(status));
    free(psf);
    psf = NULL;
  }
  pp_status_free(status);
  pp_system_destroy(&system);
  return psf;
}

/* Length of [a, b] inside [lo, hi]. */
static double pp_overlap(double a, double b, double lo, double hi) {
  double left = a > lo ? a : lo, right = b < hi ? b : hi;
  return right > left ? right - left : 0.0;
}

/* Flux-weighted centroid (x, y in pixels, array indices) in a square window of half-width
 * PP_WINDOW_HALF_WIDTH_PX, re-centred on its own result until it moves less than 1e-12 px. */
static void pp_window_centroid(const double *psf, size_t ny, size_t nx, double *cx, double *cy) {
  size_t peak = 0;
  for (size_t p = 1; p < ny * nx; p++)
    if (psf[p] > psf[peak]) peak = p;
  double x = (double)(peak % nx), y = (double)(peak / nx);
  const double w = PP_WINDOW_HALF_WIDTH_PX;
  for (int iteration = 0; iteration < 200; iteration++) {
    double sum = 0.0, sum_x = 0.0, sum_y = 0.0;
    long y0 = (long)floor(y - w) - 1, y1 = (long)ceil(y + w) + 1;
    long x0 = (long)floor(x - w) - 1, x1 = (long)ceil(x + w) + 1;
    for (long iy = y0 > 0 ? y0 : 0; iy <= y1 && iy < (long)ny; iy++) {
      double wy = pp_overlap(iy - 0.5, iy + 0.5, y - w, y + w);
      if (wy == 0.0) continue;
      for (long ix = x0 > 0 ? x0 : 0; ix <= x1 && ix < (long)nx; ix++) {
        double weight = wy * pp_overlap(ix - 0.5, ix + 0.5, x - w, x + w) * psf[iy * nx + ix];
        sum += weight;
        sum_x += weight * ix;
        sum_y += weight * iy;
      }
    }
    double new_x = sum_x / sum, new_y = sum_y / sum;
    double moved = fabs(new_x - x) + fabs(new_y - y);
    x = new_x;
    y = new_y;
    if (moved < 1e-12) break;
  }
  *cx = x;
  *cy = y;
}

/* The centroid of the job's PSF minus the on-axis one at each wavelength, against the
 * offset in pixels. */
static void pp_check_shift(const char *source_yaml, double want_x_arcsec, double want_y_arcsec) {
  pp_job *on_axis = pp_job_with_source(NULL), *off_axis = pp_job_with_source(source_yaml);
  if (!on_axis || !off_axis) goto done;
  PP_TEST_NEAR(off_axis->source.offset_x_arcsec, want_x_arcsec, 1e-15, "parsed offset_x");
  PP_TEST_NEAR(off_axis->source.offset_y_arcsec, want_y_arcsec, 1e-15, "parsed offset_y");
  for (size_t i = 0; i < off_axis->n_wavelengths; i++) {
    double lambda_m = off_axis->wavelengths_m[i], pixelscale_arcsec = 0.0;
    size_t ny = 0, nx = 0;
    double *reference = pp_psf(on_axis, lambda_m, &ny, &nx, &pixelscale_arcsec);
    double *shifted = pp_psf(off_axis, lambda_m, &ny, &nx, &pixelscale_arcsec);
    if (reference && shifted) {
      double x0, y0, x1, y1;
      pp_window_centroid(reference, ny, nx, &x0, &y0);
      pp_window_centroid(shifted, ny, nx, &x1, &y1);
      char what[256];
      snprintf(what, sizeof what, "%s at %.0f nm: centroid x shift (px)", source_yaml,
               lambda_m * 1e9);
      PP_TEST_NEAR(x1 - x0, want_x_arcsec / pixelscale_arcsec, 0.01, what);
      snprintf(what, sizeof what, "%s at %.0f nm: centroid y shift (px)", source_yaml,
               lambda_m * 1e9);
      PP_TEST_NEAR(y1 - y0, want_y_arcsec / pixelscale_arcsec, 0.01, what);
      if (i == 0) {
        snprintf(what, sizeof what, "on-axis centroid at the array centre ((n-1)/2 = %.1f)",
                 (nx - 1) / 2.0);
        PP_TEST_NEAR(x0, (nx - 1) / 2.0, 1e-9, what);
        PP_TEST_NEAR(y0, (ny - 1) / 2.0, 1e-9, "on-axis centroid y at the array centre");
      }
    }
    free(reference);
    free(shifted);
  }
done:
  pp_job_destroy(&on_axis);
  pp_job_destroy(&off_axis);
}

static void pp_check_offsets(void) {
  /* 13.7 and −8.3 oversampled pixels: a fraction of a pixel on both axes. */
  pp_check_shift("{offset_x: 0.137, offset_y: -0.083}", 0.137, -0.083);
  /* POPPY's form: 30° counter-clockwise from +Y is towards −x: (−r/2, r·√3/2). */
  pp_check_shift("{offset_r: 0.25, offset_theta: 30}", -0.125, 0.25 * sqrt(3.0) / 2.0);
  /* 90° from +Y is −x exactly (up to cos(π/2) ≈ 6e-17 of r on y). */
  pp_check_shift("{offset_r: 0.1, offset_theta: 90}", -0.1, 0.0);
}

static void pp_check_zero_offset_is_on_axis(void) {
  static const char *const zero_forms[] = {"{offset_x: 0, offset_y: 0}",
                                           "{offset_r: 0, offset_theta: 30}", "{}"};
  pp_job *on_axis = pp_job_with_source(NULL);
  for (size_t f = 0; on_axis && f < sizeof zero_forms / sizeof zero_forms[0]; f++) {
    pp_job *zero = pp_job_with_source(zero_forms[f]);
    for (size_t i = 0; zero && i < zero->n_wavelengths; i++) {
      size_t ny = 0, nx = 0;
      double scale = 0.0;
      double *a = pp_psf(on_axis, zero->wavelengths_m[i], &ny, &nx, &scale);
      double *b = pp_psf(zero, zero->wavelengths_m[i], &ny, &nx, &scale);
      char what[160];
      snprintf(what, sizeof what, "source %s at %.0f nm: the on-axis PSF bit for bit",
               zero_forms[f], zero->wavelengths_m[i] * 1e9);
      PP_TEST_TRUE(a && b && memcmp(a, b, ny * nx * sizeof *a) == 0, what);
      free(a);
      free(b);
    }
    pp_job_destroy(&zero);
  }
  pp_job_destroy(&on_axis);
}

/* npix·λ/(2·D) at the shortest wavelength: 256 · 1e-6 / 4 rad = 13.2 arcsec. */
static void pp_check_offset_limit(void) {
  pp_job *job = pp_job_with_source("{offset_x: 14, offset_y: 0}");
  if (!job) return;
  double diameter_m = 0.0;
  pp_status status = pp_system_check_job(job, &diameter_m);
  const char *message = pp_status_message(status);
  PP_TEST_TRUE(pp_status_code(status) == PP_ERR_INPUT && strstr(message, "{offset_x: 14") &&
                   strstr(message, ":7:1: source:") && strstr(message, "13.2"),
               "offset beyond npix·λ/(2·D) refused at the source key, naming the limit");
  if (status) printf("  (%s)\n", message);
  pp_status_free(status);
  pp_job_destroy(&job);

  job = pp_job_with_source("{offset_x: 13, offset_y: -13}");
  if (job) PP_TEST_OK(pp_system_check_job(job, &diameter_m), "13 arcsec: inside the limit");
  pp_job_destroy(&job);
}

/* ---- spectra end to end ------------------------------------------------------------------- */

static bool pp_same_dataset(const char *a_path, const char *b_path, const char *name) {
  size_t na = 0, nb = 0;
  double *a = pp_h5_read(a_path, name, NULL, NULL, &na), *b = pp_h5_read(b_path, name, NULL, NULL, &nb);
  bool same = a && b && na == nb && memcmp(a, b, na * sizeof *a) == 0;
  free(a);
  free(b);
  return same;
}

static void pp_check_spectrum_file_run(void) {
  char dir[] = "/tmp/pp_test_source_XXXXXX";
  if (!mkdtemp(dir)) {
    PP_TEST_TRUE(false, "temporary directory");
    return;
  }
  /* A small made-up spectrum: comments, a blank line, tabs and a comma separator. */
  static const char spectrum[] =
      "# wavelength [m]   photons\n"
      "1.0e-6  0.5\n"
      "\n"
      "1.2e-6\t1.25   # peak\n"
      "1.4e-6, 0.75\n"
      "1.7e-6  0.1\n";
  char spectrum_path[256], job_name[256], out_file[256], out_inline[256];
  snprintf(spectrum_path, sizeof spectrum_path, "%s/spectrum.txt", dir);
  snprintf(job_name, sizeof job_name, "%s/job.yaml", dir);
  snprintf(out_file, sizeof out_file, "%s/from_file.h5", dir);
  snprintf(out_inline, sizeof out_inline, "%s/inline.h5", dir);
  FILE *f = fopen(spectrum_path, "w");
  if (f) {
    fputs(spectrum, f);
    fclose(f);
  }
  static const char tail[] =
      "optics:\n  - circular_aperture: {radius: 1.0}\n"
      "  - zernike_wfe: {radius: 1.0, coefficients: [0, 2.0e-8, 0, 3.0e-8]}\n"
      "detector: {pixelscale: 0.02, fov_pixels: 32, oversample: 2}\n"
      "source: {offset_r: 0.05, offset_theta: 120}\n"
      "pupil: {npix: 128}\n"
      "propagation: {method: mft}\n";
  char file_text[1024], inline_text[1024];
  /* relative to the job file's directory */
  snprintf(file_text, sizeof file_text, "wavelengths: {file: spectrum.txt}\n%s", tail);
  snprintf(inline_text, sizeof inline_text,
           "wavelengths:\n  list: [1.0e-6, 1.2e-6, 1.4e-6, 1.7e-6]\n"
           "  weights: [0.5, 1.25, 0.75, 0.1]\n%s",
           tail);
  pp_job *from_file = pp_parse(file_text, job_name), *written = pp_parse(inline_text, job_name);
  if (from_file && written) {
    PP_TEST_TRUE(from_file->n_wavelengths == 4 && written->n_wavelengths == 4, "4 wavelengths");
    PP_TEST_TRUE(memcmp(from_file->wavelengths_m, written->wavelengths_m, 4 * sizeof(double)) == 0,
                 "file and inline: wavelengths bit for bit");
    PP_TEST_TRUE(memcmp(from_file->weights, written->weights, 4 * sizeof(double)) == 0,
                 "file and inline: normalized weights bit for bit");
    PP_TEST_NEAR(from_file->weights[1], 1.25 / 2.6, 1e-16, "weight normalized by the sum 2.6");
    pp_run_options options = {.force = true};
    pp_run_summary summary;
    options.output_path = out_file;
    PP_TEST_OK(pp_run(from_file, &options, MPI_COMM_WORLD, &summary), "run with the file");
    options.output_path = out_inline;
    PP_TEST_OK(pp_run(written, &options, MPI_COMM_WORLD, &summary), "run with the inline list");
    PP_TEST_TRUE(pp_same_dataset(out_file, out_inline, "/psf"), "/psf bit for bit");
    PP_TEST_TRUE(pp_same_dataset(out_file, out_inline, "/cube"), "/cube bit for bit");
    PP_TEST_TRUE(pp_same_dataset(out_file, out_inline, "/wavelengths"), "/wavelengths bit for bit");
    PP_TEST_TRUE(pp_same_dataset(out_file, out_inline, "/weights"), "/weights bit for bit");
    size_t n = 0;
    double *weights = pp_h5_read(out_file, "/weights", NULL, NULL, &n);
    PP_TEST_TRUE(weights && n == 4 && memcmp(weights, from_file->weights, 4 * sizeof(double)) == 0,
                 "the output's /weights are the spectrum's normalized weights");
    free(weights);
  }
  pp_job_destroy(&from_file);
  pp_job_destroy(&written);
  unlink(out_file);
  unlink(out_inline);
  unlink(spectrum_path);
  rmdir(dir);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  pp_check_offsets();
  pp_check_zero_offset_is_on_axis();
  pp_check_offset_limit();
  pp_check_spectrum_file_run();
  int code = pp_test_finish();
  MPI_Finalize();
  return code;
}
