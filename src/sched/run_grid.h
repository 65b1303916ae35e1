/* Private to src/sched: a PSF grid run (run_grid.c). A grid is run as the single-PSF run is,
 * over tasks t = point·nλ + λ: the "expanded" job lists each task's wavelength and weight
 * (weights[λ] / n_points), and the rank's optical system is rebuilt whenever a task belongs
 * to another point than the last. Where the finished tasks are kept (and a stopped grid
 * resumes from) depends on output.cube:
 *   - with a cube, each task's slice in /cube, written as it is done, as for one PSF; a
 *     taker takes one task at a time, or a point's wavelengths when the points outnumber
 *     the takers fourfold (pp_run_take_size);
 *   - without (point sums), a taker always takes a whole point, sums its slices in
 *     wavelength order in memory, and writes only that sum, into /grid/psf[point], with
 *     the point's task records: one write of one image per point instead of one slice per
 *     task, and no slice ever read back. The finish turns each sum into the point's PSF.
 * Both keep the same sums: the same additions in the same order (pp_grid_add_slice), so
 * /grid/psf, /grid/psf_detector and /psf are the same bits with and without a cube. */
#ifndef POLYPSF_SCHED_RUN_GRID_H
#define POLYPSF_SCHED_RUN_GRID_H

#include <mpi.h>

#include "polypsf/io.h"
#include "polypsf/system.h"

typedef struct pp_grid_run {
  const pp_job *field_job;  /* the job as parsed: n_field_points > 0 */
  pp_job expanded;          /* a shallow copy owning only its wavelengths_m and weights */
  size_t n_points, n_lambda;
  bool point_sums;          /* no cube: a point's tasks are kept as its sum (above) */
  size_t same_optics;       /* the optics before the first that varies over the field */
  size_t system_point;      /* the point this rank's system was built for; SIZE_MAX: none */
} pp_grid_run;

/* Makes grid->expanded from job. Not collective. */
pp_status pp_grid_run_init(const pp_job *job, pp_grid_run *grid);
void pp_grid_run_release(pp_grid_run *grid);
/* Reorders todo[n] (task indices) so that each point's tasks come together, points in
 * order: consecutive tasks of a rank mostly share a point, so its pupil and OPD are built
 * once per point per rank. Within a point the given order is kept, except with point sums,
 * whose sum is made in wavelength order. Not collective. */
void pp_grid_order_tasks(const pp_grid_run *grid, size_t *todo, size_t n);
/* Makes *system the optical system of task's point (destroying the one of another point);
 * *rebuilt says whether it was made. With group (not MPI_COMM_NULL) collective on it: every
 * member calls with the same task. */
pp_status pp_grid_system_for_task(pp_grid_run *grid, size_t task, pp_method method,
                                  MPI_Comm group, pp_system **system, bool *rebuilt);
/* The sums a rank kept in memory from the last wave (point sums): sums[k] is point
 * points[k]'s, records[k·nλ …] its tasks' records; none of them is in the file yet. */
typedef struct pp_grid_held {
  size_t count;
  size_t *points;
  double *sums;             /* [count][ny·nx] */
  pp_task_record *records;  /* [count][n_lambda] */
} pp_grid_held;

/* The weight of wavelength λ in a point's sum (the job's weight: /psf divides by the
 * number of points). */
double pp_grid_weight(const pp_grid_run *grid, size_t lambda);
/* sum[q] += weight of wavelength λ × slice[q] for q < count: the one addition that makes a
 * point's polychromatic PSF, in memory (point sums) or from /cube rows (the finish). Not
 * collective. */
void pp_grid_add_slice(const pp_grid_run *grid, size_t lambda, const double *slice,
                       size_t count, double *sum);
/* Creates /grid (points, empty images) in the output, or finds a resumed grid's. Collective
 * on comm. */
pp_status pp_grid_create_output(const pp_grid_run *grid, MPI_Comm comm, pp_output *output);
/* /grid: for each point its polychromatic PSF (the weighted sum of its slices in wavelength
 * order: with point sums, scattered by the rank that kept it (held) or read from /grid/psf;
 * else summed from /cube rows), the detector effects, the detector image; /grid/cube with a
 * cube; a kept point's task records. mean_band gets the rows of /psf before
 * the detector effects: the mean of the points' sums, added in point order. Every array
 * holds this rank's row band of the PSF (rows [det_row0·os, (det_row0 + det_nrows)·os)),
 * band_detector its detector rows; receive is scratch of the band's size. Collective on
 * comm. */
pp_status pp_grid_finish(const pp_grid_run *grid, MPI_Comm comm, const pp_geometry *geometry,
                         pp_output *output, const pp_grid_held *held, size_t det_row0,
                         size_t det_nrows, double *mean_band, double *receive,
                         double *band_detector);

#endif
