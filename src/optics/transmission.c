/* scalar_transmission (POPPY ScalarTransmission, poppy/optics.py): multiplies the field
 * amplitude everywhere by one number (POPPY's get_transmission is the amplitude factor). */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

pp_status pp_transmission_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                double *amplitude, double *opd) {
  (void)opd;
  double transmission = pp_optic_spec_get(spec, "transmission");
  size_t n_pixels = grid->nx * grid->ny;
  for (size_t i = 0; i < n_pixels; i++) amplitude[i] *= transmission;
  return PP_SUCCESS;
}

/* ---- the table row ----------------------------------------------------------- */

static const pp_optic_param pp_transmission_params[] = {
    {.name = "transmission", .kind = PP_PARAM_REAL, .default_value = 1.0, .min = 0.0, .max = 1.0,
     .unit = "", .doc = "uniform factor on the field amplitude (POPPY applies it to amplitude)"},
};

/* The row of the table of optics (optic_table.c) for `scalar_transmission`. */
const pp_optic_type pp_transmission_type = {
    .name = "scalar_transmission", .poppy_name = "ScalarTransmission", .plane = PP_PLANE_PUPIL,
    .params = pp_transmission_params, .n_params = PP_OPTIC_COUNT(pp_transmission_params),
    .doc = "uniform amplitude factor (a neutral density filter, or an empty plane)",
    .apply_pupil = pp_transmission_apply};
