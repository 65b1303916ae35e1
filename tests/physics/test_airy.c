/* physics: the PSF of a clear circular aperture against the Airy pattern,
 *   I(θ) = I0 · (2·J1(x)/x)²,  x = π·D·θ/λ,
 * with J0, J1 from their power series (written here, independent of libm's jn).
 *
 * Peak. A pupil normalized to unit flux ('first') puts, per steradian at θ = 0,
 * I0 = flux · area/λ² = π·D²/(4·λ²); a pixel of p radians on a side holds
 * I0·p² = π·D²·p²/(4·λ²) of the flux. The discrete pupil gives exactly
 * (norm·Σa)²/Σa² with norm = nlamD/(npix·n_out) = p·D_array/(λ·npix): the MFT at zero
 * frequency is the plain sum of the field. The two differ by Σa·Σa / (Σa²·N_area): gray
 * edge pixels have a² < a, a relative excess of about 1/(3·R_px) (R_px = radius in pupil
 * pixels): 1.3e-3 at R = 256 px, hence the 2e-3 tolerance on the analytic value.
 *
 * First dark ring: the first zero of J1, x = 3.8317059702, θ = 1.21967 λ/D.
 * Encircled energy inside it: 1 − J0(3.8317)² = 0.83785.
 * Far field: averaging cos² in J1's asymptotic form, (2J1(x)/x)² → 4/(π·x³), which is
 * flux density 1/(π²·|x|³) per unit x-area; outside a square of half-width a (x units)
 * the flux is (1/π²)·∫ |x|⁻³ = 4√2/(π²·a). At a = π·50 (±50 λ/D): 3.65e-3.
 * A sampled pupil keeps slightly more light near the core than the continuous one (its
 * far field is the continuous one times the pixel's sinc², periodic every npix λ/D):
 * measured 1.1e-3 more at npix = 512, 6.0e-4 at 1024, so the flux check uses 1024. */
#include <string.h>

#include "polypsf/system.h"
#include "pp_test.h"

/* Power series J_n(x) = Σ_k (−1)^k (x/2)^(2k+n) / (k!·(k+n)!), accurate to ~1e-15 for x < 8. */
static double pp_bessel_j(int n, double x) {
  double term = 1.0;
  for (int i = 1; i <= n; i++) term *= (x / 2.0) / i;
  double sum = term;
  for (int k = 1; k < 60; k++) {
    term *= -(x / 2.0) * (x / 2.0) / ((double)k * (double)(k + n));
    sum += term;
  }
  return sum;
}

static const double pp_j1_first_zero = 3.8317059702075123;

typedef struct {
  pp_job job;
  pp_optic_spec circle;
  double wavelength_m, weight;
} pp_airy_job;

/* One circular aperture of radius_m filling an npix array (width 2·radius_m). */
static void pp_airy_job_init(pp_airy_job *t, size_t npix, double radius_m, double wavelength_m,
                             double pixelscale_arcsec, size_t fov_pixels, int oversample) {
  memset(t, 0, sizeof *t);
  t->wavelength_m = wavelength_m;
  t->weight = 1.0;
  pp_optic_spec_init(&t->circle, pp_optic_type_find("circular_aperture"));
  snprintf(t->circle.name, sizeof t->circle.name, "circular_aperture");
  pp_status s = pp_optic_spec_set(&t->circle, "radius", radius_m);
  if (s) printf("FAIL radius: %s\n", pp_status_message(s));
  pp_status_free(s);
  t->job = (pp_job){.source_name = "test_airy", .pupil_npix = npix, .n_wavelengths = 1,
                    .wavelengths_m = &t->wavelength_m, .weights = &t->weight, .n_optics = 1,
                    .optics = &t->circle,
                    .detector = {.pixelscale_arcsec = pixelscale_arcsec, .fov_pixels_y = fov_pixels,
                                 .fov_pixels_x = fov_pixels, .oversample = oversample},
                    .method = PP_METHOD_MFT, .fft_oversample = 2,
                    .normalize = PP_NORMALIZE_FIRST};
}

static double *pp_airy_psf(pp_airy_job *t, size_t *ny, size_t *nx) {
  pp_system *system = NULL;
  double *psf = NULL;
  PP_TEST_OK(pp_system_create(&t->job, &system), "circular aperture system builds");
  if (!system) return NULL;
  pp_system_psf_shape(system, ny, nx);
  psf = malloc(*ny * *nx * sizeof *psf);
  PP_TEST_OK(pp_system_psf(system, t->wavelength_m, psf), "PSF computes");
  pp_system_destroy(&system);
  return psf;
}

/* The position (pixels from the centre) of the dark ring near guess_px along one
 * direction (dy, dx) from the centre pixel (cy, cx). A centred symmetric pupil has a real
 * field that changes sign at the ring, linearly: the zero of the signed amplitude
 * (+√I before the darkest sample's bracket, −√I after), interpolated linearly between
 * the two samples that bracket it, is accurate where a parabola through I is not
 * (I is not symmetric about its zero on the scale of a pixel). */
static double pp_ring_zero_px(const double *psf, size_t nx, size_t cy, size_t cx, int dy,
                              int dx, double guess_px) {
#define PP_AT(j) psf[(size_t)((int)cy + (j) * dy) * nx + (size_t)((int)cx + (j) * dx)]
  int lo = (int)guess_px - 3, hi = (int)guess_px + 4, best = lo;
  for (int j = lo; j <= hi; j++)
    if (PP_AT(j) < PP_AT(best)) best = j;
  int before = PP_AT(best - 1) < PP_AT(best + 1) ? best - 1 : best;
  double inner = sqrt(PP_AT(before)), outer = sqrt(PP_AT(before + 1));
  return before + inner / (inner + outer);
#undef PP_AT
}

/* Fine sampling: 8 pixels per λ/D, 81 × 81 pixels (odd: pixel 40 sits on the axis). */
static void pp_check_fine(void) {
  const size_t npix = 512, n_out = 81, centre = 40;
  const double radius_m = 1.0, diameter_m = 2.0, wavelength_m = 1e-6;
  const double pixels_per_lambda_over_d = 8.0;
  double lambda_over_d_rad = wavelength_m / diameter_m;
  double pixel_rad = lambda_over_d_rad / pixels_per_lambda_over_d;
  double pixel_arcsec = pixel_rad * (180.0 * 3600.0 / PP_PI);

  pp_airy_job t;
  pp_airy_job_init(&t, npix, radius_m, wavelength_m, pixel_arcsec, n_out, 1);
  size_t ny = 0, nx = 0;
  double *psf = pp_airy_psf(&t, &ny, &nx);
  if (!psf || ny != n_out || nx != n_out) {
    PP_TEST_TRUE(false, "81 × 81 PSF");
    free(psf);
    pp_optic_spec_clear(&t.circle);
    return;
  }
  double peak = psf[centre * nx + centre];

  /* analytic peak: π·D²·p²/(4·λ²) = π/(4·64) for 8 pixels per λ/D */
  double analytic_peak = PP_PI * diameter_m * diameter_m * pixel_rad * pixel_rad /
                         (4.0 * wavelength_m * wavelength_m);
  PP_TEST_NEAR(peak / analytic_peak, 1.0, 2e-3, "peak / (π·D²·p²/(4λ²)): analytic Airy peak (gray edge ≈ 1/(3R_px))");

  /* discrete truth: (norm·Σa)²/Σa² with Σa, Σa² of the circle from the optics module */
  double *a = malloc(npix * npix * sizeof *a);
  for (size_t p = 0; p < npix * npix; p++) a[p] = 1.0;
  pp_pupil_grid grid = {.ny = npix, .nx = npix, .pixelscale_m = diameter_m / npix};
  PP_TEST_OK(pp_optic_apply_pupil(&t.circle, &grid, a, NULL), "circle on the grid");
  double sum_a = 0.0, sum_a2 = 0.0;
  for (size_t p = 0; p < npix * npix; p++) {
    sum_a += a[p];
    sum_a2 += a[p] * a[p];
  }
  free(a);
  double nlamd = (double)n_out / pixels_per_lambda_over_d;
  double norm = nlamd / ((double)npix * (double)n_out);
  PP_TEST_NEAR(peak / (norm * norm * sum_a * sum_a / sum_a2), 1.0, 1e-12,
               "peak / (nlamD/(npix·n_out))²·(Σa)²/Σa²: the zero-frequency sum");
  PP_TEST_NEAR(sum_a * grid.pixelscale_m * grid.pixelscale_m / (PP_PI * radius_m * radius_m), 1.0, 1e-12,
               "gray pixels: Σa · pixel area = π r² (why the analytic peak holds)");

  /* symmetry of a centred circle on an odd grid */
  PP_TEST_NEAR(psf[centre * nx + centre + 9] / psf[centre * nx + centre - 9], 1.0, 1e-10,
               "I(+x) = I(−x) at 9 pixels");
  PP_TEST_NEAR(psf[(centre + 9) * nx + centre] / psf[centre * nx + centre + 9], 1.0, 1e-10,
               "I(+y) = I(+x) at 9 pixels");

  /* a sample off the peak against the Airy formula: 0.5 λ/D (4 pixels) along x */
  double x4 = PP_PI * 4.0 / pixels_per_lambda_over_d;
  double airy4 = 2.0 * pp_bessel_j(1, x4) / x4;
  PP_TEST_NEAR(psf[centre * nx + centre + 4] / peak, airy4 * airy4, 1e-3,
               "I(0.5 λ/D)/I(0) = (2J1(x)/x)² at x = π/2");

  /* first dark ring */
  double ring_px = pp_j1_first_zero / PP_PI * pixels_per_lambda_over_d; /* 9.757 px */
  PP_TEST_NEAR(pp_ring_zero_px(psf, nx, centre, centre, 0, +1, ring_px), ring_px, 0.05,
               "first dark ring along +x at 1.2197 λ/D (pixels, zero of the signed amplitude)");
  PP_TEST_NEAR(pp_ring_zero_px(psf, nx, centre, centre, -1, 0, ring_px), ring_px, 0.05,
               "first dark ring along −y at 1.2197 λ/D (pixels, zero of the signed amplitude)");
  PP_TEST_NEAR(psf[centre * nx + centre + (size_t)lround(ring_px)] / peak, 0.0, 2e-3,
               "intensity at the ring's nearest pixel is dark (relative to peak)");

  /* encircled energy inside the first dark ring: pixel centres with r ≤ ring */
  double inside = 0.0;
  for (size_t y = 0; y < ny; y++)
    for (size_t x = 0; x < nx; x++) {
      double dy = (double)y - centre, dx = (double)x - centre;
      if (sqrt(dx * dx + dy * dy) <= ring_px) inside += psf[y * nx + x];
    }
  double j0 = pp_bessel_j(0, pp_j1_first_zero);
  PP_TEST_NEAR(inside, 1.0 - j0 * j0, 5e-3, "encircled energy inside the first dark ring = 1 − J0² = 83.8 %");
  free(psf);
  pp_optic_spec_clear(&t.circle);
}

/* Flux: a ±50 λ/D field at Nyquist for the intensity (2 pixels per λ/D: 100 detector
 * pixels of λ/D, oversample 2), where the pixel sum equals the integral of the band-limited
 * intensity; then the rebin to detector pixels. */
static void pp_check_flux(void) {
  const size_t npix = 1024;
  const double radius_m = 1.0, diameter_m = 2.0, wavelength_m = 1e-6;
  const double half_width_lambda_over_d = 50.0;
  double lambda_over_d_arcsec = wavelength_m / diameter_m * (180.0 * 3600.0 / PP_PI);
  pp_airy_job t;
  pp_airy_job_init(&t, npix, radius_m, wavelength_m, lambda_over_d_arcsec, 100, 2);
  size_t ny = 0, nx = 0;
  double *psf = pp_airy_psf(&t, &ny, &nx);
  if (!psf || ny != 200 || nx != 200) {
    PP_TEST_TRUE(false, "200 × 200 PSF");
    free(psf);
    pp_optic_spec_clear(&t.circle);
    return;
  }
  double sum = 0.0;
  for (size_t p = 0; p < ny * nx; p++) sum += psf[p];
  PP_TEST_TRUE(sum >= 0.99, "±50 λ/D field holds ≥ 99 % of the light");
  double a = PP_PI * half_width_lambda_over_d;
  double predicted = 1.0 - 4.0 * sqrt(2.0) / (PP_PI * PP_PI * a);
  PP_TEST_NEAR(sum, predicted, 1e-3, "Σ PSF = 1 − 4√2/(π²·π·50): Airy wings outside the square");

  double *detector = malloc(100 * 100 * sizeof *detector);
  PP_TEST_OK(pp_psf_rebin(psf, ny, nx, 2, detector), "rebin 200×200 → 100×100");
  double rebinned = 0.0;
  for (size_t p = 0; p < 100 * 100; p++) rebinned += detector[p];
  PP_TEST_NEAR(rebinned / sum, 1.0, 1e-12, "rebin conserves the sum");
  free(detector);
  free(psf);
  pp_optic_spec_clear(&t.circle);
}

int main(void) {
  /* the series against tabulated values (Abramowitz & Stegun 9.1): J0(1), J1(1), J1 zero */
  PP_TEST_NEAR(pp_bessel_j(0, 1.0), 0.7651976865579666, 1e-15, "series J0(1)");
  PP_TEST_NEAR(pp_bessel_j(1, 1.0), 0.4400505857449335, 1e-15, "series J1(1)");
  PP_TEST_NEAR(pp_bessel_j(1, pp_j1_first_zero), 0.0, 1e-15, "series J1(3.8317…) = 0");
  pp_check_fine();
  pp_check_flux();
  return pp_test_finish();
}
