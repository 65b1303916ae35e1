/* propagation.fft_engine, and coronagraph, coronagraph_oversample and occulter_box: which method propagates the
 * planes around a focal-plane mask, and whether POPPY's MFT-only methods are exact for the
 * job's mask (docs/propagation.md, "Coronagraph methods").
 *
 * Exactness is decided from the optics' nominal geometry: SemiAnalyticCoronagraph
 * (Soummer et al. 2007) propagates only 1 − M through the box by Babinet's principle, so it
 * is exact when the mask M is clear (1) outside the box; MatrixFTCoronagraph samples M only
 * inside the box, so it is exact when M is opaque (0) outside it. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* In pp_coronagraph_method's order. */
static const char *const pp_coronagraph_words[] = {"fft", "auto", "semi_analytic", "matrix_ft",
                                                   NULL};
/* In pp_fft_engine's order. */
static const char *const pp_fft_engine_words[] = {"passes", "fftw2d", NULL};

/* POPPY's defaults: SemiAnalyticCoronagraph(oversample=8), MatrixFTCoronagraph(oversample=4). */
enum { PP_SEMI_ANALYTIC_OVERSAMPLE = 8, PP_MATRIX_FT_OVERSAMPLE = 4, PP_MAX_BOX_OVERSAMPLE = 64 };

const char *pp_coronagraph_method_name(pp_coronagraph_method method) {
  if ((int)method < 0 || (size_t)method >= sizeof pp_coronagraph_words / sizeof *pp_coronagraph_words - 1)
    return NULL;
  return pp_coronagraph_words[method];
}

int pp_job_coronagraph_oversample(const pp_job *job, pp_coronagraph_method method) {
  if (job->coronagraph_oversample > 0) return job->coronagraph_oversample;
  return method == PP_CORONAGRAPH_MATRIX_FT ? PP_MATRIX_FT_OVERSAMPLE : PP_SEMI_ANALYTIC_OVERSAMPLE;
}

static double pp_param_or_zero(const pp_optic_spec *spec, const char *key) {
  double value = pp_optic_spec_get(spec, key);
  return isfinite(value) ? value : 0.0;
}

/* Half sizes [y, x] (arcsec, about the optical axis) of the box outside which the image optic
 * is clear (clear = true) or opaque (clear = false); INFINITY where it is neither. A shape of
 * half sizes (a, b) along its own x and y, turned by its rotation and moved by its shift. */
static void pp_mask_extent(const pp_optic_spec *spec, bool clear, double extent[2]) {
  const char *name = spec->type->name;
  double half_x = INFINITY, half_y = INFINITY;
  bool disk = false;
  if (strcmp(name, "circular_occulter") == 0) {
    if (clear) half_x = half_y = pp_param_or_zero(spec, "radius"), disk = true;
  } else if (strcmp(name, "annular_field_stop") == 0) {
    double inner = pp_param_or_zero(spec, "radius_inner");
    double outer = pp_param_or_zero(spec, "radius_outer");
    if (clear && outer == 0.0) half_x = half_y = inner, disk = true;
    if (!clear && outer > 0.0) half_x = half_y = outer, disk = true;
  } else if (strcmp(name, "bar_occulter") == 0) {
    if (clear) half_x = pp_param_or_zero(spec, "width") / 2.0,
               half_y = pp_param_or_zero(spec, "height") / 2.0;
  } else if (strcmp(name, "square_field_stop") == 0) {
    if (!clear) half_x = half_y = pp_param_or_zero(spec, "size") / 2.0;
  } else if (strcmp(name, "rectangular_field_stop") == 0) {
    if (!clear) half_x = pp_param_or_zero(spec, "width") / 2.0,
                half_y = pp_param_or_zero(spec, "height") / 2.0;
  }
  if (!isfinite(half_x) || !isfinite(half_y)) {
    extent[0] = extent[1] = INFINITY;
    return;
  }
  double angle_rad = pp_param_or_zero(spec, "rotation") * (PP_PI / 180.0);
  double c = fabs(cos(angle_rad)), s = fabs(sin(angle_rad));
  if (!disk && angle_rad != 0.0) {
    double x = c * half_x + s * half_y, y = s * half_x + c * half_y;
    half_x = x;
    half_y = y;
  }
  extent[0] = half_y + fabs(pp_param_or_zero(spec, "shift_y"));
  extent[1] = half_x + fabs(pp_param_or_zero(spec, "shift_x"));
}

/* Index of the first optic after the leading pupil optics (an image-plane optic or an
 * aligner), or n_optics. */
static size_t pp_job_first_plane_optic(const pp_job *job) {
  size_t j = 0;
  while (j < job->n_optics && !pp_optic_is_image_plane(&job->optics[j]) &&
         !pp_optic_needs_fft_padding(&job->optics[j]))
    j++;
  return j;
}

/* The mask's extent for method: the union of the image optics' clear-outside boxes
 * (SEMI_ANALYTIC), or the intersection of their opaque-outside boxes (MATRIX_FT). */
static void pp_job_mask_extent(const pp_job *job, pp_coronagraph_method method, double extent[2]) {
  bool semi = method == PP_CORONAGRAPH_SEMI_ANALYTIC;
  extent[0] = extent[1] = semi ? 0.0 : INFINITY;
  for (size_t j = pp_job_first_plane_optic(job); j < job->n_optics; j++) {
    if (!pp_optic_is_image_plane(&job->optics[j])) continue;
    double one[2];
    pp_mask_extent(&job->optics[j], semi, one);
    for (int a = 0; a < 2; a++) extent[a] = semi ? fmax(extent[a], one[a]) : fmin(extent[a], one[a]);
  }
}

/* The box's largest pixel scale over the job's wavelengths (arcsec): the detector's pixel
 * scale / oversample (semi_analytic), λ/(2·oversample·D₁) (matrix_ft, D₁ the first optic's
 * pupil diameter; 0 when it has none, and then no margin is added). */
static double pp_job_box_scale(const pp_job *job, pp_coronagraph_method method) {
  double oversample = (double)pp_job_coronagraph_oversample(job, method);
  if (method == PP_CORONAGRAPH_SEMI_ANALYTIC) return job->detector.pixelscale_arcsec / oversample;
  double d1 = job->n_optics > 0 ? pp_optic_pupil_diameter_m(&job->optics[0]) : 0.0, longest = 0.0;
  for (size_t l = 0; l < job->n_wavelengths; l++) longest = fmax(longest, job->wavelengths_m[l]);
  return d1 > 0.0 ? longest / d1 * (180.0 * 3600.0 / PP_PI) / oversample / 2.0 : 0.0;
}

void pp_job_coronagraph_box(const pp_job *job, pp_coronagraph_method method, double box[2]) {
  if (job->occulter_box_arcsec[0] > 0.0) {
    box[0] = job->occulter_box_arcsec[0];
    box[1] = job->occulter_box_arcsec[1];
    return;
  }
  /* the mask's extent and two box pixels: its gray edge pixels reach one pixel beyond it */
  pp_job_mask_extent(job, method, box);
  double margin = 2.0 * pp_job_box_scale(job, method);
  for (int a = 0; a < 2; a++) box[a] += margin;
}

bool pp_job_coronagraph_exact(const pp_job *job, pp_coronagraph_method method, char *why,
                              size_t why_bytes) {
  char scratch[8];
  if (!why) why = scratch, why_bytes = sizeof scratch;
  why[0] = '\0';
  if (method != PP_CORONAGRAPH_SEMI_ANALYTIC && method != PP_CORONAGRAPH_MATRIX_FT) {
    snprintf(why, why_bytes, "only semi_analytic and matrix_ft are MFT methods");
    return false;
  }
  bool semi = method == PP_CORONAGRAPH_SEMI_ANALYTIC;
  size_t first = pp_job_first_plane_optic(job), image_runs = 0;
  bool in_image = false;
  for (size_t j = first; j < job->n_optics; j++) {
    const pp_optic_spec *spec = &job->optics[j];
    if (pp_optic_needs_fft_padding(spec)) {
      snprintf(why, why_bytes, "optic %zu (%s) is an fqpm_fft_aligner, which only the padded "
               "FFT has (its phase ramp centres the FFT's image plane)", j + 1, spec->name);
      return false;
    }
    bool image = pp_optic_is_image_plane(spec);
    if (image && !in_image) image_runs++;
    in_image = image;
    if (image && strcmp(spec->type->name, "ideal_fqpm") == 0) {
      snprintf(why, why_bytes, "optic %zu (%s) is an ideal_fqpm, whose phase covers the whole "
               "image plane", j + 1, spec->name);
      return false;
    }
  }
  if (image_runs != 1) {
    snprintf(why, why_bytes, "the method takes one focal-plane mask (one run of image-plane "
             "optics) followed by pupil optics; this job has %zu runs", image_runs);
    return false;
  }
  if (job->planes_requested) {
    snprintf(why, why_bytes, "intermediate planes (output.planes) are written by the fft "
             "method only");
    return false;
  }
  double extent[2], box[2];
  pp_job_mask_extent(job, method, extent);
  if (!isfinite(extent[0]) || !isfinite(extent[1])) {
    snprintf(why, why_bytes, semi ? "the mask is not clear outside a bounded region (the "
             "semi-analytic method propagates 1 − mask: it needs circular_occulter, "
             "bar_occulter or annular_field_stop without an outer edge)"
             : "the mask is not opaque outside a bounded region (the matrix_ft method samples "
             "the mask only inside its box: it needs an annular, square or rectangular field "
             "stop with an outer edge)");
    return false;
  }
  if (extent[0] <= 0.0 || extent[1] <= 0.0) {
    snprintf(why, why_bytes, "the mask has no extent to sample");
    return false;
  }
  pp_job_coronagraph_box(job, method, box);
  /* nominal edges: a relative 1e-12 lets a box given as the mask's own size pass */
  for (int a = 0; a < 2; a++)
    if (extent[a] > box[a] * (1.0 + 1e-12)) {
      snprintf(why, why_bytes, "the mask reaches %.6g arcsec along %s, beyond occulter_box's "
               "half size %.6g arcsec", extent[a], a == 0 ? "y" : "x", box[a]);
      return false;
    }
  return true;
}

pp_status pp_job_read_coronagraph(pp_yaml_doc *doc, const yaml_node_t *section, pp_job *job) {
  job->coronagraph = PP_CORONAGRAPH_AUTO;
  if (!section) return PP_SUCCESS;
  yaml_node_t *method_node = pp_yaml_mapping_get(doc, section, "coronagraph", NULL);
  yaml_node_t *node;
  if (method_node) {
    int method;
    PP_CALL(pp_yaml_read_choice(doc, method_node, "propagation.coronagraph", pp_coronagraph_words,
                                &method));
    job->coronagraph = (pp_coronagraph_method)method;
    job->coronagraph_line = (int)method_node->start_mark.line + 1;
    job->coronagraph_column = (int)method_node->start_mark.column + 1;
  }
  if ((node = pp_yaml_mapping_get(doc, section, "fft_engine", NULL))) {
    int engine;
    PP_CALL(pp_yaml_read_choice(doc, node, "propagation.fft_engine", pp_fft_engine_words, &engine));
    job->fft_engine = (pp_fft_engine)engine;
  }
  if ((node = pp_yaml_mapping_get(doc, section, "coronagraph_oversample", NULL))) {
    long long oversample;
    PP_CALL(pp_yaml_read_integer(doc, node, "propagation.coronagraph_oversample", 1,
                                 PP_MAX_BOX_OVERSAMPLE, &oversample));
    job->coronagraph_oversample = (int)oversample;
  }
  if ((node = pp_yaml_mapping_get(doc, section, "occulter_box", NULL))) {
    const char *path = "propagation.occulter_box";
    yaml_node_t *values[2] = {node, node};
    if (node->type == YAML_SEQUENCE_NODE) {
      if (pp_yaml_sequence_length(node) != 2)
        return PP_YAML_ERROR(doc, node, path, "expects one half size in arcsec or two as "
                             "[y, x], got a list of %zu", pp_yaml_sequence_length(node));
      values[0] = pp_yaml_sequence_item(doc, node, 0);
      values[1] = pp_yaml_sequence_item(doc, node, 1);
    }
    for (int a = 0; a < 2; a++) {
      PP_CALL(pp_yaml_read_number(doc, values[a], path, "arcsec", &job->occulter_box_arcsec[a]));
      PP_CALL(pp_yaml_check_range(doc, values[a], path, job->occulter_box_arcsec[a], 0.0, true,
                                  INFINITY, false, "arcsec"));
    }
  }
  if (method_node && (job->coronagraph == PP_CORONAGRAPH_SEMI_ANALYTIC ||
                      job->coronagraph == PP_CORONAGRAPH_MATRIX_FT)) {
    char why[512];
    if (!pp_job_coronagraph_exact(job, job->coronagraph, why, sizeof why))
      return PP_YAML_ERROR(doc, method_node, "propagation.coronagraph",
                           "%s is not exact for this job: %s; use fft or auto",
                           pp_coronagraph_words[job->coronagraph], why);
  }
  return PP_SUCCESS;
}
