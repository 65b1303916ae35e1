/* propagate over a group of ranks (FFTW-MPI), run on 2 and on 4 ranks (declared in
 * CMakeLists.txt).
 *
 * Truth: the serial pp_fft_propagate (itself checked against direct DFT sums in test_fft.c) of
 * the same field, computed on rank 0; the distributed result is gathered on rank 0 and must
 * equal it to 1e-12 of the peak, both directions, out of place and in place; the round trip
 * pupil → image → pupil returns the field; the centred transform (Fresnel groups) equals the
 * serial quadrant swap, FFT / N, quadrant swap, both signs. Sizes: 128 (even slabs), 96, and 90 (on 4 ranks
 * FFTW-MPI's block of ceil(90/4) = 23 rows gives slabs 23, 23, 23, 21, and rank 1 starts on an
 * odd row, which the modulation's sign must follow). Error paths: odd N and ranks asking for
 * different sizes fail on every rank, and a bad call on one rank fails the propagation on all
 * of them instead of hanging. */
#include <complex.h>
#include <mpi.h>
#include <string.h>

#include "polypsf/propagate.h"
#include "pp_test.h"
#include "propagate_test_support.h"

static int rank, size;

/* The whole field on rank 0 from every rank's slab (rows in rank order: FFTW's slabs are
 * contiguous and increasing). */
static void pp_gather(const pp_fft_mpi_plan *plan, const double complex *local,
                      double complex *whole, size_t n) {
  size_t row0 = 0, nrows = 0;
  pp_fft_mpi_local_rows(plan, &row0, &nrows);
  int mine[2] = {(int)(row0 * n), (int)(nrows * n)};
  int *counts = NULL, *offsets = NULL;
  int *pairs = rank == 0 ? malloc(2 * (size_t)size * sizeof *pairs) : NULL;
  MPI_Gather(mine, 2, MPI_INT, pairs, 2, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    counts = malloc((size_t)size * sizeof *counts);
    offsets = malloc((size_t)size * sizeof *offsets);
    for (int r = 0; r < size; r++) offsets[r] = pairs[2 * r], counts[r] = pairs[2 * r + 1];
  }
  MPI_Gatherv(local, mine[1], MPI_C_DOUBLE_COMPLEX, whole, counts, offsets,
              MPI_C_DOUBLE_COMPLEX, 0, MPI_COMM_WORLD);
  free(pairs);
  free(counts);
  free(offsets);
}

static void test_size(size_t n) {
  char what[160];
  size_t count = n * n;
  /* Every rank makes the same field (same seed) and keeps its own rows of it. */
  double complex *field = pp_field(count);
  unsigned long long seed = 0x9e3779b97f4a7c15ULL ^ n;
  for (size_t p = 0; p < count; p++) {
    double re = pp_random(&seed), im = pp_random(&seed);
    field[p] = CMPLX(re, im);
  }

  pp_fft_mpi_plan *to_image = NULL, *to_pupil = NULL;
  snprintf(what, sizeof what, "N = %zu on %d ranks: plan both directions (collective)", n, size);
  PP_TEST_OK(pp_fft_mpi_plan_create(MPI_COMM_WORLD, n, PP_FFT_BACKWARD, PP_FFT_ESTIMATE,
                                    &to_image), what);
  PP_TEST_OK(pp_fft_mpi_plan_create(MPI_COMM_WORLD, n, PP_FFT_FORWARD, PP_FFT_ESTIMATE,
                                    &to_pupil), what);
  if (!to_image || !to_pupil) MPI_Abort(MPI_COMM_WORLD, 1);

  size_t row0 = 0, nrows = 0, row0_b = 0, nrows_b = 0;
  pp_fft_mpi_local_rows(to_image, &row0, &nrows);
  pp_fft_mpi_local_rows(to_pupil, &row0_b, &nrows_b);
  unsigned long long rows = nrows, covered = 0;
  MPI_Allreduce(&rows, &covered, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  snprintf(what, sizeof what, "N = %zu: the slabs cover the N rows, same in both plans", n);
  int same = row0 == row0_b && nrows == nrows_b, all_same = 0;
  MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  PP_TEST_TRUE(covered == n && all_same, what);
  size_t elements = pp_fft_mpi_local_elements(to_image);
  unsigned long long biggest = elements, biggest_all = 0;
  MPI_Allreduce(&biggest, &biggest_all, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  snprintf(what, sizeof what, "N = %zu: pp_fft_mpi_plan_bytes covers the largest slab", n);
  PP_TEST_TRUE(biggest_all * sizeof(double complex) <= pp_fft_mpi_plan_bytes(n, (size_t)size),
               what);

  double complex *in = pp_field(elements), *out = pp_field(elements), *back = pp_field(elements);
  memcpy(in, field + row0 * n, nrows * n * sizeof *in);
  double complex *image = rank == 0 ? pp_field(count) : NULL;
  double complex *pupil = rank == 0 ? pp_field(count) : NULL;
  double complex *want = rank == 0 ? pp_field(count) : NULL;
  pp_fft_plan *serial_image = NULL, *serial_pupil = NULL;
  if (rank == 0) {
    PP_TEST_OK(pp_fft_plan_create(n, n, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &serial_image),
               "serial plan (truth)");
    PP_TEST_OK(pp_fft_plan_create(n, n, PP_FFT_FORWARD, PP_FFT_ESTIMATE, &serial_pupil),
               "serial plan (truth)");
  }

  /* pupil → image, out of place */
  snprintf(what, sizeof what, "N = %zu: distributed pupil → image", n);
  PP_TEST_OK(pp_fft_mpi_propagate(to_image, in, out, PP_FFT_PUPIL_TO_IMAGE), what);
  pp_gather(to_image, out, image, n);
  if (rank == 0) {
    PP_TEST_OK(pp_fft_propagate(serial_image, field, want, PP_FFT_PUPIL_TO_IMAGE), "serial");
    snprintf(what, sizeof what, "N = %zu on %d ranks: pupil → image = serial (rel. to peak)",
             n, size);
    PP_TEST_NEAR(pp_max_abs_diff_relative(image, want, count), 0.0, 1e-12, what);
  }
  int kept = memcmp(in, field + row0 * n, nrows * n * sizeof *in) == 0, all_kept = 0;
  MPI_Allreduce(&kept, &all_kept, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  PP_TEST_TRUE(all_kept, "the input slab is preserved out of place");

  /* image → pupil of the same random field (a general input, not only a propagated one) */
  snprintf(what, sizeof what, "N = %zu: distributed image → pupil", n);
  PP_TEST_OK(pp_fft_mpi_propagate(to_pupil, in, back, PP_FFT_IMAGE_TO_PUPIL), what);
  pp_gather(to_pupil, back, pupil, n);
  if (rank == 0) {
    PP_TEST_OK(pp_fft_propagate(serial_pupil, field, want, PP_FFT_IMAGE_TO_PUPIL), "serial");
    snprintf(what, sizeof what, "N = %zu on %d ranks: image → pupil = serial (rel. to peak)",
             n, size);
    PP_TEST_NEAR(pp_max_abs_diff_relative(pupil, want, count), 0.0, 1e-12, what);
  }

  /* round trip, in place: the image slab back to the pupil */
  snprintf(what, sizeof what, "N = %zu: image → pupil in place", n);
  PP_TEST_OK(pp_fft_mpi_propagate(to_pupil, out, out, PP_FFT_IMAGE_TO_PUPIL), what);
  pp_gather(to_pupil, out, pupil, n);
  if (rank == 0) {
    snprintf(what, sizeof what, "N = %zu on %d ranks: round trip returns the field", n, size);
    PP_TEST_NEAR(pp_max_abs_diff_relative(pupil, field, count), 0.0, 1e-12, what);
  }
  /* pupil → image in place: same as out of place */
  memcpy(out, field + row0 * n, nrows * n * sizeof *out);
  snprintf(what, sizeof what, "N = %zu: pupil → image in place", n);
  PP_TEST_OK(pp_fft_mpi_propagate(to_image, out, out, PP_FFT_PUPIL_TO_IMAGE), what);
  pp_gather(to_image, out, pupil, n);
  if (rank == 0) {
    snprintf(what, sizeof what, "N = %zu on %d ranks: in place = out of place", n, size);
    PP_TEST_NEAR(pp_max_abs_diff_relative(pupil, image, count), 0.0, 1e-15, what);
  }

  /* the centred transform (Fresnel groups): fftshift(DFT(ifftshift(x)))/N, either sign,
   * against the serial quadrant swaps around the serial plan; N = 90 has N/2 odd, where the
   * two shifts' (−1)^(N/2) factors must cancel between the axes */
  for (int d = 0; d < 2; d++) {
    const pp_fft_mpi_plan *plan = d ? to_pupil : to_image;
    snprintf(what, sizeof what, "N = %zu: centred %s transform", n, d ? "forward" : "backward");
    PP_TEST_OK(pp_fft_mpi_transform_centred(plan, in, out), what);
    pp_gather(plan, out, pupil, n);
    if (rank == 0) {
      memcpy(want, field, count * sizeof *want);
      pp_fresnel_fftshift(want, n);
      PP_TEST_OK(pp_fft_execute(d ? serial_pupil : serial_image, want, want), "serial");
      for (size_t p = 0; p < count; p++) want[p] /= (double)n;
      pp_fresnel_fftshift(want, n);
      snprintf(what, sizeof what, "N = %zu on %d ranks: centred %s = shift, serial, shift", n,
               size, d ? "forward" : "backward");
      PP_TEST_NEAR(pp_max_abs_diff_relative(pupil, want, count), 0.0, 1e-12, what);
    }
  }

  pp_fft_plan_destroy(&serial_image);
  pp_fft_plan_destroy(&serial_pupil);
  pp_fft_mpi_plan_destroy(&to_image);
  pp_fft_mpi_plan_destroy(&to_pupil);
  PP_TEST_TRUE(to_image == NULL && to_pupil == NULL, "destroy nulls the handles");
  pp_array_free(&in);
  pp_array_free(&out);
  pp_array_free(&back);
  pp_array_free(&image);
  pp_array_free(&pupil);
  pp_array_free(&want);
  pp_array_free(&field);
}

/* A status that must be a failure of class want on every rank. */
static void check_fails_everywhere(pp_status s, pp_error_code want, const char *what) {
  int ok = pp_status_code(s) == want, all = 0;
  if (!pp_test_.quiet && s) printf("  (message: %s)\n", pp_status_message(s));
  pp_status_free(s);
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  PP_TEST_TRUE(all, what);
}

static void test_errors(void) {
  pp_fft_mpi_plan *plan = NULL;
  check_fails_everywhere(
      pp_fft_mpi_plan_create(MPI_COMM_WORLD, 95, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &plan),
      PP_ERR_INPUT, "odd N is refused on every rank");
  PP_TEST_TRUE(plan == NULL, "no plan after a refusal");
  check_fails_everywhere(pp_fft_mpi_plan_create(MPI_COMM_WORLD, rank == 0 ? 64 : 66,
                                                PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &plan),
                         PP_ERR_INTERNAL, "ranks asking for different sizes fail on every rank");

  PP_TEST_OK(pp_fft_mpi_plan_create(MPI_COMM_WORLD, 64, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &plan),
             "plan 64 × 64");
  size_t elements = pp_fft_mpi_local_elements(plan);
  double complex *a = pp_field(elements);
  memset(a, 0, elements * sizeof *a);
  /* rank 1 asks for the wrong direction: every rank must fail, none may hang */
  pp_fft_propagation which = rank == 1 ? PP_FFT_IMAGE_TO_PUPIL : PP_FFT_PUPIL_TO_IMAGE;
  check_fails_everywhere(pp_fft_mpi_propagate(plan, a, a, which), PP_ERR_INTERNAL,
                         "a bad call on one rank fails the propagation on every rank, same class");
  /* the group is still usable afterwards */
  PP_TEST_OK(pp_fft_mpi_propagate(plan, a, a, PP_FFT_PUPIL_TO_IMAGE), "then a good call works");
  pp_array_free(&a);
  pp_fft_mpi_plan_destroy(&plan);
  pp_fft_mpi_plan_destroy(&plan); /* NULL is fine */
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  pp_test_.quiet = rank != 0;
  if (size < 2) {
    if (rank == 0) printf("SKIP test_fft_mpi needs at least 2 ranks (declared: 2 and 4)\n");
    MPI_Finalize();
    return 77;
  }
  test_size(128);
  test_size(96);
  test_size(90);
  test_errors();
  int code = pp_test_finish_all(MPI_COMM_WORLD);
  MPI_Finalize();
  return code;
}
