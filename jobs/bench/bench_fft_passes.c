/* The padded planes' FFT pair (pupil → image of a freshly padded plane, image → pupil before
 * the crop) by the 1-D pass engine, pruned and whole, against FFTW's 2-D plans, at N =
 * npix·4 for npix 256, 512 and 1024; plans of the given rigor; interleaved rounds, best and
 * median seconds of a pair.
 * Usage: OPENBLAS_NUM_THREADS=1 ./bench_fft_passes [rounds [estimate|measure]]
 * (docs/performance.md, "Coronagraph"). */
#include <string.h>
#include <time.h>

#include "bench_support.h"
#include "polypsf/propagate.h"

static double pp_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 3;
  pp_fft_rigor rigor = argc > 2 && strcmp(argv[2], "measure") == 0 ? PP_FFT_MEASURE : PP_FFT_ESTIMATE;
  if (rounds < 1 || rounds > 100) rounds = 3;
  printf("| npix | N | rigor | 2-D plans best / median s | passes whole | passes pruned | 2-D / pruned (median) |\n");
  printf("| ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
  for (size_t npix = 256; npix <= 1024; npix *= 2) {
    size_t n = 4 * npix, c0 = (n - npix) / 2;
    double complex *plane = NULL;
    pp_fft_plan *to_image = NULL, *to_pupil = NULL;
    pp_fft_passes *p_image = NULL, *p_pupil = NULL;
    if (pp_array_alloc(n * n * sizeof *plane, (void **)&plane) ||
        pp_fft_plan_create(n, n, PP_FFT_BACKWARD, rigor, &to_image) ||
        pp_fft_plan_create(n, n, PP_FFT_FORWARD, rigor, &to_pupil) ||
        pp_fft_passes_create(n, npix, PP_FFT_BACKWARD, rigor, &p_image) ||
        pp_fft_passes_create(n, npix, PP_FFT_FORWARD, rigor, &p_pupil)) {
      fprintf(stderr, "set-up failed at N = %zu\n", n);
      return 1;
    }
    double t2d[100], twhole[100], tpruned[100];
    for (int r = 0; r < rounds; r++) {
      for (int way = 0; way < 3; way++) {
        memset(plane, 0, n * n * sizeof *plane);
        for (size_t y = c0; y < c0 + npix; y++)
          for (size_t x = c0; x < c0 + npix; x++) plane[y * n + x] = 1.0;
        double start = pp_now();
        if (way == 0) {
          pp_fft_propagate(to_image, plane, plane, PP_FFT_PUPIL_TO_IMAGE);
          pp_fft_propagate(to_pupil, plane, plane, PP_FFT_IMAGE_TO_PUPIL);
        } else {
          pp_fft_passes_propagate(p_image, plane, PP_FFT_PUPIL_TO_IMAGE, way == 2);
          pp_fft_passes_propagate(p_pupil, plane, PP_FFT_IMAGE_TO_PUPIL, way == 2);
        }
        double seconds = pp_now() - start;
        (way == 0 ? t2d : way == 1 ? twhole : tpruned)[r] = seconds;
      }
    }
    double best[3] = {t2d[0], twhole[0], tpruned[0]};
    for (int r = 1; r < rounds; r++) {
      if (t2d[r] < best[0]) best[0] = t2d[r];
      if (twhole[r] < best[1]) best[1] = twhole[r];
      if (tpruned[r] < best[2]) best[2] = tpruned[r];
    }
    double m2d = pp_median(t2d, rounds), mwhole = pp_median(twhole, rounds);
    double mpruned = pp_median(tpruned, rounds);
    printf("| %zu | %zu | %s | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | %.2f |\n", npix, n,
           rigor == PP_FFT_MEASURE ? "measure" : "estimate", best[0], m2d, best[1], mwhole,
           best[2], mpruned, m2d / mpruned);
    fflush(stdout);
    pp_fft_plan_destroy(&to_image);
    pp_fft_plan_destroy(&to_pupil);
    pp_fft_passes_destroy(&p_image);
    pp_fft_passes_destroy(&p_pupil);
    pp_array_free(&plane);
  }
  return 0;
}
