/* The `optics:` section of a job file: each item read against the table of optics (its
 * type, its keys and their kinds and ranges, file names joined to the job file's
 * directory, the files read once). Split from job_parse.c; docs/job-file.md and
 * docs/optics.md are the user's side. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- optics ----------------------------------------------------------------------------- */

/* The optic types' names, NULL-terminated, into names[max] (the table's order). */
static void pp_job_optic_type_names(const char **names, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < pp_optic_type_count() && n + 1 < max; i++)
    names[n++] = pp_optic_type_at(i)->name;
  names[n] = NULL;
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
  const char *type_names[64];
  pp_job_optic_type_names(type_names, sizeof type_names / sizeof type_names[0]);
  pp_yaml_join_words(types, sizeof types, type_names);
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
  char suggestion[160];
  pp_yaml_suggest(type_name, type_names, suggestion, sizeof suggestion);
  if (!type)
    return PP_YAML_ERROR(doc, type_key, item_path,
                         "unknown optic type '%s'%s; allowed types: %s%s", type_name, suggestion,
                         types,
                         strcmp(type_name, "type") == 0
                             ? " (write the type as the key: '- circular_aperture: {radius: 1}')"
                             : "");

  PP_CALL(pp_job_check_optic_mode(doc, type_key, item_path, type, job));
  char type_path[PP_JOB_PATH_BYTES];
  pp_yaml_path(type_path, sizeof type_path, item_path, type->name);
  /* The allowed keys: the table's parameters plus `name`, `distance` (Fresnel) and a
   * zernike_wfe's field terms. */
  const char *allowed[PP_OPTIC_MAX_PARAMS + 5];
  size_t n_allowed = 0;
  for (size_t i = 0; i < type->n_params && i < PP_OPTIC_MAX_PARAMS; i++)
    allowed[n_allowed++] = type->params[i].name;
  allowed[n_allowed++] = "name";
  allowed[n_allowed++] = "distance";
  /* read later by pp_job_read_field, once the field points are known */
  if (pp_job_is_field_key(type->name, "field_coefficients")) {
    allowed[n_allowed++] = "field_coefficients";
    allowed[n_allowed++] = "field_polynomial";
  }
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
  PP_CALL(pp_job_read_optic_distance(doc, params, type_path, item_index, job));
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

pp_status pp_job_read_optics(pp_yaml_doc *doc, const yaml_node_t *section,
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
  job->fresnel.distance_m = calloc(n, sizeof *job->fresnel.distance_m);
  PP_CHECK(job->fresnel.distance_m, PP_ERR_MEMORY, "cannot allocate %zu distances", n);
  for (size_t i = 0; i < n; i++)
    PP_CALL(pp_job_read_optic(doc, pp_yaml_sequence_item(doc, section, i), i, job));
  return PP_SUCCESS;
}
