/* bench_coronagraph: one wavelength of the FQPM coronagraph against its FFTs alone (not a test).
 *
 * The system (tests/physics/test_coronagraph.c's, at POPPY's default 1024 px pupil): circular
 * aperture r = 3 m (gray), fqpm_fft_aligner forward, ideal_fqpm at 2 µm, fqpm_fft_aligner
 * backward, Lyot stop r = 2.7 m (gray), MFT to 64 px of 0.02″ × oversample 2; padded ×4, so
 * both FFTs are N × N with N = 4096 (256 MiB per complex plane). Wavelength 2 µm.
 *
 * Measured in the same run, interleaved round by round (a busy neighbour on a shared machine
 * slows both alike), best and median of the rounds:
 *   whole     pp_system_psf: pupil, pad, FFT, mask, FFT, Lyot, crop, MFT, intensity
 *   FFTs      the two pp_fft_propagate calls alone (pupil → image, image → pupil, in place on
 *             an N² array, as src/system/planes.c runs them), plans of the same rigor
 * and the ratio whole / FFTs: what the rest of the wavelength costs on top of its FFTs.
 * The rigor is the job's fft_rigor, which planes.c passes to its plans: estimate by default
 * (deterministic plans, no wisdom needed); `measure` plans both sides with FFTW_MEASURE
 * (minutes of planning at 4096² on a first run; pass a wisdom file to keep them).
 *
 * Under mpirun with 2 or more ranks, rank 0 runs the above alone (the others wait), then all
 * ranks time the same FFT pair distributed with pp_fft_mpi_propagate (FFTW-MPI slabs, same
 * rigor), slowest rank per round.
 *
 * Usage: OPENBLAS_NUM_THREADS=1 bench_coronagraph [rounds [estimate|measure [wisdom-file]]]
 *        (default 3 rounds, estimate)
 *        mpirun -n 2 bench_coronagraph [rounds ...]   adds the FFTW-MPI pair */
#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "polypsf/polypsf.h"

#include "bench_support.h"

enum { PP_BENCH_MAX_ROUNDS = 100 };

#define PP_BENCH_CALL(expr)                                                 \
  do {                                                                      \
    pp_status s_ = (expr);                                                  \
    if (s_ != PP_SUCCESS) {                                                 \
      fprintf(stderr, "bench_coronagraph: %s failed: ", #expr);           \
      pp_status_print(s_, stderr, true);                                    \
      MPI_Abort(MPI_COMM_WORLD, 1);                                         \
    }                                                                       \
  } while (0)

static double pp_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A barrier that sleeps instead of spinning: Open MPI's blocking barrier polls, and a rank
 * waiting for rank 0's serial part would take a core from it. */
static void pp_barrier_quietly(void) {
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  int done = 0;
  while (MPI_Test(&request, &done, MPI_STATUS_IGNORE), !done) {
    struct timespec pause = {0, 10000000}; /* 10 ms */
    nanosleep(&pause, NULL);
  }
}

static void pp_row(const char *what, const double *seconds, int rounds) {
  printf("%-52s %9.3f %9.3f\n", what, pp_min(seconds, rounds), pp_median(seconds, rounds));
}

static const char pp_job_format[] =
    "pupil: {npix: 1024}\n"
    "wavelengths: {list: [2.0e-6]}\n"
    "optics:\n"
    "  - circular_aperture: {radius: 3.0, gray_pixel: true}\n"
    "  - fqpm_fft_aligner: {direction: forward}\n"
    "  - ideal_fqpm: {wavelength: 2.0e-6}\n"
    "  - fqpm_fft_aligner: {direction: backward}\n"
    "  - circular_aperture: {radius: 2.7, gray_pixel: true, name: Lyot stop}\n"
    "detector: {pixelscale: 0.02, fov_pixels: 64, oversample: 2}\n"
    "propagation: {method: mft, fft_oversample: 4, fft_rigor: %s}\n"
    "output: {path: /dev/null}\n";

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int rounds = argc > 1 ? atoi(argv[1]) : 3;
  if (rounds < 1 || rounds > PP_BENCH_MAX_ROUNDS) rounds = 3;
  const char *rigor_name = argc > 2 ? argv[2] : "estimate";
  pp_fft_rigor rigor = strcmp(rigor_name, "measure") == 0 ? PP_FFT_MEASURE : PP_FFT_ESTIMATE;
  rigor_name = rigor == PP_FFT_MEASURE ? "measure" : "estimate";
  const char *wisdom = argc > 3 ? argv[3] : NULL;
  if (wisdom) PP_BENCH_CALL(pp_fft_wisdom_import(wisdom, NULL));
  const size_t npix = 1024, oversample = 4, n = npix * oversample;
  const double wavelength_m = 2.0e-6;
  double whole[PP_BENCH_MAX_ROUNDS], ffts[PP_BENCH_MAX_ROUNDS], mpi[PP_BENCH_MAX_ROUNDS];

  if (rank == 0) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, pp_job_format, rigor_name);
    pp_job *job = NULL;
    pp_system *system = NULL;
    PP_BENCH_CALL(pp_job_parse_string(yaml, strlen(yaml), "bench_coronagraph", &job));
    double t0 = pp_now();
    PP_BENCH_CALL(pp_system_create(job, &system));
    double create_s = pp_now() - t0;
    size_t ny = 0, nx = 0;
    pp_system_psf_shape(system, &ny, &nx);
    double *psf = malloc(ny * nx * sizeof *psf);

    /* the FFTs alone: the same two propagations on an N² array, in place */
    pp_fft_plan *to_image = NULL, *to_pupil = NULL;
    t0 = pp_now();
    PP_BENCH_CALL(pp_fft_plan_create(n, n, PP_FFT_BACKWARD, rigor, &to_image));
    PP_BENCH_CALL(pp_fft_plan_create(n, n, PP_FFT_FORWARD, rigor, &to_pupil));
    double plan_s = pp_now() - t0;
    double complex *field = NULL;
    PP_BENCH_CALL(pp_array_alloc(n * n * sizeof *field, (void **)&field));
    for (size_t y = 0; y < n; y++) /* a padded disc: the data FFTW sees in the system */
      for (size_t x = 0; x < n; x++) {
        double dy = (double)y - (double)(n - 1) / 2, dx = (double)x - (double)(n - 1) / 2;
        field[y * n + x] = dy * dy + dx * dx < (double)(npix * npix) / 4 ? 1.0 : 0.0;
      }

    printf("FQPM coronagraph, pupil %zu px padded x%zu: N = %zu (%.0f MiB per plane), "
           "lambda = %.1f um, FFTW rigor %s, %d rounds\n",
           npix, oversample, n, (double)(n * n * sizeof *field) / 1048576.0,
           wavelength_m * 1e6, rigor_name, rounds);
    printf("system create %.2f s, two FFT plans %.2f s (FFTW %s)\n", create_s, plan_s,
           fftw_version);
    for (int r = 0; r < rounds; r++) {
      t0 = pp_now();
      PP_BENCH_CALL(pp_system_psf(system, wavelength_m, psf));
      whole[r] = pp_now() - t0;
      t0 = pp_now();
      PP_BENCH_CALL(pp_fft_propagate(to_image, field, field, PP_FFT_PUPIL_TO_IMAGE));
      PP_BENCH_CALL(pp_fft_propagate(to_pupil, field, field, PP_FFT_IMAGE_TO_PUPIL));
      ffts[r] = pp_now() - t0;
      printf("round %d: whole %.3f s, FFTs %.3f s, ratio %.3f\n", r + 1, whole[r], ffts[r],
             whole[r] / ffts[r]);
      fflush(stdout);
    }
    printf("%-52s %9s %9s\n", "seconds per wavelength", "best", "median");
    pp_row("whole wavelength (pp_system_psf)", whole, rounds);
    pp_row("its two FFTs alone (pp_fft_propagate x2)", ffts, rounds);
    printf("ratio whole / FFTs: best %.3f, median %.3f (target <= 1.5)\n",
           pp_min(whole, rounds) / pp_min(ffts, rounds),
           pp_median(whole, rounds) / pp_median(ffts, rounds));
    double sum = 0.0;
    for (size_t p = 0; p < ny * nx; p++) sum += psf[p];
    printf("PSF %zu x %zu, total %.6g (so the work is not optimized away)\n", ny, nx, sum);
    free(psf);
    pp_array_free(&field);
    pp_fft_plan_destroy(&to_image);
    pp_fft_plan_destroy(&to_pupil);
    pp_system_destroy(&system);
    pp_job_destroy(&job);
  }
  pp_barrier_quietly();

  if (size > 1) {
    pp_fft_mpi_plan *to_image = NULL, *to_pupil = NULL;
    double t0 = pp_now();
    PP_BENCH_CALL(pp_fft_mpi_plan_create(MPI_COMM_WORLD, n, PP_FFT_BACKWARD, rigor, &to_image));
    PP_BENCH_CALL(pp_fft_mpi_plan_create(MPI_COMM_WORLD, n, PP_FFT_FORWARD, rigor, &to_pupil));
    double plan_s = pp_now() - t0;
    size_t row0 = 0, nrows = 0, elements = pp_fft_mpi_local_elements(to_image);
    pp_fft_mpi_local_rows(to_image, &row0, &nrows);
    double complex *slab = NULL;
    PP_BENCH_CALL(pp_array_alloc(elements * sizeof *slab, (void **)&slab));
    for (size_t y = 0; y < nrows; y++)
      for (size_t x = 0; x < n; x++) {
        double dy = (double)(row0 + y) - (double)(n - 1) / 2, dx = (double)x - (double)(n - 1) / 2;
        slab[y * n + x] = dy * dy + dx * dx < (double)(npix * npix) / 4 ? 1.0 : 0.0;
      }
    for (int r = 0; r < rounds; r++) {
      MPI_Barrier(MPI_COMM_WORLD);
      t0 = pp_now();
      PP_BENCH_CALL(pp_fft_mpi_propagate(to_image, slab, slab, PP_FFT_PUPIL_TO_IMAGE));
      PP_BENCH_CALL(pp_fft_mpi_propagate(to_pupil, slab, slab, PP_FFT_IMAGE_TO_PUPIL));
      double mine = pp_now() - t0;
      MPI_Reduce(&mine, &mpi[r], 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    }
    if (rank == 0) {
      printf("FFTW-MPI over %d ranks: two plans %.2f s, %zu rows on rank 0 (%.0f MiB slab)\n",
             size, plan_s, nrows, (double)(elements * sizeof *slab) / 1048576.0);
      char what[80];
      snprintf(what, sizeof what, "two FFTs over %d ranks (pp_fft_mpi_propagate x2)", size);
      pp_row(what, mpi, rounds);
      printf("speed-up over one rank: best %.3f, median %.3f\n",
             pp_min(ffts, rounds) / pp_min(mpi, rounds),
             pp_median(ffts, rounds) / pp_median(mpi, rounds));
    }
    pp_array_free(&slab);
    pp_fft_mpi_plan_destroy(&to_image);
    pp_fft_mpi_plan_destroy(&to_pupil);
  }
  if (wisdom && rank == 0) PP_BENCH_CALL(pp_fft_wisdom_export(wisdom));
  MPI_Finalize();
  return 0;
}
