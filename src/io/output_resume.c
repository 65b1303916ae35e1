/* Resuming: opening the <path>.partial file of a killed run again, after checking that it
 * was written for this job, or starting a fresh file when there is nothing to resume.
 * What is checked and why: docs/output-format.md, "Resume".
 *
 * Rank 0 inspects the files serially (HDF5's default driver) before any rank opens
 * anything, so the job text (up to megabytes) and the spectra are read once, not by every
 * rank, and a refusal never touches the file; then all ranks open the .partial file
 * read-write through MPI-IO, as pp_output_create would have created it. */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "polypsf/io.h"

/* What rank 0 decided; broadcast so that every rank takes the same branch. */
typedef enum { PP_RESUME_START_FRESH = 0, PP_RESUME_OPEN_PARTIAL = 1 } pp_resume_plan;

/* Rank 0: checks that <path>.partial can be resumed by this job and reads its completion
 * flags into completed[]. Not collective. */
static pp_status pp_resume_inspect_partial(const char *partial, const pp_output_meta *meta,
                                           unsigned char *completed) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  size_t n = meta->job->n_wavelengths;
  char why[PP_IO_WHY_BYTES];

  pp_status opened = pp_formats_hdf5_open_read(partial, &file);
  if (opened != PP_SUCCESS) {
    /* Typically a run killed while creating the file, before its first flush. */
    status = pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                            "%s; it cannot be resumed: remove it, or start afresh with "
                            "--force instead of --resume",
                            pp_status_message(opened));
    pp_status_free(opened);
    goto done;
  }
  pp_resume_match match = PP_RESUME_FOREIGN;
  PP_CALL_GOTO(status, pp_io_output_compare(file, partial, meta, &match, why));
  PP_CHECK_GOTO(status, match != PP_RESUME_FOREIGN, PP_ERR_INPUT,
                "'%s' is not a polypsf-psf output of format version %d (%s); remove it, or "
                "start afresh with --force instead of --resume",
                partial, PP_OUTPUT_FORMAT_VERSION, why);
  PP_CHECK_GOTO(status, match == PP_RESUME_SAME_JOB, PP_ERR_INPUT,
                "'%s' was written for a different job (%s); remove it, or start afresh with "
                "--force instead of --resume",
                partial, why);
  /* Where the finished tasks are: /cube, or a grid's point sums in /grid/psf. */
  const pp_job *job = meta->job;
  const char *store = job->output_cube ? "/cube" : "/grid/psf";
  size_t store_count = job->output_cube ? n : job->n_field_points;
  bool has_store = job->output_cube ? H5Lexists(file, "cube", H5P_DEFAULT) > 0
                                    : H5Lexists(file, "grid", H5P_DEFAULT) > 0 &&
                                          H5Lexists(file, "grid/psf", H5P_DEFAULT) > 0;
  PP_CHECK_GOTO(status, has_store, PP_ERR_INPUT,
                "'%s' has no %s (its run had cube: false), and a resumed run needs the "
                "finished tasks; remove it, or start afresh with --force instead of --resume",
                partial, store);

  /* The rest was made by pp_output_create with these sizes; anything else is damage. */
  int ndims[3] = {0, 0, 0};
  size_t cube[3], flags[3], tasks[3];
  pp_status shape = pp_io_dataset_shape(file, partial, store, &ndims[0], cube);
  if (shape == PP_SUCCESS) shape = pp_io_dataset_shape(file, partial, "/status/completed",
                                                      &ndims[1], flags);
  if (shape == PP_SUCCESS) shape = pp_io_dataset_shape(file, partial, "/provenance/tasks",
                                                      &ndims[2], tasks);
  if (shape == PP_SUCCESS &&
      !(ndims[0] == 3 && cube[0] == store_count && cube[1] == meta->geometry.psf_ny &&
        cube[2] == meta->geometry.psf_nx && ndims[1] == 1 && flags[0] == n && ndims[2] == 1 &&
        tasks[0] == n))
    shape = pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                           "its %s, /status/completed or /provenance/tasks has the wrong shape",
                           store);
  if (shape != PP_SUCCESS) {
    status = pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                            "'%s' is damaged (%s); remove it, or start afresh with --force "
                            "instead of --resume", partial,
                            pp_status_message(shape));
    pp_status_free(shape);
    goto done;
  }
  PP_CALL_GOTO(status,
               pp_io_read_whole(file, partial, "/status/completed", H5T_NATIVE_UCHAR, n, completed));
  for (size_t i = 0; i < n; i++) completed[i] = completed[i] != 0;
  /* A grid stopped while its finish blurred the sums in place has no sums left to resume
   * from: every point is computed again. */
  if (!job->output_cube && H5Aexists_by_name(file, "grid", PP_IO_GRID_REWRITTEN, H5P_DEFAULT) > 0)
    memset(completed, 0, n);
done:
  pp_formats_hdf5_close(&file);
  return status;
}

/* Rank 0: there is no .partial but a file at the final name, and no --force. Always
 * returns the refusal that fits what the file is. Not collective. */
static pp_status pp_resume_refuse_final(const char *path, const pp_output_meta *meta) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  unsigned char *completed = NULL;
  size_t n = meta->job->n_wavelengths;
  char why[PP_IO_WHY_BYTES];

  pp_status opened = pp_formats_hdf5_open_read(path, &file);
  pp_resume_match match = PP_RESUME_FOREIGN;
  if (opened == PP_SUCCESS)
    PP_CALL_GOTO(status, pp_io_output_compare(file, path, meta, &match, why));
  pp_status_free(opened);
  PP_CHECK_GOTO(status, match != PP_RESUME_OTHER_JOB, PP_ERR_INPUT,
                "output '%s' exists and was written for a different job (%s); use --force to "
                "overwrite",
                path, why);
  if (match == PP_RESUME_SAME_JOB) {
    completed = malloc(n);
    PP_CHECK_GOTO(status, completed != NULL, PP_ERR_MEMORY, "out of memory");
    pp_status read =
        pp_io_read_whole(file, path, "/status/completed", H5T_NATIVE_UCHAR, n, completed);
    size_t done_count = 0;
    for (size_t i = 0; read == PP_SUCCESS && i < n; i++) done_count += completed[i] != 0;
    pp_status_free(read);
    PP_CHECK_GOTO(status, done_count != n, PP_ERR_INPUT,
                  "'%s' is already complete; nothing to resume (use --force to recompute)", path);
  }
  PP_CHECK_GOTO(status, false, PP_ERR_INPUT, "output '%s' exists; use --force to overwrite", path);
done:
  free(completed);
  pp_formats_hdf5_close(&file);
  return status;
}

/* Rank 0: decides between resuming <path>.partial and starting fresh, checking all it can
 * before any rank opens anything. completed[] gets the flags when resuming. Not
 * collective. */
static pp_status pp_resume_plan_on_root(const char *path, const char *partial,
                                        const pp_output_meta *meta, bool force,
                                        pp_io_lock *lock, pp_resume_plan *plan,
                                        unsigned char *completed) {
  *plan = PP_RESUME_START_FRESH;
  /* force = true here only skips the "exists" refusal: the cases below handle that. */
  PP_CALL(pp_io_output_check_path(path, true));
  /* Before the .partial file is read: another run may be writing it right now. */
  PP_CALL(pp_io_lock_take(path, lock));
  struct stat info;
  bool final_exists = lstat(path, &info) == 0;
  if (lstat(partial, &info) != 0) {
    PP_CHECK(errno == ENOENT, PP_ERR_INPUT, "cannot use '%s': %s", partial, strerror(errno));
    if (final_exists && !force) PP_CALL(pp_resume_refuse_final(path, meta));
    return PP_SUCCESS; /* nothing to resume: a fresh start */
  }
  /* Say it now rather than at the end of the run, when the rename would refuse. */
  PP_CHECK(!final_exists || force, PP_ERR_INPUT,
           "output '%s' exists, and so does its .partial file from an interrupted run: "
           "finishing that run would replace it: add --resume --force to finish it and replace "
           "'%s', --force alone to start afresh, or move one of them away",
           path, path);
  PP_CALL(pp_resume_inspect_partial(partial, meta, completed));
  *plan = PP_RESUME_OPEN_PARTIAL;
  return PP_SUCCESS;
}

/* Opens the checked .partial file through MPI-IO and every object the writers need.
 * Collective (H5Fopen); returns this rank's status, for the caller to agree on. */
static pp_status pp_resume_open_file(pp_output *out, const pp_output_meta *meta) {
  pp_status status = PP_SUCCESS;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  PP_H5_CHECK_GOTO(status, fapl >= 0 && H5Pset_fapl_mpio(fapl, out->comm, MPI_INFO_NULL) >= 0,
                   PP_ERR_LIBRARY, "cannot set up MPI-IO access for '%s'", out->partial_path);
  out->file = H5Fopen(out->partial_path, H5F_ACC_RDWR, fapl);
  char reason[PP_IO_REASON_BYTES];
  PP_H5_CHECK_GOTO(status, out->file >= 0, PP_ERR_IO, "cannot open '%s' to resume it%s",
                   out->partial_path, pp_io_storage_reason(out->partial_path, reason));
  if (out->rank == 0) pp_io_output_remember_partial(out);
  out->psf = H5Dopen2(out->file, "psf", H5P_DEFAULT);
  out->psf_detector = H5Dopen2(out->file, "psf_detector", H5P_DEFAULT);
  if (out->has_cube) out->cube = H5Dopen2(out->file, "cube", H5P_DEFAULT);
  out->completed = H5Dopen2(out->file, "status/completed", H5P_DEFAULT);
  out->tasks = H5Dopen2(out->file, "provenance/tasks", H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status,
                   out->psf >= 0 && out->psf_detector >= 0 && (!out->has_cube || out->cube >= 0) &&
                       out->completed >= 0 && out->tasks >= 0,
                   PP_ERR_IO, "cannot open the datasets of '%s'", out->partial_path);
  PP_CALL_GOTO(status, pp_io_output_make_transfer_objects(out));
  PP_CALL_GOTO(status, pp_io_output_make_slice_spaces(out));
  PP_CALL_GOTO(status, pp_io_output_open_planes(out, meta));
done:
  pp_formats_hdf5_close(&fapl);
  return status;
}

/* n_ranks, n_nodes and threads_per_rank describe the run that finishes the file (a file
 * begun before threads_per_rank was recorded gets it now). Collective (attributes
 * are metadata: same call, same value on every rank); flushed, so the file is consistent
 * on disk before any slice is written. */
static pp_status pp_resume_update_run_attributes(pp_output *out, const pp_output_meta *meta) {
  PP_CALL(pp_io_attr_update_int64(out->file, "n_ranks", meta->n_ranks));
  PP_CALL(pp_io_attr_update_int64(out->file, "n_nodes", meta->n_nodes));
  if (meta->threads_per_rank > 0 && H5Aexists(out->file, "threads_per_rank") > 0)
    PP_CALL(pp_io_attr_update_int64(out->file, "threads_per_rank", meta->threads_per_rank));
  else if (meta->threads_per_rank > 0)
    PP_CALL(pp_io_attr_write_int64(out->file, "threads_per_rank", meta->threads_per_rank));
  char reason[PP_IO_REASON_BYTES];
  if (H5Fflush(out->file, H5F_SCOPE_GLOBAL) < 0)
    return pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot flush '%s'%s",
                                 out->partial_path,
                                 pp_io_storage_reason(out->partial_path, reason));
  return PP_SUCCESS;
}

pp_status pp_output_open_resume(const char *path, const pp_output_meta *meta, bool force,
                                MPI_Comm comm, pp_output **output, unsigned char *completed,
                                bool *resumed) {
  pp_status status = PP_SUCCESS;
  pp_output *out = NULL;
  char *partial = NULL;
  pp_io_lock lock = {.fd = -1, .path = NULL};
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  if (output) *output = NULL;
  if (resumed) *resumed = false;

  /* Each phase is local; the agreement after it makes every rank take the same branch. */
  pp_status local = output && path && completed
                        ? pp_io_output_check_meta(meta)
                        : pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                                         "pp_output_open_resume: NULL argument");
  if (local == PP_SUCCESS && !pp_job_resumable(meta->job))
    local = pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                           "--resume needs the cube: the job must say output: {cube: true} (a "
                           "resumed run keeps the finished monochromatic slices and sums /psf "
                           "from them)");
  status = pp_agree(comm, local);
  if (status != PP_SUCCESS) goto done;
  status = pp_io_output_check_ranks_agree(comm, path, meta, force);
  if (status != PP_SUCCESS) goto done;

  size_t n = meta->job->n_wavelengths;
  memset(completed, 0, n);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  size_t partial_size = strlen(path) + 16;
  partial = malloc(partial_size);
  local = partial ? pp_output_temp_path(path, partial, partial_size)
                  : pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__, __func__, "out of memory");
  pp_resume_plan plan = PP_RESUME_START_FRESH;
  if (local == PP_SUCCESS && rank == 0)
    local = pp_resume_plan_on_root(path, partial, meta, force, &lock, &plan, completed);
  status = pp_agree(comm, local);
  if (status != PP_SUCCESS) goto done;
  int plan_shared = (int)plan;
  PP_CHECK_GOTO(status,
                MPI_Bcast(&plan_shared, 1, MPI_INT, 0, comm) == MPI_SUCCESS &&
                    MPI_Bcast(completed, (int)n, MPI_UNSIGNED_CHAR, 0, comm) == MPI_SUCCESS,
                PP_ERR_MPI, "MPI_Bcast of what to resume failed");

  if (plan_shared == PP_RESUME_START_FRESH) {
    /* pp_output_create takes the lock again; a run that slips in meanwhile wins it, and this
     * one is refused there, cleanly. */
    pp_io_lock_release(&lock);
    status = pp_output_create(path, meta, force, comm, output);
    goto done;
  }

  local = pp_io_output_alloc(path, meta, force, &out);
  if (local == PP_SUCCESS) {
    out->lock = lock; /* released when out is freed, after the file's fate is settled */
    lock = (pp_io_lock){.fd = -1, .path = NULL};
  }
  status = pp_agree(comm, local);
  if (status != PP_SUCCESS) goto done;
  status = pp_io_output_attach_comm(out, comm);
  if (status != PP_SUCCESS) goto done;
  status = pp_agree(out->comm, pp_resume_open_file(out, meta));
  if (status != PP_SUCCESS) goto done;
  /* From here the file is this run's: an explicit DISCARD at close removes it. */
  out->partial_created = true;
  memcpy(out->completed_flags, completed, n);
  status = pp_agree(out->comm, pp_resume_update_run_attributes(out, meta));
  if (status != PP_SUCCESS) goto done;

  *output = out;
  out = NULL;
  if (resumed) *resumed = true;
done:
  if (out) {
    /* Reached only after an agreement, so every rank closes together; the .partial file
     * stays where it was, with its completed slices. */
    pp_io_output_close_objects(out);
    pp_io_output_free(out);
  }
  pp_io_lock_release(&lock);
  free(partial);
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}
