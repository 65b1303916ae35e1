/* An optical system: the pupil (built once), the MFT plan to the detector, and the
 * scratch one wavelength needs, so that pp_system_psf allocates nothing. */
#define POLYPSF_SYSTEM_INTERNAL
#include "polypsf/system.h"

#include <complex.h>
#include <math.h>

#include "polypsf/propagate.h"
#include "system_private.h"

struct pp_system {
  pp_pupil pupil;
  size_t detector_ny, detector_nx;     /* oversampled detector grid: fov_pixels × oversample */
  double fov_arcsec_y, fov_arcsec_x;   /* fov_pixels × detector pixelscale, each axis */
  double pixelscale_arcsec;            /* oversampled pixel: detector pixelscale / oversample */
  pp_mft_plan *mft;
  double complex *field;               /* [npix²] amplitude · phasor; NULL without OPD */
  double complex *image;               /* [detector_ny·detector_nx] field on the detector */
};

pp_status pp_system_check_job(const pp_job *job, double *pupil_diameter_m) {
  PP_CHECK(job != NULL, PP_ERR_INTERNAL, "pp_system_check_job needs a job");
  const pp_detector_spec *det = &job->detector;
  PP_CHECK(det->fov_pixels_y > 0 && det->fov_pixels_x > 0 && det->oversample > 0 &&
               isfinite(det->pixelscale_arcsec) && det->pixelscale_arcsec > 0.0,
           PP_ERR_INPUT,
           "detector needs positive fov_pixels, oversample and pixelscale, got %zu × %zu "
           "pixels, oversample %d, pixelscale %g arcsec",
           det->fov_pixels_y, det->fov_pixels_x, det->oversample, det->pixelscale_arcsec);
  PP_CHECK(job->method == PP_METHOD_AUTO || job->method == PP_METHOD_MFT, PP_ERR_INPUT,
           "propagation method '%s' is not available yet: use 'mft' or 'auto' (pupil → "
           "detector by matrix Fourier transform)",
           pp_method_name(job->method));
  PP_CALL(pp_pupil_diameter_for_job(job, pupil_diameter_m));
  return PP_SUCCESS;
}

pp_status pp_system_create(const pp_job *job, pp_system **system) {
  *system = NULL;
  double diameter_m = 0.0;
  PP_CALL(pp_system_check_job(job, &diameter_m));
  const pp_detector_spec *det = &job->detector;

  pp_status status = PP_SUCCESS;
  pp_system *s = NULL;
  size_t bytes = 0, image_count = 0;
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *s, (void **)&s));
  PP_CALL_GOTO(status, pp_pupil_build(job, &s->pupil));

  PP_CALL_GOTO(status, pp_size_mul(det->fov_pixels_y, (size_t)det->oversample, &s->detector_ny));
  PP_CALL_GOTO(status, pp_size_mul(det->fov_pixels_x, (size_t)det->oversample, &s->detector_nx));
  /* POPPY's Detector: fov_arcsec = fov_pixels · pixelscale per axis (rectangular fields). */
  s->fov_arcsec_y = (double)det->fov_pixels_y * det->pixelscale_arcsec;
  s->fov_arcsec_x = (double)det->fov_pixels_x * det->pixelscale_arcsec;
  s->pixelscale_arcsec = det->pixelscale_arcsec / (double)det->oversample;

  size_t npix = s->pupil.grid.ny;
  PP_CALL_GOTO(status, pp_mft_plan_create(npix, npix, s->detector_ny, s->detector_nx,
                                          PP_MFT_FORWARD, &s->mft));
  PP_CALL_GOTO(status, pp_size_mul(s->detector_ny, s->detector_nx, &image_count));
  PP_CALL_GOTO(status, pp_size_mul(image_count, sizeof(double complex), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&s->image));
  if (s->pupil.opd_m) {
    PP_CALL_GOTO(status, pp_size_mul(npix * npix, sizeof(double complex), &bytes));
    PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&s->field));
  }
  *system = s;
  s = NULL;
done:
  pp_system_destroy(&s);
  return status;
}

void pp_system_destroy(pp_system **system) {
  if (!system || !*system) return;
  pp_system *s = *system;
  pp_pupil_clear(&s->pupil);
  pp_mft_plan_destroy(&s->mft);
  pp_array_free(&s->field);
  pp_array_free(&s->image);
  pp_array_free(system);
}

pp_status pp_system_psf(pp_system *system, double wavelength_m, double *psf) {
  PP_CHECK(system != NULL && psf != NULL, PP_ERR_INTERNAL, "pp_system_psf needs a system and an output");
  PP_CHECK(isfinite(wavelength_m) && wavelength_m > 0.0, PP_ERR_INPUT,
           "wavelength must be positive and finite, got %g m", wavelength_m);
  /* POPPY's Wavefront._propagate_mft: lam/D of the whole pupil array in arcsec, and the
   * detector field in those units, per axis. */
  double lambda_over_d_arcsec = wavelength_m / system->pupil.diameter_m * PP_ARCSEC_PER_RADIAN;
  PP_CALL(pp_mft_plan_set_nlamd(system->mft, system->fov_arcsec_y / lambda_over_d_arcsec,
                                system->fov_arcsec_x / lambda_over_d_arcsec));

  if (system->pupil.opd_m) {
    const double *amplitude = system->pupil.amplitude, *opd_m = system->pupil.opd_m;
    const double radians_per_metre = 2.0 * PP_PI / wavelength_m;
    size_t count = system->pupil.grid.ny * system->pupil.grid.nx;
    for (size_t p = 0; p < count; p++) {
      /* Most of a pupil array is often dark (outside the aperture): no phasor there. */
      if (amplitude[p] == 0.0) {
        system->field[p] = 0.0;
      } else {
        double phase = radians_per_metre * opd_m[p];
        system->field[p] = CMPLX(amplitude[p] * cos(phase), amplitude[p] * sin(phase));
      }
    }
    PP_CALL(pp_mft_execute(system->mft, system->field, system->image));
  } else {
    PP_CALL(pp_mft_execute_real(system->mft, system->pupil.amplitude, system->image));
  }

  size_t image_count = system->detector_ny * system->detector_nx;
  for (size_t p = 0; p < image_count; p++) {
    double re = creal(system->image[p]), im = cimag(system->image[p]);
    psf[p] = re * re + im * im;
  }
  return PP_SUCCESS;
}

void pp_system_psf_shape(const pp_system *system, size_t *ny, size_t *nx) {
  *ny = system->detector_ny;
  *nx = system->detector_nx;
}

double pp_system_pupil_diameter_m(const pp_system *system) { return system->pupil.diameter_m; }

double pp_system_pupil_pixelscale_m(const pp_system *system) {
  return system->pupil.grid.pixelscale_m;
}

double pp_system_pixelscale_arcsec(const pp_system *system) { return system->pixelscale_arcsec; }

double pp_system_flops(const pp_system *system) {
  size_t npix = system->pupil.grid.ny;
  return system->pupil.opd_m
             ? pp_mft_flops(npix, npix, system->detector_ny, system->detector_nx)
             : pp_mft_flops_real(npix, npix, system->detector_ny, system->detector_nx);
}

/* One formula for both the built system and the job-only estimate. */
static size_t pp_system_bytes_of(size_t npix, size_t detector_ny, size_t detector_nx,
                                 bool has_opd) {
  size_t pupil_count = npix * npix, image_count = detector_ny * detector_nx;
  return sizeof(struct pp_system) + pupil_count * sizeof(double) * (has_opd ? 2u : 1u) +
         pp_mft_plan_bytes(npix, npix, detector_ny, detector_nx) +
         (has_opd ? pupil_count * sizeof(double complex) : 0) +
         image_count * sizeof(double complex);
}

size_t pp_system_bytes(const pp_system *system) {
  return pp_system_bytes_of(system->pupil.grid.ny, system->detector_ny, system->detector_nx,
                            system->pupil.opd_m != NULL);
}

pp_status pp_system_bytes_for_job(const pp_job *job, size_t *bytes) {
  *bytes = 0;
  PP_CHECK(job != NULL, PP_ERR_INTERNAL, "pp_system_bytes_for_job needs a job");
  bool has_opd = false;
  for (size_t j = 0; j < job->n_optics; j++) has_opd = has_opd || pp_optic_has_opd(&job->optics[j]);
  size_t npix = job->pupil_npix, ny = 0, nx = 0, count = 0, check = 0;
  PP_CALL(pp_size_mul(job->detector.fov_pixels_y, (size_t)job->detector.oversample, &ny));
  PP_CALL(pp_size_mul(job->detector.fov_pixels_x, (size_t)job->detector.oversample, &nx));
  /* the largest products in the formula must not wrap around */
  PP_CALL(pp_size_mul(npix, npix, &count));
  PP_CALL(pp_size_mul(count, 3 * sizeof(double complex), &check));
  PP_CALL(pp_size_mul(ny, nx, &count));
  PP_CALL(pp_size_mul(count, 2 * sizeof(double complex), &check));
  *bytes = pp_system_bytes_of(npix, ny, nx, has_opd);
  return PP_SUCCESS;
}
