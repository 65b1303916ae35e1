/* bench_fresnel: seconds per wavelength of the fresnel_hst system (not a test; issue 14).
 *
 * The Hubble example (jobs/examples/fresnel_hst.yaml): gray circle r = 1.2 m, secondary
 * obscuration with 4 supports, the primary (f = 5.52085 m) in the pupil, the secondary
 * (f = −0.6790325 m) 4.907 m later, a 128 px detector of 2 µm at focus 6.39 m later;
 * λ = 0.5 µm. Two sizes of the padded array, beam_ratio 0.25:
 *   npix 256  → 1024²   (POPPY's reference case)
 *   npix 1024 → 4096²
 * Each size: the system is built once (its plans), one wavelength is run as a warm-up, then
 * `rounds` wavelengths are timed one by one; best and median seconds per wavelength, one
 * thread (FFTW planned with the job's rigor, estimate), with the default FFT engine (the 1-D
 * passes) and then with FFTW's 2-D plans (fft_engine: fftw2d) for comparison.
 * Prints one line per size and engine:
 *   "bench_fresnel N=1024 best 0.123 s median 0.125 s per wavelength (5 FFTs, rigor estimate,
 *    engine passes)".
 * Usage: bench_fresnel [rounds] [max_n] [estimate|measure|patient]
 *        (default 3 rounds, both sizes, estimate; max_n 1024 skips 4096; measure plans the
 *        two FFTs with FFTW_MEASURE first, which takes minutes at 4096²) */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "polypsf/polypsf.h"

static double pp_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int pp_compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int pp_bench_size(int npix, int rounds, const char *rigor, const char *engine) {
  char yaml[2048];
  snprintf(yaml, sizeof yaml,
           "propagation: {mode: fresnel, beam_ratio: 0.25, fft_rigor: %s, fft_engine: %s}\n"
           "pupil: {npix: %d, diameter: 2.4}\n"
           "wavelengths: {list: [5.0e-7]}\n"
           "optics:\n"
           "  - circular_aperture: {radius: 1.2}\n"
           "  - secondary_obscuration: {secondary_radius: 0.396, n_supports: 4, "
           "support_width: 0.0264}\n"
           "  - quadratic_lens: {f_lens: 5.52085, plane: pupil}\n"
           "  - quadratic_lens: {f_lens: -0.6790325, distance: 4.907028205}\n"
           "detector: {pixelscale_m: 2.0e-6, fov_pixels: 128, distance: 6.3916645}\n",
           rigor, engine, npix);
  pp_job *job = NULL;
  pp_fresnel_system *system = NULL;
  pp_status s = pp_job_parse_string(yaml, strlen(yaml), "bench_fresnel", &job);
  if (s == PP_SUCCESS) s = pp_fresnel_system_create(job, &system);
  double *psf = malloc(128 * 128 * sizeof *psf);
  double *seconds = malloc((size_t)rounds * sizeof *seconds);
  if (s == PP_SUCCESS && psf && seconds) s = pp_fresnel_system_psf(system, 5.0e-7, psf);
  for (int r = 0; s == PP_SUCCESS && r < rounds; r++) {
    double t0 = pp_now();
    s = pp_fresnel_system_psf(system, 5.0e-7, psf);
    seconds[r] = pp_now() - t0;
  }
  int failed = s != PP_SUCCESS || !psf || !seconds;
  if (s != PP_SUCCESS) {
    fprintf(stderr, "bench_fresnel: ");
    pp_status_print(s, stderr, true);
  } else if (!failed) {
    qsort(seconds, (size_t)rounds, sizeof *seconds, pp_compare_doubles);
    size_t ffts = 0;
    pp_fresnel_trace(job, 5.0e-7, NULL, &ffts);
    printf("bench_fresnel N=%zu best %.4f s median %.4f s per wavelength (%zu FFTs, rigor %s, "
           "engine %s)\n",
           pp_fresnel_system_padded_side(system), seconds[0], seconds[rounds / 2], ffts, rigor,
           engine);
  }
  free(psf);
  free(seconds);
  pp_fresnel_system_destroy(&system);
  pp_job_destroy(&job);
  return failed;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rounds = argc > 1 ? atoi(argv[1]) : 3;
  int max_n = argc > 2 ? atoi(argv[2]) : 4096;
  const char *rigor = argc > 3 ? argv[3] : "estimate";
  if (strcmp(rigor, "estimate") && strcmp(rigor, "measure") && strcmp(rigor, "patient"))
    rigor = "estimate";
  if (rounds < 1 || rounds > 100) rounds = 3;
  int failed = 0;
  for (int npix = 256; !failed && npix <= max_n / 4; npix *= 4)
    for (int e = 0; !failed && e < 2; e++)
      failed = pp_bench_size(npix, rounds, rigor, e == 0 ? "passes" : "fftw2d");
  MPI_Finalize();
  return failed;
}
