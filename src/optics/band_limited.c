/* band_limited_coronagraph (POPPY BandLimitedCoronagraph, poppy/optics.py, after Krist et al.
 * 2009): an amplitude mask, 1 − (2·J1(σr)/(σr))² for kind circular (r the distance from the
 * centre), 1 − (sin(σ|y|)/(σ|y|))² for kind linear (a band along x), σ in 1/arcsec, r and y
 * in arcsec in the optic's frame. POPPY clips σr below at the smallest normal double, so the
 * formula gives 0 at the centre, and sets exactly r = 0 to 0 (the limit). The `wavelength`
 * key only selects the NIRCam wedge variant in POPPY, which polypsf does not offer. */
#define _XOPEN_SOURCE 700 /* j1(), the Bessel function of the first kind of order 1 (XSI) */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <float.h>
#include <math.h>

const char *const pp_blc_kind_words[] = {"circular", "linear", NULL};

/* 1 − (2·J1(s)/s)² at s = σ·r ≥ 0; r = 0 gives 0 as in POPPY. */
static double pp_blc_circular(double sigma, double r) {
  if (r == 0.0) return 0.0;
  double sr = fmax(sigma * r, DBL_MIN);
  double airy = 2.0 * j1(sr) / sr;
  return 1.0 - airy * airy;
}

/* 1 − (sin(s)/s)² at s = σ·|y|. */
static double pp_blc_linear(double sigma, double y) {
  double sy = fmax(sigma * fabs(y), DBL_MIN);
  double sinc = sin(sy) / sy;
  return 1.0 - sinc * sinc;
}

pp_status pp_band_limited_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                double wavelength_m, double complex *field) {
  (void)wavelength_m; /* the circular and linear masks do not depend on λ (POPPY's neither) */
  bool linear = (int)pp_optic_spec_get(spec, "kind") == PP_BLC_LINEAR;
  double sigma = pp_optic_spec_get(spec, "sigma");
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  size_t first_row, end_row;
  pp_image_grid_rows(grid, &first_row, &end_row);
  for (size_t iy = first_row; iy < end_row; iy++) {
    double y_grid = pp_image_coordinate_arcsec(iy, grid->ny, grid->centering,
                                               grid->pixelscale_arcsec);
    double complex *row = field + (iy - first_row) * grid->nx;
    if (linear && !frame.rotated) {
      /* Unrotated, the linear mask depends on y alone: one sine per row. */
      double t = pp_blc_linear(sigma, y_grid - frame.shift_y_m);
      if (!isfinite(t)) t = 0.0;
      for (size_t ix = 0; ix < grid->nx; ix++) row[ix] *= t;
      continue;
    }
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid = pp_image_coordinate_arcsec(ix, grid->nx, grid->centering,
                                                 grid->pixelscale_arcsec);
      double x, y;
      pp_optic_frame_apply(&frame, x_grid, y_grid, &x, &y);
      double t = linear ? pp_blc_linear(sigma, y) : pp_blc_circular(sigma, sqrt(x * x + y * y));
      /* POPPY replaces NaNs by 0; with the clip above none arise from finite input. */
      row[ix] *= isfinite(t) ? t : 0.0;
    }
  }
  return PP_SUCCESS;
}

/* ---- the table row ----------------------------------------------------------- */

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

/* The row of the table of optics (optic_table.c) for `band_limited_coronagraph`. */
const pp_optic_type pp_blc_type = {
    .name = "band_limited_coronagraph", .poppy_name = "BandLimitedCoronagraph",
    .plane = PP_PLANE_IMAGE, .params = pp_blc_params, .n_params = PP_OPTIC_COUNT(pp_blc_params),
    .doc = "band-limited occulting mask, circular or linear (Krist et al. 2009)",
    .apply_image = pp_band_limited_apply};
