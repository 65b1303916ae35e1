/* POPPY's three Fresnel propagators (poppy/fresnel.py, FresnelWavefront._propagate_ptp,
 * _propagate_wts, _propagate_stw; Lawrence 1992 eqs. 82-89) on a square N × N field whose
 * optical axis is element (0, 0): the "fftshifted" layout POPPY's propagate_fresnel works in.
 *
 * POPPY's FFTs are unitary: its forward is numpy's fft2 / N (FFTW's FORWARD, sign −1) and its
 * "inverse" ifft2 · N (FFTW's BACKWARD, sign +1, unnormalized, then / N). Forward optical
 * propagation (dz > 0) takes the positive sign, as POPPY says in its comments. */
#include "polypsf/propagate.h"

#include <math.h>

/* The signed FFT index of element j of n: j for j < n/2, j − n above (numpy's fftfreq · n),
 * which is where POPPY's fftshift of centred coordinates (i − n/2) puts each value. */
static double pp_fresnel_fft_index(size_t j, size_t n) {
  return j < n / 2 ? (double)j : (double)j - (double)n;
}

/* exp(i·(a·x² + a·y²)) is exp(i·a·x²)·exp(i·a·y²): one row of phasors serves both axes
 * (a square array), so a quadratic phase costs n sincos instead of n², and the products
 * agree with the phasor of the sum to rounding (a few ulp of the phase). The row is the
 * plans' scratch. */
static void pp_fresnel_separable_phase(double complex *field, size_t n, double complex *row,
                                       const double *coordinate, double a) {
  for (size_t i = 0; i < n; i++) {
    double phase = a * (coordinate[i] * coordinate[i]);
    row[i] = cos(phase) + I * sin(phase);
  }
  for (size_t iy = 0; iy < n; iy++) {
    double complex *line = field + iy * n;
    double complex py = row[iy];
    for (size_t ix = 0; ix < n; ix++) line[ix] *= py * row[ix];
  }
}

/* The coordinate of element j along an axis of n, in units of step: the axis at 0 (FFT
 * order) or at n/2. Written into out[n]. */
static void pp_fresnel_axis(size_t n, bool axis_at_origin, double step, double *out) {
  for (size_t j = 0; j < n; j++)
    out[j] = (axis_at_origin ? pp_fresnel_fft_index(j, n) : (double)j - (double)n / 2.0) * step;
}

pp_status pp_fresnel_quadratic_phase(const pp_fresnel_plans *plans, double complex *field,
                                     size_t n, bool axis_at_origin, double pixelscale_m,
                                     double wavelength_m, double radius_m) {
  PP_CHECK(plans && plans->n == n && field, PP_ERR_INTERNAL,
           "pp_fresnel_quadratic_phase: plans of another size");
  if (isinf(radius_m)) return PP_SUCCESS; /* POPPY: an infinite radius gives a flat OPD */
  /* POPPY's QuadPhase: OPD = r²/(2·z), phasor exp(i·(2π/λ)·OPD). */
  pp_fresnel_axis(n, axis_at_origin, pixelscale_m, plans->axis);
  pp_fresnel_separable_phase(field, n, plans->row, plans->axis,
                             2.0 * PP_PI / wavelength_m / (2.0 * radius_m));
  return PP_SUCCESS;
}

/* POPPY's unitary transform: execute, then 1/N (both directions on an N × N array). */
static pp_status pp_fresnel_fft(const pp_fft_plan *plan, double complex *field, size_t n) {
  PP_CALL(pp_fft_execute(plan, field, field));
  double scale = 1.0 / (double)n;
  for (size_t i = 0; i < n * n; i++) field[i] *= scale;
  return PP_SUCCESS;
}

pp_status pp_fresnel_plane_to_plane(const pp_fresnel_plans *plans, double complex *field,
                                    size_t n, double pixelscale_m, double wavelength_m,
                                    double dz_m) {
  PP_CHECK(plans && plans->forward && plans->backward && plans->n == n && field, PP_ERR_INTERNAL,
           "pp_fresnel_plane_to_plane: missing plan or field");
  if (fabs(dz_m) < PP_FRESNEL_MIN_STEP_M) return PP_SUCCESS; /* POPPY skips below 1 Å */
  PP_CALL(pp_fresnel_fft(plans->forward, field, n));
  /* The transfer function exp(−iπλ·dz·ρ²), ρ the spatial frequency (cycles per metre) of
   * each FFT element: its signed index / (N·pixelscale). */
  pp_fresnel_axis(n, true, 1.0 / ((double)n * pixelscale_m), plans->axis);
  pp_fresnel_separable_phase(field, n, plans->row, plans->axis, -PP_PI * wavelength_m * dz_m);
  return pp_fresnel_fft(plans->backward, field, n);
}

pp_status pp_fresnel_waist_to_spherical(const pp_fresnel_plans *plans, double complex *field,
                                        size_t n, double *pixelscale_m, double wavelength_m,
                                        double dz_m) {
  PP_CHECK(plans && plans->forward && plans->backward && field && pixelscale_m, PP_ERR_INTERNAL,
           "pp_fresnel_waist_to_spherical: missing plan or field");
  if (dz_m == 0.0) return PP_SUCCESS; /* POPPY: "no change in distance" */
  PP_CALL(pp_fresnel_quadratic_phase(plans, field, n, true, *pixelscale_m, wavelength_m, dz_m));
  PP_CALL(pp_fresnel_fft(dz_m > 0 ? plans->backward : plans->forward, field, n));
  *pixelscale_m = wavelength_m * fabs(dz_m) / ((double)n * *pixelscale_m);
  return PP_SUCCESS;
}

pp_status pp_fresnel_spherical_to_waist(const pp_fresnel_plans *plans, double complex *field,
                                        size_t n, double *pixelscale_m, double wavelength_m,
                                        double dz_m) {
  PP_CHECK(plans && plans->forward && plans->backward && field && pixelscale_m, PP_ERR_INTERNAL,
           "pp_fresnel_spherical_to_waist: missing plan or field");
  if (dz_m == 0.0) return PP_SUCCESS;
  PP_CALL(pp_fresnel_fft(dz_m > 0 ? plans->backward : plans->forward, field, n));
  /* The new pixel scale first: the curvature is applied on the new grid. */
  *pixelscale_m = wavelength_m * fabs(dz_m) / ((double)n * *pixelscale_m);
  return pp_fresnel_quadratic_phase(plans, field, n, true, *pixelscale_m, wavelength_m, dz_m);
}

pp_status pp_fresnel_plans_create(size_t n, pp_fft_rigor rigor, pp_fresnel_plans *plans) {
  PP_CHECK(plans && n > 0, PP_ERR_INTERNAL, "pp_fresnel_plans_create: bad arguments");
  *plans = (pp_fresnel_plans){.n = n};
  pp_status status = pp_array_alloc(n * sizeof *plans->axis, (void **)&plans->axis);
  if (status == PP_SUCCESS) status = pp_array_alloc(n * sizeof *plans->row, (void **)&plans->row);
  if (status == PP_SUCCESS)
    status = pp_fft_plan_create(n, n, PP_FFT_FORWARD, rigor, &plans->forward);
  if (status == PP_SUCCESS)
    status = pp_fft_plan_create(n, n, PP_FFT_BACKWARD, rigor, &plans->backward);
  if (status != PP_SUCCESS) pp_fresnel_plans_destroy(plans);
  return status;
}

void pp_fresnel_plans_destroy(pp_fresnel_plans *plans) {
  if (!plans) return;
  pp_fft_plan_destroy(&plans->forward);
  pp_fft_plan_destroy(&plans->backward);
  pp_array_free(&plans->axis);
  pp_array_free(&plans->row);
}

void pp_fresnel_fftshift(double complex *field, size_t n) {
  /* n even: swapping diagonal quadrants is numpy's fftshift and ifftshift alike. */
  size_t h = n / 2;
  for (size_t iy = 0; iy < h; iy++)
    for (size_t ix = 0; ix < n; ix++) {
      size_t jx = (ix + h) % n;
      double complex t = field[iy * n + ix];
      field[iy * n + ix] = field[(iy + h) * n + jx];
      field[(iy + h) * n + jx] = t;
    }
}
