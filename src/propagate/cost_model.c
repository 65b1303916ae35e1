/* Length: a little over 600 lines, on purpose: measuring, predicting and the cache file all
 * read and write the same rate table through private helpers (the measured sizes and
 * lengths, the length insertion), and the cache's checks mirror the measurement exactly. */
/* The cost model that chooses between the MFT and the chirp-z transform: predicted seconds of
 * one wavelength from rates measured on this machine, and the cache those rates live in.
 *
 * Why measured rates and not a flop ratio. The MFT runs at BLAS speed (60+ GFLOP/s here for
 * large products, half that for 8 × 8 ones); the chirp-z does 5–20× fewer flops at a third of
 * that rate, and FFTW's rate depends on each FFT length's factors. Where the two cross (128 px
 * pupils here) no fixed ratio predicts the winner; timings of the actual building blocks do
 * (docs/propagation.md: predictions within ~10 % of measured times from 16 to 2048 px).
 *
 * The MFT model mirrors mft.c: the kernels cost one exponential per quarter-kernel element; each
 * BLAS product runs at the rate measured for a square product of its smallest dimension; the
 * product order is the one mft.c picks (fewer flops). The chirp-z model mirrors czt.c: a pass
 * over `lines` lines of FFT length L costs lines × (one line's measured seconds at L), in the
 * order czt.c picks (fewer flops by its formula); set_nlamd costs its exponentials and one
 * forward FFT per axis (half a line).
 *
 * Timing happens only in pp_cost_calibrate and pp_cost_rates_cover; everything else is a pure
 * function of the rates. No global mutable state: the nominal table is constant. */
#include <cblas.h>
#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3.h>

#include "polypsf/propagate.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Square BLAS sizes measured: from where OpenBLAS is far below peak to where it is at it. */
static const size_t pp_cost_gemm_sizes[PP_COST_GEMM_SIZES] = {8, 24, 64, 160, 384};
/* Chirp-z lengths every calibration measures, so that a length nobody measured yet can be
 * interpolated (1440 is the obscured_poly reference's 1024 → 404 length). */
static const size_t pp_cost_base_lengths[] = {32, 128, 512, 1440};
/* A timed batch lasts at least this long, so that the clock's resolution does not matter. */
static const double pp_cost_batch_seconds = 2.0e-3;
/* Best of this many batches: the one least disturbed by other processes. */
enum { PP_COST_BATCHES = 3 };
/* Lines per chirp-z FFTW batch (czt.c's PP_CZT_BATCH): the line benchmark uses one batch. */
enum { PP_COST_CZT_BATCH = 16 };
/* The kernel-exponential benchmark: a 256² → 256² MFT plan (3 MiB). */
enum { PP_COST_EXP_SIZE = 256 };

static const char pp_cost_format[] = "polypsf-calibration 1";

/* Copies text into a buffer of `bytes`, cut short when it does not fit (messages, keys). */
static void pp_cost_copy(char *buffer, size_t bytes, const char *text) {
  size_t n = strnlen(text, bytes - 1);
  memcpy(buffer, text, n);
  buffer[n] = '\0';
}

/* ---- timing ------------------------------------------------------------------------------ */

typedef struct {
  void (*run)(void *context);
  void *context;
} pp_cost_kernel;

/* Seconds of one call: a warm-up call, then batches doubled until one lasts
 * pp_cost_batch_seconds, then the best of PP_COST_BATCHES batches. */
static double pp_cost_time(pp_cost_kernel kernel) {
  kernel.run(kernel.context);
  size_t calls = 1;
  double best = INFINITY;
  for (int batch = 0; batch < PP_COST_BATCHES;) {
    double start = pp_wtime();
    for (size_t k = 0; k < calls; k++) kernel.run(kernel.context);
    double elapsed = pp_wtime() - start;
    if (elapsed < pp_cost_batch_seconds && calls < ((size_t)1 << 24)) {
      calls *= 2; /* too short to trust: a longer batch, not counted */
      continue;
    }
    if (elapsed / (double)calls < best) best = elapsed / (double)calls;
    batch++;
  }
  return best;
}

typedef struct {
  int n;
  const double complex *a, *b;
  double complex *c;
} pp_cost_gemm_context;

static void pp_cost_run_zgemm(void *context) {
  const pp_cost_gemm_context *g = context;
  const double complex one = 1.0, zero = 0.0;
  cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, g->n, g->n, &one, g->a, g->n,
              g->b, g->n, &zero, g->c, g->n);
}

/* The real product of the MFT's real-input path: real n × n times complex n × n viewed as
 * real n × 2n. */
static void pp_cost_run_dgemm(void *context) {
  const pp_cost_gemm_context *g = context;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, 2 * g->n, g->n, 1.0,
              (const double *)g->a, g->n, (const double *)g->b, 2 * g->n, 0.0, (double *)g->c,
              2 * g->n);
}

typedef struct {
  pp_mft_plan *plan;
} pp_cost_exp_context;

static void pp_cost_run_kernels(void *context) {
  pp_cost_exp_context *e = context;
  pp_status_free(pp_mft_plan_set_nlamd(e->plan, 50.3, 50.3)); /* checked before timing */
}

typedef struct {
  pp_czt_plan *plan;
  const double complex *in;
  double complex *out;
} pp_cost_czt_context;

static void pp_cost_run_czt(void *context) {
  pp_cost_czt_context *c = context;
  pp_status_free(pp_czt_execute(c->plan, c->in, c->out)); /* checked before timing */
}

static pp_status pp_cost_measure_gemm(pp_cost_rates *rates) {
  pp_status status = PP_SUCCESS;
  const size_t largest = pp_cost_gemm_sizes[PP_COST_GEMM_SIZES - 1];
  double complex *a = NULL, *b = NULL, *c = NULL;
  size_t bytes = largest * largest * sizeof(double complex);
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&a));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&b));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&c));
  /* ordinary values: zeros would let nothing be faster, denormals would make it slower */
  for (size_t p = 0; p < largest * largest; p++) {
    a[p] = CMPLX(0.5 + 1e-3 * (double)(p % 7), 0.25);
    b[p] = CMPLX(0.75, -0.5 + 1e-3 * (double)(p % 5));
  }
  for (int s = 0; s < PP_COST_GEMM_SIZES; s++) {
    size_t n = pp_cost_gemm_sizes[s];
    pp_cost_gemm_context context = {.n = (int)n, .a = a, .b = b, .c = c};
    double cube = (double)n * (double)n * (double)n;
    rates->gemm_size[s] = n;
    rates->zgemm_flops_per_s[s] =
        8.0 * cube / pp_cost_time((pp_cost_kernel){pp_cost_run_zgemm, &context});
    rates->dgemm_flops_per_s[s] =
        4.0 * cube / pp_cost_time((pp_cost_kernel){pp_cost_run_dgemm, &context});
  }
done:
  pp_array_free(&a);
  pp_array_free(&b);
  pp_array_free(&c);
  return status;
}

static pp_status pp_cost_measure_exponential(pp_cost_rates *rates) {
  pp_status status = PP_SUCCESS;
  pp_cost_exp_context context = {0};
  const size_t n = PP_COST_EXP_SIZE;
  PP_CALL_GOTO(status, pp_mft_plan_create(n, n, n, n, PP_MFT_FORWARD, &context.plan));
  PP_CALL_GOTO(status, pp_mft_plan_set_nlamd(context.plan, 50.3, 50.3));
  /* mft.c evaluates a quarter of each kernel: (n/2)² exponentials per axis */
  double exponentials = 2.0 * (double)((n + 1) / 2) * (double)((n + 1) / 2);
  rates->exp_seconds = pp_cost_time((pp_cost_kernel){pp_cost_run_kernels, &context}) / exponentials;
done:
  pp_mft_plan_destroy(&context.plan);
  return status;
}

/* One chirp-z line of FFT length `length`: a plan whose two passes both have that length and
 * one batch of lines each, b rows of a inputs → b columns of a outputs with a + b = L + 1
 * (so that the fast length of a + b − 1 is L itself). It runs rows first, as czt.c orders it
 * (b ≤ a), so both line layouts (contiguous rows, gathered columns) are in the time. */
static pp_status pp_cost_measure_line(size_t length, double *line_seconds) {
  PP_CHECK(length >= 1 && pp_fft_fast_size(length) == length, PP_ERR_INTERNAL,
           "%zu is not a chirp-z FFT length (2^a·3^b·5^c·7^d)", length);
  size_t lines = length >= 2 * PP_COST_CZT_BATCH - 1 ? PP_COST_CZT_BATCH : (length + 1) / 2;
  size_t long_side = length + 1 - lines;
  pp_status status = PP_SUCCESS;
  pp_cost_czt_context context = {0};
  double complex *in = NULL, *out = NULL;
  size_t bytes = lines * long_side * sizeof(double complex);
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&in));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&out));
  for (size_t p = 0; p < lines * long_side; p++) in[p] = CMPLX(1.0, 0.5 - 1e-3 * (double)(p % 11));
  PP_CALL_GOTO(status, pp_czt_plan_create(lines, long_side, long_side, lines, PP_MFT_FORWARD,
                                          PP_FFT_ESTIMATE, &context.plan));
  PP_CALL_GOTO(status, pp_czt_plan_set_nlamd(context.plan, 0.37 * (double)long_side,
                                             0.41 * (double)long_side));
  context.in = in;
  context.out = out;
  PP_CALL_GOTO(status, pp_czt_execute(context.plan, in, out));
  *line_seconds =
      pp_cost_time((pp_cost_kernel){pp_cost_run_czt, &context}) / (2.0 * (double)lines);
done:
  pp_czt_plan_destroy(&context.plan);
  pp_array_free(&in);
  pp_array_free(&out);
  return status;
}

/* Inserts a measured length, keeping the table sorted; false when it is full. */
static bool pp_cost_insert_length(pp_cost_rates *rates, size_t length, double line_seconds) {
  if (rates->n_lengths >= PP_COST_MAX_LENGTHS) return false;
  size_t k = rates->n_lengths;
  while (k > 0 && rates->length[k - 1] > length) {
    rates->length[k] = rates->length[k - 1];
    rates->czt_line_seconds[k] = rates->czt_line_seconds[k - 1];
    k--;
  }
  rates->length[k] = length;
  rates->czt_line_seconds[k] = line_seconds;
  rates->n_lengths++;
  return true;
}

static bool pp_cost_has_length(const pp_cost_rates *rates, size_t length) {
  for (size_t k = 0; k < rates->n_lengths; k++)
    if (rates->length[k] == length) return true;
  return false;
}

/* ---- machine key ---------------------------------------------------------------------------- */

/* The CPU's name as /proc/cpuinfo gives it (x86: "model name"; others name it differently). */
static void pp_cost_cpu_model(char *model, size_t bytes) {
  snprintf(model, bytes, "unknown CPU");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  static const char *const keys[] = {"model name", "Processor", "cpu model", "uarch", NULL};
  char line[512];
  while (fgets(line, sizeof line, f)) {
    for (int k = 0; keys[k]; k++) {
      size_t n = strlen(keys[k]);
      char *colon = strchr(line, ':');
      if (strncmp(line, keys[k], n) == 0 && colon) {
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t') value++;
        snprintf(model, bytes, "%s", value);
        model[strcspn(model, "\r\n")] = '\0';
        fclose(f);
        return;
      }
    }
  }
  fclose(f);
}

void pp_cost_machine(char *key, size_t bytes) {
  char cpu[256], blas[256];
  pp_cost_cpu_model(cpu, sizeof cpu);
  const char *config = openblas_get_config();
  snprintf(blas, sizeof blas, "%s", config ? config : "unknown BLAS");
  blas[strcspn(blas, "\r\n")] = '\0';
  /* both thread counts: the chirp-z lines are timed on FFTW's threads, the products on
   * OpenBLAS's (--threads-per-rank sets both; OPENBLAS_NUM_THREADS alone only the latter) */
  snprintf(key, bytes, "%s | %s | %d BLAS thread(s) | %s | %d FFTW thread(s)", cpu, blas,
           openblas_get_num_threads(), fftw_version, fftw_planner_nthreads());
  key[strcspn(key, "\r\n")] = '\0'; /* one line in the cache */
}

/* ---- calibration ---------------------------------------------------------------------------- */

pp_status pp_cost_calibrate(pp_cost_rates *rates) {
  PP_CHECK(rates != NULL, PP_ERR_INTERNAL, "pp_cost_calibrate needs rates");
  *rates = (pp_cost_rates){0};
  pp_cost_machine(rates->machine, sizeof rates->machine);
  PP_CALL(pp_cost_measure_gemm(rates));
  PP_CALL(pp_cost_measure_exponential(rates));
  for (size_t k = 0; k < sizeof pp_cost_base_lengths / sizeof pp_cost_base_lengths[0]; k++) {
    double seconds = 0.0;
    PP_CALL(pp_cost_measure_line(pp_cost_base_lengths[k], &seconds));
    pp_cost_insert_length(rates, pp_cost_base_lengths[k], seconds);
  }
  return PP_SUCCESS;
}

static size_t pp_cost_czt_length(size_t n_in, size_t n_out) {
  return pp_fft_fast_size(n_in + n_out - 1);
}

pp_status pp_cost_rates_cover(pp_cost_rates *rates, size_t n_in_y, size_t n_in_x, size_t n_out_y,
                              size_t n_out_x, size_t *added) {
  if (added) *added = 0;
  PP_CHECK(rates != NULL, PP_ERR_INTERNAL, "pp_cost_rates_cover needs rates");
  PP_CHECK(n_in_y > 0 && n_in_x > 0 && n_out_y > 0 && n_out_x > 0, PP_ERR_INPUT,
           "transform sizes must be positive, got %zu × %zu → %zu × %zu", n_in_y, n_in_x,
           n_out_y, n_out_x);
  size_t lengths[2] = {pp_cost_czt_length(n_in_y, n_out_y), pp_cost_czt_length(n_in_x, n_out_x)};
  for (int axis = 0; axis < 2; axis++) {
    if (lengths[axis] == 0 || pp_cost_has_length(rates, lengths[axis])) continue;
    double seconds = 0.0;
    PP_CALL(pp_cost_measure_line(lengths[axis], &seconds));
    if (pp_cost_insert_length(rates, lengths[axis], seconds) && added) (*added)++;
  }
  return PP_SUCCESS;
}

/* ---- predictions ---------------------------------------------------------------------------- */

/* The nominal table: pp_cost_calibrate on the development machine (AMD EPYC, OpenBLAS 0.3.21
 * Haswell kernels, one thread, FFTW 3.3.10), see docs/propagation.md. */
static const pp_cost_rates pp_cost_nominal = {
    .machine = "nominal (development machine: AMD EPYC, OpenBLAS 0.3.21 Haswell, 1 thread, "
               "FFTW 3.3.10)",
    .exp_seconds = 1.2e-08,
    .gemm_size = {8, 24, 64, 160, 384},
    .zgemm_flops_per_s = {3.1e10, 5.4e10, 6.0e10, 6.4e10, 6.3e10},
    .dgemm_flops_per_s = {2.3e10, 5.0e10, 5.6e10, 6.2e10, 6.3e10},
    .n_lengths = 4,
    .length = {32, 128, 512, 1440},
    .czt_line_seconds = {7.3e-08, 3.5e-07, 2.25e-06, 7.7e-06},
};

const pp_cost_rates *pp_cost_rates_nominal(void) { return &pp_cost_nominal; }

/* Linear interpolation of values[] over log(sizes[]), clamped at both ends. */
static double pp_cost_interpolate(const size_t *sizes, const double *values, size_t count,
                                  double size) {
  if (size <= (double)sizes[0]) return values[0];
  if (size >= (double)sizes[count - 1]) return values[count - 1];
  size_t k = 0;
  while (k + 2 < count && size > (double)sizes[k + 1]) k++;
  double f = (log(size) - log((double)sizes[k])) / (log((double)sizes[k + 1]) - log((double)sizes[k]));
  return values[k] + f * (values[k + 1] - values[k]);
}

/* Seconds of one BLAS product of m × k by k × n at `rates_flops` (zgemm or dgemm table). */
static double pp_cost_gemm_seconds(const pp_cost_rates *rates, const double *rates_flops,
                                   double m, double n, double k, double flops) {
  double smallest = fmin(m, fmin(n, k));
  return flops / pp_cost_interpolate(rates->gemm_size, rates_flops, PP_COST_GEMM_SIZES, smallest);
}

double pp_cost_mft_seconds(const pp_cost_rates *rates, size_t n_in_y, size_t n_in_x,
                           size_t n_out_y, size_t n_out_x, bool real_input) {
  const double iy = (double)n_in_y, ix = (double)n_in_x, oy = (double)n_out_y, ox = (double)n_out_x;
  const double *z = rates->zgemm_flops_per_s, *d = rates->dgemm_flops_per_s;
  /* mft.c's kernels: a quarter of each kernel by exponentials, the rest by symmetry */
  double kernels = rates->exp_seconds * ((double)((n_in_y + 1) / 2) * (double)((n_out_y + 1) / 2) +
                                         (double)((n_in_x + 1) / 2) * (double)((n_out_x + 1) / 2));
  double rows_first, columns_first; /* seconds */
  bool columns;                     /* the order mft.c picks: fewer flops */
  if (real_input) {
    columns = 4.0 * iy * ix * ox + 8.0 * oy * iy * ox < 4.0 * oy * iy * ix + 8.0 * oy * ix * ox;
    rows_first = pp_cost_gemm_seconds(rates, d, ix, 2.0 * oy, iy, 4.0 * oy * iy * ix) +
                 pp_cost_gemm_seconds(rates, z, oy, ox, ix, 8.0 * oy * ix * ox);
    columns_first = pp_cost_gemm_seconds(rates, d, iy, 2.0 * ox, ix, 4.0 * iy * ix * ox) +
                    pp_cost_gemm_seconds(rates, z, oy, ox, iy, 8.0 * oy * iy * ox);
  } else {
    columns = iy * ix * ox + oy * iy * ox < oy * iy * ix + oy * ix * ox;
    rows_first = pp_cost_gemm_seconds(rates, z, oy, ix, iy, 8.0 * oy * iy * ix) +
                 pp_cost_gemm_seconds(rates, z, oy, ox, ix, 8.0 * oy * ix * ox);
    columns_first = pp_cost_gemm_seconds(rates, z, iy, ox, ix, 8.0 * iy * ix * ox) +
                    pp_cost_gemm_seconds(rates, z, oy, ox, iy, 8.0 * oy * iy * ox);
  }
  return kernels + (columns ? columns_first : rows_first);
}

/* Seconds of one chirp-z line of length L: measured, or interpolated per L·(1 + log2 L) from the
 * nearest measured lengths (a table without lengths borrows the nominal one's). */
static double pp_cost_line_seconds(const pp_cost_rates *rates, size_t length) {
  if (rates->n_lengths == 0) rates = &pp_cost_nominal;
  for (size_t k = 0; k < rates->n_lengths; k++)
    if (rates->length[k] == length) return rates->czt_line_seconds[k];
  double per_unit[PP_COST_MAX_LENGTHS];
  for (size_t k = 0; k < rates->n_lengths; k++) {
    double l = (double)rates->length[k];
    per_unit[k] = rates->czt_line_seconds[k] / (l * (1.0 + log2(l)));
  }
  double l = (double)length;
  return l * (1.0 + log2(l)) * pp_cost_interpolate(rates->length, per_unit, rates->n_lengths, l);
}

/* czt.c's flop count of one line, which decides its pass order. */
static double pp_cost_czt_line_flops(size_t n_in, size_t n_out) {
  double l = (double)pp_cost_czt_length(n_in, n_out);
  double fft = l > 1.0 ? 5.0 * l * log2(l) : 0.0;
  return 2.0 * fft + 6.0 * ((double)n_in + l + (double)n_out);
}

double pp_cost_czt_seconds(const pp_cost_rates *rates, size_t n_in_y, size_t n_in_x,
                           size_t n_out_y, size_t n_out_x) {
  const double iy = (double)n_in_y, ix = (double)n_in_x, oy = (double)n_out_y, ox = (double)n_out_x;
  size_t length_y = pp_cost_czt_length(n_in_y, n_out_y), length_x = pp_cost_czt_length(n_in_x, n_out_x);
  double line_y = pp_cost_line_seconds(rates, length_y), line_x = pp_cost_line_seconds(rates, length_x);
  bool x_first = iy * pp_cost_czt_line_flops(n_in_x, n_out_x) + ox * pp_cost_czt_line_flops(n_in_y, n_out_y) <=
                 ix * pp_cost_czt_line_flops(n_in_y, n_out_y) + oy * pp_cost_czt_line_flops(n_in_x, n_out_x);
  double passes = x_first ? iy * line_x + ox * line_y : ix * line_y + oy * line_x;
  /* set_nlamd: the chirps in, out and the filter taps by exponentials, one FFT per axis */
  double exponentials = 2.0 * (iy + oy + ix + ox) - 2.0;
  double set_up = rates->exp_seconds * exponentials + 0.5 * (line_y + line_x);
  return set_up + passes;
}

/* One N × N 2-D FFT as FFTW runs it: 2N 1-D lines of length N, a line costing half a chirp-z
 * line of that length (a chirp-z line is a forward and a backward FFT of length L plus the
 * chirps, which this leaves out: an upper bound by a few per cent). */
double pp_cost_fft2d_seconds(const pp_cost_rates *rates, size_t n) {
  return (double)n * pp_cost_line_seconds(rates, n);
}

/* ---- the cache file --------------------------------------------------------------------------- */

pp_status pp_cost_default_path(char *path, size_t bytes) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  /* One file per thread count: the machine key names both counts, so runs alternating
   * --threads-per-rank would otherwise measure again each time and overwrite each other. */
  char name[96] = "calibration.txt";
  int blas_threads = openblas_get_num_threads(), fftw_threads = fftw_planner_nthreads();
  if (blas_threads != 1 || fftw_threads != 1)
    snprintf(name, sizeof name, "calibration-blas%d-fftw%d.txt", blas_threads, fftw_threads);
  int n;
  /* The XDG base-directory rule: a relative XDG_CACHE_HOME is invalid and ignored. */
  if (xdg && xdg[0] == '/') n = snprintf(path, bytes, "%s/polypsf/%s", xdg, name);
  else if (home && home[0] != '\0') n = snprintf(path, bytes, "%s/.cache/polypsf/%s", home, name);
  else PP_CHECK(false, PP_ERR_INPUT, "neither XDG_CACHE_HOME nor HOME is set: give a calibration "
                                     "file (--calibration FILE)");
  PP_CHECK(n > 0 && (size_t)n < bytes, PP_ERR_INPUT, "the calibration cache path is too long");
  return PP_SUCCESS;
}

/* A positive, finite number filling the whole of text. */
static bool pp_cost_parse_positive(const char *text, double *value) {
  char *end = NULL;
  errno = 0;
  *value = strtod(text, &end);
  return end != text && *end == '\0' && errno == 0 && isfinite(*value) && *value > 0.0;
}

static bool pp_cost_parse_size(const char *text, size_t *value) {
  if (text[0] < '0' || text[0] > '9') return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  *value = (size_t)v;
  return end != text && *end == '\0' && errno == 0 && v > 0 && v <= SIZE_MAX;
}

/* One line of the cache into rates; NULL when fine, otherwise what is wrong with it. */
static const char *pp_cost_parse_line(char *line, pp_cost_rates *rates, bool *seen_format,
                                      bool *seen_machine, bool *seen_exp, int *seen_gemm) {
  if (strcmp(line, pp_cost_format) == 0) {
    *seen_format = true;
    return NULL;
  }
  if (!*seen_format) return "the first line is not 'polypsf-calibration 1'";
  if (strncmp(line, "machine ", 8) == 0) {
    pp_cost_copy(rates->machine, sizeof rates->machine, line + 8);
    *seen_machine = true;
    return NULL;
  }
  char *words[4] = {NULL};
  int count = 0;
  for (char *save = NULL, *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
    words[count < 4 ? count++ : 3] = w;
  if (count == 2 && strcmp(words[0], "exp_seconds") == 0) {
    *seen_exp = true;
    return pp_cost_parse_positive(words[1], &rates->exp_seconds) ? NULL : "not a positive number";
  }
  if (count == 0 || (strcmp(words[0], "zgemm") != 0 && strcmp(words[0], "dgemm") != 0 &&
                     strcmp(words[0], "czt_line") != 0))
    return "unknown key";
  size_t size = 0;
  double value = 0.0;
  if (count != 3 || !pp_cost_parse_size(words[1], &size) || !pp_cost_parse_positive(words[2], &value))
    return "expected 'zgemm|dgemm|czt_line SIZE VALUE' with positive numbers";
  bool complex_gemm = strcmp(words[0], "zgemm") == 0;
  if (complex_gemm || strcmp(words[0], "dgemm") == 0) {
    for (int s = 0; s < PP_COST_GEMM_SIZES; s++) {
      if (pp_cost_gemm_sizes[s] != size) continue;
      int bit = 1 << (s + (complex_gemm ? 0 : PP_COST_GEMM_SIZES));
      if (*seen_gemm & bit) return "a BLAS size appears twice";
      *seen_gemm |= bit;
      rates->gemm_size[s] = size;
      (complex_gemm ? rates->zgemm_flops_per_s : rates->dgemm_flops_per_s)[s] = value;
      return NULL;
    }
    return "a BLAS size this polypsf does not measure";
  }
  if (strcmp(words[0], "czt_line") == 0) {
    if (pp_fft_fast_size(size) != size) return "not a chirp-z FFT length (2^a·3^b·5^c·7^d)";
    if (pp_cost_has_length(rates, size)) return "a length appears twice";
    if (!pp_cost_insert_length(rates, size, value)) return "more lengths than a table holds";
    return NULL;
  }
  return "unknown key"; /* not reached: the key was checked above */
}

pp_status pp_cost_rates_read(const char *path, pp_cost_rates *rates) {
  PP_CHECK(path != NULL && rates != NULL, PP_ERR_INTERNAL, "pp_cost_rates_read needs a path and rates");
  *rates = (pp_cost_rates){0};
  FILE *f = fopen(path, "r");
  if (!f) {
    int error = errno;
    PP_CHECK(false, PP_ERR_IO, "cannot read calibration cache %s: %s", path, strerror(error));
  }
  pp_status status = PP_SUCCESS;
  char line[1024];
  int number = 0, seen_gemm = 0;
  bool seen_format = false, seen_machine = false, seen_exp = false, seen_end = false;
  while (fgets(line, sizeof line, f)) {
    number++;
    size_t length = strcspn(line, "\r\n");
    PP_CHECK_GOTO(status, line[length] != '\0' || feof(f), PP_ERR_INPUT,
                  "%s:%d: line too long: not a polypsf calibration cache", path, number);
    line[length] = '\0';
    if (line[0] == '#' || line[0] == '\0') continue;
    PP_CHECK_GOTO(status, !seen_end, PP_ERR_INPUT, "%s:%d: text after 'end'", path, number);
    if (strcmp(line, "end") == 0) {
      seen_end = true;
      continue;
    }
    const char *problem =
        pp_cost_parse_line(line, rates, &seen_format, &seen_machine, &seen_exp, &seen_gemm);
    PP_CHECK_GOTO(status, problem == NULL, PP_ERR_INPUT, "%s:%d: %s", path, number, problem);
  }
  PP_CHECK_GOTO(status, !ferror(f), PP_ERR_IO, "cannot read calibration cache %s", path);
  PP_CHECK_GOTO(status, seen_format && seen_machine && seen_exp &&
                            seen_gemm == (1 << (2 * PP_COST_GEMM_SIZES)) - 1 && seen_end,
                PP_ERR_INPUT,
                "%s is incomplete: it needs the format line, machine, exp_seconds, zgemm and "
                "dgemm at every size, and 'end'",
                path);
done:
  fclose(f);
  if (status != PP_SUCCESS) *rates = (pp_cost_rates){0};
  return status;
}

/* mkdir -p of the directory holding path. */
static pp_status pp_cost_make_parent(const char *path) {
  char directory[4096];
  int n = snprintf(directory, sizeof directory, "%s", path);
  PP_CHECK(n > 0 && (size_t)n < sizeof directory, PP_ERR_IO, "path too long: %s", path);
  char *slash = strrchr(directory, '/');
  if (!slash || slash == directory) return PP_SUCCESS;
  *slash = '\0';
  for (char *p = directory + 1; ; p++) {
    bool last = *p == '\0';
    if (*p == '/' || last) {
      char saved = *p;
      *p = '\0';
      if (mkdir(directory, 0755) != 0 && errno != EEXIST) {
        int error = errno;
        PP_CHECK(false, PP_ERR_IO, "cannot create directory %s: %s", directory, strerror(error));
      }
      *p = saved;
    }
    if (last) break;
  }
  return PP_SUCCESS;
}

pp_status pp_cost_rates_write(const char *path, const pp_cost_rates *rates) {
  PP_CHECK(path != NULL && path[0] != '\0' && rates != NULL, PP_ERR_INTERNAL,
           "pp_cost_rates_write needs a path and rates");
  PP_CALL(pp_cost_make_parent(path));
  pp_status status = PP_SUCCESS;
  /* The temporary name carries the process id so that processes writing at once never share
   * it; rename() then replaces path atomically (the last writer wins, whole). */
  char temporary[4200];
  int n = snprintf(temporary, sizeof temporary, "%s.tmp.%ld", path, (long)getpid());
  PP_CHECK(n > 0 && (size_t)n < sizeof temporary, PP_ERR_IO, "path too long: %s", path);
  FILE *f = fopen(temporary, "w");
  if (!f) {
    int error = errno;
    PP_CHECK(false, PP_ERR_IO, "cannot write calibration cache %s: %s", temporary, strerror(error));
  }
  /* %.17g: the rates read back are the same doubles, so a run that reads the cache predicts
   * (and chooses) exactly what the run that measured it did. */
  fprintf(f, "# polypsf calibration cache: this machine's speed for choosing the MFT or the\n"
             "# chirp-z transform (propagation.method: auto). Delete it, or run with\n"
             "# --recalibrate, to measure again. Format: docs/propagation.md.\n");
  fprintf(f, "%s\nmachine %s\nexp_seconds %.17g\n", pp_cost_format, rates->machine,
          rates->exp_seconds);
  for (int s = 0; s < PP_COST_GEMM_SIZES; s++)
    fprintf(f, "zgemm %zu %.17g\n", rates->gemm_size[s], rates->zgemm_flops_per_s[s]);
  for (int s = 0; s < PP_COST_GEMM_SIZES; s++)
    fprintf(f, "dgemm %zu %.17g\n", rates->gemm_size[s], rates->dgemm_flops_per_s[s]);
  for (size_t k = 0; k < rates->n_lengths; k++)
    fprintf(f, "czt_line %zu %.17g\n", rates->length[k], rates->czt_line_seconds[k]);
  fprintf(f, "end\n");
  bool written = !ferror(f);
  written = fclose(f) == 0 && written;
  PP_CHECK_GOTO(status, written, PP_ERR_IO, "cannot write calibration cache %s", temporary);
  if (rename(temporary, path) != 0) {
    int error = errno;
    PP_CHECK_GOTO(status, false, PP_ERR_IO, "cannot rename %s to %s: %s", temporary, path,
                  strerror(error));
  }
done:
  if (status != PP_SUCCESS) remove(temporary);
  return status;
}

pp_status pp_cost_rates_load(const char *path, bool recalibrate, pp_cost_rates *rates,
                             pp_cost_load_report *report) {
  PP_CHECK(rates != NULL && report != NULL, PP_ERR_INTERNAL,
           "pp_cost_rates_load needs rates and a report");
  *report = (pp_cost_load_report){0};
  char default_path[4096];
  if (!path) {
    pp_status where = pp_cost_default_path(default_path, sizeof default_path);
    if (where == PP_SUCCESS) path = default_path;
    else snprintf(report->reason, sizeof report->reason, "%s", pp_status_message(where));
    pp_status_free(where);
  }
  char machine[sizeof rates->machine];
  pp_cost_machine(machine, sizeof machine);
  if (path) pp_cost_copy(report->path, sizeof report->path, path);
  struct stat file;
  if (path && !recalibrate && stat(path, &file) != 0 && errno == ENOENT) {
    pp_cost_copy(report->reason, sizeof report->reason, "no cache yet");
  } else if (path && !recalibrate) {
    pp_status read = pp_cost_rates_read(path, rates);
    if (read == PP_SUCCESS && strcmp(rates->machine, machine) == 0) {
      report->from_cache = true;
      return PP_SUCCESS;
    }
    if (read == PP_SUCCESS)
      pp_cost_copy(report->reason, sizeof report->reason,
                   "the cache was measured on another machine or with other software");
    else
      pp_cost_copy(report->reason, sizeof report->reason, pp_status_message(read));
    pp_status_free(read);
  } else if (recalibrate) {
    snprintf(report->reason, sizeof report->reason, "asked to measure again");
  }
  double start = pp_wtime();
  PP_CALL(pp_cost_calibrate(rates));
  report->measured = true;
  report->measure_seconds = pp_wtime() - start;
  if (path) {
    pp_status write = pp_cost_rates_write(path, rates);
    report->written = write == PP_SUCCESS;
    if (write != PP_SUCCESS) {
      size_t used = strlen(report->reason);
      snprintf(report->reason + used, sizeof report->reason - used, "%s%s (the rates are used "
               "but not kept)", used ? "; " : "", pp_status_message(write));
    }
    pp_status_free(write);
  }
  return PP_SUCCESS;
}
