/* Chirp-z transform (Bluestein's algorithm) computing the MFT's result with FFTs.
 *
 * One axis. The MFT sums out[k] = Σ_i in[i]·exp(s·2πi·α·p·q) with p = i − (n_in − 1)/2,
 * q = k − (n_out − 1)/2 (ADJUSTABLE centering: half-integers for even sizes) and
 * α = nlamD/(n_in·n_out) in both directions (the λ/D scale sits on the output of a forward
 * transform and on the input of an inverse one, but the product of the two steps is the same).
 * With the integers P = 2p, Q = 2q and M = Q − P = 2(k − i) − (n_out − n_in),
 *   p·q = P·Q/4 = (P² + Q² − M²)/8,
 * so out[k] = w_out[k] · Σ_i (in[i]·w_in[i]) · h[k − i] with the chirps
 *   w_in[i] = exp(2πi·β·P²),  w_out[k] = exp(2πi·β·Q²),  h[m] = exp(−2πi·β·M²),  β = s·α/8:
 * a linear convolution of n_in inputs with a filter of n_in + n_out − 1 taps, done by FFTs
 * of a fast length L ≥ n_in + n_out − 1 (no wrap-around reaches the n_out outputs kept).
 * The spectrum of the filter, divided by L, and the chirps (w_out times the axis' share of the
 * MFT norm, sqrt(nlamD/(n_in·n_out))) are computed per wavelength in set_nlamd.
 *
 * Accuracy of the chirps. β·M² reaches thousands of cycles for n of a few thousand; rounding
 * the product to a double would leave ~1e-12 cycle errors there. The product of the double β
 * and the exact integer M² is instead split into hi + lo exactly (fma), hi is reduced modulo 1
 * exactly (hi − nearbyint(hi) is exact by Sterbenz's lemma), and lo added: the phase is then
 * accurate to ~1e-16 cycles whatever its size, and the three chirps use the same β, so the
 * identity above holds to rounding.
 *
 * Two axes. Separable: 1-D transforms along x for each row, then along y for each column of
 * the intermediate (or y first when that costs fewer flops, for rectangular shapes). Lines
 * are transformed in batches with one FFTW "many" plan per axis and direction, on a buffer of
 * batch × L elements: rows are contiguous lines; a batch of columns is laid out [L][batch] so
 * the strided gather happens once per batch, and FFTW runs across the batch in SIMD. */
#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3.h>

#include "polypsf/propagate.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* Lines per FFTW batch: enough to amortize a plan call and let FFTW vectorize across columns,
 * small enough that the batch buffer (batch × L × 16 bytes) stays in L2 for L ~ 1–2 k. */
enum { PP_CZT_BATCH = 16 };
/* |M| ≤ 2·(n_in + n_out) must keep M² exact in a double (< 2^53) and M·M in a long long. */
#define PP_CZT_MAX_LINE_SUM ((size_t)1 << 25)

struct pp_czt_axis {
  size_t n_in, n_out;
  size_t length;              /* L, the FFT length */
  size_t batch;               /* lines per FFTW batch on this axis */
  double complex *chirp_in;   /* [n_in]  w_in */
  double complex *chirp_out;  /* [n_out] w_out · sqrt(nlamD/(n_in·n_out)) */
  double complex *filter;     /* [L] FFT(h)/L */
  fftw_plan filter_forward;   /* in place on filter, once per set_nlamd */
  fftw_plan lines_forward;    /* in place on the plan's buffer, a batch of lines */
  fftw_plan lines_backward;
};

struct pp_czt_plan {
  size_t n_in_y, n_in_x, n_out_y, n_out_x;
  pp_mft_direction direction;
  bool x_first;                 /* rows (x) first, then columns (y) */
  struct pp_czt_axis axis_y;    /* transforms columns */
  struct pp_czt_axis axis_x;    /* transforms rows */
  double complex *intermediate; /* x first: [n_in_y][n_out_x]; y first: [n_out_y][n_in_x] */
  double complex *buffer;       /* batch × L of the larger axis */
  bool chirps_ready;            /* set_nlamd has run */
};

/* (a·b) written out: C's complex multiply checks for NaN/Inf and calls __muldc3, which keeps
 * the compiler from vectorizing the hot loops; these operands are always finite. */
static inline double complex pp_cmul(double complex a, double complex b) {
  double ar = creal(a), ai = cimag(a), br = creal(b), bi = cimag(b);
  return CMPLX(ar * br - ai * bi, ar * bi + ai * br);
}

static size_t pp_czt_length(size_t n_in, size_t n_out) { return pp_fft_fast_size(n_in + n_out - 1); }

static double pp_czt_fft_flops(size_t length) {
  return length > 1 ? 5.0 * (double)length * log2((double)length) : 0.0;
}

/* One line: forward and backward FFT, chirp in, spectrum product, chirp out. */
static double pp_czt_line_flops(size_t n_in, size_t n_out) {
  size_t length = pp_czt_length(n_in, n_out);
  return 2.0 * pp_czt_fft_flops(length) + 6.0 * (double)(n_in + length + n_out);
}

static double pp_czt_x_first_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x) {
  return (double)n_in_y * pp_czt_line_flops(n_in_x, n_out_x) +
         (double)n_out_x * pp_czt_line_flops(n_in_y, n_out_y);
}
static double pp_czt_y_first_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x) {
  return (double)n_in_x * pp_czt_line_flops(n_in_y, n_out_y) +
         (double)n_out_y * pp_czt_line_flops(n_in_x, n_out_x);
}

static bool pp_czt_x_first(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x) {
  return pp_czt_x_first_flops(n_in_y, n_in_x, n_out_y, n_out_x) <=
         pp_czt_y_first_flops(n_in_y, n_in_x, n_out_y, n_out_x);
}

double pp_czt_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x) {
  double x_first = pp_czt_x_first_flops(n_in_y, n_in_x, n_out_y, n_out_x);
  double y_first = pp_czt_y_first_flops(n_in_y, n_in_x, n_out_y, n_out_x);
  return x_first <= y_first ? x_first : y_first;
}

/* The plan's memory layout from its sizes alone, shared by create and plan_bytes. */
typedef struct {
  bool x_first;
  size_t length_y, length_x, batch_y, batch_x;
  size_t intermediate_elements, buffer_elements;
} pp_czt_layout;

static pp_czt_layout pp_czt_layout_of(size_t n_in_y, size_t n_in_x, size_t n_out_y,
                                      size_t n_out_x) {
  pp_czt_layout l = {.x_first = pp_czt_x_first(n_in_y, n_in_x, n_out_y, n_out_x),
                     .length_y = pp_czt_length(n_in_y, n_out_y),
                     .length_x = pp_czt_length(n_in_x, n_out_x)};
  size_t rows = l.x_first ? n_in_y : n_out_y;    /* lines of the x pass */
  size_t columns = l.x_first ? n_out_x : n_in_x; /* lines of the y pass */
  l.batch_x = rows < PP_CZT_BATCH ? rows : PP_CZT_BATCH;
  l.batch_y = columns < PP_CZT_BATCH ? columns : PP_CZT_BATCH;
  l.intermediate_elements = l.x_first ? n_in_y * n_out_x : n_out_y * n_in_x;
  size_t bx = l.batch_x * l.length_x, by = l.batch_y * l.length_y;
  l.buffer_elements = bx > by ? bx : by;
  return l;
}

size_t pp_czt_plan_bytes(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x) {
  pp_czt_layout l = pp_czt_layout_of(n_in_y, n_in_x, n_out_y, n_out_x);
  size_t elements = n_in_y + n_out_y + l.length_y + n_in_x + n_out_x + l.length_x +
                    l.intermediate_elements + l.buffer_elements;
  return elements * sizeof(double complex) + sizeof(struct pp_czt_plan);
}

static void pp_czt_axis_release(struct pp_czt_axis *axis) {
  if (axis->filter_forward) fftw_destroy_plan(axis->filter_forward);
  if (axis->lines_forward) fftw_destroy_plan(axis->lines_forward);
  if (axis->lines_backward) fftw_destroy_plan(axis->lines_backward);
  axis->filter_forward = axis->lines_forward = axis->lines_backward = NULL;
  pp_array_free(&axis->chirp_in);
  pp_array_free(&axis->chirp_out);
  pp_array_free(&axis->filter);
}

void pp_czt_plan_destroy(pp_czt_plan **plan) {
  if (!plan || !*plan) return;
  pp_czt_axis_release(&(*plan)->axis_y);
  pp_czt_axis_release(&(*plan)->axis_x);
  pp_array_free(&(*plan)->intermediate);
  pp_array_free(&(*plan)->buffer);
  pp_array_free(plan);
}

static pp_status pp_czt_alloc(size_t elements, double complex **out) {
  size_t bytes = 0;
  PP_CALL(pp_size_mul(elements, sizeof(double complex), &bytes));
  PP_CALL(pp_array_alloc(bytes, (void **)out));
  return PP_SUCCESS;
}

/* Chirps, filter and FFTW plans of one axis. along_rows: lines are contiguous rows of the
 * buffer ([batch][L]); otherwise columns ([L][batch], stride batch). */
static pp_status pp_czt_axis_create(struct pp_czt_axis *axis, size_t n_in, size_t n_out,
                                    size_t length, size_t batch, bool along_rows,
                                    double complex *buffer, unsigned flags) {
  *axis = (struct pp_czt_axis){.n_in = n_in, .n_out = n_out, .length = length, .batch = batch};
  PP_CALL(pp_czt_alloc(n_in, &axis->chirp_in));
  PP_CALL(pp_czt_alloc(n_out, &axis->chirp_out));
  PP_CALL(pp_czt_alloc(length, &axis->filter));
  int n = (int)length;
  axis->filter_forward = fftw_plan_dft_1d(n, axis->filter, axis->filter, FFTW_FORWARD, flags);
  PP_CHECK(axis->filter_forward != NULL, PP_ERR_LIBRARY, "FFTW could not plan a length-%zu FFT",
           length);
  int stride = along_rows ? 1 : (int)batch, distance = along_rows ? n : 1;
  axis->lines_forward = fftw_plan_many_dft(1, &n, (int)batch, buffer, NULL, stride, distance,
                                           buffer, NULL, stride, distance, FFTW_FORWARD, flags);
  axis->lines_backward = fftw_plan_many_dft(1, &n, (int)batch, buffer, NULL, stride, distance,
                                            buffer, NULL, stride, distance, FFTW_BACKWARD, flags);
  PP_CHECK(axis->lines_forward != NULL && axis->lines_backward != NULL, PP_ERR_LIBRARY,
           "FFTW could not plan %zu FFTs of length %zu", batch, length);
  return PP_SUCCESS;
}

static unsigned pp_czt_rigor_flags(pp_fft_rigor rigor) {
  switch (rigor) {
    case PP_FFT_MEASURE: return FFTW_MEASURE;
    case PP_FFT_PATIENT: return FFTW_PATIENT;
    case PP_FFT_ESTIMATE:
    default: return FFTW_ESTIMATE;
  }
}

pp_status pp_czt_plan_create(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x,
                             pp_mft_direction direction, pp_fft_rigor rigor, pp_czt_plan **plan) {
  *plan = NULL;
  PP_CHECK(n_in_y > 0 && n_in_x > 0 && n_out_y > 0 && n_out_x > 0, PP_ERR_INPUT,
           "chirp-z sizes must be positive, got input %zu × %zu and output %zu × %zu", n_in_y,
           n_in_x, n_out_y, n_out_x);
  PP_CHECK(n_in_y + n_out_y <= PP_CZT_MAX_LINE_SUM && n_in_x + n_out_x <= PP_CZT_MAX_LINE_SUM,
           PP_ERR_INPUT, "chirp-z sizes %zu × %zu → %zu × %zu exceed %zu per axis", n_in_y,
           n_in_x, n_out_y, n_out_x, PP_CZT_MAX_LINE_SUM);
  PP_CHECK(direction == PP_MFT_FORWARD || direction == PP_MFT_INVERSE, PP_ERR_INTERNAL,
           "chirp-z direction must be forward (+1) or inverse (-1), got %d", (int)direction);
  PP_CHECK(rigor == PP_FFT_ESTIMATE || rigor == PP_FFT_MEASURE || rigor == PP_FFT_PATIENT,
           PP_ERR_INTERNAL, "unknown FFT planning rigor %d", (int)rigor);
  pp_czt_layout l = pp_czt_layout_of(n_in_y, n_in_x, n_out_y, n_out_x);
  PP_CHECK(l.length_y != 0 && l.length_x != 0 && l.buffer_elements <= INT_MAX, PP_ERR_INPUT,
           "chirp-z sizes %zu × %zu → %zu × %zu need FFTs longer than FFTW can index", n_in_y,
           n_in_x, n_out_y, n_out_x);

  pp_status status = PP_SUCCESS;
  pp_czt_plan *p = NULL;
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *p, (void **)&p));
  *p = (struct pp_czt_plan){.n_in_y = n_in_y, .n_in_x = n_in_x, .n_out_y = n_out_y,
                            .n_out_x = n_out_x, .direction = direction, .x_first = l.x_first};
  PP_CALL_GOTO(status, pp_czt_alloc(l.intermediate_elements, &p->intermediate));
  PP_CALL_GOTO(status, pp_czt_alloc(l.buffer_elements, &p->buffer));
  unsigned flags = pp_czt_rigor_flags(rigor);
  PP_CALL_GOTO(status, pp_czt_axis_create(&p->axis_x, n_in_x, n_out_x, l.length_x, l.batch_x,
                                          true, p->buffer, flags));
  PP_CALL_GOTO(status, pp_czt_axis_create(&p->axis_y, n_in_y, n_out_y, l.length_y, l.batch_y,
                                          false, p->buffer, flags));
  *plan = p;
  p = NULL;
done:
  pp_czt_plan_destroy(&p);
  return status;
}

/* exp(2πi·β·m²), the phase reduced modulo one cycle exactly (see the top of the file). */
static double complex pp_czt_chirp(double beta, long long m) {
  double m_squared = (double)(m * m); /* exact: |m| < 2^26 */
  double hi = beta * m_squared;
  double lo = fma(beta, m_squared, -hi); /* hi + lo = β·m² exactly */
  double cycles = (hi - nearbyint(hi)) + lo;
  double angle = 2.0 * PP_PI * cycles;
  return CMPLX(cos(angle), sin(angle));
}

static void pp_czt_axis_set(struct pp_czt_axis *axis, double nlamd, double sign) {
  const long long n_in = (long long)axis->n_in, n_out = (long long)axis->n_out;
  const long long length = (long long)axis->length;
  const double alpha = nlamd / ((double)axis->n_in * (double)axis->n_out);
  const double beta = sign * alpha / 8.0; /* exact: a power of two */
  const double norm = sqrt(nlamd / ((double)axis->n_in * (double)axis->n_out));
  for (long long i = 0; i < n_in; i++) axis->chirp_in[i] = pp_czt_chirp(beta, 2 * i - n_in + 1);
  for (long long k = 0; k < n_out; k++)
    axis->chirp_out[k] = norm * pp_czt_chirp(beta, 2 * k - n_out + 1);
  /* Filter taps at lags m = k − i ∈ [−(n_in − 1), n_out − 1], stored at m mod L; the taps in
   * between stay zero, so the circular convolution is the linear one on the kept outputs. */
  memset(axis->filter, 0, axis->length * sizeof *axis->filter);
  const double inverse_length = 1.0 / (double)length;
  for (long long m = -(n_in - 1); m <= n_out - 1; m++)
    axis->filter[m >= 0 ? m : length + m] =
        inverse_length * pp_czt_chirp(-beta, 2 * m - n_out + n_in);
  fftw_execute(axis->filter_forward);
}

pp_status pp_czt_plan_set_nlamd(pp_czt_plan *plan, double nlamd_y, double nlamd_x) {
  PP_CHECK(plan != NULL, PP_ERR_INTERNAL, "chirp-z plan is NULL");
  PP_CHECK(isfinite(nlamd_y) && isfinite(nlamd_x) && nlamd_y > 0.0 && nlamd_x > 0.0,
           PP_ERR_INPUT, "chirp-z field size must be positive and finite, got %g × %g λ/D",
           nlamd_y, nlamd_x);
  double sign = plan->direction == PP_MFT_FORWARD ? +1.0 : -1.0;
  pp_czt_axis_set(&plan->axis_y, nlamd_y, sign);
  pp_czt_axis_set(&plan->axis_x, nlamd_x, sign);
  plan->chirps_ready = true;
  return PP_SUCCESS;
}

/* The x transform of `rows` contiguous rows: src[rows][n_in] → dst[rows][n_out]. */
static void pp_czt_rows(const struct pp_czt_axis *axis, const double complex *src, size_t rows,
                        double complex *dst, double complex *buffer) {
  const size_t n_in = axis->n_in, n_out = axis->n_out, length = axis->length;
  const size_t batch = axis->batch;
  const double complex *restrict chirp_in = axis->chirp_in, *restrict chirp_out = axis->chirp_out;
  const double complex *restrict filter = axis->filter;
  for (size_t r0 = 0; r0 < rows; r0 += batch) {
    size_t lines = rows - r0 < batch ? rows - r0 : batch;
    for (size_t b = 0; b < batch; b++) {
      double complex *restrict line = buffer + b * length;
      if (b < lines) {
        const double complex *restrict row = src + (r0 + b) * n_in;
        for (size_t i = 0; i < n_in; i++) line[i] = pp_cmul(row[i], chirp_in[i]);
        memset(line + n_in, 0, (length - n_in) * sizeof *line);
      } else {
        memset(line, 0, length * sizeof *line); /* the last batch's unused lines */
      }
    }
    fftw_execute(axis->lines_forward);
    for (size_t b = 0; b < lines; b++) {
      double complex *restrict line = buffer + b * length;
      for (size_t j = 0; j < length; j++) line[j] = pp_cmul(line[j], filter[j]);
    }
    fftw_execute(axis->lines_backward);
    for (size_t b = 0; b < lines; b++) {
      const double complex *restrict line = buffer + b * length;
      double complex *restrict row = dst + (r0 + b) * n_out;
      for (size_t k = 0; k < n_out; k++) row[k] = pp_cmul(line[k], chirp_out[k]);
    }
  }
}

/* The y transform of `columns` columns: src[n_in][columns] → dst[n_out][columns]. */
static void pp_czt_columns(const struct pp_czt_axis *axis, const double complex *src,
                           size_t columns, double complex *dst, double complex *buffer) {
  const size_t n_in = axis->n_in, n_out = axis->n_out, length = axis->length;
  const size_t batch = axis->batch;
  const double complex *restrict chirp_in = axis->chirp_in, *restrict chirp_out = axis->chirp_out;
  const double complex *restrict filter = axis->filter;
  for (size_t c0 = 0; c0 < columns; c0 += batch) {
    size_t lines = columns - c0 < batch ? columns - c0 : batch;
    for (size_t i = 0; i < n_in; i++) {
      const double complex *restrict row = src + i * columns + c0;
      double complex *restrict slot = buffer + i * batch;
      const double complex w = chirp_in[i];
      for (size_t b = 0; b < lines; b++) slot[b] = pp_cmul(row[b], w);
      for (size_t b = lines; b < batch; b++) slot[b] = 0.0;
    }
    memset(buffer + n_in * batch, 0, (length - n_in) * batch * sizeof *buffer);
    fftw_execute(axis->lines_forward);
    for (size_t j = 0; j < length; j++) {
      double complex *restrict slot = buffer + j * batch;
      const double complex f = filter[j];
      for (size_t b = 0; b < batch; b++) slot[b] = pp_cmul(slot[b], f);
    }
    fftw_execute(axis->lines_backward);
    for (size_t k = 0; k < n_out; k++) {
      const double complex *restrict slot = buffer + k * batch;
      double complex *restrict row = dst + k * columns + c0;
      const double complex w = chirp_out[k];
      for (size_t b = 0; b < lines; b++) row[b] = pp_cmul(slot[b], w);
    }
  }
}

pp_status pp_czt_execute(pp_czt_plan *plan, const double complex *in, double complex *out) {
  PP_CHECK(plan != NULL && in != NULL && out != NULL, PP_ERR_INTERNAL,
           "chirp-z execute needs a plan, an input and an output");
  PP_CHECK(plan->chirps_ready, PP_ERR_INTERNAL,
           "chirp-z executed before pp_czt_plan_set_nlamd set its field size");
  if (plan->x_first) {
    pp_czt_rows(&plan->axis_x, in, plan->n_in_y, plan->intermediate, plan->buffer);
    pp_czt_columns(&plan->axis_y, plan->intermediate, plan->n_out_x, out, plan->buffer);
  } else {
    pp_czt_columns(&plan->axis_y, in, plan->n_in_x, plan->intermediate, plan->buffer);
    pp_czt_rows(&plan->axis_x, plan->intermediate, plan->n_out_y, out, plan->buffer);
  }
  return PP_SUCCESS;
}
