/* Private to src/sched: a PSF grid run (run_grid.c). A grid is run as the single-PSF run is,
 * over tasks t = point·nλ + λ: the "expanded" job lists each task's wavelength and weight
 * (weights[λ] / n_points, so that /psf is the mean PSF over the field), always keeps /cube
 * (where a stopped grid resumes from), and the rank's optical system is rebuilt whenever a
 * task belongs to another point than the last. */
#ifndef POLYPSF_SCHED_RUN_GRID_H
#define POLYPSF_SCHED_RUN_GRID_H

#include <mpi.h>

#include "polypsf/io.h"
#include "polypsf/system.h"

typedef struct pp_grid_run {
  const pp_job *field_job;  /* the job as parsed: n_field_points > 0 */
  pp_job expanded;          /* a shallow copy owning only its wavelengths_m and weights */
  size_t n_points, n_lambda;
  size_t system_point;      /* the point this rank's system was built for; SIZE_MAX: none */
} pp_grid_run;

/* Makes grid->expanded from job. Not collective. */
pp_status pp_grid_run_init(const pp_job *job, pp_grid_run *grid);
void pp_grid_run_release(pp_grid_run *grid);
/* Reorders todo[n] (task indices) so that each point's tasks come together, points in
 * order, keeping the given order within a point: consecutive tasks of a rank mostly share a
 * point, so its pupil and OPD are built once per point per rank. Not collective. */
void pp_grid_order_tasks(const pp_grid_run *grid, size_t *todo, size_t n);
/* Makes *system the optical system of task's point (destroying the one of another point);
 * *rebuilt says whether it was made. With group (not MPI_COMM_NULL) collective on it: every
 * member calls with the same task. */
pp_status pp_grid_system_for_task(pp_grid_run *grid, size_t task, pp_method method,
                                  MPI_Comm group, pp_system **system, bool *rebuilt);
/* /grid: for each point its polychromatic PSF (the weighted sum of its slices, read back from
 * /cube, in wavelength order, as /psf is made), the detector effects, the detector image;
 * /grid/cube when the job asked for a cube. band, receive: this rank's row band of the PSF
 * (rows [det_row0·os, (det_row0 + det_nrows)·os)), band_detector its detector rows. Collective
 * on comm. */
pp_status pp_grid_finish(const pp_grid_run *grid, MPI_Comm comm, const pp_geometry *geometry,
                         pp_output *output, size_t det_row0, size_t det_nrows, double *band,
                         double *receive, double *band_detector);

#endif
