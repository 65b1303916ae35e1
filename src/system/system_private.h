/* Private to src/system: the pupil plane a system is built on, shared by system.c
 * (which owns it) and pupil.c (which builds it). Never installed. */
#ifndef POLYPSF_SYSTEM_PRIVATE_H
#define POLYPSF_SYSTEM_PRIVATE_H

#ifndef POLYPSF_SYSTEM_INTERNAL
#error "system_private.h is private to src/system; include polypsf/system.h instead"
#endif

#include "polypsf/job.h"
#include "polypsf/optics.h"

/* The pupil plane with every pupil optic applied, normalized as the job asks.
 * Wavelength-independent: built once per system. */
typedef struct pp_pupil {
  pp_pupil_grid grid;       /* npix × npix, pixelscale_m = diameter_m / npix */
  double diameter_m;        /* array width: the largest pupil diameter any optic asks for */
  double *amplitude;        /* [ny·nx] product of the transmissions, times the normalization */
  double *opd_m;            /* [ny·nx] summed OPD (metres), or NULL when no optic adds OPD */
  double first_intensity;   /* Σ|T|² right after the first optic (before normalization) */
  double normalization;     /* factor applied to amplitude: 1/sqrt(first_intensity), or 1 */
} pp_pupil;

/* Checks the job's optics for what the system can propagate (pupil-plane optics only for
 * now) and returns the pupil array width. PP_ERR_INPUT naming the optic otherwise. */
pp_status pp_pupil_diameter_for_job(const pp_job *job, double *diameter_m);
/* Builds the pupil for job: allocates and fills *pupil (cleared first). */
pp_status pp_pupil_build(const pp_job *job, pp_pupil *pupil);
/* Releases the pupil's arrays (accepts a cleared or half-built pupil). */
void pp_pupil_clear(pp_pupil *pupil);

#endif
