/* libFuzzer target: the map reader (FITS image or HDF5 dataset; formats/map_read.c). The
 * input is written to a file in the scratch directory and read as a map named by its plain
 * path (FITS: the primary HDU or the first extension; HDF5: the only dataset at the root).
 * Any input must give a map that holds together (both axes > 0, every value finite, a pixel
 * scale that is NaN or > 0) or PP_ERR_INPUT naming the file, with every HDF5 object closed;
 * a crash, a sanitizer report, a leak or another error class is a bug. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "polypsf/formats.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  pp_fuzz_scratch_dir();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = pp_fuzz_write_file("map", data, size);
  pp_map map;
  pp_status status = pp_map_read(path, &map);
  pp_fuzz_check_hdf5_closed();
  if (status == PP_SUCCESS) {
    bool ok = map.ny > 0 && map.nx > 0 && map.values &&
              (isnan(map.pixelscale_m) || map.pixelscale_m > 0);
    for (size_t p = 0; ok && p < map.ny * map.nx; p++) ok = isfinite(map.values[p]);
    if (!ok) {
      fprintf(stderr, "polypsf fuzz: a map breaks its invariants\n");
      abort();
    }
    pp_map_clear(&map);
    return 0;
  }
  pp_error_code code = pp_status_code(status);
  const char *message = pp_status_message(status);
  /* inputs are at most a few KiB: running out of memory means the reader believed a
   * size the file does not hold, so PP_ERR_MEMORY is a finding too */
  bool clean = code == PP_ERR_INPUT && strstr(message, path) != NULL;
  if (!clean || map.values) {
    fprintf(stderr, "polypsf fuzz: not a clean map error (class %d): %s\n", (int)code, message);
    abort();
  }
  pp_status_free(status);
  return 0;
}
