/* Acceptance: polypsf's Fresnel systems against POPPY 1.1's FresnelOpticalSystem
 * (../shared/reference fresnel_hst.h5 and fresnel_ptp.h5; their description_json gives every
 * parameter, transcribed into the job below; wavelengths and weights are read from the file).
 * Asks max |polypsf − POPPY| ≤ 1e-6 × max(POPPY) for every wavelength slice and for the
 * weighted sum, computed by the Fresnel system directly and through pp_run (→ /psf, /cube).
 * For fresnel_hst also: the pilot beam's radius right after the primary is POPPY's 1.2 m (the
 * pupil radius), and the beam's focal length after the secondary equals the thin-lens
 * formula 1/f = 1/f1 + 1/f2 − d/(f1·f2) (to 1e-6 relative: the Gaussian beam's curvature
 * differs from the geometric one by (z_R/dz)², ~1e-10 here).
 * Usage: test_fresnel_reference CASE   (fresnel_hst | fresnel_ptp) */
#include <hdf5.h>
#include <mpi.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "compare.h"
#include "h5_read.h"
#include "pp_test.h"

typedef struct {
  const char *name;
  const char *yaml_body; /* everything but wavelengths and output */
} pp_fresnel_case;

static const pp_fresnel_case pp_cases[] = {
    {"fresnel_hst",
     "pupil: {npix: 256, diameter: 2.4}\n"
     "propagation: {mode: fresnel, beam_ratio: 0.25}\n"
     "optics:\n"
     "  - circular_aperture: {radius: 1.2, gray_pixel: true}\n"
     "  - secondary_obscuration: {secondary_radius: 0.396, n_supports: 4, support_width: 0.0264}\n"
     "  - quadratic_lens: {f_lens: 5.52085, plane: pupil}\n"
     "  - quadratic_lens: {f_lens: -0.6790325, distance: 4.907028205}\n"
     "detector: {pixelscale_m: 2.0e-6, fov_pixels: 128, distance: 6.3916645}\n"},
    {"fresnel_ptp",
     "pupil: {npix: 256, diameter: 1.0}\n"
     "propagation: {mode: fresnel, beam_ratio: 0.5}\n"
     "optics:\n"
     "  - circular_aperture: {radius: 0.5, gray_pixel: true}\n"
     "  - scalar_transmission: {transmission: 1.0, distance: 5000.0}\n"},
};

static void pp_compare(const char *what, const double *got, const double *want, size_t n,
                       double rel_tol) {
  double relative = pp_worst_relative(got, want, n);
  char label[256];
  snprintf(label, sizeof label, "%s: max|polypsf - POPPY| / max(POPPY) = %.3g", what,
           relative);
  PP_TEST_NEAR(relative, 0.0, rel_tol, label);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  const char *dir = getenv("POLYPSF_REFERENCE_DIR");
  const pp_fresnel_case *c = NULL;
  for (size_t i = 0; argc > 1 && i < sizeof pp_cases / sizeof pp_cases[0]; i++)
    if (strcmp(argv[1], pp_cases[i].name) == 0) c = &pp_cases[i];
  if (!c || !dir) {
    fprintf(stderr, "usage: test_fresnel_reference CASE with POLYPSF_REFERENCE_DIR set\n");
    MPI_Finalize();
    return 1;
  }
  char ref_path[4096];
  snprintf(ref_path, sizeof ref_path, "%s/%s.h5", dir, c->name);
  if (access(ref_path, R_OK) != 0) {
    printf("SKIP %s: %s not readable\n", c->name, ref_path);
    MPI_Finalize();
    return getenv("CI") ? 1 : 77;
  }
  hsize_t wdims[3], cdims[3], pdims[3];
  int nd = 0;
  double *wavelengths = pp_h5_read(ref_path, "/wavelengths", wdims, &nd, NULL);
  double *weights = pp_h5_read(ref_path, "/weights", wdims, &nd, NULL);
  double *ref_cube = pp_h5_read(ref_path, "/cube_oversampled", cdims, &nd, NULL);
  double *ref_psf = pp_h5_read(ref_path, "/psf_oversampled", pdims, &nd, NULL);
  PP_TEST_TRUE(wavelengths && weights && ref_cube && ref_psf, "reference datasets read");
  if (!(wavelengths && weights && ref_cube && ref_psf)) return pp_test_finish();
  size_t n_lambda = wdims[0], ny = pdims[0], nx = pdims[1];

  char out_path[4096], yaml[8192];
  snprintf(out_path, sizeof out_path, "fresnel_reference_%s.h5", c->name);
  int len = snprintf(yaml, sizeof yaml, "%swavelengths:\n  list: [", c->yaml_body);
  for (size_t i = 0; i < n_lambda; i++)
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", i ? ", " : "", wavelengths[i]);
  len += snprintf(yaml + len, sizeof yaml - (size_t)len, "]\n  weights: [");
  for (size_t i = 0; i < n_lambda; i++)
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", i ? ", " : "", weights[i]);
  snprintf(yaml + len, sizeof yaml - (size_t)len, "]\noutput: {path: %s, cube: true}\n", out_path);

  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), c->name, &job), "equivalent job parses");
  pp_fresnel_system *system = NULL;
  if (job) PP_TEST_OK(pp_fresnel_system_create(job, &system), "Fresnel system builds");
  if (system) {
    size_t sy, sx;
    pp_fresnel_system_shape(system, &sy, &sx);
    PP_TEST_TRUE(sy == ny && sx == nx, "result shape is POPPY's");
    double *slice = calloc(ny * nx, sizeof *slice), *sum = calloc(ny * nx, sizeof *sum);
    for (size_t l = 0; slice && sum && sy == ny && sx == nx && l < n_lambda; l++) {
      PP_TEST_OK(pp_fresnel_system_psf(system, wavelengths[l], slice), "psf");
      char what[128];
      snprintf(what, sizeof what, "%s slice %zu (%.3g m), Fresnel system", c->name, l,
               wavelengths[l]);
      pp_compare(what, slice, ref_cube + l * ny * nx, ny * nx, 1e-6);
      for (size_t p = 0; p < ny * nx; p++) sum[p] += job->weights[l] * slice[p];
      if (strcmp(c->name, "fresnel_hst") == 0) {
        const pp_fresnel_plane_state *planes = pp_fresnel_system_planes(system);
        PP_TEST_NEAR(planes[2].beam_radius_m, 1.2, 1e-12,
                     "beam radius right after the primary is POPPY's 1.2 m");
        double f1 = 5.52085, f2 = -0.6790325, d = 4.907028205;
        double thin_lens = 1.0 / (1.0 / f1 + 1.0 / f2 - d / (f1 * f2));
        double f_beam = planes[3].beam.focal_length_m;
        snprintf(what, sizeof what, "effective focal length %.9g m = thin lens %.9g m", f_beam,
                 thin_lens);
        PP_TEST_NEAR(f_beam / thin_lens, 1.0, 1e-6, what);
      }
    }
    if (slice && sum) pp_compare("weighted sum, Fresnel system", sum, ref_psf, ny * nx, 1e-6);
    free(slice);
    free(sum);
  }
  pp_fresnel_system_destroy(&system);
  if (job) {
    /* The same job through the scheduler and the output: /psf and /cube. */
    pp_run_options options = {.force = true};
    pp_run_summary summary;
    PP_TEST_OK(pp_run(job, &options, MPI_COMM_WORLD, &summary), "run");
    hsize_t gdims[3], gcdims[3];
    double *psf = pp_h5_read(out_path, "/psf", gdims, &nd, NULL);
    double *cube = pp_h5_read(out_path, "/cube", gcdims, &nd, NULL);
    PP_TEST_TRUE(psf && cube && gdims[0] == ny && gdims[1] == nx, "/psf and /cube read, POPPY's shape");
    if (psf && cube && gdims[0] == ny && gdims[1] == nx) {
      for (size_t l = 0; l < n_lambda; l++) {
        char what[128];
        snprintf(what, sizeof what, "%s /cube[%zu] through pp_run", c->name, l);
        pp_compare(what, cube + l * ny * nx, ref_cube + l * ny * nx, ny * nx, 1e-6);
      }
      pp_compare("/psf through pp_run", psf, ref_psf, ny * nx, 1e-6);
    }
    double scale = pp_h5_attr_number(out_path, "/psf", "pixelscale_m");
    double want_scale = 0.0;
    if (strcmp(c->name, "fresnel_hst") == 0) want_scale = 2.0e-6; /* the detector's */
    else want_scale = 1.0 / 256.0; /* plane to plane keeps the pupil's: diameter / npix */
    PP_TEST_TRUE(fabs(scale - want_scale) <= 1e-15 * want_scale,
                 "/psf pixelscale_m attribute is the result's metres per pixel");
    free(psf);
    free(cube);
    unlink(out_path);
  }
  pp_job_destroy(&job);
  free(wavelengths);
  free(weights);
  free(ref_cube);
  free(ref_psf);
  int failed = pp_test_finish();
  MPI_Finalize();
  return failed;
}
