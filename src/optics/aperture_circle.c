/* circular_aperture (POPPY CircularAperture) and the exact area of a pixel inside a
 * circle, which gives the gray edge pixels.
 *
 * POPPY 1.1 (poppy/optics.py CircularAperture.get_transmission, poppy/geometry.py
 * filled_circle_aa + pixwt) works in pixel units: a pixel whose centre lies more than
 * one pixel from the edge is 1 (centre inside) or 0; the others get the area of the unit
 * pixel inside the circle. A pixel that far from the edge is entirely in or out (its
 * corners are 0.71 px from its centre), so "exact area of every pixel" is the same
 * rule; interior pixels are set to exactly 1 as POPPY does. Non-gray: 1 where r ≤ radius. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>

/* θ − sin θ without the cancellation of the direct difference for small θ. */
static double pp_theta_minus_sin(double theta) {
  if (theta < 0.1) {
    /* θ³/3! − θ⁵/5! + θ⁷/7! − θ⁹/9! + θ¹¹/11!: the next term is < 1e-16 relative at 0.1. */
    double t2 = theta * theta;
    return theta * t2 *
           (1.0 / 6 - t2 * (1.0 / 120 - t2 * (1.0 / 5040 - t2 * (1.0 / 362880 -
                                                                 t2 / 39916800.0))));
  }
  return theta - sin(theta);
}

/* Height of the circle above the x axis at abscissa x (0 beyond the circle), with
 * (r − x)(r + x) instead of r² − x² so that points near the rim keep their digits. */
static double pp_circle_height(double r, double x) {
  if (x >= r) return 0.0;
  return sqrt((r - x) * (r + x));
}

/* Area inside the circle of the rectangle [x0, x1] × [y0, y1] lying in the first
 * quadrant (0 ≤ x0 ≤ x1, 0 ≤ y0 ≤ y1). The circle's upper boundary h(x) decreases there,
 * so the rectangle splits into a full-height strip (h ≥ y1), a strip cut by the arc
 * (y0 ≤ h ≤ y1) and an empty strip (h ≤ y0). */
static double pp_quadrant_overlap(double r, double x0, double x1, double y0, double y1) {
  if (x1 <= x0 || y1 <= y0) return 0.0;
  if (x0 * x0 + y0 * y0 >= r * r) return 0.0;          /* nearest corner outside */
  if (x1 * x1 + y1 * y1 <= r * r) return (x1 - x0) * (y1 - y0); /* farthest corner inside */
  double height = y1 - y0;
  double x_full_end = y1 < r ? pp_circle_height(r, y1) : 0.0; /* h(x) ≥ y1 for x ≤ this */
  double x_cut_end = pp_circle_height(r, y0);                 /* h(x) ≥ y0 for x ≤ this */
  double a = fmin(fmax(x_full_end, x0), x1);
  double b = fmin(fmax(x_cut_end, x0), x1);
  double area = height * (a - x0);
  if (b > a) {
    /* Under the arc from a to b, above y0: the trapezoid under the chord plus the circular
     * segment between chord and arc, ½r²(θ − sin θ) with θ the angle the chord subtends. */
    double ha = pp_circle_height(r, a), hb = pp_circle_height(r, b);
    double width = b - a;
    /* h(a) − h(b) = (b² − a²)/(h(a) + h(b)): no cancellation. */
    double drop = ha + hb > 0.0 ? width * (a + b) / (ha + hb) : 0.0;
    double chord = hypot(width, drop);
    double theta = 2.0 * asin(fmin(1.0, chord / (2.0 * r)));
    double segment = 0.5 * r * r * pp_theta_minus_sin(theta);
    area += width * (0.5 * (ha + hb) - y0) + segment;
  }
  return area;
}

/* One piece of the rectangle on one side of each axis, mirrored into the first quadrant. */
static double pp_mirrored_overlap(double r, double x0, double x1, double y0, double y1) {
  double ax0 = x0 >= 0 ? x0 : -x1, ax1 = x0 >= 0 ? x1 : -x0;
  double ay0 = y0 >= 0 ? y0 : -y1, ay1 = y0 >= 0 ? y1 : -y0;
  return pp_quadrant_overlap(r, ax0, ax1, ay0, ay1);
}

double pp_circle_rectangle_overlap_area(double r, double x0, double x1, double y0, double y1) {
  if (!(r > 0) || !(x1 > x0) || !(y1 > y0)) return 0.0;
  /* Split at the axes so each piece lies in one quadrant. */
  double xs[3] = {x0, x1, x1}, ys[3] = {y0, y1, y1};
  int nx = 1, ny = 1;
  if (x0 < 0 && x1 > 0) { xs[1] = 0.0; nx = 2; }
  if (y0 < 0 && y1 > 0) { ys[1] = 0.0; ny = 2; }
  double area = 0.0;
  for (int i = 0; i < nx; i++)
    for (int j = 0; j < ny; j++)
      area += pp_mirrored_overlap(r, xs[i], i == nx - 1 ? x1 : xs[i + 1], ys[j],
                                  j == ny - 1 ? y1 : ys[j + 1]);
  return area;
}

double pp_circle_pupil_diameter_m(const pp_optic_spec *spec) {
  /* POPPY: pupil_diam = pad_factor · 2 · radius, pad_factor 1. */
  return 2.0 * pp_optic_spec_get(spec, "radius");
}

pp_status pp_circle_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                          double *amplitude, double *opd) {
  (void)opd;
  double radius_m = pp_optic_spec_get(spec, "radius");
  bool gray = pp_optic_spec_get(spec, "gray_pixel") != 0.0;
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  double pixelscale_m = grid->pixelscale_m;
  /* POPPY passes radius and coordinates divided by the pixel scale to filled_circle_aa. */
  double radius_px = radius_m / pixelscale_m;
  for (size_t iy = 0; iy < grid->ny; iy++) {
    double y_grid_m = pp_grid_coordinate_m(iy, grid->ny, pixelscale_m);
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double x_grid_m = pp_grid_coordinate_m(ix, grid->nx, pixelscale_m);
      double x_m, y_m;
      pp_optic_frame_apply(&frame, x_grid_m, y_grid_m, &x_m, &y_m);
      double value;
      if (gray) {
        double xc = x_m / pixelscale_m, yc = y_m / pixelscale_m;
        double r_px = sqrt(xc * xc + yc * yc);
        if (r_px <= radius_px - 1.0) {
          value = 1.0; /* entirely inside: POPPY's fill value, exactly */
        } else if (r_px >= radius_px + 1.0) {
          value = 0.0;
        } else {
          value = pp_circle_rectangle_overlap_area(radius_px, xc - 0.5, xc + 0.5, yc - 0.5,
                                                   yc + 0.5);
          value = fmin(1.0, fmax(0.0, value)); /* POPPY clips to [0, 1] */
        }
      } else {
        value = sqrt(x_m * x_m + y_m * y_m) <= radius_m ? 1.0 : 0.0;
      }
      amplitude[iy * grid->nx + ix] *= value;
    }
  }
  return PP_SUCCESS;
}

/* ---- the table row ----------------------------------------------------------- */

static const pp_optic_param pp_circle_params[] = {
    {.name = "radius", .kind = PP_PARAM_REAL, .default_value = 1.0, PP_POSITIVE, .unit = "m",
     .doc = "radius of the clear circle"},
    {.name = "gray_pixel", .kind = PP_PARAM_BOOL, .default_value = 1.0, .min = 0, .max = 1,
     .unit = "", .doc = "edge pixels transmit the exact fraction of their area inside the circle"},
    PP_SHIFT_PARAMS,
};

/* The row of the table of optics (optic_table.c) for `circular_aperture`. */
const pp_optic_type pp_circle_type = {
    .name = "circular_aperture", .poppy_name = "CircularAperture", .plane = PP_PLANE_PUPIL,
    .params = pp_circle_params, .n_params = PP_OPTIC_COUNT(pp_circle_params),
    .doc = "clear circle; edge pixels gray by their exact area inside",
    .pupil_diameter_m = pp_circle_pupil_diameter_m,
    .apply_pupil = pp_circle_apply};
