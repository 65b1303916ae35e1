/* What each input the fuzzer found must give now (docs/reliability.md, "Findings"): the
 * readers refuse it as a bad file (PP_ERR_INPUT) for the reason the fix gives, and a valid
 * file of the same kind is still read. The truths are the files' own contents: the inputs
 * are damaged as their names say, and seed-hdf5-good.h5 is the 4 × 4 map make_seeds.py
 * wrote (a disc of radius 2 px, pixelscale_m 0.01, units "meters" as a variable-length
 * text, which goes through the global heap check). Argument: tests/fuzz/corpus. */
#include <stdio.h>
#include <string.h>

#include "polypsf/formats.h"
#include "pp_test.h"

/* Reads a map and checks that it is refused as PP_ERR_INPUT whose message holds `reason`. */
static void expect_map_refused(const char *corpus, const char *name, const char *reason) {
  char path[4096];
  snprintf(path, sizeof path, "%s/map/%s", corpus, name);
  pp_map map;
  pp_status status = pp_map_read(path, &map);
  char what[512];
  snprintf(what, sizeof what, "%s refused (PP_ERR_INPUT, '%s'): %s", name, reason,
           pp_status_message(status));
  PP_TEST_TRUE(status != PP_SUCCESS && pp_status_code(status) == PP_ERR_INPUT &&
                   strstr(pp_status_message(status), reason) != NULL && map.values == NULL,
               what);
  pp_status_free(status);
  pp_map_clear(&map);
}

/* The same for a spectrum file. */
static void expect_spectrum_refused(const char *corpus, const char *name, const char *reason) {
  char path[4096];
  snprintf(path, sizeof path, "%s/spectrum/%s", corpus, name);
  pp_spectrum_read_options options = {.max_rows = 100000, .text_exponent10 = 0};
  pp_spectrum_rows rows;
  pp_status status = pp_spectrum_rows_read(path, &options, &rows);
  char what[512];
  snprintf(what, sizeof what, "%s refused (PP_ERR_INPUT, '%s'): %s", name, reason,
           pp_status_message(status));
  PP_TEST_TRUE(status != PP_SUCCESS && pp_status_code(status) == PP_ERR_INPUT &&
                   strstr(pp_status_message(status), reason) != NULL && rows.count == 0,
               what);
  pp_status_free(status);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_fuzz_regressions <tests/fuzz/corpus>\n");
    return 2;
  }
  const char *corpus = argv[1];
  expect_map_refused(corpus, "regression-hdf5-huge-shape", "more than a map may hold");
  expect_map_refused(corpus, "regression-hdf5-global-heap-loop", "global heap collection");
  /* an object 0 of size 0 in a collection whose reserved bytes are not 0: h5dump hangs */
  expect_map_refused(corpus, "regression-hdf5-global-heap-loop-reserved-bytes",
                     "global heap collection");
  /* an object of 2^48 bytes in a collection of 4096 whose reserved bytes are not 0 */
  expect_map_refused(corpus, "regression-hdf5-global-heap-object-too-large",
                     "global heap collection at byte 591");
  expect_map_refused(corpus, "regression-hdf5-huge-metadata-size", "HDF5");
  /* its only dataset's layout message cannot be decoded, so no dataset can be opened */
  expect_map_refused(corpus, "regression-hdf5-leak-in-layout-decode",
                     "0 datasets in its root group");

  /* its /wavelengths object header cannot be decoded */
  expect_spectrum_refused(corpus, "regression-hdf5-leak-in-h5c-protect",
                          "/wavelengths is not a dataset");
  /* /wavelengths is compact with 0 bytes stored: HDF5 1.10.8 read it from NULL */
  expect_spectrum_refused(corpus, "regression-hdf5-compact-without-storage",
                          "/wavelengths holds 3 values of 8 bytes but only 0 bytes of storage");

  /* Three files that crash HDF5 1.10.8 itself (h5dump too): its local heap read copies into a
   * NULL buffer. The reader's trial run in a child process dies, and the file is refused. */
  expect_spectrum_refused(corpus, "regression-hdf5-crash-local-heap-lookup",
                          "is a damaged HDF5 file");
  expect_map_refused(corpus, "regression-hdf5-crash-local-heap-iterate", "is a damaged HDF5 file");
  /* HDF5 decodes an attribute message 1324 bytes past its 268-byte block. Under ASan (make
   * test's sanitizer pass, the fuzzer) the child dies of that read and the file is refused;
   * without, the read lands in mapped memory and HDF5 goes on, and fuzz_replay_map checks
   * that whatever comes back holds together. */
#if defined(__SANITIZE_ADDRESS__)
  expect_map_refused(corpus, "regression-hdf5-crash-attribute-decode", "is a damaged HDF5 file");
#endif

  char path[4096];

  /* /weights is a 2-byte integer whose precision HDF5 cannot tell: its conversion died */
  expect_spectrum_refused(corpus, "regression-hdf5-integer-type-without-precision",
                          "the number type of /weights (2 bytes)");

  /* the positive control: a valid map with a variable-length units text is still read */
  snprintf(path, sizeof path, "%s/map/seed-hdf5-good.h5", corpus);
  pp_map map;
  PP_TEST_OK(pp_map_read(path, &map), "seed-hdf5-good.h5 read");
  PP_TEST_TRUE(map.ny == 4 && map.nx == 4, "seed-hdf5-good.h5 is 4 x 4");
  PP_TEST_NEAR(map.pixelscale_m, 0.01, 0.0, "seed-hdf5-good.h5 pixelscale_m");
  PP_TEST_TRUE(strcmp(map.unit, "meters") == 0, "seed-hdf5-good.h5 units 'meters'");
  double sum = 0;
  for (size_t p = 0; map.values && p < 16; p++) sum += map.values[p];
  /* pixels (y, x) with (y-1.5)² + (x-1.5)² < 4: the 12 outside the 4 corners */
  PP_TEST_NEAR(sum, 12.0, 0.0, "seed-hdf5-good.h5 holds the 12-pixel disc");
  pp_map_clear(&map);
  return pp_test_finish();
}
