/* What the fuzz targets share: a private scratch directory in /dev/shm (tmpfs, so the
 * readers' open/read cost no disk), and writing one fuzz input there as a file. The readers
 * take paths, not memory (they tell the format by the first bytes of the file, and cfitsio
 * and HDF5 open files by name), so each input goes through a real file: the path a user's
 * file takes. */
#ifndef POLYPSF_FUZZ_SUPPORT_H
#define POLYPSF_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry points (declared here so -Wmissing-prototypes stays quiet). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The scratch directory of this process, made on first use ("/dev/shm/polypsf-fuzz-XXXXXX",
 * /tmp when /dev/shm is missing) and removed at exit. Never NULL (aborts when it cannot
 * be made: a fuzzer without scratch space finds nothing). */
const char *pp_fuzz_scratch_dir(void);
/* Writes size bytes to <scratch>/<name> (replacing it) and returns the full path in a
 * buffer that stays valid until the next call with the same name. Aborts on failure. */
const char *pp_fuzz_write_file(const char *name, const uint8_t *data, size_t size);

/* Aborts (a finding) unless every HDF5 object is closed: a reader that returns, whether it
 * succeeded or not, must leave no file, dataset, type, space or attribute open. */
void pp_fuzz_check_hdf5_closed(void);

#endif
