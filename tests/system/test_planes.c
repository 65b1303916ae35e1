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
 *   - an image-plane optic or an aligner first in the list is refused with file:line:column;
 *   - output.planes: a request names the planes the stage structure implies (written out by
 *     hand per case: merged pupil optics share one plane, padded grids after an image plane);
 *   - the pupil optics after the last image plane are applied after the crop, on the central
 *     npix × npix, unless planes are asked for (then on the whole padded grid, as POPPY does):
 *     the PSF is the same bits both ways, for every kind of pupil optic, whether the stop is
 *     sampled on the npix grid directly (N − npix even) or on the N grid and cut (odd).
 * Truth for the FQPM itself: tests/physics/test_coronagraph.c (POPPY's reference). */
#include <string.h>

#include "polypsf/job.h"
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

/* output.planes: which planes a request gives, from the job's optics alone. Consecutive
 * pupil optics share the plane after the last of them; image-plane optics have one each;
 * pupil planes after an image plane sit on the padded grid; the detector comes last. */
static void pp_check_plane_list(void) {
  static const char head[] =
      "pupil: {npix: 32}\n"
      "wavelengths: {list: [1.0e-6]}\n"
      "optics:\n"
      "  - circular_aperture: {radius: 1.0}\n"                         /* 0 ┐ plane 1 */
      "  - scalar_transmission: {transmission: 0.5, name: gray}\n"     /* 1 ┘ */
      "  - fqpm_fft_aligner: {direction: forward}\n"                   /* 2   plane 2 */
      "  - ideal_fqpm: {wavelength: 1.0e-6, name: mask}\n"            /* 3   plane 3 */
      "  - square_field_stop: {size: 10.0}\n"                         /* 4   plane 4 */
      "  - fqpm_fft_aligner: {direction: backward}\n"                  /* 5 ┐ plane 6 */
      "  - circular_aperture: {radius: 0.9, name: lyot}\n"            /* 6 ┘ */
      "detector: {pixelscale: 0.02, fov_pixels: 16, oversample: 2}\n"  /*     plane 7 */
      "propagation: {fft_oversample: 2}\n"
      "output: {planes: ";
  static const struct {
    const char *request;
    size_t n;
    size_t index[6];
    pp_field_plane_kind kind[6];
    size_t side[6];
  } cases[] = {
      {"[0]", 1, {1}, {PP_FIELD_PUPIL}, {32}},
      {"[gray, mask, 5]", 3, {1, 3, 6}, {PP_FIELD_PUPIL, PP_FIELD_IMAGE, PP_FIELD_PUPIL},
       {32, 64, 64}},
      {"[detector, lyot, 0, 1]", 3, {1, 6, 7}, {PP_FIELD_PUPIL, PP_FIELD_PUPIL, PP_FIELD_DETECTOR},
       {32, 64, 32}},
      {"all", 6, {1, 2, 3, 4, 6, 7},
       {PP_FIELD_PUPIL, PP_FIELD_PUPIL, PP_FIELD_IMAGE, PP_FIELD_IMAGE, PP_FIELD_PUPIL,
        PP_FIELD_DETECTOR},
       {32, 32, 64, 64, 64, 32}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s%s}\n", head, cases[c].request);
    pp_job *job = NULL;
    pp_plane_info *planes = NULL;
    size_t n = 0;
    char what[160];
    snprintf(what, sizeof what, "planes: %s parses and lists", cases[c].request);
    PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "plane_list.yaml", &job), what);
    if (job) PP_TEST_OK(pp_system_requested_planes(job, &planes, &n), what);
    bool same = planes && n == cases[c].n;
    for (size_t k = 0; same && k < n; k++)
      same = planes[k].optic_index == cases[c].index[k] && planes[k].kind == cases[c].kind[k] &&
             planes[k].ny == cases[c].side[k] && planes[k].nx == cases[c].side[k];
    snprintf(what, sizeof what, "planes: %s gives the expected planes, kinds and grids",
             cases[c].request);
    PP_TEST_TRUE(same, what);
    free(planes);
    pp_job_destroy(&job);
  }
}

/* The PSF of a coronagraph whose optics after the Lyot stage are every kind of pupil optic,
 * without and with output.planes (which keeps the stop on the padded grid): same bits. */
static void pp_check_cropped_stops(int npix, int fft_oversample) {
  const char *format =
      "pupil: {npix: %d}\n"
      "wavelengths: {list: [1.6e-6]}\n"
      "optics:\n"
      "  - circular_aperture: {radius: 3.0, gray_pixel: true}\n"
      "  - fqpm_fft_aligner: {direction: forward}\n"
      "  - ideal_fqpm: {wavelength: 1.5e-6}\n"
      "  - fqpm_fft_aligner: {direction: backward}\n"
      "  - circular_aperture: {radius: 2.7, gray_pixel: true}\n"
      "  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}\n"
      "  - hexagon_aperture: {flattoflat: 5.6}\n"
      "  - rectangle_aperture: {width: 5.5, height: 5.0, rotation: 10}\n"
      "  - zernike_wfe: {radius: 3.0, coefficients: [0, 0, 0, 5.0e-8, 2.0e-8, 0, 1.0e-8]}\n"
      "detector: {pixelscale: 0.05, fov_pixels: 16, oversample: 2}\n"
      "propagation: {method: mft, fft_oversample: %d}\n"
      "%s";
  double *psf[2] = {NULL, NULL};
  size_t count[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    char yaml[2048];
    /* k = 1 asks for the Lyot stop's plane (optics[4]) */
    snprintf(yaml, sizeof yaml, format, npix, fft_oversample, k ? "output: {planes: [4]}\n" : "");
    pp_job *job = NULL;
    PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "cropped.yaml", &job), "the job parses");
    pp_system *system = NULL;
    if (job) PP_TEST_OK(pp_system_create(job, &system), "system builds");
    if (system) {
      size_t ny = 0, nx = 0;
      pp_system_psf_shape(system, &ny, &nx);
      count[k] = ny * nx;
      psf[k] = malloc(count[k] * sizeof **psf);
      if (psf[k]) PP_TEST_OK(pp_system_psf(system, 1.6e-6, psf[k]), "PSF computes");
    }
    pp_system_destroy(&system);
    pp_job_destroy(&job);
  }
  char what[160];
  snprintf(what, sizeof what, "npix %d × %d: the pupil optics after the crop give the same bits "
           "as on the padded grid", npix, fft_oversample);
  PP_TEST_TRUE(psf[0] && psf[1] && count[0] == count[1] &&
                   memcmp(psf[0], psf[1], count[0] * sizeof **psf) == 0,
               what);
  free(psf[0]);
  free(psf[1]);
}

int main(void) {
  pp_check_plane_list();
  pp_check_cropped_stops(64, 4); /* N − npix = 192: the stop sampled on the npix grid */
  pp_check_cropped_stops(45, 2); /* N − npix = 45: on the N grid, then cut */
  pp_check_wide_field_stop(PP_METHOD_MFT, "mft");
  pp_check_wide_field_stop(PP_METHOD_CZT, "czt");
  pp_check_aligner_is_tilt();
  pp_check_refused_first("annular_field_stop", "radius_outer", 1.0);
  pp_check_refused_first("fqpm_fft_aligner", NULL, 0.0);
  return pp_test_finish();
}
