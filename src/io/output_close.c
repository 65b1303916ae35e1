/* The end of the output file: the commit that marks written slices completed (also at each
 * checkpoint, pp_output_sync), and the close that publishes (renames <path>.partial to
 * <path>), keeps the .partial for --resume, or discards it. Split from output.c. */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <complex.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "polypsf/io.h"

/* ---- finishing ------------------------------------------------------------------- */

/* Makes a rename durable: without syncing the directory, a crash soon after could bring
 * back the old name. Best effort: some file systems refuse fsync on a directory, and the
 * rename itself already happened. */
static void pp_output_sync_directory(const char *path) {
  char *copy = strdup(path);
  if (!copy) return;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(copy);
}

/* Rank 0: gives the finished temporary file its final name. */
static pp_status pp_output_publish(const pp_output *out) {
  const char *partial = out->partial_path, *final = out->final_path;
  if (!out->force) {
    /* link(2) refuses an existing name atomically: a file that appeared at the final
     * name while we were running is never overwritten without --force. */
    if (link(partial, final) == 0) {
      /* If this unlink failed, both names would hold the same complete file: harmless. */
      (void)unlink(partial);
      pp_output_sync_directory(final);
      return PP_SUCCESS;
    }
    PP_CHECK(errno != EEXIST, PP_ERR_IO,
             "output '%s' appeared while this run was writing it; the result is kept in '%s'",
             final, partial);
    /* File systems without hard links (EPERM, ENOTSUP, …): check, then rename. */
    PP_CHECK(access(final, F_OK) != 0, PP_ERR_IO,
             "output '%s' appeared while this run was writing it; the result is kept in '%s'",
             final, partial);
  }
  PP_CHECK(rename(partial, final) == 0, PP_ERR_IO,
           "cannot rename '%s' to '%s': %s; the result is kept in '%s'", partial, final,
           strerror(errno), partial);
  pp_output_sync_directory(final);
  return PP_SUCCESS;
}

/* Rank 0: removes the temporary file of a run whose output is discarded. */
static pp_status pp_output_remove_partial(const pp_output *out) {
  if (!out->partial_created) return PP_SUCCESS;
  PP_CHECK(unlink(out->partial_path) == 0 || errno == ENOENT, PP_ERR_IO,
           "cannot remove the temporary file '%s': %s", out->partial_path, strerror(errno));
  return PP_SUCCESS;
}

/* Makes every slice written so far durable, then marks it completed. Collective; the same
 * status on every rank.
 * Phase 1: H5Fflush, which in parallel HDF5 ends in MPI_File_sync on every rank, so each
 * slice any rank wrote before this call is on storage. Phase 2, only if phase 1 worked on
 * every rank: the union of the ranks' pending slices joins completed_flags, rank 0 writes
 * the whole /status/completed from it, and a second flush makes the flags durable. A flag
 * on disk is thus never ahead of its slice, even after a machine crash. The barrier
 * between the two syncs (the agreement) also gives MPI-IO's sync-barrier-sync: after
 * this call every rank reads what any rank wrote before it. */
static pp_status pp_output_commit(pp_output *out) {
  pp_status local = PP_SUCCESS;
  char reason[PP_IO_REASON_BYTES];
  if (H5Fflush(out->file, H5F_SCOPE_GLOBAL) < 0)
    local = pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot flush '%s'%s",
                                  out->partial_path,
                                  pp_io_storage_reason(out->partial_path, reason));
  /* A .partial file deleted (or replaced) under us would take every slice with it and fail
   * only at the rename: say so at the first checkpoint instead, and compute no more. */
  if (local == PP_SUCCESS && out->rank == 0) local = pp_io_output_check_partial_present(out);
  pp_status status = pp_agree(out->comm, local);
  if (status != PP_SUCCESS) return status;

  PP_CHECK(MPI_Allreduce(MPI_IN_PLACE, out->pending_flags, (int)out->n_wavelengths,
                         MPI_UNSIGNED_CHAR, MPI_BOR, out->comm) == MPI_SUCCESS,
           PP_ERR_MPI, "MPI_Allreduce failed while marking slices completed in '%s'",
           out->partial_path);
  /* Identical on every rank: the same union applied to the same flags. */
  bool any_new = false;
  for (size_t i = 0; i < out->n_wavelengths; i++) {
    if (out->pending_flags[i] && !out->completed_flags[i]) {
      out->completed_flags[i] = 1;
      any_new = true;
    }
    out->pending_flags[i] = 0;
  }
  if (!any_new) return PP_SUCCESS;
  /* The whole array each time: a commit whose flag write failed is repaired by the next. */
  local = pp_io_write_from_root(out, out->completed, H5T_NATIVE_UCHAR, out->completed_flags,
                                    "/status/completed");
  /* The flush is collective: every rank makes it, whatever the write returned. */
  if (H5Fflush(out->file, H5F_SCOPE_GLOBAL) < 0 && local == PP_SUCCESS)
    local = pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot flush '%s'%s",
                                  out->partial_path,
                                  pp_io_storage_reason(out->partial_path, reason));
  return pp_agree(out->comm, local);
}

/* One mode for all ranks: publish only if every rank asks to; otherwise keep the .partial
 * file if any rank asks to (keeping never loses a slice), else discard. A failed Allreduce
 * keeps: neither renaming nor removing is safe when ranks cannot agree. */
static pp_output_close_mode pp_output_agree_mode(MPI_Comm comm, pp_output_close_mode mode,
                                                 pp_status *error) {
  int mine[2] = {mode != PP_OUTPUT_PUBLISH, mode == PP_OUTPUT_KEEP_PARTIAL}, all[2] = {1, 1};
  if (MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) {
    *error = pp_error_raise(PP_ERR_MPI, __FILE__, __LINE__, __func__,
                            "MPI_Allreduce failed while closing the output");
    return PP_OUTPUT_KEEP_PARTIAL;
  }
  if (!all[0]) return PP_OUTPUT_PUBLISH;
  return all[1] ? PP_OUTPUT_KEEP_PARTIAL : PP_OUTPUT_DISCARD;
}

/* Commits (unless discarding), closes, then publishes, keeps or removes the file, then
 * frees out. Collective; every rank returns the same status, after rank 0 renamed or
 * removed. A publish that fails before the rename keeps the .partial file: its completed
 * slices are still good for --resume. */
pp_status pp_io_output_finish(pp_output *out, pp_output_close_mode mode) {
  pp_status local = PP_SUCCESS;
  if (mode != PP_OUTPUT_PUBLISH && mode != PP_OUTPUT_DISCARD && mode != PP_OUTPUT_KEEP_PARTIAL) {
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "unknown close mode %d; keeping '%s'", (int)mode, out->partial_path);
    mode = PP_OUTPUT_KEEP_PARTIAL;
  }
  mode = pp_output_agree_mode(out->comm, mode, &local);
  /* The commit is collective and agrees by itself; the local error (if any) still wins. */
  if (mode != PP_OUTPUT_DISCARD && out->file >= 0) {
    pp_status committed = pp_output_commit(out);
    if (local == PP_SUCCESS) local = committed;
    else pp_status_free(committed);
  }
  bool closed = pp_io_output_close_objects(out);
  /* A failed close matters only for a file we keep; a discarded one is removed anyway. */
  if (mode != PP_OUTPUT_DISCARD && !closed && local == PP_SUCCESS)
    local = pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot close '%s'",
                             out->partial_path);
  H5Eclear2(H5E_DEFAULT);
  pp_status status = pp_agree(out->comm, local);

  pp_status naming = PP_SUCCESS;
  if (out->rank == 0) {
    if (mode == PP_OUTPUT_PUBLISH && status == PP_SUCCESS) naming = pp_output_publish(out);
    else if (mode == PP_OUTPUT_DISCARD) naming = pp_output_remove_partial(out);
  }
  /* The agreement doubles as the barrier: nobody returns before rank 0 renamed. */
  naming = pp_agree(out->comm, naming);
  if (status == PP_SUCCESS) status = naming;
  else pp_status_free(naming);
  pp_io_output_free(out);
  return status;
}

pp_status pp_output_sync(pp_output *output) {
  pp_status status = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, output != NULL, PP_ERR_INTERNAL, "pp_output_sync: no output");
  status = pp_output_commit(output);
done:
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

pp_status pp_output_close_as(pp_output **output, pp_output_close_mode mode) {
  if (output == NULL || *output == NULL) return PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  pp_output *out = *output;
  *output = NULL;
  pp_status status = pp_io_output_finish(out, mode);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

pp_status pp_output_close(pp_output **output, bool success) {
  return pp_output_close_as(output, success ? PP_OUTPUT_PUBLISH : PP_OUTPUT_DISCARD);
}
