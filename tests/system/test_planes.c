/* system, image planes: the plane sequence pupil → (pad, FFT) → image → (FFT) → pupil → crop →
 * detector, checked against truths that do not use it:
 *   - an image-plane field stop far larger than the field passes everything, and the padded
 *     FFT round trip is exact to rounding: the PSF equals the same system without the stop
 *     (the MFT straight from the pupil) to 1e-12 of the peak, with the MFT and the chirp-z;
 *   - fqpm_fft_aligner in a system without image planes is a pure tilt of half a padded-FFT
 *     pixel: the PSF equals the same system with the source offset by −λ/(2·D·fft_oversample)
 *     on both axes (system.c's independent tilt code) to 1e-12 of the peak;
 *   - the memory model counts the padded planes: bytes ≥ those without the stop plus
 *     (npix·fft_oversample)²·16, and the job-only estimate equals the built system's;
 *   - an image-plane optic or an aligner first in the list is refused with file:line:column.
 * Truth for the FQPM itself: tests/physics/test_coronagraph.c (POPPY's reference). */
#include <string.h>

#include "polypsf/system.h"
#include "pp_test.h"

enum { PP_TEST_MAX_OPTICS = 6 };

typedef struct {
  pp_job job;
  pp_optic_spec optics[PP_TEST_MAX_OPTICS];
  double wavelength_m, weight;
} pp_planes_job;

static void pp_planes_job_init(pp_planes_job *t, size_t npix) {
  memset(t, 0, sizeof *t);
  t->wavelength_m = 1e-6;
  t->weight = 1.0;
  t->job = (pp_job){.source_name = "test_planes", .pupil_npix = npix, .n_wavelengths = 1,
                    .wavelengths_m = &t->wavelength_m, .weights = &t->weight,
                    .optics = t->optics,
                    .detector = {.pixelscale_arcsec = 0.02, .fov_pixels_y = 32,
                                 .fov_pixels_x = 32, .oversample = 2},
                    .method = PP_METHOD_MFT, .fft_oversample = 4,
                    .normalize = PP_NORMALIZE_FIRST};
}

static pp_optic_spec *pp_planes_add(pp_planes_job *t, const char *type_name, const char *key,
                                    double value) {
  const pp_optic_type *type = pp_optic_type_find(type_name);
  if (!type || t->job.n_optics >= PP_TEST_MAX_OPTICS) {
    printf("FAIL cannot add optic %s\n", type_name);
    exit(1);
  }
  pp_optic_spec *spec = &t->optics[t->job.n_optics++];
  pp_optic_spec_init(spec, type);
  snprintf(spec->name, sizeof spec->name, "%s", type_name);
  if (key) {
    pp_status s = pp_optic_spec_set(spec, key, value);
    if (s) {
      printf("FAIL setting %s: %s\n", key, pp_status_message(s));
      exit(1);
    }
  }
  return spec;
}

static void pp_planes_job_clear(pp_planes_job *t) {
  for (size_t j = 0; j < t->job.n_optics; j++) pp_optic_spec_clear(&t->optics[j]);
}

/* The PSF of t with method (malloc'ed; NULL on failure); *bytes gets pp_system_bytes. */
static double *pp_planes_psf(pp_planes_job *t, pp_method method, size_t *count, size_t *bytes) {
  pp_system *system = NULL;
  PP_TEST_OK(pp_system_create_with_method(&t->job, method, &system), "system builds");
  if (!system) return NULL;
  size_t ny = 0, nx = 0;
  pp_system_psf_shape(system, &ny, &nx);
  *count = ny * nx;
  if (bytes) *bytes = pp_system_bytes(system);
  double *psf = malloc(*count * sizeof *psf);
  PP_TEST_OK(pp_system_psf(system, t->wavelength_m, psf), "PSF computes");
  pp_system_destroy(&system);
  return psf;
}

/* max|a − b| / max(b) */
static double pp_planes_worst(const double *a, const double *b, size_t count) {
  double worst = 0.0, peak = 0.0;
  for (size_t p = 0; p < count; p++) {
    worst = fmax(worst, fabs(a[p] - b[p]));
    peak = fmax(peak, b[p]);
  }
  return worst / peak;
}

static void pp_check_wide_field_stop(pp_method method, const char *label) {
  pp_planes_job with_stop, without;
  pp_planes_job_init(&with_stop, 64);
  pp_planes_add(&with_stop, "circular_aperture", "radius", 1.0);
  /* the FFT image plane spans 64·4 pixels of λ/(8 m) ≈ 6.6 arcsec: 1000 arcsec stops nothing */
  pp_planes_add(&with_stop, "annular_field_stop", "radius_outer", 1000.0);
  pp_planes_job_init(&without, 64);
  pp_planes_add(&without, "circular_aperture", "radius", 1.0);
  size_t count = 0, count_ref = 0, bytes = 0, bytes_ref = 0, bytes_job = 0;
  double *psf = pp_planes_psf(&with_stop, method, &count, &bytes);
  double *ref = pp_planes_psf(&without, method, &count_ref, &bytes_ref);
  if (psf && ref && count == count_ref) {
    char what[160];
    snprintf(what, sizeof what, "%s: a field stop wider than the field changes nothing "
             "(max|Δ| / peak)", label);
    PP_TEST_NEAR(pp_planes_worst(psf, ref, count), 0.0, 1e-12, what);
    size_t padded = 64 * 4;
    snprintf(what, sizeof what, "%s: bytes count the padded plane (N²·16 more)", label);
    PP_TEST_TRUE(bytes >= bytes_ref + padded * padded * 16, what);
    with_stop.job.method = method;
    PP_TEST_OK(pp_system_bytes_for_job(&with_stop.job, &bytes_job), "bytes from the job");
    snprintf(what, sizeof what, "%s: job-only bytes equal the built system's", label);
    PP_TEST_TRUE(bytes_job == bytes, what);
  }
  free(psf);
  free(ref);
  pp_planes_job_clear(&with_stop);
  pp_planes_job_clear(&without);
}

static void pp_check_aligner_is_tilt(void) {
  pp_planes_job aligned, tilted;
  pp_planes_job_init(&aligned, 64);
  pp_planes_add(&aligned, "circular_aperture", "radius", 1.0);
  pp_planes_add(&aligned, "fqpm_fft_aligner", NULL, 0.0); /* forward */
  pp_planes_job_init(&tilted, 64);
  pp_planes_add(&tilted, "circular_aperture", "radius", 1.0);
  /* the aligner's phase π·x/(D·os) is the tilt exp(−2πi·x·θ/λ) with θ = −λ/(2·D·os) */
  double theta_arcsec = -tilted.wavelength_m / (2.0 * 2.0 * 4.0) * (180.0 * 3600.0 / PP_PI);
  tilted.job.source.offset_x_arcsec = tilted.job.source.offset_y_arcsec = theta_arcsec;
  size_t count = 0, count_ref = 0;
  double *psf = pp_planes_psf(&aligned, PP_METHOD_MFT, &count, NULL);
  double *ref = pp_planes_psf(&tilted, PP_METHOD_MFT, &count_ref, NULL);
  if (psf && ref && count == count_ref)
    PP_TEST_NEAR(pp_planes_worst(psf, ref, count), 0.0, 1e-12,
                 "aligner without image planes = source offset −λ/(2·D·os) (max|Δ| / peak)");
  free(psf);
  free(ref);
  pp_planes_job_clear(&aligned);
  pp_planes_job_clear(&tilted);
}

static void pp_check_refused_first(const char *type_name, const char *key, double value) {
  pp_planes_job t;
  pp_system *system = NULL;
  pp_planes_job_init(&t, 64);
  pp_optic_spec *first = pp_planes_add(&t, type_name, key, value);
  first->line = 4;
  first->column = 5;
  pp_planes_add(&t, "circular_aperture", "radius", 1.0);
  pp_status s = pp_system_create(&t.job, &system);
  char what[160];
  snprintf(what, sizeof what, "%s first: refused (input error) at test_planes:4:5", type_name);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && system == NULL &&
                   strstr(pp_status_message(s), "test_planes:4:5") &&
                   strstr(pp_status_message(s), type_name),
               what);
  pp_status_free(s);
  pp_planes_job_clear(&t);
}

int main(void) {
  pp_check_wide_field_stop(PP_METHOD_MFT, "mft");
  pp_check_wide_field_stop(PP_METHOD_CZT, "czt");
  pp_check_aligner_is_tilt();
  pp_check_refused_first("annular_field_stop", "radius_outer", 1.0);
  pp_check_refused_first("fqpm_fft_aligner", NULL, 0.0);
  return pp_test_finish();
}
