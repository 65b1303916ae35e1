/* Sum, peak and minimum of an image, and the checks every analysis helper shares. */
#include <math.h>

#include "analysis/analysis_private.h"

pp_status pp_analysis_check_image(const pp_image *image) {
  PP_CHECK(image != NULL && image->values != NULL, PP_ERR_INPUT, "no image given");
  PP_CHECK(image->ny > 0 && image->nx > 0, PP_ERR_INPUT, "the image is empty (%zu x %zu pixels)",
           image->ny, image->nx);
  size_t count = 0;
  PP_CALL(pp_size_mul(image->ny, image->nx, &count));
  return PP_SUCCESS;
}

pp_status pp_analysis_image_stats(const pp_image *image, pp_image_stats *stats) {
  PP_CALL(pp_analysis_check_image(image));
  PP_CHECK(stats != NULL, PP_ERR_INTERNAL, "pp_analysis_image_stats: NULL stats");
  const double *v = image->values;
  size_t count = image->ny * image->nx, at_peak = 0;
  double sum = 0.0, peak = v[0], minimum = v[0];
  for (size_t p = 0; p < count; p++) {
    PP_CHECK(isfinite(v[p]), PP_ERR_INPUT, "the image has a non-finite value at (x %zu, y %zu)",
             p % image->nx, p / image->nx);
    sum += v[p];
    if (v[p] > peak) {
      peak = v[p];
      at_peak = p;
    }
    if (v[p] < minimum) minimum = v[p];
  }
  *stats = (pp_image_stats){.sum = sum, .peak = peak, .minimum = minimum,
                            .peak_x = at_peak % image->nx, .peak_y = at_peak / image->nx};
  return PP_SUCCESS;
}
