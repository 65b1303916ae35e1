/* Detector effects against independent truth.
 * 1. POPPY's jitter (../shared/reference/jitter_obscured.h5): the filter alone on the file's
 *    psf_unjittered, and a whole job (the system of the file's description) with
 *    detector.jitter_sigma and output.keep_unconvolved, each within 1e-6 of POPPY's peak.
 * 2. Invariants that hold whatever the code: the reflect Gaussian conserves the sum and
 *    turns a centred point into the separable sampled Gaussian; a sigma of 0 copies; the IPC
 *    kernel on an isolated pixel gives the kernel flipped, the identity kernel copies, and
 *    charge beyond the edge is lost; charge diffusion of sigma s detector pixels is the
 *    Gaussian of s·oversample computed pixels; /psf_detector is /psf rebinned then IPC. */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "compare.h"
#include "h5_read.h"
#include "pp_test.h"

static void pp_check_invariants(void) {
  enum { NY = 21, NX = 17 };
  double in[NY * NX], out[NY * NX];
  memset(in, 0, sizeof in);
  in[10 * NX + 8] = 1.0;
  double sigma = 1.3;
  PP_TEST_OK(pp_gaussian_filter_reflect(in, NY, NX, sigma, out), "gaussian of a point");
  /* truth: the normalized sampled Gaussian of radius int(4σ + 0.5) = 5, separable */
  double g[6], sum = 0.0;
  for (int x = 0; x <= 5; x++) sum += (x ? 2.0 : 1.0) * (g[x] = exp(-x * x / (2 * sigma * sigma)));
  double worst = 0.0;
  for (int y = 0; y < NY; y++)
    for (int x = 0; x < NX; x++) {
      int dy = abs(y - 10), dx = abs(x - 8);
      double want = (dy <= 5 && dx <= 5) ? g[dy] * g[dx] / (sum * sum) : 0.0;
      worst = fmax(worst, fabs(out[y * NX + x] - want));
    }
  PP_TEST_NEAR(worst, 0.0, 1e-15, "point → sampled Gaussian, radius int(4 sigma + 0.5)");

  /* reflect: a point on the edge reflects into itself (half-sample symmetric); the sum is kept */
  for (int p = 0; p < NY * NX; p++) in[p] = (double)((p * 7919) % 101) / 101.0;
  double total_in = 0.0, total_out = 0.0;
  PP_TEST_OK(pp_gaussian_filter_reflect(in, NY, NX, 2.7, out), "gaussian of noise");
  for (int p = 0; p < NY * NX; p++) total_in += in[p], total_out += out[p];
  PP_TEST_NEAR(total_out / total_in, 1.0, 1e-13, "reflect Gaussian conserves the sum");
  memset(in, 0, sizeof in);
  in[0] = 1.0;
  PP_TEST_OK(pp_gaussian_filter_reflect(in, NY, NX, 1.0, out), "gaussian of a corner point");
  double g1[5], s1 = 0.0;
  for (int x = 0; x <= 4; x++) s1 += (x ? 2.0 : 1.0) * (g1[x] = exp(-x * x / 2.0));
  /* pixel 0 gets w0 from itself and w1 from its mirror image at −1 on each axis */
  double want00 = (g1[0] + g1[1]) * (g1[0] + g1[1]) / (s1 * s1);
  PP_TEST_NEAR(out[0], want00, 1e-15, "reflect mode: (d c b a | a b c d), corner pixel");
  double total = 0.0;
  for (int p = 0; p < NY * NX; p++) total += out[p];
  PP_TEST_NEAR(total, 1.0, 1e-14, "a corner point keeps its flux under reflect");
  PP_TEST_OK(pp_gaussian_filter_reflect(in, NY, NX, 0.0, out), "sigma 0");
  PP_TEST_TRUE(memcmp(in, out, sizeof in) == 0, "sigma 0 copies bit for bit");

  /* IPC: kernel flipped on an isolated pixel; identity copies; edge charge is lost */
  const double kernel[9] = {0.001, 0.01, 0.002, 0.012, 0.95, 0.011, 0.003, 0.009, 0.002};
  memset(in, 0, sizeof in);
  in[10 * NX + 8] = 2.0;
  PP_TEST_OK(pp_ipc_convolve(in, NY, NX, kernel, out), "ipc of a point");
  worst = 0.0;
  for (int ky = 0; ky < 3; ky++)
    for (int kx = 0; kx < 3; kx++)
      worst = fmax(worst, fabs(out[(10 + ky - 1) * NX + 8 + kx - 1] - 2.0 * kernel[ky * 3 + kx]));
  PP_TEST_NEAR(worst, 0.0, 1e-16, "ipc spreads a pixel as the kernel (convolution)");
  const double identity[9] = {0, 0, 0, 0, 1, 0, 0, 0, 0};
  for (int p = 0; p < NY * NX; p++) in[p] = (double)((p * 31) % 17);
  PP_TEST_OK(pp_ipc_convolve(in, NY, NX, identity, out), "ipc identity");
  PP_TEST_TRUE(memcmp(in, out, sizeof in) == 0, "the identity kernel copies");
  memset(in, 0, sizeof in);
  in[0] = 1.0;
  PP_TEST_OK(pp_ipc_convolve(in, NY, NX, kernel, out), "ipc at the corner");
  total = 0.0;
  for (int p = 0; p < NY * NX; p++) total += out[p];
  PP_TEST_NEAR(total, 0.95 + 0.011 + 0.009 + 0.002, 1e-15,
               "charge pushed beyond the edge is lost (fill 0)");

  /* pp_detector_effects_apply: diffusion of s detector pixels = Gaussian of s·os pixels; the
   * detector image is the blurred PSF rebinned, then IPC */
  enum { PY = 24, PX = 20, OS = 2 };
  double psf[PY * PX], blurred[PY * PX], want_blur[PY * PX], det[PY * PX / 4],
      rebinned[PY * PX / 4], want_det[PY * PX / 4];
  for (int p = 0; p < PY * PX; p++) psf[p] = 1.0 / (1.0 + (double)((p * 13) % 29));
  pp_detector_spec spec = {.pixelscale_arcsec = 0.02, .oversample = OS,
                           .charge_diffusion_sigma_px = 0.6, .has_ipc_kernel = true};
  memcpy(spec.ipc_kernel, kernel, sizeof kernel);
  PP_TEST_OK(pp_detector_effects_apply(&spec, 0.01, psf, PY, PX, blurred, det), "effects");
  PP_TEST_OK(pp_gaussian_filter_reflect(psf, PY, PX, 1.2, want_blur), "direct blur");
  PP_TEST_NEAR(pp_worst_relative(blurred, want_blur, PY * PX), 0.0, 1e-15,
               "charge diffusion 0.6 detector px = Gaussian of 1.2 oversampled px");
  PP_TEST_OK(pp_psf_rebin(want_blur, PY, PX, OS, rebinned), "rebin");
  PP_TEST_OK(pp_ipc_convolve(rebinned, PY / OS, PX / OS, kernel, want_det), "ipc");
  PP_TEST_NEAR(pp_worst_relative(det, want_det, PY * PX / 4), 0.0, 1e-15,
               "detector image = IPC(rebin(blurred PSF))");
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  pp_check_invariants();

  const char *dir = getenv("POLYPSF_REFERENCE_DIR");
  char ref_path[4096];
  snprintf(ref_path, sizeof ref_path, "%s/jitter_obscured.h5", dir ? dir : ".");
  if (!dir || access(ref_path, R_OK) != 0) {
    printf("SKIP jitter_obscured: %s not readable\n", ref_path);
    int failed = pp_test_finish();
    MPI_Finalize();
    return failed ? failed : (getenv("CI") ? 1 : 77);
  }
  hsize_t dims[3], wdims[3];
  int nd = 0;
  double *unjittered = pp_h5_read(ref_path, "/psf_unjittered", dims, &nd, NULL);
  double *jittered = pp_h5_read(ref_path, "/psf_oversampled", dims, &nd, NULL);
  double *wavelengths = pp_h5_read(ref_path, "/wavelengths", wdims, &nd, NULL);
  double *weights = pp_h5_read(ref_path, "/weights", wdims, &nd, NULL);
  double pixelscale = pp_h5_attr_number(ref_path, "/", "pixelscale_arcsec_oversampled");
  PP_TEST_TRUE(unjittered && jittered && wavelengths && weights && pixelscale > 0,
               "reference datasets read");
  if (!(unjittered && jittered && wavelengths && weights)) {
    MPI_Finalize();
    return 1;
  }
  size_t ny = dims[0], nx = dims[1], n = ny * nx;

  /* 1a. the filter alone, on POPPY's own input: σ = 0.015″ / 0.01″ per oversampled pixel */
  const double jitter_sigma_arcsec = 0.015;
  double *filtered = malloc(n * sizeof *filtered);
  PP_TEST_OK(pp_gaussian_filter_reflect(unjittered, ny, nx, jitter_sigma_arcsec / pixelscale,
                                        filtered),
             "filter psf_unjittered");
  double rel = pp_worst_relative(filtered, jittered, n);
  printf("jitter filter on psf_unjittered: max|polypsf - POPPY| / max(POPPY) = %.3g\n", rel);
  PP_TEST_NEAR(rel, 0.0, 1e-6, "jitter filter alone within 1e-6 of POPPY's peak");

  /* 1b. the whole job: the system of description_json, through pp_run */
  char yaml[4096];
  int len = snprintf(yaml, sizeof yaml, "pupil: {npix: 512}\nwavelengths:\n  list: [");
  for (size_t i = 0; i < wdims[0]; i++)
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", i ? ", " : "", wavelengths[i]);
  len += snprintf(yaml + len, sizeof yaml - (size_t)len, "]\n  weights: [");
  for (size_t i = 0; i < wdims[0]; i++)
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", i ? ", " : "", weights[i]);
  snprintf(yaml + len, sizeof yaml - (size_t)len,
           "]\noptics:\n"
           "  - circular_aperture: {radius: 1.2, gray_pixel: true}\n"
           "  - secondary_obscuration: {secondary_radius: 0.3, n_supports: 3, "
           "support_width: 0.05}\n"
           "detector: {pixelscale: 0.02, fov_pixels: 80, oversample: 2, jitter_sigma: 0.015}\n"
           "propagation: {fft_oversample: 2}\n"
           "output: {path: detector_effects_jitter.h5, cube: true, keep_unconvolved: true}\n");
  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "jitter_obscured", &job), "job parses");
  if (job) {
    pp_run_options options = {.force = true};
    pp_run_summary summary;
    PP_TEST_OK(pp_run(job, &options, MPI_COMM_WORLD, &summary), "run");
    const char *out = "detector_effects_jitter.h5";
    hsize_t odims[3], ddims[3];
    double *psf = pp_h5_read(out, "/psf", odims, &nd, NULL);
    double *unconvolved = pp_h5_read(out, "/psf_unconvolved", odims, &nd, NULL);
    double *detector = pp_h5_read(out, "/psf_detector", ddims, &nd, NULL);
    PP_TEST_TRUE(psf && unconvolved && detector && odims[0] == ny && odims[1] == nx,
                 "/psf, /psf_unconvolved, /psf_detector read, POPPY's shape");
    if (psf && unconvolved && detector && odims[0] == ny && odims[1] == nx) {
      double rel_unconvolved = pp_worst_relative(unconvolved, unjittered, n);
      double rel_psf = pp_worst_relative(psf, jittered, n);
      printf("job: /psf_unconvolved vs psf_unjittered %.3g, /psf vs psf_oversampled %.3g\n",
             rel_unconvolved, rel_psf);
      PP_TEST_NEAR(rel_unconvolved, 0.0, 1e-6, "/psf_unconvolved within 1e-6 of POPPY's");
      PP_TEST_NEAR(rel_psf, 0.0, 1e-6, "jittered /psf within 1e-6 of POPPY's peak");
      double *want_det = malloc(n / 4 * sizeof *want_det);
      PP_TEST_OK(pp_psf_rebin(jittered, ny, nx, 2, want_det), "rebin POPPY's jittered PSF");
      PP_TEST_NEAR(pp_worst_relative(detector, want_det, n / 4), 0.0, 1e-6,
                   "/psf_detector = POPPY's jittered PSF rebinned, within 1e-6");
      free(want_det);
    }
    PP_TEST_NEAR(pp_h5_attr_number(out, "/psf", "jitter_sigma_arcsec"), 0.015, 0.0,
                 "/psf records jitter_sigma_arcsec");
    PP_TEST_NEAR(pp_h5_attr_number(out, "/psf", "jitter_sigma_px"), 0.015 / 0.01, 1e-12,
                 "/psf records jitter_sigma_px (oversampled pixels)");
    free(psf);
    free(unconvolved);
    free(detector);
    pp_job_destroy(&job);
  }
  free(filtered);
  free(unjittered);
  free(jittered);
  free(wavelengths);
  free(weights);
  int failed = pp_test_finish();
  MPI_Finalize();
  return failed;
}
