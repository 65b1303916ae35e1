/* `polypsf plan`: the plan of a job for nodes like this machine (or as the request says),
 * without MPI and without computing: the checks, the threading, this node's CPUs and memory
 * budget, the transform's choice from the calibration, and the plan, all logged. The CLI
 * only parses the options and makes the logger. */
#include <stdlib.h>

#include "polypsf/propagate.h"
#include "polypsf/sched.h"

pp_status pp_plan_report(const pp_job *job, const pp_plan_request *request,
                         const pp_logger *out) {
  PP_CHECK(job != NULL && request != NULL && out != NULL && request->nodes >= 1,
           PP_ERR_INTERNAL, "pp_plan_report needs a job, a request of at least one node and a "
           "logger");
  pp_status status = PP_SUCCESS;
  int *ranks = NULL;
  size_t *budgets = NULL;
  pp_plan plan = {0};
  pp_system_choice choice;
  double diameter_m = 0.0;
  PP_CALL(pp_system_check_job(job, &diameter_m));
  pp_run_options threading = {.threads_per_rank = request->threads_per_rank};
  int threads = pp_run_threads_per_rank(job, &threading);
  /* the run's threading, so that the calibration (keyed by BLAS threads) and the predictions
   * are the run's */
  if (threads > 0) PP_CALL(pp_threads_set(threads));
  else threads = 1;
  pp_node_cpus cpus;
  PP_CALL(pp_sched_node_cpus(NULL, &cpus));
  /* by default the node is filled: its CPUs ÷ threads ranks */
  int ranks_per_node = request->ranks_per_node > 0
                           ? request->ranks_per_node
                           : (cpus.available / threads > 0 ? cpus.available / threads : 1);
  /* --mem-per-node describes the nodes being planned for, not this machine. */
  pp_memory_probe_config config = {.override_bytes = request->mem_per_node_bytes,
                                   .cpus_on_node = ranks_per_node * threads,
                                   .override_only = true};
  pp_node_memory memory;
  PP_CALL(pp_sched_node_memory(&config, &memory));
  ranks = malloc((size_t)request->nodes * sizeof *ranks);
  budgets = malloc((size_t)request->nodes * sizeof *budgets);
  PP_CHECK_GOTO(status, ranks && budgets, PP_ERR_MEMORY, "out of memory");
  for (int k = 0; k < request->nodes; k++) {
    ranks[k] = ranks_per_node;
    budgets[k] = memory.budget_bytes;
  }
  pp_log(out, PP_LOG_INFO,
         "memory per node: budget %.0f MiB = limit %.0f MiB (%s) − reserve %.0f MiB",
         (double)memory.budget_bytes / 1048576.0, (double)memory.limit_bytes / 1048576.0,
         pp_memory_source_name(memory.limiting), (double)memory.reserve_bytes / 1048576.0);
  /* The transform is chosen from this machine's calibration: plan on a node of the kind the
   * job will run on (or give its calibration file). */
  PP_CALL_GOTO(status, pp_propagation_choose(job, &request->propagation, out, &choice));
  PP_CALL_GOTO(status, pp_plan_create(job, &choice, request->nodes, ranks, threads, budgets,
                                      PP_PLAN_DEFAULT_BASELINE_BYTES, NULL, job->n_wavelengths,
                                      &plan));
  pp_plan_log(&plan, job, out);
  char warning[384];
  /* without --ranks-per-node the nodes are taken to be like this machine */
  if (pp_cores_oversubscribed(ranks_per_node, threads, cpus.available, warning, sizeof warning))
    pp_log(out, PP_LOG_WARN, "cores (a node like this one, %d CPU(s)): %s", cpus.available,
           warning);
  else
    pp_log(out, PP_LOG_INFO, "cores per node: %d rank(s) × %d thread(s) = %d of %d CPU(s) "
           "(a node like this one)", ranks_per_node, threads, ranks_per_node * threads,
           cpus.available);
done:
  pp_plan_destroy(&plan);
  free(ranks);
  free(budgets);
  return status;
}
