/* Acceptance of PSF grids against POPPY's grid_field (../shared/reference): 3 × 3 field
 * points, circle + obscuration + a Zernike WFE whose Z4…Z8 vary over the field.
 * FORM selects how the job gives the field dependence:
 *   coefficients  field.points and field_coefficients: the per-point Noll lists of the file's
 *                 description (zernike_coefficients_per_point), transcribed as they are;
 *   polynomial    field.grid and field_polynomial: the file's field_model_formula written
 *                 as monomial terms (Z5 = astig·2xy, Z6 = astig·(x² − y²), …).
 * Every point's /grid/psf and every /grid/cube slice must be within 1e-6 of POPPY's peak,
 * /grid/points must be the file's field_points_arcsec, and /grid/psf_detector the rebinned
 * /grid/psf. Usage: test_grid coefficients|polynomial */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "compare.h"
#include "h5_read.h"
#include "pp_test.h"

enum { N_POINTS = 9, N_NOLL = 8 };

/* The first `count` numbers after "key" in a JSON text (nested lists flattened). */
static bool pp_json_numbers(const char *json, const char *key, size_t count, double *out) {
  char quoted[128];
  snprintf(quoted, sizeof quoted, "\"%s\"", key);
  const char *p = strstr(json, quoted);
  if (!p) return false;
  p += strlen(quoted);
  for (size_t i = 0; i < count; i++) {
    while (*p && !(*p == '-' || *p == '.' || (*p >= '0' && *p <= '9'))) {
      if (*p == '"' || *p == '}') return false; /* left the value */
      p++;
    }
    char *end = NULL;
    out[i] = strtod(p, &end);
    if (end == p) return false;
    p = end;
  }
  return true;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  const char *form = argc > 1 ? argv[1] : "";
  bool polynomial = strcmp(form, "polynomial") == 0;
  if (!polynomial && strcmp(form, "coefficients") != 0) {
    fprintf(stderr, "usage: test_grid coefficients|polynomial\n");
    MPI_Finalize();
    return 1;
  }
  const char *dir = getenv("POLYPSF_REFERENCE_DIR");
  char ref_path[4096];
  snprintf(ref_path, sizeof ref_path, "%s/grid_field.h5", dir ? dir : ".");
  if (!dir || access(ref_path, R_OK) != 0) {
    printf("SKIP grid_field: %s not readable\n", ref_path);
    MPI_Finalize();
    return getenv("CI") ? 1 : 77;
  }
  hsize_t wdims[4], gdims[4], cdims[4];
  int nd = 0;
  double *wavelengths = pp_h5_read(ref_path, "/wavelengths", wdims, &nd, NULL);
  double *weights = pp_h5_read(ref_path, "/weights", wdims, &nd, NULL);
  double *ref_psf = pp_h5_read(ref_path, "/grid_psf", gdims, &nd, NULL);
  double *ref_cube = pp_h5_read(ref_path, "/grid_cube", cdims, &nd, NULL);
  char *description = pp_h5_description(ref_path);
  double points[2 * N_POINTS], coefficients[N_POINTS * N_NOLL];
  bool parsed = description &&
                pp_json_numbers(description, "field_points_arcsec", 2 * N_POINTS, points) &&
                pp_json_numbers(description, "zernike_coefficients_per_point",
                                N_POINTS * N_NOLL, coefficients);
  PP_TEST_TRUE(wavelengths && weights && ref_psf && ref_cube && parsed,
               "reference datasets and description read");
  if (!(wavelengths && weights && ref_psf && ref_cube && parsed)) {
    MPI_Finalize();
    return 1;
  }
  size_t n_lambda = wdims[0], ny = gdims[1], nx = gdims[2], image = ny * nx;

  char yaml[16384], out_path[256];
  snprintf(out_path, sizeof out_path, "grid_field_%s.h5", form);
  int len = snprintf(yaml, sizeof yaml, "pupil: {npix: 256}\nwavelengths:\n  list: [");
  for (size_t i = 0; i < n_lambda; i++)
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", i ? ", " : "", wavelengths[i]);
  len += snprintf(yaml + len, sizeof yaml - (size_t)len, "]\n  weights: [");
  for (size_t i = 0; i < n_lambda; i++)
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", i ? ", " : "", weights[i]);
  len += snprintf(yaml + len, sizeof yaml - (size_t)len,
                  "]\noptics:\n"
                  "  - circular_aperture: {radius: 1.2, gray_pixel: true}\n"
                  "  - secondary_obscuration: {secondary_radius: 0.18, n_supports: 4, "
                  "support_width: 0.06}\n"
                  "  - zernike_wfe:\n      radius: 1.2\n      coefficients: [0]\n");
  if (polynomial) {
    /* field_model_formula: Z4 = defocus0 + field_curvature·(x² + y²), Z5 = astig·2xy,
     * Z6 = astig·(x² − y²), Z7 = coma·y, Z8 = coma·x (metres; x, y arcsec) */
    double defocus0 = 0, curvature = 0, astig = 0, coma = 0;
    bool ok = pp_json_numbers(description, "defocus0", 1, &defocus0) &&
              pp_json_numbers(description, "field_curvature", 1, &curvature) &&
              pp_json_numbers(description, "astig", 1, &astig) &&
              pp_json_numbers(description, "coma", 1, &coma);
    PP_TEST_TRUE(ok, "field model read");
    len += snprintf(yaml + len, sizeof yaml - (size_t)len,
                    "      field_polynomial: [[4, 0, 0, %.17g], [4, 2, 0, %.17g], [4, 0, 2, %.17g],"
                    " [5, 1, 1, %.17g], [6, 2, 0, %.17g], [6, 0, 2, %.17g], [7, 0, 1, %.17g],"
                    " [8, 1, 0, %.17g]]\n"
                    "field: {grid: {nx: 3, ny: 3, x: [-60, 60], y: [-60, 60]}}\n",
                    defocus0, curvature, curvature, 2 * astig, astig, -astig, coma, coma);
  } else {
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "      field_coefficients:\n");
    for (size_t p = 0; p < N_POINTS; p++) {
      len += snprintf(yaml + len, sizeof yaml - (size_t)len, "        - [");
      for (size_t j = 0; j < N_NOLL; j++)
        len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s%.17g", j ? ", " : "",
                        coefficients[p * N_NOLL + j]);
      len += snprintf(yaml + len, sizeof yaml - (size_t)len, "]\n");
    }
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "field:\n  points: [");
    for (size_t p = 0; p < N_POINTS; p++)
      len += snprintf(yaml + len, sizeof yaml - (size_t)len, "%s[%.17g, %.17g]", p ? ", " : "",
                      points[2 * p], points[2 * p + 1]);
    len += snprintf(yaml + len, sizeof yaml - (size_t)len, "]\n");
  }
  snprintf(yaml + len, sizeof yaml - (size_t)len,
           "detector: {pixelscale: 0.03, fov_pixels: 64, oversample: 2}\n"
           "propagation: {fft_oversample: 2}\noutput: {path: %s, cube: true}\n", out_path);

  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "grid_field", &job), "grid job parses");
  if (job) {
    pp_run_options options = {.force = true};
    pp_run_summary summary;
    PP_TEST_OK(pp_run(job, &options, MPI_COMM_WORLD, &summary), "run");
    hsize_t pdims[4], qdims[4], ddims[4], odims[4];
    double *psf = pp_h5_read(out_path, "/grid/psf", pdims, &nd, NULL);
    double *cube = pp_h5_read(out_path, "/grid/cube", qdims, &nd, NULL);
    double *detector = pp_h5_read(out_path, "/grid/psf_detector", ddims, &nd, NULL);
    double *got_points = pp_h5_read(out_path, "/grid/points", odims, &nd, NULL);
    bool shapes = psf && cube && detector && got_points && pdims[0] == N_POINTS &&
                  pdims[1] == ny && pdims[2] == nx && qdims[1] == n_lambda;
    PP_TEST_TRUE(shapes, "/grid datasets read, POPPY's shapes");
    if (shapes) {
      double worst_psf = 0.0, worst_slice = 0.0, worst_points = 0.0, worst_detector = 0.0;
      double *rebinned = malloc(image / 4 * sizeof *rebinned);
      for (size_t p = 0; p < N_POINTS; p++) {
        worst_psf = fmax(worst_psf, pp_worst_relative(psf + p * image, ref_psf + p * image, image));
        for (size_t i = 0; i < n_lambda; i++) {
          size_t at = (p * n_lambda + i) * image;
          worst_slice = fmax(worst_slice, pp_worst_relative(cube + at, ref_cube + at, image));
        }
        worst_points = fmax(worst_points, fabs(got_points[2 * p] - points[2 * p]) +
                                              fabs(got_points[2 * p + 1] - points[2 * p + 1]));
        pp_psf_rebin(psf + p * image, ny, nx, 2, rebinned);
        worst_detector = fmax(worst_detector,
                              pp_worst_relative(detector + p * image / 4, rebinned, image / 4));
      }
      free(rebinned);
      printf("grid_field via %s: worst point PSF %.3g, worst slice %.3g of POPPY's peak\n",
             form, worst_psf, worst_slice);
      PP_TEST_NEAR(worst_psf, 0.0, 1e-6, "every point's PSF within 1e-6 of POPPY's peak");
      PP_TEST_NEAR(worst_slice, 0.0, 1e-6, "every slice within 1e-6 of POPPY's peak");
      PP_TEST_NEAR(worst_points, 0.0, 1e-12, "/grid/points are the field points, in order");
      PP_TEST_NEAR(worst_detector, 0.0, 1e-15, "/grid/psf_detector is /grid/psf rebinned");
    }
    free(psf);
    free(cube);
    free(detector);
    free(got_points);
    pp_job_destroy(&job);
  }
  free(description);
  free(wavelengths);
  free(weights);
  free(ref_psf);
  free(ref_cube);
  int failed = pp_test_finish();
  MPI_Finalize();
  return failed;
}
