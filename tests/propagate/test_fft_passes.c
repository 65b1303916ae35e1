/* The 1-D pass engine (fft_passes.c) against FFTW's 2-D plan (pp_fft_propagate), the
 * independent path it replaces: both propagations, pruned and whole, on a padded field
 * (pupil → image: zero outside the band rows, as after pp_fft_pad) and on a full one
 * (image → pupil). Asks 1e-12 of the largest output value everywhere the engine computes. */
#include <math.h>
#include <string.h>

#include "polypsf/propagate.h"
#include "pp_test.h"

/* A deterministic field without symmetry: every value distinct. */
static double complex pp_value(size_t y, size_t x) {
  return CMPLX(sin(0.37 * (double)y + 0.11 * (double)x * (double)x / 7.0) + 0.3,
               cos(0.23 * (double)x - 0.05 * (double)y * (double)y / 5.0));
}

/* max |a − b| over rows [row0, row0 + rows) / max |b| over all, for n × n planes. */
static double pp_rel(const double complex *a, const double complex *b, size_t n, size_t row0,
                     size_t rows) {
  double worst = 0.0, peak = 0.0;
  for (size_t p = 0; p < n * n; p++) peak = fmax(peak, cabs(b[p]));
  for (size_t p = row0 * n; p < (row0 + rows) * n; p++) worst = fmax(worst, cabs(a[p] - b[p]));
  return worst / peak;
}

static void pp_check_size(size_t n, size_t band) {
  size_t count = n * n, row0 = (n - band) / 2;
  double complex *padded = NULL, *reference = NULL, *pruned = NULL, *whole = NULL;
  pp_fft_plan *to_image = NULL, *to_pupil = NULL;
  pp_fft_passes *passes_image = NULL, *passes_pupil = NULL;
  PP_TEST_OK(pp_array_alloc(count * sizeof(double complex), (void **)&padded), "alloc");
  PP_TEST_OK(pp_array_alloc(count * sizeof(double complex), (void **)&reference), "alloc");
  PP_TEST_OK(pp_array_alloc(count * sizeof(double complex), (void **)&pruned), "alloc");
  PP_TEST_OK(pp_array_alloc(count * sizeof(double complex), (void **)&whole), "alloc");
  PP_TEST_OK(pp_fft_plan_create(n, n, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &to_image), "2-D plan");
  PP_TEST_OK(pp_fft_plan_create(n, n, PP_FFT_FORWARD, PP_FFT_ESTIMATE, &to_pupil), "2-D plan");
  PP_TEST_OK(pp_fft_passes_create(n, band, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &passes_image),
             "passes");
  PP_TEST_OK(pp_fft_passes_create(n, band, PP_FFT_FORWARD, PP_FFT_ESTIMATE, &passes_pupil),
             "passes");
  if (!(padded && reference && pruned && whole && to_image && to_pupil && passes_image &&
        passes_pupil))
    goto done;
  char what[160];
  /* pupil → image of a band × band pupil padded into n × n */
  memset(padded, 0, count * sizeof *padded);
  for (size_t y = row0; y < row0 + band; y++)
    for (size_t x = row0; x < row0 + band; x++) padded[y * n + x] = pp_value(y, x);
  PP_TEST_OK(pp_fft_propagate(to_image, padded, reference, PP_FFT_PUPIL_TO_IMAGE), "2-D");
  memcpy(pruned, padded, count * sizeof *padded);
  memcpy(whole, padded, count * sizeof *padded);
  PP_TEST_OK(pp_fft_passes_propagate(passes_image, pruned, PP_FFT_PUPIL_TO_IMAGE, true), "pruned");
  PP_TEST_OK(pp_fft_passes_propagate(passes_image, whole, PP_FFT_PUPIL_TO_IMAGE, false), "whole");
  double d_pruned = pp_rel(pruned, reference, n, 0, n), d_whole = pp_rel(whole, reference, n, 0, n);
  double d_both = pp_rel(pruned, whole, n, 0, n);
  printf("N %zu band %zu pupil→image: pruned vs 2-D %.2g, whole vs 2-D %.2g, pruned vs whole %.2g\n",
         n, band, d_pruned, d_whole, d_both);
  snprintf(what, sizeof what, "N %zu: pupil → image, pruned passes = 2-D FFT to 1e-12", n);
  PP_TEST_NEAR(d_pruned, 0.0, 1e-12, what);
  snprintf(what, sizeof what, "N %zu: pupil → image, whole passes = 2-D FFT to 1e-12", n);
  PP_TEST_NEAR(d_whole, 0.0, 1e-12, what);
  snprintf(what, sizeof what, "N %zu: pupil → image, pruned = whole to 1e-12", n);
  PP_TEST_NEAR(d_both, 0.0, 1e-12, what);
  /* image → pupil of a full field; pruned computes the band rows only */
  for (size_t y = 0; y < n; y++)
    for (size_t x = 0; x < n; x++) padded[y * n + x] = pp_value(x, y);
  PP_TEST_OK(pp_fft_propagate(to_pupil, padded, reference, PP_FFT_IMAGE_TO_PUPIL), "2-D");
  memcpy(pruned, padded, count * sizeof *padded);
  memcpy(whole, padded, count * sizeof *padded);
  PP_TEST_OK(pp_fft_passes_propagate(passes_pupil, pruned, PP_FFT_IMAGE_TO_PUPIL, true), "pruned");
  PP_TEST_OK(pp_fft_passes_propagate(passes_pupil, whole, PP_FFT_IMAGE_TO_PUPIL, false), "whole");
  d_pruned = pp_rel(pruned, reference, n, row0, band);
  d_whole = pp_rel(whole, reference, n, 0, n);
  d_both = pp_rel(pruned, whole, n, row0, band);
  printf("N %zu band %zu image→pupil: pruned (band rows) vs 2-D %.2g, whole vs 2-D %.2g, "
         "pruned vs whole %.2g\n", n, band, d_pruned, d_whole, d_both);
  snprintf(what, sizeof what, "N %zu: image → pupil, pruned passes' band rows = 2-D FFT to 1e-12", n);
  PP_TEST_NEAR(d_pruned, 0.0, 1e-12, what);
  snprintf(what, sizeof what, "N %zu: image → pupil, whole passes = 2-D FFT to 1e-12", n);
  PP_TEST_NEAR(d_whole, 0.0, 1e-12, what);
  snprintf(what, sizeof what, "N %zu: image → pupil, pruned = whole on the band to 1e-12", n);
  PP_TEST_NEAR(d_both, 0.0, 1e-12, what);
done:
  pp_fft_passes_destroy(&passes_image);
  pp_fft_passes_destroy(&passes_pupil);
  pp_fft_plan_destroy(&to_image);
  pp_fft_plan_destroy(&to_pupil);
  pp_array_free(&padded);
  pp_array_free(&reference);
  pp_array_free(&pruned);
  pp_array_free(&whole);
}

int main(void) {
  pp_check_size(64, 16);   /* ×4 padding */
  pp_check_size(90, 46);   /* N = 2·45 (BLC job), band not a power of two, odd offset 22 */
  pp_check_size(512, 128);
  pp_fft_passes *odd = NULL;
  pp_status s = pp_fft_passes_create(45, 15, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &odd);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && odd == NULL, "an odd N is refused");
  pp_status_free(s);
  return pp_test_finish();
}
