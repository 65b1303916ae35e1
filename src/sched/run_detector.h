/* Private to src/sched: the detector effects step of a run (run_detector.c), called by run.c
 * between the reduction of /psf and its write. */
#ifndef POLYPSF_SCHED_RUN_DETECTOR_H
#define POLYPSF_SCHED_RUN_DETECTOR_H

#include <mpi.h>

#include "polypsf/io.h"
#include "polypsf/system.h"

/* The whole polychromatic PSF is gathered on every rank from the row bands (band: this
 * rank's rows [det_row0·os, (det_row0 + det_nrows)·os) of geometry->psf_nx values), each rank
 * applies the detector's effects to it (pp_detector_effects_apply: the same arithmetic on
 * every rank, so every rank holds the same bits) and keeps its own rows: band is overwritten
 * with the blurred rows, band_detector gets its det_nrows detector rows. With
 * job->keep_unconvolved the PSF before the effects is written as well; the effects are
 * recorded in the output's attributes (pp_output_write_detector_effects). Collective on comm,
 * whose rank count and order made the bands. */
pp_status pp_run_detector_effects(MPI_Comm comm, const pp_job *job, const pp_geometry *geometry,
                                  pp_output *output, size_t det_row0, size_t det_nrows,
                                  double *band, double *band_detector);

/* The same effects on the rows of one PSF, nothing written (the grid's PSFs: the attributes
 * are those of /psf). Collective on comm. */
pp_status pp_run_detector_effects_rows(MPI_Comm comm, const pp_job *job,
                                       const pp_geometry *geometry, size_t det_row0,
                                       size_t det_nrows, double *band, double *band_detector);

#endif
