/* bench_czt: chirp-z against the MFT for the obscured_poly detector transform (not a test).
 *
 * The transform: 1024² pupil → 404² detector pixels (101 px × oversample 4), nlamD of
 * obscured_poly at 1 µm (D = 6.5 m, fov 101 × 0.0311″ → 98.985 λ/D). One process; run with
 * OPENBLAS_NUM_THREADS=1 (FFTW is single-threaded here: polypsf links no FFTW threads).
 *
 * Measured in the same run, interleaved round by round (so a busy neighbour on a shared
 * machine slows every side alike), best and median of the rounds:
 *   pp_mft_execute       complex input (pupils with OPD)
 *   pp_mft_execute_real  real input (pupils without OPD)
 *   pp_czt_execute       complex input, FFTW_ESTIMATE plans, and FFTW_MEASURE plans
 *   per-wavelength set-up: pp_mft_plan_set_nlamd, pp_czt_plan_set_nlamd
 *   for scale: pp_fft_propagate of the same pupil padded ×2 (2048², in place), which samples
 *              at λ/(2D) over the whole 2048 px field instead, with FFTW_ESTIMATE and
 *              FFTW_MEASURE plans (power-of-two sizes are where ESTIMATE's guess is poor).
 * It also prints the largest difference between the chirp-z and MFT images (relative to the
 * peak), so a speed-up never hides a wrong answer.
 *
 * Usage: OPENBLAS_NUM_THREADS=1 bench_czt [rounds]   (default 10 rounds) */
#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/propagate.h"

#include "bench_support.h"

enum { PP_BENCH_MAX_ROUNDS = 100 };

static void pp_row(const char *what, const double *seconds, int rounds, double flops) {
  double best = pp_min(seconds, rounds);
  printf("%-44s %9.4f %9.4f", what, best, pp_median(seconds, rounds));
  if (flops > 0.0) printf(" %10.3f %9.2f", flops * 1e-9, flops / best * 1e-9);
  printf("\n");
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  if (rounds < 1 || rounds > PP_BENCH_MAX_ROUNDS) {
    fprintf(stderr, "usage: bench_czt [rounds 1..%d]\n", PP_BENCH_MAX_ROUNDS);
    return 2;
  }
  const size_t npix = 1024, n_out = 404, padded = 2 * npix;
  const double diameter_m = 6.5, wavelength_m = 1e-6;
  const double nlamd = 101 * 0.0311 / (wavelength_m / diameter_m * PP_ARCSEC_PER_RADIAN);

  pp_status status = PP_SUCCESS;
  double *pupil_real = NULL;
  double complex *pupil = NULL, *mft_image = NULL, *czt_image = NULL, *field = NULL;
  if ((status = pp_array_alloc(npix * npix * sizeof *pupil_real, (void **)&pupil_real)) ||
      (status = pp_array_alloc(npix * npix * sizeof *pupil, (void **)&pupil)) ||
      (status = pp_array_alloc(n_out * n_out * sizeof *mft_image, (void **)&mft_image)) ||
      (status = pp_array_alloc(n_out * n_out * sizeof *czt_image, (void **)&czt_image)) ||
      (status = pp_array_alloc(padded * padded * sizeof *field, (void **)&field)))
    return pp_fail(status);
  /* the obscured pupil (hard edges are enough for timing), with a phase for the complex one */
  for (size_t y = 0; y < npix; y++)
    for (size_t x = 0; x < npix; x++) {
      double v = ((double)y - (npix - 1) / 2.0) / npix * diameter_m;
      double u = ((double)x - (npix - 1) / 2.0) / npix * diameter_m;
      double r = hypot(u, v);
      double inside = r <= 3.25 && r >= 0.5 ? 1.0 : 0.0;
      pupil_real[y * npix + x] = inside;
      pupil[y * npix + x] = inside * cexp(2.0 * PP_PI * I * 0.05 * (r / 3.25) * (r / 3.25));
    }

  double t0 = pp_wtime();
  pp_mft_plan *mft = NULL;
  if ((status = pp_mft_plan_create(npix, npix, n_out, n_out, PP_MFT_FORWARD, &mft)))
    return pp_fail(status);
  double mft_create_s = pp_wtime() - t0;
  t0 = pp_wtime();
  pp_czt_plan *czt = NULL, *czt_measured = NULL;
  if ((status = pp_czt_plan_create(npix, npix, n_out, n_out, PP_MFT_FORWARD, PP_FFT_ESTIMATE, &czt)))
    return pp_fail(status);
  double czt_create_s = pp_wtime() - t0;
  t0 = pp_wtime();
  if ((status = pp_czt_plan_create(npix, npix, n_out, n_out, PP_MFT_FORWARD, PP_FFT_MEASURE,
                                   &czt_measured)))
    return pp_fail(status);
  double czt_measure_create_s = pp_wtime() - t0;
  t0 = pp_wtime();
  pp_fft_plan *fft = NULL, *fft_measured = NULL;
  if ((status = pp_fft_plan_create(padded, padded, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &fft)))
    return pp_fail(status);
  double fft_create_s = pp_wtime() - t0;
  t0 = pp_wtime();
  if ((status = pp_fft_plan_create(padded, padded, PP_FFT_BACKWARD, PP_FFT_MEASURE,
                                   &fft_measured)))
    return pp_fail(status);
  double fft_measure_create_s = pp_wtime() - t0;
  if ((status = pp_mft_plan_set_nlamd(mft, nlamd, nlamd)) ||
      (status = pp_czt_plan_set_nlamd(czt, nlamd, nlamd)) ||
      (status = pp_czt_plan_set_nlamd(czt_measured, nlamd, nlamd)))
    return pp_fail(status);

  /* warm-up (OpenBLAS allocates its buffers on the first call) and the accuracy check */
  if ((status = pp_mft_execute(mft, pupil, mft_image)) ||
      (status = pp_czt_execute(czt, pupil, czt_image)))
    return pp_fail(status);
  double peak = 0.0, worst = 0.0;
  for (size_t p = 0; p < n_out * n_out; p++) {
    peak = fmax(peak, cabs(mft_image[p]));
    worst = fmax(worst, cabs(czt_image[p] - mft_image[p]));
  }
  if ((status = pp_czt_execute(czt_measured, pupil, czt_image))) return pp_fail(status);
  double worst_measured = 0.0;
  for (size_t p = 0; p < n_out * n_out; p++)
    worst_measured = fmax(worst_measured, cabs(czt_image[p] - mft_image[p]));

  double mft_s[PP_BENCH_MAX_ROUNDS], mft_real_s[PP_BENCH_MAX_ROUNDS];
  double czt_s[PP_BENCH_MAX_ROUNDS], czt_measured_s[PP_BENCH_MAX_ROUNDS];
  double mft_kernels_s[PP_BENCH_MAX_ROUNDS], czt_chirps_s[PP_BENCH_MAX_ROUNDS];
  double fft_s[PP_BENCH_MAX_ROUNDS], fft_measured_s[PP_BENCH_MAX_ROUNDS];
  for (int r = 0; r < rounds; r++) {
    t0 = pp_wtime();
    status = pp_mft_execute(mft, pupil, mft_image);
    mft_s[r] = pp_wtime() - t0;
    if (!status) {
      t0 = pp_wtime();
      status = pp_mft_execute_real(mft, pupil_real, mft_image);
      mft_real_s[r] = pp_wtime() - t0;
    }
    if (!status) {
      t0 = pp_wtime();
      status = pp_czt_execute(czt, pupil, czt_image);
      czt_s[r] = pp_wtime() - t0;
    }
    if (!status) {
      t0 = pp_wtime();
      status = pp_czt_execute(czt_measured, pupil, czt_image);
      czt_measured_s[r] = pp_wtime() - t0;
    }
    if (!status) {
      t0 = pp_wtime();
      status = pp_mft_plan_set_nlamd(mft, nlamd, nlamd);
      mft_kernels_s[r] = pp_wtime() - t0;
    }
    if (!status) {
      t0 = pp_wtime();
      status = pp_czt_plan_set_nlamd(czt, nlamd, nlamd);
      czt_chirps_s[r] = pp_wtime() - t0;
    }
    if (!status) status = pp_fft_pad(pupil, npix, npix, field, padded, padded);
    if (!status) {
      t0 = pp_wtime();
      status = pp_fft_propagate(fft, field, field, PP_FFT_PUPIL_TO_IMAGE);
      fft_s[r] = pp_wtime() - t0;
    }
    if (!status) status = pp_fft_pad(pupil, npix, npix, field, padded, padded);
    if (!status) {
      t0 = pp_wtime();
      status = pp_fft_propagate(fft_measured, field, field, PP_FFT_PUPIL_TO_IMAGE);
      fft_measured_s[r] = pp_wtime() - t0;
    }
    if (status) return pp_fail(status);
  }

  char model[256];
  pp_cpu_model(model, sizeof model);
  const char *threads = getenv("OPENBLAS_NUM_THREADS");
  printf("bench_czt — obscured_poly detector transform at 1 µm: %zu² → %zu², nlamD %.4f\n", npix,
         n_out, nlamd);
  printf("machine: %ld online CPUs, %s; OPENBLAS_NUM_THREADS=%s; FFTW %s, one thread\n",
         sysconf(_SC_NPROCESSORS_ONLN), model, threads ? threads : "(unset)", fftw_version);
  printf("rounds: %d, interleaved\n", rounds);
  printf("plan create: MFT %.3f s, chirp-z %.3f s (estimate) %.3f s (measure), "
         "FFT %zu² %.3f s (estimate) %.3f s (measure)\n",
         mft_create_s, czt_create_s, czt_measure_create_s, padded, fft_create_s,
         fft_measure_create_s);
  printf("plan bytes: MFT %.1f MiB, chirp-z %.1f MiB (FFT length %zu)\n",
         (double)pp_mft_plan_bytes(npix, npix, n_out, n_out) / 1048576.0,
         (double)pp_czt_plan_bytes(npix, npix, n_out, n_out) / 1048576.0,
         pp_fft_fast_size(npix + n_out - 1));
  printf("chirp-z vs MFT: max|Δ|/peak = %.2e (estimate plans), %.2e (measure plans)\n",
         worst / peak, worst_measured / peak);
  printf("\n%-44s %9s %9s %10s %9s\n", "", "best s", "median s", "GFLOP", "GFLOP/s");
  pp_row("pp_mft_execute (complex input)", mft_s, rounds, pp_mft_flops(npix, npix, n_out, n_out));
  pp_row("pp_mft_execute_real (real input)", mft_real_s, rounds,
         pp_mft_flops_real(npix, npix, n_out, n_out));
  pp_row("pp_czt_execute (complex input, estimate)", czt_s, rounds,
         pp_czt_flops(npix, npix, n_out, n_out));
  pp_row("pp_czt_execute (complex input, measure)", czt_measured_s, rounds,
         pp_czt_flops(npix, npix, n_out, n_out));
  pp_row("pp_mft_plan_set_nlamd (kernels per λ)", mft_kernels_s, rounds, 0.0);
  pp_row("pp_czt_plan_set_nlamd (chirps per λ)", czt_chirps_s, rounds, 0.0);
  pp_row("pp_fft_propagate 2048² in place, estimate", fft_s, rounds,
         pp_fft_flops(padded, padded));
  pp_row("pp_fft_propagate 2048² in place, measure", fft_measured_s, rounds,
         pp_fft_flops(padded, padded));
  double mft_best = pp_min(mft_s, rounds), czt_best = pp_min(czt_s, rounds);
  printf("\nper wavelength (transform + its per-λ set-up), best: MFT complex %.4f s, MFT real "
         "%.4f s, chirp-z %.4f s\n",
         mft_best + pp_min(mft_kernels_s, rounds),
         pp_min(mft_real_s, rounds) + pp_min(mft_kernels_s, rounds),
         czt_best + pp_min(czt_chirps_s, rounds));
  printf("chirp-z speed-up over the MFT: %.2f× (complex input), %.2f× (real input)\n",
         mft_best / czt_best, pp_min(mft_real_s, rounds) / czt_best);

  pp_mft_plan_destroy(&mft);
  pp_czt_plan_destroy(&czt);
  pp_czt_plan_destroy(&czt_measured);
  pp_fft_plan_destroy(&fft);
  pp_fft_plan_destroy(&fft_measured);
  pp_array_free(&pupil_real);
  pp_array_free(&pupil);
  pp_array_free(&mft_image);
  pp_array_free(&czt_image);
  pp_array_free(&field);
  return 0;
}
