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
#include "propagate/fft_private.h"

#include <fftw3.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* Columns per block: 16 × 16 bytes, four cache lines of a row; the block buffer, 16·N
 * complex, stays in a 1 MiB L2 up to N = 4096. Measured against 8 (ESTIMATE plans, 2 cores):
 * the whole transform 1.2-1.4× faster at N = 1024 and 4096, 32 no better at 4096.
 * PP_TILE_ROWS: the rows a transpose step takes (below). */
enum { PP_PASS_BLOCK = 16, PP_TILE_ROWS = 8, PP_PREFETCH_TILES = 1 };

struct pp_fft_passes {
  size_t n, band, band_row0;
  pp_fft_direction direction;
  /* One shape of plan does every pass: PP_PASS_BLOCK contiguous rows of N (dist N), in place,
   * run on row blocks of the plane and on the column block buffer alike; the rest plans take
   * the last band % PP_PASS_BLOCK and N % PP_PASS_BLOCK rows (NULL when 0). */
  fftw_plan block;
  fftw_plan rest_band;
  fftw_plan rest_n;
  double complex *buffer; /* [PP_PASS_BLOCK][N] the column block */
  int alignment;        /* fftw_alignment_of the planning array */
};

/* The job's fft_rigor, as the 2-D plans. Measuring by default was tried and left: the small
 * plans below still took 0.65 s (N = 1024) to 1.8 s (N = 4096) to measure on the 2-core
 * machine under load, more than a wavelength, while ESTIMATE's already run the FFT pair 3-4×
 * faster than the 2-D ESTIMATE plans (docs/performance.md). With measure or patient, rank 0
 * plans and every rank plans from its wisdom (src/sched/transform_setup.c). */
static unsigned pp_fft_passes_flags(pp_fft_rigor rigor) {
  return rigor == PP_FFT_PATIENT ? FFTW_PATIENT : rigor == PP_FFT_MEASURE ? FFTW_MEASURE
                                                                          : FFTW_ESTIMATE;
}

static fftw_plan pp_fft_passes_plan(double complex *a, size_t n, size_t rows, int sign,
                                    unsigned flags) {
  int length = (int)n;
  return fftw_plan_many_dft(1, &length, (int)rows, a, NULL, 1, (int)n, a, NULL, 1, (int)n, sign,
                            flags);
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
  /* Every plan transforms PP_PASS_BLOCK rows or fewer, and the alignment check below reads
   * the row after them: that much to plan on, not the whole plane (an N² array here was a
   * transient 16 MiB at N = 1024 on the rank that plans, which the rank-group tests saw in
   * its peak RSS). */
  PP_CALL_GOTO(status, pp_size_mul((PP_PASS_BLOCK + 1) * n, sizeof(double complex), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *p, (void **)&p));
  *p = (struct pp_fft_passes){.n = n, .band = band, .band_row0 = (n - band) / 2,
                              .direction = direction};
  /* planning array from the callers' allocator (MEASURE overwrites it; freed below) */
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&a));
  unsigned flags = pp_fft_passes_flags(rigor);
  int sign = (int)direction;
  size_t block = n < PP_PASS_BLOCK ? n : PP_PASS_BLOCK;
  size_t rest_band = band % block, rest_n = n % block;
  PP_CALL_GOTO(status, pp_array_alloc(PP_PASS_BLOCK * n * sizeof(double complex),
                                      (void **)&p->buffer));
  p->block = pp_fft_passes_plan(a, n, block, sign, flags);
  if (rest_band > 0) p->rest_band = pp_fft_passes_plan(a, n, rest_band, sign, flags);
  if (rest_n > 0) p->rest_n = pp_fft_passes_plan(a, n, rest_n, sign, flags);
  PP_CHECK_GOTO(status, p->block && (p->rest_band || rest_band == 0) && (p->rest_n || rest_n == 0),
                PP_ERR_LIBRARY, "FFTW could not plan the 1-D passes of a %zu × %zu plane", n, n);
  p->alignment = fftw_alignment_of((double *)a);
  /* rows at any offset are run by the same plans: every row must be aligned like the first */
  PP_CHECK_GOTO(status, fftw_alignment_of((double *)(a + n)) == p->alignment,
                PP_ERR_INTERNAL, "a row of %zu elements changes FFTW's alignment", n);
  *plan = p;
  p = NULL;
done:
  pp_array_free(&a);
  pp_fft_passes_destroy(&p);
  return status;
}

size_t pp_fft_passes_bytes(size_t n) {
  return sizeof(struct pp_fft_passes) +
         (PP_PASS_BLOCK + (PP_PASS_BLOCK + 1)) * n * sizeof(double complex);
}

void pp_fft_passes_destroy(pp_fft_passes **plan) {
  if (!plan || !*plan) return;
  pp_fft_passes *p = *plan;
  if (p->block) fftw_destroy_plan(p->block);
  if (p->rest_band) fftw_destroy_plan(p->rest_band);
  if (p->rest_n) fftw_destroy_plan(p->rest_n);
  pp_array_free(&p->buffer);
  pp_array_free(plan);
}

/* before[y]·before[x] on rows [y0, y1) (nothing when before is NULL). */
static void pp_fft_passes_phase(double complex *data, size_t n, size_t y0, size_t y1,
                                const double complex *before) {
  if (!before) return;
  for (size_t y = y0; y < y1; y++) pp_phase_row(data + y * n, before, before[y], n);
}

/* Row DFTs of rows [row0, row0 + rows) (rows: the band or N), PP_PASS_BLOCK at a time, each
 * block first multiplied by the phase before (NULL: none) while it is in cache. */
static void pp_fft_passes_rows(const pp_fft_passes *plan, double complex *data, size_t row0,
                               size_t rows, const double complex *before) {
  const size_t n = plan->n;
  const size_t block = n < PP_PASS_BLOCK ? n : PP_PASS_BLOCK;
  size_t y = 0;
  for (; y + block <= rows; y += block) {
    pp_fft_passes_phase(data, n, row0 + y, row0 + y + block, before);
    fftw_execute_dft(plan->block, data + (row0 + y) * n, data + (row0 + y) * n);
  }
  if (y < rows) { /* rows % block of them: the band's or the plane's rest plan */
    pp_fft_passes_phase(data, n, row0 + y, row0 + rows, before);
    fftw_execute_dft(rows == n ? plan->rest_n : plan->rest_band, data + (row0 + y) * n,
                     data + (row0 + y) * n);
  }
}

/* Asks for the block's row segments (columns [x0, x0 + width)) of the tile PP_PREFETCH_TILES
 * tiles after the one that ends at row y1 (rows < end only), for reading or, write 1, writing.
 * A column pass reads and writes row segments N elements apart: no hardware prefetcher follows
 * such a stride, so without this each segment's lines came at the full memory latency.
 * Measured on fresnel_hst (bench_fresnel, 4 alternating runs, 2 cores): the next tile (1)
 * took 4096² from 2.9-3.7 to 2.3-3.3 s per wavelength and 1024² from 0.13-0.16 to
 * 0.12-0.15 s; 2, 4 or 8 tiles ahead were no better than none. */
static inline void pp_fft_passes_prefetch(const double complex *data, size_t n, size_t x0,
                                          size_t width, size_t y1, size_t end, int write) {
  size_t from = y1 + (PP_PREFETCH_TILES - 1) * PP_TILE_ROWS, to = from + PP_TILE_ROWS;
  if (to > end) to = end;
  for (size_t y = from; y < to; y++)
    for (size_t j = 0; j < width; j += 4) { /* 4 elements: one 64-byte line */
      if (write) __builtin_prefetch(data + y * n + x0 + j, 1);
      else __builtin_prefetch(data + y * n + x0 + j, 0);
    }
}

/* The column pass: column DFTs of the rows [read0, read0 + nread) (the others are zero),
 * results times scale written back to rows [write0, write0 + nwrite) only (× 1.0 is exact),
 * then times after[y]·after[x] (after NULL: not). */
static void pp_fft_passes_columns(pp_fft_passes *plan, double complex *data, size_t read0,
                                  size_t nread, size_t write0, size_t nwrite, double scale,
                                  const double complex *after) {
  const size_t n = plan->n;
  double complex *buffer = plan->buffer;
  const size_t block = n < PP_PASS_BLOCK ? n : PP_PASS_BLOCK;
  /* The transposes go by tiles of PP_TILE_ROWS rows: for each column j of the block, its
   * PP_TILE_ROWS consecutive elements of the buffer (two cache lines) from rows whose lines
   * stay in cache across j. Element by element down all the rows instead (one buffer line per
   * element) made the column pass 1.5-2× slower (1024² and 4096², measured). */
  for (size_t x0 = 0; x0 < n; x0 += block) {
    size_t width = n - x0 < block ? n - x0 : block;
    if (nread < n) memset(buffer, 0, width * n * sizeof *buffer);
    for (size_t y0 = read0; y0 < read0 + nread; y0 += PP_TILE_ROWS) {
      size_t y1 = y0 + PP_TILE_ROWS < read0 + nread ? y0 + PP_TILE_ROWS : read0 + nread;
      pp_fft_passes_prefetch(data, n, x0, width, y1, read0 + nread, 0);
      for (size_t j = 0; j < width; j++)
        for (size_t y = y0; y < y1; y++) buffer[j * n + y] = data[y * n + x0 + j];
    }
    fftw_execute_dft(width == block ? plan->block : plan->rest_n, buffer, buffer);
    for (size_t y0 = write0; y0 < write0 + nwrite; y0 += PP_TILE_ROWS) {
      size_t y1 = y0 + PP_TILE_ROWS < write0 + nwrite ? y0 + PP_TILE_ROWS : write0 + nwrite;
      pp_fft_passes_prefetch(data, n, x0, width, y1, write0 + nwrite, 1);
      for (size_t j = 0; j < width; j++)
        for (size_t y = y0; y < y1; y++) data[y * n + x0 + j] = buffer[j * n + y] * scale;
      for (size_t y = y0; after && y < y1; y++)
        pp_phase_row(data + y * n + x0, after + x0, after[y], width);
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
  const size_t n = plan->n;
  const double unitary = 1.0 / (double)n; /* 1/sqrt(N·N) */
  if (propagation == PP_FFT_PUPIL_TO_IMAGE) {
    pp_fft_passes_rows(plan, data, pruned ? plan->band_row0 : 0, pruned ? plan->band : n, NULL);
    pp_fft_passes_columns(plan, data, pruned ? plan->band_row0 : 0, pruned ? plan->band : n, 0, n,
                          1.0, NULL);
    pp_fft_swap_quadrants_scaled(data, n, n, unitary); /* fftshift of an even plane */
    return PP_SUCCESS;
  }
  size_t first = pruned ? plan->band_row0 : 0, rows = pruned ? plan->band : n;
  pp_fft_passes_columns(plan, data, 0, n, first, rows, 1.0, NULL);
  pp_fft_passes_rows(plan, data, first, rows, NULL);
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

pp_status pp_fft_passes_execute(pp_fft_passes *plan, double complex *data, double scale,
                                const double complex *before, const double complex *after) {
  PP_CHECK(plan != NULL && data != NULL, PP_ERR_INTERNAL, "the 1-D passes need a plan and data");
  PP_CHECK(fftw_alignment_of((double *)data) == plan->alignment, PP_ERR_INTERNAL,
           "FFT arrays must be aligned like pp_array_alloc's");
  pp_fft_passes_rows(plan, data, 0, plan->n, before);
  pp_fft_passes_columns(plan, data, 0, plan->n, 0, plan->n, scale, after);
  return PP_SUCCESS;
}
