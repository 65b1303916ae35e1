/* Scratch files for the fuzz targets (fuzz_support.h). The state here is process-wide on
 * purpose: libFuzzer calls LLVMFuzzerTestOneInput with the input only, no context, so the
 * scratch directory and the paths of its files live in statics (the house rule against
 * global mutable state is for the library, and this is a test harness). */
#include "fuzz_support.h"

#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PP_FUZZ_PATH_BYTES = 512, PP_FUZZ_NAMES = 8 };

/* The scratch directory's path, set once per process by pp_fuzz_scratch_dir. */
static char scratch_dir[PP_FUZZ_PATH_BYTES];

/* Removes the scratch directory and what the targets put in it (one level of
 * subdirectories: the job target's spectra/). */
static void pp_fuzz_remove_tree(const char *dir) {
  DIR *listing = opendir(dir);
  if (!listing) return;
  struct dirent *entry;
  while ((entry = readdir(listing)) != NULL) {
    if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
    char path[PP_FUZZ_PATH_BYTES * 2];
    snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
    struct stat info;
    if (lstat(path, &info) == 0 && S_ISDIR(info.st_mode))
      pp_fuzz_remove_tree(path);
    else
      unlink(path);
  }
  closedir(listing);
  rmdir(dir);
}

static void pp_fuzz_cleanup(void) {
  if (scratch_dir[0]) pp_fuzz_remove_tree(scratch_dir);
}

const char *pp_fuzz_scratch_dir(void) {
  if (scratch_dir[0]) return scratch_dir;
  struct stat info;
  const char *base = stat("/dev/shm", &info) == 0 && S_ISDIR(info.st_mode) ? "/dev/shm" : "/tmp";
  snprintf(scratch_dir, sizeof scratch_dir, "%s/polypsf-fuzz-XXXXXX", base);
  if (!mkdtemp(scratch_dir)) {
    perror("polypsf fuzz: cannot make a scratch directory");
    abort();
  }
  atexit(pp_fuzz_cleanup);
  return scratch_dir;
}

const char *pp_fuzz_write_file(const char *name, const uint8_t *data, size_t size) {
  static char paths[PP_FUZZ_NAMES][PP_FUZZ_PATH_BYTES + 80]; /* the directory, '/', a name */
  static char names[PP_FUZZ_NAMES][64];
  size_t slot = 0;
  while (slot < PP_FUZZ_NAMES && names[slot][0] && strcmp(names[slot], name) != 0) slot++;
  if (slot == PP_FUZZ_NAMES) abort();
  snprintf(names[slot], sizeof names[slot], "%s", name);
  snprintf(paths[slot], sizeof paths[slot], "%s/%s", pp_fuzz_scratch_dir(), name);
  FILE *file = fopen(paths[slot], "wb");
  if (!file || (size > 0 && fwrite(data, 1, size, file) != size) || fclose(file) != 0) {
    perror("polypsf fuzz: cannot write the input file");
    abort();
  }
  return paths[slot];
}

void pp_fuzz_check_hdf5_closed(void) {
  /* Objects in files (files, groups, datasets, named types, attributes): none may stay.
   * (Dataspaces and transient types cannot be counted: H5Inmembers refuses HDF5's own id
   * kinds.) */
  ssize_t open_objects = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_objects != 0) {
    fprintf(stderr, "polypsf fuzz: the reader left %zd HDF5 object(s) open\n", open_objects);
    abort();
  }
}
