/* A run's propagation set-up: which pupil → detector transform every rank uses, and FFTW
 * wisdom shared so that every rank makes the same FFTW plans.
 *
 * Determinism. The choice comes from timings (the calibration), and timings differ between
 * ranks and runs; results must not (DESIGN.md: /psf is the same bit for bit for any rank
 * count). So rank 0 alone reads or measures the calibration and chooses, and the other ranks
 * receive its choice as data. The calibration is cached (pp_cost_rates_load), so later runs on
 * the machine read the same rates and make the same choice.
 *
 * FFTW plans made with a measuring rigor depend on timings too. Rank 0 alone measures (it
 * makes the job's FFTW plans once, pp_system_plan_fftw: the chirp-z's and those of image
 * planes), then every rank, rank 0 included, replaces
 * its wisdom with rank 0's text: every planner then finds the same solutions, whichever rank
 * computes which wavelength. With FFTW_ESTIMATE and no wisdom file the plans are FFTW's
 * deterministic heuristics anyway; the wisdom still goes out (a few kB) so that one path serves
 * every case. FFTW's wisdom is process-wide state (FFTW's, not polypsf's). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/sched.h"

static void pp_propagation_log_rates(const pp_cost_load_report *report, const pp_logger *logger) {
  if (report->from_cache) {
    pp_log(logger, PP_LOG_INFO, "calibration: read %s", report->path);
  } else if (report->written) {
    pp_log(logger, PP_LOG_INFO, "calibration: measured this machine in %.2f s (%s); written to %s",
           report->measure_seconds, report->reason, report->path);
  } else {
    pp_log(logger, PP_LOG_WARN, "calibration: measured this machine in %.2f s; not kept: %s",
           report->measure_seconds, report->reason);
  }
}

pp_status pp_propagation_choose(const pp_job *job, const pp_propagation_options *options,
                                const pp_logger *logger, pp_system_choice *choice) {
  PP_CHECK(job != NULL && choice != NULL, PP_ERR_INTERNAL,
           "pp_propagation_choose needs a job and a choice");
  static const pp_propagation_options defaults = {0};
  if (!options) options = &defaults;
  pp_cost_rates rates;
  pp_cost_load_report report;
  PP_CALL(pp_cost_rates_load(options->calibration_path, options->recalibrate, &rates, &report));
  pp_propagation_log_rates(&report, logger);
  char advice[512];
  if (pp_blas_kernel_advice(advice, sizeof advice)) pp_log(logger, PP_LOG_WARN, "%s", advice);
  /* The first choice gives the transform's shape; the chirp-z lengths it needs are then
   * measured (once per machine: they join the cache) and the choice is made again on them. */
  PP_CALL(pp_system_choose(job, &rates, choice));
  if (job->mode == PP_PROPAGATION_FRESNEL) return PP_SUCCESS; /* no chirp-z to measure */
  size_t added = 0;
  double start = pp_wtime();
  PP_CALL(pp_cost_rates_cover(&rates, choice->n_in_y, choice->n_in_x, choice->n_out_y,
                              choice->n_out_x, &added));
  if (added > 0) {
    PP_CALL(pp_system_choose(job, &rates, choice));
    pp_status write = report.path[0] ? pp_cost_rates_write(report.path, &rates) : PP_SUCCESS;
    pp_log(logger, write ? PP_LOG_WARN : PP_LOG_INFO,
           "calibration: measured %zu chirp-z length(s) this job needs in %.3f s%s%s%s", added,
           pp_wtime() - start, report.path[0] && !write ? "; added to " : "",
           report.path[0] && !write ? report.path : "",
           write ? pp_status_message(write) : "");
    pp_status_free(write);
  }
  return PP_SUCCESS;
}

/* Rank 0's part: the choice, the wisdom file, measured plans; then its wisdom as text. */
static pp_status pp_propagation_root(const pp_job *job, const pp_propagation_options *options,
                                     const pp_logger *logger, pp_system_choice *choice,
                                     char **wisdom) {
  /* Calibration first: its plans are FFTW_ESTIMATE ones and should time what FFTW picks by
   * itself, not what a wisdom file says. */
  PP_CALL(pp_propagation_choose(job, options, logger, choice));
  if (options->wisdom_path) {
    bool imported = false;
    PP_CALL(pp_fft_wisdom_import(options->wisdom_path, &imported));
    pp_log(logger, PP_LOG_INFO,
           imported ? "wisdom: imported %s; every rank plans from it"
                    : "wisdom: no file %s yet: FFTW plans afresh, and the file is written after "
                      "planning",
           options->wisdom_path);
  }
  if (job->fft_rigor != PP_FFT_ESTIMATE) {
    /* every FFTW plan a system of this job makes (the chirp-z, image planes' padded FFTs);
     * nothing for an MFT without image planes */
    double start = pp_wtime();
    PP_CALL(pp_system_plan_fftw(job, choice->method));
    pp_log(logger, PP_LOG_INFO,
           "wisdom: rank 0 made the job's FFTW plans with rigor %s in %.2f s; the other ranks "
           "reuse them",
           pp_fft_rigor_name(job->fft_rigor), pp_wtime() - start);
  }
  PP_CALL(pp_fft_wisdom_export_string(wisdom));
  return PP_SUCCESS;
}

pp_status pp_propagation_setup(const pp_job *job, const pp_propagation_options *options,
                               MPI_Comm comm, const pp_logger *logger, pp_system_choice *choice) {
  static const pp_propagation_options defaults = {0};
  if (!options) options = &defaults;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  *choice = (pp_system_choice){0};
  char *wisdom = NULL;
  pp_status local = rank == 0 ? pp_propagation_root(job, options, logger, choice, &wisdom)
                              : PP_SUCCESS;
  pp_status status = pp_agree(comm, local);
  if (status != PP_SUCCESS) {
    free(wisdom);
    return status;
  }
  /* Plain data, the same binary on every rank: the bytes are the choice. */
  unsigned long long wisdom_bytes = wisdom ? strlen(wisdom) + 1 : 0;
  int ok = MPI_Bcast(choice, (int)sizeof *choice, MPI_BYTE, 0, comm) == MPI_SUCCESS &&
           MPI_Bcast(&wisdom_bytes, 1, MPI_UNSIGNED_LONG_LONG, 0, comm) == MPI_SUCCESS;
  if (ok && wisdom_bytes > INT_MAX) ok = 0; /* the same on every rank: wisdom is a few kB */
  if (ok && rank != 0) {
    wisdom = malloc(wisdom_bytes);
    local = wisdom ? PP_SUCCESS
                   : pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__, __func__,
                                    "cannot allocate %llu bytes for FFTW wisdom", wisdom_bytes);
  }
  if (!ok) {
    free(wisdom);
    pp_status_free(local);
    PP_CHECK(false, PP_ERR_MPI, "broadcasting the transform choice and FFTW wisdom failed");
  }
  status = pp_agree(comm, local);
  if (status == PP_SUCCESS) {
    if (MPI_Bcast(wisdom, (int)wisdom_bytes, MPI_CHAR, 0, comm) != MPI_SUCCESS)
      local = pp_error_raise(PP_ERR_MPI, __FILE__, __LINE__, __func__,
                             "broadcasting FFTW wisdom failed");
    else
      local = pp_fft_wisdom_replace_from_string(wisdom);
    status = pp_agree(comm, local);
  }
  free(wisdom);
  return status;
}

pp_status pp_propagation_save_wisdom(const pp_propagation_options *options, MPI_Comm comm,
                                     const pp_logger *logger) {
  if (!options || !options->wisdom_path) return PP_SUCCESS;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  pp_status local = PP_SUCCESS;
  if (rank == 0) {
    local = pp_fft_wisdom_export(options->wisdom_path);
    if (local == PP_SUCCESS) pp_log(logger, PP_LOG_INFO, "wisdom: written to %s", options->wisdom_path);
  }
  return pp_agree(comm, local);
}
