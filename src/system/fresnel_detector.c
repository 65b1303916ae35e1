/* POPPY's Fresnel detector (poppy/fresnel.py FresnelWavefront._resample_wavefront_pixelscale,
 * poppy/poppy_core.py BaseWavefront._resample_wavefront_pixelscale): the wavefront resampled
 * to the detector's pixel scale and size.
 *
 * Within 1e-3 of the detector's pixel scale POPPY only pads or crops to the detector's size.
 * Otherwise it pads the field by one pixel on each side (n + 2, "margin"), takes its real
 * and imaginary parts on the axes step·(j − ⌊(n+2)/2⌋) and evaluates scipy's
 * RectBivariateSpline (cubic, s = 0) on the detector's axes step_det·(j − ⌊m/2⌋), then
 * multiplies the field by detector pixel scale ÷ wavefront pixel scale (POPPY's 1/ratio:
 * the field is a density, the intensity per pixel goes with the pixel's area). FITPACK's cubic interpolating spline with s = 0 has its knots
 * at the data points but the second and the second-to-last ("not-a-knot"); on a grid the
 * tensor-product spline is the 1-D not-a-knot spline along one axis, then along the other,
 * which is how it is computed here (for the complex field at once: the spline is linear). */
#define POLYPSF_SYSTEM_INTERNAL
#include "system/fresnel_private.h"

#include <math.h>
#include <string.h>

/* Python's floor division −n // 2. */
static double pp_floor_half_negative(size_t n) { return floor(-(double)n / 2.0); }

/* Second derivatives (index units) of the not-a-knot cubic spline through f[0..p−1]
 * (p ≥ 4, spacing 1), into m[0..p−1]. cp[p] is scratch for the Thomas sweep. */
static void pp_not_a_knot_moments(const double complex *f, size_t stride, size_t p,
                                  double complex *m, double *cp) {
  /* Rows i = 1..p−2: m[i−1] + 4 m[i] + m[i+1] = 6 d[i], d[i] = f[i−1] − 2 f[i] + f[i+1].
   * Not-a-knot at x1 and x(p−2): m0 = 2 m1 − m2, which turns row 1 into 6 m1 = 6 d1
   * (likewise at the far end); rows 2..p−3 are then tridiagonal with m1, m(p−2) known. */
#define PP_D(i) (f[((i) - 1) * stride] - 2.0 * f[(i) * stride] + f[((i) + 1) * stride])
  m[1] = PP_D(1);
  m[p - 2] = PP_D(p - 2);
  if (p >= 6) {
    size_t first = 2, last = p - 3;
    /* Forward sweep into m[first..last]. */
    for (size_t i = first; i <= last; i++) {
      double complex r = 6.0 * PP_D(i);
      if (i == first) r -= m[1];
      if (i == last) r -= m[p - 2];
      if (i == first) {
        cp[i] = 1.0 / 4.0;
        m[i] = r / 4.0;
      } else {
        double denominator = 4.0 - cp[i - 1];
        cp[i] = 1.0 / denominator;
        m[i] = (r - m[i - 1]) / denominator;
      }
    }
    for (size_t i = last; i > first; i--) m[i - 1] -= cp[i - 1] * m[i];
  }
  m[0] = 2.0 * m[1] - m[2];
  m[p - 1] = 2.0 * m[p - 2] - m[p - 3];
#undef PP_D
}

/* The spline through f (p points at 0..p−1) at index position u. */
static double complex pp_spline_at(const double complex *f, size_t stride, size_t p,
                                   const double complex *m, double u) {
  double cell = floor(u);
  if (cell < 0) cell = 0;
  if (cell > (double)(p - 2)) cell = (double)(p - 2);
  size_t i = (size_t)cell;
  double t = u - cell, s = 1.0 - t;
  return s * f[i * stride] + t * f[(i + 1) * stride] +
         ((s * s * s - s) * m[i] + (t * t * t - t) * m[i + 1]) / 6.0;
}

size_t pp_fresnel_detector_scratch_elements(size_t n, size_t fov) {
  size_t p = n + 2;
  /* padded field p², rows resampled p·fov, moments p, Thomas p and the fov positions (each
   * in complex-sized slots) */
  return p * p + p * fov + 2 * p + fov;
}

pp_status pp_fresnel_detector_resample(const double complex *field, size_t n,
                                       double pixelscale_m, size_t fov,
                                       double detector_pixelscale_m, double complex *scratch,
                                       double complex *out, double *out_pixelscale_m) {
  double ratio = pixelscale_m / detector_pixelscale_m;
  if (fabs(ratio - 1.0) < 1e-3) {
    /* POPPY: pad_or_crop_to_shape, and the pixel scale stays the wavefront's. */
    memset(out, 0, fov * fov * sizeof *out);
    if (n >= fov) {
      size_t border = (n - fov) / 2;
      for (size_t y = 0; y < fov; y++)
        memcpy(out + y * fov, field + (y + border) * n + border, fov * sizeof *out);
    } else {
      size_t border = (fov - n) / 2;
      for (size_t y = 0; y < n; y++)
        memcpy(out + (y + border) * fov + border, field + y * n, n * sizeof *out);
    }
    *out_pixelscale_m = pixelscale_m;
    return PP_SUCCESS;
  }
  size_t p = n + 2;
  double complex *padded = scratch;
  double complex *rows = padded + p * p;       /* [p][fov]: each padded row at the out x's */
  double complex *moments = rows + p * fov;   /* [p] */
  double *cp = (double *)(moments + p);       /* [p] doubles in p complex slots */
  memset(padded, 0, p * p * sizeof *padded);
  for (size_t y = 0; y < n; y++) memcpy(padded + (y + 1) * p + 1, field + y * n, n * sizeof *field);
  /* Input axis value of index j: pixelscale·(j + ⌊−p/2⌋); output: det·(j + ⌊−fov/2⌋).
   * In input index units the output point j sits at u = (det·(j + o_out))/pixelscale − o_in. */
  double offset_in = pp_floor_half_negative(p), offset_out = pp_floor_half_negative(fov);
  double *u = (double *)(moments + 2 * p);    /* [fov] */
  for (size_t j = 0; j < fov; j++)
    u[j] = detector_pixelscale_m * ((double)j + offset_out) / pixelscale_m - offset_in;
  /* Along the second axis (y_in of RectBivariateSpline, the columns) for every row. */
  for (size_t r = 0; r < p; r++) {
    const double complex *row = padded + r * p;
    pp_not_a_knot_moments(row, 1, p, moments, cp);
    for (size_t j = 0; j < fov; j++) rows[r * fov + j] = pp_spline_at(row, 1, p, moments, u[j]);
  }
  /* Then along the first axis for every output column. */
  double scale = 1.0 / ratio;
  for (size_t j = 0; j < fov; j++) {
    const double complex *column = rows + j;
    pp_not_a_knot_moments(column, fov, p, moments, cp);
    for (size_t i = 0; i < fov; i++)
      out[i * fov + j] = pp_spline_at(column, fov, p, moments, u[i]) * scale;
  }
  *out_pixelscale_m = detector_pixelscale_m;
  return PP_SUCCESS;
}
