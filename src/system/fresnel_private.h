/* Private to src/system: the Fresnel detector's resampling (fresnel_detector.c), used by
 * fresnel_system.c. Never installed. */
#ifndef POLYPSF_SYSTEM_FRESNEL_PRIVATE_H
#define POLYPSF_SYSTEM_FRESNEL_PRIVATE_H

#ifndef POLYPSF_SYSTEM_INTERNAL
#error "fresnel_private.h is private to src/system; include polypsf/system.h instead"
/* The transform "choice" of a Fresnel job: method fft, both candidates the Fresnel system's
 * bytes and flops, n_in the padded side, n_out the result's. */
pp_status pp_fresnel_choose(const pp_job *job, pp_system_choice *choice);
/* Makes and destroys the two n × n plans (FFTW's wisdom keeps them). Not collective. */
pp_status pp_fresnel_plan_fftw(const pp_job *job);
/* pp_system_requested_planes of a Fresnel job: each requested optic its own n × n plane
 * (kind pupil: metres), the detector (or the end) as the result. */
pp_status pp_fresnel_requested_planes(const pp_job *job, pp_plane_info **planes,
                                      size_t *n_planes);

#endif

#include "polypsf/system.h"

/* Complex elements of scratch pp_fresnel_detector_resample needs for an n × n field and a
 * fov × fov detector. */
size_t pp_fresnel_detector_scratch_elements(size_t n, size_t fov);
/* POPPY's Fresnel detector: field[n][n] (axis at (n/2, n/2), pixelscale_m) resampled into
 * out[fov][fov] (axis at (fov/2, fov/2)) of detector_pixelscale_m, or padded/cropped when
 * the scales agree within 1e-3 (then *out_pixelscale_m stays the wavefront's, as in POPPY).
 * n even and ≥ 2. Allocates nothing. */
pp_status pp_fresnel_detector_resample(const double complex *field, size_t n,
                                       double pixelscale_m, size_t fov,
                                       double detector_pixelscale_m, double complex *scratch,
                                       double complex *out, double *out_pixelscale_m);

/* The transform "choice" of a Fresnel job: method fft, both candidates the Fresnel system's
 * bytes and flops, n_in the padded side, n_out the result's. */
pp_status pp_fresnel_choose(const pp_job *job, pp_system_choice *choice);
/* Makes and destroys the two n × n plans (FFTW's wisdom keeps them). Not collective. */
pp_status pp_fresnel_plan_fftw(const pp_job *job);
/* pp_system_requested_planes of a Fresnel job: each requested optic its own n × n plane
 * (kind pupil: metres), the detector (or the end) as the result. */
pp_status pp_fresnel_requested_planes(const pp_job *job, pp_plane_info **planes,
                                      size_t *n_planes);

#endif
