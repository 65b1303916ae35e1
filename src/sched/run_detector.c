/* The detector effects of a run: every effect reaches across rows (a Gaussian of a few
 * pixels, the IPC kernel's neighbours), so the row bands the reduction made are gathered
 * into the whole PSF first. The PSF is one image (ny × nx doubles), small beside the cube;
 * every rank filters it alike rather than one rank filtering and scattering, which costs the
 * same time and one collective less. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sched/run_detector.h"

/* The gather and the effects; *kept_whole and *kept_detector (when kept_whole is not NULL
 * and the job keeps the unconvolved PSF) receive the PSF before the effects and its rebinned
 * image, for the caller to write and free. */
static pp_status pp_run_detector_rows(MPI_Comm comm, const pp_job *job,
                                      const pp_geometry *geometry, size_t det_row0,
                                      size_t det_nrows, double *band, double *band_detector,
                                      double **kept_whole, double **kept_detector) {
  pp_status status = PP_SUCCESS;
  int size = 1;
  MPI_Comm_size(comm, &size);
  size_t os = (size_t)geometry->oversample, ny = geometry->psf_ny, nx = geometry->psf_nx;
  size_t det_nx = nx / os, n = ny * nx, det_n = (ny / os) * det_nx;
  double *whole = NULL, *blurred = NULL, *detector = NULL, *unconvolved_detector = NULL;
  int *counts = NULL, *displs = NULL;
  pp_status local = PP_SUCCESS;
  /* MPI counts are int: a PSF beyond 2^31 values cannot be gathered in one call */
  if (n > (size_t)INT_MAX)
    local = pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                           "detector effects need the whole %zu x %zu PSF on each rank; more "
                           "than %d values cannot be gathered", ny, nx, INT_MAX);
  if (!local) local = pp_array_alloc(n * sizeof(double), (void **)&whole);
  if (!local) local = pp_array_alloc(n * sizeof(double), (void **)&blurred);
  if (!local) local = pp_array_alloc((det_n ? det_n : 1) * sizeof(double), (void **)&detector);
  bool keep = kept_whole != NULL && job->keep_unconvolved;
  if (!local && keep)
    local = pp_array_alloc((det_n ? det_n : 1) * sizeof(double), (void **)&unconvolved_detector);
  counts = malloc((size_t)size * sizeof *counts);
  displs = malloc((size_t)size * sizeof *displs);
  if (!local && (!counts || !displs))
    local = pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__, __func__, "out of memory");
  PP_CALL_GOTO(status, pp_agree(comm, local));

  int mine[2] = {(int)(det_row0 * os * nx), (int)(det_nrows * os * nx)};
  int *pairs = malloc(2 * (size_t)size * sizeof *pairs);
  PP_CALL_GOTO(status, pp_agree(comm, pairs ? PP_SUCCESS
                                            : pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__,
                                                             __func__, "out of memory")));
  MPI_Allgather(mine, 2, MPI_INT, pairs, 2, MPI_INT, comm);
  for (int r = 0; r < size; r++) {
    displs[r] = pairs[2 * r];
    counts[r] = pairs[2 * r + 1];
  }
  free(pairs);
  PP_CHECK_GOTO(status,
                MPI_Allgatherv(band, mine[1], MPI_DOUBLE, whole, counts, displs, MPI_DOUBLE,
                               comm) == MPI_SUCCESS,
                PP_ERR_MPI, "MPI_Allgatherv of the PSF's row bands failed");

  local = pp_detector_effects_apply(&job->detector, geometry->psf_pixelscale_arcsec, whole, ny,
                                    nx, blurred, detector);
  if (!local && keep)
    local = pp_psf_rebin(whole, ny, nx, (int)os, unconvolved_detector);
  PP_CALL_GOTO(status, pp_agree(comm, local));
  memcpy(band, blurred + det_row0 * os * nx, det_nrows * os * nx * sizeof *band);
  memcpy(band_detector, detector + det_row0 * det_nx, det_nrows * det_nx * sizeof *band_detector);
  if (keep) {
    *kept_whole = whole;
    *kept_detector = unconvolved_detector;
    whole = unconvolved_detector = NULL;
  }
done:
  pp_array_free(&whole);
  pp_array_free(&blurred);
  pp_array_free(&detector);
  pp_array_free(&unconvolved_detector);
  free(counts);
  free(displs);
  return status;
}

pp_status pp_run_detector_effects(MPI_Comm comm, const pp_job *job, const pp_geometry *geometry,
                                  pp_output *output, size_t det_row0, size_t det_nrows,
                                  double *band, double *band_detector) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  double *whole = NULL, *unconvolved_detector = NULL;
  pp_status status = pp_run_detector_rows(comm, job, geometry, det_row0, det_nrows, band,
                                          band_detector, &whole, &unconvolved_detector);
  if (status == PP_SUCCESS)
    status = pp_output_write_detector_effects(output, &job->detector,
                                              geometry->psf_pixelscale_arcsec,
                                              job->keep_unconvolved, rank == 0 ? whole : NULL,
                                              rank == 0 ? unconvolved_detector : NULL);
  pp_array_free(&whole);
  pp_array_free(&unconvolved_detector);
  return status;
}

pp_status pp_run_detector_effects_rows(MPI_Comm comm, const pp_job *job,
                                       const pp_geometry *geometry, size_t det_row0,
                                       size_t det_nrows, double *band, double *band_detector) {
  return pp_run_detector_rows(comm, job, geometry, det_row0, det_nrows, band, band_detector,
                              NULL, NULL);
}
