/* Shared by the export, render and info tests: a finished output file with known contents,
 * written through the io module as a run would (one MPI process). */
#ifndef POLYPSF_RESULT_TEST_SUPPORT_H
#define POLYPSF_RESULT_TEST_SUPPORT_H

#include <math.h>

#include "io_test_support.h"

/* What result_test_write puts in the file. */
typedef struct {
  io_test_job t;                 /* job, wavelengths, weights, meta */
  size_t ny, nx, detector_ny, detector_nx;
  double centre_x_px, centre_y_px; /* of the Gaussian PSF (pixels of /psf) */
  double sigma_px;
  double *slices;                /* [n][ny][nx] */
  double *psf;                   /* [ny][nx] = Σ w_i slices[i], in wavelength order */
  double *detector;              /* [ny/os][nx/os] */
  pp_task_record records[IO_TEST_MAX_WAVELENGTHS];
} result_test_file;

/* Slice i: a Gaussian of σ·(1 + 0.1·i) about (cx, cy), with peak 1/(i + 1): distinct per
 * slice, and a /psf with a known centre. */
static inline double result_test_value(size_t i, size_t y, size_t x, double cx, double cy,
                                       double sigma) {
  double s = sigma * (1.0 + 0.1 * (double)i), dx = (double)x - cx, dy = (double)y - cy;
  return exp(-(dx * dx + dy * dy) / (2.0 * s * s)) / (double)(i + 1);
}

/* Fills f for n wavelengths, a detector fov_y × fov_x of pixels oversampled by os. */
static inline void result_test_init(result_test_file *f, size_t n, size_t fov_y, size_t fov_x,
                                    int os, bool cube, const char *text, double cx, double cy,
                                    double sigma) {
  memset(f, 0, sizeof *f);
  io_test_job_init(&f->t, n, fov_y, fov_x, os, cube, text);
  f->t.meta.n_ranks = 3;
  f->t.meta.n_nodes = 2;
  f->ny = f->t.meta.geometry.psf_ny;
  f->nx = f->t.meta.geometry.psf_nx;
  f->detector_ny = f->ny / (size_t)os;
  f->detector_nx = f->nx / (size_t)os;
  f->centre_x_px = cx;
  f->centre_y_px = cy;
  f->sigma_px = sigma;
  size_t count = f->ny * f->nx;
  f->slices = malloc(n * count * sizeof *f->slices);
  f->psf = calloc(count, sizeof *f->psf);
  f->detector = calloc(f->detector_ny * f->detector_nx, sizeof *f->detector);
  for (size_t i = 0; i < n; i++)
    for (size_t y = 0; y < f->ny; y++)
      for (size_t x = 0; x < f->nx; x++)
        f->slices[i * count + y * f->nx + x] = result_test_value(i, y, x, cx, cy, sigma);
  for (size_t p = 0; p < count; p++)
    for (size_t i = 0; i < n; i++) f->psf[p] += f->t.weights[i] * f->slices[i * count + p];
  for (size_t y = 0; y < f->ny; y++)
    for (size_t x = 0; x < f->nx; x++)
      f->detector[(y / (size_t)os) * f->detector_nx + x / (size_t)os] += f->psf[y * f->nx + x];
  for (size_t i = 0; i < n; i++)
    f->records[i] = (pp_task_record){.rank = (int)(i % 3), .node = (int)(i % 2), .method = 1,
                                     .seconds = 1.5 + (double)i,
                                     .peak_bytes = (100.0 + 10.0 * (double)i) * 1048576.0};
}

/* Writes the file at path: every slice (or the first `n_done` with keep_partial, leaving
 * path.partial as a stopped run does). Returns false on any error (printed). */
static inline bool result_test_write(result_test_file *f, const char *path, size_t n_done,
                                     bool keep_partial) {
  pp_output *out = NULL;
  pp_status s = pp_output_create(path, &f->t.meta, true, MPI_COMM_WORLD, &out);
  size_t count = f->ny * f->nx;
  for (size_t i = 0; s == PP_SUCCESS && i < n_done; i++)
    s = pp_output_write_slice(out, i, f->slices + i * count, &f->records[i]);
  if (s == PP_SUCCESS) s = pp_output_sync(out);
  if (s == PP_SUCCESS && !keep_partial)
    s = pp_output_write_psf_rows(out, 0, f->ny, f->psf, f->detector);
  if (s != PP_SUCCESS) printf("FAIL writing '%s': %s\n", path, pp_status_message(s));
  pp_status close_status = PP_SUCCESS;
  if (out)
    close_status = pp_output_close_as(&out, s != PP_SUCCESS ? PP_OUTPUT_DISCARD
                                            : keep_partial ? PP_OUTPUT_KEEP_PARTIAL
                                                           : PP_OUTPUT_PUBLISH);
  if (close_status != PP_SUCCESS)
    printf("FAIL closing '%s': %s\n", path, pp_status_message(close_status));
  bool ok = s == PP_SUCCESS && close_status == PP_SUCCESS;
  pp_status_free(s);
  pp_status_free(close_status);
  return ok;
}

static inline void result_test_free(result_test_file *f) {
  free(f->slices);
  free(f->psf);
  free(f->detector);
}

#endif
