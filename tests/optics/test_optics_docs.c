/* The table of optics, walked row by row: every row is complete (names, one-line docs, its
 * parameters each named, documented and within PP_OPTIC_MAX_PARAMS, and the functions its
 * plane needs: pupil rows apply in the pupil, image rows in the image plane and size no
 * pupil) and documented (docs/optics.md documents the type and each of its keys,
 * docs/job-file.md lists it), so a new optic cannot ship half-added or undocumented
 * (docs/design.md, "How to add an optic"). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/optics.h"
#include "pp_test.h"

/* The whole file as one string (NULL when unreadable). */
static char *read_text(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
  if (text) {
    size_t got = fread(text, 1, (size_t)size, f);
    text[got] = '\0';
  }
  fclose(f);
  return text;
}

static bool pp_text_given(const char *text) { return text != NULL && text[0] != '\0'; }

/* One row: what it must carry to be used and documented. */
static void pp_check_row_complete(const pp_optic_type *type, const char *optics_md) {
  char what[256];
  snprintf(what, sizeof what, "%s: POPPY name and one-line doc", type->name);
  PP_TEST_TRUE(pp_text_given(type->poppy_name) && pp_text_given(type->doc), what);
  snprintf(what, sizeof what, "%s: %zu parameter(s), at most %d, in an array", type->name,
           type->n_params, PP_OPTIC_MAX_PARAMS);
  PP_TEST_TRUE(type->n_params <= PP_OPTIC_MAX_PARAMS && (type->n_params == 0 || type->params),
               what);
  for (size_t k = 0; k < type->n_params && k < PP_OPTIC_MAX_PARAMS; k++) {
    const pp_optic_param *param = &type->params[k];
    char quoted[128];
    snprintf(quoted, sizeof quoted, "`%s`", param->name ? param->name : "");
    bool choices_ok = param->kind != PP_PARAM_CHOICE || (param->choices && param->choices[0]);
    snprintf(what, sizeof what, "%s: key %s named, with a doc line and a unit, documented in "
             "docs/optics.md%s", type->name, quoted,
             param->kind == PP_PARAM_CHOICE ? ", with its words" : "");
    PP_TEST_TRUE(pp_text_given(param->name) && pp_text_given(param->doc) && param->unit != NULL &&
                     choices_ok && strstr(optics_md, quoted) != NULL,
                 what);
  }
  if (type->plane == PP_PLANE_PUPIL) {
    snprintf(what, sizeof what, "%s (pupil plane): applies in the pupil (apply_pupil or "
             "apply_pupil_fft, one of them), not in an image plane", type->name);
    PP_TEST_TRUE((type->apply_pupil != NULL) != (type->apply_pupil_fft != NULL) &&
                     type->apply_image == NULL,
                 what);
  } else {
    snprintf(what, sizeof what, "%s (image plane): applies in the image plane only, sizes no "
             "pupil, adds no pupil OPD, reads no files", type->name);
    PP_TEST_TRUE(type->apply_image != NULL && type->apply_pupil == NULL &&
                     type->apply_pupil_fft == NULL && type->pupil_diameter_m == NULL &&
                     type->has_opd == NULL && type->load_files == NULL,
                 what);
  }
}

int main(void) {
  const char *source_dir = getenv("POLYPSF_SOURCE_DIR");
  PP_TEST_TRUE(source_dir != NULL, "POLYPSF_SOURCE_DIR is set");
  if (!source_dir) return pp_test_finish();
  char *optics_md = read_text(source_dir, "docs/optics.md");
  char *job_md = read_text(source_dir, "docs/job-file.md");
  PP_TEST_TRUE(optics_md && job_md, "docs/optics.md and docs/job-file.md read");
  for (size_t i = 0; optics_md && job_md && i < pp_optic_type_count(); i++) {
    const pp_optic_type *type = pp_optic_type_at(i);
    char quoted[128], what[256];
    snprintf(quoted, sizeof quoted, "`%s`", type->name);
    snprintf(what, sizeof what, "%s is documented in docs/optics.md and listed in docs/job-file.md",
             type->name);
    PP_TEST_TRUE(strstr(optics_md, quoted) && strstr(job_md, quoted), what);
    pp_check_row_complete(type, optics_md);
    for (size_t k = 0; k < i; k++)
      if (strcmp(pp_optic_type_at(k)->name, type->name) == 0) {
        snprintf(what, sizeof what, "%s: one row only (rows %zu and %zu share the name)",
                 type->name, k, i);
        PP_TEST_TRUE(false, what);
      }
  }
  free(optics_md);
  free(job_md);
  return pp_test_finish();
}
