/* Running a job over the ranks of a communicator.
 *
 * Wavelength i is computed by rank i mod size (a static hand-out; the memory-aware
 * scheduler replaces it). Each rank writes its own cube slices, then the polychromatic
 * PSF is reduced by row bands: for each wavelength in order, its owner scatters the
 * slice's rows to the band owners, who add w_i·slice. Every pixel therefore sees the
 * same additions in the same order whatever the rank count, so /psf is bit-identical
 * for any number of ranks. */
#include <stdlib.h>
#include <string.h>

#include "polypsf/io.h"
#include "polypsf/sched.h"
#include "polypsf/system.h"

/* Detector rows [det_row0, det_row0 + det_nrows) of the band owned by `rank`: detector
 * rows split as evenly as possible, so oversampled bands align with rebinning blocks. */
static void pp_run_band(size_t det_ny, int size, int rank, size_t *det_row0, size_t *det_nrows) {
  size_t base = det_ny / (size_t)size, extra = det_ny % (size_t)size, r = (size_t)rank;
  *det_row0 = r * base + (r < extra ? r : extra);
  *det_nrows = base + (r < extra ? 1 : 0);
}

/* Every rank learns whether any rank failed; a failed rank's status is kept, the others
 * get a short error naming the stage. */
static pp_status pp_run_agree(pp_status local, MPI_Comm comm, const char *stage) {
  int failed = local != PP_SUCCESS, any_failed = 0;
  if (MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
    MPI_Abort(comm, 1); /* agreement itself failed: no rank can know what the others do */
  if (local != PP_SUCCESS || !any_failed) return local;
  return pp_error_raise(PP_ERR_MPI, __FILE__, __LINE__, __func__,
                        "another rank failed during %s (its message is in the log)", stage);
}

pp_status pp_run(const pp_job *job, const pp_run_options *options, MPI_Comm comm,
                 pp_run_summary *summary) {
  pp_status status = PP_SUCCESS;
  const pp_logger *log = options->logger;
  pp_system *system = NULL;
  pp_output *output = NULL;
  double *slices = NULL, *band = NULL, *band_detector = NULL, *receive = NULL;
  int *counts = NULL, *displs = NULL;
  double start_seconds = pp_wtime();
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const char *path = options->output_path ? options->output_path : job->output_path;
  size_t n_lambda = job->n_wavelengths;

  /* Stage 1: build the optical system on every rank (plans once, reused for each λ). */
  status = pp_run_agree(pp_system_create(job, &system), comm, "set-up");
  if (status) goto done;
  size_t ny = 0, nx = 0;
  pp_system_psf_shape(system, &ny, &nx);
  size_t slice_len = ny * nx;
  int os = job->detector.oversample;
  size_t n_own = 0;
  for (size_t i = (size_t)rank; i < n_lambda; i += (size_t)size) n_own++;
  pp_log(log, PP_LOG_INFO,
         "job %s: %zu wavelength(s) %.4g–%.4g m, pupil %zu px (%.4g m), detector %zu × %zu px "
         "(oversample %d), method mft, %d rank(s)",
         job->source_name ? job->source_name : "(text)", n_lambda, job->wavelengths_m[0],
         job->wavelengths_m[n_lambda - 1], job->pupil_npix, pp_system_pupil_diameter_m(system),
         ny, nx, os, size);
  pp_log(log, PP_LOG_INFO, "memory per rank: %.1f MiB for the system, %.1f MiB for slices",
         (double)pp_system_bytes(system) / 1048576.0,
         (double)(n_own * slice_len * sizeof(double)) / 1048576.0);

  /* Stage 2: open the output (collective; refuses an existing file without --force). */
  pp_output_meta meta = {.job = job, .ny = ny, .nx = nx,
                         .pixelscale_arcsec = pp_system_pixelscale_arcsec(system),
                         .pupil_diameter_m = pp_system_pupil_diameter_m(system),
                         .n_ranks = size, .n_nodes = 1};
  PP_CALL_GOTO(status, pp_output_create(path, &meta, options->force, comm, &output));

  /* Stage 3: compute this rank's wavelengths; no collective calls in here, so a failure
   * on one rank is agreed on right after. */
  pp_status local = pp_array_alloc((n_own ? n_own : 1) * slice_len * sizeof(double),
                                   (void **)&slices);
  for (size_t k = 0, i = (size_t)rank; local == PP_SUCCESS && i < n_lambda;
       k++, i += (size_t)size) {
    double t0 = pp_wtime();
    double *psf = slices + k * slice_len;
    local = pp_system_psf(system, job->wavelengths_m[i], psf);
    if (local) break;
    pp_task_record record = {.rank = rank, .node = 0, .method = PP_METHOD_MFT,
                             .seconds = pp_wtime() - t0,
                             .peak_bytes = (double)pp_peak_rss_bytes()};
    local = pp_output_write_slice(output, i, psf, &record);
    pp_log(log, PP_LOG_INFO, "wavelength %zu/%zu (%.5g m) done in %.3f s", i + 1, n_lambda,
           job->wavelengths_m[i], record.seconds);
  }
  status = pp_run_agree(local, comm, "the wavelength computations");
  if (status) goto done;

  /* Stage 4: deterministic row-band reduction in wavelength order. */
  size_t det_ny = ny / (size_t)os, det_nx = nx / (size_t)os;
  size_t det_row0 = 0, det_nrows = 0;
  pp_run_band(det_ny, size, rank, &det_row0, &det_nrows);
  size_t band_len = det_nrows * (size_t)os * nx;
  local = pp_array_alloc((band_len ? band_len : 1) * sizeof(double), (void **)&band);
  if (!local)
    local = pp_array_alloc((band_len ? band_len : 1) * sizeof(double), (void **)&receive);
  if (!local)
    local = pp_array_alloc((det_nrows * det_nx + 1) * sizeof(double), (void **)&band_detector);
  counts = calloc((size_t)size, sizeof *counts);
  displs = calloc((size_t)size, sizeof *displs);
  if (!local && (!counts || !displs))
    local = pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__, __func__, "out of memory");
  status = pp_run_agree(local, comm, "the reduction set-up");
  if (status) goto done;
  for (int r = 0; r < size; r++) {
    size_t r0 = 0, rn = 0;
    pp_run_band(det_ny, size, r, &r0, &rn);
    PP_CHECK_GOTO(status, rn * (size_t)os * nx <= (size_t)__INT_MAX__, PP_ERR_INTERNAL,
                  "a row band of %zu values is too large for one MPI message",
                  rn * (size_t)os * nx);
    counts[r] = (int)(rn * (size_t)os * nx);
    displs[r] = (int)(r0 * (size_t)os * nx);
  }
  for (size_t i = 0; i < n_lambda; i++) {
    int owner = (int)(i % (size_t)size);
    const double *slice = owner == rank ? slices + (i / (size_t)size) * slice_len : NULL;
    PP_CHECK_GOTO(status,
                  MPI_Scatterv(slice, counts, displs, MPI_DOUBLE, receive, counts[rank],
                               MPI_DOUBLE, owner, comm) == MPI_SUCCESS,
                  PP_ERR_MPI, "MPI_Scatterv of wavelength %zu failed", i);
    double w = job->weights[i];
    for (size_t p = 0; p < band_len; p++) band[p] += w * receive[p];
  }
  PP_CALL_GOTO(status, pp_psf_rebin(band, det_nrows * (size_t)os, nx, os, band_detector));
  PP_CALL_GOTO(status, pp_output_write_psf_rows(output, det_row0 * (size_t)os,
                                                det_nrows * (size_t)os, band, band_detector));

  double local_sum = 0.0, local_peak = 0.0, sums[2] = {0, 0};
  for (size_t p = 0; p < band_len; p++) {
    local_sum += band[p];
    if (band[p] > local_peak) local_peak = band[p];
  }
  MPI_Allreduce(&local_sum, &sums[0], 1, MPI_DOUBLE, MPI_SUM, comm);
  MPI_Allreduce(&local_peak, &sums[1], 1, MPI_DOUBLE, MPI_MAX, comm);

  {
    pp_output *closing = output;
    output = NULL;
    PP_CALL_GOTO(status, pp_output_close(&closing, true));
  }
  if (summary) {
    *summary = (pp_run_summary){.n_wavelengths = n_lambda, .seconds = pp_wtime() - start_seconds,
                                .psf_sum = sums[0], .psf_peak = sums[1], .n_ranks = size};
    snprintf(summary->output_path, sizeof summary->output_path, "%s", path);
  }

done:
  if (output) {
    pp_status close_status = pp_output_close(&output, false);
    pp_status_free(close_status);
  }
  free(counts);
  free(displs);
  pp_array_free(&slices);
  pp_array_free(&band);
  pp_array_free(&receive);
  pp_array_free(&band_detector);
  pp_system_destroy(&system);
  return status;
}
