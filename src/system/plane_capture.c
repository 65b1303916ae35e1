/* Handing one intermediate plane to the caller's sink (output.planes). Its own file, below
 * both users: the system (the leading pupil plane) and the plane sequence (every later
 * plane) call it, and neither calls the other back for it. */
#define POLYPSF_SYSTEM_INTERNAL
#include "polypsf/system.h"

#include <complex.h>
#include <stdint.h>

#include "system_private.h"

pp_status pp_plane_capture_emit(const pp_plane_capture *capture, size_t optic_index, size_t n,
                                const double complex *field, const double *real_field,
                                double pixelscale) {
  size_t slot = capture->slot[optic_index];
  if (slot == SIZE_MAX) return PP_SUCCESS;
  pp_plane_view view = {.plane = slot, .ny = n, .nx = n, .field = field,
                        .real_field = field ? NULL : real_field,
                        .field_scale = capture->field_scale, .pixelscale = pixelscale};
  return capture->sink->capture(capture->sink->context, &view);
}
