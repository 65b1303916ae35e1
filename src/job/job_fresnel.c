/* What a Fresnel job adds to the job file (propagation.mode: fresnel; docs/fresnel.md):
 * propagation.beam_ratio, pupil.diameter, each optic's `distance`, the detector in metres
 * (pixelscale_m, fov_pixels, distance), and the refusals that keep the two modes apart
 * (a distance in Fraunhofer mode, an arcsec pixel scale in Fresnel mode), each with
 * file:line:column and the reason. Split from job_parse.c and job_optics.c. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const pp_job_mode_words[] = {"fraunhofer", "fresnel", NULL};

/* POPPY's FresnelOpticalSystem(beam_ratio=0.5). */
#define PP_JOB_DEFAULT_BEAM_RATIO 0.5

pp_status pp_job_read_mode(pp_yaml_doc *doc, const yaml_node_t *propagation, pp_job *job) {
  job->mode = PP_PROPAGATION_FRAUNHOFER;
  if (!propagation || propagation->type != YAML_MAPPING_NODE) return PP_SUCCESS;
  yaml_node_t *node = pp_yaml_mapping_get(doc, propagation, "mode", NULL);
  if (!node) return PP_SUCCESS;
  int mode;
  PP_CALL(pp_yaml_read_choice(doc, node, "propagation.mode", pp_job_mode_words, &mode));
  job->mode = (pp_propagation_mode)mode;
  if (job->mode == PP_PROPAGATION_FRESNEL) job->fresnel.beam_ratio = PP_JOB_DEFAULT_BEAM_RATIO;
  return PP_SUCCESS;
}

pp_status pp_job_read_beam_ratio(pp_yaml_doc *doc, const yaml_node_t *propagation, pp_job *job) {
  if (!propagation) return PP_SUCCESS;
  yaml_node_t *key = NULL;
  yaml_node_t *node = pp_yaml_mapping_get(doc, propagation, "beam_ratio", &key);
  if (!node) return PP_SUCCESS;
  if (job->mode != PP_PROPAGATION_FRESNEL)
    return PP_YAML_ERROR(doc, key, "propagation.beam_ratio",
                         "is for Fresnel propagation only (propagation.mode: fresnel); in "
                         "Fraunhofer mode the padding is fft_oversample");
  double ratio;
  PP_CALL(pp_yaml_read_number(doc, node, "propagation.beam_ratio", "", &ratio));
  if (!(ratio > 0.0 && ratio <= 1.0))
    return PP_YAML_ERROR(doc, node, "propagation.beam_ratio",
                         "expects a number in (0, 1] (the fraction of the padded array the "
                         "pupil fills; POPPY's default 0.5), got %.10g",
                         ratio);
  job->fresnel.beam_ratio = ratio;
  return PP_SUCCESS;
}

pp_status pp_job_read_pupil_diameter(pp_yaml_doc *doc, const yaml_node_t *pupil,
                                     const yaml_node_t *pupil_key, pp_job *job) {
  yaml_node_t *key = NULL;
  yaml_node_t *node = pupil ? pp_yaml_mapping_get(doc, pupil, "diameter", &key) : NULL;
  if (job->mode != PP_PROPAGATION_FRESNEL) {
    if (node)
      return PP_YAML_ERROR(doc, key, "pupil.diameter",
                           "is for Fresnel propagation only (propagation.mode: fresnel); in "
                           "Fraunhofer mode the optics set the pupil's width");
    return PP_SUCCESS;
  }
  if (!node)
    return pp_job_missing(doc, pupil ? pupil_key : pp_yaml_doc_root(doc), "pupil.diameter",
                          "diameter",
                          "the entrance pupil's diameter in metres (POPPY's pupil_diameter), "
                          "needed in Fresnel mode");
  double diameter_m;
  PP_CALL(pp_yaml_read_number(doc, node, "pupil.diameter", "m", &diameter_m));
  PP_CALL(pp_yaml_check_range(doc, node, "pupil.diameter", diameter_m, 0.0, true, INFINITY,
                              false, "m"));
  job->fresnel.pupil_diameter_m = diameter_m;
  return PP_SUCCESS;
}

pp_status pp_job_read_optic_distance(pp_yaml_doc *doc, const yaml_node_t *params,
                                     const char *type_path, size_t item_index, pp_job *job) {
  if (!params || params->type != YAML_MAPPING_NODE) return PP_SUCCESS;
  yaml_node_t *key = NULL;
  yaml_node_t *node = pp_yaml_mapping_get(doc, params, "distance", &key);
  if (!node) return PP_SUCCESS;
  char path[PP_JOB_PATH_BYTES];
  pp_yaml_path(path, sizeof path, type_path, "distance");
  if (job->mode != PP_PROPAGATION_FRESNEL)
    return PP_YAML_ERROR(doc, key, path,
                         "a distance between optics needs Fresnel propagation "
                         "(propagation: {mode: fresnel}); in Fraunhofer mode optics sit in "
                         "pupil and image planes, at no distance");
  double distance_m;
  PP_CALL(pp_yaml_read_number(doc, node, path, "m", &distance_m));
  job->fresnel.distance_m[item_index] = distance_m;
  return PP_SUCCESS;
}

pp_status pp_job_check_optic_mode(pp_yaml_doc *doc, const yaml_node_t *type_key,
                                  const char *item_path, const pp_optic_type *type,
                                  const pp_job *job) {
  bool lens = strcmp(type->name, "quadratic_lens") == 0;
  if (lens && job->mode != PP_PROPAGATION_FRESNEL)
    return PP_YAML_ERROR(doc, type_key, item_path,
                         "quadratic_lens needs Fresnel propagation (propagation: {mode: "
                         "fresnel}): a lens changes the beam between planes at a distance");
  if (job->mode == PP_PROPAGATION_FRESNEL &&
      (type->plane != PP_PLANE_PUPIL || type->apply_pupil == NULL))
    return PP_YAML_ERROR(doc, type_key, item_path,
                         "%s is not available in Fresnel mode: Fresnel systems take the "
                         "optics that act on the field at any plane (apertures, obscurations, "
                         "Zernike WFE, maps, quadratic_lens); image-plane masks and FFT "
                         "aligners need Fraunhofer mode",
                         type->name);
  return PP_SUCCESS;
}

/* The first of `keys` that `detector` holds, refused at its position with `reason`. */
static pp_status pp_job_refuse_detector_keys(pp_yaml_doc *doc, const yaml_node_t *detector,
                                             const char *const *keys, const char *reason) {
  for (size_t i = 0; keys[i]; i++) {
    yaml_node_t *key = NULL;
    if (pp_yaml_mapping_get(doc, detector, keys[i], &key)) {
      char path[PP_JOB_PATH_BYTES];
      pp_yaml_path(path, sizeof path, "detector", keys[i]);
      return PP_YAML_ERROR(doc, key, path, "%s", reason);
    }
  }
  return PP_SUCCESS;
}

pp_status pp_job_refuse_fresnel_detector_keys(pp_yaml_doc *doc, const yaml_node_t *detector) {
  static const char *const keys[] = {"pixelscale_m", "distance", NULL};
  return pp_job_refuse_detector_keys(doc, detector, keys,
                                     "is for a Fresnel detector (propagation.mode: fresnel); a "
                                     "Fraunhofer detector takes pixelscale in arcsec");
}

pp_status pp_job_read_fresnel_detector(pp_yaml_doc *doc, const yaml_node_t *section,
                                       const yaml_node_t *section_key, pp_job *job) {
  static const char *const allowed[] = {"pixelscale_m", "fov_pixels", "distance", "pixelscale",
                                        "fov_arcsec",   "oversample", NULL};
  if (!section) {
    /* No detector: the result is the whole padded wavefront after the last optic, n × n with
     * n = npix / beam_ratio rounded as POPPY rounds it (numpy.round: half to even). */
    double side = nearbyint((double)job->pupil_npix / job->fresnel.beam_ratio);
    job->detector.fov_pixels_y = job->detector.fov_pixels_x = (size_t)side;
    job->detector.oversample = 1;
    return PP_SUCCESS;
  }
  PP_CALL(pp_yaml_check_mapping(doc, section, "detector", allowed,
                                "a mapping such as {pixelscale_m: 2.0e-6, fov_pixels: 128, "
                                "distance: 6.39}"));
  static const char *const fraunhofer_keys[] = {"pixelscale", "fov_arcsec", "oversample", NULL};
  PP_CALL(pp_job_refuse_detector_keys(doc, section, fraunhofer_keys,
                                      "is a Fraunhofer detector key (arcsec); a Fresnel detector "
                                      "is in metres: give pixelscale_m (metres per pixel), "
                                      "fov_pixels and distance"));
  yaml_node_t *node = pp_yaml_mapping_get(doc, section, "pixelscale_m", NULL);
  if (!node)
    return pp_job_missing(doc, section_key, "detector.pixelscale_m", "pixelscale_m",
                          "the detector pixel size in metres (> 0), needed by a Fresnel "
                          "detector");
  PP_CALL(pp_yaml_read_number(doc, node, "detector.pixelscale_m", "m",
                              &job->fresnel.detector_pixelscale_m));
  PP_CALL(pp_yaml_check_range(doc, node, "detector.pixelscale_m",
                              job->fresnel.detector_pixelscale_m, 0.0, true, INFINITY, false,
                              "m"));
  node = pp_yaml_mapping_get(doc, section, "fov_pixels", NULL);
  if (!node)
    return pp_job_missing(doc, section_key, "detector.fov_pixels", "fov_pixels",
                          "the detector's pixels per side");
  long long pixels;
  PP_CALL(pp_yaml_read_integer(doc, node, "detector.fov_pixels", 1, PP_JOB_MAX_DETECTOR_PIXELS,
                               &pixels));
  job->fresnel.detector_fov_pixels = (size_t)pixels;
  if ((node = pp_yaml_mapping_get(doc, section, "distance", NULL)))
    PP_CALL(pp_yaml_read_number(doc, node, "detector.distance", "m",
                                &job->fresnel.detector_distance_m));
  job->fresnel.has_detector = true;
  /* /psf and /cube are the detector, unrebinned: one computed pixel per detector pixel. */
  job->detector.fov_pixels_y = job->detector.fov_pixels_x = (size_t)pixels;
  job->detector.oversample = 1;
  return PP_SUCCESS;
}
