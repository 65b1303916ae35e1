/* Scratch files for the fuzz targets (fuzz_support.h). */
#include "fuzz_support.h"

#include <dirent.h>
#include <hdf5.h>
#include <stdbool.h>
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
  /* Objects in files (files, groups, datasets, named types, attributes): none may stay. */
  ssize_t open_objects = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
  /* Ids outside files (dataspaces, transient types, property lists): HDF5 registers some of
   * its own on first use, so the counts after the first input are the baseline, and any
   * later growth is an id a reader failed to close. */
  static const H5I_type_t kinds[] = {H5I_DATASPACE, H5I_DATATYPE, H5I_GENPROP_LST};
  static hsize_t baseline[3];
  static bool have_baseline = false;
  bool grew = false;
  for (size_t k = 0; k < 3; k++) {
    hsize_t members = 0;
    H5Inmembers(kinds[k], &members);
    if (!have_baseline) baseline[k] = members;
    if (members > baseline[k]) {
      fprintf(stderr, "polypsf fuzz: HDF5 id kind %d grew from %llu to %llu\n", (int)kinds[k],
              (unsigned long long)baseline[k], (unsigned long long)members);
      grew = true;
    }
  }
  have_baseline = true;
  if (open_objects != 0 || grew) {
    fprintf(stderr, "polypsf fuzz: the reader left %zd HDF5 object(s) open\n", open_objects);
    abort();
  }
}
