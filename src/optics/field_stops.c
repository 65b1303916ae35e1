/* Occulters and field stops of POPPY 1.1 (poppy/optics.py), in arcsec:
 *   annular_field_stop (AnnularFieldStop): gray-edged ring, clear between radius_inner and
 *     radius_outer; radius_outer 0 means no outer edge, radius_inner 0 no central spot.
 *   circular_occulter (CircularOcculter): an AnnularFieldStop with radius_inner = radius and
 *     no outer edge: an opaque gray-edged disk.
 *   rectangular_field_stop (RectangularFieldStop), square_field_stop (SquareFieldStop): clear
 *     where |x| ≤ width/2 and |y| ≤ height/2 (edges included), hard edges.
 *   bar_occulter (BarOcculter): opaque where |x| ≤ width/2 and |y| ≤ height/2, hard edges.
 *
 * The circles are POPPY's geometry.filled_circle_aa in pixel units (radii and coordinates
 * divided by the pixel scale): a pixel whose centre is within one pixel of the rim gets the
 * exact area of the pixel inside the circle, clipped to [0, 1]; the others are 1 inside and
 * 0 outside. The ring is outer disk − inner disk. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>

/* filled_circle_aa's value at pixel centre (x_px, y_px) for a disk of radius_px at the
 * origin, all in pixels: the same rule as circular_aperture's gray edge. */
static double pp_gray_disk(double radius_px, double x_px, double y_px) {
  double r_px = sqrt(x_px * x_px + y_px * y_px);
  if (r_px <= radius_px - 1.0) return 1.0;
  if (r_px >= radius_px + 1.0) return 0.0;
  double area = pp_circle_rectangle_overlap_area(radius_px, x_px - 0.5, x_px + 0.5,
                                                 y_px - 0.5, y_px + 0.5);
  return fmin(1.0, fmax(0.0, area));
}

pp_status pp_annular_stop_validate(const pp_optic_spec *spec) {
  double inner = pp_optic_spec_get(spec, "radius_inner");
  double outer = pp_optic_spec_get(spec, "radius_outer");
  /* POPPY would subtract the larger disk from the smaller one: negative transmission. */
  PP_CHECK(outer == 0.0 || inner < outer, PP_ERR_INPUT,
           "%s: radius_inner (%g arcsec) must be smaller than radius_outer (%g arcsec); "
           "radius_outer: 0 means no outer edge",
           spec->type->name, inner, outer);
  return PP_SUCCESS;
}

pp_status pp_annular_stop_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                double wavelength_m, double complex *field) {
  (void)wavelength_m; /* an amplitude stop: the same at every λ */
  double inner_arcsec, outer_arcsec;
  if (pp_optic_param_index(spec->type, "radius") >= 0) {
    inner_arcsec = pp_optic_spec_get(spec, "radius"); /* circular_occulter */
    outer_arcsec = 0.0;
  } else {
    inner_arcsec = pp_optic_spec_get(spec, "radius_inner");
    outer_arcsec = pp_optic_spec_get(spec, "radius_outer");
  }
  double pixelscale = grid->pixelscale_arcsec;
  double inner_px = inner_arcsec / pixelscale, outer_px = outer_arcsec / pixelscale;
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  size_t first_row, end_row;
  pp_image_grid_rows(grid, &first_row, &end_row);
  for (size_t iy = first_row; iy < end_row; iy++) {
    double y_grid = pp_image_coordinate_arcsec(iy, grid->ny, grid->centering, pixelscale);
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid = pp_image_coordinate_arcsec(ix, grid->nx, grid->centering, pixelscale);
      double x, y;
      pp_optic_frame_apply(&frame, x_grid, y_grid, &x, &y);
      double x_px = x / pixelscale, y_px = y / pixelscale;
      double t = outer_arcsec > 0.0 ? pp_gray_disk(outer_px, x_px, y_px) : 1.0;
      if (inner_arcsec > 0.0) t -= pp_gray_disk(inner_px, x_px, y_px);
      field[(iy - first_row) * grid->nx + ix] *= t;
    }
  }
  return PP_SUCCESS;
}

pp_status pp_rectangular_stop_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                    bool opaque_inside, double complex *field) {
  double width, height;
  if (pp_optic_param_index(spec->type, "size") >= 0) {
    width = height = pp_optic_spec_get(spec, "size"); /* square_field_stop */
  } else {
    width = pp_optic_spec_get(spec, "width");
    height = pp_optic_spec_get(spec, "height");
  }
  double half_width = width / 2, half_height = height / 2;
  double inside_value = opaque_inside ? 0.0 : 1.0, outside_value = 1.0 - inside_value;
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  size_t first_row, end_row;
  pp_image_grid_rows(grid, &first_row, &end_row);
  for (size_t iy = first_row; iy < end_row; iy++) {
    double y_grid = pp_image_coordinate_arcsec(iy, grid->ny, grid->centering,
                                               grid->pixelscale_arcsec);
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid = pp_image_coordinate_arcsec(ix, grid->nx, grid->centering,
                                                 grid->pixelscale_arcsec);
      double x, y;
      pp_optic_frame_apply(&frame, x_grid, y_grid, &x, &y);
      /* POPPY: |y| ≤ height/2 and |x| ≤ width/2, edges included, for both kinds. */
      bool inside = fabs(y) <= half_height && fabs(x) <= half_width;
      field[(iy - first_row) * grid->nx + ix] *= inside ? inside_value : outside_value;
    }
  }
  return PP_SUCCESS;
}

pp_status pp_bar_occulter_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                double wavelength_m, double complex *field) {
  (void)wavelength_m; /* an amplitude stop: the same at every λ */
  return pp_rectangular_stop_apply(spec, grid, true, field);
}

pp_status pp_rectangular_field_stop_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                          double wavelength_m, double complex *field) {
  (void)wavelength_m; /* an amplitude stop: the same at every λ */
  return pp_rectangular_stop_apply(spec, grid, false, field);
}

/* ---- the table rows ----------------------------------------------------------- */

static const pp_optic_param pp_occulter_params[] = {
    {.name = "radius", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "radius of the opaque spot (gray edge pixels)"},
    PP_SKY_SHIFT_PARAMS,
};

/* The row of the table of optics (optic_table.c) for `circular_occulter`. */
const pp_optic_type pp_occulter_type = {
    .name = "circular_occulter", .poppy_name = "CircularOcculter", .plane = PP_PLANE_IMAGE,
    .params = pp_occulter_params, .n_params = PP_OPTIC_COUNT(pp_occulter_params),
    .doc = "opaque disk, gray edge pixels",
    .apply_image = pp_annular_stop_apply};

static const pp_optic_param pp_annular_stop_params[] = {
    {.name = "radius_inner", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_NONNEGATIVE,
     .unit = "arcsec", .doc = "radius of the opaque central spot; 0 for none"},
    {.name = "radius_outer", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_NONNEGATIVE,
     .unit = "arcsec", .doc = "radius of the clear field's outer edge; 0 for no outer edge"},
    PP_SKY_SHIFT_PARAMS,
};

/* The row of the table of optics (optic_table.c) for `annular_field_stop`. */
const pp_optic_type pp_annular_stop_type = {
    .name = "annular_field_stop", .poppy_name = "AnnularFieldStop", .plane = PP_PLANE_IMAGE,
    .params = pp_annular_stop_params, .n_params = PP_OPTIC_COUNT(pp_annular_stop_params),
    .doc = "clear disk or ring (a circular field stop), gray edge pixels",
    .validate = pp_annular_stop_validate,
    .apply_image = pp_annular_stop_apply};

static const pp_optic_param pp_bar_params[] = {
    {.name = "width", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "full width of the opaque bar along x (before rotation)"},
    {.name = "height", .kind = PP_PARAM_REAL, .default_value = 10.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "full length of the bar along y (before rotation)"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* The row of the table of optics (optic_table.c) for `bar_occulter`. */
const pp_optic_type pp_bar_type = {
    .name = "bar_occulter", .poppy_name = "BarOcculter", .plane = PP_PLANE_IMAGE,
    .params = pp_bar_params, .n_params = PP_OPTIC_COUNT(pp_bar_params),
    .doc = "opaque bar along y, hard edges",
    .apply_image = pp_bar_occulter_apply};

static const pp_optic_param pp_square_stop_params[] = {
    {.name = "size", .kind = PP_PARAM_REAL, .default_value = 20.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "side length of the clear square"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* The row of the table of optics (optic_table.c) for `square_field_stop`. */
const pp_optic_type pp_square_stop_type = {
    .name = "square_field_stop", .poppy_name = "SquareFieldStop", .plane = PP_PLANE_IMAGE,
    .params = pp_square_stop_params, .n_params = PP_OPTIC_COUNT(pp_square_stop_params),
    .doc = "clear square, hard edges",
    .apply_image = pp_rectangular_field_stop_apply};

static const pp_optic_param pp_rectangular_stop_params[] = {
    {.name = "width", .kind = PP_PARAM_REAL, .default_value = 0.5, PP_POSITIVE, .unit = "arcsec",
     .doc = "full extent of the clear rectangle along x (before rotation)"},
    {.name = "height", .kind = PP_PARAM_REAL, .default_value = 5.0, PP_POSITIVE, .unit = "arcsec",
     .doc = "full extent of the clear rectangle along y (before rotation)"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* The row of the table of optics (optic_table.c) for `rectangular_field_stop`. */
const pp_optic_type pp_rectangular_stop_type = {
    .name = "rectangular_field_stop", .poppy_name = "RectangularFieldStop",
    .plane = PP_PLANE_IMAGE, .params = pp_rectangular_stop_params,
    .n_params = PP_OPTIC_COUNT(pp_rectangular_stop_params), .doc = "clear rectangle, hard edges",
    .apply_image = pp_rectangular_field_stop_apply};
