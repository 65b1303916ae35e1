/* POPPY's three Fresnel propagators (poppy/fresnel.py, FresnelWavefront._propagate_ptp,
 * _propagate_wts, _propagate_stw; Lawrence 1992 eqs. 82-89) on a square N × N field whose
 * optical axis is element (0, 0): the "fftshifted" layout POPPY's propagate_fresnel works in.
 *
 * Over a rank group (pp_fresnel_plans_create_group) each rank holds rows [row0, row0 + nrows)
 * and the field never leaves the centred layout: the FFTs are FFTW-MPI's centred transforms
 * (fftshift∘DFT∘ifftshift by modulations, pp_fft_mpi_transform_centred), the element a serial
 * step sees at FFT index j is the group's element j + N/2 (mod N), and its coordinate
 * fft_index(j) equals the group's (j + N/2 mod N) − N/2: every phase is the same number on
 * both, only the FFTs round differently. pp_fresnel_to_fft_layout is then a no-op.
 *
 * POPPY's FFTs are unitary: its forward is numpy's fft2 / N (FFTW's FORWARD, sign −1) and its
 * "inverse" ifft2 · N (FFTW's BACKWARD, sign +1, unnormalized, then / N). Forward optical
 * propagation (dz > 0) takes the positive sign, as POPPY says in its comments. */
#include "polypsf/propagate.h"
#include "propagate/fft_private.h"

#include <math.h>

/* The signed FFT index of element j of n: j for j < n/2, j − n above (numpy's fftfreq · n),
 * which is where POPPY's fftshift of centred coordinates (i − n/2) puts each value. */
static double pp_fresnel_fft_index(size_t j, size_t n) {
  return j < n / 2 ? (double)j : (double)j - (double)n;
}

/* The coordinate of element j along an axis of n, in units of step: the axis at 0 (FFT
 * order) or at n/2, into plans->axis[n]. A group's field is always centred (see the top). */
static void pp_fresnel_axis(const pp_fresnel_plans *plans, bool axis_at_origin, double step) {
  size_t n = plans->n;
  bool fft_order = axis_at_origin && !plans->group_forward;
  for (size_t j = 0; j < n; j++)
    plans->axis[j] = (fft_order ? pp_fresnel_fft_index(j, n) : (double)j - (double)n / 2.0) * step;
}

/* exp(i·(a·x² + a·y²)) is exp(i·a·x²)·exp(i·a·y²): one row of phasors serves both axes
 * (a square array), so a separable phase costs n sincos instead of n², and the products
 * agree with the phasor of the sum to rounding (a few ulp of the phase). The row
 * exp(i·a·axis[j]²), in the plans' scratch (the axis set before). */
static const double complex *pp_fresnel_phasor_row(const pp_fresnel_plans *plans, double a) {
  double complex *row = plans->row;
  for (size_t i = 0; i < plans->n; i++) {
    double phase = a * (plans->axis[i] * plans->axis[i]);
    row[i] = cos(phase) + I * sin(phase);
  }
  return row;
}

/* POPPY's QuadPhase(radius): OPD = r²/(2·radius), phasor exp(i·(2π/λ)·OPD); its row, or NULL
 * for an infinite radius (POPPY: a flat OPD). */
static const double complex *pp_fresnel_quadratic_row(const pp_fresnel_plans *plans,
                                                      bool axis_at_origin, double pixelscale_m,
                                                      double wavelength_m, double radius_m) {
  if (isinf(radius_m)) return NULL;
  pp_fresnel_axis(plans, axis_at_origin, pixelscale_m);
  return pp_fresnel_phasor_row(plans, 2.0 * PP_PI / wavelength_m / (2.0 * radius_m));
}

/* The separable phase of row (NULL: none) on the rows this rank holds. */
static void pp_fresnel_apply_row(const pp_fresnel_plans *plans, double complex *field,
                                 const double complex *row) {
  for (size_t iy = 0; row && iy < plans->nrows; iy++)
    pp_phase_row(field + iy * plans->n, row, row[plans->row0 + iy], plans->n);
}

pp_status pp_fresnel_quadratic_phase(const pp_fresnel_plans *plans, double complex *field,
                                     size_t n, bool axis_at_origin, double pixelscale_m,
                                     double wavelength_m, double radius_m) {
  PP_CHECK(plans && plans->n == n && field, PP_ERR_INTERNAL,
           "pp_fresnel_quadratic_phase: plans of another size");
  pp_fresnel_apply_row(plans, field,
                       pp_fresnel_quadratic_row(plans, axis_at_origin, pixelscale_m,
                                                wavelength_m, radius_m));
  return PP_SUCCESS;
}

/* POPPY's unitary transform: execute, then 1/N (both directions on an N × N array); on a
 * group the centred transform, whose output modulation carries the 1/N. The separable phase
 * of before is applied first and that of after last (NULL: none): by the 1-D passes as they
 * go (pp_fft_passes_execute), else as passes of their own; the same bits either way. */
static pp_status pp_fresnel_fft(const pp_fresnel_plans *plans, bool backward,
                                double complex *field, const double complex *before,
                                const double complex *after) {
  size_t n = plans->n;
  double scale = 1.0 / (double)n;
  if (plans->passes_forward)
    return pp_fft_passes_execute(backward ? plans->passes_backward : plans->passes_forward, field,
                                 scale, before, after);
  pp_fresnel_apply_row(plans, field, before);
  if (plans->group_forward) {
    PP_CALL(pp_fft_mpi_transform_centred(backward ? plans->group_backward : plans->group_forward,
                                         field, field));
  } else {
    PP_CALL(pp_fft_execute(backward ? plans->backward : plans->forward, field, field));
    for (size_t i = 0; i < n * n; i++) field[i] *= scale;
  }
  pp_fresnel_apply_row(plans, field, after);
  return PP_SUCCESS;
}

pp_status pp_fresnel_plane_to_plane(const pp_fresnel_plans *plans, double complex *field,
                                    size_t n, double pixelscale_m, double wavelength_m,
                                    double dz_m) {
  PP_CHECK(plans && pp_fresnel_plans_ready(plans) && plans->n == n && field, PP_ERR_INTERNAL,
           "pp_fresnel_plane_to_plane: missing plan or field");
  if (fabs(dz_m) < PP_FRESNEL_MIN_STEP_M) return PP_SUCCESS; /* POPPY skips below 1 Å */
  /* The transfer function exp(−iπλ·dz·ρ²), ρ the spatial frequency (cycles per metre) of
   * each FFT element: its signed index / (N·pixelscale); applied to the forward FFT's output. */
  pp_fresnel_axis(plans, true, 1.0 / ((double)n * pixelscale_m));
  const double complex *transfer = pp_fresnel_phasor_row(plans, -PP_PI * wavelength_m * dz_m);
  PP_CALL(pp_fresnel_fft(plans, false, field, NULL, transfer));
  return pp_fresnel_fft(plans, true, field, NULL, NULL);
}

pp_status pp_fresnel_waist_to_spherical(const pp_fresnel_plans *plans, double complex *field,
                                        size_t n, double *pixelscale_m, double wavelength_m,
                                        double dz_m) {
  PP_CHECK(plans && pp_fresnel_plans_ready(plans) && plans->n == n && field && pixelscale_m,
           PP_ERR_INTERNAL, "pp_fresnel_waist_to_spherical: missing plan or field");
  if (dz_m == 0.0) return PP_SUCCESS; /* POPPY: "no change in distance" */
  const double complex *curvature =
      pp_fresnel_quadratic_row(plans, true, *pixelscale_m, wavelength_m, dz_m);
  PP_CALL(pp_fresnel_fft(plans, dz_m > 0, field, curvature, NULL));
  *pixelscale_m = wavelength_m * fabs(dz_m) / ((double)n * *pixelscale_m);
  return PP_SUCCESS;
}

pp_status pp_fresnel_spherical_to_waist(const pp_fresnel_plans *plans, double complex *field,
                                        size_t n, double *pixelscale_m, double wavelength_m,
                                        double dz_m) {
  PP_CHECK(plans && pp_fresnel_plans_ready(plans) && plans->n == n && field && pixelscale_m,
           PP_ERR_INTERNAL, "pp_fresnel_spherical_to_waist: missing plan or field");
  if (dz_m == 0.0) return PP_SUCCESS;
  /* The new pixel scale first: the curvature is applied on the new grid. */
  *pixelscale_m = wavelength_m * fabs(dz_m) / ((double)n * *pixelscale_m);
  const double complex *curvature =
      pp_fresnel_quadratic_row(plans, true, *pixelscale_m, wavelength_m, dz_m);
  return pp_fresnel_fft(plans, dz_m > 0, field, NULL, curvature);
}

pp_status pp_fresnel_plans_create(size_t n, pp_fft_rigor rigor, bool passes,
                                  pp_fresnel_plans *plans) {
  PP_CHECK(plans && n > 0, PP_ERR_INTERNAL, "pp_fresnel_plans_create: bad arguments");
  *plans = (pp_fresnel_plans){.n = n, .row0 = 0, .nrows = n, .local_elements = n * n};
  pp_status status = pp_array_alloc(n * sizeof *plans->axis, (void **)&plans->axis);
  if (status == PP_SUCCESS) status = pp_array_alloc(n * sizeof *plans->row, (void **)&plans->row);
  if (passes && n % 2 == 0) { /* the band is unused by pp_fft_passes_execute */
    if (status == PP_SUCCESS)
      status = pp_fft_passes_create(n, n, PP_FFT_FORWARD, rigor, &plans->passes_forward);
    if (status == PP_SUCCESS)
      status = pp_fft_passes_create(n, n, PP_FFT_BACKWARD, rigor, &plans->passes_backward);
  } else {
    if (status == PP_SUCCESS)
      status = pp_fft_plan_create(n, n, PP_FFT_FORWARD, rigor, &plans->forward);
    if (status == PP_SUCCESS)
      status = pp_fft_plan_create(n, n, PP_FFT_BACKWARD, rigor, &plans->backward);
  }
  if (status != PP_SUCCESS) pp_fresnel_plans_destroy(plans);
  return status;
}

pp_status pp_fresnel_plans_create_group(MPI_Comm group, size_t n, pp_fft_rigor rigor,
                                        pp_fresnel_plans *plans) {
  PP_CHECK(plans && n > 0, PP_ERR_INTERNAL, "pp_fresnel_plans_create_group: bad arguments");
  *plans = (pp_fresnel_plans){.n = n};
  pp_status status = pp_fft_mpi_plan_create(group, n, PP_FFT_FORWARD, rigor,
                                            &plans->group_forward);
  if (status == PP_SUCCESS)
    status = pp_fft_mpi_plan_create(group, n, PP_FFT_BACKWARD, rigor, &plans->group_backward);
  if (status == PP_SUCCESS) {
    /* one decomposition (FFTW-MPI's for N × N on the group): both plans hold the same rows */
    pp_fft_mpi_local_rows(plans->group_forward, &plans->row0, &plans->nrows);
    size_t forward = pp_fft_mpi_local_elements(plans->group_forward);
    size_t backward = pp_fft_mpi_local_elements(plans->group_backward);
    plans->local_elements = forward > backward ? forward : backward;
    pp_status local = pp_array_alloc(n * sizeof *plans->axis, (void **)&plans->axis);
    if (local == PP_SUCCESS) local = pp_array_alloc(n * sizeof *plans->row, (void **)&plans->row);
    status = pp_agree(group, local);
  }
  if (status != PP_SUCCESS) pp_fresnel_plans_destroy(plans); /* collective, as create */
  return status;
}

bool pp_fresnel_plans_ready(const pp_fresnel_plans *plans) {
  return plans && ((plans->forward && plans->backward) ||
                    (plans->passes_forward && plans->passes_backward) ||
                   (plans->group_forward && plans->group_backward));
}

void pp_fresnel_to_fft_layout(const pp_fresnel_plans *plans, double complex *field) {
  if (!plans->group_forward) pp_fresnel_fftshift(field, plans->n); /* a group stays centred */
}

void pp_fresnel_plans_destroy(pp_fresnel_plans *plans) {
  if (!plans) return;
  pp_fft_plan_destroy(&plans->forward);
  pp_fft_plan_destroy(&plans->backward);
  pp_fft_passes_destroy(&plans->passes_forward);
  pp_fft_passes_destroy(&plans->passes_backward);
  pp_fft_mpi_plan_destroy(&plans->group_forward);
  pp_fft_mpi_plan_destroy(&plans->group_backward);
  pp_array_free(&plans->axis);
  pp_array_free(&plans->row);
}

void pp_fresnel_fftshift(double complex *field, size_t n) {
  /* n even: swapping diagonal quadrants is numpy's fftshift and ifftshift alike; the padded
   * FFTs' swap, with the exact factor 1. */
  pp_fft_swap_quadrants_scaled(field, n, n, 1.0);
}
