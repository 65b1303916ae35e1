/* The docs name every optic type the table knows: docs/optics.md documents each one and
 * docs/job-file.md lists it, so a new type cannot ship undocumented. */
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
  }
  free(optics_md);
  free(job_md);
  return pp_test_finish();
}
