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
