/* polypsf sched: running a job — which rank computes which wavelength, in what order,
 * and how the results reach the output file. */
#ifndef POLYPSF_SCHED_H
#define POLYPSF_SCHED_H

#include <mpi.h>
#include <signal.h>

#include "polypsf/core.h"
#include "polypsf/job.h"
#include "polypsf/system.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a run sets up its propagation: the calibration the transform is chosen from, and FFTW
 * wisdom. All zero: the default cache, no wisdom file. */
typedef struct pp_propagation_options {
  const char *calibration_path; /* --calibration: NULL = pp_cost_default_path */
  bool recalibrate;             /* --recalibrate: measure even when the cache is valid */
  const char *wisdom_path;      /* --wisdom: imported before planning, exported after; NULL = none */
} pp_propagation_options;

typedef struct pp_run_options {
  const char *output_path;   /* overrides job->output_path when not NULL */
  bool force;                /* replace an existing output file */
  bool resume;               /* continue OUT.partial of a stopped run (needs the cube) */
  size_t mem_per_node_bytes; /* --mem-per-node: caps every node's memory; 0 = not given */
  double checkpoint_seconds; /* about this often all ranks meet and mark finished slices
                                completed on disk (what --resume continues from); 0 =
                                after every task of each rank */
  pp_propagation_options propagation;
  int threads_per_rank;      /* --threads-per-rank: FFTW and OpenBLAS threads of each rank;
                                0 = the job's propagation.threads_per_rank (absent there too:
                                the process's threading is left as it is) */
  const pp_logger *logger;   /* may be NULL: silent */
  /* The caller's stop request, e.g. set by its SIGTERM handler (Slurm's time-limit warning);
   * NULL = never. Once nonzero on any rank, that rank takes no further task (the one in hand
   * is finished), every rank stops at the end of the wave, the finished slices are marked
   * completed and <path>.partial is kept (with a cube), and pp_run returns PP_ERR_STOPPED. */
  const volatile sig_atomic_t *stop_requested;
} pp_run_options;

typedef struct pp_run_summary {
  size_t n_wavelengths;
  double seconds;            /* wall time of the whole run */
  double psf_sum, psf_peak;  /* of /psf */
  size_t n_computed;         /* wavelengths computed by this run (fewer when resuming) */
  int n_ranks, n_nodes, n_active;
  char output_path[4096];
} pp_run_summary;

/* Computes every wavelength of job and writes the output file. Collective on comm:
 * every rank returns the same status; on failure no output file is left behind and
 * an existing one is untouched. A run stopped by options->stop_requested returns
 * PP_ERR_STOPPED and, with a cube, leaves <path>.partial for options->resume. With a
 * thread count (options, else the job) it sets FFTW's and OpenBLAS's threads of the process
 * (pp_threads_set) before any planning; every rank must ask for the same count (PP_ERR_INPUT
 * otherwise), since they share FFTW wisdom. Threads never call MPI: MPI_THREAD_FUNNELED is
 * enough. The run works on a duplicate of comm that returns MPI errors (a failed MPI call is
 * a PP_ERR_MPI status naming its call site), so comm's own error handler is never used. */
pp_status pp_run(const pp_job *job, const pp_run_options *options, MPI_Comm comm,
                 pp_run_summary *summary);
/* The thread count a run uses: options' when set, else the job's; 0 when neither says. Not
 * collective. */
int pp_run_threads_per_rank(const pp_job *job, const pp_run_options *options);

/* ---- node memory ------------------------------------------------------------------ */
/* Where a limit on a node's memory can come from; the budget is the smallest present. */
typedef enum {
  PP_MEM_AVAILABLE = 0,   /* MemAvailable in /proc/meminfo */
  PP_MEM_CGROUP,          /* cgroup v2 memory.max or v1 memory.limit_in_bytes */
  PP_MEM_SLURM_PER_NODE,  /* SLURM_MEM_PER_NODE (MiB) */
  PP_MEM_SLURM_PER_CPU,   /* SLURM_MEM_PER_CPU (MiB) × CPUs on the node */
  PP_MEM_OVERRIDE,        /* --mem-per-node */
  PP_MEM_N_SOURCES
} pp_memory_source;

typedef struct pp_node_memory {
  bool present[PP_MEM_N_SOURCES];
  size_t bytes[PP_MEM_N_SOURCES];
  char cgroup_file[1024];     /* the file the cgroup limit was read from */
  pp_memory_source limiting; /* the source that set limit_bytes */
  size_t limit_bytes;        /* smallest present source */
  size_t reserve_bytes;      /* kept back for the OS and model error: max(64 MiB, 5 %) */
  size_t budget_bytes;       /* limit − reserve: what polypsf plans to use on the node */
} pp_node_memory;

/* Where the probe looks; tests point it at fake trees. */
typedef struct pp_memory_probe_config {
  const char *proc_root;     /* "/proc" */
  const char *cgroup_root;   /* "/sys/fs/cgroup" */
  size_t override_bytes;     /* --mem-per-node, 0 when not given */
  int cpus_on_node;          /* for SLURM_MEM_PER_CPU when SLURM_CPUS_ON_NODE is unset */
  bool override_only;        /* with override_bytes: ignore this machine's own limits
                                (`polypsf plan` sizing a cluster node from a login node) */
} pp_memory_probe_config;

/* Reads every source of a memory limit for this node (files and environment).
 * Not collective: call on one rank per node. */
pp_status pp_sched_node_memory(const pp_memory_probe_config *config, pp_node_memory *memory);
const char *pp_memory_source_name(pp_memory_source source);
/* Parses a size as Slurm writes them: "512M", "64G", "1.5T", "2048K"; a bare number is
 * MiB (Slurm's unit). Suffixes are binary (K = 1024). */
pp_status pp_parse_bytes(const char *text, size_t *bytes);

/* ---- node CPUs (node_cpus.c) ------------------------------------------------------------- */
/* Where a limit on a node's CPUs can come from; the node has the smallest present. */
typedef enum {
  PP_CPU_ONLINE = 0,  /* sysconf(_SC_NPROCESSORS_ONLN) */
  PP_CPU_CGROUP,      /* the cgroup's cpuset (v2 cpuset.cpus.effective, v1 effective_cpus) */
  PP_CPU_SLURM,       /* SLURM_CPUS_ON_NODE */
  PP_CPU_N_SOURCES
} pp_cpu_source;

typedef struct pp_node_cpus {
  bool present[PP_CPU_N_SOURCES];
  int count[PP_CPU_N_SOURCES];
  pp_cpu_source limiting;  /* the source that set available */
  int available;           /* CPUs the node's ranks × threads may use: smallest present (≥ 1) */
  int affinity;            /* CPUs this process may run on (sched_getaffinity; mpirun's binding
                              narrows it); 0 when unknown */
} pp_node_cpus;

typedef struct pp_cpu_probe_config {
  const char *proc_root;   /* "/proc" */
  const char *cgroup_root; /* "/sys/fs/cgroup" */
} pp_cpu_probe_config;

/* Reads every source of a limit on this node's CPUs (config NULL: the real files) and this
 * process's affinity. PP_ERR_INPUT for a malformed SLURM_CPUS_ON_NODE. Not collective. */
pp_status pp_sched_node_cpus(const pp_cpu_probe_config *config, pp_node_cpus *cpus);
const char *pp_cpu_source_name(pp_cpu_source source);
/* Counts the CPUs of a Linux CPU list ("0-3,8,10-11", a trailing newline allowed);
 * PP_ERR_INPUT when text is not one. */
pp_status pp_parse_cpu_list(const char *text, int *count);

/* ---- plan: the memory and cost model, and how many ranks per node compute ---------- */
/* Memory one process holds before any array: MPI, HDF5, OpenBLAS and the program
 * itself, as measured on Debian 12 with Open MPI 4.1 (see docs/performance.md). A run
 * measures its own (peak RSS after set-up) and uses that instead. */
#define PP_PLAN_DEFAULT_BASELINE_BYTES ((size_t)40 << 20)
typedef struct pp_task_model {
  pp_system_choice choice; /* the transform, with both candidates' predictions */
  size_t system_bytes;    /* pupil arrays, the chosen transform's plan, scratch */
  size_t slice_bytes;     /* one oversampled PSF slice, float64 */
  size_t held_slices;     /* slices a rank keeps until the reduction (0 when /cube holds them) */
  size_t reduction_bytes; /* the rank's row band of /psf and its read buffer (a grid: and a
                             point's band) */
  size_t blas_bytes;      /* BLAS packing buffers touched by the transform (per BLAS thread) */
  size_t plane_bytes;     /* output.planes: the conversion buffer (the largest plane in the
                             file's element type); planes stream to the file, so only one
                             is held */
  size_t n_planes;        /* output.planes: datasets written */
  size_t plane_file_bytes; /* output.planes: what they add to the output file */
  size_t task_bytes;      /* sum of the above: what one computing rank adds */
  double flops;           /* one wavelength's transform */
  double seconds;         /* one wavelength's transform as the cost model predicts it */
} pp_task_model;

/* One node as the plan sees it. */
typedef struct pp_plan_node {
  int ranks;               /* ranks on the node */
  size_t budget_bytes;     /* pp_node_memory.budget_bytes */
  int active;              /* ranks that compute (the others allocate nothing big) */
  int group_ranks;         /* ranks per task: 1 = single ranks, g > 1 = FFTW-MPI groups of g */
  int workers;             /* task takers: active single ranks, or groups (active ÷ group_ranks);
                              for groups spanning nodes, 1 on a group's first node, else 0 */
  size_t rank_task_bytes;  /* what one computing rank adds: task_bytes, or group_task_bytes */
  size_t peak_bytes;       /* expected: ranks × baseline + active × rank_task_bytes */
} pp_plan_node;

typedef struct pp_plan {
  pp_task_model task;
  size_t baseline_bytes;   /* per process */
  size_t n_tasks;          /* wavelengths to compute */
  int n_nodes;
  pp_plan_node *nodes;     /* [n_nodes] (owned) */
  int active_total;        /* computing ranks */
  int workers_total;       /* task takers: single ranks and groups (what the waves count) */
  int span_nodes;          /* > 1: groups of all ranks of span_nodes consecutive nodes (no node
                              could compute alone); 1: groups, if any, within a node */
  size_t fft_n;            /* N of the padded planes rank groups share (0: none, no groups) */
  size_t *order;           /* [n_tasks] wavelength indices, costliest first (owned) */
  double seconds_estimate; /* whole run: waves of tasks over the active ranks */
} pp_plan;

/* The memory and cost of one wavelength task of job on one rank with the transform choice
 * (NULL: pp_system_choose with the nominal rates), given how many ranks will compute (it sets
 * the reduction band and, without a cube, the slices kept) and the threads of each rank
 * (OpenBLAS packs per thread; threads share the rank's arrays). Not collective. */
pp_status pp_plan_task_model(const pp_job *job, const pp_system_choice *choice, int active_ranks,
                             int total_ranks, int threads_per_rank, pp_task_model *task);
/* What one rank of a group of group_ranks (≥ 2) adds for one task: task's bytes with the
 * system's padded planes cut to the group's slabs (pp_system_group_bytes_for_job).
 * PP_ERR_INPUT when the job has no padded plane. Not collective. */
pp_status pp_plan_group_task_bytes(const pp_job *job, const pp_task_model *task, int group_ranks,
                                   size_t *bytes);
/* Plans a run with the transform choice (NULL: as for pp_plan_task_model) and threads per
 * rank (≥ 1): per node,
 * active = min(ranks, (budget − ranks·baseline) ÷ task_bytes). When that leaves ranks idle
 * and the job has an even padded image plane, groups of g = 2 … ranks on the node sharing one
 * task with FFTW-MPI are tried too (groups = min(ranks ÷ g, room ÷ (g·group_task_bytes(g)))):
 * the node takes the g that keeps the most ranks computing, ties going to the smaller g
 * (single ranks need no communication). Only when no node can compute that way are groups
 * of all the ranks of k consecutive nodes tried (the k that keeps the most ranks computing,
 * ties to the smaller k; every node of a group must hold its ranks' shares).
 * tasks lists the wavelength indices to compute (NULL: all). Refuses with PP_ERR_INPUT,
 * naming needed and available bytes and what to change, when no node can run a task.
 * Not collective; every rank computes the same plan from the same inputs. */
pp_status pp_plan_create(const pp_job *job, const pp_system_choice *choice, int n_nodes,
                         const int *ranks_per_node, int threads_per_rank,
                         const size_t *budget_bytes_per_node, size_t baseline_bytes,
                         const size_t *tasks, size_t n_tasks, pp_plan *plan);
void pp_plan_destroy(pp_plan *plan);
/* Writes the plan as the lines `polypsf plan` prints and `run` logs: the transform (both
 * candidates' predicted time per wavelength and memory, and the choice), memory, ranks, time. */
void pp_plan_log(const pp_plan *plan, const pp_job *job, const pp_logger *logger);

/* What `polypsf plan` asks: the nodes to plan the job for. */
typedef struct pp_plan_request {
  int nodes;                     /* ≥ 1 */
  int ranks_per_node;            /* 0: fill a node like this machine (its CPUs ÷ threads) */
  int threads_per_rank;          /* 0: the job's propagation.threads_per_rank, else 1 */
  size_t mem_per_node_bytes;     /* 0: this machine's memory limit stands for every node's */
  pp_propagation_options propagation; /* the calibration the transform is chosen from */
} pp_plan_request;
/* Plans job for request's nodes without computing and logs the plan to out: the memory
 * budget per node, the transform chosen from this machine's calibration (as a run on it
 * chooses), the per-task memory, the rank groups, and the cores used. Sets this process's
 * FFTW and OpenBLAS threads to the run's. PP_ERR_INPUT as pp_system_check_job and
 * pp_plan_create (a job that fits no node). Not collective: no MPI. */
pp_status pp_plan_report(const pp_job *job, const pp_plan_request *request,
                         const pp_logger *out);

/* ---- propagation: which transform a run uses, FFTW wisdom (transform_setup.c) -------- */
/* The transform for job from this machine's calibration: the rates from the cache (measured
 * and written when missing, corrupt, from another machine, or options->recalibrate), the
 * chirp-z lengths the job needs measured and added to the cache, then pp_system_choose.
 * Logs where the rates came from. Not collective (`polypsf plan`; pp_run calls it on rank 0). */
pp_status pp_propagation_choose(const pp_job *job, const pp_propagation_options *options,
                                const pp_logger *logger, pp_system_choice *choice);
/* Sets up a run's propagation so that every rank computes with the same transform and the same
 * FFTW plans. Rank 0: chooses (pp_propagation_choose), imports options->wisdom_path (a missing
 * file is fine), and with a measuring fft_rigor makes the job's FFTW plans once
 * (pp_system_plan_fftw: chirp-z, image planes); then it broadcasts the choice and its wisdom, and every rank
 * (rank 0 included) replaces its wisdom with that text. Collective on comm: all ranks return
 * the same status. */
pp_status pp_propagation_setup(const pp_job *job, const pp_propagation_options *options,
                               MPI_Comm comm, const pp_logger *logger, pp_system_choice *choice);
/* Rank 0 writes its wisdom to options->wisdom_path (nothing without one), after the ranks have
 * made their plans. Collective on comm: all ranks return the same status. */
pp_status pp_propagation_save_wisdom(const pp_propagation_options *options, MPI_Comm comm,
                                     const pp_logger *logger);

/* ---- node layout: which ranks share a node, and each node's memory ---------------- */
typedef struct pp_node_layout {
  MPI_Comm node_comm;      /* the ranks on this rank's node (MPI_Comm_split_type SHARED) */
  int node_index;          /* 0 .. n_nodes−1, nodes ordered by their lowest rank */
  int node_rank;           /* this rank's index on its node */
  int n_nodes;
  int *ranks_per_node;     /* [n_nodes] (owned) */
  int *node_of_rank;       /* [size of comm] node index of every rank (owned) */
  size_t *budget_bytes;    /* [n_nodes] memory budget of each node (owned) */
  int *cpus_per_node;      /* [n_nodes] CPUs each node's ranks may use (owned) */
  int min_affinity;        /* the fewest CPUs any rank may run on (0: unknown) */
  pp_node_cpus cpus;       /* this node's CPU probe, as read by its first rank */
  pp_node_memory memory;   /* this node's probe, as read by its first rank */
  char hostname[256];      /* this node's name */
} pp_node_layout;

/* Groups the ranks of comm by node; each node's first rank probes its memory (with
 * override_bytes from --mem-per-node when not 0; SLURM_MEM_PER_CPU without
 * SLURM_CPUS_ON_NODE counts the node's ranks × threads_per_rank CPUs) and its CPUs, and every
 * rank learns every node's budget and CPUs. Collective on comm; all ranks return the same
 * status. */
pp_status pp_node_layout_create(MPI_Comm comm, size_t override_bytes, int threads_per_rank,
                                pp_node_layout *layout);
/* The layout `polypsf plan` plans for, without MPI: n_nodes nodes like this machine, each
 * with ranks_per_node ranks (0: its CPUs ÷ threads_per_rank), its memory budget from
 * override_bytes (--mem-per-node) when not 0, else this machine's probe. node_comm is
 * MPI_COMM_NULL and node_of_rank NULL. Not collective. */
pp_status pp_node_layout_planned(int n_nodes, int ranks_per_node, size_t override_bytes,
                                 int threads_per_rank, pp_node_layout *layout);
/* Frees the layout and its communicator. Not collective (MPI_Comm_free is local here). */
void pp_node_layout_destroy(pp_node_layout *layout);
/* Logs each node's memory sources and budget (rank 0 writes; collective on comm because
 * the other nodes' sources are gathered to it). comm MPI_COMM_NULL: a planned layout, one
 * line for its nodes alike, no MPI. */
void pp_node_layout_log(const pp_node_layout *layout, MPI_Comm comm, const pp_logger *logger);
/* Logs the cores each node uses, ranks × threads_per_rank, against its CPUs, and a WARN line
 * per node where that oversubscribes them (threads then take turns on a core: slower, never
 * wrong), and one when a rank may run on fewer CPUs than its threads (mpirun binds each rank
 * to one core by default). Rank 0 writes; not collective (the layout holds what it needs). */
void pp_node_layout_log_cores(const pp_node_layout *layout, int threads_per_rank,
                              const pp_logger *logger);
/* The WARN sentence for ranks × threads on cpus CPUs, into line (size bytes); false, and line
 * empty, when they fit. Shared by `polypsf run` and `polypsf plan`. Not collective. */
bool pp_cores_oversubscribed(int ranks, int threads_per_rank, int cpus, char *line, size_t size);

/* ---- what `run` and `plan` share (plan_steps.c) ---------------------------------- */
/* The count of FFTW and OpenBLAS threads in force in this process after asking for `asked`
 * (set through pp_threads_set when > 0; else what the process has: the larger of FFTW's and
 * OpenBLAS's, ≥ 1), which the calibration and the plan count. The one rule of `run` and
 * `plan`. Not collective. */
pp_status pp_sched_threads_in_force(int asked, int *threads);
/* The plan of job on layout's nodes with the chosen transform (pp_plan_create with the
 * layout's ranks and budgets), logged. The one way `run` and `plan` plan. Not collective. */
pp_status pp_plan_for_layout(const pp_job *job, const pp_system_choice *choice,
                             const pp_node_layout *layout, int threads_per_rank,
                             size_t baseline_bytes, const pp_logger *logger, pp_plan *plan);

/* ---- dispatcher: tasks handed out one at a time, in plan order --------------------- */
typedef struct pp_dispatcher pp_dispatcher;
/* An MPI-3 RMA counter held by rank 0 of comm: each fetch-and-add gives the next task,
 * so fast ranks take more tasks and none waits for a slow one. Collective. */
pp_status pp_dispatcher_create(MPI_Comm comm, size_t n_tasks, pp_dispatcher **dispatcher);
/* The first of the next `count` consecutive positions in plan order (count ≥ 1; every
 * caller of one dispatcher asks for the same count, so runs start at multiples of it), or
 * n_tasks when all are handed out. Not collective (one-sided). */
pp_status pp_dispatcher_next(pp_dispatcher *dispatcher, size_t count, size_t *position);
/* Records one finished task and this rank's peak RSS (bytes). Not collective. */
pp_status pp_dispatcher_done(pp_dispatcher *dispatcher, size_t peak_bytes);
/* Records this rank's peak RSS (bytes) without finishing a task (a group's other ranks).
 * Not collective. */
pp_status pp_dispatcher_record_peak(pp_dispatcher *dispatcher, size_t peak_bytes);
/* Tasks finished so far and the peak RSS each rank reported (peaks[size], may be NULL).
 * Not collective. */
pp_status pp_dispatcher_progress(pp_dispatcher *dispatcher, size_t *done, size_t *peaks);
/* Frees the window. Collective. */
void pp_dispatcher_destroy(pp_dispatcher **dispatcher);

#ifdef __cplusplus
}
#endif
#endif
