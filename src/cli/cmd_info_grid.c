/* `polypsf info` on a PSF grid: per field point its peak, centroid, FWHM and the encircled
 * energy at one radius (the first --ee radius, else 2 λ/D), one line each, measured as info
 * measures /psf (docs/analysis.md). */
#include <math.h>
#include <stdio.h>

#include "cli.h"

void pp_cli_info_grid(const pp_result *r, double ee_radius_arcsec) {
  pp_result_grid grid;
  pp_status s = pp_result_read_grid(r, &grid);
  if (s) {
    printf("grid        not read: %s\n", pp_status_message(s));
    pp_status_free(s);
    return;
  }
  if (grid.n_points == 0) return;
  double mean = 0.0;
  for (size_t i = 0; i < r->n_wavelengths; i++) mean += r->weights[i] * r->wavelengths_m[i];
  double lambda_over_d = mean / r->pupil_diameter_m * PP_ARCSEC_PER_RADIAN;
  double radius = ee_radius_arcsec > 0.0 ? ee_radius_arcsec : 2.0 * lambda_over_d;
  double scale = r->pixelscale_arcsec;
  double centre_x = 0.5 * (double)(grid.nx - 1), centre_y = 0.5 * (double)(grid.ny - 1);
  printf("grid        %zu field point(s), /grid/psf %zu x %zu px; per point: peak, centroid "
         "(arcsec from the stamp centre), FWHM (arcsec), EE within %.6g arcsec\n",
         grid.n_points, grid.nx, grid.ny, radius);
  for (size_t p = 0; p < grid.n_points; p++) {
    pp_image image = {.values = grid.psf + p * grid.ny * grid.nx, .ny = grid.ny, .nx = grid.nx};
    pp_image_stats stats;
    pp_centroid centroid;
    double fwhm_px = NAN, energy = NAN;
    printf("  point %-4zu x %+9.4g y %+9.4g arcsec:", p, grid.points[2 * p], grid.points[2 * p + 1]);
    s = pp_analysis_image_stats(&image, &stats);
    if (!s) s = pp_analysis_centroid(&image, NULL, &centroid);
    if (s) {
      printf(" not measured: %s\n", pp_status_message(s));
      pp_status_free(s);
      continue;
    }
    pp_status_free(pp_analysis_fwhm(&image, centroid.x_px, centroid.y_px, 0.0, &fwhm_px, NULL));
    pp_status_free(pp_analysis_encircled_energy(&image, centroid.x_px, centroid.y_px,
                                                radius / scale, &energy));
    printf(" peak %.6g, centroid %+.4g %+.4g, fwhm %.5g, ee %.6f\n", stats.peak,
           (centroid.x_px - centre_x) * scale, (centroid.y_px - centre_y) * scale,
           fwhm_px * scale, energy);
  }
  pp_result_grid_free(&grid);
}
