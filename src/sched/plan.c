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
  size_t ny = job->detector.fov_pixels_y * (size_t)job->detector.oversample;
  size_t nx = job->detector.fov_pixels_x * (size_t)job->detector.oversample;
  task->slice_bytes = ny * nx * sizeof(double);
  /* Without a cube the slices stay in memory until the reduction; tasks go out
   * dynamically, so allow one more than an even share. */
  size_t n = job->n_wavelengths, share = (n + (size_t)active_ranks - 1) / (size_t)active_ranks;
  task->held_slices = job->output_cube ? 1 : share + 1;
  /* The reduction holds a row band of /psf (plus one read buffer) on every rank. */
  size_t det_ny = job->detector.fov_pixels_y, band_det_rows = (det_ny + (size_t)total_ranks - 1) / (size_t)total_ranks;
  task->reduction_bytes = 2 * band_det_rows * (size_t)job->detector.oversample * nx * sizeof(double);
  /* only the MFT runs BLAS products (FFTW's own tables are O(L), negligible, and its threads
   * work on the rank's arrays) */
  task->blas_bytes =
      task->choice.method == PP_METHOD_MFT ? (size_t)threads_per_rank * pp_plan_blas_bytes : 0;
  task->task_bytes = task->system_bytes + task->held_slices * task->slice_bytes +
                     task->reduction_bytes + task->blas_bytes;
  task->flops = chosen->flops;
  task->seconds = chosen->seconds;
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
  pp_plan_order(tasks, n_tasks, plan->order);

  /* The model depends on the number of computing ranks (reduction band, kept slices);
   * start from all ranks and settle on the count the budgets allow. */
  int active_guess = total_ranks;
  for (int round = 0; round < 3; round++) {
    PP_CALL_GOTO(status, pp_plan_task_model(job, choice, active_guess, total_ranks,
                                            threads_per_rank, &plan->task));
    int active_total = 0;
    for (int k = 0; k < n_nodes; k++) {
      pp_plan_node *node = &plan->nodes[k];
      node->ranks = ranks_per_node[k];
      node->budget_bytes = budget_bytes_per_node[k];
      size_t fixed = (size_t)node->ranks * baseline_bytes;
      size_t room = node->budget_bytes > fixed ? node->budget_bytes - fixed : 0;
      size_t fits = room / plan->task.task_bytes;
      node->active = fits < (size_t)node->ranks ? (int)fits : node->ranks;
      node->peak_bytes = fixed + (size_t)node->active * plan->task.task_bytes;
      active_total += node->active;
    }
    plan->active_total = active_total;
    if (active_total == 0 || active_total == active_guess) break;
    active_guess = active_total;
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
    PP_CHECK_GOTO(status, false, PP_ERR_INPUT,
                  "one wavelength needs %.1f MiB on one rank (+ %.1f MiB per process for "
                  "%d process(es) on the node) but the largest node budget is %.1f MiB. "
                  "Give each node more memory (sbatch --mem, --mem-per-node), run fewer "
                  "ranks per node, or lower detector.oversample or pupil.npix%s",
                  pp_mebibytes(plan->task.task_bytes), pp_mebibytes(baseline_bytes),
                  node->ranks, pp_mebibytes(node->budget_bytes), other_method);
  }
  size_t waves = (n_tasks + (size_t)plan->active_total - 1) / (size_t)plan->active_total;
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

void pp_plan_log(const pp_plan *plan, const pp_job *job, const pp_logger *logger) {
  const pp_task_model *t = &plan->task;
  pp_log(logger, PP_LOG_INFO,
         "plan: %zu task(s) (one per wavelength), pupil %zu px, detector %zu × %zu px "
         "(oversample %d), method %s; pupil → detector transform, predicted by the cost model:",
         plan->n_tasks, job->pupil_npix,
         job->detector.fov_pixels_y * (size_t)job->detector.oversample,
         job->detector.fov_pixels_x * (size_t)job->detector.oversample,
         job->detector.oversample, pp_method_name(job->method));
  pp_plan_log_choice(&t->choice, job, logger);
  pp_log(logger, PP_LOG_INFO,
         "plan: one task needs %.1f MiB (system %.1f, %zu slice(s) %.1f, reduction %.1f, "
         "BLAS %.1f) + %.1f MiB per process",
         pp_mebibytes(t->task_bytes), pp_mebibytes(t->system_bytes), t->held_slices,
         pp_mebibytes(t->held_slices * t->slice_bytes), pp_mebibytes(t->reduction_bytes),
         pp_mebibytes(t->blas_bytes), pp_mebibytes(plan->baseline_bytes));
  for (int k = 0; k < plan->n_nodes; k++) {
    const pp_plan_node *node = &plan->nodes[k];
    pp_log(logger, node->active < node->ranks ? PP_LOG_WARN : PP_LOG_INFO,
           "plan: node %d: %d of %d rank(s) active, expected peak %.1f MiB of a %.1f MiB "
           "budget%s",
           k, node->active, node->ranks, pp_mebibytes(node->peak_bytes),
           pp_mebibytes(node->budget_bytes),
           node->active < node->ranks ? " (memory limits the ranks)" : "");
  }
  pp_log(logger, PP_LOG_INFO,
         "plan: %d rank(s) compute; estimated %.3g s per task (the transform), %.3g s in all",
         plan->active_total, t->seconds, plan->seconds_estimate);
}
