/* Typed readers of YAML scalars and lists: numbers, whole numbers, booleans, words,
 * text, number lists, and range checks, each failing with position, key and what is
 * allowed. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* " (m)" for messages; nothing for dimensionless values. */
static void pp_yaml_unit_note(char *out, size_t out_bytes, const char *unit) {
  if (unit && unit[0]) snprintf(out, out_bytes, " (%s)", unit);
  else out[0] = '\0';
}

static bool pp_yaml_is_infinity_or_nan(const char *text) {
  const char *p = text;
  if (*p == '+' || *p == '-') p++;
  static const char *const words[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN",
                                      "inf",  "Inf",  "INF",  "nan",  "NaN",  "NAN",
                                      "infinity", "Infinity", "INFINITY"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcmp(p, words[i]) == 0) return true;
  return false;
}

/* A valid value to show in a message, by the value's unit: a wavelength-sized length for
 * metres, a pupil size for pixels, a pixel scale for arcsec. */
static const char *pp_yaml_example(const char *unit, bool list) {
  static const struct {
    const char *unit, *example, *list;
  } examples[] = {{"m", "1.0e-6", "[1.0e-6, 2.5e-6]"},
                  {"pixels", "1024", "[512, 1024]"},
                  {"arcsec", "0.0311", "[0.0311, 0.0622]"},
                  {"deg", "45", "[0, 45]"}};
  for (size_t i = 0; unit && i < sizeof examples / sizeof examples[0]; i++)
    if (strcmp(unit, examples[i].unit) == 0) return list ? examples[i].list : examples[i].example;
  return list ? "[1.0, 2.5]" : "3.25";
}

/* pp_yaml_read_number with the example the message shows. */
static pp_status pp_yaml_read_number_as(pp_yaml_doc *doc, const yaml_node_t *node,
                                        const char *path, const char *unit, const char *example,
                                        double *out);

pp_status pp_yaml_read_number(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                              const char *unit, double *out) {
  return pp_yaml_read_number_as(doc, node, path, unit, pp_yaml_example(unit, false), out);
}

static pp_status pp_yaml_read_number_as(pp_yaml_doc *doc, const yaml_node_t *node,
                                        const char *path, const char *unit, const char *example,
                                        double *out) {
  char unit_note[48], got[96];
  pp_yaml_unit_note(unit_note, sizeof unit_note, unit);
  pp_yaml_describe(node, got, sizeof got);
  if (!node || node->type != YAML_SCALAR_NODE || pp_yaml_is_null(node))
    return PP_YAML_ERROR(doc, node, path, "expects a number%s, got %s", unit_note, got);
  const char *text = (const char *)node->data.scalar.value;
  if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return PP_YAML_ERROR(doc, node, path,
                         "expects a number%s, got %s; write numbers without quotes", unit_note,
                         got);
  if (pp_yaml_is_infinity_or_nan(text))
    return PP_YAML_ERROR(doc, node, path, "expects a finite number%s, got %s", unit_note, got);
  if (!pp_text_is_decimal_number(text))
    return PP_YAML_ERROR(doc, node, path,
                         "expects a number%s such as %s, got %s", unit_note, example, got);
  double value = strtod(text, NULL);
  if (!isfinite(value))
    return PP_YAML_ERROR(doc, node, path, "%s is too large for a double-precision number",
                         text);
  *out = value;
  return PP_SUCCESS;
}

pp_status pp_yaml_read_integer(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                               long long min, long long max, long long *out) {
  double value;
  /* a whole number inside the range as the example */
  char example[32];
  snprintf(example, sizeof example, "%lld", min > 64 ? min : (max < 64 ? max : 64));
  PP_CALL(pp_yaml_read_number_as(doc, node, path, "", example, &value));
  if (value != floor(value))
    return PP_YAML_ERROR(doc, node, path, "expects a whole number, got %.10g", value);
  PP_CALL(pp_yaml_check_range(doc, node, path, value, (double)min, false, (double)max, false, ""));
  *out = (long long)value;
  return PP_SUCCESS;
}

pp_status pp_yaml_read_bool(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                            bool *out) {
  if (node && node->type == YAML_SCALAR_NODE &&
      node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
    const char *text = (const char *)node->data.scalar.value;
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
      *out = text[0] == 't';
      return PP_SUCCESS;
    }
  }
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  /* YAML 1.1 readers take yes/no/on/off as booleans and YAML 1.2 ones do not: only the
   * two spellings every reader agrees on are accepted. */
  return PP_YAML_ERROR(doc, node, path, "expects true or false, got %s", got);
}

pp_status pp_yaml_read_text(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                            const char *what_expected, const char **out) {
  if (!node || node->type != YAML_SCALAR_NODE || pp_yaml_is_null(node)) {
    char got[96];
    pp_yaml_describe(node, got, sizeof got);
    return PP_YAML_ERROR(doc, node, path, "expects %s, got %s", what_expected, got);
  }
  const char *text = (const char *)node->data.scalar.value;
  if (strlen(text) != node->data.scalar.length)
    return PP_YAML_ERROR(doc, node, path, "expects %s without NUL characters", what_expected);
  *out = text;
  return PP_SUCCESS;
}

pp_status pp_yaml_read_choice(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                              const char *const *choices, int *index) {
  char allowed[256], suggestion[160] = "";
  pp_yaml_join_words(allowed, sizeof allowed, choices);
  if (node && node->type == YAML_SCALAR_NODE && !pp_yaml_is_null(node)) {
    const char *text = (const char *)node->data.scalar.value;
    for (int i = 0; choices[i]; i++) {
      if (strcmp(text, choices[i]) == 0) {
        *index = i;
        return PP_SUCCESS;
      }
    }
    pp_yaml_suggest(text, choices, suggestion, sizeof suggestion);
  }
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  return PP_YAML_ERROR(doc, node, path, "expects one of: %s; got %s%s", allowed, got, suggestion);
}

pp_status pp_yaml_read_number_list(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                   const char *unit, double **values, size_t *count) {
  *values = NULL;
  *count = 0;
  char unit_note[48];
  pp_yaml_unit_note(unit_note, sizeof unit_note, unit);
  if (!node || node->type != YAML_SEQUENCE_NODE) {
    char got[96];
    pp_yaml_describe(node, got, sizeof got);
    return PP_YAML_ERROR(doc, node, path, "expects a list of numbers%s such as %s, got %s",
                         unit_note, pp_yaml_example(unit, true), got);
  }
  size_t n = pp_yaml_sequence_length(node);
  if (n == 0)
    return PP_YAML_ERROR(doc, node, path, "expects a list of numbers%s, got an empty list",
                         unit_note);
  double *list = malloc(n * sizeof *list);
  PP_CHECK(list != NULL, PP_ERR_MEMORY, "cannot allocate a list of %zu numbers for %s", n, path);
  for (size_t i = 0; i < n; i++) {
    char item_path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(item_path, sizeof item_path, path, i);
    pp_status status = pp_yaml_read_number(doc, pp_yaml_sequence_item(doc, node, i), item_path,
                                           unit, &list[i]);
    if (status != PP_SUCCESS) {
      free(list);
      return pp_error_trace(status, __FILE__, __LINE__, __func__);
    }
  }
  *values = list;
  *count = n;
  return PP_SUCCESS;
}

pp_status pp_yaml_check_range(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                              double value, double min, bool min_exclusive, double max,
                              bool max_exclusive, const char *unit) {
  bool above_min = min_exclusive ? value > min : value >= min;
  bool below_max = max_exclusive ? value < max : value <= max;
  if (above_min && below_max) return PP_SUCCESS;
  char unit_note[48], lower[64] = "", upper[64] = "", allowed[256];
  if (unit && unit[0]) snprintf(unit_note, sizeof unit_note, " %s", unit);
  else unit_note[0] = '\0';
  bool has_min = isfinite(min), has_max = isfinite(max);
  if (has_min) snprintf(lower, sizeof lower, "%s %.10g", min_exclusive ? ">" : ">=", min);
  if (has_max) snprintf(upper, sizeof upper, "%s %.10g", max_exclusive ? "<" : "<=", max);
  if (has_min && has_max && !min_exclusive && !max_exclusive)
    snprintf(allowed, sizeof allowed, "from %.10g to %.10g%s", min, max, unit_note);
  else if (has_min && has_max)
    snprintf(allowed, sizeof allowed, "%s and %s%s", lower, upper, unit_note);
  else
    snprintf(allowed, sizeof allowed, "%s%s", has_min ? lower : upper, unit_note);
  return PP_YAML_ERROR(doc, node, path, "must be %s, got %.10g%s", allowed, value, unit_note);
}

/* Where a missing key is reported: at its section's key when the section exists,
 * else at the start of the document. */
pp_status pp_job_missing(pp_yaml_doc *doc, const yaml_node_t *where, const char *path,
                                const char *key, const char *what) {
  return PP_YAML_ERROR(doc, where, path, "missing required key '%s': %s", key, what);
}
