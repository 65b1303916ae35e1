/* `polypsf plan`: the plan of a job for nodes like this machine (or as the request says),
 * without MPI and without computing, made the way a run makes it: the checks, the threads
 * in force, a layout of the nodes (their CPUs and memory budgets), the transform's choice
 * from the calibration, and the plan, all logged by the functions the run logs with
 * (plan_steps.c holds what they share). The CLI only parses the options and makes the logger. */
#include <stdlib.h>

#include "polypsf/propagate.h"
#include "polypsf/sched.h"
#include "sched/run_grid.h"

pp_status pp_plan_report(const pp_job *job, const pp_plan_request *request,
                         const pp_logger *out) {
  PP_CHECK(job != NULL && request != NULL && out != NULL && request->nodes >= 1,
           PP_ERR_INTERNAL, "pp_plan_report needs a job, a request of at least one node and a "
           "logger");
  pp_status status = PP_SUCCESS;
  pp_plan plan = {0};
  pp_system_choice choice;
  pp_node_layout layout = {.node_comm = MPI_COMM_NULL};
  double diameter_m = 0.0;
  int threads = 1;
  PP_CALL(pp_system_check_job(job, &diameter_m));
  /* a grid is planned as it runs: one task per (field point, wavelength) */
  pp_grid_run grid;
  bool has_grid = job->n_field_points > 0;
  if (has_grid) {
    PP_CALL(pp_grid_run_init(job, &grid));
    pp_log(out, PP_LOG_INFO, "plan: a PSF grid: %zu task(s) = %zu field point(s) x %zu "
           "wavelength(s)", grid.expanded.n_wavelengths, grid.n_points, grid.n_lambda);
    job = &grid.expanded;
  }
  /* the run's threading, so that the calibration (keyed by BLAS threads) and the predictions
   * are the run's */
  pp_run_options threading = {.threads_per_rank = request->threads_per_rank};
  PP_CALL_GOTO(status, pp_sched_threads_in_force(pp_run_threads_per_rank(job, &threading),
                                                 &threads));
  PP_CALL_GOTO(status, pp_node_layout_planned(request->nodes, request->ranks_per_node,
                                              request->mem_per_node_bytes, threads, &layout));
  pp_node_layout_log(&layout, MPI_COMM_NULL, out);
  /* The transform is chosen from this machine's calibration: plan on a node of the kind the
   * job will run on (or give its calibration file). */
  PP_CALL_GOTO(status, pp_propagation_choose(job, &request->propagation, out, &choice));
  PP_CALL_GOTO(status, pp_plan_for_layout(job, &choice, &layout, threads,
                                          PP_PLAN_DEFAULT_BASELINE_BYTES, out, &plan));
  pp_node_layout_log_cores(&layout, threads, out);
done:
  pp_plan_destroy(&plan);
  pp_node_layout_destroy(&layout);
  if (has_grid) pp_grid_run_release(&grid);
  return status;
}
