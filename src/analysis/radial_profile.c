/* Radial profile (POPPY's radial_profile) and the FWHM read off it. */
#include <math.h>
#include <stdlib.h>

#include "analysis/analysis_private.h"

/* A profile longer than this is a mistake (a binsize of 1e-9 pixel, say). */
enum { PP_ANALYSIS_MAX_BINS = 100000000 };

static pp_status pp_profile_check_geometry(double centre_x_px, double centre_y_px,
                                           double binsize_px) {
  PP_CHECK(isfinite(centre_x_px) && isfinite(centre_y_px), PP_ERR_INPUT,
           "the profile's centre (%g, %g) is not a finite position", centre_x_px, centre_y_px);
  PP_CHECK(isfinite(binsize_px) && binsize_px > 0.0, PP_ERR_INPUT,
           "the profile's bin size must be a positive number of pixels, got %g", binsize_px);
  return PP_SUCCESS;
}

pp_status pp_analysis_radial_profile_size(const pp_image *image, double centre_x_px,
                                          double centre_y_px, double binsize_px,
                                          size_t *n_bins) {
  PP_CALL(pp_analysis_check_image(image));
  PP_CALL(pp_profile_check_geometry(centre_x_px, centre_y_px, binsize_px));
  PP_CHECK(n_bins != NULL, PP_ERR_INTERNAL, "pp_analysis_radial_profile_size: NULL n_bins");
  /* The farthest pixel centre is one of the four corners. */
  double dx = fmax(fabs(centre_x_px), fabs((double)(image->nx - 1) - centre_x_px));
  double dy = fmax(fabs(centre_y_px), fabs((double)(image->ny - 1) - centre_y_px));
  double bins = floor(hypot(dx, dy) / binsize_px) + 1.0;
  PP_CHECK(bins <= (double)PP_ANALYSIS_MAX_BINS, PP_ERR_INPUT,
           "a profile in bins of %g pixel would need %.3g bins; use larger bins", binsize_px,
           bins);
  *n_bins = (size_t)bins;
  return PP_SUCCESS;
}

pp_status pp_analysis_radial_profile(const pp_image *image, double centre_x_px,
                                     double centre_y_px, double binsize_px, size_t n_bins,
                                     pp_radial_bin *bins) {
  PP_CALL(pp_analysis_check_image(image));
  PP_CALL(pp_profile_check_geometry(centre_x_px, centre_y_px, binsize_px));
  PP_CHECK(bins != NULL || n_bins == 0, PP_ERR_INTERNAL, "pp_analysis_radial_profile: NULL bins");
  /* Sums first (mean_value holds Σ value, mean_radius_px holds Σ r), means after. */
  for (size_t i = 0; i < n_bins; i++)
    bins[i] = (pp_radial_bin){.radius_px = ((double)i + 0.5) * binsize_px};
  for (size_t y = 0; y < image->ny; y++) {
    double dy = (double)y - centre_y_px;
    const double *row = image->values + y * image->nx;
    for (size_t x = 0; x < image->nx; x++) {
      double r = hypot((double)x - centre_x_px, dy);
      double index = floor(r / binsize_px);
      if (index >= (double)n_bins) continue;
      pp_radial_bin *bin = &bins[(size_t)index];
      bin->n_pixels++;
      bin->mean_value += row[x];
      bin->mean_radius_px += r;
    }
  }
  double cumulative = 0.0;
  for (size_t i = 0; i < n_bins; i++) {
    cumulative += bins[i].mean_value;
    bins[i].cumulative_sum = cumulative;
    if (bins[i].n_pixels > 0) {
      bins[i].mean_value /= (double)bins[i].n_pixels;
      bins[i].mean_radius_px /= (double)bins[i].n_pixels;
    } else {
      bins[i].mean_value = NAN;
      bins[i].mean_radius_px = NAN;
    }
  }
  return PP_SUCCESS;
}

/* The Lagrange polynomial through (xs[i], ys[i]), i < n, at t. */
static double pp_lagrange(const double *xs, const double *ys, size_t n, double t) {
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    double term = ys[i];
    for (size_t j = 0; j < n; j++)
      if (j != i) term *= (t - xs[j]) / (xs[i] - xs[j]);
    total += term;
  }
  return total;
}

pp_status pp_analysis_fwhm(const pp_image *image, double centre_x_px, double centre_y_px,
                           double binsize_px, double *fwhm_px, double *peak_value) {
  pp_status status = PP_SUCCESS;
  pp_radial_bin *bins = NULL;
  size_t *filled = NULL; /* indices of the non-empty bins, in order */
  PP_CHECK(fwhm_px != NULL, PP_ERR_INTERNAL, "pp_analysis_fwhm: NULL fwhm_px");
  if (binsize_px == 0.0) binsize_px = PP_ANALYSIS_FWHM_BINSIZE_PX;
  size_t n_bins = 0;
  PP_CALL(pp_analysis_radial_profile_size(image, centre_x_px, centre_y_px, binsize_px, &n_bins));
  bins = malloc(n_bins * sizeof *bins);
  filled = malloc(n_bins * sizeof *filled);
  PP_CHECK_GOTO(status, bins && filled, PP_ERR_MEMORY, "out of memory for a profile of %zu bins",
                n_bins);
  PP_CALL_GOTO(status, pp_analysis_radial_profile(image, centre_x_px, centre_y_px, binsize_px,
                                                  n_bins, bins));
  size_t n_filled = 0;
  for (size_t i = 0; i < n_bins; i++)
    if (bins[i].n_pixels > 0) filled[n_filled++] = i;
  PP_CHECK_GOTO(status, n_filled >= 3, PP_ERR_INPUT,
                "the radial profile has %zu non-empty bins; the FWHM needs at least 3", n_filled);

  /* The maximum: a smooth peak is even in r, so quadratic in s = r² near the centre. */
  double s[3], v[3];
  for (int k = 0; k < 3; k++) {
    const pp_radial_bin *bin = &bins[filled[k]];
    s[k] = bin->mean_radius_px * bin->mean_radius_px;
    v[k] = bin->mean_value;
  }
  double maximum = pp_lagrange(s, v, 3, 0.0);
  PP_CHECK_GOTO(status, isfinite(maximum) && maximum > 0.0, PP_ERR_INPUT,
                "the profile's maximum (extrapolated to the centre) is %g; the FWHM needs a "
                "positive peak at the centre", maximum);
  double half = 0.5 * maximum;

  size_t below = 0; /* position in filled[] of the first bin below half the maximum */
  while (below < n_filled && !(bins[filled[below]].mean_value < half)) below++;
  PP_CHECK_GOTO(status, below < n_filled, PP_ERR_INPUT,
                "the profile never falls below half its maximum inside the image: the PSF is "
                "wider than the field");
  PP_CHECK_GOTO(status, below > 0, PP_ERR_INPUT,
                "the profile starts below half its extrapolated maximum: no peak at the centre "
                "(%g, %g)", centre_x_px, centre_y_px);

  /* The cubic through up to four bins around the crossing; the root lies between the last
   * bin above and the first below, where the polynomial passes through both. */
  size_t first = below >= 2 ? below - 2 : 0, last = below + 1 < n_filled ? below + 1 : below;
  double rs[4], vs[4];
  size_t n_points = 0;
  for (size_t k = first; k <= last; k++) {
    rs[n_points] = bins[filled[k]].mean_radius_px;
    vs[n_points] = bins[filled[k]].mean_value;
    n_points++;
  }
  double lo = bins[filled[below - 1]].mean_radius_px, hi = bins[filled[below]].mean_radius_px;
  double f_lo = pp_lagrange(rs, vs, n_points, lo) - half;
  for (int iteration = 0; iteration < 200 && hi - lo > 1e-13 * fmax(hi, 1.0); iteration++) {
    double mid = 0.5 * (lo + hi), f_mid = pp_lagrange(rs, vs, n_points, mid) - half;
    if ((f_mid >= 0.0) == (f_lo >= 0.0)) {
      lo = mid;
      f_lo = f_mid;
    } else {
      hi = mid;
    }
  }
  *fwhm_px = lo + hi; /* 2 · (lo + hi)/2 */
  if (peak_value) *peak_value = maximum;
done:
  free(bins);
  free(filled);
  return status;
}
