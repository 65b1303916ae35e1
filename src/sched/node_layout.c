/* Which ranks share a node and how much memory each node may use. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/sched.h"

static double pp_mebibytes(size_t bytes) { return (double)bytes / 1048576.0; }

pp_status pp_node_layout_create(MPI_Comm comm, size_t override_bytes, int threads_per_rank,
                                pp_node_layout *layout) {
  pp_status status = PP_SUCCESS;
  *layout = (pp_node_layout){.node_comm = MPI_COMM_NULL};
  int rank = 0, size = 1, node_size = 1;
  MPI_Comm leaders = MPI_COMM_NULL;
  int *node_of_rank = NULL;
  unsigned long long *budget_of_rank = NULL;
  int *cpus_of_rank = NULL;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  PP_CALL(pp_comm_split_shared(comm, rank, &layout->node_comm));
  /* Emulated nodes, so that multi-node plans (rank groups across nodes) can be run on one
   * machine: POLYPSF_RANKS_PER_NODE=n cuts every node into nodes of n consecutive ranks,
   * each probing the same memory. Meant for tests; unset, the nodes are the real ones. */
  const char *emulate = getenv("POLYPSF_RANKS_PER_NODE");
  char *end = NULL;
  long per_node = emulate ? strtol(emulate, &end, 10) : 0;
  bool bad = emulate && (end == emulate || *end != '\0' || per_node < 1 || per_node > 1 << 20);
  pp_status emulation =
      bad ? pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                           "POLYPSF_RANKS_PER_NODE must be a positive integer on every rank, got "
                           "'%s' on rank %d",
                           emulate, rank)
          : PP_SUCCESS;
  status = pp_agree(comm, emulation);
  if (status != PP_SUCCESS) goto done;
  if (emulate) {
    MPI_Comm emulated = MPI_COMM_NULL;
    MPI_Comm_rank(layout->node_comm, &layout->node_rank);
    PP_CALL_GOTO(status, pp_comm_split(layout->node_comm, layout->node_rank / (int)per_node,
                                       layout->node_rank, &emulated));
    MPI_Comm_free(&layout->node_comm);
    layout->node_comm = emulated;
  }
  MPI_Comm_rank(layout->node_comm, &layout->node_rank);
  MPI_Comm_size(layout->node_comm, &node_size);
  if (gethostname(layout->hostname, sizeof layout->hostname - 1) != 0)
    snprintf(layout->hostname, sizeof layout->hostname, "unknown");

  /* The node's first ranks, ordered by world rank, number the nodes. */
  PP_CALL_GOTO(status,
               pp_comm_split(comm, layout->node_rank == 0 ? 0 : MPI_UNDEFINED, rank, &leaders));
  if (layout->node_rank == 0) MPI_Comm_rank(leaders, &layout->node_index);
  if (leaders != MPI_COMM_NULL) MPI_Comm_free(&leaders);
  PP_MPI_CHECK_GOTO(status, MPI_Bcast(&layout->node_index, 1, MPI_INT, 0, layout->node_comm),
                    "cannot share the node's number with its ranks");

  /* One probe per node: its first rank reads the files; failure is agreed on by all. */
  pp_status probe = PP_SUCCESS;
  if (layout->node_rank == 0) {
    /* each rank's threads hold a CPU of the allocation, as Slurm counts --cpus-per-task */
    int cpus_on_node = node_size * (threads_per_rank > 1 ? threads_per_rank : 1);
    pp_memory_probe_config config = {.override_bytes = override_bytes,
                                      .cpus_on_node = cpus_on_node};
    probe = pp_sched_node_memory(&config, &layout->memory);
    if (!probe) probe = pp_sched_node_cpus(NULL, &layout->cpus);
  }
  status = pp_agree(comm, probe);
  if (status != PP_SUCCESS) goto done;
  PP_MPI_CHECK_GOTO(status,
                    MPI_Bcast(&layout->memory, (int)sizeof layout->memory, MPI_BYTE, 0,
                              layout->node_comm),
                    "cannot share the node's memory limits with its ranks");
  /* The node's CPUs as its first rank read them; the affinity is every rank's own. */
  int my_affinity = 0;
  {
    pp_node_cpus mine;
    pp_status own = pp_sched_node_cpus(NULL, &mine);
    if (!own) my_affinity = mine.affinity;
    pp_status_free(own); /* the leader's probe already checked the environment */
  }
  PP_MPI_CHECK_GOTO(status,
                    MPI_Bcast(&layout->cpus, (int)sizeof layout->cpus, MPI_BYTE, 0,
                              layout->node_comm),
                    "cannot share the node's CPUs with its ranks");
  layout->cpus.affinity = my_affinity;
  int affinity_or_max = my_affinity > 0 ? my_affinity : INT_MAX;
  MPI_Allreduce(&affinity_or_max, &layout->min_affinity, 1, MPI_INT, MPI_MIN, comm);
  if (layout->min_affinity == INT_MAX) layout->min_affinity = 0;

  node_of_rank = malloc((size_t)size * sizeof *node_of_rank);
  budget_of_rank = malloc((size_t)size * sizeof *budget_of_rank);
  cpus_of_rank = malloc((size_t)size * sizeof *cpus_of_rank);
  PP_CHECK_GOTO(status, node_of_rank && budget_of_rank && cpus_of_rank, PP_ERR_MEMORY,
                "out of memory");
  unsigned long long my_budget = layout->memory.budget_bytes;
  MPI_Allgather(&layout->node_index, 1, MPI_INT, node_of_rank, 1, MPI_INT, comm);
  MPI_Allgather(&my_budget, 1, MPI_UNSIGNED_LONG_LONG, budget_of_rank, 1,
                MPI_UNSIGNED_LONG_LONG, comm);
  MPI_Allgather(&layout->cpus.available, 1, MPI_INT, cpus_of_rank, 1, MPI_INT, comm);
  for (int r = 0; r < size; r++)
    if (node_of_rank[r] + 1 > layout->n_nodes) layout->n_nodes = node_of_rank[r] + 1;
  layout->ranks_per_node = calloc((size_t)layout->n_nodes, sizeof *layout->ranks_per_node);
  layout->budget_bytes = calloc((size_t)layout->n_nodes, sizeof *layout->budget_bytes);
  layout->cpus_per_node = calloc((size_t)layout->n_nodes, sizeof *layout->cpus_per_node);
  PP_CHECK_GOTO(status, layout->ranks_per_node && layout->budget_bytes && layout->cpus_per_node,
                PP_ERR_MEMORY, "out of memory");
  for (int r = 0; r < size; r++) {
    layout->ranks_per_node[node_of_rank[r]]++;
    layout->budget_bytes[node_of_rank[r]] = (size_t)budget_of_rank[r];
    layout->cpus_per_node[node_of_rank[r]] = cpus_of_rank[r];
  }
done:
  layout->node_of_rank = node_of_rank; /* kept: progress lines sum peaks per node */
  node_of_rank = NULL;
  free(budget_of_rank);
  free(cpus_of_rank);
  if (status) pp_node_layout_destroy(layout);
  return status;
}

pp_status pp_node_layout_planned(int n_nodes, int ranks_per_node, size_t override_bytes,
                                 int threads_per_rank, pp_node_layout *layout) {
  pp_status status = PP_SUCCESS;
  *layout = (pp_node_layout){.node_comm = MPI_COMM_NULL, .n_nodes = n_nodes};
  PP_CHECK(n_nodes >= 1 && threads_per_rank >= 1, PP_ERR_INTERNAL,
           "a planned layout needs at least one node and one thread per rank");
  PP_CALL(pp_sched_node_cpus(NULL, &layout->cpus));
  /* by default a node is filled: its CPUs ÷ threads ranks */
  if (ranks_per_node <= 0)
    ranks_per_node = layout->cpus.available / threads_per_rank > 0
                         ? layout->cpus.available / threads_per_rank
                         : 1;
  /* --mem-per-node describes the nodes planned for, not this machine: it alone counts */
  pp_memory_probe_config config = {.override_bytes = override_bytes,
                                   .cpus_on_node = ranks_per_node * threads_per_rank,
                                   .override_only = true};
  PP_CALL(pp_sched_node_memory(&config, &layout->memory));
  if (gethostname(layout->hostname, sizeof layout->hostname - 1) != 0)
    snprintf(layout->hostname, sizeof layout->hostname, "unknown");
  layout->min_affinity = layout->cpus.affinity;
  layout->ranks_per_node = malloc((size_t)n_nodes * sizeof *layout->ranks_per_node);
  layout->budget_bytes = malloc((size_t)n_nodes * sizeof *layout->budget_bytes);
  layout->cpus_per_node = malloc((size_t)n_nodes * sizeof *layout->cpus_per_node);
  PP_CHECK_GOTO(status, layout->ranks_per_node && layout->budget_bytes && layout->cpus_per_node,
                PP_ERR_MEMORY, "out of memory");
  for (int k = 0; k < n_nodes; k++) {
    layout->ranks_per_node[k] = ranks_per_node;
    layout->budget_bytes[k] = layout->memory.budget_bytes;
    layout->cpus_per_node[k] = layout->cpus.available;
  }
done:
  if (status) pp_node_layout_destroy(layout);
  return status;
}

void pp_node_layout_destroy(pp_node_layout *layout) {
  if (!layout) return;
  if (layout->node_comm != MPI_COMM_NULL) MPI_Comm_free(&layout->node_comm);
  free(layout->ranks_per_node);
  free(layout->budget_bytes);
  free(layout->cpus_per_node);
  free(layout->node_of_rank);
  layout->cpus_per_node = NULL;
  layout->node_of_rank = NULL;
  layout->ranks_per_node = NULL;
  layout->budget_bytes = NULL;
}

/* One line per node, after its label: every source found, the limit, the reserve, the
 * budget. */
static void pp_node_memory_line(const pp_node_memory *m, const char *label, char *line,
                                size_t size) {
  int len = snprintf(line, size, "%s: budget %.0f MiB = limit %.0f MiB (%s) − "
                     "reserve %.0f MiB; sources:",
                     label, pp_mebibytes(m->budget_bytes),
                     pp_mebibytes(m->limit_bytes), pp_memory_source_name(m->limiting),
                     pp_mebibytes(m->reserve_bytes));
  for (int s = 0; s < PP_MEM_N_SOURCES && len > 0 && (size_t)len < size; s++) {
    if (m->present[s])
      len += snprintf(line + len, size - (size_t)len, " %s %.0f MiB",
                      pp_memory_source_name((pp_memory_source)s), pp_mebibytes(m->bytes[s]));
    else
      len += snprintf(line + len, size - (size_t)len, " %s none",
                      pp_memory_source_name((pp_memory_source)s));
  }
}

void pp_node_layout_log(const pp_node_layout *layout, MPI_Comm comm, const pp_logger *logger) {
  enum { LINE_BYTES = 768 };
  char line[LINE_BYTES];
  char label[320];
  if (comm == MPI_COMM_NULL) {
    /* a planned layout: every node is taken to be like this one */
    snprintf(label, sizeof label, "memory per node (%d node(s) like %s)", layout->n_nodes,
             layout->hostname);
    pp_node_memory_line(&layout->memory, label, line, sizeof line);
    pp_log(logger, PP_LOG_INFO, "%s", line);
    return;
  }
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  snprintf(label, sizeof label, "node %d (%s)", layout->node_index, layout->hostname);
  pp_node_memory_line(&layout->memory, label, line, sizeof line);
  /* The node's ranks (world ranks), so that a log shows where each rank ran: the placement
   * the launcher (mpirun, srun) chose, compared with it by tests/slurm/two_nodes.sh. */
  size_t used = strlen(line);
  if (layout->node_of_rank && used + 16 < sizeof line) {
    int size = 1;
    MPI_Comm_size(comm, &size);
    used += (size_t)snprintf(line + used, sizeof line - used, "; ranks");
    for (int r = 0; r < size && used + 16 < sizeof line; r++)
      if (layout->node_of_rank[r] == layout->node_index)
        used += (size_t)snprintf(line + used, sizeof line - used, " %d", r);
  }
  /* Node leaders send their line to rank 0, which prints them in node order. */
  int is_leader = layout->node_rank == 0;
  if (rank == 0) {
    pp_log(logger, PP_LOG_INFO, "%s", line);
    for (int k = 1; k < layout->n_nodes; k++) {
      char other[LINE_BYTES];
      MPI_Recv(other, LINE_BYTES, MPI_CHAR, MPI_ANY_SOURCE, 100 + k, comm, MPI_STATUS_IGNORE);
      pp_log(logger, PP_LOG_INFO, "%s", other);
    }
  } else if (is_leader) {
    MPI_Send(line, LINE_BYTES, MPI_CHAR, 0, 100 + layout->node_index, comm);
  }
}

bool pp_cores_oversubscribed(int ranks, int threads_per_rank, int cpus, char *line, size_t size) {
  long cores = (long)ranks * threads_per_rank;
  if (size > 0) line[0] = '\0';
  if (cores <= cpus) return false;
  /* Advice that fits the case: fewer ranks only when there are several, fewer threads only
   * when there are several. */
  int cpus_at_least_1 = cpus > 0 ? cpus : 1;
  int threads_that_fit = ranks > 0 && cpus / ranks > 0 ? cpus / ranks : 1;
  int ranks_that_fit = cpus / threads_per_rank > 0 ? cpus / threads_per_rank : 1;
  char advice[160];
  if (ranks > cpus_at_least_1)
    snprintf(advice, sizeof advice, "use at most %d rank(s) per node%s", cpus_at_least_1,
             threads_per_rank > 1 ? " with --threads-per-rank 1" : "");
  else if (ranks <= 1)
    snprintf(advice, sizeof advice, "use --threads-per-rank %d", threads_that_fit);
  else
    snprintf(advice, sizeof advice, "use --threads-per-rank %d, or at most %d rank(s) per node",
             threads_that_fit, ranks_that_fit);
  snprintf(line, size,
           "%d rank(s) × %d thread(s) = %ld cores on a node with %d CPU(s): oversubscribed, "
           "threads will take turns (slower, same result); %s",
           ranks, threads_per_rank, cores, cpus, advice);
  return true;
}

void pp_node_layout_log_cores(const pp_node_layout *layout, int threads_per_rank,
                              const pp_logger *logger) {
  const pp_node_cpus *c = &layout->cpus;
  pp_log(logger, PP_LOG_INFO,
         "cores: %d thread(s) per rank (FFTW and OpenBLAS); node %d (%s) CPUs %d (%s); sources: "
         "online %d, cpuset %d, SLURM_CPUS_ON_NODE %d (0: none)",
         threads_per_rank, layout->node_index, layout->hostname, c->available,
         pp_cpu_source_name(c->limiting), c->count[PP_CPU_ONLINE], c->count[PP_CPU_CGROUP],
         c->count[PP_CPU_SLURM]);
  /* a planned layout's nodes are all alike: one line says it for each */
  bool planned = layout->node_comm == MPI_COMM_NULL;
  for (int k = 0; k < (planned ? 1 : layout->n_nodes); k++) {
    char line[384], node[32];
    snprintf(node, sizeof node, planned ? "each node" : "node %d", k);
    bool over = pp_cores_oversubscribed(layout->ranks_per_node[k], threads_per_rank,
                                        layout->cpus_per_node[k], line, sizeof line);
    if (over) pp_log(logger, PP_LOG_WARN, "cores: %s: %s", node, line);
    else
      pp_log(logger, PP_LOG_INFO, "cores: %s: %d rank(s) × %d thread(s) = %d of %d CPU(s)",
             node, layout->ranks_per_node[k], threads_per_rank,
             layout->ranks_per_node[k] * threads_per_rank, layout->cpus_per_node[k]);
  }
  if (threads_per_rank > 1 && layout->min_affinity > 0 &&
      layout->min_affinity < threads_per_rank)
    pp_log(logger, PP_LOG_WARN,
           "cores: a rank may run on only %d CPU(s) but has %d threads: they share them "
           "(mpirun binds each rank to one core by default; use --bind-to none or "
           "--map-by slot:PE=%d)",
           layout->min_affinity, threads_per_rank, threads_per_rank);
}
