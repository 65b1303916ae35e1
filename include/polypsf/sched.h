/* polypsf sched: running a job — which rank computes which wavelength, in what order,
 * and how the results reach the output file. */
#ifndef POLYPSF_SCHED_H
#define POLYPSF_SCHED_H

#include <mpi.h>

#include "polypsf/core.h"
#include "polypsf/job.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_run_options {
  const char *output_path;   /* overrides job->output_path when not NULL */
  bool force;                /* replace an existing output file */
  const pp_logger *logger;   /* may be NULL: silent */
} pp_run_options;

typedef struct pp_run_summary {
  size_t n_wavelengths;
  double seconds;            /* wall time of the whole run */
  double psf_sum, psf_peak;  /* of /psf */
  int n_ranks;
  char output_path[4096];
} pp_run_summary;

/* Computes every wavelength of job and writes the output file. Collective on comm:
 * every rank returns the same status; on failure no output file is left behind and
 * an existing one is untouched. */
pp_status pp_run(const pp_job *job, const pp_run_options *options, MPI_Comm comm,
                 pp_run_summary *summary);

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
} pp_memory_probe_config;

/* Reads every source of a memory limit for this node (files and environment).
 * Not collective: call on one rank per node. */
pp_status pp_sched_node_memory(const pp_memory_probe_config *config, pp_node_memory *memory);
const char *pp_memory_source_name(pp_memory_source source);
/* Parses a size as Slurm writes them: "512M", "64G", "1.5T", "2048K"; a bare number is
 * MiB (Slurm's unit). Suffixes are binary (K = 1024). */
pp_status pp_parse_bytes(const char *text, size_t *bytes);

#ifdef __cplusplus
}
#endif
#endif
