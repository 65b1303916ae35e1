/* The padded planes through the 1-D pass engine (fft_engine: passes, the default) against
 * FFTW's 2-D plans (fft_engine: fftw2d), end to end (job text → pp_run → HDF5): POPPY's
 * fqpm_coronagraph system (256 px ×4) and a band-limited coronagraph with a field stop
 * (45 px ×2, N = 90), each to 1e-12 of its unocculted peak (the same system without the
 * focal-plane optics and aligners, run here); and the engine's rank identity: the
 * 3-wavelength FQPM job on every rank equals the job on rank 0 alone, bit for bit. */
#include <hdf5.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "h5_read.h"
#include "pp_test.h"

/* Runs job_format filled with (optics, propagation, output) on comm; /psf on comm's rank 0. */
static double *pp_run_job(const char *job_format, const char *optics, const char *propagation,
                      MPI_Comm comm, size_t *count) {
  char yaml[4096];
  snprintf(yaml, sizeof yaml, job_format, optics, propagation, "engine_out.h5");
  pp_job *job = NULL;
  double *psf = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "engine", &job), "job parses");
  if (job) {
    pp_run_options options = {.force = true};
    pp_run_summary summary;
    PP_TEST_OK(pp_run(job, &options, comm, &summary), "run");
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
      psf = pp_h5_read("engine_out.h5", "/psf", NULL, NULL, count);
      PP_TEST_TRUE(psf != NULL, "/psf read");
      unlink("engine_out.h5");
    }
  }
  pp_job_destroy(&job);
  return psf;
}

static const char *const pp_fqpm_format =
    "pupil: {npix: 256}\nwavelengths: {min: 1.9e-6, max: 2.1e-6, count: 3}\noptics:\n%s"
    "detector: {pixelscale: 0.02, fov_pixels: 64, oversample: 2}\n"
    "propagation: {method: mft, fft_oversample: 4, %s}\noutput: {path: %s}\n";
static const char *const pp_fqpm_optics =
    "  - circular_aperture: {radius: 3.0, gray_pixel: true}\n"
    "  - fqpm_fft_aligner: {direction: forward}\n"
    "  - ideal_fqpm: {wavelength: 2.0e-6}\n"
    "  - fqpm_fft_aligner: {direction: backward}\n"
    "  - circular_aperture: {radius: 2.7, gray_pixel: true}\n";
static const char *const pp_fqpm_unocculted =
    "  - circular_aperture: {radius: 3.0, gray_pixel: true}\n"
    "  - circular_aperture: {radius: 2.7, gray_pixel: true}\n";
static const char *const pp_blc_format =
    "pupil: {npix: 45}\nwavelengths: {list: [1.0e-6, 1.1e-6]}\noptics:\n%s"
    "detector: {pixelscale: 0.05, fov_pixels: 16, oversample: 2}\n"
    "propagation: {method: mft, fft_oversample: 2, %s}\noutput: {path: %s}\n";
static const char *const pp_blc_optics =
    "  - circular_aperture: {radius: 3.0}\n"
    "  - band_limited_coronagraph: {kind: circular, sigma: 2.0}\n"
    "  - annular_field_stop: {radius_inner: 0.0, radius_outer: 0.4}\n"
    "  - circular_aperture: {radius: 2.5}\n";
static const char *const pp_blc_unocculted =
    "  - circular_aperture: {radius: 3.0}\n"
    "  - circular_aperture: {radius: 2.5}\n";

static void pp_compare_engines(const char *name, const char *format, const char *optics,
                               const char *unocculted_optics) {
  size_t n_passes = 0, n_2d = 0, n_free = 0;
  double *passes = pp_run_job(format, optics, "fft_engine: passes, coronagraph: fft",
                          MPI_COMM_SELF, &n_passes);
  double *plane2d = pp_run_job(format, optics, "fft_engine: fftw2d, coronagraph: fft",
                           MPI_COMM_SELF, &n_2d);
  double *unocculted = pp_run_job(format, unocculted_optics, "fft_engine: passes", MPI_COMM_SELF,
                              &n_free);
  if (passes && plane2d && unocculted && n_passes == n_2d) {
    double worst = 0.0, peak = 0.0;
    for (size_t p = 0; p < n_passes; p++) worst = fmax(worst, fabs(passes[p] - plane2d[p]));
    for (size_t p = 0; p < n_free; p++) peak = fmax(peak, unocculted[p]);
    printf("%s: max|passes - fftw2d| / unocculted peak = %.3g\n", name, worst / peak);
    char what[160];
    snprintf(what, sizeof what, "%s: the 1-D pass engine equals the 2-D FFT to 1e-12 of the "
             "unocculted peak", name);
    PP_TEST_NEAR(worst / peak, 0.0, 1e-12, what);
  }
  free(passes);
  free(plane2d);
  free(unocculted);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int rank = 0, world = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  char workdir[64];
  snprintf(workdir, sizeof workdir, "fft_engine_%d_ranks", world);
  if (rank == 0) mkdir(workdir, 0755);
  MPI_Barrier(MPI_COMM_WORLD);
  PP_TEST_TRUE(chdir(workdir) == 0, "into the test's own directory");
  if (rank == 0) {
    pp_compare_engines("fqpm 256 x4", pp_fqpm_format, pp_fqpm_optics, pp_fqpm_unocculted);
    pp_compare_engines("blc 45 x2", pp_blc_format, pp_blc_optics, pp_blc_unocculted);
  }
  /* rank identity of the engine: every rank against rank 0 alone */
  size_t n_all = 0, n_one = 0;
  double *all = pp_run_job(pp_fqpm_format, pp_fqpm_optics, "fft_engine: passes", MPI_COMM_WORLD,
                       &n_all);
  double *one = rank == 0 ? pp_run_job(pp_fqpm_format, pp_fqpm_optics, "fft_engine: passes",
                                   MPI_COMM_SELF, &n_one)
                          : NULL;
  if (rank == 0 && all && one) {
    char what[160];
    snprintf(what, sizeof what, "fqpm, 3 λ: /psf on %d rank(s) equals rank 0 alone, bit for bit",
             world);
    PP_TEST_TRUE(n_all == n_one && memcmp(all, one, n_all * sizeof *all) == 0, what);
  }
  free(all);
  free(one);
  int code = pp_test_finish();
  MPI_Finalize();
  return code;
}
