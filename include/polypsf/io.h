/* polypsf io: the output file (HDF5 opened by all ranks through MPI-IO), laid out as
 * docs/output-format.md says: /psf, /psf_detector, /cube, /wavelengths, /weights,
 * /status/completed, /provenance/tasks and root attributes.
 *
 * A run writes to a temporary name beside the final one and renames on success, so a
 * reader never sees a half-written file under the final name.
 *
 * The life of a run:
 *   pp_output_create (or pp_output_open_resume for --resume)
 *   → pp_output_write_slice per wavelength, by the rank that computed it
 *   → pp_output_sync at collective points (checkpoints: only then are slices marked completed)
 *   → pp_output_sync, then pp_output_read_cube_rows for i = 0 … nλ−1 (each rank its band),
 *     summed in wavelength order → pp_output_write_psf_rows
 *   → pp_output_close_as(PUBLISH), or KEEP_PARTIAL / DISCARD on failure. */
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
/* Writes monochromatic slice `index` (when the cube is on) and its provenance row, and
 * notes the slice as pending on this rank. Not collective (independent I/O): only the
 * rank that computed the slice calls.
 *   psf     in: ny × nx values, row-major (y, x); ignored (may be NULL) without a cube.
 *   record  in: the provenance row for this slice.
 * /status/completed[index] is NOT set here: it is set by the next pp_output_sync or
 * pp_output_close_as (PUBLISH or KEEP_PARTIAL), after those bytes are synced to storage
 * (H5Fflush is collective, so this call cannot do it). A slice already completed (by an
 * earlier sync, or by the run a resume continues) is refused with PP_ERR_INTERNAL. */
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
/* Checkpoint and commit. Collective: every rank calls, at the same point. Syncs every
 * rank's written bytes to storage (H5Fflush → MPI_File_sync), and only then sets
 * /status/completed for every slice any rank wrote with pp_output_write_slice before the
 * call, and syncs those flags. After it returns PP_SUCCESS:
 *   - each of those slices, its provenance row and its flag are on storage: they survive
 *     a crash of the process or of the machine, and --resume keeps them;
 *   - every rank can read them back with pp_output_read_cube_rows (MPI-IO's
 *     sync-barrier-sync consistency), whichever rank wrote them.
 * At all times, a flag that is 1 in the file means its slice is on storage; slices
 * written after the last sync have flag 0 and are recomputed by a resumed run. */
pp_status pp_output_sync(pp_output *output);

/* Reads rows [row0, row0+nrows) of /cube[index] from the open file: the read-back half of
 * the deterministic reduction. Collective: every rank calls, normally with the same index
 * and its own band; nrows may be 0 (rows may then be NULL). One collective MPI-IO read
 * per call: each rank's band of a slice is one contiguous byte range, which a collective
 * read serves with few large requests where independent reads from many ranks would not.
 *   rows  out: nrows × nx values, row-major.
 * Refused (PP_ERR_INTERNAL, on every rank) when the file has no cube, index is out of
 * range, rows fall outside the slice, or slice index is not completed yet: call
 * pp_output_sync after the last pp_output_write_slice and before reading back. */
pp_status pp_output_read_cube_rows(pp_output *output, size_t index, size_t row0, size_t nrows,
                                   double *rows);
/* What pp_output_close_as does with the temporary file <path>.partial. */
typedef enum {
  /* The run succeeded: commit (as pp_output_sync), close, rename to the final name. */
  PP_OUTPUT_PUBLISH = 0,
  /* The run failed and cannot be resumed: close and remove <path>.partial. */
  PP_OUTPUT_DISCARD = 1,
  /* The run failed or was stopped, and can be resumed: commit every slice written so far
   * (as pp_output_sync), close, and leave <path>.partial for pp_output_open_resume. */
  PP_OUTPUT_KEEP_PARTIAL = 2
} pp_output_close_mode;

/* Closes the file and publishes, discards or keeps it. Collective. Sets *output to NULL
 * (accepts *output == NULL). The mode is combined over ranks: PUBLISH only if every rank
 * says PUBLISH; otherwise KEEP_PARTIAL if any rank says so (keeping never loses a slice);
 * otherwise DISCARD. For PUBLISH the file is committed, synced, every HDF5 object closed,
 * then rank 0 renames (atomic: rename(2) with force; link(2)+unlink(2) without, so a file
 * that appeared at the final name during the run is never overwritten: then the result
 * stays at the temporary name and PP_ERR_IO says so). If the commit or the close fails,
 * the error is returned and <path>.partial is kept, as for KEEP_PARTIAL. Every rank
 * returns after the rename or removal. Returns PP_SUCCESS for DISCARD and KEEP_PARTIAL
 * when the cleanup itself worked. */
pp_status pp_output_close_as(pp_output **output, pp_output_close_mode mode);
/* pp_output_close_as with PUBLISH when success, else DISCARD. Collective. */
pp_status pp_output_close(pp_output **output, bool success);

/* ---- resume ---------------------------------------------------------------------- */
/* Opens the output of a killed run again, for `polypsf run --resume`, or starts a fresh
 * one when there is nothing to resume. Collective on comm: all ranks get the same status,
 * *resumed and completed[].
 *   path      in: final file name (the .partial is pp_output_temp_path(path)).
 *   meta      in: as for pp_output_create; meta->job must have the cube on
 *             (output: {cube: true}), else PP_ERR_INPUT: a resumed run keeps slices.
 *   force     in: as for pp_output_create: allow replacing an existing file at `path` at
 *             the successful close.
 *   output    out: the open output, NULL on error.
 *   completed out: [meta->job->n_wavelengths] 1 for each slice already in the file (skip
 *             it), else 0; all 0 when starting fresh.
 *   resumed   out (may be NULL): true when <path>.partial was opened, false when a fresh
 *             file was created.
 * What is found decides:
 *   - <path>.partial exists: it is opened read-write through MPI-IO after checking, on
 *     rank 0, that it is a polypsf-psf file of format version PP_OUTPUT_FORMAT_VERSION
 *     written for this job: same job text, wavelengths and weights (bit for bit), /psf
 *     shape, pixel scale and pupil width, and that it has /cube; otherwise PP_ERR_INPUT
 *     ("'OUT.h5.partial' was written for a different job (…); remove it or run without
 *     --resume"). The root attributes n_ranks and n_nodes are set to meta's values: they
 *     describe the run that finishes the file. Also refused, before any work, when a file
 *     exists at `path` and !force (the successful close would have to replace it).
 *   - only `path` exists: PP_ERR_INPUT, "'OUT.h5' is already complete; nothing to resume
 *     (use --force to recompute)" when it is this job's finished output, "… exists; use
 *     --force to overwrite" otherwise. With force: a fresh start that replaces it at the
 *     successful close.
 *   - neither exists: a fresh start, exactly pp_output_create(path, meta, force, …): what
 *     a requeued batch job that never got to write anything wants.
 * The .partial file is never modified or removed by a refusal. Do not resume a run that
 * is still running: nothing can detect that. */
pp_status pp_output_open_resume(const char *path, const pp_output_meta *meta, bool force,
                                MPI_Comm comm, pp_output **output, unsigned char *completed,
                                bool *resumed);

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
