/* The plan: how much memory one wavelength task needs, how many ranks of each node may
 * compute at once, in what order tasks go out, and roughly how long it takes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/sched.h"
#include "polypsf/system.h"

/* OpenBLAS packs panels of both operands into per-thread buffers; the pages a
 * single-threaded dgemm/zgemm of our shapes touches, measured (docs/performance.md). A rank
 * with T BLAS threads is counted T sets: a second thread was measured to touch about 1.2 MiB
 * more, so this errs on the safe side (docs/performance.md, "Processes or threads"). */
static const size_t pp_plan_blas_bytes = (size_t)8 << 20;
/* A grid rank keeps the sums of the last wave's points in memory up to this much, so that
 * its finish reads none back and the last checkpoint syncs nothing (run.c): 64 MiB is 512
 * points of a 128 × 128 px stamp, and little beside a large system. */
static const size_t pp_plan_held_sums_bytes = (size_t)64 << 20;

static double pp_mebibytes(size_t bytes) { return (double)bytes / 1048576.0; }

static const pp_system_candidate *pp_plan_chosen(const pp_system_choice *choice) {
  return choice->method == PP_METHOD_CZT ? &choice->czt : &choice->mft;
}

pp_status pp_plan_task_model(const pp_job *job, const pp_system_choice *choice, int active_ranks,
                             int total_ranks, int threads_per_rank, pp_task_model *task) {
  *task = (pp_task_model){0};
  PP_CHECK(active_ranks >= 1 && total_ranks >= active_ranks, PP_ERR_INTERNAL,
           "task model needs 1 ≤ active (%d) ≤ total (%d) ranks", active_ranks, total_ranks);
  PP_CHECK(threads_per_rank >= 1, PP_ERR_INTERNAL, "task model needs ≥ 1 thread per rank, got %d",
           threads_per_rank);
  if (choice) task->choice = *choice;
  else PP_CALL(pp_system_choose(job, NULL, &task->choice));
  const pp_system_candidate *chosen = pp_plan_chosen(&task->choice);
  /* the chosen transform's memory: the MFT holds two kernels, the chirp-z line buffers */
  task->system_bytes = chosen->bytes;
  /* a grid's system keeps the optics that are the same at every point, evaluated once: two
   * more pupil arrays (pp_pupil_refill) */
  if (job->n_field_points > 0 && job->mode == PP_PROPAGATION_FRAUNHOFER) {
    task->system_bytes += 2 * job->pupil_npix * job->pupil_npix * sizeof(double);
    /* and the terms of its first field-dependent zernike_wfe, evaluated once */
    for (size_t k = 0; k < job->n_optics; k++) {
      if (!(job->field_zernike && job->field_zernike[k])) continue;
      size_t terms = job->field_terms[k] > job->optics[k].list_len ? job->field_terms[k]
                                                                    : job->optics[k].list_len;
      pp_pupil_grid grid = {.ny = job->pupil_npix, .nx = job->pupil_npix};
      task->system_bytes += pp_zernike_basis_bytes(terms, &grid);
      break;
    }
  }
  /* the oversampled detector grid, as the choice derived it (pp_system_geometry's shape) */
  size_t ny = task->choice.n_out_y, nx = task->choice.n_out_x;
  task->slice_bytes = ny * nx * sizeof(double);
  /* Without a cube the slices stay in memory until the reduction; tasks go out
   * dynamically, so allow one more than an even share. */
  size_t n = job->n_wavelengths, share = (n + (size_t)active_ranks - 1) / (size_t)active_ranks;
  task->held_slices = job->output_cube ? 1 : share + 1;
  /* A grid's leader holds the slice it computes; with point sums also the point's sum and
   * the sums of its share of the points of the last wave, kept for the finish (run.c), up
   * to pp_plan_held_sums_bytes of them. */
  if (job->n_field_points > 0 && job->output_cube) task->held_slices = 1;
  if (job->n_field_points > 0 && !job->output_cube) {
    size_t points = job->n_field_points;
    size_t point_share = (points + (size_t)active_ranks - 1) / (size_t)active_ranks;
    size_t most = pp_plan_held_sums_bytes / (ny * nx * sizeof(double));
    task->held_slices = 2 + (point_share < most ? point_share : most);
  }
  /* The reduction holds a row band of /psf (plus one read buffer) on every rank. */
  size_t det_ny = job->detector.fov_pixels_y, band_det_rows = (det_ny + (size_t)total_ranks - 1) / (size_t)total_ranks;
  /* (a grid's finish holds a third: the point's rows beside /psf's, pp_grid_finish) */
  task->reduction_bytes = (job->n_field_points > 0 ? 3 : 2) * band_det_rows *
                          (size_t)job->detector.oversample * nx * sizeof(double);
  /* only the MFT runs BLAS products (FFTW's own tables are O(L), negligible, and its threads
   * work on the rank's arrays) */
  task->blas_bytes =
      task->choice.method == PP_METHOD_MFT ? (size_t)threads_per_rank * pp_plan_blas_bytes : 0;
  pp_plane_info *planes = NULL;
  size_t n_planes = 0;
  PP_CALL(pp_system_requested_planes(job, &planes, &n_planes));
  size_t element = job->plane_quantity == PP_PLANE_INTENSITY ? sizeof(double) : 2 * sizeof(double);
  for (size_t p = 0; p < n_planes; p++) {
    size_t count = planes[p].ny * planes[p].nx;
    if (count * element > task->plane_bytes) task->plane_bytes = count * element;
    task->plane_file_bytes += count * element * job->n_wavelengths;
  }
  task->n_planes = n_planes;
  free(planes);
  task->task_bytes = task->system_bytes + task->held_slices * task->slice_bytes +
                     task->reduction_bytes + task->blas_bytes + task->plane_bytes;
  task->flops = chosen->flops;
  task->seconds = chosen->seconds;
  return PP_SUCCESS;
}

pp_status pp_plan_group_task_bytes(const pp_job *job, const pp_task_model *task, int group_ranks,
                                   size_t *bytes) {
  *bytes = 0;
  PP_CHECK(group_ranks >= 2, PP_ERR_INTERNAL, "a rank group has at least 2 ranks, got %d",
           group_ranks);
  size_t group_system = 0;
  PP_CALL(pp_system_group_bytes_for_job(job, task->choice.method, group_ranks, &group_system));
  /* the same slice, band and BLAS as a single rank (counted on every rank of the group, as
   * group rank 0 holds them), the system's padded planes cut to slabs */
  *bytes = task->task_bytes - task->system_bytes + group_system;
  return PP_SUCCESS;
}

/* One node's choice: single ranks, or groups of the g that keeps the most ranks computing
 * (ties to the smaller g). fft_n 0 or odd: single ranks only. */
static pp_status pp_plan_node_choose(const pp_job *job, const pp_task_model *task, size_t fft_n,
                                     size_t baseline_bytes, pp_plan_node *node) {
  size_t fixed = (size_t)node->ranks * baseline_bytes;
  size_t room = node->budget_bytes > fixed ? node->budget_bytes - fixed : 0;
  size_t fits = room / task->task_bytes;
  node->active = node->workers = fits < (size_t)node->ranks ? (int)fits : node->ranks;
  node->group_ranks = 1;
  node->rank_task_bytes = task->task_bytes;
  if (node->active < node->ranks && fft_n > 0 && fft_n % 2 == 0) {
    for (int g = 2; g <= node->ranks; g++) {
      size_t per_rank = 0;
      PP_CALL(pp_plan_group_task_bytes(job, task, g, &per_rank));
      size_t groups = room / ((size_t)g * per_rank);
      if (groups > (size_t)(node->ranks / g)) groups = (size_t)(node->ranks / g);
      if ((int)groups * g <= node->active) continue;
      node->active = (int)groups * g;
      node->workers = (int)groups;
      node->group_ranks = g;
      node->rank_task_bytes = per_rank;
    }
  }
  node->peak_bytes = fixed + (size_t)node->active * node->rank_task_bytes;
  return PP_SUCCESS;
}

/* Groups of all the ranks of k consecutive nodes (blocks [first, first + k)), for when no
 * node computes alone: the k that keeps the most ranks computing, ties to the smaller k; a
 * block computes when each of its nodes holds its ranks' baselines and per-rank needs. Sets
 * plan->span_nodes (1 when no block fits) and the nodes of the fitting blocks. */
static pp_status pp_plan_span_nodes(const pp_job *job, pp_plan *plan, size_t baseline_bytes,
                                    int *active_total, int *workers_total) {
  plan->span_nodes = 1;
  if (plan->fft_n == 0 || plan->fft_n % 2 != 0 || plan->n_nodes < 2) return PP_SUCCESS;
  int best_span = 0, best_active = 0;
  for (int pass = 0; pass < 2; pass++) { /* 0: choose the span, 1: fill the nodes */
    for (int span = pass ? best_span : 2; span <= (pass ? best_span : plan->n_nodes); span++) {
      int active = 0;
      for (int first = 0; first + span <= plan->n_nodes; first += span) {
        int g = 0;
        for (int k = first; k < first + span; k++) g += plan->nodes[k].ranks;
        size_t per_rank = 0;
        PP_CALL(pp_plan_group_task_bytes(job, &plan->task, g, &per_rank));
        bool fits = true;
        for (int k = first; k < first + span; k++)
          fits = fits && (size_t)plan->nodes[k].ranks * (baseline_bytes + per_rank) <=
                             plan->nodes[k].budget_bytes;
        if (!fits) continue;
        active += g;
        for (int k = first; pass && k < first + span; k++) {
          pp_plan_node *node = &plan->nodes[k];
          node->active = node->ranks;
          node->group_ranks = g;
          node->workers = k == first ? 1 : 0;
          node->rank_task_bytes = per_rank;
          node->peak_bytes = (size_t)node->ranks * (baseline_bytes + per_rank);
        }
        if (pass) {
          *active_total += g;
          *workers_total += 1;
        }
      }
      if (!pass && active > best_active) {
        best_active = active;
        best_span = span;
      }
    }
    if (!best_span) return PP_SUCCESS;
  }
  plan->span_nodes = best_span;
  return PP_SUCCESS;
}

/* Every wavelength costs the same with one propagation method, so "costliest first"
 * keeps the given order; the sort is stable on the index so plans never depend on
 * timing. */
static void pp_plan_order(const size_t *tasks, size_t n_tasks, size_t *order) {
  for (size_t k = 0; k < n_tasks; k++) order[k] = tasks ? tasks[k] : k;
}

pp_status pp_plan_create(const pp_job *job, const pp_system_choice *choice, int n_nodes,
                         const int *ranks_per_node, int threads_per_rank,
                         const size_t *budget_bytes_per_node, size_t baseline_bytes,
                         const size_t *tasks, size_t n_tasks, pp_plan *plan) {
  pp_status status = PP_SUCCESS;
  *plan = (pp_plan){0};
  PP_CHECK(n_nodes >= 1, PP_ERR_INTERNAL, "a plan needs at least one node");
  int total_ranks = 0;
  for (int k = 0; k < n_nodes; k++) total_ranks += ranks_per_node[k];
  plan->nodes = calloc((size_t)n_nodes, sizeof *plan->nodes);
  plan->order = calloc(n_tasks ? n_tasks : 1, sizeof *plan->order);
  PP_CHECK_GOTO(status, plan->nodes && plan->order, PP_ERR_MEMORY, "out of memory for the plan");
  plan->n_nodes = n_nodes;
  plan->n_tasks = n_tasks;
  plan->baseline_bytes = baseline_bytes;
  /* The plane sink runs on single ranks only (a group's planes are cut into slabs): a job
   * that asks for planes forms no groups. */
  plan->fft_n = job->planes_requested ? 0 : pp_system_padded_size_for_job(job);
  plan->span_nodes = 1;
  pp_plan_order(tasks, n_tasks, plan->order);

  /* The model depends on the number of task takers (kept slices) and ranks (reduction
   * band); start from all ranks and settle on the count the budgets allow. */
  int workers_guess = total_ranks;
  for (int round = 0; round < 3; round++) {
    PP_CALL_GOTO(status, pp_plan_task_model(job, choice, workers_guess, total_ranks,
                                            threads_per_rank, &plan->task));
    int active_total = 0, workers_total = 0;
    for (int k = 0; k < n_nodes; k++) {
      pp_plan_node *node = &plan->nodes[k];
      node->ranks = ranks_per_node[k];
      node->budget_bytes = budget_bytes_per_node[k];
      PP_CALL_GOTO(status, pp_plan_node_choose(job, &plan->task, plan->fft_n, baseline_bytes, node));
      active_total += node->active;
      workers_total += node->workers;
    }
    /* across nodes only when one node is not enough anywhere */
    if (workers_total == 0)
      PP_CALL_GOTO(status, pp_plan_span_nodes(job, plan, baseline_bytes, &active_total,
                                              &workers_total));
    plan->active_total = active_total;
    plan->workers_total = workers_total;
    if (workers_total == 0 || workers_total == workers_guess) break;
    workers_guess = workers_total;
  }
  if (plan->active_total == 0) {
    size_t best = 0;
    for (int k = 0; k < n_nodes; k++)
      if (plan->nodes[k].budget_bytes > plan->nodes[best].budget_bytes) best = (size_t)k;
    const pp_plan_node *node = &plan->nodes[best];
    /* the other transform, when it needs less memory */
    const pp_system_choice *c = &plan->task.choice;
    const pp_system_candidate *other = c->method == PP_METHOD_CZT ? &c->mft : &c->czt;
    char other_method[160] = "";
    if (other->bytes < pp_plan_chosen(c)->bytes)
      snprintf(other_method, sizeof other_method, ", or use propagation.method: %s (%.1f MiB less)",
               pp_method_name(other->method),
               pp_mebibytes(pp_plan_chosen(c)->bytes - other->bytes));
    /* what the largest group of the node would have needed, or why there is none */
    char groups[320] = "";
    size_t fft_n = plan->fft_n, group_bytes = 0;
    if (fft_n > 0 && fft_n % 2 != 0)
      snprintf(groups, sizeof groups, "; rank groups (FFTW-MPI) cannot share the padded "
               "%zu × %zu plane: its size npix·fft_oversample is odd", fft_n, fft_n);
    else if (fft_n > 0 && node->ranks >= 2 && n_nodes == 1 &&
             pp_plan_group_task_bytes(job, &plan->task, node->ranks, &group_bytes) == PP_SUCCESS)
      snprintf(groups, sizeof groups, "; a group of all %d ranks of the node sharing the padded "
               "%zu × %zu plane (FFTW-MPI) needs %.1f MiB per rank (+ %.1f MiB per process) of "
               "a %.1f MiB share", node->ranks, fft_n, fft_n, pp_mebibytes(group_bytes),
               pp_mebibytes(baseline_bytes),
               pp_mebibytes(node->budget_bytes / (size_t)node->ranks));
    else if (fft_n > 0 && total_ranks >= 2 &&
             pp_plan_group_task_bytes(job, &plan->task, total_ranks, &group_bytes) == PP_SUCCESS)
      snprintf(groups, sizeof groups, "; a group of all %d ranks of the %d nodes sharing the "
               "padded %zu × %zu plane (FFTW-MPI) needs %.1f MiB per rank (+ %.1f MiB per "
               "process) of node %zu's %.1f MiB share", total_ranks, n_nodes, fft_n, fft_n,
               pp_mebibytes(group_bytes), pp_mebibytes(baseline_bytes), best,
               pp_mebibytes(node->budget_bytes / (size_t)node->ranks));
    char planes[320] = "";
    if (plan->task.plane_bytes > 0)
      snprintf(planes, sizeof planes,
               ". Needed %zu bytes (one task and the processes), available %zu: "
               "output.planes adds %.1f MiB (%zu bytes) to the task; ask for fewer or smaller "
               "planes, or plane_quantity: intensity (a job asking for planes forms no rank "
               "groups)",
               plan->task.task_bytes + (size_t)node->ranks * baseline_bytes, node->budget_bytes,
               pp_mebibytes(plan->task.plane_bytes), plan->task.plane_bytes);
    PP_CHECK_GOTO(status, false, PP_ERR_INPUT,
                  "one wavelength needs %.1f MiB on one rank (+ %.1f MiB per process for "
                  "%d process(es) on the node) but the largest node budget is %.1f MiB%s. "
                  "Give each node more memory (sbatch --mem, --mem-per-node), run fewer "
                  "ranks per node, or lower detector.oversample or pupil.npix%s%s",
                  pp_mebibytes(plan->task.task_bytes), pp_mebibytes(baseline_bytes),
                  node->ranks, pp_mebibytes(node->budget_bytes), groups, other_method, planes);
  }
  /* a group's task is predicted to take what a single rank's takes: conservative, since
   * the group shares the padded FFTs but not the transform to the detector */
  size_t waves = (n_tasks + (size_t)plan->workers_total - 1) / (size_t)plan->workers_total;
  plan->seconds_estimate = (double)waves * plan->task.seconds;
  return PP_SUCCESS;
done:
  pp_plan_destroy(plan);
  return status;
}

void pp_plan_destroy(pp_plan *plan) {
  if (!plan) return;
  free(plan->nodes);
  free(plan->order);
  plan->nodes = NULL;
  plan->order = NULL;
}

/* One line per candidate transform and one for the choice. */
static void pp_plan_log_choice(const pp_system_choice *c, const pp_job *job,
                               const pp_logger *logger) {
  if (job->mode == PP_PROPAGATION_FRESNEL) { /* one way only: the Fresnel system's FFTs */
    pp_log(logger, PP_LOG_INFO,
           "plan:   fresnel %8.3f ms per wavelength (nominal 1 GFLOP/s), %zu² padded array "
           "(FFTW rigor %s), %.3g GFLOP, system %.1f MiB",
           c->mft.seconds * 1e3, c->n_in_y, pp_fft_rigor_name(job->fft_rigor),
           c->mft.flops * 1e-9, pp_mebibytes(c->mft.bytes));
    return;
  }
  const pp_system_candidate *candidates[2] = {&c->mft, &c->czt};
  for (int k = 0; k < 2; k++) {
    const pp_system_candidate *candidate = candidates[k];
    bool czt = candidate->method == PP_METHOD_CZT;
    char what[96];
    if (czt) snprintf(what, sizeof what, "chirp-z, FFTW rigor %s", pp_fft_rigor_name(job->fft_rigor));
    else snprintf(what, sizeof what, "%s-input MFT", c->complex_field ? "complex" : "real");
    pp_log(logger, PP_LOG_INFO,
           "plan:   %s %8.3f ms per wavelength (%s), %.3g GFLOP, system %.1f MiB%s",
           pp_method_name(candidate->method), candidate->seconds * 1e3, what,
           candidate->flops * 1e-9, pp_mebibytes(candidate->bytes),
           candidate->method == c->method ? "  <- chosen" : "");
  }
  const pp_system_candidate *chosen = pp_plan_chosen(c);
  const pp_system_candidate *other = c->method == PP_METHOD_CZT ? &c->mft : &c->czt;
  if (c->requested == PP_METHOD_AUTO)
    pp_log(logger, PP_LOG_INFO,
           "plan: method auto chose %s: predicted %.2f× faster per wavelength than %s",
           pp_method_name(c->method), chosen->seconds > 0.0 ? other->seconds / chosen->seconds : 0.0,
           pp_method_name(other->method));
  else
    pp_log(logger, PP_LOG_INFO, "plan: method %s, as the job asks (auto would choose %s)",
           pp_method_name(c->method),
           c->czt.seconds < c->mft.seconds ? "czt" : "mft");
}

/* What a rank of a group of each size up to the largest node would need, so that a budget
 * can be chosen for a grouping (only for an even padded plane). */
static void pp_plan_log_groups(const pp_plan *plan, const pp_job *job, const pp_logger *logger) {
  int largest = 0;
  for (int k = 0; k < plan->n_nodes; k++)
    if (plan->nodes[k].ranks > largest) largest = plan->nodes[k].ranks;
  if (plan->fft_n == 0 || plan->fft_n % 2 != 0 || largest < 2) return;
  char line[1024];
  int len = snprintf(line, sizeof line, "plan: FFTW-MPI rank groups sharing the padded %zu × %zu "
                     "planes would need per rank:", plan->fft_n, plan->fft_n);
  for (int g = 2; g <= largest && len > 0 && (size_t)len < sizeof line; g++) {
    size_t bytes = 0;
    pp_status status = pp_plan_group_task_bytes(job, &plan->task, g, &bytes);
    if (status) {
      pp_status_free(status);
      return;
    }
    len += snprintf(line + len, sizeof line - (size_t)len, "%s group of %d: %.1f MiB",
                    g > 2 ? ";" : "", g, pp_mebibytes(bytes));
  }
  pp_log(logger, PP_LOG_INFO, "%s (+ %.1f MiB per process)", line,
         pp_mebibytes(plan->baseline_bytes));
}

void pp_plan_log(const pp_plan *plan, const pp_job *job, const pp_logger *logger) {
  const pp_task_model *t = &plan->task;
  char planes[48] = "";
  if (t->n_planes > 0)
    snprintf(planes, sizeof planes, ", planes %.1f", pp_mebibytes(t->plane_bytes));
  pp_log(logger, PP_LOG_INFO,
         "plan: %zu task(s) (one per %s), pupil %zu px, detector %zu × %zu px "
         "(oversample %d), method %s; pupil → detector transform, predicted by the cost model:",
         plan->n_tasks, job->n_field_points > 0 ? "field point and wavelength" : "wavelength",
         job->pupil_npix,
         t->choice.n_out_y, t->choice.n_out_x,
         job->detector.oversample, pp_method_name(job->method));
  pp_plan_log_choice(&t->choice, job, logger);
  char coronagraph[1200];
  if (pp_system_coronagraph_summary(job, coronagraph, sizeof coronagraph))
    pp_log(logger, PP_LOG_INFO, "plan: %s", coronagraph);
  pp_log(logger, PP_LOG_INFO,
         "plan: one task needs %.1f MiB (system %.1f, %zu slice(s) %.1f, reduction %.1f, "
         "BLAS %.1f%s) + %.1f MiB per process",
         pp_mebibytes(t->task_bytes), pp_mebibytes(t->system_bytes), t->held_slices,
         pp_mebibytes(t->held_slices * t->slice_bytes), pp_mebibytes(t->reduction_bytes),
         pp_mebibytes(t->blas_bytes), planes, pp_mebibytes(plan->baseline_bytes));
  pp_plan_log_groups(plan, job, logger);
  if (t->n_planes > 0)
    pp_log(logger, PP_LOG_INFO,
           "plan: output.planes: %zu plane dataset(s) (%s) add %.1f MiB to the output file "
           "and a %.1f MiB conversion buffer to each computing rank (counted above)",
           t->n_planes, pp_plane_quantity_name(job->plane_quantity),
           pp_mebibytes(t->plane_file_bytes), pp_mebibytes(t->plane_bytes));
  for (int k = 0; k < plan->n_nodes; k++) {
    const pp_plan_node *node = &plan->nodes[k];
    pp_log(logger, node->active < node->ranks ? PP_LOG_WARN : PP_LOG_INFO,
           "plan: node %d: %d of %d rank(s) active, expected peak %.1f MiB of a %.1f MiB "
           "budget%s",
           k, node->active, node->ranks, pp_mebibytes(node->peak_bytes),
           pp_mebibytes(node->budget_bytes),
           node->active < node->ranks ? " (memory limits the ranks)" : "");
    if (node->group_ranks > 1 && plan->span_nodes == 1)
      pp_log(logger, PP_LOG_INFO,
             "plan: node %d: %d group(s) of %d rank(s) (FFTW-MPI, N = %zu), per rank %.1f MiB "
             "+ %.1f MiB per process of a %.1f MiB share",
             k, node->workers, node->group_ranks, plan->fft_n,
             pp_mebibytes(node->rank_task_bytes), pp_mebibytes(plan->baseline_bytes),
             pp_mebibytes(node->budget_bytes / (size_t)node->ranks));
    if (node->group_ranks > 1 && plan->span_nodes > 1)
      pp_log(logger, PP_LOG_INFO,
             "plan: node %d: in group %d of %d rank(s) across %d node(s) (FFTW-MPI, N = %zu), "
             "per rank %.1f MiB + %.1f MiB per process of a %.1f MiB share",
             k, k / plan->span_nodes, node->group_ranks, plan->span_nodes, plan->fft_n,
             pp_mebibytes(node->rank_task_bytes), pp_mebibytes(plan->baseline_bytes),
             pp_mebibytes(node->budget_bytes / (size_t)node->ranks));
  }
  pp_log(logger, PP_LOG_INFO,
         "plan: %d rank(s) compute (%d task(s) at a time); estimated %.3g s per task (the "
         "transform), %.3g s in all",
         plan->active_total, plan->workers_total, t->seconds, plan->seconds_estimate);
}
