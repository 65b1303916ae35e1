/* polypsf system: an optical system built from a job — the pupil grid with every pupil
 * optic applied, the propagation plan to the detector — computing one monochromatic PSF
 * at a time. Everything wavelength-independent is prepared in create; pp_system_psf
 * allocates nothing. */
#ifndef POLYPSF_SYSTEM_H
#define POLYPSF_SYSTEM_H

#include "polypsf/core.h"
#include "polypsf/job.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_system pp_system;

/* Checks that a system can be built for job (detector, method, optics the propagator
 * supports, a source offset the pupil grid samples at the job's shortest wavelength:
 * |offset| < npix·λ/(2·D) on each axis) without allocating, and gives the pupil array
 * width (metres). PP_ERR_INPUT naming what is wrong. Not collective. */
pp_status pp_system_check_job(const pp_job *job, double *pupil_diameter_m);
/* Builds the system for job (pupil, optics, plans, scratch). Not collective.
 * PP_ERR_INPUT, naming the optic, for an image-plane optic (FFT propagation comes later),
 * for a method other than mft/auto, when no optic sets the pupil diameter, and when the
 * first optic passes no light under normalization 'first'. */
pp_status pp_system_create(const pp_job *job, pp_system **system);
/* The monochromatic intensity PSF at wavelength_m on the oversampled detector grid,
 * written to psf[ny][nx] (see pp_system_psf_shape), normalized as the job says. For an
 * off-axis source (job->source) the PSF is centred at offset / pixelscale pixels from the
 * array centre, +x towards larger column indices, +y towards larger row indices;
 * PP_ERR_INPUT when the offset is beyond npix·λ/(2·D) at this wavelength. */
pp_status pp_system_psf(pp_system *system, double wavelength_m, double *psf);
void pp_system_psf_shape(const pp_system *system, size_t *ny, size_t *nx);
/* Pupil array width (metres) and pixel scale (metres). */
double pp_system_pupil_diameter_m(const pp_system *system);
double pp_system_pupil_pixelscale_m(const pp_system *system);
/* Oversampled detector pixel scale (arcsec). */
double pp_system_pixelscale_arcsec(const pp_system *system);
/* Bytes one system holds (pupil arrays, plans, scratch): the per-task memory model. */
size_t pp_system_bytes(const pp_system *system);
/* The same before building anything, from the job alone (for the scheduler's plan).
 * Equals pp_system_bytes of the system pp_system_create would build. Not collective. */
pp_status pp_system_bytes_for_job(const pp_job *job, size_t *bytes);
/* Floating-point operations of the transform in one pp_system_psf call (real-input MFT
 * when no optic adds OPD and the source is on-axis, complex otherwise): the per-task
 * cost model. */
double pp_system_flops(const pp_system *system);
/* The same before building anything, from the job alone (for the scheduler's plan).
 * Equals pp_system_flops of the system pp_system_create would build. Not collective. */
pp_status pp_system_flops_for_job(const pp_job *job, double *flops);
void pp_system_destroy(pp_system **system);

/* Flux-conserving rebin: out[ny/factor][nx/factor] = sums over factor × factor blocks. */
pp_status pp_psf_rebin(const double *in, size_t ny, size_t nx, int factor, double *out);

#ifdef __cplusplus
}
#endif
#endif
