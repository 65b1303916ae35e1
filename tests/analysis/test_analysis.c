/* analysis: encircled energy, radial profile, FWHM and centroid against independent truths.
 *
 *  - geometry: on an image of ones the encircled energy is the circle's area, π r², also
 *    when the circle is cut by the image's edge (a quarter disk about a corner);
 *  - the Airy pattern of a clear circular aperture, computed by the library at 8 pixels per
 *    λ/D (as tests/physics/test_airy.c builds it), centred on a pixel (odd array) and between
 *    four pixels (even array): encircled energy inside the first dark ring 1 − J0(3.8317)² =
 *    83.8 % and FWHM 1.029 λ/D (from the J1 series here, not from the library), each to 0.5 %;
 *  - a Gaussian: FWHM 2√(2 ln 2)·σ, centroid of a shifted copy to 1e-6 pixel;
 *  - the error paths. */
#include <string.h>

#include "polypsf/analysis.h"
#include "polypsf/system.h"
#include "pp_test.h"

/* ---- truths, computed here ---------------------------------------------------------- */

/* Power series J_n(x) = Σ_k (−1)^k (x/2)^(2k+n) / (k!·(k+n)!), accurate to ~1e-15 for x < 8. */
static double bessel_j(int n, double x) {
  double term = 1.0;
  for (int i = 1; i <= n; i++) term *= (x / 2.0) / i;
  double sum = term;
  for (int k = 1; k < 60; k++) {
    term *= -(x / 2.0) * (x / 2.0) / ((double)k * (double)(k + n));
    sum += term;
  }
  return sum;
}

static const double j1_first_zero = 3.8317059702075123;

/* x where the Airy intensity (2·J1(x)/x)² is one half, by bisection on [1, 2]. */
static double airy_half_max_x(void) {
  double lo = 1.0, hi = 2.0;
  for (int i = 0; i < 100; i++) {
    double mid = 0.5 * (lo + hi), a = 2.0 * bessel_j(1, mid) / mid;
    if (a * a > 0.5) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/* ---- the library's Airy PSF ---------------------------------------------------------- */

typedef struct {
  pp_job job;
  pp_optic_spec circle;
  double wavelength_m, weight;
} airy_job;

/* A circular aperture of radius_m filling an npix pupil; n_out × n_out pixels of
 * pixelscale_arcsec; the caller frees the returned PSF. */
static double *airy_psf(size_t npix, double radius_m, double wavelength_m,
                        double pixelscale_arcsec, size_t n_out) {
  airy_job t;
  memset(&t, 0, sizeof t);
  t.wavelength_m = wavelength_m;
  t.weight = 1.0;
  pp_optic_spec_init(&t.circle, pp_optic_type_find("circular_aperture"));
  snprintf(t.circle.name, sizeof t.circle.name, "circular_aperture");
  PP_TEST_OK(pp_optic_spec_set(&t.circle, "radius", radius_m), "aperture radius set");
  t.job = (pp_job){.source_name = "test_analysis", .pupil_npix = npix, .n_wavelengths = 1,
                   .wavelengths_m = &t.wavelength_m, .weights = &t.weight, .n_optics = 1,
                   .optics = &t.circle,
                   .detector = {.pixelscale_arcsec = pixelscale_arcsec, .fov_pixels_y = n_out,
                                .fov_pixels_x = n_out, .oversample = 1},
                   .method = PP_METHOD_MFT, .fft_oversample = 2, .normalize = PP_NORMALIZE_FIRST};
  pp_system *system = NULL;
  double *psf = NULL;
  PP_TEST_OK(pp_system_create(&t.job, &system), "circular aperture system builds");
  if (system) {
    size_t ny = 0, nx = 0;
    pp_system_psf_shape(system, &ny, &nx);
    if (ny == n_out && nx == n_out) {
      psf = malloc(ny * nx * sizeof *psf);
      PP_TEST_OK(pp_system_psf(system, wavelength_m, psf), "Airy PSF computes");
    }
  }
  pp_system_destroy(&system);
  pp_optic_spec_clear(&t.circle);
  return psf;
}

static void check_airy(size_t n_out, const char *label) {
  const double pixels_per_lambda_over_d = 8.0, diameter_m = 2.0, wavelength_m = 1e-6;
  double pixel_arcsec = wavelength_m / diameter_m / pixels_per_lambda_over_d * PP_ARCSEC_PER_RADIAN;
  double *psf = airy_psf(512, 0.5 * diameter_m, wavelength_m, pixel_arcsec, n_out);
  char what[200];
  snprintf(what, sizeof what, "%s: Airy PSF of %zu x %zu pixels", label, n_out, n_out);
  PP_TEST_TRUE(psf != NULL, what);
  if (!psf) return;
  pp_image image = {.values = psf, .ny = n_out, .nx = n_out};
  double centre = 0.5 * (double)(n_out - 1);

  /* encircled energy inside the first dark ring */
  double ring_px = j1_first_zero / PP_PI * pixels_per_lambda_over_d;
  double j0 = bessel_j(0, j1_first_zero), energy = -1.0;
  PP_TEST_OK(pp_analysis_encircled_energy(&image, centre, centre, ring_px, &energy),
             "encircled energy computes");
  snprintf(what, sizeof what,
           "%s: EE(first dark ring 1.2197 λ/D) / (1 − J0(3.8317)²) = 1 within 0.5 %%", label);
  PP_TEST_NEAR(energy / (1.0 - j0 * j0), 1.0, 5e-3, what);
  printf("     %s: EE at the first dark ring %.6f (analytic %.6f)\n", label, energy, 1.0 - j0 * j0);

  /* FWHM */
  double fwhm_px = -1.0, peak = -1.0;
  double want_fwhm_lambda_over_d = 2.0 * airy_half_max_x() / PP_PI;
  PP_TEST_OK(pp_analysis_fwhm(&image, centre, centre, 0.0, &fwhm_px, &peak), "FWHM computes");
  snprintf(what, sizeof what, "%s: FWHM / %.6f λ/D = 1 within 0.5 %%", label,
           want_fwhm_lambda_over_d);
  PP_TEST_NEAR(fwhm_px / pixels_per_lambda_over_d / want_fwhm_lambda_over_d, 1.0, 5e-3, what);
  printf("     %s: FWHM %.6f λ/D (analytic %.6f)\n", label, fwhm_px / pixels_per_lambda_over_d,
         want_fwhm_lambda_over_d);

  /* the extrapolated maximum against the analytic Airy peak π·D²·p²/(4λ²) (test_airy: the
   * gray-edge pupil makes it 1.3e-3 high at 256 pupil pixels across the radius) */
  double pixel_rad = pixel_arcsec / PP_ARCSEC_PER_RADIAN;
  double analytic_peak = PP_PI * diameter_m * diameter_m * pixel_rad * pixel_rad /
                         (4.0 * wavelength_m * wavelength_m);
  snprintf(what, sizeof what, "%s: the FWHM's maximum is the Airy peak within 0.5 %%", label);
  PP_TEST_NEAR(peak / analytic_peak, 1.0, 5e-3, what);

  /* centroid of a centred symmetric PSF: the array centre; with POPPY's defaults within
   * its convergence threshold of 1e-4 pixel, with a tight threshold to 1e-9 pixel */
  pp_centroid c;
  PP_TEST_OK(pp_analysis_centroid(&image, NULL, &c), "centroid (POPPY's defaults) computes");
  snprintf(what, sizeof what, "%s: default centroid is the array centre within 1e-4 px", label);
  PP_TEST_TRUE(c.converged && fabs(c.x_px - centre) < 1e-4 && fabs(c.y_px - centre) < 1e-4, what);
  printf("     %s: default centroid (%.3e, %.3e) px from the centre after %d iterations\n",
         label, c.x_px - centre, c.y_px - centre, c.iterations);
  pp_centroid_options tight = PP_CENTROID_OPTIONS_DEFAULT;
  tight.threshold_px = 1e-12;
  tight.max_iterations = 100;
  PP_TEST_OK(pp_analysis_centroid(&image, &tight, &c), "centroid (threshold 1e-12) computes");
  snprintf(what, sizeof what, "%s: tight centroid is the array centre within 1e-9 px", label);
  PP_TEST_TRUE(c.converged && fabs(c.x_px - centre) < 1e-9 && fabs(c.y_px - centre) < 1e-9, what);
  free(psf);
}

/* ---- Gaussians ------------------------------------------------------------------------ */

static double *gaussian_image(size_t ny, size_t nx, double cx, double cy, double sigma) {
  double *g = malloc(ny * nx * sizeof *g);
  for (size_t y = 0; y < ny; y++)
    for (size_t x = 0; x < nx; x++) {
      double dx = (double)x - cx, dy = (double)y - cy;
      g[y * nx + x] = exp(-(dx * dx + dy * dy) / (2.0 * sigma * sigma));
    }
  return g;
}

static void check_gaussian(void) {
  const size_t n = 81;
  const double sigma = 2.5, cx = 40.3172, cy = 37.8841;
  double *g = gaussian_image(n, n, cx, cy, sigma);
  pp_image image = {.values = g, .ny = n, .nx = n};

  pp_centroid_options tight = PP_CENTROID_OPTIONS_DEFAULT;
  tight.threshold_px = 1e-12;
  tight.max_iterations = 50;
  pp_centroid c;
  PP_TEST_OK(pp_analysis_centroid(&image, &tight, &c), "floating-box centroid computes");
  PP_TEST_TRUE(c.converged, "floating box converged");
  PP_TEST_NEAR(c.x_px, cx, 1e-6, "floating-box centroid x of a shifted Gaussian (pixels)");
  PP_TEST_NEAR(c.y_px, cy, 1e-6, "floating-box centroid y of a shifted Gaussian (pixels)");
  printf("     floating box: %d iterations, error (%.2e, %.2e) px\n", c.iterations, c.x_px - cx,
         c.y_px - cy);

  pp_centroid_options whole = {.halfwidth_px = 0, .max_iterations = 1, .threshold_px = 0.0};
  PP_TEST_OK(pp_analysis_centroid(&image, &whole, &c), "whole-image centroid computes");
  PP_TEST_NEAR(c.x_px, cx, 1e-6, "whole-image centroid x of a shifted Gaussian (pixels)");
  PP_TEST_NEAR(c.y_px, cy, 1e-6, "whole-image centroid y of a shifted Gaussian (pixels)");

  /* POPPY's default threshold (1e-4 px): still far inside 1e-4 */
  PP_TEST_OK(pp_analysis_centroid(&image, NULL, &c), "default centroid computes");
  PP_TEST_NEAR(c.x_px, cx, 1e-4, "default floating box: x within its 1e-4 px threshold");

  /* FWHM of the Gaussian about its true centre: 2·√(2 ln 2)·σ */
  double fwhm = 0.0, peak = 0.0;
  PP_TEST_OK(pp_analysis_fwhm(&image, cx, cy, 0.0, &fwhm, &peak), "Gaussian FWHM computes");
  PP_TEST_NEAR(fwhm / (2.0 * sqrt(2.0 * log(2.0)) * sigma), 1.0, 1e-3,
               "Gaussian FWHM = 2√(2 ln 2)·σ within 0.1 %");
  PP_TEST_NEAR(peak, 1.0, 1e-3, "Gaussian peak extrapolated to its centre = 1 within 0.1 %");

  /* Encircled energy of the Gaussian: 2πσ²·(1 − exp(−r²/2σ²)). Each pixel is taken as
   * uniformly bright, which puts too little light inside where the profile falls steeply
   * across the circle: −0.44 % at r = 2σ for σ = 2.5 px; at r = 4σ (flat) it is exact. */
  double energy = 0.0;
  PP_TEST_OK(pp_analysis_encircled_energy(&image, cx, cy, 2.0 * sigma, &energy), "Gaussian EE");
  PP_TEST_NEAR(energy / (2.0 * PP_PI * sigma * sigma * (1.0 - exp(-2.0))), 1.0, 5e-3,
               "Gaussian EE(2σ) = 2πσ²(1 − e⁻²) within 0.5 % (steep edge)");
  PP_TEST_OK(pp_analysis_encircled_energy(&image, cx, cy, 4.0 * sigma, &energy), "Gaussian EE");
  PP_TEST_NEAR(energy / (2.0 * PP_PI * sigma * sigma * (1.0 - exp(-8.0))), 1.0, 1e-4,
               "Gaussian EE(4σ) = 2πσ²(1 − e⁻⁸) within 1e-4 (flat edge)");
  free(g);
}

/* ---- geometry ---------------------------------------------------------------------------- */

static void check_geometry(void) {
  const size_t n = 41;
  double *ones = malloc(n * n * sizeof *ones);
  for (size_t p = 0; p < n * n; p++) ones[p] = 1.0;
  pp_image image = {.values = ones, .ny = n, .nx = n};
  double e = 0.0;
  PP_TEST_OK(pp_analysis_encircled_energy(&image, 20.0, 20.0, 12.3, &e), "EE of ones");
  PP_TEST_NEAR(e / (PP_PI * 12.3 * 12.3), 1.0, 1e-12, "ones: EE = π r² (r = 12.3 px, centred)");
  PP_TEST_OK(pp_analysis_encircled_energy(&image, 17.26, 21.71, 7.77, &e), "EE of ones, off centre");
  PP_TEST_NEAR(e / (PP_PI * 7.77 * 7.77), 1.0, 1e-12, "ones: EE = π r² (off a pixel centre)");
  PP_TEST_OK(pp_analysis_encircled_energy(&image, 20.2, 19.9, 0.3, &e), "EE inside one pixel");
  PP_TEST_NEAR(e / (PP_PI * 0.09), 1.0, 1e-12, "ones: EE = π r² for a circle inside one pixel");
  PP_TEST_OK(pp_analysis_encircled_energy(&image, -0.5, -0.5, 10.0, &e), "EE about a corner");
  PP_TEST_NEAR(e / (PP_PI * 100.0 / 4.0), 1.0, 1e-12,
               "ones: the image's corner cuts a quarter disk, π r²/4");
  PP_TEST_OK(pp_analysis_encircled_energy(&image, 20.0, 20.0, 100.0, &e), "EE of a huge circle");
  PP_TEST_NEAR(e, (double)(n * n), 1e-9, "ones: a circle around the image holds every pixel");
  PP_TEST_OK(pp_analysis_encircled_energy(&image, 500.0, 500.0, 10.0, &e), "EE far outside");
  PP_TEST_NEAR(e, 0.0, 0.0, "ones: a circle outside the image holds nothing");

  /* radial profile of ones about pixel (20, 20), bins of 1 pixel */
  size_t n_bins = 0;
  PP_TEST_OK(pp_analysis_radial_profile_size(&image, 20.0, 20.0, 1.0, &n_bins), "profile size");
  PP_TEST_TRUE(n_bins == (size_t)floor(20.0 * sqrt(2.0)) + 1, "profile reaches the corners: 29 bins");
  pp_radial_bin *bins = calloc(n_bins, sizeof *bins);
  PP_TEST_OK(pp_analysis_radial_profile(&image, 20.0, 20.0, 1.0, n_bins, bins), "profile");
  PP_TEST_TRUE(bins[0].n_pixels == 1 && bins[1].n_pixels == 8 && bins[2].n_pixels == 16,
               "bins 0, 1, 2 hold 1, 4+4 and 4+8+4 pixels (r = 0; 1, √2; 2, √5, √8)");
  PP_TEST_NEAR(bins[1].mean_radius_px, (4.0 + 4.0 * sqrt(2.0)) / 8.0, 1e-15,
               "bin 1's mean radius (1 + √2)/2");
  PP_TEST_NEAR(bins[1].radius_px, 1.5, 0.0, "bin 1 sits at 1.5 (POPPY's bin centre)");
  PP_TEST_NEAR(bins[2].cumulative_sum, 25.0, 0.0, "cumulative sum through bin 2: 25 pixels");
  PP_TEST_NEAR(bins[n_bins - 1].cumulative_sum, (double)(n * n), 0.0,
               "the last bin's cumulative sum is the whole image");
  bool means_one = true;
  for (size_t i = 0; i < n_bins; i++)
    if (bins[i].n_pixels && bins[i].mean_value != 1.0) means_one = false;
  PP_TEST_TRUE(means_one, "every non-empty bin of ones has mean 1");
  free(bins);

  pp_image_stats stats;
  ones[7 * n + 9] = 3.0;
  ones[30 * n + 2] = -1.0;
  PP_TEST_OK(pp_analysis_image_stats(&image, &stats), "image stats");
  PP_TEST_TRUE(stats.peak == 3.0 && stats.peak_x == 9 && stats.peak_y == 7 && stats.minimum == -1.0,
               "stats: peak 3 at (x 9, y 7), minimum -1");
  PP_TEST_NEAR(stats.sum, (double)(n * n) + 2.0 - 2.0, 0.0, "stats: sum");
  free(ones);
}

static void check_errors(void) {
  double values[9] = {0};
  pp_image zero = {.values = values, .ny = 3, .nx = 3};
  double e = 0.0, fwhm = 0.0;
  pp_centroid c;
  pp_status s = pp_analysis_encircled_energy(&zero, 1.0, 1.0, -1.0, &e);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "negative radius: PP_ERR_INPUT");
  pp_status_free(s);
  s = pp_analysis_encircled_energy(&zero, NAN, 1.0, 1.0, &e);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "NaN centre: PP_ERR_INPUT");
  pp_status_free(s);
  s = pp_analysis_centroid(&zero, NULL, &c);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "centroid of zeros: PP_ERR_INPUT");
  pp_status_free(s);
  s = pp_analysis_fwhm(&zero, 1.0, 1.0, 0.0, &fwhm, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "FWHM of zeros: PP_ERR_INPUT");
  pp_status_free(s);
  values[4] = NAN;
  pp_image_stats stats;
  s = pp_analysis_image_stats(&zero, &stats);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "x 1, y 1"),
               "NaN pixel: PP_ERR_INPUT naming the pixel");
  pp_status_free(s);
  pp_image empty = {.values = values, .ny = 0, .nx = 3};
  s = pp_analysis_image_stats(&empty, &stats);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "empty image: PP_ERR_INPUT");
  pp_status_free(s);
  for (size_t p = 0; p < 9; p++) values[p] = 1.0;
  s = pp_analysis_fwhm(&zero, 1.0, 1.0, 0.0, &fwhm, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "FWHM of a flat image (never half): PP_ERR_INPUT");
  pp_status_free(s);
  pp_centroid_options bad = {.halfwidth_px = -1, .max_iterations = 1, .threshold_px = 0.0};
  s = pp_analysis_centroid(&zero, &bad, &c);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "negative box half width: PP_ERR_INPUT");
  pp_status_free(s);
}

int main(void) {
  PP_TEST_NEAR(bessel_j(1, j1_first_zero), 0.0, 1e-15, "series J1(3.8317…) = 0");
  PP_TEST_NEAR(2.0 * airy_half_max_x() / PP_PI, 1.02899, 1e-5, "Airy FWHM 1.029 λ/D (tables)");
  check_geometry();
  check_gaussian();
  check_airy(81, "odd array (peak on a pixel)");
  check_airy(80, "even array (peak between pixels)");
  check_errors();
  return pp_test_finish();
}
