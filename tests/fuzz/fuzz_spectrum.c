/* libFuzzer target: the spectrum reader (text, FITS table, HDF5; formats/spectrum_read.c).
 * The input is written to a file in the scratch directory and read as a spectrum file; the
 * reader tells the format by the first bytes, so one target reaches all three readers.
 * Any input must give rows that hold together or PP_ERR_INPUT naming the file, with every
 * HDF5 object closed; a crash, a sanitizer report, a leak or another error class is a bug. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "polypsf/formats.h"
#include "polypsf/job.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  pp_fuzz_scratch_dir();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = pp_fuzz_write_file("spectrum", data, size);
  /* The text reader scales wavelengths through their digits; an odd size reads them as
   * micrometres so that path is fuzzed too, an even one as metres. */
  pp_spectrum_read_options options = {.max_rows = PP_JOB_MAX_WAVELENGTHS,
                                      .text_exponent10 = size % 2 ? -6 : 0,
                                      .relative_path_note = NULL};
  pp_spectrum_rows rows;
  pp_status status = pp_spectrum_rows_read(path, &options, &rows);
  pp_fuzz_check_hdf5_closed();
  if (status == PP_SUCCESS) {
    bool ok = rows.count <= (size_t)options.max_rows &&
              (rows.count == 0 || (rows.wavelengths && rows.weights && rows.rows));
    /* text values are checked finite by the reader; HDF5 and FITS values are checked by
     * the job reader (job/spectrum.c), so only the text rows are held to it here */
    for (size_t i = 0; ok && rows.format == PP_SPECTRUM_TEXT && i < rows.count; i++)
      ok = isfinite(rows.wavelengths[i]) && isfinite(rows.weights[i]) && rows.rows[i] >= 1;
    if (!ok) {
      fprintf(stderr, "polypsf fuzz: spectrum rows break their invariants\n");
      abort();
    }
    pp_spectrum_rows_release(&rows);
    return 0;
  }
  pp_error_code code = pp_status_code(status);
  const char *message = pp_status_message(status);
  /* inputs are at most a few KiB: running out of memory means the reader believed a
   * size the file does not hold, so PP_ERR_MEMORY is a finding too */
  bool clean = code == PP_ERR_INPUT && strstr(message, path) != NULL;
  if (!clean || rows.count != 0 || rows.wavelengths) {
    fprintf(stderr, "polypsf fuzz: not a clean spectrum error (class %d): %s\n", (int)code,
            message);
    abort();
  }
  pp_status_free(status);
  return 0;
}
