/* Encircled energy with the exact area of each pixel inside the circle.
 *
 * The area of the disk x² + y² ≤ R² inside a rectangle [x0, x1] × [y0, y1] (disk centre
 * at the origin) is a sum of four signed "corner" areas,
 *   A = g(x1, y1) − g(x0, y1) − g(x1, y0) + g(x0, y0),
 * with g(x, y) = sign(x)·sign(y) · (area of the disk inside [0, |x|] × [0, |y|]): the
 * disk is symmetric about both axes, so each quadrant's part has the same form. For
 * x, y ≥ 0 that area is ∫_0^min(x,R) min(y, √(R² − X²)) dX, which is y·X up to the abscissa
 * X_s = √(R² − y²) where the circle drops below y, then the circle's own integral
 * F(u) = (u·√(R² − u²) + R²·asin(u/R)) / 2. */
#include <math.h>

#include "analysis/analysis_private.h"

/* ∫_0^u √(R² − X²) dX for 0 ≤ u ≤ R. */
static double pp_circle_integral(double u, double radius) {
  double ratio = fmin(u / radius, 1.0);
  return 0.5 * (u * sqrt(fmax(radius * radius - u * u, 0.0)) + radius * radius * asin(ratio));
}

/* Area of the disk of `radius` inside [0, x] × [0, y], x, y ≥ 0. */
static double pp_corner_area(double x, double y, double radius) {
  if (x <= 0.0 || y <= 0.0) return 0.0;
  x = fmin(x, radius);
  y = fmin(y, radius);
  double x_cross = sqrt(fmax(radius * radius - y * y, 0.0));
  if (x <= x_cross) return x * y;
  return x_cross * y + pp_circle_integral(x, radius) - pp_circle_integral(x_cross, radius);
}

static double pp_signed_corner_area(double x, double y, double radius) {
  double area = pp_corner_area(fabs(x), fabs(y), radius);
  return (x < 0.0) != (y < 0.0) ? -area : area;
}

/* Area of the disk (centre at the origin) inside [x0, x1] × [y0, y1]. */
static double pp_rectangle_overlap(double x0, double x1, double y0, double y1, double radius) {
  return pp_signed_corner_area(x1, y1, radius) - pp_signed_corner_area(x0, y1, radius) -
         pp_signed_corner_area(x1, y0, radius) + pp_signed_corner_area(x0, y0, radius);
}

pp_status pp_analysis_encircled_energy(const pp_image *image, double centre_x_px,
                                       double centre_y_px, double radius_px, double *energy) {
  PP_CALL(pp_analysis_check_image(image));
  PP_CHECK(energy != NULL, PP_ERR_INTERNAL, "pp_analysis_encircled_energy: NULL energy");
  PP_CHECK(isfinite(centre_x_px) && isfinite(centre_y_px), PP_ERR_INPUT,
           "the circle's centre (%g, %g) is not a finite position", centre_x_px, centre_y_px);
  PP_CHECK(isfinite(radius_px) && radius_px >= 0.0, PP_ERR_INPUT,
           "the circle's radius must be finite and at least 0 pixels, got %g", radius_px);
  *energy = 0.0;
  if (radius_px == 0.0) return PP_SUCCESS;

  /* Only pixels whose squares can touch the circle: centres within radius + ½. */
  double reach = radius_px + 0.5;
  double x_first = ceil(centre_x_px - reach), x_last = floor(centre_x_px + reach);
  double y_first = ceil(centre_y_px - reach), y_last = floor(centre_y_px + reach);
  if (x_last < 0.0 || y_last < 0.0 || x_first > (double)(image->nx - 1) ||
      y_first > (double)(image->ny - 1))
    return PP_SUCCESS;
  size_t x0 = x_first > 0.0 ? (size_t)x_first : 0, y0 = y_first > 0.0 ? (size_t)y_first : 0;
  size_t x1 = x_last < (double)(image->nx - 1) ? (size_t)x_last : image->nx - 1;
  size_t y1 = y_last < (double)(image->ny - 1) ? (size_t)y_last : image->ny - 1;

  double radius2 = radius_px * radius_px, sum = 0.0;
  for (size_t y = y0; y <= y1; y++) {
    double dy = (double)y - centre_y_px;
    double near_y = fmax(fabs(dy) - 0.5, 0.0), far_y = fabs(dy) + 0.5;
    const double *row = image->values + y * image->nx;
    for (size_t x = x0; x <= x1; x++) {
      double dx = (double)x - centre_x_px;
      double near_x = fmax(fabs(dx) - 0.5, 0.0), far_x = fabs(dx) + 0.5;
      double fraction;
      if (far_x * far_x + far_y * far_y <= radius2)
        fraction = 1.0; /* the whole square is inside */
      else if (near_x * near_x + near_y * near_y >= radius2)
        continue; /* the whole square is outside */
      else
        fraction = pp_rectangle_overlap(dx - 0.5, dx + 0.5, dy - 0.5, dy + 0.5, radius_px);
      sum += row[x] * fraction;
    }
  }
  *energy = sum;
  return PP_SUCCESS;
}
