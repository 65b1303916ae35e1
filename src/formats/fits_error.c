/* cfitsio statuses as polypsf errors (formats_fits.h). */
#include "formats/formats_fits.h"

#include <fitsio.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Room for a sentence naming two paths of up to 4 KiB each (a map's file and its part). */
enum { PP_FORMATS_FITS_SENTENCE_BYTES = 2 * 4096 + 256 };

void pp_formats_fits_describe(int fits_status, char *out, size_t out_bytes) {
  char status_text[FLEN_STATUS] = "", detail[FLEN_ERRMSG] = "";
  fits_get_errstatus(fits_status, status_text);
  fits_read_errmsg(detail);
  fits_clear_errmsg();
  /* cfitsio pads its messages; and its oldest message often repeats the status text. */
  size_t n = strlen(detail);
  while (n > 0 && (detail[n - 1] == ' ' || detail[n - 1] == '\n')) detail[--n] = '\0';
  if (detail[0] && strcasecmp(detail, status_text) != 0)
    snprintf(out, out_bytes, "cfitsio %d: %s; %s", fits_status, status_text, detail);
  else
    snprintf(out, out_bytes, "cfitsio %d: %s", fits_status, status_text);
}

pp_status pp_formats_fits_error(pp_error_code code, int fits_status, const char *file, int line,
                                const char *func, const char *fmt, ...) {
  char sentence[PP_FORMATS_FITS_SENTENCE_BYTES], cause[FLEN_STATUS + FLEN_ERRMSG + 32];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sentence, sizeof sentence, fmt, ap);
  va_end(ap);
  pp_formats_fits_describe(fits_status, cause, sizeof cause);
  return pp_error_raise(code, file, line, func, "%s (%s)", sentence, cause);
}
