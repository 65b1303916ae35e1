/* ideal_fqpm (POPPY IdealFQPM) and fqpm_fft_aligner (POPPY FQPM_FFT_aligner), both in
 * poppy/optics.py of POPPY 1.1.
 *
 * IdealFQPM.get_opd: OPD = (1 − sign(x)·sign(y)) · 0.25 · wavelength (the design
 * wavelength), metres; the phasor is exp(i·2π·OPD/λ). Quadrants where x and y have the same
 * sign get no delay, the other two half a design wave (phase π·λ0/λ), and a pixel centre
 * exactly on an axis (sign 0) a quarter wave. Its transmission is 1 everywhere.
 *
 * FQPM_FFT_aligner.get_opd tilts the pupil wavefront by ∓½·λ/(D·oversample) radians on both
 * axes (forward: −, backward: +; D the unpadded pupil array's width) with Wavefront.tilt,
 * whose phasor in POPPY ≥ 1.0 is exp(−2πi·(x·angle_x + y·angle_y)/λ) (a positive angle moves
 * the image towards +x: poppy/tests/test_sign_conventions.py), and returns a zero OPD. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>

const char *const pp_aligner_direction_words[] = {"forward", "backward", NULL};

/* numpy's sign: −1, 0 or +1, and 0 for both signed zeros. */
static int pp_sign(double value) { return value > 0.0 ? 1 : (value < 0.0 ? -1 : 0); }

pp_status pp_fqpm_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                        double wavelength_m, double complex *field) {
  double design_wavelength_m = pp_optic_spec_get(spec, "wavelength");
  /* 1 − sign(x)·sign(y) takes the values 0, 1, 2, so the phasor takes three values: computed
   * once here, in POPPY's order (waves · λ0 = OPD, then OPD · 2π/λ). */
  double radians_per_metre = 2.0 * PP_PI / wavelength_m;
  double complex phasor[3];
  for (int k = 0; k < 3; k++) {
    double opd_m = ((double)k * 0.25) * design_wavelength_m;
    double phase_rad = opd_m * radians_per_metre;
    phasor[k] = CMPLX(cos(phase_rad), sin(phase_rad));
  }
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
      field[(iy - first_row) * grid->nx + ix] *= phasor[1 - pp_sign(x) * pp_sign(y)];
    }
  }
  return PP_SUCCESS;
}

pp_status pp_fqpm_aligner_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                size_t fft_ny, size_t fft_nx, double complex *field) {
  /* angle = ∓½·λ/(D·oversample) and x = (i − (n−1)/2)·D/npix, so
   * −2π·x·angle/λ = ±π·(i − (n−1)/2)/(npix·oversample): λ and D cancel, and the phase
   * advances by π/fft_n per pupil pixel, the ramp that moves the FFT image by half a pixel.
   * The centre is the field's own array centre, as Wavefront.tilt's (npix − 1)/2. */
  bool backward = (int)pp_optic_spec_get(spec, "direction") == PP_ALIGNER_BACKWARD;
  double sign = backward ? -1.0 : 1.0;
  double centre_x = ((double)grid->nx - 1.0) / 2.0, centre_y = ((double)grid->ny - 1.0) / 2.0;
  for (size_t iy = 0; iy < grid->ny; iy++) {
    double phase_y = ((double)iy - centre_y) / (double)fft_ny;
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double phase_x = ((double)ix - centre_x) / (double)fft_nx;
      double phase_rad = sign * PP_PI * (phase_x + phase_y);
      field[iy * grid->nx + ix] *= CMPLX(cos(phase_rad), sin(phase_rad));
    }
  }
  return PP_SUCCESS;
}

/* ---- the table rows ----------------------------------------------------------- */

static const pp_optic_param pp_aligner_params[] = {
    {.name = "direction", .kind = PP_PARAM_CHOICE, .default_value = 0.0,
     .choices = pp_aligner_direction_words, .unit = "",
     .doc = "forward (before the FQPM's image plane) or backward (after it, undoing the tilt)"},
};

/* The row of the table of optics (optic_table.c) for `fqpm_fft_aligner`. */
const pp_optic_type pp_aligner_type = {
    .name = "fqpm_fft_aligner", .poppy_name = "FQPM_FFT_aligner", .plane = PP_PLANE_PUPIL,
    .params = pp_aligner_params, .n_params = PP_OPTIC_COUNT(pp_aligner_params),
    .doc = "pupil tilt of half a padded-FFT pixel that centres the FQPM between four pixels",
    .apply_pupil_fft = pp_fqpm_aligner_apply};

static const pp_optic_param pp_fqpm_params[] = {
    {.name = "wavelength", .kind = PP_PARAM_REAL, .default_value = 10.65e-6, PP_POSITIVE,
     .unit = "m", .doc = "design wavelength, where the retardance is exactly half a wave"},
    PP_SKY_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* The row of the table of optics (optic_table.c) for `ideal_fqpm`. */
const pp_optic_type pp_fqpm_type = {
    .name = "ideal_fqpm", .poppy_name = "IdealFQPM", .plane = PP_PLANE_IMAGE,
    .params = pp_fqpm_params, .n_params = PP_OPTIC_COUNT(pp_fqpm_params),
    .doc = "four-quadrant phase mask, half a wave at the design wavelength",
    .apply_image = pp_fqpm_apply};
