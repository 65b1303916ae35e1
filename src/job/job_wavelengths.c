/* The `wavelengths:` section of a job file: its four forms ({min, max, count} with optional
 * weights, {list} with optional weights, {min, max, count, blackbody}, {file} with optional
 * units) and the checks every form shares. Split from job_parse.c, which reads the other
 * sections; docs/job-file.md is the user's side of both. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const pp_job_wavelength_keys[] = {"min",  "max",   "count",     "list",
                                                     "weights", "file", "units", "blackbody",
                                                     NULL};
static const char *const pp_job_wavelength_unit_words[] = {"m", "um", "nm", NULL};
static const int pp_job_wavelength_unit_exponents[] = {0, -6, -9};

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
pp_status pp_job_read_wavelengths(pp_yaml_doc *doc, const yaml_node_t *section,
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
