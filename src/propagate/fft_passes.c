/* The padded planes' FFTs from 1-D passes (issue 15): an N × N transform is N row DFTs and
 * N column DFTs, each pass one FFTW plan_many of 1-D transforms. Done that way, the passes a
 * padded plane does not need can be left out:
 *   pupil → image of a freshly padded field: only the `band` rows holding the pupil are
 *     non-zero, so the row pass runs on those rows only (a zero row's DFT is zero);
 *   image → pupil whose result is cropped to the central band: the column pass runs whole and
 *     the row pass only on the band rows that are kept.
 * With N = npix·fft_oversample and band = npix that is N + npix 1-D lines instead of 2N
 * (1.25 N at fft_oversample 4). Conventions are pp_fft_propagate's exactly (FFTW's signs,
 * fftshift after pupil → image, ifftshift before image → pupil as a (−1)^(y+x) modulation of
 * the output, both scaled by 1/N); the result differs from the 2-D plan's by rounding only.
 * Even N only (the quadrant swap and the modulation need it); callers use the 2-D plan else.
 *
 * Column pass, cache-blocked: a stride-N column transform touches one cache line per element,
 * so columns go PP_PASS_BLOCK at a time through a small contiguous buffer (gathered as rows,
 * transformed by the row kind of plan, scattered back); the gather skips the rows known to be
 * zero (pupil → image after the band-only row pass) and the scatter writes only the rows the
 * row pass will read (image → pupil, pruned). Measured at N = 4096 (ESTIMATE plans): the
 * strided plan_many column pass alone took longer than FFTW's whole 2-D transform. */
#include "polypsf/propagate.h"

#include <fftw3.h>
#include <limits.h>
#include <math.h>
#include <string.h>

enum { PP_PASS_BLOCK = 8 }; /* columns per block: 8 × 16 bytes, two cache lines of a row */

struct pp_fft_passes {
  size_t n, band, band_row0;
  pp_fft_direction direction;
  fftw_plan rows_all;   /* N rows of N, in place */
  fftw_plan rows_band;  /* rows [band_row0, band_row0 + band), in place */
  fftw_plan block;      /* PP_PASS_BLOCK contiguous rows of N (the column block), in place */
  fftw_plan block_last; /* the last, narrower block (N mod PP_PASS_BLOCK rows), or NULL */
  double complex *buffer; /* [PP_PASS_BLOCK][N] the column block */
  int alignment;        /* fftw_alignment_of the planning array */
};

static unsigned pp_fft_passes_flags(pp_fft_rigor rigor) {
  return rigor == PP_FFT_PATIENT ? FFTW_PATIENT : rigor == PP_FFT_MEASURE ? FFTW_MEASURE
                                                                          : FFTW_ESTIMATE;
}

pp_status pp_fft_passes_create(size_t n, size_t band, pp_fft_direction direction,
                               pp_fft_rigor rigor, pp_fft_passes **plan) {
  *plan = NULL;
  PP_CHECK(n > 0 && n % 2 == 0 && n <= INT_MAX, PP_ERR_INPUT,
           "the 1-D pass engine takes an even N up to %d, got %zu", INT_MAX, n);
  PP_CHECK(band > 0 && band <= n, PP_ERR_INPUT, "band of %zu rows in a plane of %zu", band, n);
  PP_CHECK(direction == PP_FFT_FORWARD || direction == PP_FFT_BACKWARD, PP_ERR_INTERNAL,
           "FFT direction must be forward (-1) or backward (+1), got %d", (int)direction);
  pp_status status = PP_SUCCESS;
  pp_fft_passes *p = NULL;
  double complex *a = NULL;
  size_t bytes = 0;
  PP_CALL_GOTO(status, pp_size_mul(n * n, sizeof(double complex), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *p, (void **)&p));
  *p = (struct pp_fft_passes){.n = n, .band = band, .band_row0 = (n - band) / 2,
                              .direction = direction};
  /* planning array from the callers' allocator (MEASURE overwrites it; freed below) */
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&a));
  unsigned flags = pp_fft_passes_flags(rigor);
  int length = (int)n, sign = (int)direction;
  p->rows_all = fftw_plan_many_dft(1, &length, (int)n, a, NULL, 1, (int)n, a, NULL, 1, (int)n,
                                   sign, flags);
  p->rows_band = fftw_plan_many_dft(1, &length, (int)band, a + p->band_row0 * n, NULL, 1, (int)n,
                                    a + p->band_row0 * n, NULL, 1, (int)n, sign, flags);
  PP_CALL_GOTO(status, pp_array_alloc(PP_PASS_BLOCK * n * sizeof(double complex),
                                      (void **)&p->buffer));
  int block = n < PP_PASS_BLOCK ? (int)n : PP_PASS_BLOCK, last = (int)(n % PP_PASS_BLOCK);
  p->block = fftw_plan_many_dft(1, &length, block, p->buffer, NULL, 1, (int)n, p->buffer, NULL,
                                1, (int)n, sign, flags);
  if (n > PP_PASS_BLOCK && last > 0)
    p->block_last = fftw_plan_many_dft(1, &length, last, p->buffer, NULL, 1, (int)n, p->buffer,
                                       NULL, 1, (int)n, sign, flags);
  PP_CHECK_GOTO(status, p->rows_all && p->rows_band && p->block &&
                            (p->block_last || n <= PP_PASS_BLOCK || last == 0),
                PP_ERR_LIBRARY,
                "FFTW could not plan the 1-D passes of a %zu × %zu plane", n, n);
  p->alignment = fftw_alignment_of((double *)a);
  PP_CHECK_GOTO(status, fftw_alignment_of((double *)(a + p->band_row0 * n)) == p->alignment,
                PP_ERR_INTERNAL, "the band's first row is aligned unlike the plane");
  *plan = p;
  p = NULL;
done:
  pp_array_free(&a);
  pp_fft_passes_destroy(&p);
  return status;
}

void pp_fft_passes_destroy(pp_fft_passes **plan) {
  if (!plan || !*plan) return;
  pp_fft_passes *p = *plan;
  if (p->rows_all) fftw_destroy_plan(p->rows_all);
  if (p->rows_band) fftw_destroy_plan(p->rows_band);
  if (p->block) fftw_destroy_plan(p->block);
  if (p->block_last) fftw_destroy_plan(p->block_last);
  pp_array_free(&p->buffer);
  pp_array_free(plan);
}

/* The column pass: column DFTs of the rows [read0, read0 + nread) (the others are zero),
 * results written back to rows [write0, write0 + nwrite) only. */
static void pp_fft_passes_columns(pp_fft_passes *plan, double complex *data, size_t read0,
                                  size_t nread, size_t write0, size_t nwrite) {
  const size_t n = plan->n;
  double complex *buffer = plan->buffer;
  for (size_t x0 = 0; x0 < n; x0 += PP_PASS_BLOCK) {
    size_t width = n - x0 < PP_PASS_BLOCK ? n - x0 : PP_PASS_BLOCK;
    if (nread < n) memset(buffer, 0, width * n * sizeof *buffer);
    for (size_t y = read0; y < read0 + nread; y++) {
      const double complex *row = data + y * n + x0;
      for (size_t j = 0; j < width; j++) buffer[j * n + y] = row[j];
    }
    fftw_execute_dft(width == PP_PASS_BLOCK || n <= PP_PASS_BLOCK ? plan->block : plan->block_last,
                     buffer, buffer);
    for (size_t y = write0; y < write0 + nwrite; y++) {
      double complex *row = data + y * n + x0;
      for (size_t j = 0; j < width; j++) row[j] = buffer[j * n + y];
    }
  }
}

pp_status pp_fft_passes_propagate(pp_fft_passes *plan, double complex *data,
                                  pp_fft_propagation propagation, bool pruned) {
  PP_CHECK(plan != NULL && data != NULL, PP_ERR_INTERNAL, "the 1-D passes need a plan and data");
  pp_fft_direction needed = propagation == PP_FFT_PUPIL_TO_IMAGE ? PP_FFT_BACKWARD : PP_FFT_FORWARD;
  PP_CHECK(plan->direction == needed, PP_ERR_INTERNAL, "the 1-D passes' plan has the wrong sign");
  PP_CHECK(fftw_alignment_of((double *)data) == plan->alignment, PP_ERR_INTERNAL,
           "FFT arrays must be aligned like pp_array_alloc's");
  const size_t n = plan->n, half = n / 2;
  const double unitary = 1.0 / (double)n; /* 1/sqrt(N·N) */
  double complex *band = data + plan->band_row0 * n;
  if (propagation == PP_FFT_PUPIL_TO_IMAGE) {
    if (pruned) fftw_execute_dft(plan->rows_band, band, band);
    else fftw_execute_dft(plan->rows_all, data, data);
    pp_fft_passes_columns(plan, data, pruned ? plan->band_row0 : 0, pruned ? plan->band : n, 0, n);
    /* fftshift of an even plane: swap opposite quadrants, scaled */
    for (size_t y = 0; y < half; y++) {
      double complex *top = data + y * n, *bottom = data + (y + half) * n;
      for (size_t x = 0; x < half; x++) {
        double complex t = top[x];
        top[x] = bottom[x + half] * unitary;
        bottom[x + half] = t * unitary;
        t = top[x + half];
        top[x + half] = bottom[x] * unitary;
        bottom[x] = t * unitary;
      }
    }
    return PP_SUCCESS;
  }
  size_t first = pruned ? plan->band_row0 : 0, rows = pruned ? plan->band : n;
  pp_fft_passes_columns(plan, data, 0, n, first, rows);
  if (pruned) fftw_execute_dft(plan->rows_band, band, band);
  else fftw_execute_dft(plan->rows_all, data, data);
  /* the input's ifftshift as the output's modulation (−1)^(y+x) */
  for (size_t y = first; y < first + rows; y++) {
    double complex *row = data + y * n;
    double sign = y % 2 ? -unitary : unitary;
    for (size_t x = 0; x < n; x += 2) {
      row[x] *= sign;
      row[x + 1] *= -sign;
    }
  }
  return PP_SUCCESS;
}
