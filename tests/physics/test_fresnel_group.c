/* Fresnel systems over a rank group (FFTW-MPI slabs of the padded field; docs/fresnel.md,
 * "Scheduling and memory"): all ranks of MPI_COMM_WORLD form one group (2 or 3: for
 * fresnel_hst's n = 1024, FFTW-MPI's slabs of 342, 342, 340 rows are uneven on 3).
 *   - fresnel_hst (../shared/reference: two lenses, waist-to-spherical and back, a resampled
 *     detector) and fresnel_ptp (plane to plane, no detector: the whole n × n intensity
 *     gathered): every slice within 1e-6 of POPPY's peak, and within 1e-12 of the peak of
 *     the single-rank system's slice computed on rank 0 (only the FFTs' rounding differs);
 *   - a detector that crops (fov < n) or pads (fov > n) the field (its pixel scale the
 *     wavefront's), with normalization 'first': within 1e-12 of the single-rank result;
 *   - the group's result is on group rank 0 only, and another rank's psf may be NULL;
 *   - a job asking for output.planes is refused on every rank alike.
 * Usage: mpirun -n G test_fresnel_group (G ≥ 2; skips on 1 rank). */
#include <hdf5.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "compare.h"
#include "h5_read.h"
#include "pp_test.h"

/* The job of a reference case with the file's wavelengths (body: all but the wavelengths). */
static pp_job *pp_job_with_wavelengths(const char *body, const double *wavelengths, size_t n,
                                       const char *name) {
  char yaml[8192];
  int len = snprintf(yaml, sizeof yaml, "%swavelengths:\n  list: [", body);
  for (size_t i = 0; i < n; i++)
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", i ? ", " : "", wavelengths[i]);
  snprintf(yaml + len, sizeof yaml - (size_t)len, "]\noutput: {path: unused.h5}\n");
  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), name, &job), "job parses");
  return job;
}

/* Every wavelength of job by the group (all ranks) and by one rank (rank 0's own system),
 * compared on rank 0 with each other (1e-12 of the peak) and, when reference is not NULL,
 * with POPPY's slices (1e-6). */
static void pp_compare_group(const char *name, const pp_job *job, const double *reference) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pp_system *group = NULL;
  PP_TEST_OK(pp_system_create_group(job, PP_METHOD_FFT, MPI_COMM_WORLD, &group),
             "the group's Fresnel system builds");
  pp_fresnel_system *single = NULL;
  if (rank == 0) PP_TEST_OK(pp_fresnel_system_create(job, &single), "one rank's system builds");
  size_t ny = job->detector.fov_pixels_y, nx = job->detector.fov_pixels_x;
  double *got = rank == 0 ? calloc(ny * nx, sizeof *got) : NULL;
  double *alone = rank == 0 ? calloc(ny * nx, sizeof *alone) : NULL;
  for (size_t l = 0; group && l < job->n_wavelengths; l++) {
    PP_TEST_OK(pp_system_psf(group, job->wavelengths_m[l], got), "the group's psf");
    if (rank != 0 || !single || !got || !alone) continue;
    PP_TEST_OK(pp_fresnel_system_psf(single, job->wavelengths_m[l], alone), "one rank's psf");
    char what[256];
    double to_single = pp_worst_relative(got, alone, ny * nx);
    snprintf(what, sizeof what, "%s slice %zu: group vs one rank, max|diff| / peak = %.3g", name,
             l, to_single);
    PP_TEST_NEAR(to_single, 0.0, 1e-12, what);
    if (reference) {
      double to_poppy = pp_worst_relative(got, reference + l * ny * nx, ny * nx);
      snprintf(what, sizeof what, "%s slice %zu: group vs POPPY, max|diff| / peak = %.3g", name,
               l, to_poppy);
      PP_TEST_NEAR(to_poppy, 0.0, 1e-6, what);
    }
  }
  free(got);
  free(alone);
  pp_fresnel_system_destroy(&single);
  pp_system_destroy(&group); /* collective */
}

static void pp_reference_case(const char *dir, const char *name, const char *body) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.h5", dir, name);
  hsize_t wdims[3], cdims[3];
  int nd = 0;
  double *wavelengths = pp_h5_read(path, "/wavelengths", wdims, &nd, NULL);
  double *cube = pp_h5_read(path, "/cube_oversampled", cdims, &nd, NULL);
  PP_TEST_TRUE(wavelengths && cube, "reference datasets read");
  pp_job *job = wavelengths && cube ? pp_job_with_wavelengths(body, wavelengths, wdims[0], name)
                                    : NULL;
  if (job) {
    PP_TEST_TRUE(job->detector.fov_pixels_y == cdims[1] && job->detector.fov_pixels_x == cdims[2],
                 "the result's shape is POPPY's");
    pp_compare_group(name, job, cube);
  }
  pp_job_destroy(&job);
  free(wavelengths);
  free(cube);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  pp_test_.quiet = rank != 0;
  const char *dir = getenv("POLYPSF_REFERENCE_DIR");
  char probe[4096];
  snprintf(probe, sizeof probe, "%s/fresnel_hst.h5", dir ? dir : ".");
  if (size < 2 || !dir || access(probe, R_OK) != 0) {
    if (rank == 0) printf("SKIP: needs ≥ 2 ranks and %s\n", probe);
    MPI_Finalize();
    return getenv("CI") && size >= 2 ? 1 : 77;
  }
  pp_reference_case(dir, "fresnel_hst",
                    "pupil: {npix: 256, diameter: 2.4}\n"
                    "propagation: {mode: fresnel, beam_ratio: 0.25}\n"
                    "optics:\n"
                    "  - circular_aperture: {radius: 1.2, gray_pixel: true}\n"
                    "  - secondary_obscuration: {secondary_radius: 0.396, n_supports: 4, "
                    "support_width: 0.0264}\n"
                    "  - quadratic_lens: {f_lens: 5.52085, plane: pupil}\n"
                    "  - quadratic_lens: {f_lens: -0.6790325, distance: 4.907028205}\n"
                    "detector: {pixelscale_m: 2.0e-6, fov_pixels: 128, distance: 6.3916645}\n");
  pp_reference_case(dir, "fresnel_ptp",
                    "pupil: {npix: 256, diameter: 1.0}\n"
                    "propagation: {mode: fresnel, beam_ratio: 0.5}\n"
                    "optics:\n"
                    "  - circular_aperture: {radius: 0.5, gray_pixel: true}\n"
                    "  - scalar_transmission: {transmission: 1.0, distance: 5000.0}\n");
  /* Plane to plane keeps the pupil's 2.4/64 m pixels: a detector of that scale crops
   * (48 < 128) or pads (160 > 128) instead of resampling. An OPD at a later plane, too. */
  for (int fov = 48; fov <= 160; fov += 112) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "pupil: {npix: 64, diameter: 2.4}\n"
             "wavelengths: {list: [5.0e-7, 6.5e-7]}\n"
             "propagation: {mode: fresnel, beam_ratio: 0.5}\n"
             "optics:\n"
             "  - circular_aperture: {radius: 1.2}\n"
             "  - zernike_wfe: {radius: 1.2, coefficients: [0, 0, 0, 80.0e-9, 0, 40.0e-9], "
             "distance: 20.0}\n"
             "detector: {pixelscale_m: 0.0375, fov_pixels: %d, distance: 30.0}\n"
             "output: {path: unused.h5}\n",
             fov);
    pp_job *job = NULL;
    PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "crop", &job), "crop job parses");
    if (job) pp_compare_group(fov < 128 ? "crop" : "pad", job, NULL);
    pp_job_destroy(&job);
  }
  /* A group writes no planes (the plan forms none for them): refused on every rank alike. */
  const char *planes_yaml = "pupil: {npix: 64, diameter: 2.4}\n"
                            "wavelengths: {list: [5.0e-7]}\n"
                            "propagation: {mode: fresnel, beam_ratio: 0.5}\n"
                            "optics:\n  - circular_aperture: {radius: 1.2}\n"
                            "output: {path: unused.h5, planes: all}\n";
  pp_job *planes_job = NULL;
  PP_TEST_OK(pp_job_parse_string(planes_yaml, strlen(planes_yaml), "planes", &planes_job),
             "planes job parses");
  if (planes_job) {
    pp_system *refused = NULL;
    pp_status made = pp_system_create_group(planes_job, PP_METHOD_FFT, MPI_COMM_WORLD, &refused);
    int mine = pp_status_code(made) == PP_ERR_INPUT && refused == NULL, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    PP_TEST_TRUE(all, "a group for a job with output.planes is refused (PP_ERR_INPUT) on every rank");
    pp_status_free(made);
    pp_system_destroy(&refused);
  }
  pp_job_destroy(&planes_job);
  int status = pp_test_finish_all(MPI_COMM_WORLD);
  MPI_Finalize();
  return status;
}
