/* The job-file schema: which keys each section takes, their kinds, ranges and defaults,
 * and how the wavelength and detector forms become the numbers of a pp_job.
 * docs/job-file.md is the user's side of this file; change both together. */
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
                                              "detector", "propagation", "output", NULL};
static const char *const pp_job_pupil_keys[] = {"npix", NULL};
static const char *const pp_job_wavelength_keys[] = {"min",  "max",   "count",     "list",
                                                     "weights", "file", "units", "blackbody",
                                                     NULL};
static const char *const pp_job_wavelength_unit_words[] = {"m", "um", "nm", NULL};
static const int pp_job_wavelength_unit_exponents[] = {0, -6, -9};
static const char *const pp_job_source_keys[] = {"offset_r", "offset_theta", "offset_x",
                                                 "offset_y", NULL};
static const char *const pp_job_detector_keys[] = {"pixelscale", "fov_pixels", "fov_arcsec",
                                                   "oversample", NULL};
static const char *const pp_job_propagation_keys[] = {"method", "fft_oversample", "normalize",
                                                      "fft_rigor", "threads_per_rank", NULL};
static const char *const pp_job_output_keys[] = {"path", "cube", "planes", "plane_quantity",
                                                 NULL};
/* In pp_plane_quantity's order. */
static const char *const pp_job_plane_quantity_words[] = {"intensity", "complex",
                                                          "amplitude_phase", NULL};
static const char *const pp_job_method_words[] = {"auto", "mft", "czt", "fft", NULL};
static const char *const pp_job_normalize_words[] = {"first", "none", NULL};
/* In pp_fft_rigor's order (estimate = 0). */
static const char *const pp_job_fft_rigor_words[] = {"estimate", "measure", "patient", NULL};

/* Where a missing key is reported: at its section's key when the section exists,
 * else at the start of the document. */
static pp_status pp_job_missing(pp_yaml_doc *doc, const yaml_node_t *where, const char *path,
                                const char *key, const char *what) {
  return PP_YAML_ERROR(doc, where, path, "missing required key '%s': %s", key, what);
}

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

/* ---- wavelengths ------------------------------------------------------------------------ */

static pp_status pp_job_check_wavelength(pp_yaml_doc *doc, const yaml_node_t *node,
                                         const char *path, double wavelength_m) {
  if (wavelength_m >= PP_JOB_MIN_WAVELENGTH_M && wavelength_m <= PP_JOB_MAX_WAVELENGTH_M)
    return PP_SUCCESS;
  return PP_YAML_ERROR(doc, node, path,
                       "must be from %g to %g m (10 nm to 1 mm), got %.10g m; wavelengths are "
                       "in metres: 1 micron is 1.0e-6",
                       PP_JOB_MIN_WAVELENGTH_M, PP_JOB_MAX_WAVELENGTH_M, wavelength_m);
}

/* min, max and count of the range and blackbody forms, checked. With edges (blackbody),
 * min and max are the band's edges and max > min is required even for one bin; otherwise
 * they are the first and last wavelength and count 1 takes max = min. */
static pp_status pp_job_read_band(pp_yaml_doc *doc, const yaml_node_t *section,
                                  const yaml_node_t *section_key, bool edges, double *min_m,
                                  double *max_m, size_t *count) {
  yaml_node_t *min_node = pp_yaml_mapping_get(doc, section, "min", NULL);
  yaml_node_t *max_node = pp_yaml_mapping_get(doc, section, "max", NULL);
  yaml_node_t *count_node = pp_yaml_mapping_get(doc, section, "count", NULL);
  if (!min_node)
    return pp_job_missing(doc, section_key, "wavelengths.min", "min",
                          edges ? "the short edge of the band (metres) of {min, max, count, "
                                  "blackbody}"
                                : "the shortest wavelength (metres) of {min, max, count}");
  if (!count_node)
    return pp_job_missing(doc, section_key, "wavelengths.count", "count",
                          edges ? "how many equal bins between min and max, of {min, max, "
                                  "count, blackbody}"
                                : "how many wavelengths from min to max, of {min, max, count}");
  long long whole_count;
  PP_CALL(pp_yaml_read_number(doc, min_node, "wavelengths.min", "m", min_m));
  PP_CALL(pp_job_check_wavelength(doc, min_node, "wavelengths.min", *min_m));
  PP_CALL(pp_yaml_read_integer(doc, count_node, "wavelengths.count", 1, PP_JOB_MAX_WAVELENGTHS,
                               &whole_count));
  if (max_node) {
    PP_CALL(pp_yaml_read_number(doc, max_node, "wavelengths.max", "m", max_m));
    PP_CALL(pp_job_check_wavelength(doc, max_node, "wavelengths.max", *max_m));
  } else {
    /* A single wavelength needs no max; two or more, or a band, need its end. */
    if (whole_count > 1 || edges)
      return pp_job_missing(doc, section_key, "wavelengths.max", "max",
                            edges ? "the long edge of the band (metres), needed with blackbody"
                                  : "the longest wavelength (metres), needed when count > 1");
    *max_m = *min_m;
  }
  if (edges && !(*max_m > *min_m))
    return PP_YAML_ERROR(doc, max_node, "wavelengths.max",
                         "must be greater than wavelengths.min (%.10g m): with blackbody, min "
                         "and max are the edges of the band; got %.10g m",
                         *min_m, *max_m);
  if (!edges && whole_count == 1 && *max_m != *min_m)
    return PP_YAML_ERROR(doc, max_node, "wavelengths.max",
                         "with count 1 the one wavelength is min, so max must equal min (%.10g) "
                         "or be left out; got %.10g",
                         *min_m, *max_m);
  if (!edges && whole_count > 1 && !(*max_m > *min_m))
    return PP_YAML_ERROR(doc, max_node, "wavelengths.max",
                         "must be greater than wavelengths.min (%.10g m) when count > 1, got "
                         "%.10g m",
                         *min_m, *max_m);
  *count = (size_t)whole_count;
  return PP_SUCCESS;
}

/* {min, max, count}: count values from min to max inclusive, spaced like numpy.linspace
 * (min + i·step, the last one exactly max) so wavelengths match POPPY's bit for bit. */
static pp_status pp_job_read_wavelength_range(pp_yaml_doc *doc, const yaml_node_t *section,
                                              const yaml_node_t *section_key, pp_job *job) {
  double min_m, max_m;
  size_t count;
  PP_CALL(pp_job_read_band(doc, section, section_key, false, &min_m, &max_m, &count));
  job->n_wavelengths = count;
  job->wavelengths_m = malloc(job->n_wavelengths * sizeof *job->wavelengths_m);
  PP_CHECK(job->wavelengths_m, PP_ERR_MEMORY, "cannot allocate %zu wavelengths", count);
  double step_m = count > 1 ? (max_m - min_m) / (double)(count - 1) : 0.0;
  for (size_t i = 0; i < job->n_wavelengths; i++)
    job->wavelengths_m[i] = (double)i * step_m + min_m;
  job->wavelengths_m[job->n_wavelengths - 1] = max_m;
  return PP_SUCCESS;
}

/* {min, max, count, blackbody: T}: count equal bins from min to max, each at its centre,
 * weighted by the blackbody's photons in the bin (blackbody.c says why photons). */
static pp_status pp_job_read_blackbody(pp_yaml_doc *doc, const yaml_node_t *section,
                                       const yaml_node_t *section_key,
                                       const yaml_node_t *temperature_node, pp_job *job) {
  double min_m, max_m, temperature_k;
  size_t count;
  PP_CALL(pp_job_read_band(doc, section, section_key, true, &min_m, &max_m, &count));
  PP_CALL(pp_yaml_read_number(doc, temperature_node, "wavelengths.blackbody", "K",
                              &temperature_k));
  PP_CALL(pp_yaml_check_range(doc, temperature_node, "wavelengths.blackbody", temperature_k,
                              PP_JOB_MIN_BLACKBODY_K, false, PP_JOB_MAX_BLACKBODY_K, false, "K"));
  job->n_wavelengths = count;
  job->wavelengths_m = malloc(count * sizeof *job->wavelengths_m);
  job->weights = malloc(count * sizeof *job->weights);
  PP_CHECK(job->wavelengths_m && job->weights, PP_ERR_MEMORY, "cannot allocate %zu wavelengths",
           count);
  pp_blackbody_photon_bins(temperature_k, min_m, max_m, count, job->wavelengths_m, job->weights);
  double sum = 0.0;
  if (!pp_job_normalize_weights(job->weights, count, job->weights, &sum))
    return PP_YAML_ERROR(doc, temperature_node, "wavelengths.blackbody",
                         "a blackbody of %.10g K emits no photons a double can hold from "
                         "%.10g to %.10g m",
                         temperature_k, min_m, max_m);
  return PP_SUCCESS;
}

static pp_status pp_job_read_wavelength_list(pp_yaml_doc *doc, const yaml_node_t *list_node,
                                             pp_job *job) {
  PP_CALL(pp_yaml_read_number_list(doc, list_node, "wavelengths.list", "m", &job->wavelengths_m,
                                   &job->n_wavelengths));
  if (job->n_wavelengths > PP_JOB_MAX_WAVELENGTHS)
    return PP_YAML_ERROR(doc, list_node, "wavelengths.list",
                         "has %zu wavelengths, more than the limit %d", job->n_wavelengths,
                         PP_JOB_MAX_WAVELENGTHS);
  for (size_t i = 0; i < job->n_wavelengths; i++) {
    char path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(path, sizeof path, "wavelengths.list", i);
    PP_CALL(pp_job_check_wavelength(doc, pp_yaml_sequence_item(doc, list_node, i), path,
                                    job->wavelengths_m[i]));
  }
  return PP_SUCCESS;
}

/* Weights: one per wavelength, each ≥ 0, positive sum; stored normalized to sum 1. */
static pp_status pp_job_read_weights(pp_yaml_doc *doc, const yaml_node_t *weights_node,
                                     pp_job *job) {
  job->weights = malloc(job->n_wavelengths * sizeof *job->weights);
  PP_CHECK(job->weights, PP_ERR_MEMORY, "cannot allocate %zu weights", job->n_wavelengths);
  if (!weights_node) {
    for (size_t i = 0; i < job->n_wavelengths; i++)
      job->weights[i] = 1.0 / (double)job->n_wavelengths;
    return PP_SUCCESS;
  }
  double *raw = NULL;
  size_t n_raw = 0;
  PP_CALL(pp_yaml_read_number_list(doc, weights_node, "wavelengths.weights", "", &raw, &n_raw));
  pp_status status = PP_SUCCESS;
  PP_CHECK_GOTO(status, n_raw == job->n_wavelengths, PP_ERR_INPUT,
                "%s:%zu:%zu: wavelengths.weights: has %zu values but there are %zu "
                "wavelengths; give one weight per wavelength",
                doc->name, weights_node->start_mark.line + 1, weights_node->start_mark.column + 1,
                n_raw, job->n_wavelengths);
  for (size_t i = 0; i < n_raw; i++) {
    if (!(raw[i] >= 0.0)) {
      char path[PP_JOB_PATH_BYTES];
      pp_yaml_path_index(path, sizeof path, "wavelengths.weights", i);
      status = PP_YAML_ERROR(doc, pp_yaml_sequence_item(doc, weights_node, i), path,
                             "must be >= 0, got %.10g; weights are relative amounts of light",
                             raw[i]);
      goto done;
    }
  }
  /* The same function normalizes a spectrum file's weights: equal numbers, equal bits. */
  double sum = 0.0;
  bool normalized = pp_job_normalize_weights(raw, n_raw, job->weights, &sum);
  PP_CHECK_GOTO(status, normalized, PP_ERR_INPUT,
                "%s:%zu:%zu: wavelengths.weights: %s; at least one weight must be positive and "
                "their sum finite",
                doc->name, weights_node->start_mark.line + 1, weights_node->start_mark.column + 1,
                sum > 0.0 ? "the weights add up to more than a double can hold"
                          : "all weights are 0");
done:
  free(raw);
  return status;
}

/* The first of keys[] present in section, as an error at that key: `why` says which keys
 * exclude each other. PP_SUCCESS when none is present. */
static pp_status pp_job_refuse_keys(pp_yaml_doc *doc, const yaml_node_t *section,
                                    const char *const *keys, const char *why) {
  for (size_t i = 0; keys[i]; i++) {
    yaml_node_t *key = NULL;
    if (pp_yaml_mapping_get(doc, section, keys[i], &key)) {
      char path[PP_JOB_PATH_BYTES];
      pp_yaml_path(path, sizeof path, "wavelengths", keys[i]);
      return PP_YAML_ERROR(doc, key, path, "%s", why);
    }
  }
  return PP_SUCCESS;
}

/* {file: spectrum, units: m|um|nm}: the wavelengths and weights come from a data file,
 * found relative to the job file's directory (spectrum.c reads it). */
static pp_status pp_job_read_wavelength_file(pp_yaml_doc *doc, const yaml_node_t *section,
                                             const yaml_node_t *file_node, pp_job *job) {
  const char *given = NULL;
  PP_CALL(pp_yaml_read_text(doc, file_node, "wavelengths.file",
                            "the name of a spectrum file (text, HDF5 or FITS)", &given));
  if (given[0] == '\0')
    return PP_YAML_ERROR(doc, file_node, "wavelengths.file",
                         "expects the name of a spectrum file, got an empty text");
  yaml_node_t *units_node = pp_yaml_mapping_get(doc, section, "units", NULL);
  int units_exponent10 = 0;
  if (units_node) {
    int unit = 0;
    PP_CALL(pp_yaml_read_choice(doc, units_node, "wavelengths.units",
                                pp_job_wavelength_unit_words, &unit));
    units_exponent10 = pp_job_wavelength_unit_exponents[unit];
  }
  char *file_path = NULL;
  PP_CALL(pp_job_data_file_path(doc->name, given, &file_path));
  pp_status status = pp_spectrum_read_file(doc, file_node, "wavelengths.file", file_path,
                                           units_node, units_exponent10, job);
  free(file_path);
  return status == PP_SUCCESS ? PP_SUCCESS : pp_error_trace(status, __FILE__, __LINE__, __func__);
}

/* Four forms, exactly one: {min, max, count} (+ weights), {list} (+ weights),
 * {min, max, count, blackbody}, {file} (+ units). */
static pp_status pp_job_read_wavelengths(pp_yaml_doc *doc, const yaml_node_t *section,
                                         const yaml_node_t *section_key, pp_job *job) {
  static const char expected[] =
      "a mapping: {min: 1.0e-6, max: 2.0e-6, count: 10}, {list: [1.0e-6, 1.5e-6], weights: "
      "[1, 2]}, {min: 1.0e-6, max: 2.0e-6, count: 10, blackbody: 5800} or {file: spectrum.txt}";
  if (pp_yaml_is_null(section))
    return PP_YAML_ERROR(doc, section_key, "wavelengths", "expects %s, got nothing", expected);
  PP_CALL(pp_yaml_check_mapping(doc, section, "wavelengths", pp_job_wavelength_keys, expected));
  static const char *const range_keys[] = {"min", "max", "count", NULL};
  static const char *const units_key[] = {"units", NULL};
  static const char *const weights_key[] = {"weights", NULL};
  static const char *const blackbody_key[] = {"blackbody", NULL};
  static const char *const not_with_file[] = {"list",    "min",       "max", "count",
                                              "weights", "blackbody", NULL};
  static const char units_why[] =
      "units names the unit of a spectrum file's wavelength column; it goes with file (the "
      "wavelengths written in the job file are in metres)";
  yaml_node_t *file_node = pp_yaml_mapping_get(doc, section, "file", NULL);
  yaml_node_t *list_node = pp_yaml_mapping_get(doc, section, "list", NULL);
  yaml_node_t *blackbody_node = pp_yaml_mapping_get(doc, section, "blackbody", NULL);
  /* The forms exclude each other: report the first key of another form. */
  if (file_node) {
    PP_CALL(pp_job_refuse_keys(doc, section, not_with_file,
                               "a spectrum file gives both the wavelengths and their weights: "
                               "give file (with optional units) alone"));
    return pp_job_read_wavelength_file(doc, section, file_node, job);
  }
  PP_CALL(pp_job_refuse_keys(doc, section, units_key, units_why));
  if (list_node) {
    PP_CALL(pp_job_refuse_keys(doc, section, range_keys,
                               "give either list (with optional weights) or min, max and count, "
                               "not both"));
    PP_CALL(pp_job_refuse_keys(doc, section, blackbody_key,
                               "blackbody weighs the bins of a band {min, max, count}; for a "
                               "list give the weights"));
    PP_CALL(pp_job_read_wavelength_list(doc, list_node, job));
  } else {
    bool has_range_key = pp_yaml_mapping_get(doc, section, "min", NULL) ||
                         pp_yaml_mapping_get(doc, section, "max", NULL) ||
                         pp_yaml_mapping_get(doc, section, "count", NULL);
    if (!has_range_key)
      return PP_YAML_ERROR(doc, section_key, "wavelengths",
                           "give the wavelengths as {min, max, count}, as {list: [...]}, as "
                           "{min, max, count, blackbody} or as {file: ...}");
    if (blackbody_node) {
      PP_CALL(pp_job_refuse_keys(doc, section, weights_key,
                                 "blackbody computes the weights; give blackbody or weights, "
                                 "not both"));
      return pp_job_read_blackbody(doc, section, section_key, blackbody_node, job);
    }
    PP_CALL(pp_job_read_wavelength_range(doc, section, section_key, job));
  }
  return pp_job_read_weights(doc, pp_yaml_mapping_get(doc, section, "weights", NULL), job);
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

/* ---- optics ----------------------------------------------------------------------------- */

static void pp_job_list_optic_types(char *out, size_t out_bytes) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < pp_optic_type_count() && used < out_bytes; i++) {
    int n = snprintf(out + used, out_bytes - used, "%s%s", i ? ", " : "",
                     pp_optic_type_at(i)->name);
    if (n < 0) break;
    used += (size_t)n;
  }
}

/* The message after "word: ", or the whole message. */
static const char *pp_job_skip_prefix(const char *message, const char *word) {
  size_t n = strlen(word);
  if (strncmp(message, word, n) == 0 && message[n] == ':' && message[n + 1] == ' ')
    return message + n + 2;
  return message;
}

/* An error of the optics module placed at a node of the job file. Its messages start with
 * the type name (and, for one key, the key), which the path already says. Errors that are
 * not the user's (memory) pass up as they are. */
static pp_status pp_job_optic_error(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                    const char *type_name, const char *key, pp_status status) {
  if (pp_status_code(status) != PP_ERR_INPUT)
    return pp_error_trace(status, __FILE__, __LINE__, __func__);
  const char *message = pp_job_skip_prefix(pp_status_message(status), type_name);
  if (key) message = pp_job_skip_prefix(message, key);
  pp_status placed = PP_YAML_ERROR(doc, node, path, "%s", message);
  pp_status_free(status);
  return placed;
}

/* One parameter's value, checked against its table entry: kind, whole number, range,
 * choice word, non-empty list, non-empty text. */
static pp_status pp_job_read_optic_param(pp_yaml_doc *doc, const yaml_node_t *node,
                                         const char *path, const pp_optic_param *param,
                                         size_t index, pp_optic_spec *spec) {
  switch (param->kind) {
    case PP_PARAM_REAL:
    case PP_PARAM_INT: {
      double value;
      PP_CALL(pp_yaml_read_number(doc, node, path, param->unit, &value));
      if (param->kind == PP_PARAM_INT && value != floor(value))
        return PP_YAML_ERROR(doc, node, path, "expects a whole number, got %.10g", value);
      PP_CALL(pp_yaml_check_range(doc, node, path, value, param->min, param->min_exclusive,
                                  param->max, param->max_exclusive, param->unit));
      spec->value[index] = value;
      break;
    }
    case PP_PARAM_BOOL: {
      bool flag;
      PP_CALL(pp_yaml_read_bool(doc, node, path, &flag));
      spec->value[index] = flag ? 1.0 : 0.0;
      break;
    }
    case PP_PARAM_CHOICE: {
      int choice;
      PP_CALL(pp_yaml_read_choice(doc, node, path, param->choices, &choice));
      spec->value[index] = (double)choice;
      break;
    }
    case PP_PARAM_REAL_LIST: {
      double *values = NULL;
      size_t count = 0;
      PP_CALL(pp_yaml_read_number_list(doc, node, path, param->unit, &values, &count));
      free(spec->list); /* owned by the spec from here on, also on error */
      spec->list = values;
      spec->list_len = count;
      for (size_t i = 0; i < count; i++) {
        char item_path[PP_JOB_PATH_BYTES];
        pp_yaml_path_index(item_path, sizeof item_path, path, i);
        PP_CALL(pp_yaml_check_range(doc, pp_yaml_sequence_item(doc, node, i), item_path,
                                    values[i], param->min, param->min_exclusive, param->max,
                                    param->max_exclusive, param->unit));
      }
      break;
    }
    case PP_PARAM_STRING: {
      const char *what = param->file_path ? "a file name" : "text";
      const char *text;
      PP_CALL(pp_yaml_read_text(doc, node, path, what, &text));
      if (text[0] == '\0') return PP_YAML_ERROR(doc, node, path, "expects %s, got nothing", what);
      char *joined = NULL;
      if (param->file_path) PP_CALL(pp_job_data_file_path(doc->name, text, &joined));
      pp_status status = pp_optic_spec_set_text(spec, param->name, joined ? joined : text);
      free(joined);
      if (status != PP_SUCCESS)
        return pp_job_optic_error(doc, node, path, spec->type->name, NULL, status);
      break;
    }
  }
  spec->given[index] = true;
  return PP_SUCCESS;
}

/* One item of `optics`: `- type: {param: value, ..., name: label}`. */
static pp_status pp_job_read_optic(pp_yaml_doc *doc, const yaml_node_t *item, size_t item_index,
                                   pp_job *job) {
  char item_path[PP_JOB_PATH_BYTES];
  pp_yaml_path_index(item_path, sizeof item_path, "optics", item_index);
  char got[96];
  pp_yaml_describe(item, got, sizeof got);
  if (!item || item->type != YAML_MAPPING_NODE || pp_yaml_mapping_length(item) == 0)
    return PP_YAML_ERROR(doc, item, item_path,
                         "expects one optic written as 'type: {parameters}', e.g. "
                         "'- circular_aperture: {radius: 3.25}' (or 'circular_aperture: {}' for "
                         "all defaults), got %s",
                         got);
  yaml_node_t *type_key, *params;
  pp_yaml_mapping_pair(doc, item, 0, &type_key, &params);
  char types[512];
  pp_job_list_optic_types(types, sizeof types);
  if (type_key->type != YAML_SCALAR_NODE || pp_yaml_is_null(type_key))
    return PP_YAML_ERROR(doc, type_key, item_path, "the optic type must be a word; allowed types: %s",
                         types);
  const char *type_name = (const char *)type_key->data.scalar.value;
  if (pp_yaml_mapping_length(item) > 1) {
    yaml_node_t *extra_key, *extra_value;
    pp_yaml_mapping_pair(doc, item, 1, &extra_key, &extra_value);
    const char *extra = extra_key->type == YAML_SCALAR_NODE
                            ? (const char *)extra_key->data.scalar.value : "?";
    return PP_YAML_ERROR(doc, extra_key, item_path,
                         "one list item holds one optic, but '%s' follows '%s' in the same item; "
                         "start each optic on its own '- ' line and put its parameters inside "
                         "its braces",
                         extra, type_name);
  }
  const pp_optic_type *type = pp_optic_type_find(type_name);
  if (!type)
    return PP_YAML_ERROR(doc, type_key, item_path, "unknown optic type '%s'; allowed types: %s%s",
                         type_name, types,
                         strcmp(type_name, "type") == 0
                             ? " (write the type as the key: '- circular_aperture: {radius: 1}')"
                             : "");

  char type_path[PP_JOB_PATH_BYTES];
  pp_yaml_path(type_path, sizeof type_path, item_path, type->name);
  /* The allowed keys: the table's parameters plus `name`. */
  const char *allowed[PP_OPTIC_MAX_PARAMS + 2];
  size_t n_allowed = 0;
  for (size_t i = 0; i < type->n_params && i < PP_OPTIC_MAX_PARAMS; i++)
    allowed[n_allowed++] = type->params[i].name;
  allowed[n_allowed++] = "name";
  allowed[n_allowed] = NULL;
  PP_CALL(pp_yaml_check_mapping(doc, params, type_path, allowed,
                                "a mapping of parameters such as {radius: 3.25}, or nothing for "
                                "all defaults"));

  pp_optic_spec *spec = &job->optics[item_index];
  pp_optic_spec_init(spec, type);
  job->n_optics = item_index + 1; /* from here on pp_job_destroy releases this spec */
  snprintf(spec->name, sizeof spec->name, "%s", type->name);
  spec->line = (int)type_key->start_mark.line + 1;
  spec->column = (int)type_key->start_mark.column + 1;

  for (size_t i = 0; i < type->n_params && i < PP_OPTIC_MAX_PARAMS; i++) {
    const pp_optic_param *param = &type->params[i];
    char param_path[PP_JOB_PATH_BYTES];
    pp_yaml_path(param_path, sizeof param_path, type_path, param->name);
    yaml_node_t *value = pp_yaml_mapping_get(doc, params, param->name, NULL);
    if (!value) {
      if (param->required)
        return PP_YAML_ERROR(doc, type_key, param_path, "missing required key '%s': %s%s%s%s",
                             param->name, param->doc, param->unit[0] ? " (" : "", param->unit,
                             param->unit[0] ? ")" : "");
      continue;
    }
    PP_CALL(pp_job_read_optic_param(doc, value, param_path, param, i, spec));
  }
  yaml_node_t *name_node = pp_yaml_mapping_get(doc, params, "name", NULL);
  if (name_node) {
    char name_path[PP_JOB_PATH_BYTES];
    pp_yaml_path(name_path, sizeof name_path, type_path, "name");
    const char *label;
    PP_CALL(pp_yaml_read_text(doc, name_node, name_path, "a label for this optic", &label));
    if (label[0] == '\0' || strlen(label) >= PP_OPTIC_NAME_BYTES)
      return PP_YAML_ERROR(doc, name_node, name_path,
                           "a label must have 1 to %d characters, got %zu", PP_OPTIC_NAME_BYTES - 1,
                           strlen(label));
    snprintf(spec->name, sizeof spec->name, "%s", label);
  }
  /* Relations between parameters (e.g. side or flattoflat, not both) are the type's. */
  pp_status status = pp_optic_spec_validate(spec);
  if (status != PP_SUCCESS)
    return pp_job_optic_error(doc, type_key, type_path, type->name, NULL, status);
  /* The files an optic names (maps) are read and checked now, on every rank, so that a bad
   * file stops the job before any output exists. The error points at the key whose file is
   * at fault when there is one. */
  int bad_param = -1;
  status = pp_optic_spec_load_files(spec, &bad_param);
  if (status != PP_SUCCESS && bad_param >= 0 && (size_t)bad_param < type->n_params) {
    const char *key = type->params[bad_param].name;
    char key_path[PP_JOB_PATH_BYTES];
    pp_yaml_path(key_path, sizeof key_path, type_path, key);
    yaml_node_t *value = pp_yaml_mapping_get(doc, params, key, NULL);
    return pp_job_optic_error(doc, value ? value : type_key, key_path, type->name, key, status);
  }
  if (status != PP_SUCCESS)
    return pp_job_optic_error(doc, type_key, type_path, type->name, NULL, status);
  return PP_SUCCESS;
}

static pp_status pp_job_read_optics(pp_yaml_doc *doc, const yaml_node_t *section,
                                    const yaml_node_t *section_key, pp_job *job) {
  static const char example[] = "e.g. an item '- circular_aperture: {radius: 3.25}'";
  if (pp_yaml_is_null(section))
    return PP_YAML_ERROR(doc, section_key, "optics",
                         "the list of optics is empty; give at least one, %s", example);
  if (section->type != YAML_SEQUENCE_NODE) {
    char got[96];
    pp_yaml_describe(section, got, sizeof got);
    return PP_YAML_ERROR(doc, section, "optics",
                         "expects a list of optics, each item '- type: {parameters}', got %s; %s",
                         got, example);
  }
  size_t n = pp_yaml_sequence_length(section);
  if (n == 0)
    return PP_YAML_ERROR(doc, section, "optics",
                         "the list of optics is empty; give at least one, %s", example);
  if (n > PP_JOB_MAX_OPTICS)
    return PP_YAML_ERROR(doc, section, "optics", "has %zu optics, more than the limit %d", n,
                         PP_JOB_MAX_OPTICS);
  job->optics = calloc(n, sizeof *job->optics);
  PP_CHECK(job->optics, PP_ERR_MEMORY, "cannot allocate %zu optics", n);
  for (size_t i = 0; i < n; i++)
    PP_CALL(pp_job_read_optic(doc, pp_yaml_sequence_item(doc, section, i), i, job));
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
  return PP_SUCCESS;
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
                                "detector, propagation, output)"));
  enum { PUPIL, WAVELENGTHS, SOURCE, OPTICS, DETECTOR, PROPAGATION, OUTPUT, N_SECTIONS };
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
  static const int required[] = {WAVELENGTHS, OPTICS, DETECTOR};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!value[required[i]])
      return pp_job_missing(doc, root, pp_job_top_keys[required[i]],
                            pp_job_top_keys[required[i]], what_required[required[i]]);

  PP_CALL(pp_job_read_pupil(doc, value[PUPIL], job));
  PP_CALL(pp_job_read_wavelengths(doc, value[WAVELENGTHS], key[WAVELENGTHS], job));
  PP_CALL(pp_job_read_source(doc, value[SOURCE], key[SOURCE], job));
  PP_CALL(pp_job_read_optics(doc, value[OPTICS], key[OPTICS], job));
  /* propagation before detector: detector.oversample defaults to fft_oversample. */
  PP_CALL(pp_job_read_propagation(doc, value[PROPAGATION], job));
  PP_CALL(pp_job_read_detector(doc, value[DETECTOR], key[DETECTOR], job));
  PP_CALL(pp_job_read_output(doc, value[OUTPUT], job));
  return PP_SUCCESS;
}
