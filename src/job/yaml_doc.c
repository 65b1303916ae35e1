/* Loading one YAML document with libyaml, errors at a position, and the shape of nodes
 * (mappings checked for unknown and duplicate keys, sequences, null). */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <ctype.h>
#include <string.h>

enum { PP_YAML_MESSAGE_BYTES = 900, PP_YAML_SHOWN_TEXT_CHARS = 40 };

/* ---- errors ---------------------------------------------------------------------------- */

/* libyaml marks count from 0; editors and compilers count from 1. */
static pp_status pp_yaml_error_at_mark(const char *file, int line, const char *func,
                                       const char *name, size_t mark_line, size_t mark_column,
                                       const char *path, const char *message) {
  if (path && path[0])
    return pp_error_raise(PP_ERR_INPUT, file, line, func, "%s:%zu:%zu: %s: %s", name,
                          mark_line + 1, mark_column + 1, path, message);
  return pp_error_raise(PP_ERR_INPUT, file, line, func, "%s:%zu:%zu: %s", name, mark_line + 1,
                        mark_column + 1, message);
}

pp_status pp_yaml_error_at(const char *file, int line, const char *func, pp_yaml_doc *doc,
                           const yaml_node_t *node, const char *path, const char *fmt, ...) {
  char message[PP_YAML_MESSAGE_BYTES];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  size_t mark_line = node ? node->start_mark.line : 0;
  size_t mark_column = node ? node->start_mark.column : 0;
  return pp_yaml_error_at_mark(file, line, func, doc->name, mark_line, mark_column, path, message);
}

void pp_yaml_path(char *out, size_t out_bytes, const char *parent, const char *key) {
  if (parent && parent[0]) snprintf(out, out_bytes, "%s.%s", parent, key);
  else snprintf(out, out_bytes, "%s", key);
}

void pp_yaml_path_index(char *out, size_t out_bytes, const char *parent, size_t index) {
  snprintf(out, out_bytes, "%s[%zu]", parent, index);
}

/* ---- loading ------------------------------------------------------------------------------ */

/* Reader errors (bad UTF-8, control characters) carry a byte offset, not a mark. */
static void pp_yaml_offset_to_mark(const char *text, size_t length, size_t offset, size_t *line,
                                   size_t *column) {
  *line = 0;
  *column = 0;
  for (size_t i = 0; i < offset && i < length; i++) {
    if (text[i] == '\n') {
      (*line)++;
      *column = 0;
    } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
      (*column)++; /* count characters, not UTF-8 continuation bytes */
    }
  }
}

static pp_status pp_yaml_syntax_error(const yaml_parser_t *parser, const char *text,
                                      size_t length, const char *name) {
  size_t line = parser->problem_mark.line, column = parser->problem_mark.column;
  if (parser->error == YAML_READER_ERROR)
    pp_yaml_offset_to_mark(text, length, parser->problem_offset, &line, &column);
  char message[PP_YAML_MESSAGE_BYTES];
  const char *problem = parser->problem ? parser->problem : "unknown problem";
  if (parser->error == YAML_MEMORY_ERROR)
    return pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__, __func__,
                          "%s: out of memory while reading the YAML", name);
  /* libyaml says "found character that cannot start any token" for a tab: name it. */
  size_t at = parser->error == YAML_READER_ERROR ? parser->problem_offset
                                                 : parser->problem_mark.index;
  const char *tab = at < length && text[at] == '\t'
                        ? "; it is a tab character, and YAML indents with spaces only: "
                          "replace the tab by spaces"
                        : "";
  if (parser->context)
    snprintf(message, sizeof message, "not valid YAML: %s (%s, which starts at line %zu)%s",
             problem, parser->context, parser->context_mark.line + 1, tab);
  else
    snprintf(message, sizeof message, "not valid YAML: %s%s", problem, tab);
  return pp_yaml_error_at_mark(__FILE__, __LINE__, __func__, name, line, column, NULL, message);
}

pp_status pp_yaml_doc_load(const char *text, size_t length, const char *name, pp_yaml_doc *doc) {
  pp_status status = PP_SUCCESS;
  yaml_parser_t parser;
  yaml_document_t second;
  bool second_loaded = false;
  *doc = (pp_yaml_doc){.loaded = false, .name = name};
  PP_CHECK(yaml_parser_initialize(&parser), PP_ERR_MEMORY, "cannot create a YAML parser");
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);

  if (!yaml_parser_load(&parser, &doc->document)) {
    status = pp_yaml_syntax_error(&parser, text, length, name);
    goto done;
  }
  doc->loaded = true;
  yaml_node_t *root = yaml_document_get_root_node(&doc->document);
  PP_CHECK_GOTO(status, root && !pp_yaml_is_null(root), PP_ERR_INPUT,
                "%s:1:1: the job file is empty; it needs at least wavelengths, optics and "
                "detector (see docs/job-file.md)",
                name);

  /* A stream may hold several documents; a job is one, and silently ignoring a second
   * would run something other than what the user reads in the file. */
  if (!yaml_parser_load(&parser, &second)) {
    status = pp_yaml_syntax_error(&parser, text, length, name);
    goto done;
  }
  second_loaded = true;
  yaml_node_t *second_root = yaml_document_get_root_node(&second);
  if (second_root) {
    status = pp_yaml_error_at_mark(__FILE__, __LINE__, __func__, name,
                                   second_root->start_mark.line, second_root->start_mark.column,
                                   NULL,
                                   "a second YAML document starts here; a job file holds one "
                                   "document (remove the '---' line or split the file)");
    goto done;
  }

done:
  if (second_loaded) yaml_document_delete(&second);
  yaml_parser_delete(&parser);
  if (status != PP_SUCCESS) pp_yaml_doc_release(doc);
  return status;
}

void pp_yaml_doc_release(pp_yaml_doc *doc) {
  if (!doc || !doc->loaded) return;
  yaml_document_delete(&doc->document);
  doc->loaded = false;
}

yaml_node_t *pp_yaml_doc_root(pp_yaml_doc *doc) {
  return yaml_document_get_root_node(&doc->document);
}

/* ---- shape ---------------------------------------------------------------------------------- */

/* YAML 1.2 core schema nulls; only unquoted text can be null. */
bool pp_yaml_is_null(const yaml_node_t *node) {
  if (!node) return true;
  if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return false;
  const char *text = (const char *)node->data.scalar.value;
  return text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 ||
         strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0;
}

void pp_yaml_describe(const yaml_node_t *node, char *out, size_t out_bytes) {
  if (pp_yaml_is_null(node)) {
    snprintf(out, out_bytes, "nothing (null)");
  } else if (node->type == YAML_SEQUENCE_NODE) {
    snprintf(out, out_bytes, "a list");
  } else if (node->type == YAML_MAPPING_NODE) {
    snprintf(out, out_bytes, "a mapping");
  } else {
    const char *text = (const char *)node->data.scalar.value;
    bool quoted = node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    bool long_text = node->data.scalar.length > PP_YAML_SHOWN_TEXT_CHARS;
    snprintf(out, out_bytes, "%s'%.*s%s'", quoted ? "the quoted text " : "",
             (int)PP_YAML_SHOWN_TEXT_CHARS, text, long_text ? "..." : "");
  }
}

size_t pp_yaml_sequence_length(const yaml_node_t *node) {
  if (!node || node->type != YAML_SEQUENCE_NODE) return 0;
  return (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
}

yaml_node_t *pp_yaml_sequence_item(pp_yaml_doc *doc, const yaml_node_t *node, size_t index) {
  return yaml_document_get_node(&doc->document, node->data.sequence.items.start[index]);
}

size_t pp_yaml_mapping_length(const yaml_node_t *node) {
  if (!node || node->type != YAML_MAPPING_NODE) return 0;
  return (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
}

void pp_yaml_mapping_pair(pp_yaml_doc *doc, const yaml_node_t *node, size_t index,
                          yaml_node_t **key, yaml_node_t **value) {
  const yaml_node_pair_t *pair = &node->data.mapping.pairs.start[index];
  *key = yaml_document_get_node(&doc->document, pair->key);
  *value = yaml_document_get_node(&doc->document, pair->value);
}

/* A key usable by name: a non-null scalar without embedded NUL bytes. */
static const char *pp_yaml_key_text(const yaml_node_t *key) {
  if (!key || key->type != YAML_SCALAR_NODE || pp_yaml_is_null(key)) return NULL;
  const char *text = (const char *)key->data.scalar.value;
  return strlen(text) == key->data.scalar.length ? text : NULL;
}

void pp_yaml_join_words(char *out, size_t out_bytes, const char *const *words) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; words[i] && used < out_bytes; i++) {
    int n = snprintf(out + used, out_bytes - used, "%s%s", i ? ", " : "", words[i]);
    if (n < 0) break;
    used += (size_t)n;
  }
}

/* Whether a and b differ by one edit: one character added, dropped or changed, or two
 * neighbours swapped. */
static bool pp_yaml_one_edit(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  if (na < nb) {
    const char *t = a;
    a = b;
    b = t;
    size_t n = na;
    na = nb;
    nb = n;
  }
  if (na - nb > 1) return false;
  size_t i = 0;
  while (i < nb && a[i] == b[i]) i++;
  if (i == nb) return na != nb; /* equal texts are no edit apart */
  if (na != nb) return strcmp(a + i + 1, b + i) == 0;             /* added or dropped */
  if (strcmp(a + i + 1, b + i + 1) == 0) return true;              /* changed */
  return i + 1 < na && a[i] == b[i + 1] && a[i + 1] == b[i] &&    /* swapped */
         strcmp(a + i + 2, b + i + 2) == 0;
}

/* CamelCase → snake_case as POPPY's class names map to polypsf's: a '_' where a lower-case
 * letter or digit meets an upper-case one, and before the last capital of a run followed by
 * a lower-case letter (FITSOptical → fits_optical); false when it does not fit. */
static bool pp_yaml_snake_case(const char *text, char *out, size_t out_bytes) {
  size_t used = 0;
  for (size_t i = 0; text[i]; i++) {
    unsigned char c = (unsigned char)text[i];
    bool upper = isupper(c) != 0;
    if (upper && i > 0 && text[i - 1] != '_') {
      unsigned char before = (unsigned char)text[i - 1], after = (unsigned char)text[i + 1];
      if (islower(before) || isdigit(before) || (isupper(before) && islower(after))) {
        if (used + 1 >= out_bytes) return false;
        out[used++] = '_';
      }
    }
    if (used + 1 >= out_bytes) return false;
    out[used++] = (char)tolower(c);
  }
  out[used] = '\0';
  return true;
}

void pp_yaml_suggest(const char *text, const char *const *words, char *out, size_t out_bytes) {
  out[0] = '\0';
  if (!text || !words) return;
  char snake[128];
  bool has_snake = pp_yaml_snake_case(text, snake, sizeof snake) && strcmp(snake, text) != 0;
  for (size_t k = 0; words[k]; k++) {
    if ((has_snake && strcmp(snake, words[k]) == 0) || pp_yaml_one_edit(text, words[k])) {
      snprintf(out, out_bytes, " (did you mean '%s'?)", words[k]);
      return;
    }
  }
}

pp_status pp_yaml_check_mapping(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                const char *const *allowed, const char *what_expected) {
  if (pp_yaml_is_null(node)) return PP_SUCCESS; /* `key:` alone means "all defaults" */
  if (node->type != YAML_MAPPING_NODE) {
    char got[96];
    pp_yaml_describe(node, got, sizeof got);
    return PP_YAML_ERROR(doc, node, path, "expects %s, got %s", what_expected, got);
  }
  char allowed_text[512];
  pp_yaml_join_words(allowed_text, sizeof allowed_text, allowed);
  size_t n_pairs = pp_yaml_mapping_length(node);
  for (size_t i = 0; i < n_pairs; i++) {
    yaml_node_t *key, *value;
    pp_yaml_mapping_pair(doc, node, i, &key, &value);
    const char *key_text = pp_yaml_key_text(key);
    if (!key_text) {
      char got[96];
      pp_yaml_describe(key, got, sizeof got);
      return PP_YAML_ERROR(doc, key, path && path[0] ? path : "(top level)",
                           "a key must be a plain word, got %s; allowed keys: %s", got,
                           allowed_text);
    }
    char key_path[PP_JOB_PATH_BYTES];
    pp_yaml_path(key_path, sizeof key_path, path, key_text);
    bool known = false;
    for (size_t k = 0; allowed[k]; k++) known = known || strcmp(allowed[k], key_text) == 0;
    if (!known) {
      char suggestion[160];
      pp_yaml_suggest(key_text, allowed, suggestion, sizeof suggestion);
      return PP_YAML_ERROR(doc, key, key_path, "unknown key '%s'%s; allowed %s: %s", key_text,
                           suggestion, path && path[0] ? "keys here" : "top-level keys",
                           allowed_text);
    }
    for (size_t j = 0; j < i; j++) {
      yaml_node_t *earlier, *earlier_value;
      pp_yaml_mapping_pair(doc, node, j, &earlier, &earlier_value);
      const char *earlier_text = pp_yaml_key_text(earlier);
      if (earlier_text && strcmp(earlier_text, key_text) == 0)
        return PP_YAML_ERROR(doc, key, key_path,
                             "duplicate key '%s' (first given at line %zu); give each key once",
                             key_text, earlier->start_mark.line + 1);
    }
  }
  return PP_SUCCESS;
}

yaml_node_t *pp_yaml_mapping_get(pp_yaml_doc *doc, const yaml_node_t *mapping, const char *key,
                                 yaml_node_t **key_node) {
  if (key_node) *key_node = NULL;
  size_t n_pairs = pp_yaml_mapping_length(mapping);
  for (size_t i = 0; i < n_pairs; i++) {
    yaml_node_t *k, *v;
    pp_yaml_mapping_pair(doc, mapping, i, &k, &v);
    const char *text = pp_yaml_key_text(k);
    if (text && strcmp(text, key) == 0) {
      if (key_node) *key_node = k;
      return v;
    }
  }
  return NULL;
}
