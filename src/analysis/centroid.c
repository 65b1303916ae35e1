/* Flux-weighted centroids: the whole-image mean, and the floating-box first moment
 * (JWST-STScI-001117; POPPY's fwcentroid). A fixed box of whole pixels biases the centroid
 * towards the side where the box holds more of the PSF whenever the peak is not centred in
 * it; a box that floats with the centroid, its edge pixels weighted by the fraction inside,
 * is symmetric about the answer and removes that bias. */
#include <math.h>

#include "analysis/analysis_private.h"

/* Weight of a pixel at distance `offset` (pixels, one axis) from a box of half width h. */
static double pp_box_weight(double offset, double halfwidth) {
  if (offset <= halfwidth) return 1.0;
  if (offset < halfwidth + 1.0) return halfwidth + 1.0 - offset;
  return 0.0;
}

/* First moment over the pixels in [x_lo, x_hi] × [y_lo, y_hi] (clipped to the image), each
 * weighted by its per-axis box weights about (cx, cy) when floating, else by 1. */
static pp_status pp_box_moment(const pp_image *image, long x_lo, long x_hi, long y_lo, long y_hi,
                               bool floating, double cx, double cy, double halfwidth,
                               double *x_out, double *y_out) {
  if (x_lo < 0) x_lo = 0;
  if (y_lo < 0) y_lo = 0;
  if (x_hi > (long)image->nx - 1) x_hi = (long)image->nx - 1;
  if (y_hi > (long)image->ny - 1) y_hi = (long)image->ny - 1;
  double sum = 0.0, sum_x = 0.0, sum_y = 0.0;
  for (long y = y_lo; y <= y_hi; y++) {
    double wy = floating ? pp_box_weight(fabs((double)y - cy), halfwidth) : 1.0;
    if (wy == 0.0) continue;
    const double *row = image->values + (size_t)y * image->nx;
    for (long x = x_lo; x <= x_hi; x++) {
      double wx = floating ? pp_box_weight(fabs((double)x - cx), halfwidth) : 1.0;
      double w = wx * wy * row[x];
      sum += w;
      sum_x += w * (double)x;
      sum_y += w * (double)y;
    }
  }
  PP_CHECK(isfinite(sum) && sum > 0.0, PP_ERR_INPUT,
           "the centroid box around (%g, %g) holds a total of %g; a centroid needs a positive "
           "total", floating ? cx : 0.5 * (double)(x_lo + x_hi),
           floating ? cy : 0.5 * (double)(y_lo + y_hi), sum);
  *x_out = sum_x / sum;
  *y_out = sum_y / sum;
  return PP_SUCCESS;
}

pp_status pp_analysis_centroid(const pp_image *image, const pp_centroid_options *options,
                               pp_centroid *centroid) {
  PP_CALL(pp_analysis_check_image(image));
  PP_CHECK(centroid != NULL, PP_ERR_INTERNAL, "pp_analysis_centroid: NULL centroid");
  pp_centroid_options opt = options ? *options : PP_CENTROID_OPTIONS_DEFAULT;
  PP_CHECK(opt.halfwidth_px >= 0 && opt.halfwidth_px <= 1000000, PP_ERR_INPUT,
           "the centroid box half width must be 0 to 1000000 pixels, got %d", opt.halfwidth_px);
  PP_CHECK(opt.max_iterations >= 1, PP_ERR_INPUT,
           "the centroid needs at least 1 iteration, got %d", opt.max_iterations);
  PP_CHECK(isfinite(opt.threshold_px) && opt.threshold_px >= 0.0, PP_ERR_INPUT,
           "the centroid threshold must be a number of pixels ≥ 0, got %g", opt.threshold_px);
  long nx = (long)image->nx, ny = (long)image->ny;
  *centroid = (pp_centroid){.converged = true};

  if (opt.halfwidth_px == 0)
    return pp_box_moment(image, 0, nx - 1, 0, ny - 1, false, 0.0, 0.0, 0.0, &centroid->x_px,
                         &centroid->y_px);

  pp_image_stats stats;
  PP_CALL(pp_analysis_image_stats(image, &stats));
  long h = opt.halfwidth_px, px = (long)stats.peak_x, py = (long)stats.peak_y;
  double cx = 0.0, cy = 0.0;
  PP_CALL(pp_box_moment(image, px - h, px + h, py - h, py + h, false, 0.0, 0.0, 0.0, &cx, &cy));
  centroid->converged = false;
  for (int k = 0; k < opt.max_iterations; k++) {
    long bx = (long)floor(cx), by = (long)floor(cy);
    double new_x = 0.0, new_y = 0.0;
    PP_CALL(pp_box_moment(image, bx - h - 1, bx + h + 1, by - h - 1, by + h + 1, true, cx, cy,
                          (double)h, &new_x, &new_y));
    bool settled = fabs(new_x - cx) <= opt.threshold_px && fabs(new_y - cy) <= opt.threshold_px;
    cx = new_x;
    cy = new_y;
    centroid->iterations = k + 1;
    if (settled) {
      centroid->converged = true;
      break;
    }
  }
  centroid->x_px = cx;
  centroid->y_px = cy;
  return PP_SUCCESS;
}
