/* Running a job over the ranks of a communicator. Length: a little over 600 lines, on
 * purpose: the stages below share the private run state (pp_run_state) and its clean-up;
 * what has a life of its own is already apart (plan_steps.c, run_detector.c, run_grid.c,
 * dispatch.c).
 *
 * 1. Rank 0 chooses the pupil → detector transform and shares it and its FFTW wisdom
 *    (transform_setup.c); ranks are grouped by node; each node's memory budget is probed; the plan
 *    decides how many ranks of each node compute (the others hold only their share of the
 *    reduction).
 * 2. The output file is created (or a stopped run's file reopened with --resume).
 * 3. Computing ranks take wavelengths one at a time from an RMA counter and write each
 *    slice into /cube as soon as it is done. A stop request (SIGTERM from the caller's
 *    handler) ends the run at the next wave's checkpoint, leaving a file --resume continues.
 * 4. /psf is reduced by row bands: every rank sums its rows of all slices in wavelength
 *    order, read back from /cube (or, without a cube, scattered from the ranks holding
 *    them). Every pixel sees the same additions in the same order whatever the rank
 *    count or the hand-out, so /psf is bit-identical for any number of ranks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/io.h"
#include "polypsf/sched.h"
#include "polypsf/system.h"
#include "sched/run_detector.h"
#include "sched/run_grid.h"

/* Seconds between progress lines on long runs. */
static const double pp_progress_interval_seconds = 10.0;

static double pp_mebibytes(size_t bytes) { return (double)bytes / 1048576.0; }

/* Detector rows [det_row0, det_row0 + det_nrows) of the band owned by `rank`: detector
 * rows split as evenly as possible, so oversampled bands align with rebinning blocks. */
static void pp_run_band(size_t det_ny, int size, int rank, size_t *det_row0, size_t *det_nrows) {
  size_t base = det_ny / (size_t)size, extra = det_ny % (size_t)size, r = (size_t)rank;
  *det_row0 = r * base + (r < extra ? r : extra);
  *det_nrows = base + (r < extra ? 1 : 0);
}

/* Stages whose wall time a run reports (the slowest rank's), so that scaling benchmarks
 * can tell computing from HDF5 writing and the reduction. */
enum { PP_T_SETUP, PP_T_COMPUTE, PP_T_SLICE_WRITE, PP_T_PLANE_WRITE, PP_T_CHECKPOINT,
       PP_T_REDUCE, PP_T_PSF_WRITE, PP_T_CLOSE, PP_T_COUNT };

/* The state of one run, so that the stages below can be separate functions. */
typedef struct {
  const pp_job *job;
  const pp_run_options *options;
  const pp_logger *log;
  MPI_Comm comm;
  int rank, size;
  pp_node_layout layout;
  pp_system_choice choice;     /* the transform, the same on every rank */
  pp_plan plan;
  bool active;                 /* this rank computes */
  bool leader;                 /* this rank takes tasks: an active single rank or group rank 0 */
  MPI_Comm group;              /* this rank's FFTW-MPI group, or MPI_COMM_NULL (single ranks) */
  int group_rank, group_size;
  pp_system *system;           /* active ranks only */
  pp_output *output;
  unsigned char *completed;    /* [nλ] slices already on disk (resume) */
  size_t *todo;                /* wavelength indices still to compute, plan order */
  size_t n_todo;
  size_t ny, nx;
  double *slices;              /* active ranks: slice buffers (one with a cube) */
  size_t n_slots, n_held;
  size_t *held_index;          /* [n_slots] wavelength of each held slice (no cube) */
  pp_geometry geometry;        /* the job's sampling, derived once */
  pp_plane_info *planes;       /* output.planes: the planes written, or NULL */
  size_t n_planes;
  double *plane_pixelscales;   /* [n_planes][nλ] as the output writes them, or NULL */
  double *plane_beams;         /* Fresnel planes: [2][n_planes][nλ] beam radius, then the
                                  reference curvature (metres), or NULL */
  pp_plane_sink plane_sink;    /* writes each plane into the file as the system makes it */
  size_t computing_index;      /* the wavelength pp_system_psf is computing (for the sink) */
  int threads_per_rank;         /* FFTW and OpenBLAS threads of each rank, as the plan counts */
  double start_seconds;
  double seconds[PP_T_COUNT];  /* wall time of this rank per stage */
  pp_grid_run *grid;           /* a PSF grid (job has field points), else NULL; job is then
                                  grid->expanded: one task per (point, wavelength) */
  double *point_sum;           /* grid leaders with point sums: the current point's sum */
  pp_task_record *run_records; /* … and its tasks' records, [n_lambda], written with it */
  size_t run_lambda;           /* … the wavelength its next task must have */
  double *sum_in_progress;     /* … where the current point is summed: point_sum or a slot
                                  of held */
  pp_grid_held held;           /* … the last wave's sums kept for the finish (run_grid.h) */
  size_t held_capacity;        /* … how many it may keep (the plan counted them) */
  bool final_wave;             /* the wave being computed is the last */
  bool wrote_sums;             /* this rank wrote a point's sum to the file in this wave */
  size_t take;                 /* positions a task taker takes at once (pp_run_take_size) */
  size_t take_next, take_end;  /* what is left of this rank's current run of positions */
} pp_run_state;

/* Sets this process's FFTW and OpenBLAS threads before anything plans (the calibration and
 * the FFTW plans use them). Every rank must ask for the same count: rank 0's wisdom is keyed
 * by it. Returns the count in force for the plan and the log (≥ 1). */
static pp_status pp_run_setup_threads(pp_run_state *st, int *threads) {
  int asked = pp_run_threads_per_rank(st->job, st->options), range[2] = {-asked, asked}, agreed[2];
  MPI_Allreduce(range, agreed, 2, MPI_INT, MPI_MAX, st->comm);
  PP_CHECK(-agreed[0] == agreed[1], PP_ERR_INPUT,
           "the ranks ask for different threads per rank (%d to %d): give every rank the same "
           "--threads-per-rank", -agreed[0], agreed[1]);
  PP_CALL(pp_agree(st->comm, pp_sched_threads_in_force(asked, threads)));
  return PP_SUCCESS;
}

static pp_status pp_run_prepare(pp_run_state *st) {
  const pp_job *job = st->job;
  int threads = 1;
  /* Checks that need no memory first, so bad input fails before anything is made; then the
   * job's sampling, derived once for the output and the log. */
  double pupil_diameter_m = 0.0;
  pp_status checked = pp_system_check_job(job, &pupil_diameter_m);
  if (checked == PP_SUCCESS) checked = pp_system_geometry(job, &st->geometry);
  PP_CALL(pp_agree(st->comm, checked));
  PP_CALL(pp_run_setup_threads(st, &threads));
  st->threads_per_rank = threads;
  PP_CALL(pp_propagation_setup(job, &st->options->propagation, st->comm, st->log, &st->choice));
  PP_CALL(pp_node_layout_create(st->comm, st->options->mem_per_node_bytes, threads,
                                &st->layout));
  pp_node_layout_log(&st->layout, st->comm, st->log);
  pp_node_layout_log_cores(&st->layout, threads, st->log);
  /* Each process's own footprint before any array: measured, the largest on any rank. */
  unsigned long long mine = pp_peak_rss_bytes(), baseline = 0;
  MPI_Allreduce(&mine, &baseline, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, st->comm);
  PP_CALL(pp_plan_for_layout(job, &st->choice, &st->layout, threads, (size_t)baseline, st->log,
                             &st->plan));
  const pp_plan_node *node = &st->plan.nodes[st->layout.node_index];
  st->active = st->layout.node_rank < node->active;
  st->leader = st->active;
  st->group_size = 1;
  if (st->plan.span_nodes > 1) {
    /* Groups of all the ranks of span_nodes consecutive nodes: every rank of comm takes part
     * in the split (the plan is the same everywhere), ranks of idle nodes with no colour. */
    int color = st->active ? st->layout.node_index / st->plan.span_nodes : MPI_UNDEFINED;
    PP_CALL(pp_comm_split(st->comm, color, st->rank, &st->group));
  } else if (node->group_ranks > 1) {
    /* One group per group_ranks consecutive ranks of the node, for the whole run; the node's
     * ranks all take part in the split (collective on the node), idle ones with no colour. */
    int color = st->active ? st->layout.node_rank / node->group_ranks : MPI_UNDEFINED;
    PP_CALL(pp_comm_split(st->layout.node_comm, color, st->layout.node_rank, &st->group));
  }
  if (st->group != MPI_COMM_NULL) {
    MPI_Comm_rank(st->group, &st->group_rank);
    MPI_Comm_size(st->group, &st->group_size);
    st->leader = st->group_rank == 0;
  }
  return PP_SUCCESS;
}

static pp_status pp_run_open_output(pp_run_state *st, const char *path) {
  const pp_job *job = st->job;
  size_t n = job->n_wavelengths;
  st->completed = calloc(n, 1);
  st->todo = calloc(n, sizeof *st->todo);
  PP_CHECK(st->completed && st->todo, PP_ERR_MEMORY, "out of memory");
  st->ny = st->geometry.psf_ny;
  st->nx = st->geometry.psf_nx;
  pp_output_meta meta = {.job = job, .geometry = st->geometry,
                         .n_ranks = st->size, .threads_per_rank = st->threads_per_rank,
                         .n_nodes = st->layout.n_nodes};
  PP_CALL(pp_system_requested_planes(job, &st->planes, &st->n_planes));
  PP_CALL(pp_system_plane_pixelscales(job, &st->geometry, st->planes, st->n_planes,
                                      &st->plane_pixelscales));
  meta.planes = st->planes;
  meta.n_planes = st->n_planes;
  meta.plane_pixelscales = st->plane_pixelscales;
  if (job->mode == PP_PROPAGATION_FRESNEL && st->n_planes > 0) {
    size_t count = st->n_planes * job->n_wavelengths;
    st->plane_beams = malloc(2 * count * sizeof *st->plane_beams);
    PP_CHECK(st->plane_beams, PP_ERR_MEMORY, "out of memory");
    PP_CALL(pp_fresnel_plane_table(job, st->planes, st->n_planes, NULL, st->plane_beams,
                                   st->plane_beams + count));
    meta.plane_beam_radii_m = st->plane_beams;
    meta.plane_curvatures_m = st->plane_beams + count;
  }
  if (st->options->resume) {
    bool resumed = false;
    PP_CALL(pp_output_open_resume(path, &meta, st->options->force, st->comm, &st->output,
                                  st->completed, &resumed));
    if (!resumed)
      pp_log(st->log, PP_LOG_INFO, "resume: no %s.partial to continue; starting afresh", path);
  } else {
    PP_CALL(pp_output_create(path, &meta, st->options->force, st->comm, &st->output));
  }
  /* /grid from the start: the points' sums go there as they are done (point sums) */
  if (st->grid) PP_CALL(pp_grid_create_output(st->grid, st->comm, st->output));
  size_t done = 0;
  for (size_t k = 0; k < st->plan.n_tasks; k++) {
    size_t i = st->plan.order[k];
    if (st->completed[i]) done++;
    else st->todo[st->n_todo++] = i;
  }
  if (st->grid) pp_grid_order_tasks(st->grid, st->todo, st->n_todo);
  if (st->options->resume)
    pp_log(st->log, PP_LOG_INFO, "resume: %zu of %zu slice(s) already on disk, %zu to compute",
           done, n, st->n_todo);
  return PP_SUCCESS;
}

/* The plane sink: each plane goes to the file as soon as the system has made it, so one
 * conversion buffer serves all planes. */
static pp_status pp_run_write_plane(void *context, const pp_plane_view *view) {
  pp_run_state *st = context;
  double t0 = pp_wtime();
  pp_status status = pp_output_write_plane(st->output, st->computing_index, view);
  st->seconds[PP_T_PLANE_WRITE] += pp_wtime() - t0;
  return status;
}

/* Active ranks build their optical system and slice buffers (idle ranks allocate
 * nothing big). */
static pp_status pp_run_setup_compute(pp_run_state *st) {
  if (!st->active) return PP_SUCCESS;
  bool rebuilt = false;
  if (st->grid) /* the first point this rank is likely to compute */
    PP_CALL(pp_grid_system_for_task(st->grid, st->n_todo > 0 ? st->todo[0] : 0,
                                    st->choice.method, st->group, &st->system, &rebuilt));
  else if (st->group != MPI_COMM_NULL)
    PP_CALL(pp_system_create_group(st->job, st->choice.method, st->group, &st->system));
  else
    PP_CALL(pp_system_create_with_method(st->job, st->choice.method, &st->system));
  if (!st->leader) return PP_SUCCESS; /* a group's other ranks hold no slice */
  /* the plan forms no group for a job that asks for planes: only single ranks get here */
  if (st->n_planes > 0) {
    st->plane_sink = (pp_plane_sink){.capture = pp_run_write_plane, .context = st};
    PP_CALL(pp_output_prepare_plane_writes(st->output));
    PP_CALL(pp_system_set_plane_sink(st->system, st->job, &st->plane_sink));
  }
  st->n_slots = st->job->output_cube || st->grid ? 1 : st->plan.task.held_slices;
  if (st->grid && st->grid->point_sums) {
    size_t slice_bytes = st->ny * st->nx * sizeof(double);
    st->run_records = calloc(st->grid->n_lambda, sizeof *st->run_records);
    st->held_capacity = st->plan.task.held_slices - 2;
    st->held.points = calloc(st->held_capacity + 1, sizeof *st->held.points);
    st->held.records = calloc((st->held_capacity + 1) * st->grid->n_lambda,
                              sizeof *st->held.records);
    PP_CHECK(st->run_records && st->held.points && st->held.records, PP_ERR_MEMORY,
             "out of memory");
    PP_CALL(pp_array_alloc(slice_bytes, (void **)&st->point_sum));
    /* not zeroed: a slot is cleared when a point starts in it, and pages never used are
     * never touched */
    st->held.sums = st->held_capacity > 0 ? malloc(st->held_capacity * slice_bytes) : NULL;
    PP_CHECK(st->held_capacity == 0 || st->held.sums != NULL, PP_ERR_MEMORY,
             "out of memory for %zu kept sums", st->held_capacity);
  }
  st->held_index = calloc(st->n_slots, sizeof *st->held_index);
  PP_CHECK(st->held_index != NULL, PP_ERR_MEMORY, "out of memory");
  PP_CALL(pp_array_alloc(st->n_slots * st->ny * st->nx * sizeof(double), (void **)&st->slices));
  return PP_SUCCESS;
}

static void pp_run_log_progress(pp_run_state *st, pp_dispatcher *dispatcher, bool final) {
  size_t done = 0;
  size_t *peaks = calloc((size_t)st->size, sizeof *peaks);
  pp_status status = pp_dispatcher_progress(dispatcher, &done, peaks);
  if (status || !peaks) {
    pp_status_free(status);
    free(peaks);
    return;
  }
  double elapsed = pp_wtime() - st->start_seconds;
  double eta = done > 0 ? elapsed * (double)(st->n_todo - done) / (double)done : 0.0;
  char line[1024];
  int len = snprintf(line, sizeof line, "progress: %zu/%zu task(s) done, %.1f s elapsed, ETA %.1f s; "
                     "memory high-water per node:",
                     done, st->n_todo, elapsed, eta);
  /* Node high-water = the sum of its ranks' peaks (rank 0 knows every rank's node). */
  for (int k = 0; k < st->layout.n_nodes && len > 0 && (size_t)len < sizeof line; k++) {
    size_t node_sum = 0;
    for (int r = 0; r < st->size; r++)
      if (st->layout.node_of_rank[r] == k) node_sum += peaks[r];
    len += snprintf(line + len, sizeof line - (size_t)len, " node %d %.1f MiB", k,
                    pp_mebibytes(node_sum));
  }
  pp_log(st->log, PP_LOG_INFO, "%s%s", line, final ? " (all tasks finished)" : "");
  free(peaks);
}

/* A grid with point sums, task i: where its PSF is to be added (its point's sum, cleared at
 * the point's first wavelength: a slot of the kept sums in the last wave while there is
 * room, else point_sum). Tasks come in wavelength order (pp_grid_order_tasks, whole runs). */
static pp_status pp_run_point_sum(pp_run_state *st, size_t i, double **sum) {
  const pp_grid_run *grid = st->grid;
  size_t lambda = i % grid->n_lambda, point = i / grid->n_lambda, count = st->ny * st->nx;
  PP_CHECK(lambda == 0 || lambda == st->run_lambda, PP_ERR_INTERNAL,
           "field point %zu: wavelength %zu came after %zu; a point's sum is made in "
           "wavelength order", point, lambda, st->run_lambda);
  if (lambda == 0) {
    bool keep = st->final_wave && st->held.count < st->held_capacity;
    st->sum_in_progress = keep ? st->held.sums + st->held.count * count : st->point_sum;
    memset(st->sum_in_progress, 0, count * sizeof *st->sum_in_progress);
  }
  *sum = st->sum_in_progress;
  return PP_SUCCESS;
}

/* Task i's PSF is in its point's sum: keeps its record; the point's last wavelength writes
 * the sum into /grid/psf with the records, which the next commit marks completed, or, for a
 * kept sum, leaves both to the finish. A point stopped part way writes nothing: --resume
 * computes it again whole. */
static pp_status pp_run_point_task_done(pp_run_state *st, size_t i, const pp_task_record *record) {
  const pp_grid_run *grid = st->grid;
  size_t lambda = i % grid->n_lambda, point = i / grid->n_lambda;
  bool kept = st->sum_in_progress != st->point_sum;
  /* a kept point's records wait with its sum: both go to the file in the finish */
  pp_task_record *records =
      kept ? st->held.records + st->held.count * grid->n_lambda : st->run_records;
  records[lambda] = *record;
  st->run_lambda = lambda + 1;
  if (st->run_lambda < grid->n_lambda) return PP_SUCCESS;
  st->run_lambda = 0;
  if (kept) {
    st->held.points[st->held.count++] = point;
    return PP_SUCCESS;
  }
  PP_CALL(pp_output_grid_write_image(st->output, "psf", point, st->point_sum));
  st->wrote_sums = true;
  return pp_output_write_slices(st->output, point * grid->n_lambda, grid->n_lambda, NULL,
                                st->run_records);
}

/* Computes one task: the PSF, its slice in the file, the bookkeeping. In a group every rank
 * calls it (pp_system_psf is collective on the group); only the leader has the PSF and
 * writes it. */
static pp_status pp_run_task(pp_run_state *st, pp_dispatcher *dispatcher, size_t position) {
  const pp_job *job = st->job;
  size_t i = st->todo[position], slice_len = st->ny * st->nx;
  double t0 = pp_wtime();
  double *psf = st->leader ? st->slices + st->n_held * slice_len : NULL; /* n_held: 0 with a
                                                                          cube or a grid */
  /* the planes are written inside, before the slice: completed means both are on disk */
  st->computing_index = i;
  if (st->grid) {
    bool rebuilt = false;
    PP_CALL(pp_grid_system_for_task(st->grid, i, st->choice.method, st->group, &st->system,
                                    &rebuilt));
    if (rebuilt && st->leader && st->n_planes > 0)
      PP_CALL(pp_system_set_plane_sink(st->system, job, &st->plane_sink));
  }
  /* a grid with point sums: the PSF goes straight into its point's sum where the system can
   * add it there (pp_system_psf_add), else through psf */
  double *sum = NULL;
  bool summed = false;
  size_t lambda = st->grid ? i % st->grid->n_lambda : 0;
  if (st->leader && st->grid && st->grid->point_sums) PP_CALL(pp_run_point_sum(st, i, &sum));
  double plane_seconds = st->seconds[PP_T_PLANE_WRITE];
  if (sum)
    PP_CALL(pp_system_psf_add(st->system, job->wavelengths_m[i],
                              pp_grid_weight(st->grid, lambda), sum, &summed));
  if (!summed) PP_CALL(pp_system_psf(st->system, job->wavelengths_m[i], psf));
  if (sum && !summed) pp_grid_add_slice(st->grid, lambda, psf, slice_len, sum);
  double t1 = pp_wtime();
  /* the compute time is the propagation's: the plane writes inside are timed apart */
  t0 += st->seconds[PP_T_PLANE_WRITE] - plane_seconds;
  if (!st->leader) {
    st->seconds[PP_T_COMPUTE] += t1 - t0;
    PP_CALL(pp_dispatcher_record_peak(dispatcher, pp_peak_rss_bytes()));
    return PP_SUCCESS;
  }
  pp_task_record record = {.rank = st->rank, .node = st->layout.node_index,
                           .method = (int)pp_system_method(st->system), .seconds = t1 - t0,
                           .peak_bytes = (double)pp_peak_rss_bytes()};
  if (sum) PP_CALL(pp_run_point_task_done(st, i, &record));
  else PP_CALL(pp_output_write_slice(st->output, i, psf, &record));
  st->seconds[PP_T_COMPUTE] += t1 - t0;
  st->seconds[PP_T_SLICE_WRITE] += pp_wtime() - t1;
  if (!job->output_cube && !st->grid) st->held_index[st->n_held++] = i;
  PP_CALL(pp_dispatcher_done(dispatcher, pp_peak_rss_bytes()));
  pp_log(st->log, PP_LOG_DEBUG, "wavelength %zu/%zu (%.5g m) done in %.3f s on rank %d%s",
         i + 1, job->n_wavelengths, job->wavelengths_m[i], record.seconds, st->rank,
         st->group_size > 1 ? " (leading an FFTW-MPI group)" : "");
  return PP_SUCCESS;
}

/* True once this process's stop flag is set (pp_run_options.stop_requested). */
static bool pp_run_stop_flagged(const pp_run_state *st) {
  return st->options->stop_requested != NULL && *st->options->stop_requested != 0;
}

/* At a wave boundary, after the checkpoint: every rank learns whether any rank was asked
 * to stop (the signal may reach the ranks at different times, or only some of them), so
 * all stop at the same boundary. A plain Allreduce every rank reaches: it cannot hang. */
static pp_status pp_run_stop_if_requested(pp_run_state *st, pp_dispatcher *dispatcher,
                                          const char *path) {
  int mine = pp_run_stop_flagged(st), any = 0;
  if (MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, st->comm) != MPI_SUCCESS)
    MPI_Abort(st->comm, 1); /* agreement itself failed: no rank can know what the others do */
  if (!any) return PP_SUCCESS;
  size_t done = 0;
  PP_CALL(pp_dispatcher_progress(dispatcher, &done, NULL));
  /* Every task already finished: the reduction is all that is left, and quicker than a
   * resume would be. */
  if (done == st->n_todo) return PP_SUCCESS;
  size_t on_disk = st->job->n_wavelengths - st->n_todo + done;
  PP_CHECK(!pp_job_resumable(st->job), PP_ERR_STOPPED,
           "stopped on request (SIGTERM): %zu of %zu slice(s) are on disk in %s.partial; "
           "run again with --resume to compute the rest",
           on_disk, st->job->n_wavelengths, path);
  return pp_error_raise(PP_ERR_STOPPED, __FILE__, __LINE__, __func__,
                        "stopped on request (SIGTERM) after %zu of %zu slice(s); without "
                        "output.cube nothing can be resumed, so nothing is kept",
                        on_disk, st->job->n_wavelengths);
}

/* How many consecutive positions a task taker takes at once. One, except for a PSF grid:
 * with point sums always a whole point (its sum is made by one taker); with a cube, a
 * point's wavelengths when the points outnumber the takers fourfold (consecutive in the
 * grid's order, pp_grid_order_tasks), so that each point's pupil is built by one rank
 * rather than by every rank (on 2 ranks, one task at a time built every pupil twice). Four
 * points per taker at least keep the last ones from waiting long on the others. Grids keep
 * their finished tasks in the file, so a taker never stops within its run for want of a
 * slot. The bytes of every task are the same whoever computes it. */
static size_t pp_run_take_size(const pp_run_state *st, size_t workers) {
  if (!st->grid) return 1;
  size_t per_point = st->grid->n_lambda;
  if (st->grid->point_sums) return per_point; /* a point's sum is made by one taker */
  if (per_point < 2 || st->n_todo / per_point < 4 * workers) return 1;
  return per_point;
}

/* The next position of this wave for a task taker, or SIZE_MAX when its wave is over. The
 * dispatcher hands out runs of st->take positions starting at multiples of it, and waves
 * hold whole runs, so a run never crosses a wave's end. A run fetched past the wave belongs
 * to the next wave and is kept in *pending (each taker overruns at most once, and a wave is
 * never smaller than the takers' runs, so a pending run always falls in the next wave). */
static pp_status pp_run_next(pp_run_state *st, pp_dispatcher *dispatcher, size_t wave_end,
                             size_t *pending, size_t *next) {
  *next = SIZE_MAX;
  if (!pp_job_resumable(st->job) && st->n_held == st->n_slots) return PP_SUCCESS; /* full */
  /* asked to stop: the wave's end agrees on it; what is left of a run waits for --resume */
  if (pp_run_stop_flagged(st)) return PP_SUCCESS;
  if (st->take_next < st->take_end) {
    *next = st->take_next++;
    return PP_SUCCESS;
  }
  size_t position = *pending;
  if (position == SIZE_MAX) PP_CALL(pp_dispatcher_next(dispatcher, st->take, &position));
  *pending = SIZE_MAX;
  if (position >= st->n_todo) return PP_SUCCESS;
  if (position >= wave_end) {
    *pending = position;
    return PP_SUCCESS;
  }
  st->take_next = position + 1;
  st->take_end = position + st->take < wave_end ? position + st->take : wave_end;
  *next = position;
  return PP_SUCCESS;
}

/* A group's share of one wave: the leader takes each task and broadcasts its position (or
 * the end of the wave) to the group, which computes it together. The group agrees after each
 * task, so a failure on any rank ends the wave on all of them (the leader's failure to take a
 * task ends it with the broadcast); the run agrees at the wave's end. Collective on the
 * group. */
static pp_status pp_run_wave_group(pp_run_state *st, pp_dispatcher *dispatcher, size_t wave_end,
                                   size_t *pending) {
  for (;;) {
    pp_status local = PP_SUCCESS;
    size_t position = SIZE_MAX;
    if (st->leader) local = pp_run_next(st, dispatcher, wave_end, pending, &position);
    unsigned long long shared = position;
    if (MPI_Bcast(&shared, 1, MPI_UNSIGNED_LONG_LONG, 0, st->group) != MPI_SUCCESS)
      MPI_Abort(st->comm, 1); /* the group cannot tell its members to stop */
    if (shared == (unsigned long long)SIZE_MAX) return local;
    PP_CALL(pp_agree(st->group, pp_run_task(st, dispatcher, (size_t)shared)));
  }
}

/* This rank's share of one wave: tasks [wave_begin, wave_end) of the plan order go out
 * one at a time (pp_run_next). Single ranks make no collective call in here: a failure is
 * agreed on at the wave's end; groups work as pp_run_wave_group says. */
static pp_status pp_run_wave(pp_run_state *st, pp_dispatcher *dispatcher, size_t wave_end,
                             size_t *pending) {
  if (!st->active) return PP_SUCCESS;
  if (st->group != MPI_COMM_NULL) return pp_run_wave_group(st, dispatcher, wave_end, pending);
  for (;;) {
    size_t position = SIZE_MAX;
    PP_CALL(pp_run_next(st, dispatcher, wave_end, pending, &position));
    if (position == SIZE_MAX) return PP_SUCCESS;
    PP_CALL(pp_run_task(st, dispatcher, position));
  }
}

/* All tasks in waves. Between waves every rank meets at a checkpoint (pp_output_sync),
 * which is when /status/completed is set: a run killed later resumes from there. A wave
 * holds as many tasks as the computing ranks do in about checkpoint_seconds. */
static pp_status pp_run_compute(pp_run_state *st, pp_dispatcher *dispatcher, const char *path) {
  size_t workers = (size_t)st->plan.workers_total, per_rank = 1;
  double interval = st->options->checkpoint_seconds;
  if (!pp_job_resumable(st->job)) per_rank = st->n_todo; /* nothing to resume from: one wave */
  else if (st->plan.task.seconds > 0.0 && interval > st->plan.task.seconds)
    per_rank = (size_t)(interval / st->plan.task.seconds);
  st->take = pp_run_take_size(st, workers);
  per_rank = (per_rank + st->take - 1) / st->take * st->take; /* whole runs per wave */
  size_t wave_size = workers * (per_rank ? per_rank : 1); /* groups count once */
  size_t n_waves = (st->n_todo + wave_size - 1) / wave_size, pending = SIZE_MAX;
  double last_log = pp_wtime();
  pp_log(st->log, PP_LOG_INFO, "compute: %zu task(s) in %zu wave(s) of up to %zu, checkpoint "
         "after each%s", st->n_todo, n_waves, wave_size,
         st->take > 1 ? "; a rank takes a field point's wavelengths at once" : "");
  for (size_t w = 0; w < n_waves; w++) {
    size_t wave_end = (w + 1) * wave_size < st->n_todo ? (w + 1) * wave_size : st->n_todo;
    st->final_wave = w + 1 == n_waves;
    st->wrote_sums = false;
    PP_CALL(pp_agree(st->comm, pp_run_wave(st, dispatcher, wave_end, &pending)));
    double t0 = pp_wtime();
    /* After the last wave of a grid whose sums all stayed in memory nothing is read back:
     * the closing commit syncs the file and sets the flags, once (a run killed before it
     * computes that wave again). Otherwise every slice or sum must be on storage, and
     * visible to every rank, before the finish reads it. */
    int wrote = st->wrote_sums || !st->grid || !st->grid->point_sums, any_wrote = 1;
    if (st->final_wave &&
        MPI_Allreduce(&wrote, &any_wrote, 1, MPI_INT, MPI_MAX, st->comm) != MPI_SUCCESS)
      any_wrote = 1;
    if (!st->final_wave || any_wrote) PP_CALL(pp_output_sync(st->output));
    st->seconds[PP_T_CHECKPOINT] += pp_wtime() - t0;
    PP_CALL(pp_run_stop_if_requested(st, dispatcher, path));
    if (st->rank == 0 && (pp_wtime() - last_log >= pp_progress_interval_seconds ||
                          w + 1 == n_waves)) {
      pp_run_log_progress(st, dispatcher, w + 1 == n_waves);
      last_log = pp_wtime();
    }
  }
  return PP_SUCCESS;
}

/* Sums the band [det_row0, +det_nrows) of every slice in wavelength order. */
static pp_status pp_run_reduce(pp_run_state *st, double *band, double *receive,
                               size_t det_row0, size_t det_nrows) {
  const pp_job *job = st->job;
  size_t os = (size_t)job->detector.oversample, nx = st->nx;
  size_t band_len = det_nrows * os * nx, slice_len = st->ny * nx;
  if (job->output_cube) {
    for (size_t i = 0; i < job->n_wavelengths; i++) {
      PP_CALL(pp_output_read_cube_rows(st->output, i, det_row0 * os, det_nrows * os, receive));
      for (size_t p = 0; p < band_len; p++) band[p] += job->weights[i] * receive[p];
    }
    return PP_SUCCESS;
  }
  /* Without a cube the slices live on the ranks that computed them: learn the owners,
   * then each owner scatters its slice's rows to the band owners, wavelength by
   * wavelength. */
  pp_status status = PP_SUCCESS;
  int *owner = malloc(job->n_wavelengths * sizeof *owner);
  int *mine = malloc(job->n_wavelengths * sizeof *mine);
  int *counts = calloc((size_t)st->size, sizeof *counts);
  int *displs = calloc((size_t)st->size, sizeof *displs);
  PP_CHECK_GOTO(status, owner && mine && counts && displs, PP_ERR_MEMORY, "out of memory");
  for (size_t i = 0; i < job->n_wavelengths; i++) mine[i] = -1;
  for (size_t h = 0; h < st->n_held; h++) mine[st->held_index[h]] = st->rank;
  MPI_Allreduce(mine, owner, (int)job->n_wavelengths, MPI_INT, MPI_MAX, st->comm);
  size_t det_ny = st->ny / os;
  for (int r = 0; r < st->size; r++) {
    size_t r0 = 0, rn = 0;
    pp_run_band(det_ny, st->size, r, &r0, &rn);
    counts[r] = (int)(rn * os * nx);
    displs[r] = (int)(r0 * os * nx);
  }
  for (size_t i = 0; i < job->n_wavelengths; i++) {
    PP_CHECK_GOTO(status, owner[i] >= 0, PP_ERR_INTERNAL, "wavelength %zu was never computed", i);
    const double *slice = NULL;
    for (size_t h = 0; h < st->n_held; h++)
      if (st->held_index[h] == i) slice = st->slices + h * slice_len;
    PP_CHECK_GOTO(status,
                  MPI_Scatterv(slice, counts, displs, MPI_DOUBLE, receive, counts[st->rank],
                               MPI_DOUBLE, owner[i], st->comm) == MPI_SUCCESS,
                  PP_ERR_MPI, "MPI_Scatterv of wavelength %zu failed", i);
    for (size_t p = 0; p < band_len; p++) band[p] += job->weights[i] * receive[p];
  }
done:
  free(owner);
  free(mine);
  free(counts);
  free(displs);
  return status;
}

/* One line: the largest time any rank spent in each stage. */
static void pp_run_log_timing(const pp_run_state *st) {
  double worst[PP_T_COUNT];
  MPI_Reduce(st->seconds, worst, PP_T_COUNT, MPI_DOUBLE, MPI_MAX, 0, st->comm);
  char planes[48] = "";
  if (st->n_planes > 0)
    snprintf(planes, sizeof planes, ", plane writes %.3f", worst[PP_T_PLANE_WRITE]);
  pp_log(st->log, PP_LOG_INFO,
         "timing (s, slowest rank): set-up %.3f, compute %.3f, slice writes %.3f%s, "
         "checkpoints %.3f, reduction %.3f, psf write %.3f, close %.3f, total %.3f",
         worst[PP_T_SETUP], worst[PP_T_COMPUTE], worst[PP_T_SLICE_WRITE], planes,
         worst[PP_T_CHECKPOINT], worst[PP_T_REDUCE], worst[PP_T_PSF_WRITE], worst[PP_T_CLOSE],
         pp_wtime() - st->start_seconds);
}

/* One line: every rank's peak RSS (VmHWM) at the end of the run and its share of its node's
 * budget, so that a run can be checked against its plan rank by rank. Collective on comm. */
static void pp_run_log_memory(const pp_run_state *st) {
  unsigned long long mine = pp_peak_rss_bytes();
  unsigned long long *peaks = st->rank == 0 ? calloc((size_t)st->size, sizeof *peaks) : NULL;
  MPI_Gather(&mine, 1, MPI_UNSIGNED_LONG_LONG, peaks, 1, MPI_UNSIGNED_LONG_LONG, 0, st->comm);
  if (st->rank != 0 || !peaks) {
    free(peaks);
    return;
  }
  char line[4096];
  int len = snprintf(line, sizeof line, "memory: peak RSS per rank (MiB, share of the node "
                     "budget in brackets):");
  for (int r = 0; r < st->size && len > 0 && (size_t)len < sizeof line; r++) {
    int node = st->layout.node_of_rank[r];
    size_t share = st->layout.budget_bytes[node] / (size_t)st->layout.ranks_per_node[node];
    len += snprintf(line + len, sizeof line - (size_t)len, " rank %d %.1f [%.1f]", r,
                    pp_mebibytes((size_t)peaks[r]), pp_mebibytes(share));
  }
  pp_log(st->log, PP_LOG_INFO, "%s", line);
  free(peaks);
}

static pp_status pp_run_finish(pp_run_state *st, pp_run_summary *summary, const char *path) {
  pp_status status = PP_SUCCESS;
  const pp_job *job = st->job;
  size_t os = (size_t)job->detector.oversample, nx = st->nx, det_ny = st->ny / os;
  size_t det_row0 = 0, det_nrows = 0;
  double *band = NULL, *receive = NULL, *band_detector = NULL;
  pp_run_band(det_ny, st->size, st->rank, &det_row0, &det_nrows);
  size_t band_len = det_nrows * os * nx;
  pp_status local = pp_array_alloc((band_len + 1) * sizeof(double), (void **)&band);
  if (!local) local = pp_array_alloc((band_len + 1) * sizeof(double), (void **)&receive);
  if (!local)
    local = pp_array_alloc((det_nrows * (nx / os) + 1) * sizeof(double), (void **)&band_detector);
  PP_CALL_GOTO(status, pp_agree(st->comm, local));
  double t0 = pp_wtime();
  if (st->grid) /* /grid, and /psf's rows: the mean of the points' sums */
    PP_CALL_GOTO(status, pp_grid_finish(st->grid, st->comm, &st->geometry, st->output,
                                        &st->held, det_row0, det_nrows, band, receive,
                                        band_detector));
  else
    PP_CALL_GOTO(status, pp_run_reduce(st, band, receive, det_row0, det_nrows));
  if (pp_detector_has_effects(&job->detector))
    PP_CALL_GOTO(status, pp_run_detector_effects(st->comm, job, &st->geometry, st->output,
                                                 det_row0, det_nrows, band, band_detector));
  else
    PP_CALL_GOTO(status, pp_psf_rebin(band, det_nrows * os, nx, (int)os, band_detector));
  double t1 = pp_wtime();
  PP_CALL_GOTO(status, pp_output_write_psf_rows(st->output, det_row0 * os, det_nrows * os,
                                                band, band_detector));
  double t2 = pp_wtime();
  st->seconds[PP_T_REDUCE] = t1 - t0;
  st->seconds[PP_T_PSF_WRITE] = t2 - t1;
  double local_stats[2] = {0.0, 0.0}, sum = 0.0, peak = 0.0;
  for (size_t p = 0; p < band_len; p++) {
    local_stats[0] += band[p];
    if (band[p] > local_stats[1]) local_stats[1] = band[p];
  }
  MPI_Allreduce(&local_stats[0], &sum, 1, MPI_DOUBLE, MPI_SUM, st->comm);
  MPI_Allreduce(&local_stats[1], &peak, 1, MPI_DOUBLE, MPI_MAX, st->comm);
  PP_CALL_GOTO(status, pp_output_close(&st->output, true));
  st->seconds[PP_T_CLOSE] = pp_wtime() - t2;
  pp_run_log_memory(st);
  pp_run_log_timing(st);
  if (summary) {
    *summary = (pp_run_summary){.n_wavelengths = job->n_wavelengths, .n_computed = st->n_todo,
                                .seconds = pp_wtime() - st->start_seconds, .psf_sum = sum,
                                .psf_peak = peak, .n_ranks = st->size,
                                .n_nodes = st->layout.n_nodes,
                                .n_active = st->plan.active_total};
    snprintf(summary->output_path, sizeof summary->output_path, "%s", path);
  }
done:
  pp_array_free(&band);
  pp_array_free(&receive);
  pp_array_free(&band_detector);
  return status;
}

pp_status pp_run(const pp_job *job, const pp_run_options *options, MPI_Comm caller_comm,
                 pp_run_summary *summary) {
  pp_status status = PP_SUCCESS;
  pp_dispatcher *dispatcher = NULL;
  /* The run's own communicator, set to return MPI errors (pp_comm_dup), so that a failing
   * MPI call (the task counter's window, a collective) becomes a pp_status with its call site
   * instead of the abort the caller's communicator (MPI_COMM_WORLD) would give. */
  MPI_Comm comm = MPI_COMM_NULL;
  PP_CALL(pp_comm_dup(caller_comm, &comm));
  pp_run_state st = {.job = job, .options = options, .log = options->logger, .comm = comm,
                     .layout = {.node_comm = MPI_COMM_NULL}, .group = MPI_COMM_NULL,
                     .start_seconds = pp_wtime()};
  MPI_Comm_rank(comm, &st.rank);
  MPI_Comm_size(comm, &st.size);
  const char *path = options->output_path ? options->output_path : job->output_path;
  pp_grid_run grid;
  bool has_grid = job->n_field_points > 0;
  if (has_grid) {
    pp_status expanded = pp_grid_run_init(job, &grid);
    if (expanded) {
      MPI_Comm_free(&comm);
      return expanded;
    }
    st.grid = &grid;
    st.job = job = &grid.expanded;
  }
  PP_CALL_GOTO(status, pp_run_prepare(&st));
  PP_CALL_GOTO(status, pp_run_open_output(&st, path));
  PP_CALL_GOTO(status, pp_agree(comm, pp_run_setup_compute(&st)));
  /* Every plan is made: the wisdom is complete. Written now, so that a wrong path fails the run
   * before it computes rather than after. */
  PP_CALL_GOTO(status, pp_propagation_save_wisdom(&options->propagation, comm, st.log));
  PP_CALL_GOTO(status, pp_dispatcher_create(comm, st.n_todo, &dispatcher));
  st.seconds[PP_T_SETUP] = pp_wtime() - st.start_seconds;
  /* Ends with a checkpoint: every slice is on disk before anyone reads one back. */
  PP_CALL_GOTO(status, pp_run_compute(&st, dispatcher, path));
  PP_CALL_GOTO(status, pp_run_finish(&st, summary, path));

done:
  pp_dispatcher_destroy(&dispatcher);
  if (st.output) {
    /* A stopped run with a cube keeps its .partial: --resume continues from it. */
    pp_status close_status = pp_output_close_as(
        &st.output, pp_job_resumable(job) ? PP_OUTPUT_KEEP_PARTIAL : PP_OUTPUT_DISCARD);
    pp_status_free(close_status);
  }
  free(st.completed);
  free(st.todo);
  free(st.held_index);
  free(st.run_records);
  free(st.held.points);
  free(st.held.records);
  free(st.held.sums);
  pp_array_free(&st.point_sum);
  free(st.planes);
  free(st.plane_pixelscales);
  free(st.plane_beams);
  pp_array_free(&st.slices);
  pp_system_destroy(&st.system); /* collective on the group: every member gets here */
  if (st.group != MPI_COMM_NULL) MPI_Comm_free(&st.group);
  pp_plan_destroy(&st.plan);
  pp_node_layout_destroy(&st.layout);
  if (has_grid) pp_grid_run_release(&grid);
  MPI_Comm_free(&comm); /* after the output file and the window, which use it */
  return status;
}
