/* A PSF grid run: tasks are (field point, wavelength) pairs. See run_grid.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/run_detector.h"
#include "sched/run_grid.h"

pp_status pp_grid_run_init(const pp_job *job, pp_grid_run *grid) {
  memset(grid, 0, sizeof *grid);
  grid->field_job = job;
  grid->n_points = job->n_field_points;
  grid->n_lambda = job->n_wavelengths;
  grid->system_point = SIZE_MAX;
  size_t n_tasks = 0;
  PP_CALL(pp_size_mul(grid->n_points, grid->n_lambda, &n_tasks));
  grid->expanded = *job;
  grid->expanded.wavelengths_m = malloc(n_tasks * sizeof(double));
  grid->expanded.weights = malloc(n_tasks * sizeof(double));
  if (!grid->expanded.wavelengths_m || !grid->expanded.weights) {
    pp_grid_run_release(grid);
    PP_CHECK(false, PP_ERR_MEMORY, "out of memory for %zu grid tasks", n_tasks);
  }
  for (size_t p = 0; p < grid->n_points; p++)
    for (size_t i = 0; i < grid->n_lambda; i++) {
      grid->expanded.wavelengths_m[p * grid->n_lambda + i] = job->wavelengths_m[i];
      grid->expanded.weights[p * grid->n_lambda + i] = job->weights[i] / (double)grid->n_points;
    }
  grid->expanded.n_wavelengths = n_tasks;
  grid->point_sums = !job->output_cube;
  /* the optics before the first that varies over the field are the same at every point */
  while (grid->same_optics < job->n_optics &&
         !pp_job_optic_varies_over_field(job, grid->same_optics))
    grid->same_optics++;
  return PP_SUCCESS;
}

void pp_grid_run_release(pp_grid_run *grid) {
  free(grid->expanded.wavelengths_m);
  free(grid->expanded.weights);
  grid->expanded.wavelengths_m = grid->expanded.weights = NULL;
}

void pp_grid_order_tasks(const pp_grid_run *grid, size_t *todo, size_t n) {
  if (grid->point_sums) {
    /* ascending task order: points in order, each point's wavelengths in order */
    size_t n_tasks = grid->n_points * grid->n_lambda, k = 0;
    unsigned char *present = calloc(n_tasks, 1);
    if (!present) return; /* without memory the plan's order stands; the run refuses it */
    for (size_t j = 0; j < n; j++) present[todo[j]] = 1;
    for (size_t t = 0; t < n_tasks; t++)
      if (present[t]) todo[k++] = t;
    free(present);
    return;
  }
  /* a stable counting sort by point */
  size_t *sorted = malloc(n * sizeof *sorted);
  size_t *start = calloc(grid->n_points + 1, sizeof *start);
  if (sorted && start) {
    for (size_t k = 0; k < n; k++) start[todo[k] / grid->n_lambda + 1]++;
    for (size_t p = 0; p < grid->n_points; p++) start[p + 1] += start[p];
    for (size_t k = 0; k < n; k++) sorted[start[todo[k] / grid->n_lambda]++] = todo[k];
    memcpy(todo, sorted, n * sizeof *todo);
  } /* without memory the plan's order stands: correct, only slower */
  free(sorted);
  free(start);
}

pp_status pp_grid_system_for_task(pp_grid_run *grid, size_t task, pp_method method,
                                  MPI_Comm group, pp_system **system, bool *rebuilt) {
  size_t point = task / grid->n_lambda;
  *rebuilt = false;
  if (*system && point == grid->system_point) return PP_SUCCESS;
  grid->system_point = SIZE_MAX;
  pp_optic_spec *optics = NULL;
  pp_status local = pp_job_field_point_optics(grid->field_job, point, &optics);
  if (group != MPI_COMM_NULL) PP_CALL(pp_agree(group, local));
  else PP_CALL(local);
  pp_job point_job = grid->expanded;
  point_job.optics = optics;
  /* one rank: the point's pupil in the system it has (its transform's plans kept) */
  bool changed = false;
  pp_status status = PP_SUCCESS;
  if (*system && group == MPI_COMM_NULL)
    status = pp_system_change_optics(*system, &point_job, grid->same_optics, &changed);
  if (!changed) {
    pp_system_destroy(system); /* collective on the group, whose members all get here */
    if (status == PP_SUCCESS)
      status = group != MPI_COMM_NULL
                   ? pp_system_create_group(&point_job, method, group, system)
                   : pp_system_create_with_method(&point_job, method, system);
  }
  /* the system copied what it needs of the optics */
  pp_job_field_point_optics_free(grid->field_job, &optics);
  PP_CALL(status);
  grid->system_point = point;
  *rebuilt = true;
  return PP_SUCCESS;
}

double pp_grid_weight(const pp_grid_run *grid, size_t lambda) {
  return grid->field_job->weights[lambda];
}

void pp_grid_add_slice(const pp_grid_run *grid, size_t lambda, const double *slice,
                       size_t count, double *sum) {
  double weight = pp_grid_weight(grid, lambda);
  for (size_t q = 0; q < count; q++) sum[q] += weight * slice[q];
}

pp_status pp_grid_create_output(const pp_grid_run *grid, MPI_Comm comm, pp_output *output) {
  const pp_job *job = grid->field_job;
  double *detector_xy = malloc(2 * grid->n_points * sizeof *detector_xy);
  PP_CALL(pp_agree(comm, detector_xy ? PP_SUCCESS
                                     : pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__,
                                                      __func__, "out of memory")));
  for (size_t q = 0; q < 2 * grid->n_points; q++)
    detector_xy[q] = job->field_detector_pixels
                         ? job->field_detector_pixels[q]
                         : job->field_points_arcsec[q] / job->detector.pixelscale_arcsec;
  pp_status created = pp_output_grid_create(output, grid->n_points, job->field_points_arcsec,
                                            detector_xy, grid->n_lambda, job->output_cube);
  free(detector_xy);
  return created;
}

pp_status pp_grid_finish(const pp_grid_run *grid, MPI_Comm comm, const pp_geometry *geometry,
                         pp_output *output, const pp_grid_held *held, size_t det_row0,
                         size_t det_nrows, double *mean_band, double *receive,
                         double *band_detector) {
  pp_status status = PP_SUCCESS;
  const pp_job *job = grid->field_job;
  size_t os = (size_t)geometry->oversample, nx = geometry->psf_nx;
  size_t row0 = det_row0 * os, nrows = det_nrows * os, band_len = nrows * nx;
  size_t slice_len = geometry->psf_ny * nx;
  bool blurs = pp_detector_blurs_psf(&job->detector);
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  double *point_band = NULL;
  int *owner = malloc(grid->n_points * sizeof *owner), *kept = NULL;
  int *counts = calloc((size_t)size, sizeof *counts), *displs = calloc((size_t)size, sizeof *displs);
  kept = malloc(grid->n_points * sizeof *kept);
  pp_status local = owner && counts && displs && kept
                        ? pp_array_alloc((band_len + 1) * sizeof(double), (void **)&point_band)
                        : pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__, __func__,
                                         "out of memory");
  PP_CALL_GOTO(status, pp_agree(comm, local));
  /* who kept which point's sum (-1: it is in the file), and every rank's band for the
   * scatter */
  for (size_t p = 0; p < grid->n_points; p++) owner[p] = kept[p] = -1;
  for (size_t k = 0; held && k < held->count; k++) {
    owner[held->points[k]] = rank;
    kept[held->points[k]] = (int)k;
  }
  int band[2] = {(int)(row0 * nx), (int)band_len}, *bands = malloc(2 * (size_t)size * sizeof *bands);
  local = bands ? PP_SUCCESS
                : pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__, __func__, "out of memory");
  PP_CALL_GOTO(status, pp_agree(comm, local));
  PP_CHECK_GOTO(status,
                MPI_Allreduce(MPI_IN_PLACE, owner, (int)grid->n_points, MPI_INT, MPI_MAX,
                              comm) == MPI_SUCCESS &&
                    MPI_Allgather(band, 2, MPI_INT, bands, 2, MPI_INT, comm) == MPI_SUCCESS,
                PP_ERR_MPI, "sharing where the grid's sums are failed");
  for (int r = 0; r < size; r++) {
    displs[r] = bands[2 * r];
    counts[r] = bands[2 * r + 1];
  }
  free(bands);
  memset(mean_band, 0, band_len * sizeof *mean_band);
  /* The stored sums are about to be overwritten by the blurred PSFs: from here on a resumed
   * run must not read them as sums. */
  if (grid->point_sums && blurs) PP_CALL_GOTO(status, pp_output_grid_mark_rewritten(output));
  for (size_t p = 0; p < grid->n_points; p++) {
    if (grid->point_sums && owner[p] >= 0) {
      const double *sum = owner[p] == rank ? held->sums + (size_t)kept[p] * slice_len : NULL;
      PP_CHECK_GOTO(status,
                    MPI_Scatterv(sum, counts, displs, MPI_DOUBLE, point_band, (int)band_len,
                                 MPI_DOUBLE, owner[p], comm) == MPI_SUCCESS,
                    PP_ERR_MPI, "MPI_Scatterv of field point %zu's sum failed", p);
    } else if (grid->point_sums) {
      PP_CALL_GOTO(status, pp_output_grid_read_rows(output, "psf", p, row0, nrows, point_band));
    } else {
      memset(point_band, 0, band_len * sizeof *point_band);
      for (size_t i = 0; i < grid->n_lambda; i++) {
        size_t task = p * grid->n_lambda + i;
        PP_CALL_GOTO(status, pp_output_read_cube_rows(output, task, row0, nrows, receive));
        pp_grid_add_slice(grid, i, receive, band_len, point_band);
        const size_t lead[2] = {p, i};
        PP_CALL_GOTO(status,
                     pp_output_grid_write_rows(output, "cube", lead, 2, row0, nrows, receive));
      }
    }
    for (size_t q = 0; q < band_len; q++) mean_band[q] += point_band[q] / (double)grid->n_points;
    if (pp_detector_has_effects(&job->detector))
      PP_CALL_GOTO(status, pp_run_detector_effects_rows(comm, job, geometry, det_row0, det_nrows,
                                                        point_band, band_detector));
    else
      PP_CALL_GOTO(status,
                   pp_agree(comm, pp_psf_rebin(point_band, nrows, nx, (int)os, band_detector)));
    const size_t lead[1] = {p};
    if (!grid->point_sums || blurs || owner[p] >= 0)
      PP_CALL_GOTO(status, pp_output_grid_write_rows(output, "psf", lead, 1, row0, nrows,
                                                     point_band));
    PP_CALL_GOTO(status, pp_output_grid_write_rows(output, "psf_detector", lead, 1, det_row0,
                                                   det_nrows, band_detector));
    if (grid->point_sums && owner[p] >= 0) {
      /* the kept point's records, now that its image is written: the closing commit marks
       * its tasks completed after syncing both */
      local = owner[p] != rank ? PP_SUCCESS
                               : pp_output_write_slices(output, p * grid->n_lambda, grid->n_lambda,
                                                        NULL, held->records +
                                                                  (size_t)kept[p] * grid->n_lambda);
      PP_CALL_GOTO(status, pp_agree(comm, local));
    }
  }
done:
  pp_array_free(&point_band);
  free(owner);
  free(kept);
  free(counts);
  free(displs);
  return status;
}
