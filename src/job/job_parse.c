/* The job-file schema: which keys each section takes, their kinds, ranges and defaults,
 * and how the detector forms become the numbers of a pp_job; the wavelengths and optics
 * sections are in job_wavelengths.c and job_optics.c. docs/job-file.md is the user's side
 * of these files; change them together. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults (see docs/job-file.md for why each one). */
#define PP_JOB_DEFAULT_NPIX 1024          /* POPPY's OpticalSystem(npix=1024) */
#define PP_JOB_DEFAULT_FFT_OVERSAMPLE 2   /* POPPY's OpticalSystem(oversample=2) */
#define PP_JOB_DEFAULT_OUTPUT_PATH "psf.h5"

static const char *const pp_job_top_keys[] = {"pupil",    "wavelengths", "source", "optics",
                                              "detector", "propagation", "output", "field",
                                              NULL};
static const char *const pp_job_pupil_keys[] = {"npix", "diameter", NULL};
static const char *const pp_job_source_keys[] = {"offset_r", "offset_theta", "offset_x",
                                                 "offset_y", NULL};
/* pixelscale_m and distance are a Fresnel detector's: listed so that the refusal says why. */
static const char *const pp_job_detector_keys[] = {"pixelscale", "fov_pixels", "fov_arcsec",
                                                   "oversample", "pixelscale_m", "distance",
                                                   "jitter_sigma", "charge_diffusion_sigma",
                                                   "ipc_kernel", NULL};
static const char *const pp_job_propagation_keys[] = {
    "mode", "beam_ratio", "method", "fft_oversample", "normalize", "fft_rigor",
    "threads_per_rank", "coronagraph", "coronagraph_oversample", "occulter_box", "fft_engine",
    NULL};
static const char *const pp_job_output_keys[] = {"path", "cube", "planes", "plane_quantity",
                                                 "keep_unconvolved", NULL};
/* In pp_plane_quantity's order. */
static const char *const pp_job_plane_quantity_words[] = {"intensity", "complex",
                                                          "amplitude_phase", NULL};
/* In pp_method's order. PP_METHOD_FFT names the padded FFT planes around image-plane optics
 * (in /provenance/tasks), never the pupil → detector transform, so it is no word here. */
static const char *const pp_job_method_words[] = {"auto", "mft", "czt", NULL};
static const char *const pp_job_normalize_words[] = {"first", "none", NULL};
/* In pp_fft_rigor's order (estimate = 0). */
static const char *const pp_job_fft_rigor_words[] = {"estimate", "measure", "patient", NULL};


/* ---- pupil ---------------------------------------------------------------------------- */

static pp_status pp_job_read_pupil(pp_yaml_doc *doc, const yaml_node_t *pupil, pp_job *job) {
  job->pupil_npix = PP_JOB_DEFAULT_NPIX;
  if (!pupil) return PP_SUCCESS;
  PP_CALL(pp_yaml_check_mapping(doc, pupil, "pupil", pp_job_pupil_keys,
                                "a mapping such as {npix: 1024}"));
  yaml_node_t *npix_node = pp_yaml_mapping_get(doc, pupil, "npix", NULL);
  if (!npix_node) return PP_SUCCESS;
  double npix;
  /* No upper bound here, so that the limit below can explain itself. */
  PP_CALL(pp_yaml_read_number(doc, npix_node, "pupil.npix", "pixels", &npix));
  if (npix != floor(npix))
    return PP_YAML_ERROR(doc, npix_node, "pupil.npix", "expects a whole number, got %.10g", npix);
  PP_CALL(pp_yaml_check_range(doc, npix_node, "pupil.npix", npix, 2.0, false, INFINITY, false,
                              "pixels"));
  if (npix > PP_JOB_MAX_NPIX) {
    double plane_gib = npix * npix * 16.0 / (1024.0 * 1024.0 * 1024.0);
    return PP_YAML_ERROR(doc, npix_node, "pupil.npix",
                         "%.0f is larger than the limit %d: one complex pupil plane of %.0f x "
                         "%.0f pixels takes %.3g GiB (16 bytes a pixel) before any FFT padding; "
                         "use npix <= %d (the MFT needs far fewer pupil pixels than an FFT for "
                         "the same detector sampling)",
                         npix, PP_JOB_MAX_NPIX, npix, npix, plane_gib, PP_JOB_MAX_NPIX);
  }
  job->pupil_npix = (size_t)npix;
  return PP_SUCCESS;
}

/* ---- source ------------------------------------------------------------------------------- */

/* Whichever of two keys (either may be NULL) comes first in the file. */
static yaml_node_t *pp_job_earlier_key(yaml_node_t *a, yaml_node_t *b) {
  if (!a || !b) return a ? a : b;
  return b->start_mark.index < a->start_mark.index ? b : a;
}

/* {offset_r: arcsec, offset_theta: deg} (POPPY's source_offset_r/_theta) or
 * {offset_x: arcsec, offset_y: arcsec}. POPPY's OpticalSystem.input_wavefront turns the
 * first into the second with theta counter-clockwise from +Y:
 *   offset_x = −r·sin(θ),  offset_y = r·cos(θ),
 * so θ = 0 moves the PSF to +y and θ = 90 to −x; same expression, same bits. */
static pp_status pp_job_read_source(pp_yaml_doc *doc, const yaml_node_t *section,
                                    const yaml_node_t *section_key, pp_job *job) {
  job->source = (pp_source_spec){.offset_x_arcsec = 0.0, .offset_y_arcsec = 0.0};
  if (!section) return PP_SUCCESS;
  job->source.line = (int)section_key->start_mark.line + 1;
  job->source.column = (int)section_key->start_mark.column + 1;
  PP_CALL(pp_yaml_check_mapping(doc, section, "source", pp_job_source_keys,
                                "a mapping such as {offset_r: 0.5, offset_theta: 45} or "
                                "{offset_x: 0.3, offset_y: -0.1} (arcsec, degrees)"));
  yaml_node_t *keys[4] = {NULL}, *values[4] = {NULL};
  for (size_t i = 0; i < 4; i++)
    values[i] = pp_yaml_mapping_get(doc, section, pp_job_source_keys[i], &keys[i]);
  enum { R, THETA, X, Y };
  yaml_node_t *first_polar = pp_job_earlier_key(keys[R], keys[THETA]);
  yaml_node_t *first_cartesian = pp_job_earlier_key(keys[X], keys[Y]);
  if (first_polar && first_cartesian) {
    /* at the first key of whichever form comes second in the file */
    yaml_node_t *later =
        pp_job_earlier_key(first_polar, first_cartesian) == first_polar ? first_cartesian
                                                                        : first_polar;
    char path[PP_JOB_PATH_BYTES];
    pp_yaml_path(path, sizeof path, "source", (const char *)later->data.scalar.value);
    return PP_YAML_ERROR(doc, later, path,
                         "give the offset either as offset_r and offset_theta (POPPY's form) "
                         "or as offset_x and offset_y, not both");
  }
  if (values[THETA] && !values[R])
    return PP_YAML_ERROR(doc, keys[THETA], "source.offset_theta",
                         "needs offset_r, the distance from the axis (arcsec)");
  if (values[R]) {
    double r_arcsec, theta_deg = 0.0; /* POPPY's default: towards +Y */
    PP_CALL(pp_yaml_read_number(doc, values[R], "source.offset_r", "arcsec", &r_arcsec));
    PP_CALL(pp_yaml_check_range(doc, values[R], "source.offset_r", r_arcsec, 0.0, false,
                                INFINITY, false, "arcsec"));
    if (values[THETA])
      PP_CALL(pp_yaml_read_number(doc, values[THETA], "source.offset_theta", "deg", &theta_deg));
    /* POPPY only tilts when |r| > 0: r = 0 is on-axis whatever theta says. */
    if (r_arcsec > 0.0) {
      double angle_rad = theta_deg * PP_PI / 180.0;
      job->source.offset_x_arcsec = r_arcsec * -sin(angle_rad);
      job->source.offset_y_arcsec = r_arcsec * cos(angle_rad);
    }
  }
  if (values[X])
    PP_CALL(pp_yaml_read_number(doc, values[X], "source.offset_x", "arcsec",
                                &job->source.offset_x_arcsec));
  if (values[Y])
    PP_CALL(pp_yaml_read_number(doc, values[Y], "source.offset_y", "arcsec",
                                &job->source.offset_y_arcsec));
  return PP_SUCCESS;
}

/* ---- propagation --------------------------------------------------------------------------- */

static pp_status pp_job_read_propagation(pp_yaml_doc *doc, const yaml_node_t *section,
                                         pp_job *job) {
  job->method = PP_METHOD_AUTO;
  job->fft_oversample = PP_JOB_DEFAULT_FFT_OVERSAMPLE;
  job->normalize = PP_NORMALIZE_FIRST;
  job->fft_rigor = PP_FFT_ESTIMATE; /* reproducible without wisdom (docs/propagation.md) */
  if (!section) return PP_SUCCESS;
  PP_CALL(pp_yaml_check_mapping(doc, section, "propagation", pp_job_propagation_keys,
                                "a mapping such as {method: auto, fft_oversample: 2}"));
  yaml_node_t *node;
  if ((node = pp_yaml_mapping_get(doc, section, "method", NULL))) {
    int method;
    if (node->type == YAML_SCALAR_NODE &&
        strcmp((const char *)node->data.scalar.value, "fft") == 0)
      return PP_YAML_ERROR(doc, node, "propagation.method",
                           "expects one of: auto, mft, czt; got 'fft', which is not a way to "
                           "reach the detector (padded FFT planes, sized by fft_oversample, are "
                           "used by themselves around image-plane optics such as ideal_fqpm)");
    PP_CALL(pp_yaml_read_choice(doc, node, "propagation.method", pp_job_method_words, &method));
    job->method = (pp_method)method;
  }
  if ((node = pp_yaml_mapping_get(doc, section, "fft_oversample", NULL))) {
    long long oversample;
    PP_CALL(pp_yaml_read_integer(doc, node, "propagation.fft_oversample", 1,
                                 PP_JOB_MAX_FFT_OVERSAMPLE, &oversample));
    job->fft_oversample = (int)oversample;
  }
  if ((node = pp_yaml_mapping_get(doc, section, "normalize", NULL))) {
    int normalize;
    PP_CALL(pp_yaml_read_choice(doc, node, "propagation.normalize", pp_job_normalize_words,
                                &normalize));
    job->normalize = (pp_normalize)normalize;
  }
  if ((node = pp_yaml_mapping_get(doc, section, "fft_rigor", NULL))) {
    int rigor;
    PP_CALL(pp_yaml_read_choice(doc, node, "propagation.fft_rigor", pp_job_fft_rigor_words,
                                &rigor));
    job->fft_rigor = (pp_fft_rigor)rigor;
  }
  if ((node = pp_yaml_mapping_get(doc, section, "threads_per_rank", NULL))) {
    long long threads;
    PP_CALL(pp_yaml_read_integer(doc, node, "propagation.threads_per_rank", 1,
                                 PP_MAX_THREADS_PER_RANK, &threads));
    job->threads_per_rank = (int)threads;
  }
  return PP_SUCCESS;
}

/* ---- detector ------------------------------------------------------------------------------ */

/* A field of view as one value (square) or [ny, nx]; *ny, *nx get the value nodes. */
static pp_status pp_job_read_fov_pair(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                      const char *what, yaml_node_t **ny_node,
                                      yaml_node_t **nx_node) {
  if (node->type == YAML_SEQUENCE_NODE) {
    size_t n = pp_yaml_sequence_length(node);
    if (n != 2)
      return PP_YAML_ERROR(doc, node, path,
                           "expects %s: one value for a square field or two as [ny, nx], got a "
                           "list of %zu",
                           what, n);
    *ny_node = pp_yaml_sequence_item(doc, node, 0);
    *nx_node = pp_yaml_sequence_item(doc, node, 1);
    return PP_SUCCESS;
  }
  if (node->type != YAML_SCALAR_NODE) {
    char got[96];
    pp_yaml_describe(node, got, sizeof got);
    return PP_YAML_ERROR(doc, node, path,
                         "expects %s: one value for a square field or two as [ny, nx], got %s",
                         what, got);
  }
  *ny_node = *nx_node = (yaml_node_t *)node;
  return PP_SUCCESS;
}

static pp_status pp_job_read_fov_pixels(pp_yaml_doc *doc, const yaml_node_t *node, pp_job *job) {
  yaml_node_t *axis[2];
  PP_CALL(pp_job_read_fov_pair(doc, node, "detector.fov_pixels", "a whole number of pixels",
                               &axis[0], &axis[1]));
  size_t pixels[2];
  for (int a = 0; a < 2; a++) {
    char path[PP_JOB_PATH_BYTES];
    if (axis[0] == axis[1]) snprintf(path, sizeof path, "detector.fov_pixels");
    else pp_yaml_path_index(path, sizeof path, "detector.fov_pixels", (size_t)a);
    long long value;
    PP_CALL(pp_yaml_read_integer(doc, axis[a], path, 1, PP_JOB_MAX_DETECTOR_PIXELS, &value));
    pixels[a] = (size_t)value;
  }
  job->detector.fov_pixels_y = pixels[0];
  job->detector.fov_pixels_x = pixels[1];
  return PP_SUCCESS;
}

/* Like POPPY's Detector: fov_pixels = round(fov_arcsec / pixelscale), numpy's round, which
 * takes halves to the even neighbour (rint in the default rounding mode does the same). */
static pp_status pp_job_read_fov_arcsec(pp_yaml_doc *doc, const yaml_node_t *node, pp_job *job) {
  yaml_node_t *axis[2];
  PP_CALL(pp_job_read_fov_pair(doc, node, "detector.fov_arcsec", "a field of view in arcsec",
                               &axis[0], &axis[1]));
  double pixelscale_arcsec = job->detector.pixelscale_arcsec;
  size_t pixels[2];
  for (int a = 0; a < 2; a++) {
    char path[PP_JOB_PATH_BYTES];
    if (axis[0] == axis[1]) snprintf(path, sizeof path, "detector.fov_arcsec");
    else pp_yaml_path_index(path, sizeof path, "detector.fov_arcsec", (size_t)a);
    double fov_arcsec;
    PP_CALL(pp_yaml_read_number(doc, axis[a], path, "arcsec", &fov_arcsec));
    PP_CALL(pp_yaml_check_range(doc, axis[a], path, fov_arcsec, 0.0, true, INFINITY, false,
                                "arcsec"));
    double rounded = rint(fov_arcsec / pixelscale_arcsec);
    if (rounded < 1.0)
      return PP_YAML_ERROR(doc, axis[a], path,
                           "%.10g arcsec is less than half a detector pixel (pixelscale %.10g "
                           "arcsec) and rounds to 0 pixels; give at least one pixel's width",
                           fov_arcsec, pixelscale_arcsec);
    if (rounded > (double)PP_JOB_MAX_DETECTOR_PIXELS)
      return PP_YAML_ERROR(doc, axis[a], path,
                           "%.10g arcsec is %.0f detector pixels of %.10g arcsec, more than the "
                           "limit %d per axis",
                           fov_arcsec, rounded, pixelscale_arcsec, PP_JOB_MAX_DETECTOR_PIXELS);
    pixels[a] = (size_t)rounded;
  }
  job->detector.fov_pixels_y = pixels[0];
  job->detector.fov_pixels_x = pixels[1];
  return PP_SUCCESS;
}

static pp_status pp_job_read_detector(pp_yaml_doc *doc, const yaml_node_t *section,
                                      const yaml_node_t *section_key, pp_job *job) {
  PP_CALL(pp_job_refuse_fresnel_detector_keys(doc, section));
  PP_CALL(pp_yaml_check_mapping(doc, section, "detector", pp_job_detector_keys,
                                "a mapping such as {pixelscale: 0.0311, fov_pixels: 101, "
                                "oversample: 4}"));
  yaml_node_t *pixelscale_node = pp_yaml_mapping_get(doc, section, "pixelscale", NULL);
  yaml_node_t *fov_pixels_key = NULL, *fov_arcsec_key = NULL;
  yaml_node_t *fov_pixels_node = pp_yaml_mapping_get(doc, section, "fov_pixels", &fov_pixels_key);
  yaml_node_t *fov_arcsec_node = pp_yaml_mapping_get(doc, section, "fov_arcsec", &fov_arcsec_key);
  yaml_node_t *oversample_node = pp_yaml_mapping_get(doc, section, "oversample", NULL);

  if (!pixelscale_node)
    return pp_job_missing(doc, section_key, "detector.pixelscale", "pixelscale",
                          "the detector pixel size in arcsec (> 0)");
  PP_CALL(pp_yaml_read_number(doc, pixelscale_node, "detector.pixelscale", "arcsec",
                              &job->detector.pixelscale_arcsec));
  PP_CALL(pp_yaml_check_range(doc, pixelscale_node, "detector.pixelscale",
                              job->detector.pixelscale_arcsec, 0.0, true, INFINITY, false,
                              "arcsec"));

  if (fov_pixels_node && fov_arcsec_node) {
    /* Report at whichever of the two comes second in the file. */
    bool arcsec_later = fov_arcsec_key->start_mark.index > fov_pixels_key->start_mark.index;
    yaml_node_t *later = arcsec_later ? fov_arcsec_key : fov_pixels_key;
    return PP_YAML_ERROR(doc, later,
                         arcsec_later ? "detector.fov_arcsec" : "detector.fov_pixels",
                         "give the field of view either as fov_pixels or as fov_arcsec, not both");
  }
  if (!fov_pixels_node && !fov_arcsec_node)
    return pp_job_missing(doc, section_key, "detector.fov_pixels", "fov_pixels",
                          "the field of view, as fov_pixels (detector pixels, or [ny, nx]) or "
                          "as fov_arcsec (arcsec, or [ny, nx])");
  if (fov_pixels_node) PP_CALL(pp_job_read_fov_pixels(doc, fov_pixels_node, job));
  else PP_CALL(pp_job_read_fov_arcsec(doc, fov_arcsec_node, job));

  /* POPPY's OpticalSystem.add_detector takes the system's oversample when none is given;
   * here that is propagation.fft_oversample. */
  job->detector.oversample = job->fft_oversample;
  if (oversample_node) {
    long long oversample;
    PP_CALL(pp_yaml_read_integer(doc, oversample_node, "detector.oversample", 1,
                                 PP_JOB_MAX_OVERSAMPLE, &oversample));
    job->detector.oversample = (int)oversample;
  }
  size_t largest = job->detector.fov_pixels_y > job->detector.fov_pixels_x
                       ? job->detector.fov_pixels_y : job->detector.fov_pixels_x;
  if ((double)largest * job->detector.oversample > (double)PP_JOB_MAX_DETECTOR_PIXELS) {
    const yaml_node_t *where = oversample_node ? oversample_node
                               : fov_pixels_node ? fov_pixels_node : fov_arcsec_node;
    return PP_YAML_ERROR(doc, where, oversample_node ? "detector.oversample" : "detector",
                         "%zu detector pixels x oversample %d = %.0f computed pixels per axis, "
                         "more than the limit %d; lower fov or oversample",
                         largest, job->detector.oversample,
                         (double)largest * job->detector.oversample, PP_JOB_MAX_DETECTOR_PIXELS);
  }
  return pp_job_read_detector_effects(doc, section, job);
}

/* ---- output ----------------------------------------------------------------------------------- */

/* The optics' names for a message: "0 pupil, 1 fqpm, …, 3 detector". */
static void pp_job_list_planes(const pp_job *job, char *out, size_t out_bytes) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t k = 0; k <= job->n_optics && used < out_bytes; k++) {
    const char *name = k < job->n_optics ? job->optics[k].name : "detector";
    int n = snprintf(out + used, out_bytes - used, "%s%zu %s", k ? ", " : "", k, name);
    if (n < 0) break;
    used += (size_t)n;
  }
}

/* One item of output.planes: an optic's index (0 … n_optics, n_optics being the detector)
 * or its name (the `name:` label, else the type), or `detector`. */
static pp_status pp_job_read_plane_item(pp_yaml_doc *doc, const yaml_node_t *item,
                                        const char *path, pp_job *job) {
  char planes[1024];
  pp_job_list_planes(job, planes, sizeof planes);
  if (!item || item->type != YAML_SCALAR_NODE || pp_yaml_is_null(item)) {
    char got[96];
    pp_yaml_describe(item, got, sizeof got);
    return PP_YAML_ERROR(doc, item, path, "expects an optic's index or name, got %s; the planes "
                         "are: %s", got, planes);
  }
  const char *text = (const char *)item->data.scalar.value;
  if (item->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && pp_text_is_decimal_number(text)) {
    long long index = 0;
    /* any whole number, so that the message below can list the planes */
    PP_CALL(pp_yaml_read_integer(doc, item, path, -(1LL << 53), 1LL << 53, &index));
    if (index < 0 || (unsigned long long)index > job->n_optics)
      return PP_YAML_ERROR(doc, item, path, "plane %lld does not exist: the last is %zu, the "
                           "detector; the planes are: %s", index, job->n_optics, planes);
    job->planes_requested[index] = true;
    return PP_SUCCESS;
  }
  size_t found = SIZE_MAX, matches = 0;
  for (size_t k = 0; k < job->n_optics; k++)
    if (strcmp(job->optics[k].name, text) == 0) {
      if (found == SIZE_MAX) found = k;
      matches++;
    }
  if (matches == 0 && strcmp(text, "detector") == 0) {
    found = job->n_optics;
    matches = 1;
  }
  if (matches == 0)
    return PP_YAML_ERROR(doc, item, path, "no optic is named '%s'; the planes are: %s%s", text,
                         planes,
                         strcmp(text, "all") == 0 ? " (for every plane write `planes: all`, "
                                                    "without brackets)" : "");
  if (matches > 1)
    return PP_YAML_ERROR(doc, item, path, "%zu optics are named '%s': give the index instead, "
                         "or a `name:` to each; the planes are: %s", matches, text, planes);
  job->planes_requested[found] = true;
  return PP_SUCCESS;
}

/* output.planes: `all` or a list of indices and names. */
static pp_status pp_job_read_planes(pp_yaml_doc *doc, const yaml_node_t *node, pp_job *job) {
  static const char expected[] = "`all` or a list of optic indices and names such as [0, lyot, "
                                 "detector]";
  job->planes_requested = calloc(job->n_optics + 1, sizeof *job->planes_requested);
  PP_CHECK(job->planes_requested, PP_ERR_MEMORY, "cannot allocate the plane request");
  if (node->type == YAML_SCALAR_NODE && !pp_yaml_is_null(node) &&
      strcmp((const char *)node->data.scalar.value, "all") == 0) {
    for (size_t k = 0; k <= job->n_optics; k++) job->planes_requested[k] = true;
    return PP_SUCCESS;
  }
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  if (node->type != YAML_SEQUENCE_NODE || pp_yaml_sequence_length(node) == 0)
    return PP_YAML_ERROR(doc, node, "output.planes", "expects %s, got %s", expected,
                         node->type == YAML_SEQUENCE_NODE ? "an empty list" : got);
  for (size_t i = 0; i < pp_yaml_sequence_length(node); i++) {
    char item_path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(item_path, sizeof item_path, "output.planes", i);
    PP_CALL(pp_job_read_plane_item(doc, pp_yaml_sequence_item(doc, node, i), item_path, job));
  }
  return PP_SUCCESS;
}

static pp_status pp_job_read_output(pp_yaml_doc *doc, const yaml_node_t *section, pp_job *job) {
  const char *path = PP_JOB_DEFAULT_OUTPUT_PATH;
  job->output_cube = true;
  if (section) {
    PP_CALL(pp_yaml_check_mapping(doc, section, "output", pp_job_output_keys,
                                  "a mapping such as {path: psf.h5, cube: true}"));
    yaml_node_t *node;
    if ((node = pp_yaml_mapping_get(doc, section, "path", NULL))) {
      PP_CALL(pp_yaml_read_text(doc, node, "output.path", "a file name such as psf.h5", &path));
      if (path[0] == '\0')
        return PP_YAML_ERROR(doc, node, "output.path",
                             "expects a file name such as psf.h5, got an empty text");
    }
    if ((node = pp_yaml_mapping_get(doc, section, "cube", NULL)))
      PP_CALL(pp_yaml_read_bool(doc, node, "output.cube", &job->output_cube));
    if ((node = pp_yaml_mapping_get(doc, section, "planes", NULL)))
      PP_CALL(pp_job_read_planes(doc, node, job));
    yaml_node_t *key = NULL;
    if ((node = pp_yaml_mapping_get(doc, section, "plane_quantity", &key))) {
      /* a quantity alone would silently write nothing */
      if (!job->planes_requested)
        return PP_YAML_ERROR(doc, key, "output.plane_quantity",
                             "is given without output.planes: say which planes to write, "
                             "e.g. planes: all");
      int quantity = 0;
      PP_CALL(pp_yaml_read_choice(doc, node, "output.plane_quantity",
                                  pp_job_plane_quantity_words, &quantity));
      job->plane_quantity = (pp_plane_quantity)quantity;
    }
    if ((node = pp_yaml_mapping_get(doc, section, "keep_unconvolved", &key))) {
      PP_CALL(pp_yaml_read_bool(doc, node, "output.keep_unconvolved", &job->keep_unconvolved));
      /* without an effect there is nothing to keep apart: say so rather than ignore it */
      if (job->keep_unconvolved && !pp_detector_has_effects(&job->detector))
        return PP_YAML_ERROR(doc, key, "output.keep_unconvolved",
                             "is true but the detector applies no effect (jitter_sigma, "
                             "charge_diffusion_sigma or ipc_kernel)");
    }
  }
  job->output_path = strdup(path);
  PP_CHECK(job->output_path, PP_ERR_MEMORY, "cannot copy the output path");
  return PP_SUCCESS;
}

/* ---- the whole file ------------------------------------------------------------------------- */

pp_status pp_job_fill(pp_yaml_doc *doc, pp_job *job) {
  yaml_node_t *root = pp_yaml_doc_root(doc);
  PP_CALL(pp_yaml_check_mapping(doc, root, "", pp_job_top_keys,
                                "a mapping of sections (pupil, wavelengths, source, optics, "
                                "detector, propagation, output, field)"));
  enum { PUPIL, WAVELENGTHS, SOURCE, OPTICS, DETECTOR, PROPAGATION, OUTPUT, FIELD, N_SECTIONS };
  yaml_node_t *key[N_SECTIONS] = {NULL};
  yaml_node_t *value[N_SECTIONS] = {NULL};
  for (size_t i = 0; i < N_SECTIONS; i++)
    value[i] = pp_yaml_mapping_get(doc, root, pp_job_top_keys[i], &key[i]);

  static const char *const what_required[N_SECTIONS] = {
      [WAVELENGTHS] = "{min, max, count}, {list: [...], weights: [...]}, {min, max, count, "
                      "blackbody} or {file: spectrum}, in metres",
      [OPTICS] = "a list of optics, each item like '- circular_aperture: {radius: 3.25}'",
      [DETECTOR] = "{pixelscale: arcsec, fov_pixels or fov_arcsec, oversample}",
  };
  /* The mode first: the pupil, optics and detector sections read differently in Fresnel
   * mode, where the detector is optional (without it, the whole wavefront is the result). */
  PP_CALL(pp_job_read_mode(doc, value[PROPAGATION], job));
  bool fresnel = job->mode == PP_PROPAGATION_FRESNEL;
  static const int required[] = {WAVELENGTHS, OPTICS, DETECTOR};
  size_t n_required = sizeof required / sizeof required[0] - (fresnel ? 1 : 0);
  for (size_t i = 0; i < n_required; i++)
    if (!value[required[i]])
      return pp_job_missing(doc, root, pp_job_top_keys[required[i]],
                            pp_job_top_keys[required[i]], what_required[required[i]]);

  PP_CALL(pp_job_read_pupil(doc, value[PUPIL], job));
  PP_CALL(pp_job_read_pupil_diameter(doc, value[PUPIL], key[PUPIL], job));
  PP_CALL(pp_job_read_wavelengths(doc, value[WAVELENGTHS], key[WAVELENGTHS], job));
  PP_CALL(pp_job_read_source(doc, value[SOURCE], key[SOURCE], job));
  PP_CALL(pp_job_read_optics(doc, value[OPTICS], key[OPTICS], job));
  /* propagation before detector: detector.oversample defaults to fft_oversample. */
  PP_CALL(pp_job_read_propagation(doc, value[PROPAGATION], job));
  PP_CALL(pp_job_read_beam_ratio(doc, value[PROPAGATION], job));
  if (fresnel) PP_CALL(pp_job_read_fresnel_detector(doc, value[DETECTOR], key[DETECTOR], job));
  else PP_CALL(pp_job_read_detector(doc, value[DETECTOR], key[DETECTOR], job));
  PP_CALL(pp_job_read_output(doc, value[OUTPUT], job));
  PP_CALL(pp_job_read_field(doc, value[FIELD], key[FIELD], value[OPTICS], job));
  /* last: its exactness check looks at the optics, the detector and output.planes */
  PP_CALL(pp_job_read_coronagraph(doc, value[PROPAGATION], job));
  return PP_SUCCESS;
}
