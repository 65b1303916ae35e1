/* bench_mft: the MFT against plain BLAS on the obscured_poly system (not a test).
 *
 * The system: 1024 px pupil, circular_aperture r = 3.25 m (gray edges), secondary
 * obscuration r = 0.5 m with 3 spiders 0.1 m wide; detector 0.0311"/px, 101 px,
 * oversample 4 → 404 × 404; 8 wavelengths 1–2 µm, one process.
 *
 * Measured in the same run, interleaved round by round (so a busy neighbour on a shared
 * machine slows both sides alike), best and median of the rounds:
 *   1. pp_system_psf per wavelength: kernels for λ, the transform, |E|² (everything);
 *   2. its parts: pp_mft_plan_set_nlamd (kernel generation) alone;
 *   3. pp_mft_execute on a complex field (the path for systems with OPD), and the same
 *      system with a zernike_wfe added (defocus, astigmatism, coma: 50, 30, 20 nm RMS) so
 *      that pp_system_psf forms amplitude·exp(2πi·OPD/λ) every wavelength;
 *   4. plain cblas_zgemm of the same two shapes, (404×1024)(1024×1024) then
 *      (404×1024)(1024×404), no transposes: the rate BLAS reaches on this machine.
 * Rates are quoted in complex-equivalent flops, 8·(404·1024·1024 + 404·1024·404),
 * for all rows so that they compare as times; the real-input path executes fewer
 * flops (pp_system_flops) and that rate is printed too.
 *
 * Usage: OPENBLAS_NUM_THREADS=1 bench_mft [rounds]   (default 5 rounds) */
#include <cblas.h>
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/propagate.h"
#include "polypsf/system.h"

#include "bench_support.h"

enum { PP_BENCH_WAVELENGTHS = 8, PP_BENCH_MAX_ROUNDS = 50 };

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  if (rounds < 1 || rounds > PP_BENCH_MAX_ROUNDS) {
    fprintf(stderr, "usage: bench_mft [rounds 1..%d]\n", PP_BENCH_MAX_ROUNDS);
    return 2;
  }
  const char *threads = getenv("OPENBLAS_NUM_THREADS");

  /* ---- the obscured_poly system, built as the job parser would -------------------- */
  pp_optic_spec optics[3];
  pp_optic_spec_init(&optics[0], pp_optic_type_find("circular_aperture"));
  snprintf(optics[0].name, sizeof optics[0].name, "primary");
  pp_optic_spec_init(&optics[1], pp_optic_type_find("secondary_obscuration"));
  snprintf(optics[1].name, sizeof optics[1].name, "secondary");
  pp_status status = pp_optic_spec_set(&optics[0], "radius", 3.25);
  if (!status) status = pp_optic_spec_set(&optics[1], "secondary_radius", 0.5);
  if (!status) status = pp_optic_spec_set(&optics[1], "n_supports", 3);
  if (!status) status = pp_optic_spec_set(&optics[1], "support_width", 0.1);
  pp_optic_spec_init(&optics[2], pp_optic_type_find("zernike_wfe"));
  snprintf(optics[2].name, sizeof optics[2].name, "wfe");
  const double zernike_m[8] = {0, 0, 0, 50e-9, 0, 30e-9, 0, 20e-9};
  if (!status) status = pp_optic_spec_set(&optics[2], "radius", 3.25);
  if (!status) status = pp_optic_spec_set_list(&optics[2], "coefficients", zernike_m, 8);
  if (status) return pp_fail(status);
  double wavelengths_m[PP_BENCH_WAVELENGTHS], weights[PP_BENCH_WAVELENGTHS];
  for (int i = 0; i < PP_BENCH_WAVELENGTHS; i++) {
    wavelengths_m[i] = 1e-6 + 1e-6 * i / (PP_BENCH_WAVELENGTHS - 1);
    weights[i] = 1.0 / PP_BENCH_WAVELENGTHS;
  }
  pp_job job = {.source_name = "bench_mft", .pupil_npix = 1024,
                .n_wavelengths = PP_BENCH_WAVELENGTHS, .wavelengths_m = wavelengths_m,
                .weights = weights, .n_optics = 2, .optics = optics,
                .detector = {.pixelscale_arcsec = 0.0311, .fov_pixels_y = 101,
                             .fov_pixels_x = 101, .oversample = 4},
                .method = PP_METHOD_MFT, .fft_oversample = 2, .normalize = PP_NORMALIZE_FIRST};

  double t0 = pp_wtime();
  pp_system *system = NULL;
  if ((status = pp_system_create(&job, &system))) return pp_fail(status);
  double create_seconds = pp_wtime() - t0;
  pp_system *opd_system = NULL;
  job.n_optics = 3;
  if ((status = pp_system_create(&job, &opd_system))) return pp_fail(status);
  job.n_optics = 2;
  size_t ny, nx;
  pp_system_psf_shape(system, &ny, &nx);
  const size_t npix = job.pupil_npix;
  double complex_flops = pp_mft_flops(npix, npix, ny, nx);
  double executed_flops = pp_system_flops(system);

  /* ---- the other sides: a complex-input plan and plain zgemm of the same shapes ---- */
  pp_mft_plan *plan = NULL;
  if ((status = pp_mft_plan_create(npix, npix, ny, nx, PP_MFT_FORWARD, &plan))) return pp_fail(status);
  double *psf = NULL;
  double complex *field = NULL, *image = NULL, *a = NULL, *b = NULL, *c = NULL, *d = NULL,
                 *e = NULL;
  if ((status = pp_array_alloc(ny * nx * sizeof *psf, (void **)&psf)) ||
      (status = pp_array_alloc(npix * npix * sizeof *field, (void **)&field)) ||
      (status = pp_array_alloc(ny * nx * sizeof *image, (void **)&image)) ||
      (status = pp_array_alloc(ny * npix * sizeof *a, (void **)&a)) ||
      (status = pp_array_alloc(npix * npix * sizeof *b, (void **)&b)) ||
      (status = pp_array_alloc(ny * npix * sizeof *c, (void **)&c)) ||
      (status = pp_array_alloc(npix * nx * sizeof *d, (void **)&d)) ||
      (status = pp_array_alloc(ny * nx * sizeof *e, (void **)&e)))
    return pp_fail(status);
  for (size_t p = 0; p < npix * npix; p++) {
    field[p] = CMPLX(sin(0.001 * (double)p), cos(0.002 * (double)p));
    b[p] = field[p];
  }
  for (size_t p = 0; p < ny * npix; p++) a[p] = CMPLX(cos(0.003 * (double)p), 0.5);
  for (size_t p = 0; p < npix * nx; p++) d[p] = CMPLX(0.25, sin(0.005 * (double)p));
  const double complex one = 1.0, zero = 0.0;
  const int m = (int)ny, n = (int)nx, k = (int)npix;

  /* warm-up: OpenBLAS allocates its buffers on the first call */
  if ((status = pp_system_psf(system, wavelengths_m[0], psf))) return pp_fail(status);
  cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, k, k, &one, a, k, b, k, &zero, c, k);

  double psf_seconds[PP_BENCH_MAX_ROUNDS * PP_BENCH_WAVELENGTHS];
  double kernel_seconds[PP_BENCH_MAX_ROUNDS], complex_seconds[PP_BENCH_MAX_ROUNDS];
  double zgemm_seconds[PP_BENCH_MAX_ROUNDS], opd_seconds[PP_BENCH_MAX_ROUNDS];
  int n_psf = 0;
  double psf_sum_check = 0.0;
  for (int r = 0; r < rounds; r++) {
    t0 = pp_wtime();
    cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, k, k, &one, a, k, b, k, &zero, c, k);
    cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, &one, c, k, d, n, &zero, e, n);
    zgemm_seconds[r] = pp_wtime() - t0;

    for (int i = 0; i < PP_BENCH_WAVELENGTHS; i++) {
      t0 = pp_wtime();
      if ((status = pp_system_psf(system, wavelengths_m[i], psf))) return pp_fail(status);
      psf_seconds[n_psf++] = pp_wtime() - t0;
      for (size_t p = 0; p < ny * nx; p++) psf_sum_check += psf[p];
    }

    t0 = pp_wtime();
    if ((status = pp_mft_plan_set_nlamd(plan, 99.0, 99.0))) return pp_fail(status);
    kernel_seconds[r] = pp_wtime() - t0;
    t0 = pp_wtime();
    if ((status = pp_mft_execute(plan, field, image))) return pp_fail(status);
    complex_seconds[r] = pp_wtime() - t0;
    t0 = pp_wtime();
    if ((status = pp_system_psf(opd_system, wavelengths_m[r % PP_BENCH_WAVELENGTHS], psf)))
      return pp_fail(status);
    opd_seconds[r] = pp_wtime() - t0;
  }

  double psf_best = pp_min(psf_seconds, n_psf), psf_median = pp_median(psf_seconds, n_psf);
  double zgemm_best = pp_min(zgemm_seconds, rounds), zgemm_median = pp_median(zgemm_seconds, rounds);
  double kernel_best = pp_min(kernel_seconds, rounds);
  double opd_best = pp_min(opd_seconds, rounds), opd_median = pp_median(opd_seconds, rounds);
  double complex_best = pp_min(complex_seconds, rounds), complex_median = pp_median(complex_seconds, rounds);

  char model[256];
  pp_cpu_model(model, sizeof model);
  printf("bench_mft — obscured_poly: %zu px pupil (%.4g m), %zu × %zu detector, %d wavelengths 1–2 µm\n",
         npix, pp_system_pupil_diameter_m(system), ny, nx, PP_BENCH_WAVELENGTHS);
  printf("machine: %ld online CPUs, %s\n", sysconf(_SC_NPROCESSORS_ONLN), model);
  printf("OpenBLAS: %s (core %s), OPENBLAS_NUM_THREADS=%s\n", openblas_get_config(),
         openblas_get_corename(), threads ? threads : "(unset)");
  printf("rounds: %d (best and median over %d PSFs, %d zgemm pairs)\n", rounds, n_psf, rounds);
  printf("system create (pupil, plans): %.3f s; system bytes: %.1f MiB\n", create_seconds,
         (double)pp_system_bytes(system) / 1048576.0);
  printf("complex-equivalent work per transform: %.3f GFLOP; executed by the real-pupil path: %.3f GFLOP\n",
         complex_flops * 1e-9, executed_flops * 1e-9);
  printf("\n%-46s %10s %10s %12s\n", "", "best s", "median s", "GFLOP/s*");
  printf("%-46s %10.4f %10.4f %12.2f\n", "plain cblas_zgemm, both shapes", zgemm_best,
         zgemm_median, complex_flops / zgemm_best * 1e-9);
  printf("%-46s %10.4f %10.4f %12.2f\n", "pp_system_psf per wavelength (real pupil)", psf_best,
         psf_median, complex_flops / psf_best * 1e-9);
  printf("%-46s %10.4f %10.4f %12.2f\n", "pp_mft_execute, complex field (OPD systems)",
         complex_best, complex_median, complex_flops / complex_best * 1e-9);
  printf("%-46s %10.4f\n", "kernels alone (pp_mft_plan_set_nlamd)", kernel_best);
  printf("%-46s %10.4f %10.4f %12.2f\n", "pp_system_psf per wavelength, with OPD", opd_best,
         opd_median, complex_flops / opd_best * 1e-9);
  printf("* complex-equivalent flops / time. Executed rate of the real-pupil path: %.2f GFLOP/s\n",
         executed_flops / psf_best * 1e-9);
  printf("\nratio to plain zgemm (time of zgemm pair / time of ours; ≥ 0.80 is the target):\n");
  printf("  pp_system_psf (whole wavelength):  best %.3f   median %.3f\n", zgemm_best / psf_best,
         zgemm_median / psf_median);
  printf("  complex-field MFT + its kernels:   best %.3f   median %.3f\n",
         zgemm_best / (complex_best + kernel_best), zgemm_median / (complex_median + kernel_best));
  printf("  pp_system_psf with OPD (whole):    best %.3f   median %.3f\n", zgemm_best / opd_best,
         zgemm_median / opd_median);
  printf("(check: mean PSF sum %.6f)\n", psf_sum_check / n_psf);

  pp_system_destroy(&system);
  pp_system_destroy(&opd_system);
  pp_mft_plan_destroy(&plan);
  pp_array_free(&psf);
  pp_array_free(&field);
  pp_array_free(&image);
  pp_array_free(&a);
  pp_array_free(&b);
  pp_array_free(&c);
  pp_array_free(&d);
  pp_array_free(&e);
  pp_optic_spec_clear(&optics[0]);
  pp_optic_spec_clear(&optics[1]);
  pp_optic_spec_clear(&optics[2]);
  return 0;
}
