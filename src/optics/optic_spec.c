/* The accessors every optic reads its spec with (values, texts, whether a key was given)
 * and the shared frame (shift and rotation). They sit below the table of optics
 * (optic_table.c), which calls each optic's functions: an optic's file uses these and never
 * the table, so the table and the optics form no loop. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>
#include <string.h>

#include "polypsf/core.h"

int pp_optic_param_index(const pp_optic_type *type, const char *key) {
  if (!type || !key) return -1;
  for (size_t i = 0; i < type->n_params; i++)
    if (strcmp(type->params[i].name, key) == 0) return (int)i;
  return -1;
}

double pp_optic_spec_get(const pp_optic_spec *spec, const char *key) {
  if (!spec || !spec->type) return NAN;
  int index = pp_optic_param_index(spec->type, key);
  return index < 0 ? NAN : spec->value[index];
}

bool pp_optic_spec_given(const pp_optic_spec *spec, const char *key) {
  if (!spec || !spec->type) return false;
  int index = pp_optic_param_index(spec->type, key);
  return index >= 0 && spec->given[index];
}

const char *pp_optic_spec_get_text(const pp_optic_spec *spec, const char *key) {
  if (!spec || !spec->type) return NULL;
  int index = pp_optic_param_index(spec->type, key);
  if (index < 0 || spec->type->params[index].kind != PP_PARAM_STRING) return NULL;
  return spec->text[index];
}

void pp_optic_frame_from_spec(const pp_optic_spec *spec, pp_optic_frame *frame) {
  double shift_x = pp_optic_spec_get(spec, "shift_x");
  double shift_y = pp_optic_spec_get(spec, "shift_y");
  double rotation_deg = pp_optic_spec_get(spec, "rotation");
  frame->shift_x_m = isfinite(shift_x) ? shift_x : 0.0;
  frame->shift_y_m = isfinite(shift_y) ? shift_y : 0.0;
  if (!isfinite(rotation_deg)) rotation_deg = 0.0;
  /* numpy's deg2rad multiplies by π/180. */
  double angle_rad = rotation_deg * (PP_PI / 180.0);
  frame->cos_rotation = cos(angle_rad);
  frame->sin_rotation = sin(angle_rad);
  /* With rotation 0, POPPY's cos·x + sin·y is x + (±0) = x exactly: skipping is identical. */
  frame->rotated = rotation_deg != 0.0;
}
