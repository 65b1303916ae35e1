/* square_aperture, rectangle_aperture, hexagon_aperture, multi_hexagon_aperture: hard-edged
 * polygons with POPPY 1.1's inside tests (poppy/optics.py RectangleAperture,
 * SquareAperture, HexagonAperture, MultiSegmentAperture/MultiHexagonAperture).
 *
 * Pixel-exactness: a pixel centre that falls exactly on an edge must be classified as
 * POPPY classifies it, so each comparison (≤ vs <) and each floating-point expression
 * keeps POPPY's form and order: the same operations on the same doubles give the same
 * bits. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>

/* ---- rectangle and square ------------------------------------------------------------ */

double pp_square_pupil_diameter_m(const pp_optic_spec *spec) {
  /* POPPY SquareAperture: pupil_diam = 2 · size (not the diagonal). */
  return 2.0 * pp_optic_spec_get(spec, "size");
}

double pp_rectangle_pupil_diameter_m(const pp_optic_spec *spec) {
  /* POPPY RectangleAperture: pupil_diam = sqrt(height² + width²), the diagonal. */
  double width_m = pp_optic_spec_get(spec, "width"), height_m = pp_optic_spec_get(spec, "height");
  return sqrt(height_m * height_m + width_m * width_m);
}

pp_status pp_rectangle_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                             double *amplitude, double *opd) {
  (void)opd;
  double width_m, height_m;
  if (pp_optic_param_index(spec->type, "size") >= 0) {
    width_m = height_m = pp_optic_spec_get(spec, "size");
  } else {
    width_m = pp_optic_spec_get(spec, "width");
    height_m = pp_optic_spec_get(spec, "height");
  }
  double half_width_m = width_m / 2, half_height_m = height_m / 2;
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  for (size_t iy = 0; iy < grid->ny; iy++) {
    double y_grid_m = pp_grid_coordinate_m(iy, grid->ny, grid->pixelscale_m);
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid_m = pp_grid_coordinate_m(ix, grid->nx, grid->pixelscale_m);
      double x_m, y_m;
      pp_optic_frame_apply(&frame, x_grid_m, y_grid_m, &x_m, &y_m);
      /* POPPY: inside where |y| ≤ height/2 and |x| ≤ width/2 (edges included). */
      bool inside = fabs(y_m) <= half_height_m && fabs(x_m) <= half_width_m;
      if (!inside) amplitude[iy * grid->nx + ix] = 0.0;
    }
  }
  return PP_SUCCESS;
}

/* ---- one hexagon ------------------------------------------------------------------------ */

bool pp_hexagon_contains(double x, double y, double side) {
  /* POPPY's three pieces: a central rectangle and two end triangles, corners on ±x. */
  const double sqrt3 = sqrt(3.0);
  double abs_y = fabs(y);
  if (fabs(x) <= 0.5 * side && abs_y <= sqrt3 / 2 * side) return true;
  if (x <= -0.5 * side && x >= -1 * side && abs_y <= (x + 1 * side) * sqrt3) return true;
  if (x >= 0.5 * side && x <= 1 * side && abs_y <= (1 * side - x) * sqrt3) return true;
  return false;
}

double pp_hexagon_side_m(const pp_optic_spec *spec) {
  /* POPPY's precedence: side, then diameter/2, then flattoflat/√3, else 1 m. */
  if (pp_optic_spec_given(spec, "side")) return pp_optic_spec_get(spec, "side");
  if (pp_optic_spec_given(spec, "diameter")) return pp_optic_spec_get(spec, "diameter") / 2;
  if (pp_optic_spec_given(spec, "flattoflat"))
    return pp_optic_spec_get(spec, "flattoflat") / sqrt(3.);
  return 1.0;
}

double pp_hexagon_pupil_diameter_m(const pp_optic_spec *spec) {
  return 2 * pp_hexagon_side_m(spec); /* POPPY: pupil_diam = 2 · side */
}

pp_status pp_hexagon_validate(const pp_optic_spec *spec) {
  int n_sizes = pp_optic_spec_given(spec, "side") + pp_optic_spec_given(spec, "flattoflat") +
                pp_optic_spec_given(spec, "diameter");
  PP_CHECK(n_sizes <= 1, PP_ERR_INPUT,
           "%s: give one of 'side', 'flattoflat' or 'diameter', not several (they are three "
           "ways to give the same size)",
           spec->type->name);
  return PP_SUCCESS;
}

pp_status pp_hexagon_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                           double *amplitude, double *opd) {
  (void)opd;
  double side_m = pp_hexagon_side_m(spec);
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  for (size_t iy = 0; iy < grid->ny; iy++) {
    double y_grid_m = pp_grid_coordinate_m(iy, grid->ny, grid->pixelscale_m);
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid_m = pp_grid_coordinate_m(ix, grid->nx, grid->pixelscale_m);
      double x_m, y_m;
      pp_optic_frame_apply(&frame, x_grid_m, y_grid_m, &x_m, &y_m);
      if (!pp_hexagon_contains(x_m, y_m, side_m)) amplitude[iy * grid->nx + ix] = 0.0;
    }
  }
  return PP_SUCCESS;
}

/* ---- segmented: rings of hexagons ------------------------------------------------------ */

size_t pp_multihex_segment_count(int rings) {
  return rings < 0 ? 0 : 1 + 3 * (size_t)rings * ((size_t)rings + 1);
}

void pp_multihex_segment_center(size_t index, double spacing_m, double *x_m, double *y_m) {
  if (index == 0) {
    *x_m = 0.0;
    *y_m = 0.0;
    return;
  }
  /* Ring k holds 6k segments; segments 1 + 3k(k−1) … 3k(k+1) are in ring k. */
  size_t ring = 1;
  while (pp_multihex_segment_count((int)ring) <= index) ring++;
  size_t index_in_ring = index - pp_multihex_segment_count((int)ring - 1) + 1; /* 1-based */
  double angle_per_segment = 2 * PP_PI / (double)(6 * ring);
  double radius_m = spacing_m * (double)ring;
  /* POPPY counts from the top (+y) clockwise: y = R cos(angle), x = R sin(angle). The
   * corner segments of the ring (every ring-th, POPPY's "B" segments) sit on the
   * circle; the others step along the side from the previous corner. */
  size_t steps_from_corner = (index_in_ring - 1) % ring;
  size_t side_index = (index_in_ring - 1) / ring;
  if (ring > 1 && steps_from_corner == 0) {
    double angle = angle_per_segment * (double)(index_in_ring - 1);
    *y_m = radius_m * cos(angle);
    *x_m = radius_m * sin(angle);
    return;
  }
  double corner_angle = (double)(side_index * ring) * angle_per_segment;
  double y0 = radius_m * cos(corner_angle), x0 = radius_m * sin(corner_angle);
  double da = spacing_m * cos(30 * PP_PI / 180), db = spacing_m * sin(30 * PP_PI / 180);
  double dx = 0, dy = 0;
  switch (side_index) {
    case 0: dx = da; dy = -db; break;
    case 1: dx = 0; dy = -spacing_m; break;
    case 2: dx = -da; dy = -db; break;
    case 3: dx = -da; dy = db; break;
    case 4: dx = 0; dy = spacing_m; break;
    default: dx = da; dy = db; break;
  }
  *x_m = x0 + dx * (double)steps_from_corner;
  *y_m = y0 + dy * (double)steps_from_corner;
}

double pp_multihex_side_m(const pp_optic_spec *spec) {
  /* POPPY: side wins over flattoflat; flattoflat defaults to 1 m. */
  if (pp_optic_spec_given(spec, "side")) return pp_optic_spec_get(spec, "side");
  return pp_optic_spec_get(spec, "flattoflat") / sqrt(3.);
}

/* Centre-to-centre spacing of neighbouring segments. POPPY recomputes flattoflat as
 * side·√3 (even when flattoflat was given) and adds the gap: keep those roundings. */
static double pp_multihex_spacing_m(const pp_optic_spec *spec) {
  double flattoflat_m = pp_multihex_side_m(spec) * sqrt(3);
  return flattoflat_m + pp_optic_spec_get(spec, "gap");
}

double pp_multihex_pupil_diameter_m(const pp_optic_spec *spec) {
  double rings = pp_optic_spec_get(spec, "rings");
  return pp_multihex_spacing_m(spec) * (2 * rings + 1);
}

pp_status pp_multihex_validate(const pp_optic_spec *spec) {
  const char *type = spec->type->name;
  PP_CHECK(!(pp_optic_spec_given(spec, "side") && pp_optic_spec_given(spec, "flattoflat")),
           PP_ERR_INPUT,
           "%s: give 'side' or 'flattoflat', not both (two ways to give the segment size)", type);
  if (!pp_optic_spec_given(spec, "segmentlist")) {
    /* POPPY would silently draw an opaque pupil here. */
    PP_CHECK(pp_optic_spec_get(spec, "rings") > 0 || pp_optic_spec_get(spec, "center") != 0,
             PP_ERR_INPUT,
             "%s: rings = 0 without 'center: true' leaves no segment; set center: true for a "
             "single hexagon",
             type);
    return PP_SUCCESS;
  }
  PP_CHECK(!pp_optic_spec_given(spec, "center"), PP_ERR_INPUT,
           "%s: 'center' and 'segmentlist' exclude each other: list segment 0 to include the "
           "centre",
           type);
  size_t n_segments = pp_multihex_segment_count((int)pp_optic_spec_get(spec, "rings"));
  for (size_t i = 0; i < spec->list_len; i++) {
    double segment = spec->list[i];
    PP_CHECK(segment == floor(segment) && segment >= 0 && segment < (double)n_segments,
             PP_ERR_INPUT,
             "%s: 'segmentlist' entry %zu is %g; segments are whole numbers from 0 to %zu "
             "for rings = %g",
             type, i + 1, segment, n_segments - 1, pp_optic_spec_get(spec, "rings"));
  }
  return PP_SUCCESS;
}

/* The index range [*lo, *hi) of grid points whose coordinate lies within [c − half, c + half]
 * metres (widened by two pixels so rounding never drops a pixel; the exact test decides). */
static void pp_index_window(double centre_m, double half_m, size_t count, double pixelscale_m,
                            size_t *lo, size_t *hi) {
  double offset = ((double)count - 1.0) / 2.0;
  double first = floor((centre_m - half_m) / pixelscale_m + offset) - 2;
  double last = ceil((centre_m + half_m) / pixelscale_m + offset) + 2;
  if (first < 0) first = 0;
  if (last > (double)count - 1) last = (double)count - 1;
  if (last < first) {
    *lo = *hi = 0;
    return;
  }
  *lo = (size_t)first;
  *hi = (size_t)last + 1;
}

pp_status pp_multihex_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                            double *amplitude, double *opd) {
  (void)opd;
  pp_status status = PP_SUCCESS;
  double side_m = pp_multihex_side_m(spec);
  double spacing_m = pp_multihex_spacing_m(spec);
  int rings = (int)pp_optic_spec_get(spec, "rings");
  size_t n_segments = pp_multihex_segment_count(rings);
  bool center = pp_optic_spec_get(spec, "center") != 0.0;
  bool listed = pp_optic_spec_given(spec, "segmentlist");
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  size_t n_pixels = grid->nx * grid->ny;

  /* POPPY starts from 0 and sets 1 inside each segment; here we mark the segments' pixels
   * in a scratch mask, then multiply, so the amplitude array is touched once. */
  unsigned char *inside = NULL;
  PP_CALL_GOTO(status, pp_array_alloc(n_pixels, (void **)&inside));

  size_t n_drawn = listed ? spec->list_len : n_segments;
  for (size_t k = 0; k < n_drawn; k++) {
    size_t segment = listed ? (size_t)spec->list[k] : k;
    if (!listed && segment == 0 && !center) continue;
    double cx_m, cy_m;
    pp_multihex_segment_center(segment, spacing_m, &cx_m, &cy_m);
    /* Only pixels near the segment can be inside it: its centre in grid coordinates is
     * the shift plus the centre turned back by the rotation. */
    double gx_m = cx_m, gy_m = cy_m;
    if (frame.rotated) {
      gx_m = frame.cos_rotation * cx_m - frame.sin_rotation * cy_m;
      gy_m = frame.sin_rotation * cx_m + frame.cos_rotation * cy_m;
    }
    gx_m += frame.shift_x_m;
    gy_m += frame.shift_y_m;
    size_t x_lo, x_hi, y_lo, y_hi;
    pp_index_window(gx_m, side_m, grid->nx, grid->pixelscale_m, &x_lo, &x_hi);
    pp_index_window(gy_m, side_m, grid->ny, grid->pixelscale_m, &y_lo, &y_hi);
    for (size_t iy = y_lo; iy < y_hi; iy++) {
      double y_grid_m = pp_grid_coordinate_m(iy, grid->ny, grid->pixelscale_m);
      for (size_t ix = x_lo; ix < x_hi; ix++) {
        double x_grid_m = pp_grid_coordinate_m(ix, grid->nx, grid->pixelscale_m);
        double x_m, y_m;
        pp_optic_frame_apply(&frame, x_grid_m, y_grid_m, &x_m, &y_m);
        /* POPPY subtracts the segment centre in the optic's frame, then tests one hexagon. */
        if (pp_hexagon_contains(x_m - cx_m, y_m - cy_m, side_m)) inside[iy * grid->nx + ix] = 1;
      }
    }
  }
  for (size_t i = 0; i < n_pixels; i++)
    if (!inside[i]) amplitude[i] = 0.0;

done:
  pp_array_free(&inside);
  return status;
}

/* ---- the table rows ----------------------------------------------------------- */

static const pp_optic_param pp_square_params[] = {
    {.name = "size", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "m",
     .doc = "side length of the clear square"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* The row of the table of optics (optic_table.c) for `square_aperture`. */
const pp_optic_type pp_square_type = {
    .name = "square_aperture", .poppy_name = "SquareAperture", .plane = PP_PLANE_PUPIL,
    .params = pp_square_params, .n_params = PP_OPTIC_COUNT(pp_square_params),
    .doc = "clear square, hard edges",
    .pupil_diameter_m = pp_square_pupil_diameter_m,
    .apply_pupil = pp_rectangle_apply};

static const pp_optic_param pp_rectangle_params[] = {
    {.name = "width", .kind = PP_PARAM_REAL, .default_value = 0.5, PP_POSITIVE, .unit = "m",
     .doc = "full extent along x (before rotation)"},
    {.name = "height", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "m",
     .doc = "full extent along y (before rotation)"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* The row of the table of optics (optic_table.c) for `rectangle_aperture`. */
const pp_optic_type pp_rectangle_type = {
    .name = "rectangle_aperture", .poppy_name = "RectangleAperture", .plane = PP_PLANE_PUPIL,
    .params = pp_rectangle_params, .n_params = PP_OPTIC_COUNT(pp_rectangle_params),
    .doc = "clear rectangle, hard edges",
    .pupil_diameter_m = pp_rectangle_pupil_diameter_m,
    .apply_pupil = pp_rectangle_apply};

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

/* The row of the table of optics (optic_table.c) for `hexagon_aperture`. */
const pp_optic_type pp_hexagon_type = {
    .name = "hexagon_aperture", .poppy_name = "HexagonAperture", .plane = PP_PLANE_PUPIL,
    .params = pp_hexagon_params, .n_params = PP_OPTIC_COUNT(pp_hexagon_params),
    .doc = "clear hexagon with corners on the x axis, hard edges",
    .validate = pp_hexagon_validate,
    .pupil_diameter_m = pp_hexagon_pupil_diameter_m,
    .apply_pupil = pp_hexagon_apply};

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

/* The row of the table of optics (optic_table.c) for `multi_hexagon_aperture`. */
const pp_optic_type pp_multihex_type = {
    .name = "multi_hexagon_aperture", .poppy_name = "MultiHexagonAperture",
    .plane = PP_PLANE_PUPIL, .params = pp_multihex_params,
    .n_params = PP_OPTIC_COUNT(pp_multihex_params),
    .doc = "rings of hexagonal segments with gaps (JWST-like), hard edges",
    .validate = pp_multihex_validate,
    .pupil_diameter_m = pp_multihex_pupil_diameter_m,
    .apply_pupil = pp_multihex_apply};
