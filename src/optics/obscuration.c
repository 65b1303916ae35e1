/* secondary_obscuration (POPPY SecondaryObscuration, poppy/optics.py): an opaque disk
 * where r < secondary_radius, and n_supports vanes, vane k along the direction
 * 2π·k/n + support_angle_offset (counterclockwise from +x), blocking where the
 * coordinate along the vane is > 0 and the distance across it is < support_width/2.
 * Hard edges (strict comparisons, as POPPY), in the optic's shifted and rotated frame. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>

double pp_obscuration_pupil_diameter_m(const pp_optic_spec *spec) {
  /* POPPY: pupil_diam = 4 · secondary_radius (used only when it is the first optic). */
  return 4 * pp_optic_spec_get(spec, "secondary_radius");
}

enum { PP_MAX_SUPPORTS = 360 }; /* the table's upper bound on n_supports */

pp_status pp_obscuration_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                               double *amplitude, double *opd) {
  (void)opd;
  double radius_m = pp_optic_spec_get(spec, "secondary_radius");
  int n_supports = (int)pp_optic_spec_get(spec, "n_supports");
  double half_width_m = pp_optic_spec_get(spec, "support_width") / 2;
  double offset_deg = pp_optic_spec_get(spec, "support_angle_offset");
  PP_CHECK(n_supports >= 0 && n_supports <= PP_MAX_SUPPORTS, PP_ERR_INTERNAL,
           "%s: n_supports = %d outside the table's range", spec->name, n_supports);

  /* The vane directions, computed once: POPPY's angle = 2π/n·k + deg2rad(offset). */
  double cos_vane[PP_MAX_SUPPORTS], sin_vane[PP_MAX_SUPPORTS];
  for (int k = 0; k < n_supports; k++) {
    double angle = 2 * PP_PI / n_supports * k + offset_deg * (PP_PI / 180.0);
    cos_vane[k] = cos(angle);
    sin_vane[k] = sin(angle);
  }

  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  for (size_t iy = 0; iy < grid->ny; iy++) {
    double y_grid_m = pp_grid_coordinate_m(iy, grid->ny, grid->pixelscale_m);
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid_m = pp_grid_coordinate_m(ix, grid->nx, grid->pixelscale_m);
      double x, y;
      pp_optic_frame_apply(&frame, x_grid_m, y_grid_m, &x, &y);
      bool blocked = sqrt(x * x + y * y) < radius_m;
      for (int k = 0; k < n_supports && !blocked; k++) {
        double along = cos_vane[k] * x + sin_vane[k] * y;
        double across = -sin_vane[k] * x + cos_vane[k] * y;
        blocked = along > 0 && fabs(across) < half_width_m;
      }
      if (blocked) amplitude[iy * grid->nx + ix] = 0.0;
    }
  }
  return PP_SUCCESS;
}

/* ---- the table row ----------------------------------------------------------- */

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

/* The row of the table of optics (optic_table.c) for `secondary_obscuration`. */
const pp_optic_type pp_obscuration_type = {
    .name = "secondary_obscuration", .poppy_name = "SecondaryObscuration",
    .plane = PP_PLANE_PUPIL, .params = pp_obscuration_params,
    .n_params = PP_OPTIC_COUNT(pp_obscuration_params),
    .doc = "opaque central disk and radial spider vanes, hard edges",
    .pupil_diameter_m = pp_obscuration_pupil_diameter_m,
    .apply_pupil = pp_obscuration_apply};
