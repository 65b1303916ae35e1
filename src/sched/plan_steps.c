/* The steps `polypsf run` (run.c) and `polypsf plan` (plan_report.c) share, so that a plan
 * printed on a login node is the plan the run makes: the threads asked for, the threads in
 * force, and the plan of a layout of nodes. */
#include "polypsf/propagate.h"
#include "polypsf/sched.h"

int pp_run_threads_per_rank(const pp_job *job, const pp_run_options *options) {
  if (options && options->threads_per_rank > 0) return options->threads_per_rank;
  return job ? job->threads_per_rank : 0;
}

pp_status pp_sched_threads_in_force(int asked, int *threads) {
  if (asked > 0) PP_CALL(pp_threads_set(asked));
  /* Without a count FFTW plans on one thread and OpenBLAS keeps what the process chose
   * (OPENBLAS_NUM_THREADS): the plan counts the larger of the two. */
  int fftw_threads = pp_threads_fftw(), blas_threads = pp_threads_blas();
  *threads = asked > 0 ? asked : (fftw_threads > blas_threads ? fftw_threads : blas_threads);
  if (*threads < 1) *threads = 1;
  return PP_SUCCESS;
}

pp_status pp_plan_for_layout(const pp_job *job, const pp_system_choice *choice,
                             const pp_node_layout *layout, int threads_per_rank,
                             size_t baseline_bytes, const pp_logger *logger, pp_plan *plan) {
  PP_CALL(pp_plan_create(job, choice, layout->n_nodes, layout->ranks_per_node, threads_per_rank,
                         layout->budget_bytes, baseline_bytes, NULL, job->n_wavelengths, plan));
  pp_plan_log(plan, job, logger);
  return PP_SUCCESS;
}
