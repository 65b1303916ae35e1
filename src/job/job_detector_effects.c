/* The detector's effects on the polychromatic PSF (docs/grids.md): pointing jitter, charge
 * diffusion and interpixel capacitance, read from the `detector:` mapping after its
 * sampling keys (the sigma limits are in computed pixels, so the sampling comes first). */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <math.h>
#include <string.h>

/* |sum of the IPC kernel − 1| allowed: kernels are written with a few decimals, and their
 * sum in binary floating point is 1 only to rounding. */
#define PP_JOB_IPC_SUM_TOLERANCE 1.0e-9

bool pp_detector_blurs_psf(const pp_detector_spec *detector) {
  return detector->jitter_sigma_arcsec > 0.0 || detector->charge_diffusion_sigma_px > 0.0;
}

bool pp_detector_has_effects(const pp_detector_spec *detector) {
  return pp_detector_blurs_psf(detector) || detector->has_ipc_kernel;
}

/* A sigma ≥ 0 whose Gaussian, in computed (oversampled) pixels, is no wider than the
 * image: a blur wider than the field has no meaning and would only cost time. */
static pp_status pp_job_read_sigma(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                   const char *unit, double computed_px_per_unit,
                                   const pp_job *job, double *sigma) {
  PP_CALL(pp_yaml_read_number(doc, node, path, unit, sigma));
  PP_CALL(pp_yaml_check_range(doc, node, path, *sigma, 0.0, false, INFINITY, false, unit));
  size_t largest = job->detector.fov_pixels_y > job->detector.fov_pixels_x
                       ? job->detector.fov_pixels_y : job->detector.fov_pixels_x;
  double image_px = (double)largest * job->detector.oversample;
  if (*sigma * computed_px_per_unit > image_px)
    return PP_YAML_ERROR(doc, node, path,
                         "%.10g %s is %.6g computed pixels, wider than the %.0f-pixel image; "
                         "give at most %.10g %s",
                         *sigma, unit, *sigma * computed_px_per_unit, image_px,
                         image_px / computed_px_per_unit, unit);
  return PP_SUCCESS;
}

/* ipc_kernel: [[a, b, c], [d, e, f], [g, h, i]], rows top to bottom as they are written
 * (row 0 is y − 1), summing to 1. */
static pp_status pp_job_read_ipc_kernel(pp_yaml_doc *doc, const yaml_node_t *node,
                                        pp_job *job) {
  static const char *const path = "detector.ipc_kernel";
  static const char *const expected = "a 3 x 3 list of numbers summing to 1, such as "
                                      "[[0, 0.01, 0], [0.01, 0.96, 0.01], [0, 0.01, 0]]";
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  if (node->type != YAML_SEQUENCE_NODE)
    return PP_YAML_ERROR(doc, node, path, "expects %s, got %s", expected, got);
  if (pp_yaml_sequence_length(node) != 3)
    return PP_YAML_ERROR(doc, node, path, "expects %s, got %zu rows", expected,
                         pp_yaml_sequence_length(node));
  double sum = 0.0;
  for (size_t row = 0; row < 3; row++) {
    char row_path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(row_path, sizeof row_path, path, row);
    yaml_node_t *row_node = pp_yaml_sequence_item(doc, node, row);
    if (row_node->type != YAML_SEQUENCE_NODE || pp_yaml_sequence_length(row_node) != 3) {
      pp_yaml_describe(row_node, got, sizeof got);
      return PP_YAML_ERROR(doc, row_node, row_path, "expects a row of 3 numbers (%s), got %s",
                           expected,
                           row_node->type == YAML_SEQUENCE_NODE ? "a row of another length"
                                                                : got);
    }
    for (size_t col = 0; col < 3; col++) {
      char item_path[PP_JOB_PATH_BYTES];
      pp_yaml_path_index(item_path, sizeof item_path, row_path, col);
      double value = 0.0;
      PP_CALL(pp_yaml_read_number(doc, pp_yaml_sequence_item(doc, row_node, col), item_path, "",
                                  &value));
      job->detector.ipc_kernel[row * 3 + col] = value;
      sum += value;
    }
  }
  if (!(fabs(sum - 1.0) <= PP_JOB_IPC_SUM_TOLERANCE))
    return PP_YAML_ERROR(doc, node, path,
                         "sums to %.12g; an interpixel-capacitance kernel moves charge between "
                         "pixels and must sum to 1 (within %.0e)",
                         sum, PP_JOB_IPC_SUM_TOLERANCE);
  job->detector.has_ipc_kernel = true;
  return PP_SUCCESS;
}

pp_status pp_job_read_detector_effects(pp_yaml_doc *doc, const yaml_node_t *section,
                                       pp_job *job) {
  double oversampled_px_per_arcsec =
      job->detector.oversample / job->detector.pixelscale_arcsec;
  yaml_node_t *node;
  if ((node = pp_yaml_mapping_get(doc, section, "jitter_sigma", NULL)))
    PP_CALL(pp_job_read_sigma(doc, node, "detector.jitter_sigma", "arcsec",
                              oversampled_px_per_arcsec, job,
                              &job->detector.jitter_sigma_arcsec));
  if ((node = pp_yaml_mapping_get(doc, section, "charge_diffusion_sigma", NULL)))
    PP_CALL(pp_job_read_sigma(doc, node, "detector.charge_diffusion_sigma", "detector pixels",
                              (double)job->detector.oversample, job,
                              &job->detector.charge_diffusion_sigma_px));
  if ((node = pp_yaml_mapping_get(doc, section, "ipc_kernel", NULL)))
    PP_CALL(pp_job_read_ipc_kernel(doc, node, job));
  return PP_SUCCESS;
}
