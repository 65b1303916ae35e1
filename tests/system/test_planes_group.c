/* system, image planes over a rank group (FFTW-MPI slabs), run on 2 and on 4 ranks: the group
 * system (pp_system_create_group on MPI_COMM_WORLD) against the serial system each rank also
 * builds (serial FFTs, pad and crop: code the slab path does not use):
 *   - an FQPM with aligners and a Lyot stop carrying a Zernike OPD after the image plane (a
 *     padded pupil stage with amplitude and OPD cut to rows), N = 256, MFT: the PSF on group
 *     rank 0 equals the serial one to 1e-12 of the peak; on 4 ranks two ranks hold none of
 *     the central rows the crop gathers;
 *   - a band-limited mask and an annular stop with N = 90 (slabs of 23, 23, 23, 21 rows on 4
 *     ranks), chirp-z: the same;
 *   - the memory model: a rank of a group of g holds less than a single rank, less for larger
 *     g, and at least its slab ceil(N/g)·N·16 bytes;
 *   - refusals on every rank alike: an odd padded size (FFTW-MPI's shifts need an even N),
 *     a job with no image plane (nothing to share); a bad call on one rank fails on all. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/system.h"
#include "pp_test.h"

static pp_job *pp_group_job(const char *yaml) {
  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "test_planes_group", &job), "job parses");
  return job;
}

/* max|group − serial| / max(serial) of the PSF at wavelength_m, on group rank 0 (0 on the
 * other ranks, which have no PSF); -1 when something failed. */
static double pp_group_worst(const pp_job *job, pp_method method, double wavelength_m) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pp_system *serial = NULL, *group = NULL;
  double worst = -1.0, *a = NULL, *b = NULL;
  PP_TEST_OK(pp_system_create_with_method(job, method, &serial), "serial system builds");
  PP_TEST_OK(pp_system_create_group(job, method, MPI_COMM_WORLD, &group), "group system builds");
  if (serial && group) {
    size_t ny = 0, nx = 0;
    pp_system_psf_shape(serial, &ny, &nx);
    a = calloc(ny * nx, sizeof *a);
    b = calloc(ny * nx, sizeof *b);
    PP_TEST_OK(pp_system_psf(serial, wavelength_m, a), "serial PSF");
    PP_TEST_OK(pp_system_psf(group, wavelength_m, rank == 0 ? b : NULL), "group PSF");
    double diff = 0.0, peak = 0.0;
    for (size_t p = 0; p < ny * nx; p++) {
      diff = fmax(diff, fabs(a[p] - b[p]));
      peak = fmax(peak, a[p]);
    }
    worst = rank == 0 ? diff / peak : 0.0;
  }
  free(a);
  free(b);
  pp_system_destroy(&serial);
  pp_system_destroy(&group);
  return worst;
}

static const char *const pp_fqpm_job =
    "pupil: {npix: 64}\n"
    "wavelengths: {list: [1.9e-6]}\n"
    "optics:\n"
    "  - circular_aperture: {radius: 3.0, gray_pixel: true}\n"
    "  - fqpm_fft_aligner: {direction: forward}\n"
    "  - ideal_fqpm: {wavelength: 2.0e-6}\n"
    "  - fqpm_fft_aligner: {direction: backward}\n"
    "  - circular_aperture: {radius: 2.7, gray_pixel: true, name: Lyot stop}\n"
    "  - zernike_wfe: {radius: 3.0, coefficients: [0, 0, 0, 80.0e-9, 30.0e-9]}\n"
    "detector: {pixelscale: 0.05, fov_pixels: 24, oversample: 2}\n"
    "propagation: {method: mft, fft_oversample: 4}\n";

static const char *const pp_blc_job =
    "pupil: {npix: 45}\n"
    "wavelengths: {list: [1.1e-6]}\n"
    "optics:\n"
    "  - circular_aperture: {radius: 3.0}\n"
    "  - band_limited_coronagraph: {kind: circular, sigma: 2.0}\n"
    "  - annular_field_stop: {radius_inner: 0.0, radius_outer: 0.4}\n"
    "  - circular_aperture: {radius: 2.5, name: Lyot stop}\n"
    "detector: {pixelscale: 0.05, fov_pixels: 16, oversample: 2}\n"
    "propagation: {method: czt, fft_oversample: 2}\n";

static void pp_check_matches(const char *yaml, pp_method method, double wavelength_m,
                             const char *what) {
  pp_job *job = pp_group_job(yaml);
  if (!job) return;
  double worst = pp_group_worst(job, method, wavelength_m);
  PP_TEST_TRUE(worst >= 0.0, what);
  PP_TEST_NEAR(worst, 0.0, 1e-12, what);
  pp_job_destroy(&job);
}

static void pp_check_memory_model(void) {
  pp_job *job = pp_group_job(pp_fqpm_job);
  if (!job) return;
  size_t single = 0, two = 0, four = 0, n = pp_system_padded_size_for_job(job);
  PP_TEST_TRUE(n == 256, "the padded size is npix·fft_oversample");
  PP_TEST_OK(pp_system_bytes_for_job(job, &single), "single-rank bytes");
  PP_TEST_OK(pp_system_group_bytes_for_job(job, PP_METHOD_MFT, 2, &two), "bytes, group of 2");
  PP_TEST_OK(pp_system_group_bytes_for_job(job, PP_METHOD_MFT, 4, &four), "bytes, group of 4");
  PP_TEST_TRUE(four < two && two < single, "a larger group holds less per rank");
  PP_TEST_TRUE(two >= n / 2 * n * 16 && four >= n / 4 * n * 16, "a rank holds at least its slab");
  pp_job_destroy(&job);
}

static void pp_check_refused(const char *yaml, const char *what) {
  pp_job *job = pp_group_job(yaml);
  if (!job) return;
  pp_system *group = NULL;
  pp_status s = pp_system_create_group(job, PP_METHOD_MFT, MPI_COMM_WORLD, &group);
  int refused = pp_status_code(s) == PP_ERR_INPUT && group == NULL, all = 0;
  MPI_Allreduce(&refused, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  PP_TEST_TRUE(all == 1, what);
  pp_status_free(s);
  pp_system_destroy(&group);
  pp_job_destroy(&job);
}

/* A bad call on one rank (rank 0 passes no output) fails on every rank instead of leaving the
 * others in the planes' transposes; the group then still computes. */
static void pp_check_bad_call_agreed(void) {
  pp_job *job = pp_group_job(pp_fqpm_job);
  if (!job) return;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pp_system *group = NULL;
  PP_TEST_OK(pp_system_create_group(job, PP_METHOD_MFT, MPI_COMM_WORLD, &group), "group builds");
  if (group) {
    size_t ny = 0, nx = 0;
    pp_system_psf_shape(group, &ny, &nx);
    double *psf = calloc(ny * nx, sizeof *psf);
    pp_status s = pp_system_psf(group, 1.9e-6, NULL);
    int failed = s != PP_SUCCESS, all = 0;
    MPI_Allreduce(&failed, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    PP_TEST_TRUE(all == 1, "rank 0 without an output: every rank fails");
    pp_status_free(s);
    PP_TEST_OK(pp_system_psf(group, 1.9e-6, rank == 0 ? psf : NULL), "the group computes after");
    double sum = 0.0;
    for (size_t p = 0; p < ny * nx; p++) sum += psf[p];
    PP_TEST_TRUE(rank != 0 || sum > 0.0, "and rank 0 gets a PSF");
    free(psf);
  }
  pp_system_destroy(&group);
  pp_job_destroy(&job);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  pp_check_matches(pp_fqpm_job, PP_METHOD_MFT, 1.9e-6,
                   "fqpm + Lyot stop with OPD, N = 256: group PSF equals the serial one");
  pp_check_matches(pp_blc_job, PP_METHOD_CZT, 1.1e-6,
                   "band-limited + annular stop, N = 90 (uneven slabs): group PSF equals serial");
  pp_check_memory_model();
  pp_check_bad_call_agreed();
  char odd[2048];
  snprintf(odd, sizeof odd, "%s", pp_blc_job);
  char *at = strstr(odd, "fft_oversample: 2");
  if (at) at[16] = '3'; /* 45 × 3 = 135 */
  pp_check_refused(odd, "an odd padded size is refused on every rank");
  pp_check_refused("pupil: {npix: 32}\nwavelengths: {list: [1e-6]}\noptics:\n"
                   "  - circular_aperture: {radius: 3.0}\n"
                   "detector: {pixelscale: 0.05, fov_pixels: 8, oversample: 1}\n",
                   "a job without image planes is refused on every rank");
  int code = pp_test_finish_all(MPI_COMM_WORLD);
  MPI_Finalize();
  return code;
}
