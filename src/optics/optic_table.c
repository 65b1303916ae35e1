/* The table of optic types a job file can name: parameters, kinds, defaults, ranges and
 * units, following POPPY 1.1's class arguments (poppy/optics.py, poppy/wfe.py) in
 * snake_case. The job parser validates against it; docs/optics.md documents it. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the parameters of each type ----------------------------------------------------- */

/* Shorthands for the table: any real, a length > 0, a length ≥ 0. */
#define PP_ANY_REAL .min = -INFINITY, .max = INFINITY
#define PP_POSITIVE .min = 0.0, .max = INFINITY, .min_exclusive = true
#define PP_NONNEGATIVE .min = 0.0, .max = INFINITY

/* POPPY's AnalyticOpticalElement takes shift_x, shift_y (metres, subtracted from the pixel
 * coordinates) and rotation (degrees counterclockwise, applied after the shift). */
#define PP_SHIFT_PARAMS                                                                   \
  {.name = "shift_x", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,           \
   .unit = "m", .doc = "moves the optic along +x (POPPY's shift_x)"},                     \
  {.name = "shift_y", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,           \
   .unit = "m", .doc = "moves the optic along +y (POPPY's shift_y)"}
#define PP_ROTATION_PARAM                                                                 \
  {.name = "rotation", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,          \
   .unit = "deg", .doc = "turns the optic counterclockwise about its own centre, after the shift"}

static const pp_optic_param pp_circle_params[] = {
    {.name = "radius", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "m",
     .doc = "radius of the clear circle"},
    {.name = "gray_pixel", .kind = PP_PARAM_BOOL, .default_value = 1.0, .min = 0, .max = 1,
     .unit = "", .doc = "edge pixels transmit the exact fraction of their area inside the circle"},
    PP_SHIFT_PARAMS,
};

static const pp_optic_param pp_square_params[] = {
    {.name = "size", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "m",
     .doc = "side length of the clear square"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

static const pp_optic_param pp_rectangle_params[] = {
    {.name = "width", .kind = PP_PARAM_REAL, .default_value = 0.5, PP_POSITIVE, .unit = "m",
     .doc = "full extent along x (before rotation)"},
    {.name = "height", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "m",
     .doc = "full extent along y (before rotation)"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* side, flattoflat and diameter are three ways to say one size: at most one may be
 * given (pp_hexagon_validate); none means POPPY's default side of 1 m. NaN marks
 * "no default of its own". */
static const pp_optic_param pp_hexagon_params[] = {
    {.name = "side", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "m",
     .doc = "side length = centre-to-corner radius (default 1 m when no size key is given)"},
    {.name = "flattoflat", .kind = PP_PARAM_REAL, .default_value = NAN, PP_POSITIVE, .unit = "m",
     .doc = "distance between opposite flat sides (= side·√3)"},
    {.name = "diameter", .kind = PP_PARAM_REAL, .default_value = NAN, PP_POSITIVE, .unit = "m",
     .doc = "corner-to-corner diameter (= 2·side)"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

static const pp_optic_param pp_multihex_params[] = {
    {.name = "flattoflat", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "m",
     .doc = "flat-to-flat size of each segment (default 1 m unless side is given)"},
    {.name = "side", .kind = PP_PARAM_REAL, .default_value = NAN, PP_POSITIVE, .unit = "m",
     .doc = "side length of each segment (= flattoflat/√3)"},
    {.name = "gap", .kind = PP_PARAM_REAL, .default_value = 0.01, PP_NONNEGATIVE, .unit = "m",
     .doc = "gap between the flat sides of neighbouring segments"},
    {.name = "rings", .kind = PP_PARAM_INT, .default_value = 1.0, .min = 0, .max = 99, .unit = "",
     .doc = "rings of segments around the central one (2 for JWST)"},
    {.name = "center", .kind = PP_PARAM_BOOL, .default_value = 0.0, .min = 0, .max = 1,
     .unit = "", .doc = "include the central segment"},
    {.name = "segmentlist", .kind = PP_PARAM_REAL_LIST, .default_value = NAN, PP_NONNEGATIVE,
     .unit = "", .doc = "only these segments (0 = centre, 1 = top, clockwise); replaces center"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

static const pp_optic_param pp_obscuration_params[] = {
    {.name = "secondary_radius", .kind = PP_PARAM_REAL, .default_value = 0.5, PP_POSITIVE,
     .unit = "m", .doc = "radius of the opaque central disk"},
    {.name = "n_supports", .kind = PP_PARAM_INT, .default_value = 4.0, .min = 0, .max = 360,
     .unit = "", .doc = "number of spider vanes, equally spaced in angle"},
    {.name = "support_width", .kind = PP_PARAM_REAL, .default_value = 0.01, PP_NONNEGATIVE,
     .unit = "m", .doc = "full width of each vane"},
    {.name = "support_angle_offset", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,
     .unit = "deg", .doc = "angle of the first vane, counterclockwise from +x"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

static const pp_optic_param pp_transmission_params[] = {
    {.name = "transmission", .kind = PP_PARAM_REAL, .default_value = 1.0, .min = 0.0, .max = 1.0,
     .unit = "", .doc = "uniform factor on the field amplitude (POPPY applies it to amplitude)"},
};

static const pp_optic_param pp_zernike_params[] = {
    {.name = "radius", .kind = PP_PARAM_REAL, .required = true, .default_value = NAN,
     PP_POSITIVE, .unit = "m", .doc = "radius of the unit disk on which the terms are normalized"},
    {.name = "coefficients", .kind = PP_PARAM_REAL_LIST, .required = true, .default_value = NAN,
     PP_ANY_REAL, .unit = "m",
     .doc = "OPD of each term in metres RMS, Noll order from j = 1 (piston)"},
    {.name = "aperture_stop", .kind = PP_PARAM_BOOL, .default_value = 0.0, .min = 0, .max = 1,
     .unit = "", .doc = "also block light outside radius (hard edge)"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* POPPY's FITSOpticalElement (poppy/poppy_core.py) arguments, pupil planes only. */
static const char *const pp_planetype_words[] = {"pupil", NULL};

static const pp_optic_param pp_fits_element_params[] = {
    {.name = "transmission", .kind = PP_PARAM_STRING, .default_value = NAN, .unit = "",
     .file_path = true,
     .doc = "amplitude transmission map: 'file.fits', 'file.fits[EXTNAME]' or 'file.h5:/dataset'"},
    {.name = "opd", .kind = PP_PARAM_STRING, .default_value = NAN, .unit = "", .file_path = true,
     .doc = "OPD map, in the same forms as transmission"},
    {.name = "opdunits", .kind = PP_PARAM_CHOICE, .default_value = NAN,
     .choices = pp_opd_unit_words, .unit = "",
     .doc = "unit of the OPD map's values (default: the file's BUNIT, or its units attribute)"},
    {.name = "pixelscale", .kind = PP_PARAM_REAL, .default_value = NAN, PP_POSITIVE, .unit = "m",
     .doc = "metres per map pixel (default: the file's PIXELSCL or PUPLSCAL, or its "
            "pixelscale_m attribute)"},
    {.name = "planetype", .kind = PP_PARAM_CHOICE, .default_value = 0.0,
     .choices = pp_planetype_words, .unit = "",
     .doc = "the plane the maps belong to: pupil (image-plane maps need FFT propagation)"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
    {.name = "flip_x", .kind = PP_PARAM_BOOL, .default_value = 0.0, .min = 0, .max = 1,
     .unit = "", .doc = "mirror the maps left-right (x to -x) before turning and shifting them"},
    {.name = "flip_y", .kind = PP_PARAM_BOOL, .default_value = 0.0, .min = 0, .max = 1,
     .unit = "", .doc = "mirror the maps top-bottom (y to -y) before turning and shifting them"},
};

/* ---- image-plane optics and the FFT aligner (poppy/optics.py) ----------------------------- */

/* In image planes POPPY takes shift_x, shift_y in arcsec (get_coordinates subtracts them from
 * the image coordinates, which are in arcsec there). */
#define PP_SKY_SHIFT_PARAMS                                                               \
  {.name = "shift_x", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,           \
   .unit = "arcsec", .doc = "moves the mask along +x on the sky (POPPY's shift_x)"},      \
  {.name = "shift_y", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,           \
   .unit = "arcsec", .doc = "moves the mask along +y on the sky (POPPY's shift_y)"}

static const pp_optic_param pp_fqpm_params[] = {
    {.name = "wavelength", .kind = PP_PARAM_REAL, .default_value = 10.65e-6, PP_POSITIVE,
     .unit = "m", .doc = "design wavelength, where the retardance is exactly half a wave"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

static const pp_optic_param pp_aligner_params[] = {
    {.name = "direction", .kind = PP_PARAM_CHOICE, .default_value = 0.0,
     .choices = pp_aligner_direction_words, .unit = "",
     .doc = "forward (before the FQPM's image plane) or backward (after it, undoing the tilt)"},
};

static const pp_optic_param pp_blc_params[] = {
    {.name = "kind", .kind = PP_PARAM_CHOICE, .default_value = 0.0, .choices = pp_blc_kind_words,
     .unit = "", .doc = "circular (1 − (2·J1(σr)/σr)²) or linear (1 − (sin(σy)/σy)², a band along x)"},
    {.name = "sigma", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "1/arcsec",
     .doc = "size parameter σ of Krist et al. 2009: larger σ, narrower mask"},
    {.name = "wavelength", .kind = PP_PARAM_REAL, .default_value = NAN, PP_POSITIVE, .unit = "m",
     .doc = "accepted as in POPPY, where only the NIRCam wedge uses it; circular and linear ignore it"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

static const pp_optic_param pp_occulter_params[] = {
    {.name = "radius", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "radius of the opaque spot (gray edge pixels)"},
    PP_SKY_SHIFT_PARAMS,
};

static const pp_optic_param pp_annular_stop_params[] = {
    {.name = "radius_inner", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_NONNEGATIVE,
     .unit = "arcsec", .doc = "radius of the opaque central spot; 0 for none"},
    {.name = "radius_outer", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_NONNEGATIVE,
     .unit = "arcsec", .doc = "radius of the clear field's outer edge; 0 for no outer edge"},
    PP_SKY_SHIFT_PARAMS,
};

static const pp_optic_param pp_bar_params[] = {
    {.name = "width", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "full width of the opaque bar along x (before rotation)"},
    {.name = "height", .kind = PP_PARAM_REAL, .default_value = 10.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "full length of the bar along y (before rotation)"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

static const pp_optic_param pp_square_stop_params[] = {
    {.name = "size", .kind = PP_PARAM_REAL, .default_value = 20.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "side length of the clear square"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

static const pp_optic_param pp_rectangular_stop_params[] = {
    {.name = "width", .kind = PP_PARAM_REAL, .default_value = 0.5, PP_POSITIVE, .unit = "arcsec",
     .doc = "full extent of the clear rectangle along x (before rotation)"},
    {.name = "height", .kind = PP_PARAM_REAL, .default_value = 5.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "full extent of the clear rectangle along y (before rotation)"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

#define PP_COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const pp_optic_type pp_optic_types[] = {
    {.name = "circular_aperture", .poppy_name = "CircularAperture", .plane = PP_PLANE_PUPIL,
     .params = pp_circle_params, .n_params = PP_COUNT(pp_circle_params),
     .doc = "clear circle; edge pixels gray by their exact area inside"},
    {.name = "square_aperture", .poppy_name = "SquareAperture", .plane = PP_PLANE_PUPIL,
     .params = pp_square_params, .n_params = PP_COUNT(pp_square_params),
     .doc = "clear square, hard edges"},
    {.name = "rectangle_aperture", .poppy_name = "RectangleAperture", .plane = PP_PLANE_PUPIL,
     .params = pp_rectangle_params, .n_params = PP_COUNT(pp_rectangle_params),
     .doc = "clear rectangle, hard edges"},
    {.name = "hexagon_aperture", .poppy_name = "HexagonAperture", .plane = PP_PLANE_PUPIL,
     .params = pp_hexagon_params, .n_params = PP_COUNT(pp_hexagon_params),
     .doc = "clear hexagon with corners on the x axis, hard edges",
     .validate = pp_hexagon_validate},
    {.name = "multi_hexagon_aperture", .poppy_name = "MultiHexagonAperture",
     .plane = PP_PLANE_PUPIL, .params = pp_multihex_params,
     .n_params = PP_COUNT(pp_multihex_params),
     .doc = "rings of hexagonal segments with gaps (JWST-like), hard edges",
     .validate = pp_multihex_validate},
    {.name = "secondary_obscuration", .poppy_name = "SecondaryObscuration",
     .plane = PP_PLANE_PUPIL, .params = pp_obscuration_params,
     .n_params = PP_COUNT(pp_obscuration_params),
     .doc = "opaque central disk and radial spider vanes, hard edges"},
    {.name = "scalar_transmission", .poppy_name = "ScalarTransmission", .plane = PP_PLANE_PUPIL,
     .params = pp_transmission_params, .n_params = PP_COUNT(pp_transmission_params),
     .doc = "uniform amplitude factor (a neutral density filter, or an empty plane)"},
    {.name = "zernike_wfe", .poppy_name = "ZernikeWFE", .plane = PP_PLANE_PUPIL,
     .params = pp_zernike_params, .n_params = PP_COUNT(pp_zernike_params),
     .doc = "wavefront error as Noll-ordered Zernike terms, metres RMS each",
     .validate = pp_zernike_validate},
    {.name = "fits_optical_element", .poppy_name = "FITSOpticalElement",
     .plane = PP_PLANE_PUPIL, .params = pp_fits_element_params,
     .n_params = PP_COUNT(pp_fits_element_params),
     .doc = "transmission and/or OPD maps from FITS or HDF5 files, resampled onto the pupil",
     .validate = pp_fits_element_validate},
    {.name = "fqpm_fft_aligner", .poppy_name = "FQPM_FFT_aligner", .plane = PP_PLANE_PUPIL,
     .params = pp_aligner_params, .n_params = PP_COUNT(pp_aligner_params),
     .doc = "pupil tilt of half a padded-FFT pixel that centres the FQPM between four pixels"},
    {.name = "ideal_fqpm", .poppy_name = "IdealFQPM", .plane = PP_PLANE_IMAGE,
     .params = pp_fqpm_params, .n_params = PP_COUNT(pp_fqpm_params),
     .doc = "four-quadrant phase mask, half a wave at the design wavelength"},
    {.name = "band_limited_coronagraph", .poppy_name = "BandLimitedCoronagraph",
     .plane = PP_PLANE_IMAGE, .params = pp_blc_params, .n_params = PP_COUNT(pp_blc_params),
     .doc = "band-limited occulting mask, circular or linear (Krist et al. 2009)"},
    {.name = "circular_occulter", .poppy_name = "CircularOcculter", .plane = PP_PLANE_IMAGE,
     .params = pp_occulter_params, .n_params = PP_COUNT(pp_occulter_params),
     .doc = "opaque disk, gray edge pixels"},
    {.name = "annular_field_stop", .poppy_name = "AnnularFieldStop", .plane = PP_PLANE_IMAGE,
     .params = pp_annular_stop_params, .n_params = PP_COUNT(pp_annular_stop_params),
     .doc = "clear disk or ring (a circular field stop), gray edge pixels",
     .validate = pp_annular_stop_validate},
    {.name = "bar_occulter", .poppy_name = "BarOcculter", .plane = PP_PLANE_IMAGE,
     .params = pp_bar_params, .n_params = PP_COUNT(pp_bar_params),
     .doc = "opaque bar along y, hard edges"},
    {.name = "square_field_stop", .poppy_name = "SquareFieldStop", .plane = PP_PLANE_IMAGE,
     .params = pp_square_stop_params, .n_params = PP_COUNT(pp_square_stop_params),
     .doc = "clear square, hard edges"},
    {.name = "rectangular_field_stop", .poppy_name = "RectangularFieldStop",
     .plane = PP_PLANE_IMAGE, .params = pp_rectangular_stop_params,
     .n_params = PP_COUNT(pp_rectangular_stop_params), .doc = "clear rectangle, hard edges"},
};

_Static_assert(PP_COUNT(pp_multihex_params) <= PP_OPTIC_MAX_PARAMS, "too many parameters");
_Static_assert(PP_COUNT(pp_obscuration_params) <= PP_OPTIC_MAX_PARAMS, "too many parameters");
_Static_assert(PP_COUNT(pp_zernike_params) <= PP_OPTIC_MAX_PARAMS, "too many parameters");
_Static_assert(PP_COUNT(pp_fits_element_params) <= PP_OPTIC_MAX_PARAMS, "too many parameters");
_Static_assert(PP_COUNT(pp_blc_params) <= PP_OPTIC_MAX_PARAMS, "too many parameters");

/* ---- lookups ----------------------------------------------------------------------- */

size_t pp_optic_type_count(void) { return PP_COUNT(pp_optic_types); }

const pp_optic_type *pp_optic_type_at(size_t index) {
  return index < PP_COUNT(pp_optic_types) ? &pp_optic_types[index] : NULL;
}

const pp_optic_type *pp_optic_type_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < PP_COUNT(pp_optic_types); i++)
    if (strcmp(pp_optic_types[i].name, name) == 0) return &pp_optic_types[i];
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

/* ---- dispatch to the geometry of each type -------------------------------------------- */

/* One switch on the name keeps the public type struct free of function pointers the job
 * module does not need; the table is small, so the string compare costs nothing. */
typedef enum {
  PP_KIND_CIRCLE, PP_KIND_SQUARE, PP_KIND_RECTANGLE, PP_KIND_HEXAGON, PP_KIND_MULTIHEX,
  PP_KIND_OBSCURATION, PP_KIND_TRANSMISSION, PP_KIND_ZERNIKE, PP_KIND_FITS_ELEMENT,
  PP_KIND_FQPM_ALIGNER, PP_KIND_FQPM, PP_KIND_BAND_LIMITED, PP_KIND_CIRCULAR_OCCULTER,
  PP_KIND_ANNULAR_STOP, PP_KIND_BAR_OCCULTER, PP_KIND_SQUARE_STOP, PP_KIND_RECTANGULAR_STOP,
  PP_KIND_UNKNOWN
} pp_optic_kind;

static pp_optic_kind pp_kind_of(const pp_optic_spec *spec) {
  if (!spec || !spec->type) return PP_KIND_UNKNOWN;
  ptrdiff_t index = spec->type - pp_optic_types;
  if (index < 0 || (size_t)index >= PP_COUNT(pp_optic_types)) return PP_KIND_UNKNOWN;
  return (pp_optic_kind)index; /* the enum follows the table's order */
}
_Static_assert(PP_KIND_UNKNOWN == PP_COUNT(pp_optic_types), "kind enum must follow the table");

double pp_optic_pupil_diameter_m(const pp_optic_spec *spec) {
  switch (pp_kind_of(spec)) {
    case PP_KIND_CIRCLE: return pp_circle_pupil_diameter_m(spec);
    case PP_KIND_SQUARE: return pp_square_pupil_diameter_m(spec);
    case PP_KIND_RECTANGLE: return pp_rectangle_pupil_diameter_m(spec);
    case PP_KIND_HEXAGON: return pp_hexagon_pupil_diameter_m(spec);
    case PP_KIND_MULTIHEX: return pp_multihex_pupil_diameter_m(spec);
    case PP_KIND_OBSCURATION: return pp_obscuration_pupil_diameter_m(spec);
    case PP_KIND_FITS_ELEMENT: return pp_fits_element_pupil_diameter_m(spec);
    /* POPPY's ScalarTransmission, ZernikeWFE and FQPM_FFT_aligner define no pupil_diam;
     * image-plane optics do not size the pupil. */
    case PP_KIND_TRANSMISSION:
    case PP_KIND_ZERNIKE:
    case PP_KIND_FQPM_ALIGNER:
    case PP_KIND_FQPM:
    case PP_KIND_BAND_LIMITED:
    case PP_KIND_CIRCULAR_OCCULTER:
    case PP_KIND_ANNULAR_STOP:
    case PP_KIND_BAR_OCCULTER:
    case PP_KIND_SQUARE_STOP:
    case PP_KIND_RECTANGULAR_STOP:
    case PP_KIND_UNKNOWN: return 0.0;
  }
  return 0.0;
}

bool pp_optic_has_opd(const pp_optic_spec *spec) {
  switch (pp_kind_of(spec)) {
    case PP_KIND_ZERNIKE: return true;
    case PP_KIND_FITS_ELEMENT: return pp_optic_spec_given(spec, "opd");
    default: return false;
  }
}

pp_status pp_optic_spec_load_files(pp_optic_spec *spec, int *param_index) {
  if (param_index) *param_index = -1;
  PP_CHECK(spec && spec->type, PP_ERR_INTERNAL, "pp_optic_spec_load_files: spec without a type");
  int ignored = -1;
  if (pp_kind_of(spec) == PP_KIND_FITS_ELEMENT)
    PP_CALL(pp_fits_element_load(spec, param_index ? param_index : &ignored));
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
  switch (pp_kind_of(spec)) {
    case PP_KIND_CIRCLE: PP_CALL(pp_circle_apply(spec, grid, amplitude, opd)); break;
    case PP_KIND_SQUARE:
    case PP_KIND_RECTANGLE: PP_CALL(pp_rectangle_apply(spec, grid, amplitude, opd)); break;
    case PP_KIND_HEXAGON: PP_CALL(pp_hexagon_apply(spec, grid, amplitude, opd)); break;
    case PP_KIND_MULTIHEX: PP_CALL(pp_multihex_apply(spec, grid, amplitude, opd)); break;
    case PP_KIND_OBSCURATION: PP_CALL(pp_obscuration_apply(spec, grid, amplitude, opd)); break;
    case PP_KIND_TRANSMISSION: PP_CALL(pp_transmission_apply(spec, grid, amplitude, opd)); break;
    case PP_KIND_ZERNIKE: PP_CALL(pp_zernike_apply(spec, grid, amplitude, opd)); break;
    case PP_KIND_FITS_ELEMENT:
      PP_CALL(pp_fits_element_apply(spec, grid, amplitude, opd));
      break;
    default:
      PP_CHECK(false, PP_ERR_INTERNAL, "pp_optic_apply_pupil: %s: type not from the table",
               spec->name);
  }
  return PP_SUCCESS;
}

/* ---- the FFT aligner and image planes ------------------------------------------------- */

bool pp_optic_needs_fft_padding(const pp_optic_spec *spec) {
  return pp_kind_of(spec) == PP_KIND_FQPM_ALIGNER;
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
  PP_CALL(pp_fqpm_aligner_apply(spec, grid, fft_ny, fft_nx, field));
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
  switch (pp_kind_of(spec)) {
    case PP_KIND_FQPM: PP_CALL(pp_fqpm_apply(spec, grid, wavelength_m, field)); break;
    case PP_KIND_BAND_LIMITED: PP_CALL(pp_band_limited_apply(spec, grid, field)); break;
    case PP_KIND_CIRCULAR_OCCULTER:
    case PP_KIND_ANNULAR_STOP: PP_CALL(pp_annular_stop_apply(spec, grid, field)); break;
    case PP_KIND_BAR_OCCULTER: PP_CALL(pp_rectangular_stop_apply(spec, grid, true, field)); break;
    case PP_KIND_SQUARE_STOP:
    case PP_KIND_RECTANGULAR_STOP:
      PP_CALL(pp_rectangular_stop_apply(spec, grid, false, field));
      break;
    default:
      PP_CHECK(false, PP_ERR_INTERNAL, "pp_optic_apply_image: %s: no image-plane code for %s",
               spec->name, spec->type->name);
  }
  return PP_SUCCESS;
}
