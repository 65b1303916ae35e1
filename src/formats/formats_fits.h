/* The one way polypsf turns a cfitsio status into an error: cfitsio's words for the status
 * and the oldest message of its stack (which names the first thing that went wrong), then
 * the stack cleared. Used by the readers of users' FITS files (maps, spectra) and by io's
 * FITS export. Internal to libpolypsf. */
#ifndef POLYPSF_FORMATS_FITS_H
#define POLYPSF_FORMATS_FITS_H

#include <stddef.h>

#include "polypsf/core.h"

/* "cfitsio N: <status text>; <oldest stacked message>" (the message left out when there is
 * none or it says the same) into out; clears cfitsio's message stack. Not collective. */
void pp_formats_fits_describe(int fits_status, char *out, size_t out_bytes);

/* Raises `code` with "<sentence> (<pp_formats_fits_describe>)". */
pp_status pp_formats_fits_error(pp_error_code code, int fits_status, const char *file, int line,
                                const char *func, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Unless the cfitsio status is 0: an error of `code` with cfitsio's words, stored in status,
 * goto done. */
#define PP_FITS_CHECK_GOTO(status, code, fits_status, ...)                                   \
  do {                                                                                       \
    if ((fits_status) != 0) {                                                                \
      (status) = pp_formats_fits_error((code), (fits_status), __FILE__, __LINE__, __func__,  \
                                       __VA_ARGS__);                                         \
      goto done;                                                                             \
    }                                                                                        \
  } while (0)

#endif
