/* The sampling of a job, derived in one place (pp_geometry, system.h): the pupil grid, the
 * padded size of image planes, the detector and its oversampled grid, and each plane's pixel
 * scale at each wavelength. Plan, run, the system and the output receive these numbers
 * instead of computing them again with the same formulas. */
#define POLYPSF_SYSTEM_INTERNAL
#include "polypsf/system.h"

#include <complex.h>
#include <stdlib.h>

#include "polypsf/propagate.h"
#include "system_private.h"

/* The oversampled detector grid, with the products that size allocations checked. */
pp_status pp_geometry_psf_shape(const pp_job *job, size_t *ny, size_t *nx) {
  size_t count = 0, check = 0;
  PP_CALL(pp_size_mul(job->detector.fov_pixels_y, (size_t)job->detector.oversample, ny));
  PP_CALL(pp_size_mul(job->detector.fov_pixels_x, (size_t)job->detector.oversample, nx));
  /* the largest products in the byte formulas must not wrap around */
  PP_CALL(pp_size_mul(job->pupil_npix, job->pupil_npix, &count));
  PP_CALL(pp_size_mul(count, 4 * sizeof(double complex), &check));
  PP_CALL(pp_size_mul(*ny, *nx, &count));
  PP_CALL(pp_size_mul(count, 2 * sizeof(double complex), &check));
  return PP_SUCCESS;
}

pp_status pp_system_geometry(const pp_job *job, pp_geometry *geometry) {
  PP_CHECK(job != NULL && geometry != NULL, PP_ERR_INTERNAL,
           "pp_system_geometry needs a job and a geometry");
  pp_geometry g = {.pupil_npix = job->pupil_npix, .fft_oversample = job->fft_oversample,
                   .detector_ny = job->detector.fov_pixels_y,
                   .detector_nx = job->detector.fov_pixels_x,
                   .oversample = job->detector.oversample,
                   .detector_pixelscale_arcsec = job->detector.pixelscale_arcsec};
  if (job->mode == PP_PROPAGATION_FRESNEL) {
    /* POPPY's FresnelOpticalSystem: the pupil is pupil.diameter over npix, padded to n. */
    PP_CALL(pp_fresnel_check_job(job, &g.pupil_diameter_m));
    g.pupil_pixelscale_m = g.pupil_diameter_m / (double)job->pupil_npix;
    PP_CALL(pp_fresnel_padded_size(job, &g.fft_n));
    PP_CALL(pp_geometry_psf_shape(job, &g.psf_ny, &g.psf_nx));
    PP_CALL(pp_fresnel_trace(job, job->wavelengths_m[0], &g.psf_pixelscale_m, NULL));
    g.psf_pixelscale_arcsec = 0.0;
    *geometry = g;
    return PP_SUCCESS;
  }
  PP_CALL(pp_pupil_diameter_for_job(job, &g.pupil_diameter_m));
  g.pupil_pixelscale_m = g.pupil_diameter_m / (double)job->pupil_npix;
  PP_CALL(pp_size_mul(job->pupil_npix, (size_t)job->fft_oversample, &g.fft_n));
  PP_CALL(pp_geometry_psf_shape(job, &g.psf_ny, &g.psf_nx));
  g.psf_pixelscale_arcsec = job->detector.pixelscale_arcsec / (double)job->detector.oversample;
  *geometry = g;
  return PP_SUCCESS;
}

double pp_geometry_plane_pixelscale(const pp_geometry *geometry, pp_field_plane_kind kind,
                                    double wavelength_m) {
  switch (kind) {
    case PP_FIELD_PUPIL: return geometry->pupil_diameter_m / (double)geometry->pupil_npix;
    case PP_FIELD_IMAGE: /* as the plane sequence samples it: λ/(D·fft_oversample) */
      return pp_fft_image_pixelscale_rad(wavelength_m, geometry->pupil_diameter_m,
                                         (double)geometry->fft_oversample) *
             PP_ARCSEC_PER_RADIAN;
    case PP_FIELD_DETECTOR: return geometry->psf_pixelscale_arcsec;
  }
  return 0.0;
}

pp_status pp_system_plane_pixelscales(const pp_job *job, const pp_geometry *geometry,
                                      const pp_plane_info *planes, size_t n_planes,
                                      double **pixelscales) {
  *pixelscales = NULL;
  if (n_planes == 0) return PP_SUCCESS;
  size_t count = 0;
  PP_CALL(pp_size_mul(n_planes, job->n_wavelengths, &count));
  double *table = malloc(count * sizeof *table);
  PP_CHECK(table != NULL, PP_ERR_MEMORY, "no memory for %zu plane pixel scales", count);
  if (job->mode == PP_PROPAGATION_FRESNEL) { /* each plane's own, from the beam's walk */
    pp_status status = pp_fresnel_plane_table(job, planes, n_planes, table, NULL, NULL);
    if (status != PP_SUCCESS) {
      free(table);
      return status;
    }
    *pixelscales = table;
    return PP_SUCCESS;
  }
  for (size_t p = 0; p < n_planes; p++)
    for (size_t i = 0; i < job->n_wavelengths; i++)
      table[p * job->n_wavelengths + i] =
          pp_geometry_plane_pixelscale(geometry, planes[p].kind, job->wavelengths_m[i]);
  *pixelscales = table;
  return PP_SUCCESS;
}
