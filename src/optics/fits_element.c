/* fits_optical_element (POPPY FITSOpticalElement, poppy/poppy_core.py): an amplitude
 * transmission map and/or an OPD map read from FITS or HDF5 files (src/formats/map_read.c)
 * and laid on the pupil grid. Either may be a cube of maps, one per field point of a PSF
 * grid (docs/grids.md; not in POPPY): load reads and checks each of its maps, apply lays
 * map files->field_point, which the job sets per point (pp_optic_spec_use_field_point).
 *
 * Facts taken from POPPY (poppy_core.py FITSOpticalElement.__init__, OpticalElement.get_phasor;
 * utils.py pad_or_crop_to_shape), described in docs/optics.md:
 *   - opdunits, when not given, comes from the OPD header's BUNIT; meter(s)/m, micron(s)/um/
 *     micrometer(s), nanometer(s)/nm, compared in lower case; neither given is an error.
 *   - pixel scale for pupil planes: PIXELSCL, then PUPLSCAL, looked up in the transmission
 *     header, then the OPD header, for each keyword in turn; pupil_diam = pixels × scale.
 *   - both maps have the same shape; the transmission acts on the field amplitude.
 *   - a map whose scale is within 0.1% of the wavefront's is used pixel for pixel, centred by
 *     pad_or_crop_to_shape: map pixel i lands on grid pixel i + trunc((n_grid − n_map)/2).
 *   - flips first, then rotation counterclockwise about the map's centre, then the shift.
 * Where polypsf differs, on purpose (also in docs/optics.md): maps of other scales are
 * sampled bilinearly at their exact physical positions (POPPY zooms with a cubic spline
 * whose end pixels are pinned, then crops); shift_x/shift_y move the map by exactly that
 * many metres, interpolating fractions of a pixel (POPPY rolls by int(shift/pixelscale),
 * which truncates 0.03/0.01 = 2.999… to 2 pixels); rotation samples the turned map
 * bilinearly (POPPY: spline, then clips the transmission to [0, 1] and zeroes values below
 * 1e-3); rectangular maps are accepted (POPPY asks for square ones) and ask for the larger
 * side as pupil diameter. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "polypsf/formats.h"

/* ---- units ---------------------------------------------------------------------------- */

enum { PP_OPD_UNIT_COUNT = 11 };
const char *const pp_opd_unit_words[PP_OPD_UNIT_COUNT + 1] = {
    "m",  "meter",  "meters",  "um",  "micron", "microns", "micrometer", "micrometers",
    "nm", "nanometer", "nanometers", NULL};
static const double pp_opd_unit_metres[PP_OPD_UNIT_COUNT] = {
    1.0, 1.0, 1.0, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6, 1e-9, 1e-9, 1e-9};

double pp_opd_unit_to_m(size_t word_index) {
  return word_index < PP_OPD_UNIT_COUNT ? pp_opd_unit_metres[word_index] : NAN;
}

/* A unit written in a file (BUNIT, units attribute), compared as POPPY does: in lower case. */
static bool pp_opd_unit_parse(const char *text, double *metres) {
  for (size_t i = 0; i < PP_OPD_UNIT_COUNT; i++) {
    if (strcasecmp(text, pp_opd_unit_words[i]) == 0) {
      *metres = pp_opd_unit_metres[i];
      return true;
    }
  }
  return false;
}

/* ---- the two maps ------------------------------------------------------------------------ */

typedef enum { PP_MAP_TRANSMISSION = 0, PP_MAP_OPD = 1, PP_MAP_ROLES = 2 } pp_map_role;
static const char *const pp_map_keys[PP_MAP_ROLES] = {"transmission", "opd"};

/* POPPY (OpticalElement.get_phasor) uses a map pixel for pixel when its pixel scale is
 * within this fraction of the wavefront's, and resamples it otherwise. */
#define PP_MAP_SAME_SCALE_TOLERANCE 1e-3
/* Sample positions this close to a whole map pixel (in pixels) are taken as that pixel, so
 * that a map laid pixel for pixel is copied exactly despite rounding in x/pixelscale. */
#define PP_MAP_SNAP_PIXELS 1e-9

pp_status pp_fits_element_validate(const pp_optic_spec *spec) {
  bool transmission = pp_optic_spec_given(spec, "transmission");
  bool opd = pp_optic_spec_given(spec, "opd");
  PP_CHECK(transmission || opd, PP_ERR_INPUT,
           "%s: give 'transmission', 'opd' or both: each names a map file (FITS 'file.fits' or "
           "'file.fits[EXTNAME]', HDF5 'file.h5:/dataset')",
           spec->type->name);
  PP_CHECK(opd || !pp_optic_spec_given(spec, "opdunits"), PP_ERR_INPUT,
           "%s: 'opdunits' is the unit of an 'opd' map, but no 'opd' is given", spec->type->name);
  return PP_SUCCESS;
}

/* Passes an error up with the type and key in front: "fits_optical_element: opd: …". */
static pp_status pp_fits_element_error(const pp_optic_spec *spec, pp_map_role role,
                                       pp_status status) {
  pp_status prefixed = pp_error_raise(pp_status_code(status), __FILE__, __LINE__, __func__,
                                      "%s: %s: %s", spec->type->name, pp_map_keys[role],
                                      pp_status_message(status));
  pp_status_free(status);
  return prefixed;
}

/* Reads one of the spec's maps, map `slice` when its file is a cube of maps (pp_map_read_slice
 * checks the file, the rank and that every value is finite) and checks what its role asks:
 * a transmission is never negative. */
static pp_status pp_fits_element_read(const pp_optic_spec *spec, pp_map_role role, size_t slice,
                                      pp_map *map) {
  const char *location = pp_optic_spec_get_text(spec, pp_map_keys[role]);
  PP_CHECK(location != NULL, PP_ERR_INTERNAL, "%s: no '%s' to read", spec->name,
           pp_map_keys[role]);
  pp_status status = pp_map_read_slice(location, slice, map);
  if (status != PP_SUCCESS) return pp_fits_element_error(spec, role, status);
  if (role == PP_MAP_TRANSMISSION) {
    size_t count = map->ny * map->nx;
    for (size_t p = 0; p < count; p++) {
      if (map->values[p] >= 0.0) continue;
      size_t y = p / map->nx, x = p % map->nx;
      double value = map->values[p];
      char plane[48] = "";
      if (map->n_slices) snprintf(plane, sizeof plane, " of map %zu", slice);
      pp_map_clear(map);
      PP_CHECK(false, PP_ERR_INPUT,
               "%s: transmission: '%s': the value at (y, x) = (%zu, %zu)%s (counted from 0, "
               "numpy order) is %g; an amplitude transmission must be >= 0",
               spec->type->name, location, y, x, plane, value);
    }
  }
  return PP_SUCCESS;
}

/* Reads and checks maps 1 … n_maps − 1 of a cube (map 0 was read for the facts), one at a
 * time, so that a bad map anywhere in it stops the job before anything is computed. */
static pp_status pp_fits_element_check_cube(const pp_optic_spec *spec, pp_map_role role,
                                            size_t n_maps) {
  for (size_t slice = 1; slice < n_maps; slice++) {
    pp_map map;
    PP_CALL(pp_fits_element_read(spec, role, slice, &map));
    pp_map_clear(&map);
  }
  return PP_SUCCESS;
}

/* What one map's file said, kept after its values are released. */
typedef struct {
  bool given, is_hdf5;
  size_t ny, nx, n_maps;
  double pixelscale_m;
  char pixelscale_key[16];
  char unit[72];
  const char *location;
} pp_map_facts;

/* POPPY looks for PIXELSCL before PUPLSCAL, whichever file holds it: lower ranks win. */
static int pp_pixelscale_key_rank(const char *key) { return strcmp(key, "PUPLSCAL") == 0 ? 1 : 0; }

static pp_status pp_fits_element_pixelscale(const pp_optic_spec *spec,
                                            const pp_map_facts facts[PP_MAP_ROLES],
                                            int *param_index, double *pixelscale_m) {
  if (pp_optic_spec_given(spec, "pixelscale")) {
    *pixelscale_m = pp_optic_spec_get(spec, "pixelscale");
    return PP_SUCCESS;
  }
  int best = -1, n_given = 0, only = -1;
  for (int role = 0; role < PP_MAP_ROLES; role++) {
    if (!facts[role].given) continue;
    n_given++;
    only = role;
    if (!facts[role].pixelscale_key[0]) continue;
    if (best < 0 || pp_pixelscale_key_rank(facts[role].pixelscale_key) <
                        pp_pixelscale_key_rank(facts[best].pixelscale_key))
      best = role;
  }
  if (best < 0) {
    char where[2 * PP_OPTIC_MAX_TEXT_BYTES + 256] = "";
    size_t used = 0;
    for (int role = 0; role < PP_MAP_ROLES && used < sizeof where; role++) {
      if (!facts[role].given) continue;
      int n = snprintf(where + used, sizeof where - used, "%s'%s' has %s", used ? "; " : "",
                       facts[role].location,
                       facts[role].is_hdf5 ? "no attribute pixelscale_m on its dataset"
                                           : "neither PIXELSCL nor PUPLSCAL in its header");
      if (n < 0) break;
      used += (size_t)n;
    }
    *param_index = n_given == 1 ? pp_optic_param_index(spec->type, pp_map_keys[only]) : -1;
    PP_CHECK(false, PP_ERR_INPUT,
             "%s: no pixel scale for the map%s: %s; set 'pixelscale' (metres per map pixel) in "
             "the job",
             spec->type->name, n_given > 1 ? "s" : "", where);
  }
  int other = 1 - best;
  if (facts[other].given && facts[other].pixelscale_key[0]) {
    double a = facts[best].pixelscale_m, b = facts[other].pixelscale_m;
    PP_CHECK(fabs(a - b) <= PP_MAP_SAME_SCALE_TOLERANCE * fmax(a, b), PP_ERR_INPUT,
             "%s: the maps disagree on their pixel scale: %s = %.10g m in '%s' but %s = %.10g m "
             "in '%s'; set 'pixelscale' (metres per map pixel) in the job to say which",
             spec->type->name, facts[best].pixelscale_key, a, facts[best].location,
             facts[other].pixelscale_key, b, facts[other].location);
  }
  *pixelscale_m = facts[best].pixelscale_m;
  return PP_SUCCESS;
}

static pp_status pp_fits_element_opd_unit(const pp_optic_spec *spec, const pp_map_facts *opd,
                                          double *metres) {
  if (pp_optic_spec_given(spec, "opdunits")) {
    *metres = pp_opd_unit_to_m((size_t)pp_optic_spec_get(spec, "opdunits"));
    return PP_SUCCESS;
  }
  const char *unit_key = opd->is_hdf5 ? "the units attribute" : "BUNIT";
  PP_CHECK(opd->unit[0] != '\0', PP_ERR_INPUT,
           "%s: opd: '%s' does not say its unit (no %s); set 'opdunits' (m, um or nm) in the job "
           "(polypsf, like POPPY, does not guess)",
           spec->type->name, opd->location, unit_key);
  PP_CHECK(strncasecmp(opd->unit, "radian", 6) != 0, PP_ERR_INPUT,
           "%s: opd: '%s' gives %s = '%s'; OPD maps in radians (POPPY's phase maps) are not "
           "supported: give the OPD in m, um or nm",
           spec->type->name, opd->location, unit_key, opd->unit);
  PP_CHECK(pp_opd_unit_parse(opd->unit, metres), PP_ERR_INPUT,
           "%s: opd: '%s' gives %s = '%s', which is not a unit of length polypsf knows; allowed "
           "(any case): m, meter(s), um, micron(s), micrometer(s), nm, nanometer(s); or set "
           "'opdunits' in the job",
           spec->type->name, opd->location, unit_key, opd->unit);
  return PP_SUCCESS;
}

pp_status pp_fits_element_load(pp_optic_spec *spec, int *param_index) {
  *param_index = -1;
  free(spec->files);
  spec->files = NULL;
  pp_map_facts facts[PP_MAP_ROLES] = {{0}};
  for (int role = 0; role < PP_MAP_ROLES; role++) {
    if (!pp_optic_spec_given(spec, pp_map_keys[role])) continue;
    pp_map map;
    pp_status status = pp_fits_element_read(spec, (pp_map_role)role, 0, &map);
    if (status == PP_SUCCESS) {
      pp_map_facts *f = &facts[role];
      *f = (pp_map_facts){.given = true, .is_hdf5 = map.is_hdf5, .ny = map.ny, .nx = map.nx,
                          .n_maps = map.n_slices, .pixelscale_m = map.pixelscale_m,
                          .location = pp_optic_spec_get_text(spec, pp_map_keys[role])};
      snprintf(f->pixelscale_key, sizeof f->pixelscale_key, "%s", map.pixelscale_key);
      snprintf(f->unit, sizeof f->unit, "%s", map.unit);
      pp_map_clear(&map); /* only the facts are kept: the system reads the values again */
      status = pp_fits_element_check_cube(spec, (pp_map_role)role, f->n_maps);
    }
    if (status != PP_SUCCESS) {
      *param_index = pp_optic_param_index(spec->type, pp_map_keys[role]);
      return pp_error_trace(status, __FILE__, __LINE__, __func__);
    }
  }
  const pp_map_facts *t = &facts[PP_MAP_TRANSMISSION], *o = &facts[PP_MAP_OPD];
  PP_CHECK(!(t->given && o->given) || (t->ny == o->ny && t->nx == o->nx), PP_ERR_INPUT,
           "%s: the transmission map '%s' is %zu × %zu pixels (y × x) but the OPD map '%s' is "
           "%zu × %zu; both maps must have the same shape (as POPPY's FITSOpticalElement)",
           spec->type->name, t->location, t->ny, t->nx, o->location, o->ny, o->nx);

  struct pp_optic_files files = {.ny = t->given ? t->ny : o->ny, .nx = t->given ? t->nx : o->nx,
                                 .opd_to_m = 1.0,
                                 .n_maps = {t->n_maps, o->n_maps}};
  PP_CALL(pp_fits_element_pixelscale(spec, facts, param_index, &files.pixelscale_m));
  if (o->given) {
    pp_status status = pp_fits_element_opd_unit(spec, o, &files.opd_to_m);
    if (status != PP_SUCCESS) {
      *param_index = pp_optic_param_index(spec->type, "opd");
      return pp_error_trace(status, __FILE__, __LINE__, __func__);
    }
  }
  spec->files = malloc(sizeof *spec->files);
  PP_CHECK(spec->files != NULL, PP_ERR_MEMORY, "%s: out of memory", spec->name);
  *spec->files = files;
  return PP_SUCCESS;
}

double pp_fits_element_pupil_diameter_m(const pp_optic_spec *spec) {
  const struct pp_optic_files *files = spec->files;
  if (!files) return NAN; /* not loaded: the caller's check reports an invalid diameter */
  /* POPPY: pupil_diam = pixelscale × shape[0] of a square map; the larger side here. */
  size_t n = files->ny > files->nx ? files->ny : files->nx;
  return (double)n * files->pixelscale_m;
}

/* ---- laying a map on the grid ------------------------------------------------------------- */

/* How a grid pixel finds its place in the map. */
typedef struct {
  pp_optic_frame frame;     /* shift (plus POPPY's centring offset) and rotation */
  double map_pixelscale_m;  /* the scale the map is laid at */
  size_t ny, nx;            /* map shape */
  bool flip_x, flip_y;
} pp_map_placement;

/* Grid pixels by which POPPY's pad_or_crop_to_shape puts the map's centre off the grid's:
 * map pixel i lands on grid pixel i + trunc(d/2), d = n_grid − n_map, so the centres agree
 * when d is even and differ by half a pixel when it is odd (towards −x when the map is
 * padded, towards +x when it is cropped). */
static double pp_centring_offset_px(size_t n_grid, size_t n_map) {
  long long d = (long long)n_grid - (long long)n_map;
  return (double)(d / 2) - (double)d / 2.0; /* C division truncates towards zero */
}

static void pp_map_place(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                         pp_map_placement *placement) {
  const struct pp_optic_files *files = spec->files;
  pp_optic_frame_from_spec(spec, &placement->frame);
  placement->ny = files->ny;
  placement->nx = files->nx;
  placement->flip_x = pp_optic_spec_get(spec, "flip_x") != 0.0;
  placement->flip_y = pp_optic_spec_get(spec, "flip_y") != 0.0;
  bool same_scale = fabs(grid->pixelscale_m - files->pixelscale_m) <
                    PP_MAP_SAME_SCALE_TOLERANCE * files->pixelscale_m;
  placement->map_pixelscale_m = same_scale ? grid->pixelscale_m : files->pixelscale_m;
  if (same_scale) {
    /* The offset moves the map before it turns: it belongs with the shift. */
    placement->frame.shift_x_m += pp_centring_offset_px(grid->nx, files->nx) * grid->pixelscale_m;
    placement->frame.shift_y_m += pp_centring_offset_px(grid->ny, files->ny) * grid->pixelscale_m;
  }
}

static double pp_snap(double position_px) {
  double whole = round(position_px);
  return fabs(position_px - whole) < PP_MAP_SNAP_PIXELS ? whole : position_px;
}

/* Bilinear value at map position (u, v) in pixels (0 = centre of the first pixel). Each map
 * pixel covers ±½ pixel around its centre: inside that footprint the value is interpolated
 * (held at the edge value in the outer half pixel); outside it there is no map (false). At
 * whole pixel positions the result is the pixel's value exactly. */
static bool pp_map_sample(const pp_map *map, double u, double v, double *value) {
  double nx = (double)map->nx, ny = (double)map->ny;
  if (!(u >= -0.5 && u < nx - 0.5 && v >= -0.5 && v < ny - 0.5)) return false;
  u = fmin(fmax(u, 0.0), nx - 1.0);
  v = fmin(fmax(v, 0.0), ny - 1.0);
  size_t i0 = (size_t)u, j0 = (size_t)v;
  size_t i1 = i0 + 1 < map->nx ? i0 + 1 : i0, j1 = j0 + 1 < map->ny ? j0 + 1 : j0;
  double fu = u - (double)i0, fv = v - (double)j0;
  const double *row0 = map->values + j0 * map->nx, *row1 = map->values + j1 * map->nx;
  double lower = (1.0 - fu) * row0[i0] + fu * row0[i1];
  double upper = (1.0 - fu) * row1[i0] + fu * row1[i1];
  *value = (1.0 - fv) * lower + fv * upper;
  return true;
}

/* Multiplies plane by the map (transmission: 0 outside the map) or adds opd_to_m × map to
 * it (OPD: nothing outside). footprint (may be NULL) is set to 0 outside the map: an OPD
 * map without a transmission map still bounds the light, as POPPY pads its phasor with
 * zeros. */
static void pp_map_lay(const pp_map_placement *placement, const pp_map *map,
                       const pp_pupil_grid *grid, pp_map_role role, double opd_to_m,
                       double *plane, double *footprint) {
  double center_x = ((double)map->nx - 1.0) / 2.0, center_y = ((double)map->ny - 1.0) / 2.0;
  for (size_t iy = 0; iy < grid->ny; iy++) {
    double y_grid_m = pp_grid_coordinate_m(iy, grid->ny, grid->pixelscale_m);
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid_m = pp_grid_coordinate_m(ix, grid->nx, grid->pixelscale_m);
      double x_m, y_m;
      pp_optic_frame_apply(&placement->frame, x_grid_m, y_grid_m, &x_m, &y_m);
      double u = center_x + x_m / placement->map_pixelscale_m;
      double v = center_y + y_m / placement->map_pixelscale_m;
      /* POPPY flips the array before turning and shifting it: undo the flip last. */
      if (placement->flip_x) u = ((double)map->nx - 1.0) - u;
      if (placement->flip_y) v = ((double)map->ny - 1.0) - v;
      double value = 0.0;
      bool inside = pp_map_sample(map, pp_snap(u), pp_snap(v), &value);
      size_t pixel = iy * grid->nx + ix;
      if (role == PP_MAP_TRANSMISSION) plane[pixel] *= inside ? value : 0.0;
      else if (inside) plane[pixel] += opd_to_m * value;
      if (footprint && !inside) footprint[pixel] = 0.0;
    }
  }
}

pp_status pp_fits_element_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                double *amplitude, double *opd) {
  const struct pp_optic_files *files = spec->files;
  PP_CHECK(files != NULL, PP_ERR_INTERNAL,
           "%s: its map files were not read: call pp_optic_spec_load_files first", spec->name);
  pp_map_placement placement;
  pp_map_place(spec, grid, &placement);
  for (int role = 0; role < PP_MAP_ROLES; role++) {
    if (!pp_optic_spec_given(spec, pp_map_keys[role])) continue;
    double *plane = role == PP_MAP_TRANSMISSION ? amplitude : opd;
    PP_CHECK(plane != NULL, PP_ERR_INTERNAL, "%s: no %s array to apply the %s map to",
             spec->name, role == PP_MAP_TRANSMISSION ? "amplitude" : "OPD", pp_map_keys[role]);
    pp_map map;
    PP_CALL(pp_fits_element_read(spec, (pp_map_role)role, files->field_point, &map));
    bool same_shape = map.ny == files->ny && map.nx == files->nx &&
                      map.n_slices == files->n_maps[role];
    size_t ny = map.ny, nx = map.nx;
    /* Without a transmission map the OPD map's footprint is the transmission (POPPY's
     * amplitude of ones, padded with zeros). */
    double *footprint =
        role == PP_MAP_OPD && !pp_optic_spec_given(spec, "transmission") ? amplitude : NULL;
    if (same_shape)
      pp_map_lay(&placement, &map, grid, (pp_map_role)role, files->opd_to_m, plane, footprint);
    pp_map_clear(&map);
    PP_CHECK(same_shape, PP_ERR_INPUT,
             "%s: %s: '%s' is now %zu × %zu pixels but was %zu × %zu when the job was read; "
             "the file changed during the run",
             spec->type->name, pp_map_keys[role], pp_optic_spec_get_text(spec, pp_map_keys[role]),
             ny, nx, files->ny, files->nx);
  }
  return PP_SUCCESS;
}

size_t pp_optic_spec_map_count(const pp_optic_spec *spec, const char *key) {
  if (!spec || !spec->files || spec->type != &pp_fits_element_type) return 0;
  for (int role = 0; role < PP_MAP_ROLES; role++)
    if (strcmp(key, pp_map_keys[role]) == 0) return spec->files->n_maps[role];
  return 0;
}

pp_status pp_optic_spec_use_field_point(pp_optic_spec *spec, size_t point) {
  PP_CHECK(spec && spec->files && spec->type == &pp_fits_element_type, PP_ERR_INTERNAL,
           "pp_optic_spec_use_field_point: %s has no maps read", spec ? spec->name : "NULL");
  for (int role = 0; role < PP_MAP_ROLES; role++)
    PP_CHECK(spec->files->n_maps[role] == 0 || point < spec->files->n_maps[role],
             PP_ERR_INTERNAL, "%s: %s: field point %zu, but its cube holds %zu maps", spec->name,
             pp_map_keys[role], point, spec->files->n_maps[role]);
  spec->files->field_point = point;
  return PP_SUCCESS;
}

/* Only a fits_optical_element with an OPD map adds OPD. */
bool pp_fits_element_has_opd(const pp_optic_spec *spec) {
  return pp_optic_spec_given(spec, "opd");
}

/* ---- the table row ----------------------------------------------------------- */

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

/* The row of the table of optics (optic_table.c) for `fits_optical_element`. */
const pp_optic_type pp_fits_element_type = {
    .name = "fits_optical_element", .poppy_name = "FITSOpticalElement",
    .plane = PP_PLANE_PUPIL, .params = pp_fits_element_params,
    .n_params = PP_OPTIC_COUNT(pp_fits_element_params),
    .doc = "transmission and/or OPD maps from FITS or HDF5 files, resampled onto the pupil",
    .validate = pp_fits_element_validate,
    .pupil_diameter_m = pp_fits_element_pupil_diameter_m,
    .has_opd = pp_fits_element_has_opd,
    .load_files = pp_fits_element_load,
    .apply_pupil = pp_fits_element_apply};
