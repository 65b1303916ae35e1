/* polypsf io: the output file (HDF5 opened by all ranks through MPI-IO), laid out as
 * docs/output-format.md says: /psf, /psf_detector, /cube, /wavelengths, /weights,
 * /status/completed, /provenance/tasks and root attributes.
 *
 * A run writes to a temporary name beside the final one and renames on success, so a
 * reader never sees a half-written file under the final name. */
#ifndef POLYPSF_IO_H
#define POLYPSF_IO_H

#include <mpi.h>

#include "polypsf/core.h"
#include "polypsf/job.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_output pp_output;

/* What the file describes besides the job. */
typedef struct pp_output_meta {
  const pp_job *job;
  size_t ny, nx;                      /* /psf shape (oversampled detector pixels) */
  double pixelscale_arcsec;           /* /psf pixel (arcsec) */
  double pupil_diameter_m;            /* pupil array width (metres) */
  int n_ranks, n_nodes;
} pp_output_meta;

/* One row of /provenance/tasks. */
typedef struct pp_task_record {
  int rank, node;
  int method;                         /* pp_method actually used */
  double seconds;
  double peak_bytes;                  /* the rank's peak RSS after the task (bytes) */
} pp_task_record;

/* Refuses an existing `path` unless force; creates the temporary file and every
 * dataset and attribute. Collective on comm: all ranks get the same status. */
pp_status pp_output_create(const char *path, const pp_output_meta *meta, bool force,
                           MPI_Comm comm, pp_output **output);
/* Writes monochromatic slice `index` (when the cube is on) and its provenance row, then
 * marks /status/completed[index]. Independent: only the rank that computed it calls. */
pp_status pp_output_write_slice(pp_output *output, size_t index, const double *psf,
                                const pp_task_record *record);
/* Writes rows [row0, row0+nrows) of /psf (and of /psf_detector when detector_rows is not
 * NULL: rows [row0/os, (row0+nrows)/os)). Collective: every rank calls, with nrows 0 when
 * it has no rows. */
pp_status pp_output_write_psf_rows(pp_output *output, size_t row0, size_t nrows,
                                   const double *psf_rows, const double *detector_rows);
/* Closes the file. With success, renames it to its final name; without, removes the
 * temporary file. Collective. Sets *output to NULL. */
pp_status pp_output_close(pp_output **output, bool success);

/* Temporary name used while writing (path + ".partial"), into buf of size bytes. */
pp_status pp_output_temp_path(const char *path, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
