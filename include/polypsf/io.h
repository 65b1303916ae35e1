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

/* Written as the root attributes format_name and format_version; a reader that finds
 * another name or a higher version refuses the file. */
#define PP_OUTPUT_FORMAT_NAME "polypsf-psf"
#define PP_OUTPUT_FORMAT_VERSION 1

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
 * dataset and attribute. Collective on comm: all ranks get the same status.
 *   path    in: final file name; the file is written as pp_output_temp_path(path) meanwhile.
 *           Refused (PP_ERR_INPUT) when it exists and !force, when it is a directory, or
 *           when its directory does not exist or is not writable. A stale temporary file
 *           from an earlier run is overwritten.
 *   meta    in: the same values on every rank (checked: ranks that disagree get
 *           PP_ERR_INTERNAL); meta->job gives wavelengths, weights, detector, text.
 *   force   in: allow replacing an existing file; it is replaced only at a successful
 *           pp_output_close, so a failed run leaves it as it was.
 *   output  out: the open output on success, NULL on error.
 * On success the file's structure (every dataset, attribute, /wavelengths, /weights and
 * the zeroed /status/completed) is already flushed to disk. */
pp_status pp_output_create(const char *path, const pp_output_meta *meta, bool force,
                           MPI_Comm comm, pp_output **output);
/* Writes monochromatic slice `index` (when the cube is on) and its provenance row, then
 * marks /status/completed[index]. Not collective (independent I/O): only the rank that
 * computed the slice calls.
 *   psf     in: ny × nx values, row-major (y, x); ignored (may be NULL) without a cube.
 *   record  in: the provenance row for this slice.
 * Nothing is flushed here (H5Fflush is collective): the bytes reach the file system in
 * order (slice, row, flag) and reach storage at pp_output_sync or pp_output_close. */
pp_status pp_output_write_slice(pp_output *output, size_t index, const double *psf,
                                const pp_task_record *record);
/* Writes rows [row0, row0+nrows) of /psf (and of /psf_detector when detector_rows is not
 * NULL: rows [row0/os, (row0+nrows)/os)). Collective: every rank calls, with nrows 0 when
 * it has no rows. row0 and nrows must be multiples of os where detector_rows is given.
 *   psf_rows       in: nrows × nx values; may be NULL when nrows is 0.
 *   detector_rows  in: nrows/os × nx/os values, or NULL. If any rank passes detector rows
 *                  /psf_detector is written collectively, NULL ranks taking part with an
 *                  empty selection. */
pp_status pp_output_write_psf_rows(pp_output *output, size_t row0, size_t nrows,
                                   const double *psf_rows, const double *detector_rows);
/* Checkpoint: flushes HDF5's metadata and syncs every rank's written bytes to storage
 * (H5Fflush → MPI_File_sync), so every slice whose completed flag was set before the call
 * survives even a node crash. Collective. */
pp_status pp_output_sync(pp_output *output);
/* Closes the file. With success, renames it to its final name; without, removes the
 * temporary file. Collective. Sets *output to NULL (accepts *output == NULL).
 * `success` is combined over ranks (any false → false on all). With success the file is
 * flushed and synced, every HDF5 object closed, then rank 0 renames (atomic: rename(2)
 * with force; link(2)+unlink(2) without, so a file that appeared at the final name during
 * the run is never overwritten: then the result stays at the temporary name and
 * PP_ERR_IO says so). Every rank returns after the rename. Returns PP_SUCCESS for
 * success == false when the cleanup itself worked. */
pp_status pp_output_close(pp_output **output, bool success);

/* Temporary name used while writing (path + ".partial"), into buf of size bytes.
 * Not collective. */
pp_status pp_output_temp_path(const char *path, char *buf, size_t size);

/* ---- reading (serial: HDF5's default driver, no MPI needed) ------------------------ */
/* Reads a whole numeric dataset (e.g. "/psf", "/cube", "/status/completed") converted to
 * float64. Not collective.
 *   data   out: allocated with pp_array_alloc; free with pp_array_free(data).
 *   dims   out: extents, slowest first; unused entries set to 1.
 *   ndims  out: 1 to 3 (datasets of higher rank are refused). */
pp_status pp_output_read_dataset(const char *path, const char *name, double **data,
                                 size_t dims[3], int *ndims);
/* Reads /provenance/tasks. records out: malloc'ed, free() it; count out: rows. Not
 * collective. */
pp_status pp_output_read_tasks(const char *path, pp_task_record **records, size_t *count);
/* Reads a string attribute (fixed or variable length) of `object` ("/" for the root, or a
 * dataset path). value out: malloc'ed and NUL-terminated, free() it. Not collective. */
pp_status pp_output_read_string_attribute(const char *path, const char *object,
                                          const char *name, char **value);
/* Reads a numeric scalar attribute converted to double. Not collective. */
pp_status pp_output_read_number_attribute(const char *path, const char *object,
                                          const char *name, double *value);

#ifdef __cplusplus
}
#endif
#endif
