/* The table of optic types a job file can name, and the calls every optic answers through
 * it. Each row (pp_optic_type) is defined in its optic's own file, beside its code: its
 * parameters (kinds, defaults, ranges and units, following POPPY 1.1's class arguments in
 * snake_case) and its functions. This file lists the rows and dispatches through them; it
 * never names a kind of optic. The job parser validates against the table; docs/optics.md
 * documents it (docs/design.md: how to add an optic). */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the table: one row per optic, each defined beside its code ----------------------- */

/* In the order docs/optics.md lists them; a job names a type by its row's name. */
static const pp_optic_type *const pp_optic_types[] = {
    &pp_circle_type,
    &pp_square_type,
    &pp_rectangle_type,
    &pp_hexagon_type,
    &pp_multihex_type,
    &pp_obscuration_type,
    &pp_transmission_type,
    &pp_zernike_type,
    &pp_fits_element_type,
    &pp_aligner_type,
    &pp_fqpm_type,
    &pp_blc_type,
    &pp_occulter_type,
    &pp_annular_stop_type,
    &pp_bar_type,
    &pp_square_stop_type,
    &pp_rectangular_stop_type,
    &pp_quadratic_lens_type,
};

/* ---- lookups ----------------------------------------------------------------------- */

size_t pp_optic_type_count(void) { return PP_OPTIC_COUNT(pp_optic_types); }

const pp_optic_type *pp_optic_type_at(size_t index) {
  return index < PP_OPTIC_COUNT(pp_optic_types) ? pp_optic_types[index] : NULL;
}

const pp_optic_type *pp_optic_type_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < PP_OPTIC_COUNT(pp_optic_types); i++)
    if (strcmp(pp_optic_types[i]->name, name) == 0) return pp_optic_types[i];
  return NULL;
}




void pp_optic_spec_init(pp_optic_spec *spec, const pp_optic_type *type) {
  memset(spec, 0, sizeof *spec);
  spec->type = type;
  for (size_t i = 0; i < PP_OPTIC_MAX_PARAMS; i++) spec->value[i] = NAN;
  if (!type) return;
  for (size_t i = 0; i < type->n_params && i < PP_OPTIC_MAX_PARAMS; i++)
    spec->value[i] = type->params[i].default_value;
  snprintf(spec->name, sizeof spec->name, "%s", type->name);
}

/* ---- checks -------------------------------------------------------------------------- */

/* Writes the allowed range of a numeric parameter, e.g. "> 0 m" or "between 0 and 99". */
static void pp_describe_range(const pp_optic_param *param, char *text, size_t bytes) {
  const char *unit = param->unit && param->unit[0] ? param->unit : "";
  const char *space = unit[0] ? " " : "";
  bool has_min = isfinite(param->min), has_max = isfinite(param->max);
  if (has_min && has_max)
    snprintf(text, bytes, "%s %g%s%s and %s %g%s%s", param->min_exclusive ? ">" : ">=",
             param->min, space, unit, param->max_exclusive ? "<" : "<=", param->max, space, unit);
  else if (has_min)
    snprintf(text, bytes, "%s %g%s%s", param->min_exclusive ? ">" : ">=", param->min, space,
             unit);
  else if (has_max)
    snprintf(text, bytes, "%s %g%s%s", param->max_exclusive ? "<" : "<=", param->max, space,
             unit);
  else
    snprintf(text, bytes, "any finite number%s%s", space, unit);
}

pp_status pp_optic_param_check(const pp_optic_type *type, const pp_optic_param *param,
                               double value) {
  PP_CHECK(type && param, PP_ERR_INTERNAL, "pp_optic_param_check: NULL type or parameter");
  char range[160];
  pp_describe_range(param, range, sizeof range);
  switch (param->kind) {
    case PP_PARAM_BOOL:
      PP_CHECK(value == 0.0 || value == 1.0, PP_ERR_INPUT,
               "%s: '%s' must be true or false (%s)", type->name, param->name, param->doc);
      return PP_SUCCESS;
    case PP_PARAM_CHOICE: {
      size_t n_choices = 0;
      while (param->choices && param->choices[n_choices]) n_choices++;
      PP_CHECK(value >= 0 && value < (double)n_choices && value == floor(value), PP_ERR_INPUT,
               "%s: '%s' must be one of its listed words (%s)", type->name, param->name,
               param->doc);
      return PP_SUCCESS;
    }
    case PP_PARAM_INT:
      PP_CHECK(isfinite(value) && value == floor(value), PP_ERR_INPUT,
               "%s: '%s' must be a whole number %s (got %g; %s)", type->name, param->name, range,
               value, param->doc);
      break;
    case PP_PARAM_REAL:
    case PP_PARAM_REAL_LIST:
      PP_CHECK(isfinite(value), PP_ERR_INPUT, "%s: '%s' must be a finite number %s (got %g)",
               type->name, param->name, range, value);
      break;
    case PP_PARAM_STRING:
      return PP_SUCCESS; /* no number: the text is checked where it is set */
  }
  bool above_min = param->min_exclusive ? value > param->min : value >= param->min;
  bool below_max = param->max_exclusive ? value < param->max : value <= param->max;
  PP_CHECK(above_min && below_max, PP_ERR_INPUT, "%s: '%s' must be %s (got %g; %s)", type->name,
           param->name, range, value, param->doc);
  return PP_SUCCESS;
}

pp_status pp_optic_spec_set(pp_optic_spec *spec, const char *key, double value) {
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "pp_optic_spec_set: spec without a type");
  int index = pp_optic_param_index(spec->type, key);
  PP_CHECK(index >= 0, PP_ERR_INPUT, "%s: unknown key '%s'", spec->type->name, key ? key : "");
  const pp_optic_param *param = &spec->type->params[index];
  PP_CHECK(param->kind != PP_PARAM_REAL_LIST, PP_ERR_INPUT, "%s: '%s' takes a list of numbers",
           spec->type->name, param->name);
  PP_CHECK(param->kind != PP_PARAM_STRING, PP_ERR_INPUT, "%s: '%s' takes %s, not a number",
           spec->type->name, param->name, param->file_path ? "a file name" : "text");
  PP_CALL(pp_optic_param_check(spec->type, param, value));
  spec->value[index] = value;
  spec->given[index] = true;
  return PP_SUCCESS;
}

pp_status pp_optic_spec_set_list(pp_optic_spec *spec, const char *key, const double *values,
                                 size_t count) {
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "pp_optic_spec_set_list: spec without a type");
  int index = pp_optic_param_index(spec->type, key);
  PP_CHECK(index >= 0, PP_ERR_INPUT, "%s: unknown key '%s'", spec->type->name, key ? key : "");
  const pp_optic_param *param = &spec->type->params[index];
  PP_CHECK(param->kind == PP_PARAM_REAL_LIST, PP_ERR_INPUT, "%s: '%s' takes one value, not a list",
           spec->type->name, param->name);
  PP_CHECK(count > 0 && values, PP_ERR_INPUT, "%s: '%s' must list at least one number",
           spec->type->name, param->name);
  for (size_t i = 0; i < count; i++) PP_CALL(pp_optic_param_check(spec->type, param, values[i]));
  double *copy = malloc(count * sizeof *copy);
  PP_CHECK(copy, PP_ERR_MEMORY, "%s: no memory for %zu values of '%s'", spec->type->name, count,
           param->name);
  memcpy(copy, values, count * sizeof *copy);
  free(spec->list);
  spec->list = copy;
  spec->list_len = count;
  spec->value[index] = NAN;
  spec->given[index] = true;
  return PP_SUCCESS;
}

pp_status pp_optic_spec_set_text(pp_optic_spec *spec, const char *key, const char *text) {
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "pp_optic_spec_set_text: spec without a type");
  int index = pp_optic_param_index(spec->type, key);
  PP_CHECK(index >= 0, PP_ERR_INPUT, "%s: unknown key '%s'", spec->type->name, key ? key : "");
  const pp_optic_param *param = &spec->type->params[index];
  PP_CHECK(param->kind == PP_PARAM_STRING, PP_ERR_INPUT, "%s: '%s' takes %s, not text",
           spec->type->name, param->name,
           param->kind == PP_PARAM_REAL_LIST ? "a list of numbers" : "one value");
  size_t length = text ? strlen(text) : 0;
  PP_CHECK(length > 0, PP_ERR_INPUT, "%s: '%s' must not be empty (%s)", spec->type->name,
           param->name, param->doc);
  PP_CHECK(length < PP_OPTIC_MAX_TEXT_BYTES, PP_ERR_INPUT,
           "%s: '%s' has %zu characters; at most %d are allowed", spec->type->name, param->name,
           length, PP_OPTIC_MAX_TEXT_BYTES - 1);
  char *copy = malloc(length + 1);
  PP_CHECK(copy, PP_ERR_MEMORY, "%s: no memory for '%s'", spec->type->name, param->name);
  memcpy(copy, text, length + 1);
  free(spec->text[index]);
  spec->text[index] = copy;
  spec->given[index] = true;
  return PP_SUCCESS;
}


pp_status pp_optic_spec_validate(const pp_optic_spec *spec) {
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "optic spec without a type");
  const pp_optic_type *type = spec->type;
  for (size_t i = 0; i < type->n_params; i++) {
    const pp_optic_param *param = &type->params[i];
    if (param->required)
      PP_CHECK(spec->given[i], PP_ERR_INPUT, "%s: key '%s' is required (%s%s%s)", type->name,
               param->name, param->doc, param->unit[0] ? ", " : "", param->unit);
    if (!spec->given[i]) continue;
    if (param->kind == PP_PARAM_REAL_LIST) {
      PP_CHECK(spec->list && spec->list_len > 0, PP_ERR_INPUT,
               "%s: '%s' must list at least one number", type->name, param->name);
      for (size_t k = 0; k < spec->list_len; k++)
        PP_CALL(pp_optic_param_check(type, param, spec->list[k]));
    } else if (param->kind == PP_PARAM_STRING) {
      PP_CHECK(spec->text[i] && spec->text[i][0], PP_ERR_INPUT, "%s: '%s' must not be empty (%s)",
               type->name, param->name, param->doc);
    } else {
      PP_CALL(pp_optic_param_check(type, param, spec->value[i]));
    }
  }
  if (type->validate) PP_CALL(type->validate(spec));
  return PP_SUCCESS;
}

pp_status pp_optic_spec_copy(const pp_optic_spec *src, pp_optic_spec *dst) {
  PP_CHECK(src && dst, PP_ERR_INTERNAL, "pp_optic_spec_copy: NULL spec");
  pp_optic_spec copy = *src;
  copy.list = NULL;
  copy.list_len = 0;
  copy.files = NULL;
  for (size_t i = 0; i < PP_OPTIC_MAX_PARAMS; i++) copy.text[i] = NULL;
  bool ok = true;
  if (src->list && src->list_len > 0) {
    copy.list = malloc(src->list_len * sizeof *copy.list);
    ok = copy.list != NULL;
    if (ok) {
      memcpy(copy.list, src->list, src->list_len * sizeof *copy.list);
      copy.list_len = src->list_len;
    }
  }
  for (size_t i = 0; ok && i < PP_OPTIC_MAX_PARAMS; i++) {
    if (!src->text[i]) continue;
    copy.text[i] = strdup(src->text[i]);
    ok = copy.text[i] != NULL;
  }
  if (ok && src->files) {
    copy.files = malloc(sizeof *copy.files);
    ok = copy.files != NULL;
    if (ok) *copy.files = *src->files;
  }
  if (!ok) {
    pp_optic_spec_clear(&copy);
    PP_CHECK(false, PP_ERR_MEMORY, "no memory to copy optic '%s'", src->name);
  }
  *dst = copy;
  return PP_SUCCESS;
}

void pp_optic_spec_clear(pp_optic_spec *spec) {
  if (!spec) return;
  free(spec->list);
  spec->list = NULL;
  spec->list_len = 0;
  for (size_t i = 0; i < PP_OPTIC_MAX_PARAMS; i++) {
    free(spec->text[i]);
    spec->text[i] = NULL;
  }
  free(spec->files);
  spec->files = NULL;
}

/* ---- dispatch through the row -------------------------------------------------------- */

double pp_optic_pupil_diameter_m(const pp_optic_spec *spec) {
  /* A row without pupil_diameter_m sizes nothing: POPPY's ScalarTransmission, ZernikeWFE and
   * FQPM_FFT_aligner define no pupil_diam, and image-plane optics do not size the pupil. */
  if (!spec || !spec->type || !spec->type->pupil_diameter_m) return 0.0;
  return spec->type->pupil_diameter_m(spec);
}

bool pp_optic_has_opd(const pp_optic_spec *spec) {
  return spec && spec->type && spec->type->has_opd && spec->type->has_opd(spec);
}

pp_status pp_optic_spec_load_files(pp_optic_spec *spec, int *param_index) {
  if (param_index) *param_index = -1;
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "pp_optic_spec_load_files: spec without a type");
  int ignored = -1;
  if (spec->type->load_files)
    PP_CALL(spec->type->load_files(spec, param_index ? param_index : &ignored));
  return PP_SUCCESS;
}

pp_status pp_optic_apply_pupil(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                               double *amplitude, double *opd) {
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "pp_optic_apply_pupil: spec without a type");
  PP_CHECK(grid && grid->nx > 0 && grid->ny > 0 && grid->pixelscale_m > 0 && amplitude,
           PP_ERR_INTERNAL, "pp_optic_apply_pupil: %s: empty grid or NULL amplitude",
           spec->name);
  PP_CHECK(spec->type->plane == PP_PLANE_PUPIL, PP_ERR_INTERNAL,
           "pp_optic_apply_pupil: %s is not a pupil-plane optic", spec->name);
  PP_CHECK(!pp_optic_has_opd(spec) || opd, PP_ERR_INTERNAL,
           "pp_optic_apply_pupil: %s adds OPD but no opd array was given", spec->name);
  /* The aligner's tilt is a phase that is not an OPD (it scales with 1/λ the other way):
   * it cannot be folded into the wavelength-independent amplitude and OPD. */
  PP_CHECK(!pp_optic_needs_fft_padding(spec), PP_ERR_INPUT,
           "optic '%s' (%s) tilts the complex field by half a pixel of the padded FFT image, "
           "per wavelength; this version's pupil → detector path cannot apply it yet (it "
           "goes with FFT propagation through image planes)",
           spec->name, spec->type->name);
  PP_CHECK(spec->type->apply_pupil, PP_ERR_INTERNAL,
           "pp_optic_apply_pupil: %s: its row has no pupil-plane code", spec->name);
  PP_CALL(spec->type->apply_pupil(spec, grid, amplitude, opd));
  return PP_SUCCESS;
}

/* ---- the FFT aligner and image planes ------------------------------------------------- */

bool pp_optic_needs_fft_padding(const pp_optic_spec *spec) {
  return spec && spec->type && spec->type->apply_pupil_fft != NULL;
}

pp_status pp_optic_apply_pupil_fft(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                   size_t fft_ny, size_t fft_nx, double complex *field) {
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "pp_optic_apply_pupil_fft: spec without a type");
  PP_CHECK(pp_optic_needs_fft_padding(spec), PP_ERR_INTERNAL,
           "pp_optic_apply_pupil_fft: %s (%s) does not act on the padded FFT field",
           spec->name, spec->type->name);
  PP_CHECK(grid && grid->nx > 0 && grid->ny > 0 && fft_nx > 0 && fft_ny > 0 && field,
           PP_ERR_INTERNAL, "pp_optic_apply_pupil_fft: %s: empty grid or FFT size, or NULL field",
           spec->name);
  PP_CALL(spec->type->apply_pupil_fft(spec, grid, fft_ny, fft_nx, field));
  return PP_SUCCESS;
}

bool pp_optic_is_image_plane(const pp_optic_spec *spec) {
  return spec && spec->type && spec->type->plane == PP_PLANE_IMAGE;
}

pp_status pp_optic_apply_image(const pp_optic_spec *spec, const pp_image_grid *grid,
                               double wavelength_m, double complex *field) {
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "pp_optic_apply_image: spec without a type");
  PP_CHECK(pp_optic_is_image_plane(spec), PP_ERR_INTERNAL,
           "pp_optic_apply_image: %s (%s) is not an image-plane optic", spec->name,
           spec->type->name);
  PP_CHECK(grid && grid->nx > 0 && grid->ny > 0 && grid->pixelscale_arcsec > 0 && field,
           PP_ERR_INTERNAL, "pp_optic_apply_image: %s: empty grid, pixel scale <= 0 or NULL field",
           spec->name);
  PP_CHECK(grid->centering == PP_IMAGE_CENTER_ARRAY || grid->centering == PP_IMAGE_CENTER_PIXEL,
           PP_ERR_INTERNAL, "pp_optic_apply_image: %s: unknown grid centering %d", spec->name,
           (int)grid->centering);
  PP_CHECK(wavelength_m > 0 && isfinite(wavelength_m), PP_ERR_INTERNAL,
           "pp_optic_apply_image: %s: wavelength %g m", spec->name, wavelength_m);
  PP_CHECK(grid->nrows == 0 || (grid->row0 < grid->ny && grid->nrows <= grid->ny - grid->row0),
           PP_ERR_INTERNAL, "pp_optic_apply_image: %s: rows [%zu, +%zu) outside a %zu-row plane",
           spec->name, grid->row0, grid->nrows, grid->ny);
  PP_CHECK(spec->type->apply_image, PP_ERR_INTERNAL,
           "pp_optic_apply_image: %s: no image-plane code for %s", spec->name, spec->type->name);
  PP_CALL(spec->type->apply_image(spec, grid, wavelength_m, field));
  return PP_SUCCESS;
}
