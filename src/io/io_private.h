/* Private to src/io: HDF5 helpers shared by the writer (output.c) and the reader
 * (output_read.c). Never installed; other modules use include/polypsf/io.h only. */
#ifndef POLYPSF_IO_PRIVATE_H
#define POLYPSF_IO_PRIVATE_H

#ifndef POLYPSF_IO_PACKAGE
#error "io_private.h is private to src/io; include polypsf/io.h instead"
#endif

#include <hdf5.h>
#include <mpi.h>

#include "polypsf/core.h"

/* Value of /provenance/tasks.method for a row whose slice is not written yet. */
enum { PP_IO_METHOD_NONE = -1 };

/* HDF5 prints its error stack to stderr by default, which would bury our one-sentence
 * messages. Public io functions silence it on entry and put the caller's handler back on
 * exit, so the library's setting is never changed behind the caller's back. */
typedef struct pp_io_hdf5_quiet {
  H5E_auto2_t func;
  void *client_data;
} pp_io_hdf5_quiet;

void pp_io_hdf5_quiet_begin(pp_io_hdf5_quiet *saved);
void pp_io_hdf5_quiet_end(const pp_io_hdf5_quiet *saved);

/* Raises an error whose message is the formatted sentence followed by what HDF5's error
 * stack says (outermost and innermost entries), then clears that stack. */
pp_status pp_io_hdf5_error(pp_error_code code, const char *file, int line, const char *func,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Unless cond holds: an HDF5 error with the stack's detail, stored in status, goto done. */
#define PP_H5_CHECK_GOTO(status, cond, code, ...)                                         \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      (status) = pp_io_hdf5_error((code), __FILE__, __LINE__, __func__, __VA_ARGS__);     \
      goto done;                                                                          \
    }                                                                                     \
  } while (0)

/* Closes an HDF5 id of any kind if it is valid and sets it to H5I_INVALID_HID. Returns
 * false when closing failed (the id is forgotten anyway: it cannot be retried usefully). */
bool pp_io_hdf5_close(hid_t *id);

/* Makes every rank of comm leave with the same status: PP_SUCCESS when `local` is
 * PP_SUCCESS on all ranks, else the error of the lowest failing rank (code and message
 * broadcast to the others). Takes ownership of `local`. Collective on comm. */
pp_status pp_io_agree(MPI_Comm comm, pp_status local);

/* The in-memory compound type of one pp_task_record (method as an HDF5 enum with the
 * names of pp_method plus "none"). The caller closes it. Not collective. */
pp_status pp_io_task_memtype_create(hid_t *type);

/* Root and dataset attributes. In parallel HDF5 attributes are metadata: every rank must
 * make the same call with the same value. Strings are variable-length UTF-8, so a long
 * job text does not hit the 64 KiB object-header limit of fixed-size attributes. */
pp_status pp_io_attr_write_string(hid_t object, const char *name, const char *value);
pp_status pp_io_attr_write_double(hid_t object, const char *name, double value);
pp_status pp_io_attr_write_int64(hid_t object, const char *name, long long value);
pp_status pp_io_attr_write_int64_array(hid_t object, const char *name, const long long *values,
                                       size_t count);

/* The method and normalization words (as in the job file; "none" = method not yet known)
 * used in attributes and in the provenance enum; NULL for a value out of range. */
const char *pp_io_method_name(int method);
const char *pp_io_normalize_name(int normalize);

#endif
