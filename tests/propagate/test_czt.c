/* propagate: the chirp-z transform against the MFT (its definition of record, itself tested
 * against a direct sum in test_mft.c) on odd, even and rectangular shapes, forward and
 * inverse, both pass orders; the obscured_poly transform (1024 → 404) at 1 µm; a 1-D
 * transform of several thousand points against a direct sum with exactly reduced phases
 * (the chirps' phase reduction); and the error paths. */
#include <complex.h>
#include <string.h>

#include "polypsf/propagate.h"
#include "pp_test.h"
#include "propagate_test_support.h"

/* CZT and MFT plans of one shape on the same input; returns max|Δ|/max. */
static double pp_czt_vs_mft(const double complex *in, size_t n_in_y, size_t n_in_x,
                            size_t n_out_y, size_t n_out_x, double nlamd_y, double nlamd_x,
                            pp_mft_direction direction, pp_fft_rigor rigor) {
  double complex *want = pp_field(n_out_y * n_out_x), *got = pp_field(n_out_y * n_out_x);
  pp_mft_plan *mft = NULL;
  pp_czt_plan *czt = NULL;
  double error = INFINITY;
  PP_TEST_OK(pp_mft_plan_create(n_in_y, n_in_x, n_out_y, n_out_x, direction, &mft), "MFT plan");
  PP_TEST_OK(pp_czt_plan_create(n_in_y, n_in_x, n_out_y, n_out_x, direction, rigor, &czt),
             "chirp-z plan");
  if (mft && czt) {
    PP_TEST_OK(pp_mft_plan_set_nlamd(mft, nlamd_y, nlamd_x), "MFT nlamD");
    PP_TEST_OK(pp_czt_plan_set_nlamd(czt, nlamd_y, nlamd_x), "chirp-z nlamD");
    PP_TEST_OK(pp_mft_execute(mft, in, want), "MFT execute");
    PP_TEST_OK(pp_czt_execute(czt, in, got), "chirp-z execute");
    error = pp_max_abs_diff_relative(got, want, n_out_y * n_out_x);
  }
  pp_mft_plan_destroy(&mft);
  pp_czt_plan_destroy(&czt);
  PP_TEST_TRUE(czt == NULL, "destroy sets the handle to NULL");
  pp_array_free(&want);
  pp_array_free(&got);
  return error;
}

static void pp_check_shape(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x,
                           double nlamd_y, double nlamd_x, unsigned long long seed) {
  size_t n_in = n_in_y * n_in_x;
  double complex *in = pp_field(n_in);
  for (size_t p = 0; p < n_in; p++) {
    double re = pp_random(&seed), im = pp_random(&seed);
    in[p] = CMPLX(re, im);
  }
  for (int d = 0; d < 2; d++) {
    pp_mft_direction direction = d == 0 ? PP_MFT_FORWARD : PP_MFT_INVERSE;
    char what[200];
    snprintf(what, sizeof what, "%s %zu×%zu → %zu×%zu, nlamD %g × %g: chirp-z vs MFT, max|Δ|/max",
             d == 0 ? "forward" : "inverse", n_in_y, n_in_x, n_out_y, n_out_x, nlamd_y, nlamd_x);
    double error = pp_czt_vs_mft(in, n_in_y, n_in_x, n_out_y, n_out_x, nlamd_y, nlamd_x,
                                 direction, PP_FFT_ESTIMATE);
    PP_TEST_NEAR(error, 0.0, 1e-12, what);
  }
  pp_array_free(&in);
}

/* The obscured_poly system's detector transform at 1 µm: D = 6.5 m (the circular aperture's
 * diameter), fov = 101 px × 0.0311″, oversample 4 → 404 px; a 1024 px pupil with the
 * aperture, the secondary's disc, and a phase of a few waves (a complex field). */
static void pp_check_obscured_poly(void) {
  const size_t npix = 1024, n_out = 404;
  const double diameter_m = 6.5, wavelength_m = 1e-6;
  const double fov_arcsec = 101 * 0.0311;
  const double lambda_over_d_arcsec = wavelength_m / diameter_m * PP_ARCSEC_PER_RADIAN;
  const double nlamd = fov_arcsec / lambda_over_d_arcsec;
  double complex *pupil = pp_field(npix * npix);
  for (size_t y = 0; y < npix; y++)
    for (size_t x = 0; x < npix; x++) {
      double v = ((double)y - (npix - 1) / 2.0) / npix * diameter_m;
      double u = ((double)x - (npix - 1) / 2.0) / npix * diameter_m;
      double r = hypot(u, v);
      double opd_waves = 2.0 * (r / 3.25) * (r / 3.25) + 0.7 * u / 3.25;
      pupil[y * npix + x] = r <= 3.25 && r >= 0.5 ? cexp(2.0 * PP_PI * I * opd_waves) : 0.0;
    }
  char what[200];
  snprintf(what, sizeof what,
           "obscured_poly at 1 µm: 1024² → 404², nlamD %.4f, chirp-z vs MFT, max|Δ|/max", nlamd);
  PP_TEST_NEAR(pp_czt_vs_mft(pupil, npix, npix, n_out, n_out, nlamd, nlamd, PP_MFT_FORWARD,
                             PP_FFT_ESTIMATE),
               0.0, 1e-12, what);
  snprintf(what, sizeof what, "the same with an FFTW_MEASURE plan, max|Δ|/max");
  PP_TEST_NEAR(pp_czt_vs_mft(pupil, npix, npix, n_out, n_out, nlamd, nlamd, PP_MFT_FORWARD,
                             PP_FFT_MEASURE),
               0.0, 1e-12, what);
  pp_array_free(&pupil);
}

/* cycles = frac(c·K) for a double c and an integer K (|K| < 2^53), the product split exactly. */
static double pp_reduced_cycles(double c, long long k) {
  double kd = (double)k, hi = c * kd, lo = fma(c, kd, -hi);
  return (hi - nearbyint(hi)) + lo;
}

/* One line of n_in → n_out with a wide field, against the definition summed directly with the
 * phase α·P·Q/4 reduced exactly (P = 2i − n_in + 1, Q = 2k − n_out + 1 integers): no chirp,
 * no Bluestein identity, so the chirps' accuracy at |M| ~ 2·(n_in + n_out) is what is tested. */
static void pp_check_long_line(size_t n_in, size_t n_out, double nlamd, unsigned long long seed) {
  double complex *in = pp_field(n_in), *got = pp_field(n_out), *want = pp_field(n_out);
  for (size_t i = 0; i < n_in; i++) {
    double re = pp_random(&seed), im = pp_random(&seed);
    in[i] = CMPLX(re, im);
  }
  const double quarter_alpha = nlamd / ((double)n_in * (double)n_out) / 4.0;
  const double norm = sqrt(nlamd / ((double)n_in * (double)n_out));
  for (size_t k = 0; k < n_out; k++) {
    long long q = 2 * (long long)k - (long long)n_out + 1;
    double complex sum = 0.0;
    for (size_t i = 0; i < n_in; i++) {
      long long p = 2 * (long long)i - (long long)n_in + 1;
      double angle = 2.0 * PP_PI * pp_reduced_cycles(quarter_alpha, p * q);
      sum += in[i] * CMPLX(cos(angle), sin(angle));
    }
    want[k] = norm * sum;
  }
  pp_czt_plan *czt = NULL;
  PP_TEST_OK(pp_czt_plan_create(1, n_in, 1, n_out, PP_MFT_FORWARD, PP_FFT_ESTIMATE, &czt),
             "long line plan");
  if (czt) {
    PP_TEST_OK(pp_czt_plan_set_nlamd(czt, 1.0, nlamd), "nlamD");
    PP_TEST_OK(pp_czt_execute(czt, in, got), "execute");
    char what[200];
    snprintf(what, sizeof what,
             "1-D %zu → %zu, nlamD %g (chirp phases to %.0f cycles): vs exact-phase direct sum, "
             "max|Δ|/max",
             n_in, n_out, nlamd,
             nlamd / ((double)n_in * n_out) / 8.0 * 4.0 * (double)(n_in + n_out) * (n_in + n_out));
    /* Tighter than the 1e-12 asked of the transform: chirps without the exact phase reduction
     * (β·M² rounded to a double) measured 1.4e-13 and 3.4e-13 on these two lines, growing as
     * n²; with it 3.4e-15. 3e-14 passes the reduced chirps with a 10× margin and fails those. */
    PP_TEST_NEAR(pp_max_abs_diff_relative(got, want, n_out), 0.0, 3e-14, what);
  }
  pp_czt_plan_destroy(&czt);
  pp_array_free(&in);
  pp_array_free(&got);
  pp_array_free(&want);
}

static void pp_check_errors(void) {
  pp_czt_plan *plan = NULL;
  pp_status s = pp_czt_plan_create(4, 0, 4, 4, PP_MFT_FORWARD, PP_FFT_ESTIMATE, &plan);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && plan == NULL, "zero size refused");
  pp_status_free(s);
  PP_TEST_OK(pp_czt_plan_create(4, 4, 3, 3, PP_MFT_FORWARD, PP_FFT_ESTIMATE, &plan),
             "4×4 → 3×3 plan");
  if (!plan) return;
  double complex in[16] = {0}, out[9];
  s = pp_czt_execute(plan, in, out);
  PP_TEST_TRUE(s != PP_SUCCESS, "execute before set_nlamd refused");
  pp_status_free(s);
  s = pp_czt_plan_set_nlamd(plan, 2.0, -1.0);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "negative nlamD refused");
  pp_status_free(s);
  s = pp_czt_plan_set_nlamd(plan, INFINITY, 2.0);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "infinite nlamD refused");
  pp_status_free(s);
  pp_czt_plan_destroy(&plan);
  pp_czt_plan_destroy(&plan); /* a second destroy on NULL is fine */
}

int main(void) {
  pp_check_shape(33, 33, 45, 45, 11.3, 11.3, 1); /* odd */
  pp_check_shape(64, 64, 40, 40, 9.7, 9.7, 2);   /* even */
  pp_check_shape(48, 30, 25, 37, 7.1, 12.9, 3);  /* rectangular, nlamD per axis */
  pp_check_shape(30, 48, 37, 25, 12.9, 7.1, 4);  /* its transpose: the other pass order */
  pp_check_shape(17, 64, 1, 5, 0.5, 3.0, 5);     /* one output row; tiny field */
  pp_check_shape(8, 8, 64, 64, 8.0, 8.0, 6);     /* output larger than input */
  pp_check_shape(16, 16, 16, 16, 16.0, 16.0, 7); /* the unitary case */
  pp_check_shape(40, 40, 200, 200, 150.0, 150.0, 8); /* many cycles across the field */

  /* chirps follow nlamD: the same plan at a second field size */
  {
    unsigned long long seed = 9;
    double complex in[35], got[24], want[24];
    for (size_t p = 0; p < 35; p++) {
      double re = pp_random(&seed), im = pp_random(&seed);
      in[p] = CMPLX(re, im);
    }
    pp_czt_plan *czt = NULL;
    pp_mft_plan *mft = NULL;
    PP_TEST_OK(pp_czt_plan_create(5, 7, 4, 6, PP_MFT_FORWARD, PP_FFT_ESTIMATE, &czt), "plan");
    PP_TEST_OK(pp_mft_plan_create(5, 7, 4, 6, PP_MFT_FORWARD, &mft), "MFT plan");
    if (czt && mft) {
      PP_TEST_OK(pp_czt_plan_set_nlamd(czt, 1.5, 2.5), "first nlamD");
      PP_TEST_OK(pp_czt_execute(czt, in, got), "first execute");
      PP_TEST_OK(pp_czt_plan_set_nlamd(czt, 3.25, 1.75), "second nlamD");
      PP_TEST_OK(pp_czt_execute(czt, in, got), "second execute");
      PP_TEST_OK(pp_mft_plan_set_nlamd(mft, 3.25, 1.75), "MFT nlamD");
      PP_TEST_OK(pp_mft_execute(mft, in, want), "MFT");
      PP_TEST_NEAR(pp_max_abs_diff_relative(got, want, 24), 0.0, 1e-12,
                   "after a second set_nlamd the chirps match the new field, max|Δ|/max");
    }
    pp_czt_plan_destroy(&czt);
    pp_mft_plan_destroy(&mft);
  }

  pp_check_obscured_poly();
  pp_check_long_line(4000, 3000, 1500.0, 10);
  pp_check_long_line(3001, 4099, 2999.5, 11);

  /* cost model: for 1024 → 404 each line is an FFT pair of length 1440 (≥ 1024 + 404 − 1) */
  double line = 2.0 * 5.0 * 1440.0 * log2(1440.0) + 6.0 * (1024.0 + 1440.0 + 404.0);
  PP_TEST_NEAR(pp_czt_flops(1024, 1024, 404, 404), (1024.0 + 404.0) * line, 1e-3,
               "flops of 1024 → 404: (1024 + 404) lines of an FFT pair of 1440 + chirps");
  PP_TEST_TRUE(pp_czt_flops(1024, 1024, 404, 404) * 10.0 < pp_mft_flops(1024, 1024, 404, 404),
               "chirp-z needs under a tenth of the MFT's flops at 1024 → 404");
  PP_TEST_TRUE(pp_czt_plan_bytes(1024, 1024, 404, 404) ==
                   16u * (2 * (1024 + 404 + 1440) + 1024 * 404 + 16 * 1440) +
                       pp_czt_plan_bytes(1, 1, 1, 1) - 16u * (2 * 3 + 1 + 1),
               "plan bytes: chirps, filters, intermediate, a 16-line buffer");
  pp_check_errors();
  return pp_test_finish();
}
