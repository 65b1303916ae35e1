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

#ifdef __cplusplus
}
#endif
#endif
