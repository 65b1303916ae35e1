/* propagate: the MFT against a direct O(N⁴) sum written here from the formula in
 * propagate.h (ADJUSTABLE centering, + forward, norm), on small odd, even and rectangular
 * shapes through every code path (complex and real input, both product orders, inverse);
 * then the properties: with nlamD = n_in = n_out the transform is unitary (Parseval) and
 * the inverse undoes the forward. */
#include <complex.h>
#include <string.h>

#include "polypsf/propagate.h"
#include "pp_test.h"
#include "propagate_test_support.h"

/* The definition: out[ky][kx] = norm · Σ in[iy][ix] · exp(s·2πi·(y·v + x·u)), with the
 * λ/D scale on the output for forward and on the input for inverse. One cexp per term. */
static void pp_direct_dft(const double complex *in, size_t n_in_y, size_t n_in_x,
                          double complex *out, size_t n_out_y, size_t n_out_x, double nlamd_y,
                          double nlamd_x, int sign) {
  bool forward = sign > 0;
  double in_scale_y = forward ? 1.0 : nlamd_y, in_scale_x = forward ? 1.0 : nlamd_x;
  double out_scale_y = forward ? nlamd_y : 1.0, out_scale_x = forward ? nlamd_x : 1.0;
  double norm = sqrt(nlamd_y * nlamd_x / ((double)n_in_y * n_in_x * n_out_y * n_out_x));
  for (size_t ky = 0; ky < n_out_y; ky++) {
    double v = ((double)ky - n_out_y / 2.0 + 0.5) * out_scale_y / n_out_y;
    for (size_t kx = 0; kx < n_out_x; kx++) {
      double u = ((double)kx - n_out_x / 2.0 + 0.5) * out_scale_x / n_out_x;
      double complex sum = 0.0;
      for (size_t iy = 0; iy < n_in_y; iy++) {
        double y = ((double)iy - n_in_y / 2.0 + 0.5) * in_scale_y / n_in_y;
        for (size_t ix = 0; ix < n_in_x; ix++) {
          double x = ((double)ix - n_in_x / 2.0 + 0.5) * in_scale_x / n_in_x;
          sum += in[iy * n_in_x + ix] * cexp(sign * 2.0 * PP_PI * I * (y * v + x * u));
        }
      }
      out[ky * n_out_x + kx] = norm * sum;
    }
  }
}

/* One shape: complex input and real input through the plan, against the direct sum. */
static void pp_check_shape(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x,
                           double nlamd_y, double nlamd_x, pp_mft_direction direction,
                           unsigned long long seed) {
  size_t n_in = n_in_y * n_in_x, n_out = n_out_y * n_out_x;
  double complex *in = malloc(n_in * sizeof *in), *real_as_complex = malloc(n_in * sizeof *in);
  double *real_in = malloc(n_in * sizeof *real_in);
  double complex *got = malloc(n_out * sizeof *got), *want = malloc(n_out * sizeof *want);
  for (size_t p = 0; p < n_in; p++) {
    double re = pp_random(&seed), im = pp_random(&seed);
    in[p] = CMPLX(re, im);
    real_in[p] = pp_random(&seed);
    real_as_complex[p] = real_in[p];
  }
  char what[200];
  pp_mft_plan *plan = NULL;
  snprintf(what, sizeof what, "%s %zu×%zu → %zu×%zu, nlamD %g × %g",
           direction == PP_MFT_FORWARD ? "forward" : "inverse", n_in_y, n_in_x, n_out_y,
           n_out_x, nlamd_y, nlamd_x);
  PP_TEST_OK(pp_mft_plan_create(n_in_y, n_in_x, n_out_y, n_out_x, direction, &plan), what);
  if (plan) {
    PP_TEST_OK(pp_mft_plan_set_nlamd(plan, nlamd_y, nlamd_x), "set nlamD");
    pp_direct_dft(in, n_in_y, n_in_x, want, n_out_y, n_out_x, nlamd_y, nlamd_x, (int)direction);
    PP_TEST_OK(pp_mft_execute(plan, in, got), "execute (complex input)");
    char line[300];
    snprintf(line, sizeof line, "%s: complex input vs direct DFT, max|Δ|/max", what);
    PP_TEST_NEAR(pp_max_abs_diff_relative(got, want, n_out), 0.0, 1e-12, line);

    pp_direct_dft(real_as_complex, n_in_y, n_in_x, want, n_out_y, n_out_x, nlamd_y, nlamd_x,
                  (int)direction);
    PP_TEST_OK(pp_mft_execute_real(plan, real_in, got), "execute (real input)");
    snprintf(line, sizeof line, "%s: real input vs direct DFT, max|Δ|/max", what);
    PP_TEST_NEAR(pp_max_abs_diff_relative(got, want, n_out), 0.0, 1e-12, line);
  }
  pp_mft_plan_destroy(&plan);
  PP_TEST_TRUE(plan == NULL, "destroy sets the handle to NULL");
  free(in);
  free(real_as_complex);
  free(real_in);
  free(got);
  free(want);
}

/* nlamD = n_in = n_out: Σ|out|² = Σ|in|², and inverse(forward(E)) = E. */
static void pp_check_unitary(size_t n, unsigned long long seed) {
  size_t count = n * n;
  double complex *in = malloc(count * sizeof *in), *mid = malloc(count * sizeof *mid),
                 *back = malloc(count * sizeof *back);
  double in_energy = 0.0, mid_energy = 0.0;
  for (size_t p = 0; p < count; p++) {
    double re = pp_random(&seed), im = pp_random(&seed);
    in[p] = CMPLX(re, im);
    in_energy += re * re + im * im;
  }
  pp_mft_plan *forward = NULL, *inverse = NULL;
  PP_TEST_OK(pp_mft_plan_create(n, n, n, n, PP_MFT_FORWARD, &forward), "forward plan");
  PP_TEST_OK(pp_mft_plan_create(n, n, n, n, PP_MFT_INVERSE, &inverse), "inverse plan");
  if (forward && inverse) {
    PP_TEST_OK(pp_mft_plan_set_nlamd(forward, (double)n, (double)n), "forward nlamD = n");
    PP_TEST_OK(pp_mft_plan_set_nlamd(inverse, (double)n, (double)n), "inverse nlamD = n");
    PP_TEST_OK(pp_mft_execute(forward, in, mid), "forward");
    PP_TEST_OK(pp_mft_execute(inverse, mid, back), "inverse");
    for (size_t p = 0; p < count; p++) mid_energy += creal(mid[p] * conj(mid[p]));
    char what[160];
    snprintf(what, sizeof what, "%zu×%zu Parseval: Σ|MFT(E)|² / Σ|E|² − 1", n, n);
    PP_TEST_NEAR(mid_energy / in_energy - 1.0, 0.0, 1e-12, what);
    snprintf(what, sizeof what, "%zu×%zu inverse(forward(E)) = E, max|Δ|/max", n, n);
    PP_TEST_NEAR(pp_max_abs_diff_relative(back, in, count), 0.0, 1e-12, what);
  }
  pp_mft_plan_destroy(&forward);
  pp_mft_plan_destroy(&inverse);
  free(in);
  free(mid);
  free(back);
}

static void pp_check_errors(void) {
  pp_mft_plan *plan = NULL;
  pp_status s = pp_mft_plan_create(0, 4, 4, 4, PP_MFT_FORWARD, &plan);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && plan == NULL, "zero size refused");
  pp_status_free(s);
  PP_TEST_OK(pp_mft_plan_create(4, 4, 3, 3, PP_MFT_FORWARD, &plan), "4×4 → 3×3 plan");
  if (!plan) return;
  double complex in[16] = {0}, out[9];
  s = pp_mft_execute(plan, in, out);
  PP_TEST_TRUE(s != PP_SUCCESS, "execute before set_nlamd refused");
  pp_status_free(s);
  s = pp_mft_plan_set_nlamd(plan, 0.0, 2.0);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "nlamD = 0 refused");
  pp_status_free(s);
  s = pp_mft_plan_set_nlamd(plan, NAN, 2.0);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "nlamD = NaN refused");
  pp_status_free(s);
  pp_mft_plan_destroy(&plan);
  pp_mft_plan_destroy(&plan); /* a second destroy on NULL is fine */
}

int main(void) {
  /* odd, even, and rectangular with different nlamD per axis; the two rectangular shapes
   * are transposes of each other so that each picks the other product order. */
  pp_check_shape(7, 7, 9, 9, 3.7, 3.7, PP_MFT_FORWARD, 1);
  pp_check_shape(8, 8, 6, 6, 2.5, 2.5, PP_MFT_FORWARD, 2);
  pp_check_shape(6, 10, 5, 7, 2.3, 4.1, PP_MFT_FORWARD, 3);
  pp_check_shape(10, 6, 7, 5, 4.1, 2.3, PP_MFT_FORWARD, 4);
  pp_check_shape(9, 8, 7, 11, 3.1, 5.3, PP_MFT_INVERSE, 5);
  /* a wide field: phases of many cycles (|x·u| up to ~7) exercise the phase reduction */
  pp_check_shape(32, 32, 33, 33, 30.0, 30.0, PP_MFT_FORWARD, 6);

  /* kernels follow nlamD: the same plan at a second field size */
  {
    unsigned long long seed = 7;
    double complex in[35], got[24], want[24];
    for (size_t p = 0; p < 35; p++) {
      double re = pp_random(&seed), im = pp_random(&seed);
      in[p] = CMPLX(re, im);
    }
    pp_mft_plan *plan = NULL;
    PP_TEST_OK(pp_mft_plan_create(5, 7, 4, 6, PP_MFT_FORWARD, &plan), "5×7 → 4×6 plan");
    if (plan) {
      PP_TEST_OK(pp_mft_plan_set_nlamd(plan, 1.5, 2.5), "first nlamD");
      PP_TEST_OK(pp_mft_execute(plan, in, got), "first execute");
      PP_TEST_OK(pp_mft_plan_set_nlamd(plan, 3.25, 1.75), "second nlamD");
      PP_TEST_OK(pp_mft_execute(plan, in, got), "second execute");
      pp_direct_dft(in, 5, 7, want, 4, 6, 3.25, 1.75, +1);
      PP_TEST_NEAR(pp_max_abs_diff_relative(got, want, 24), 0.0, 1e-12,
                   "after a second set_nlamd the kernels match the new field, max|Δ|/max");
    }
    pp_mft_plan_destroy(&plan);
  }

  pp_check_unitary(16, 8);
  pp_check_unitary(15, 9);

  /* the cost model: 6×10 → 5×7 costs 5·6·10 + 5·10·7 = 650 complex multiply-adds rows
   * first and 6·10·7 + 5·6·7 = 630 columns first; real input 4·420 + 8·210 = 3360 */
  PP_TEST_NEAR(pp_mft_flops(6, 10, 5, 7), 8.0 * 630.0, 0.0, "flops: the cheaper order, 8 per cmadd");
  PP_TEST_NEAR(pp_mft_flops_real(6, 10, 5, 7), 3360.0, 0.0, "flops of the real-input path");
  PP_TEST_NEAR(pp_mft_flops(1024, 1024, 404, 404), 8.0 * (404.0 * 1024 * 1024 + 404.0 * 1024 * 404),
               0.0, "flops of the 1024 → 404 benchmark shape");
  PP_TEST_TRUE(pp_mft_plan_bytes(1024, 1024, 404, 404) >= 16u * (2 * 1024 * 404 + 404 * 1024),
               "plan bytes cover both kernels and the intermediate product");
  pp_check_errors();
  return pp_test_finish();
}
