/* bench_auto: `propagation.method: auto` against the forced MFT on the obscured_poly system
 * (not a test).
 *
 * The system: 1024 px pupil, circular_aperture r = 3.25 m (gray edges), secondary obscuration
 * r = 0.5 m on 3 spiders 0.1 m wide; detector 0.0311″/px, 101 px, oversample 4 → 404 × 404;
 * 8 wavelengths 1–2 µm; one process, one BLAS thread (run with OPENBLAS_NUM_THREADS=1).
 *
 * 1. auto is resolved as a run resolves it (pp_propagation_choose: this machine's calibration
 *    cache, measured when missing), and two systems are built: the chosen method and the MFT.
 * 2. Each round computes every wavelength with both, interleaved wavelength by wavelength (so
 *    that a busy neighbour on a shared machine slows both alike), timing pp_system_psf (all of
 *    one wavelength: kernels or chirps for λ, the transform, |E|²). Best and median per
 *    wavelength over the rounds, the speed-up, and the largest |auto − mft| relative to the
 *    peak over all wavelengths (a speed-up must not hide a wrong answer).
 * 3. The cost model's predictions against measured times for a range of transform shapes
 *    (real-input MFT, complex MFT, chirp-z), so that the model's accuracy is on record.
 *
 * Usage: OPENBLAS_NUM_THREADS=1 bench_auto [rounds] [--calibration FILE] [--no-model]
 *        (default 5 rounds, the default calibration cache) */
#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"

#include "bench_support.h"

enum { PP_BENCH_WAVELENGTHS = 8, PP_BENCH_MAX_ROUNDS = 50 };

static const char pp_bench_job[] =
    "pupil: {npix: 1024}\n"
    "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 8}\n"
    "optics:\n"
    "  - circular_aperture: {radius: 3.25, gray_pixel: true}\n"
    "  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}\n"
    "detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: 4}\n"
    "propagation: {method: auto}\n";

/* One transform shape, timed (best of `repeats`, per-λ set-up + execute) and predicted. */
static pp_status pp_model_row(const pp_cost_rates *rates, size_t n_in, size_t n_out_y,
                              size_t n_out_x) {
  pp_status status = PP_SUCCESS;
  pp_mft_plan *mft = NULL;
  pp_czt_plan *czt = NULL;
  double complex *in = NULL, *out = NULL;
  double *in_real = NULL;
  PP_CALL_GOTO(status, pp_mft_plan_create(n_in, n_in, n_out_y, n_out_x, PP_MFT_FORWARD, &mft));
  PP_CALL_GOTO(status, pp_czt_plan_create(n_in, n_in, n_out_y, n_out_x, PP_MFT_FORWARD,
                                          PP_FFT_ESTIMATE, &czt));
  PP_CALL_GOTO(status, pp_array_alloc(n_in * n_in * sizeof *in, (void **)&in));
  PP_CALL_GOTO(status, pp_array_alloc(n_in * n_in * sizeof *in_real, (void **)&in_real));
  PP_CALL_GOTO(status, pp_array_alloc(n_out_y * n_out_x * sizeof *out, (void **)&out));
  for (size_t p = 0; p < n_in * n_in; p++) {
    in[p] = CMPLX(1.0, 0.3);
    in_real[p] = 1.0;
  }
  double nlamd = 0.25 * (double)n_out_x;
  int repeats = n_in >= 1024 ? 3 : n_in >= 256 ? 7 : 25;
  double best[3] = {INFINITY, INFINITY, INFINITY};
  for (int r = 0; r < repeats; r++) {
    double t0 = pp_wtime();
    PP_CALL_GOTO(status, pp_mft_plan_set_nlamd(mft, nlamd, nlamd));
    PP_CALL_GOTO(status, pp_mft_execute_real(mft, in_real, out));
    double t1 = pp_wtime();
    PP_CALL_GOTO(status, pp_mft_plan_set_nlamd(mft, nlamd, nlamd));
    PP_CALL_GOTO(status, pp_mft_execute(mft, in, out));
    double t2 = pp_wtime();
    PP_CALL_GOTO(status, pp_czt_plan_set_nlamd(czt, nlamd, nlamd));
    PP_CALL_GOTO(status, pp_czt_execute(czt, in, out));
    double t3 = pp_wtime();
    best[0] = fmin(best[0], t1 - t0);
    best[1] = fmin(best[1], t2 - t1);
    best[2] = fmin(best[2], t3 - t2);
  }
  double predicted[3] = {pp_cost_mft_seconds(rates, n_in, n_in, n_out_y, n_out_x, true),
                         pp_cost_mft_seconds(rates, n_in, n_in, n_out_y, n_out_x, false),
                         pp_cost_czt_seconds(rates, n_in, n_in, n_out_y, n_out_x)};
  bool right_real = (predicted[0] < predicted[2]) == (best[0] < best[2]);
  bool right_complex = (predicted[1] < predicted[2]) == (best[1] < best[2]);
  printf("%5zu → %4zu × %-4zu %10.3e %5.2f %10.3e %5.2f %10.3e %5.2f   %-4s %-3s %-4s %-3s\n",
         n_in, n_out_y, n_out_x, best[0], predicted[0] / best[0], best[1],
         predicted[1] / best[1], best[2], predicted[2] / best[2],
         predicted[0] < predicted[2] ? "mft" : "czt", right_real ? "ok" : "NO",
         predicted[1] < predicted[2] ? "mft" : "czt", right_complex ? "ok" : "NO");
done:
  pp_mft_plan_destroy(&mft);
  pp_czt_plan_destroy(&czt);
  pp_array_free(&in);
  pp_array_free(&in_real);
  pp_array_free(&out);
  return status;
}

int main(int argc, char **argv) {
  int rounds = 5;
  bool model = true;
  pp_propagation_options options = {0};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--calibration") == 0 && i + 1 < argc) options.calibration_path = argv[++i];
    else if (strcmp(argv[i], "--no-model") == 0) model = false;
    else rounds = atoi(argv[i]);
  }
  if (rounds < 1 || rounds > PP_BENCH_MAX_ROUNDS) {
    fprintf(stderr, "usage: bench_auto [rounds 1..%d] [--calibration FILE] [--no-model]\n",
            PP_BENCH_MAX_ROUNDS);
    return 2;
  }
  pp_logger logger;
  pp_logger_init(&logger, stdout, PP_LOG_INFO, 0);
  logger.plain = true;

  pp_status status = PP_SUCCESS;
  pp_job *job = NULL;
  if ((status = pp_job_parse_string(pp_bench_job, strlen(pp_bench_job), "bench_auto", &job)))
    return pp_fail(status);
  pp_system_choice choice;
  double t0 = pp_wtime();
  if ((status = pp_propagation_choose(job, &options, &logger, &choice))) return pp_fail(status);
  double choose_s = pp_wtime() - t0;
  pp_system *chosen = NULL, *mft = NULL;
  if ((status = pp_system_create_with_method(job, choice.method, &chosen)) ||
      (status = pp_system_create_with_method(job, PP_METHOD_MFT, &mft)))
    return pp_fail(status);
  size_t ny = 0, nx = 0;
  pp_system_psf_shape(mft, &ny, &nx);
  double *psf_auto = malloc(ny * nx * sizeof *psf_auto), *psf_mft = malloc(ny * nx * sizeof *psf_mft);
  if (!psf_auto || !psf_mft) return 1;

  /* warm-up (OpenBLAS allocates its buffers on the first call) */
  if ((status = pp_system_psf(chosen, job->wavelengths_m[0], psf_auto)) ||
      (status = pp_system_psf(mft, job->wavelengths_m[0], psf_mft)))
    return pp_fail(status);
  static double auto_s[PP_BENCH_MAX_ROUNDS * PP_BENCH_WAVELENGTHS];
  static double mft_s[PP_BENCH_MAX_ROUNDS * PP_BENCH_WAVELENGTHS];
  double worst = 0.0;
  int n = 0;
  for (int r = 0; r < rounds; r++) {
    for (size_t w = 0; w < job->n_wavelengths; w++, n++) {
      double a0 = pp_wtime();
      if ((status = pp_system_psf(chosen, job->wavelengths_m[w], psf_auto))) return pp_fail(status);
      double a1 = pp_wtime();
      if ((status = pp_system_psf(mft, job->wavelengths_m[w], psf_mft))) return pp_fail(status);
      double a2 = pp_wtime();
      auto_s[n] = a1 - a0;
      mft_s[n] = a2 - a1;
      double peak = 0.0, diff = 0.0;
      for (size_t p = 0; p < ny * nx; p++) {
        peak = fmax(peak, psf_mft[p]);
        diff = fmax(diff, fabs(psf_auto[p] - psf_mft[p]));
      }
      worst = fmax(worst, diff / peak);
    }
  }

  const char *threads = getenv("OPENBLAS_NUM_THREADS");
  printf("\nbench_auto — obscured_poly: %zu px pupil → %zu × %zu px, %zu wavelengths, %d rounds "
         "interleaved\n",
         job->pupil_npix, ny, nx, job->n_wavelengths, rounds);
  printf("machine: %ld online CPUs; OPENBLAS_NUM_THREADS=%s; FFTW %s\n",
         sysconf(_SC_NPROCESSORS_ONLN), threads ? threads : "(unset)", fftw_version);
  printf("choice (%.3f s incl. calibration): auto → %s; predicted per wavelength: mft %.4f s, "
         "czt %.4f s\n",
         choose_s, pp_method_name(choice.method), choice.mft.seconds, choice.czt.seconds);
  double auto_best = pp_min(auto_s, n), mft_best = pp_min(mft_s, n);
  double auto_median = pp_median(auto_s, n), mft_median = pp_median(mft_s, n);
  printf("\n%-36s %9s %9s\n", "pp_system_psf per wavelength", "best s", "median s");
  printf("%-36s %9.4f %9.4f\n", pp_method_name(choice.method) , auto_best, auto_median);
  printf("%-36s %9.4f %9.4f\n", "mft (forced)", mft_best, mft_median);
  printf("speed-up of auto over mft: %.2f× (best), %.2f× (median); target ≥ 4×\n",
         mft_best / auto_best, mft_median / auto_median);
  printf("max |auto − mft| / peak over all wavelengths: %.2e (target ≤ 1e-12)\n", worst);
  printf("system memory: auto %.1f MiB, mft %.1f MiB\n", pp_system_bytes(chosen) / 1048576.0,
         pp_system_bytes(mft) / 1048576.0);

  if (model) {
    pp_cost_rates rates;
    pp_cost_load_report report;
    if ((status = pp_cost_rates_load(options.calibration_path, false, &rates, &report)))
      return pp_fail(status);
    static const size_t shapes[][3] = {
        {16, 8, 8},      {32, 16, 16},    {64, 32, 32},     {64, 64, 64},    {128, 64, 64},
        {128, 128, 128}, {128, 30, 42},   {256, 64, 64},    {256, 128, 128}, {256, 256, 256},
        {512, 128, 128}, {512, 256, 256}, {1024, 404, 404}, {1024, 128, 128}, {1024, 40, 40},
        {2048, 256, 256}, {256, 1024, 1024}};
    printf("\ncost model: measured best seconds (set_nlamd + execute) and predicted/measured\n");
    printf("%-18s %10s %5s %10s %5s %10s %5s   %-8s %-8s\n", "transform", "mft real", "p/m",
           "mft cplx", "p/m", "czt", "p/m", "real", "complex");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
      if ((status = pp_cost_rates_cover(&rates, shapes[k][0], shapes[k][0], shapes[k][1],
                                        shapes[k][2], NULL)) ||
          (status = pp_model_row(&rates, shapes[k][0], shapes[k][1], shapes[k][2])))
        return pp_fail(status);
    }
    printf("(real/complex: the method the model picks for that input, and whether the measured "
           "times agree)\n");
  }

  free(psf_auto);
  free(psf_mft);
  pp_system_destroy(&chosen);
  pp_system_destroy(&mft);
  pp_job_destroy(&job);
  return 0;
}
