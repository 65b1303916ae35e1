/* Matrix Fourier transform (Soummer et al. 2007) with POPPY's ADJUSTABLE centering:
 * E_out = norm · A_y · E_in · A_x, two BLAS products per execute.
 *
 * Layout. Both kernels are stored input-index major, kernel[i][k] = exp(s·2πi·x_i·u_k):
 *   kernel_y = A_yᵀ  [n_in_y][n_out_y],   kernel_x = A_x  [n_in_x][n_out_x].
 * With that one layout every product below is a plain row-major gemm, possibly with
 * a (non-conjugating) transpose flag, so no kernel is ever copied or re-laid out.
 *
 * Order. E_in·A_x first ("columns first") or A_y·E_in first ("rows first") give the
 * same result with different flop counts for rectangular shapes; the plan picks the
 * cheaper one once, at create.
 *
 * Real input. A pupil without OPD is real. A real matrix times a complex matrix stored
 * interleaved (re, im, re, im …) is one real dgemm on the complex matrix viewed as a real
 * one with twice the columns, at half the flops of the complex product. execute_real
 * does the first product that way and the second with zgemm. */
#include "polypsf/propagate.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>

enum pp_mft_order { PP_MFT_ROWS_FIRST, PP_MFT_COLUMNS_FIRST };

struct pp_mft_plan {
  size_t n_in_y, n_in_x, n_out_y, n_out_x;
  pp_mft_direction direction;
  enum pp_mft_order complex_order; /* cheaper order for complex input */
  enum pp_mft_order real_order;    /* cheaper order for real input */
  double complex *kernel_y;        /* A_yᵀ [n_in_y][n_out_y] */
  double complex *kernel_x;        /* A_x  [n_in_x][n_out_x] */
  double complex *scratch;         /* the intermediate product, the larger of both orders */
  double norm;                     /* sqrt(nlamD_y·nlamD_x / (n_in_y·n_in_x·n_out_y·n_out_x)) */
  bool kernels_ready;              /* set_nlamd has run */
};

/* Complex multiply-adds of each order for complex input. */
static double pp_mft_rows_first_cmadds(size_t n_in_y, size_t n_in_x, size_t n_out_y,
                                       size_t n_out_x) {
  return (double)n_out_y * (double)n_in_y * (double)n_in_x +
         (double)n_out_y * (double)n_in_x * (double)n_out_x;
}
static double pp_mft_columns_first_cmadds(size_t n_in_y, size_t n_in_x, size_t n_out_y,
                                          size_t n_out_x) {
  return (double)n_in_y * (double)n_in_x * (double)n_out_x +
         (double)n_out_y * (double)n_in_y * (double)n_out_x;
}

/* Real flops of each order for real input: the first product is real × complex (4 flops
 * per element pair), the second complex × complex (8). */
static double pp_mft_rows_first_real_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y,
                                           size_t n_out_x) {
  return 4.0 * (double)n_out_y * (double)n_in_y * (double)n_in_x +
         8.0 * (double)n_out_y * (double)n_in_x * (double)n_out_x;
}
static double pp_mft_columns_first_real_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y,
                                              size_t n_out_x) {
  return 4.0 * (double)n_in_y * (double)n_in_x * (double)n_out_x +
         8.0 * (double)n_out_y * (double)n_in_y * (double)n_out_x;
}

static enum pp_mft_order pp_mft_complex_order(size_t n_in_y, size_t n_in_x, size_t n_out_y,
                                              size_t n_out_x) {
  return pp_mft_columns_first_cmadds(n_in_y, n_in_x, n_out_y, n_out_x) <
                 pp_mft_rows_first_cmadds(n_in_y, n_in_x, n_out_y, n_out_x)
             ? PP_MFT_COLUMNS_FIRST
             : PP_MFT_ROWS_FIRST;
}
static enum pp_mft_order pp_mft_real_order(size_t n_in_y, size_t n_in_x, size_t n_out_y,
                                           size_t n_out_x) {
  return pp_mft_columns_first_real_flops(n_in_y, n_in_x, n_out_y, n_out_x) <
                 pp_mft_rows_first_real_flops(n_in_y, n_in_x, n_out_y, n_out_x)
             ? PP_MFT_COLUMNS_FIRST
             : PP_MFT_ROWS_FIRST;
}

/* Elements of the intermediate product of one order: A_y·E_in is [n_out_y][n_in_x],
 * E_in·A_x is [n_in_y][n_out_x]. */
static size_t pp_mft_scratch_elements(enum pp_mft_order order, size_t n_in_y, size_t n_in_x,
                                      size_t n_out_y, size_t n_out_x) {
  return order == PP_MFT_ROWS_FIRST ? n_out_y * n_in_x : n_in_y * n_out_x;
}

static size_t pp_mft_scratch_elements_for_plan(size_t n_in_y, size_t n_in_x, size_t n_out_y,
                                               size_t n_out_x) {
  size_t a = pp_mft_scratch_elements(pp_mft_complex_order(n_in_y, n_in_x, n_out_y, n_out_x),
                                     n_in_y, n_in_x, n_out_y, n_out_x);
  size_t b = pp_mft_scratch_elements(pp_mft_real_order(n_in_y, n_in_x, n_out_y, n_out_x),
                                     n_in_y, n_in_x, n_out_y, n_out_x);
  return a > b ? a : b;
}

size_t pp_mft_plan_bytes(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x) {
  size_t elements = n_in_y * n_out_y + n_in_x * n_out_x +
                    pp_mft_scratch_elements_for_plan(n_in_y, n_in_x, n_out_y, n_out_x);
  return elements * sizeof(double complex) + sizeof(struct pp_mft_plan);
}

double pp_mft_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x) {
  double rows = pp_mft_rows_first_cmadds(n_in_y, n_in_x, n_out_y, n_out_x);
  double columns = pp_mft_columns_first_cmadds(n_in_y, n_in_x, n_out_y, n_out_x);
  return 8.0 * (columns < rows ? columns : rows);
}

double pp_mft_flops_real(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x) {
  double rows = pp_mft_rows_first_real_flops(n_in_y, n_in_x, n_out_y, n_out_x);
  double columns = pp_mft_columns_first_real_flops(n_in_y, n_in_x, n_out_y, n_out_x);
  return columns < rows ? columns : rows;
}

pp_status pp_mft_plan_create(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x,
                             pp_mft_direction direction, pp_mft_plan **plan) {
  *plan = NULL;
  PP_CHECK(n_in_y > 0 && n_in_x > 0 && n_out_y > 0 && n_out_x > 0, PP_ERR_INPUT,
           "MFT sizes must be positive, got input %zu × %zu and output %zu × %zu", n_in_y,
           n_in_x, n_out_y, n_out_x);
  PP_CHECK(direction == PP_MFT_FORWARD || direction == PP_MFT_INVERSE, PP_ERR_INTERNAL,
           "MFT direction must be forward (+1) or inverse (-1), got %d", (int)direction);
  /* BLAS takes int sizes; the real view of a kernel has twice the columns. */
  size_t largest = n_in_y;
  if (n_in_x > largest) largest = n_in_x;
  if (n_out_y > largest) largest = n_out_y;
  if (n_out_x > largest) largest = n_out_x;
  PP_CHECK(largest <= (size_t)INT_MAX / 2, PP_ERR_INPUT,
           "MFT size %zu exceeds what BLAS can index (%d)", largest, INT_MAX / 2);

  pp_status status = PP_SUCCESS;
  pp_mft_plan *p = NULL;
  size_t ky_elements = 0, kx_elements = 0, bytes = 0;
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *p, (void **)&p));
  *p = (struct pp_mft_plan){.n_in_y = n_in_y, .n_in_x = n_in_x, .n_out_y = n_out_y,
                            .n_out_x = n_out_x, .direction = direction,
                            .complex_order = pp_mft_complex_order(n_in_y, n_in_x, n_out_y, n_out_x),
                            .real_order = pp_mft_real_order(n_in_y, n_in_x, n_out_y, n_out_x)};
  PP_CALL_GOTO(status, pp_size_mul(n_in_y, n_out_y, &ky_elements));
  PP_CALL_GOTO(status, pp_size_mul(n_in_x, n_out_x, &kx_elements));
  PP_CALL_GOTO(status, pp_size_mul(ky_elements, sizeof(double complex), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&p->kernel_y));
  PP_CALL_GOTO(status, pp_size_mul(kx_elements, sizeof(double complex), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&p->kernel_x));
  PP_CALL_GOTO(status, pp_size_mul(pp_mft_scratch_elements_for_plan(n_in_y, n_in_x, n_out_y, n_out_x),
                                   sizeof(double complex), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&p->scratch));
  *plan = p;
  p = NULL;
done:
  pp_mft_plan_destroy(&p);
  return status;
}

void pp_mft_plan_destroy(pp_mft_plan **plan) {
  if (!plan || !*plan) return;
  pp_array_free(&(*plan)->kernel_y);
  pp_array_free(&(*plan)->kernel_x);
  pp_array_free(&(*plan)->scratch);
  pp_array_free(plan);
}

/* kernel[i][k] = exp(sign·2πi·x_i·u_k) with x_i = (i − n_in/2 + 0.5)·step_in and
 * u_k = (k − n_out/2 + 0.5)·step_out (ADJUSTABLE centering without offset).
 * Both coordinate sets are exactly antisymmetric (x_{n−1−i} = −x_i holds bit for bit:
 * (i − n/2 + 0.5) is a small half-integer, negated exactly), so the mirrored quadrants
 * are complex conjugates and only a quarter of the exponentials are evaluated: the
 * kernels are recomputed for every wavelength and sin/cos would otherwise cost a few
 * per cent of the transform. */
static void pp_mft_fill_kernel(double complex *kernel, size_t n_in, size_t n_out,
                               double step_in, double step_out, double sign) {
  const double two_pi = 2.0 * PP_PI;
  size_t half_in = (n_in + 1) / 2, half_out = (n_out + 1) / 2;
  for (size_t i = 0; i < half_in; i++) {
    double x = ((double)i - (double)n_in / 2.0 + 0.5) * step_in;
    double complex *row = kernel + i * n_out;
    double complex *mirror_row = kernel + (n_in - 1 - i) * n_out;
    for (size_t k = 0; k < half_out; k++) {
      double u = ((double)k - (double)n_out / 2.0 + 0.5) * step_out;
      /* Phase in cycles, reduced to [−½, ½] (the subtraction is exact), so the
       * argument of sin/cos stays small and accurate for wide fields. */
      double cycles = x * u;
      double reduced = cycles - nearbyint(cycles);
      double angle = sign * two_pi * reduced;
      double complex value = CMPLX(cos(angle), sin(angle));
      double complex mirrored = conj(value);
      row[k] = value;
      row[n_out - 1 - k] = mirrored;
      mirror_row[k] = mirrored;
      mirror_row[n_out - 1 - k] = value;
    }
  }
}

pp_status pp_mft_plan_set_nlamd(pp_mft_plan *plan, double nlamd_y, double nlamd_x) {
  PP_CHECK(plan != NULL, PP_ERR_INTERNAL, "MFT plan is NULL");
  PP_CHECK(isfinite(nlamd_y) && isfinite(nlamd_x) && nlamd_y > 0.0 && nlamd_x > 0.0,
           PP_ERR_INPUT, "MFT field size must be positive and finite, got %g × %g λ/D",
           nlamd_y, nlamd_x);
  double sign = plan->direction == PP_MFT_FORWARD ? +1.0 : -1.0;
  /* The λ/D scale sits on the image-plane side: the output of a forward transform,
   * the input of an inverse one (POPPY's matrix_dft). */
  double step_in_y, step_in_x, step_out_y, step_out_x;
  if (plan->direction == PP_MFT_FORWARD) {
    step_in_y = 1.0 / (double)plan->n_in_y;
    step_in_x = 1.0 / (double)plan->n_in_x;
    step_out_y = nlamd_y / (double)plan->n_out_y;
    step_out_x = nlamd_x / (double)plan->n_out_x;
  } else {
    step_in_y = nlamd_y / (double)plan->n_in_y;
    step_in_x = nlamd_x / (double)plan->n_in_x;
    step_out_y = 1.0 / (double)plan->n_out_y;
    step_out_x = 1.0 / (double)plan->n_out_x;
  }
  pp_mft_fill_kernel(plan->kernel_y, plan->n_in_y, plan->n_out_y, step_in_y, step_out_y, sign);
  pp_mft_fill_kernel(plan->kernel_x, plan->n_in_x, plan->n_out_x, step_in_x, step_out_x, sign);
  plan->norm = sqrt(nlamd_y * nlamd_x /
                    ((double)plan->n_in_y * (double)plan->n_in_x * (double)plan->n_out_y *
                     (double)plan->n_out_x));
  plan->kernels_ready = true;
  return PP_SUCCESS;
}

pp_status pp_mft_execute(pp_mft_plan *plan, const double complex *in, double complex *out) {
  PP_CHECK(plan != NULL && in != NULL && out != NULL, PP_ERR_INTERNAL,
           "MFT execute needs a plan, an input and an output");
  PP_CHECK(plan->kernels_ready, PP_ERR_INTERNAL,
           "MFT executed before pp_mft_plan_set_nlamd set its field size");
  const int n_in_y = (int)plan->n_in_y, n_in_x = (int)plan->n_in_x;
  const int n_out_y = (int)plan->n_out_y, n_out_x = (int)plan->n_out_x;
  const double complex one = 1.0, zero = 0.0, norm = plan->norm;
  if (plan->complex_order == PP_MFT_ROWS_FIRST) {
    /* scratch[n_out_y][n_in_x] = A_y · E_in, A_y = kernel_yᵀ */
    cblas_zgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out_y, n_in_x, n_in_y, &one,
                plan->kernel_y, n_out_y, in, n_in_x, &zero, plan->scratch, n_in_x);
    /* out = norm · scratch · A_x */
    cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_out_y, n_out_x, n_in_x, &norm,
                plan->scratch, n_in_x, plan->kernel_x, n_out_x, &zero, out, n_out_x);
  } else {
    /* scratch[n_in_y][n_out_x] = E_in · A_x */
    cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_in_y, n_out_x, n_in_x, &one, in,
                n_in_x, plan->kernel_x, n_out_x, &zero, plan->scratch, n_out_x);
    /* out = norm · A_y · scratch */
    cblas_zgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out_y, n_out_x, n_in_y, &norm,
                plan->kernel_y, n_out_y, plan->scratch, n_out_x, &zero, out, n_out_x);
  }
  return PP_SUCCESS;
}

pp_status pp_mft_execute_real(pp_mft_plan *plan, const double *in, double complex *out) {
  PP_CHECK(plan != NULL && in != NULL && out != NULL, PP_ERR_INTERNAL,
           "MFT execute needs a plan, an input and an output");
  PP_CHECK(plan->kernels_ready, PP_ERR_INTERNAL,
           "MFT executed before pp_mft_plan_set_nlamd set its field size");
  const int n_in_y = (int)plan->n_in_y, n_in_x = (int)plan->n_in_x;
  const int n_out_y = (int)plan->n_out_y, n_out_x = (int)plan->n_out_x;
  const double complex zero = 0.0, norm = plan->norm;
  if (plan->real_order == PP_MFT_ROWS_FIRST) {
    /* (A_y·E_in)ᵀ = E_inᵀ · kernel_y: a real [n_in_x][n_in_y] times kernel_y viewed as real
     * [n_in_y][2·n_out_y] gives scratch[n_in_x][n_out_y] complex, interleaved. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_in_x, 2 * n_out_y, n_in_y, 1.0, in,
                n_in_x, (const double *)plan->kernel_y, 2 * n_out_y, 0.0,
                (double *)plan->scratch, 2 * n_out_y);
    /* out = norm · scratchᵀ · A_x */
    cblas_zgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out_y, n_out_x, n_in_x, &norm,
                plan->scratch, n_out_y, plan->kernel_x, n_out_x, &zero, out, n_out_x);
  } else {
    /* E_in · A_x: real [n_in_y][n_in_x] times kernel_x viewed as real [n_in_x][2·n_out_x]
     * gives scratch[n_in_y][n_out_x] complex. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_in_y, 2 * n_out_x, n_in_x, 1.0,
                in, n_in_x, (const double *)plan->kernel_x, 2 * n_out_x, 0.0,
                (double *)plan->scratch, 2 * n_out_x);
    /* out = norm · A_y · scratch */
    cblas_zgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out_y, n_out_x, n_in_y, &norm,
                plan->kernel_y, n_out_y, plan->scratch, n_out_x, &zero, out, n_out_x);
  }
  return PP_SUCCESS;
}
