/* quadratic_lens (POPPY QuadraticLens, poppy/fresnel.py): a thin lens of focal length f_lens.
 *
 * In a Fresnel system (propagation.mode: fresnel, docs/fresnel.md) the lens is POPPY's:
 * it changes the pilot Gaussian beam and the system applies the residual quadratic phase
 * (src/system/fresnel_system.c), never this row's apply_pupil. The row's apply_pupil is the
 * lens seen on its own in a pupil: the OPD −r²/(2·f_lens) (metres) that POPPY's QuadPhase(−f)
 * gives, r measured from the optic's centre (shift_x, shift_y). The job parser accepts the
 * type in Fresnel mode only. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>

/* The words of `plane`: POPPY's PlaneType the lens is tagged with. It changes no number:
 * POPPY only records it as the wavefront's plane type. */
static const char *const pp_quadratic_lens_planes[] = {"intermediate", "pupil", "image", NULL};

static pp_status pp_quadratic_lens_validate(const pp_optic_spec *spec) {
  double f_lens_m = pp_optic_spec_get(spec, "f_lens");
  PP_CHECK(f_lens_m != 0.0, PP_ERR_INPUT,
           "quadratic_lens: f_lens: must not be 0 (metres; negative for a diverging lens)");
  return PP_SUCCESS;
}

static bool pp_quadratic_lens_has_opd(const pp_optic_spec *spec) {
  (void)spec;
  return true;
}

static pp_status pp_quadratic_lens_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                         double *amplitude, double *opd) {
  (void)amplitude;
  double f_lens_m = pp_optic_spec_get(spec, "f_lens");
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  for (size_t iy = 0; iy < grid->ny; iy++) {
    double y_grid_m = pp_grid_coordinate_m(iy, grid->ny, grid->pixelscale_m);
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid_m = pp_grid_coordinate_m(ix, grid->nx, grid->pixelscale_m);
      double x_m, y_m;
      pp_optic_frame_apply(&frame, x_grid_m, y_grid_m, &x_m, &y_m);
      opd[iy * grid->nx + ix] += (x_m * x_m + y_m * y_m) / (2.0 * -f_lens_m);
    }
  }
  return PP_SUCCESS;
}

static const pp_optic_param pp_quadratic_lens_params[] = {
    {.name = "f_lens", .kind = PP_PARAM_REAL, .required = true, .default_value = 1.0,
     PP_ANY_REAL, .unit = "m", .doc = "focal length (negative: a diverging lens); not 0"},
    {.name = "plane", .kind = PP_PARAM_CHOICE, .default_value = 0.0, .min = 0, .max = 2,
     .choices = pp_quadratic_lens_planes, .unit = "",
     .doc = "POPPY's plane type for the lens (a label: changes no number)"},
    PP_SHIFT_PARAMS,
};

/* The row of the table of optics (optic_table.c) for `quadratic_lens`. */
const pp_optic_type pp_quadratic_lens_type = {
    .name = "quadratic_lens", .poppy_name = "QuadraticLens", .plane = PP_PLANE_PUPIL,
    .params = pp_quadratic_lens_params, .n_params = PP_OPTIC_COUNT(pp_quadratic_lens_params),
    .doc = "thin lens of focal length f_lens (Fresnel mode: changes the pilot beam)",
    .validate = pp_quadratic_lens_validate,
    .has_opd = pp_quadratic_lens_has_opd,
    .apply_pupil = pp_quadratic_lens_apply};
