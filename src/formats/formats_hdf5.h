/* HDF5 helpers for every module that reads or writes HDF5 (formats' readers of users' files,
 * io's output file): one way to silence HDF5's error stack, one way to turn it into our
 * message, one way to close an id, to open a file for reading and to read an attribute.
 * Internal to libpolypsf (never installed); it sits on the formats floor so that io, above,
 * and the map and spectrum readers share it without io being below the optics. */
#ifndef POLYPSF_FORMATS_HDF5_H
#define POLYPSF_FORMATS_HDF5_H

#include <hdf5.h>
#include <stdbool.h>

#include "polypsf/core.h"

/* HDF5 prints its error stack to stderr by default, which would bury our one-sentence
 * messages. Public functions that touch HDF5 silence it on entry and put the caller's
 * handler back on exit, so the library's setting is never changed behind the caller's back. */
typedef struct pp_formats_hdf5_quiet {
  H5E_auto2_t func;
  void *client_data;
} pp_formats_hdf5_quiet;

void pp_formats_hdf5_quiet_begin(pp_formats_hdf5_quiet *saved);
void pp_formats_hdf5_quiet_end(const pp_formats_hdf5_quiet *saved);

/* Raises an error whose message is the formatted sentence followed by what HDF5's error
 * stack says (outermost and innermost entries), then clears that stack. */
pp_status pp_formats_hdf5_error(pp_error_code code, const char *file, int line, const char *func,
                                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Unless cond holds: an HDF5 error with the stack's detail, stored in status, goto done. */
#define PP_H5_CHECK_GOTO(status, cond, code, ...)                                         \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      (status) = pp_formats_hdf5_error((code), __FILE__, __LINE__, __func__, __VA_ARGS__); \
      goto done;                                                                          \
    }                                                                                     \
  } while (0)

/* Closes an HDF5 id of any kind if it is valid and sets it to H5I_INVALID_HID. Returns
 * false when closing failed (the id is forgotten anyway: it cannot be retried usefully). */
bool pp_formats_hdf5_close(hid_t *id);

/* Opens `path` read-only with HDF5's default (serial) driver. Not collective. */
pp_status pp_formats_hdf5_open_read(const char *path, hid_t *file);
/* The end of every serial reader: closes *file (if open), drops what HDF5 put on its error
 * stack (already turned into our message) and restores the caller's printing. */
void pp_formats_hdf5_read_end(hid_t *file, const pp_formats_hdf5_quiet *quiet);

/* A reader of one user's HDF5 file: reads it into what `context` points to. */
typedef pp_status (*pp_formats_hdf5_reader)(void *context);

/* Runs `read(context)` first in a child process and, if the child lives, again here,
 * returning what this second read returns. If HDF5 crashes the child (some damaged files
 * crash Debian 12's HDF5 1.10.8 before it can report an error), returns PP_ERR_INPUT naming
 * `path` as a damaged file instead (hdf5_trial_read.c says why and what the child does).
 * `read` must touch nothing but the file and `context` (no MPI, no output file). Not
 * collective: every rank that reads the file forks once. */
pp_status pp_formats_hdf5_trial_read(const char *path, pp_formats_hdf5_reader read,
                                     void *context);

/* Refuses (PP_ERR_INPUT naming the file and the byte) a file holding a global heap
 * collection that Debian 12's HDF5 would loop on forever, or step out of, when reading
 * variable-length data (hdf5_guards.c). The readers of users' files call it before
 * reading a variable-length string; it reads the whole file once. Not collective. */
pp_status pp_formats_hdf5_check_global_heaps(const char *path);

/* Refuses (PP_ERR_INPUT naming `path` and `name`) a compact or contiguous dataset whose
 * storage is smaller than its shape times its element size: Debian 12's HDF5 1.10.8 reads
 * such a dataset from a NULL buffer and crashes (found by fuzzing). Chunked datasets are
 * not judged (compression makes their storage smaller). Also refuses an integer or float
 * type whose bits do not fit its bytes (HDF5 converted one with an out-of-bounds bit
 * copy). Call before H5Dread of a dataset
 * from a user's file. Not collective. */
pp_status pp_formats_hdf5_check_storage(hid_t dataset, const char *path, const char *name);

/* A string (fixed or variable length) or numeric scalar attribute `name` of `object` ("/"
 * or a dataset path) of a file already open; `path` names the file in messages. The string
 * is malloc'ed and NUL-terminated: free() it. PP_ERR_IO when there is no such attribute,
 * PP_ERR_INPUT when it is not one value of the asked kind. Not collective. */
pp_status pp_formats_hdf5_read_string_attribute(hid_t file, const char *path, const char *object,
                                                const char *name, char **value);
pp_status pp_formats_hdf5_read_number_attribute(hid_t file, const char *path, const char *object,
                                                const char *name, double *value);

#endif
