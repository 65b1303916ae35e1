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

/* The Thomas sweep's factors of the system below, which depend on p only: cp[i] is
 * 1 / (its pivot) for i = 2..p−3. Made once per resampling (pp_fresnel_detector_positions),
 * not once per row: the sweep then multiplies where it divided (a division per row element
 * was a third of the resampling's time). */
static void pp_not_a_knot_factors(size_t p, double *cp) {
  if (p < 6) return;
  cp[2] = 1.0 / 4.0;
  for (size_t i = 3; i <= p - 3; i++) cp[i] = 1.0 / (4.0 - cp[i - 1]);
}

/* Second derivatives (index units) of the not-a-knot cubic spline through f[0..p−1]
 * (p ≥ 4, spacing 1), into m[0..p−1], with the factors cp of pp_not_a_knot_factors(p). */
static void pp_not_a_knot_moments(const double complex *f, size_t stride, size_t p,
                                  double complex *m, const double *cp) {
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
      m[i] = (i == first ? r : r - m[i - 1]) * cp[i];
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
  /* rows resampled p·fov, then the work: one padded row p, moments p, Thomas p and the fov
   * positions (each in complex-sized slots) */
  return p * fov + pp_fresnel_detector_work_elements(n, fov);
}

void pp_fresnel_detector_crop(const double complex *rows, size_t first_row, size_t n,
                              size_t fov, double complex *out) {
  /* POPPY: pad_or_crop_to_shape, centred; rows holds field rows from first_row on */
  memset(out, 0, fov * fov * sizeof *out);
  if (n >= fov) {
    size_t border = (n - fov) / 2;
    for (size_t y = 0; y < fov; y++)
      memcpy(out + y * fov, rows + (y + border - first_row) * n + border, fov * sizeof *out);
  } else {
    size_t border = (fov - n) / 2;
    for (size_t y = 0; y < n; y++)
      memcpy(out + (y + border) * fov + border, rows + (y - first_row) * n, n * sizeof *out);
  }
}

void pp_fresnel_detector_crop_rows(size_t n, size_t fov, size_t *first, size_t *end) {
  *first = n >= fov ? (n - fov) / 2 : 0;
  *end = n >= fov ? *first + fov : n;
}

bool pp_fresnel_detector_crops(double pixelscale_m, double detector_pixelscale_m) {
  return fabs(pixelscale_m / detector_pixelscale_m - 1.0) < 1e-3;
}

size_t pp_fresnel_detector_work_elements(size_t n, size_t fov) { return 3 * (n + 2) + fov; }

/* The work's parts: one padded row, the moments, the Thomas sweep, the positions. */
typedef struct pp_detector_work {
  double complex *padded, *moments;
  double *cp, *u;
} pp_detector_work;

static pp_detector_work pp_detector_work_parts(double complex *work, size_t p) {
  return (pp_detector_work){.padded = work, .moments = work + p,
                            .cp = (double *)(work + 2 * p), .u = (double *)(work + 3 * p)};
}

void pp_fresnel_detector_positions(size_t n, double pixelscale_m, size_t fov,
                                   double detector_pixelscale_m, double complex *work) {
  /* Input axis value of index j: pixelscale·(j + ⌊−p/2⌋); output: det·(j + ⌊−fov/2⌋).
   * In input index units the output point j sits at u = (det·(j + o_out))/pixelscale − o_in. */
  size_t p = n + 2;
  pp_detector_work part = pp_detector_work_parts(work, p);
  double *u = part.u;
  pp_not_a_knot_factors(p, part.cp);
  double offset_in = pp_floor_half_negative(p), offset_out = pp_floor_half_negative(fov);
  for (size_t j = 0; j < fov; j++)
    u[j] = detector_pixelscale_m * ((double)j + offset_out) / pixelscale_m - offset_in;
}

void pp_fresnel_detector_row(const double complex *field_row, size_t n, size_t fov,
                             double complex *work, double complex *out_row) {
  size_t p = n + 2;
  pp_detector_work part = pp_detector_work_parts(work, p);
  /* POPPY's margin: the padded row is 0, the field row, 0 (all 0 for the first and last) */
  memset(part.padded, 0, p * sizeof *part.padded);
  if (field_row) memcpy(part.padded + 1, field_row, n * sizeof *field_row);
  pp_not_a_knot_moments(part.padded, 1, p, part.moments, part.cp);
  for (size_t j = 0; j < fov; j++)
    out_row[j] = pp_spline_at(part.padded, 1, p, part.moments, part.u[j]);
}

void pp_fresnel_detector_columns(size_t n, size_t fov, double ratio,
                                 const double complex *rows, double complex *work,
                                 double complex *out) {
  size_t p = n + 2;
  pp_detector_work part = pp_detector_work_parts(work, p);
  double scale = 1.0 / ratio;
  for (size_t j = 0; j < fov; j++) {
    const double complex *column = rows + j;
    pp_not_a_knot_moments(column, fov, p, part.moments, part.cp);
    for (size_t i = 0; i < fov; i++)
      out[i * fov + j] = pp_spline_at(column, fov, p, part.moments, part.u[i]) * scale;
  }
}

pp_status pp_fresnel_detector_resample(const double complex *field, size_t n,
                                       double pixelscale_m, size_t fov,
                                       double detector_pixelscale_m, double complex *scratch,
                                       double complex *out, double *out_pixelscale_m) {
  if (pp_fresnel_detector_crops(pixelscale_m, detector_pixelscale_m)) {
    /* POPPY: pad_or_crop_to_shape, and the pixel scale stays the wavefront's. */
    pp_fresnel_detector_crop(field, 0, n, fov, out);
    *out_pixelscale_m = pixelscale_m;
    return PP_SUCCESS;
  }
  size_t p = n + 2;
  double complex *rows = scratch, *work = scratch + p * fov; /* [p][fov], then the work */
  pp_fresnel_detector_positions(n, pixelscale_m, fov, detector_pixelscale_m, work);
  /* Along the second axis (y_in of RectBivariateSpline, the columns) for every padded row:
   * row r is the field's row r − 1, the first and last the margin's zeros. */
  for (size_t r = 0; r < p; r++)
    pp_fresnel_detector_row(r == 0 || r == p - 1 ? NULL : field + (r - 1) * n, n, fov, work,
                            rows + r * fov);
  /* Then along the first axis for every output column. */
  pp_fresnel_detector_columns(n, fov, pixelscale_m / detector_pixelscale_m, rows, work, out);
  *out_pixelscale_m = detector_pixelscale_m;
  return PP_SUCCESS;
}
