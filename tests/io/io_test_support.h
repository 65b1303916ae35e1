/* Shared by the io tests: a hand-built job (no parser), known slice values, and small
 * file-system helpers. */
#ifndef POLYPSF_IO_TEST_SUPPORT_H
#define POLYPSF_IO_TEST_SUPPORT_H

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "polypsf/io.h"

enum { IO_TEST_MAX_WAVELENGTHS = 8 };

/* snprintf into a char array that must not truncate (test paths). */
#define IO_TEST_PATH(buf, ...)                                                  \
  do {                                                                          \
    int n_ = snprintf((buf), sizeof(buf), __VA_ARGS__);                         \
    if (n_ < 0 || (size_t)n_ >= sizeof(buf)) abort();                           \
  } while (0)

/* A job with storage of its own, so tests need no allocation or parser. */
typedef struct {
  pp_job job;
  double wavelengths_m[IO_TEST_MAX_WAVELENGTHS];
  double weights[IO_TEST_MAX_WAVELENGTHS];
  pp_output_meta meta;
} io_test_job;

/* n wavelengths from 1 µm in 0.25 µm steps, weights 1..n normalized; detector fov_y × fov_x
 * pixels of 0.05 arcsec, oversampled by `oversample`. */
static inline void io_test_job_init(io_test_job *t, size_t n, size_t fov_y, size_t fov_x,
                                    int oversample, bool cube, const char *text) {
  memset(t, 0, sizeof *t);
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    t->wavelengths_m[i] = 1.0e-6 + 0.25e-6 * (double)i;
    t->weights[i] = (double)(i + 1);
    sum += t->weights[i];
  }
  for (size_t i = 0; i < n; i++) t->weights[i] /= sum;
  t->job.source_name = "hand-built.yaml";
  t->job.text = (char *)text;
  t->job.pupil_npix = 64;
  t->job.n_wavelengths = n;
  t->job.wavelengths_m = t->wavelengths_m;
  t->job.weights = t->weights;
  t->job.detector = (pp_detector_spec){.pixelscale_arcsec = 0.05, .fov_pixels_y = fov_y,
                                       .fov_pixels_x = fov_x, .oversample = oversample};
  t->job.method = PP_METHOD_MFT;
  t->job.fft_oversample = 2;
  t->job.normalize = PP_NORMALIZE_FIRST;
  t->job.output_cube = cube;
  t->meta = (pp_output_meta){.job = &t->job,
                             .geometry = {.pupil_npix = 64, .pupil_diameter_m = 6.5,
                                          .pupil_pixelscale_m = 6.5 / 64, .fft_oversample = 2,
                                          .fft_n = 128, .detector_ny = fov_y,
                                          .detector_nx = fov_x, .oversample = oversample,
                                          .psf_ny = fov_y * (size_t)oversample,
                                          .psf_nx = fov_x * (size_t)oversample,
                                          .detector_pixelscale_arcsec = 0.05,
                                          .psf_pixelscale_arcsec = 0.05 / oversample},
                             .n_ranks = 1, .n_nodes = 1};
}

/* Slice i at (y, x): distinct in every element, exact in binary only by accident, so a
 * transposed, shifted or converted write shows. */
static inline double io_test_value(size_t i, size_t y, size_t x) {
  return (double)i + 0.001 * (double)y + 1e-6 * (double)x;
}

static inline double *io_test_slice(size_t i, size_t ny, size_t nx) {
  double *slice = malloc(ny * nx * sizeof *slice);
  for (size_t y = 0; y < ny; y++)
    for (size_t x = 0; x < nx; x++) slice[y * nx + x] = io_test_value(i, y, x);
  return slice;
}

/* Σ w_i · slice_i in wavelength order, and its rebin by os (sum of os × os blocks). */
static inline void io_test_psf(const io_test_job *t, double *psf, double *detector) {
  size_t ny = t->meta.geometry.psf_ny, nx = t->meta.geometry.psf_nx, os = (size_t)t->job.detector.oversample;
  for (size_t y = 0; y < ny; y++)
    for (size_t x = 0; x < nx; x++) {
      double sum = 0.0;
      for (size_t i = 0; i < t->job.n_wavelengths; i++)
        sum += t->weights[i] * io_test_value(i, y, x);
      psf[y * nx + x] = sum;
    }
  size_t dny = ny / os, dnx = nx / os;
  for (size_t y = 0; y < dny; y++)
    for (size_t x = 0; x < dnx; x++) {
      double sum = 0.0;
      for (size_t a = 0; a < os; a++)
        for (size_t b = 0; b < os; b++) sum += psf[(y * os + a) * nx + x * os + b];
      detector[y * dnx + x] = sum;
    }
}

/* Σ w_i · slice_i over rows [row0, row0+nrows) read back from the open file in
 * wavelength order, as the run driver does; collective (every rank calls, nrows may be 0).
 * band gets nrows × nx values. Returns false if any read failed. */
static inline bool io_test_reduce_band(pp_output *out, const io_test_job *t, size_t row0,
                                       size_t nrows, double *band) {
  size_t nx = t->meta.geometry.psf_nx, count = nrows * nx;
  double *rows = malloc((count ? count : 1) * sizeof *rows);
  bool ok = rows != NULL;
  for (size_t p = 0; p < count; p++) band[p] = 0.0;
  for (size_t i = 0; i < t->job.n_wavelengths; i++) {
    pp_status s = pp_output_read_cube_rows(out, i, row0, nrows, nrows ? rows : NULL);
    ok = ok && s == PP_SUCCESS;
    pp_status_free(s);
    for (size_t p = 0; ok && p < count; p++) band[p] += t->weights[i] * rows[p];
  }
  free(rows);
  return ok;
}

/* Dataset `name` of two files holds the same values and shape, bit for bit (read as
 * float64: exact for the uint8 and float64 datasets of the format). */
static inline bool io_test_same_dataset(const char *path_a, const char *path_b,
                                        const char *name) {
  double *a = NULL, *b = NULL;
  size_t dims_a[3], dims_b[3];
  int ndims_a = 0, ndims_b = 0;
  pp_status sa = pp_output_read_dataset(path_a, name, &a, dims_a, &ndims_a);
  pp_status sb = pp_output_read_dataset(path_b, name, &b, dims_b, &ndims_b);
  bool same = sa == PP_SUCCESS && sb == PP_SUCCESS && ndims_a == ndims_b &&
              memcmp(dims_a, dims_b, sizeof dims_a) == 0 &&
              memcmp(a, b, dims_a[0] * dims_a[1] * dims_a[2] * sizeof *a) == 0;
  pp_status_free(sa);
  pp_status_free(sb);
  pp_array_free(&a);
  pp_array_free(&b);
  return same;
}

/* /status/completed of a file as 0/1 bytes into flags[n]; false if unreadable. */
static inline bool io_test_read_completed(const char *path, size_t n, unsigned char *flags) {
  double *values = NULL;
  size_t dims[3];
  int ndims = 0;
  pp_status s = pp_output_read_dataset(path, "/status/completed", &values, dims, &ndims);
  bool ok = s == PP_SUCCESS && ndims == 1 && dims[0] == n;
  for (size_t i = 0; ok && i < n; i++) flags[i] = values[i] != 0.0;
  pp_status_free(s);
  pp_array_free(&values);
  return ok;
}

static inline bool io_test_exists(const char *path) {
  struct stat info;
  return stat(path, &info) == 0;
}

/* The whole file in a malloc'ed buffer (NULL if unreadable). */
static inline unsigned char *io_test_read_bytes(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long length = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *bytes = malloc(length > 0 ? (size_t)length : 1);
  *size = fread(bytes, 1, (size_t)length, f);
  fclose(f);
  return bytes;
}

static inline int io_test_count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e = readdir(d); e; e = readdir(d))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

/* Removes the files in dir (one level) and dir itself. */
static inline void io_test_remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  char path[4096];
  for (struct dirent *e = readdir(d); e; e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    /* A name that does not fit is skipped (rmdir then fails visibly). */
    if (snprintf(path, sizeof path, "%.3800s/%.255s", dir, e->d_name) < (int)sizeof path)
      unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

/* A new directory under $TMPDIR (or /tmp) into buf. */
static inline bool io_test_make_dir(char *buf, size_t size) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, size, "%s/polypsf-io-XXXXXX", base && base[0] ? base : "/tmp");
  return mkdtemp(buf) != NULL;
}

/* The same made by rank 0 of comm, its name on every rank; false on every rank when it could
 * not be made. Collective on comm. */
static inline bool io_test_make_shared_dir(MPI_Comm comm, char *buf, size_t size) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int made = rank == 0 ? io_test_make_dir(buf, size) : 1;
  MPI_Bcast(&made, 1, MPI_INT, 0, comm);
  MPI_Bcast(buf, (int)size, MPI_CHAR, 0, comm);
  return made != 0;
}

#endif
