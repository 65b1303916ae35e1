/* The physics tests' one reader of HDF5 files (h5_read.h). */
#include "h5_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double *pp_h5_read(const char *path, const char *dataset, hsize_t *dims, int *ndims,
                   size_t *count) {
  if (count) *count = 0;
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return NULL;
  double *data = NULL;
  hid_t dset = H5Dopen2(file, dataset, H5P_DEFAULT);
  if (dset >= 0) {
    hid_t space = H5Dget_space(dset);
    hsize_t shape[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(space, shape, NULL);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (rank >= 0 && rank <= 4 && n > 0) {
      data = malloc((size_t)n * sizeof *data);
      if (data && H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        free(data);
        data = NULL;
      }
    }
    if (data) {
      for (int d = 0; dims && d < rank; d++) dims[d] = shape[d];
      if (ndims) *ndims = rank;
      if (count) *count = (size_t)n;
    }
    H5Sclose(space);
    H5Dclose(dset);
  }
  H5Fclose(file);
  return data;
}

double pp_h5_attr_number(const char *path, const char *object, const char *name) {
  double value = NAN;
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return value;
  if (H5Aexists_by_name(file, object, name, H5P_DEFAULT) > 0) {
    hid_t attr = H5Aopen_by_name(file, object, name, H5P_DEFAULT, H5P_DEFAULT);
    if (H5Aread(attr, H5T_NATIVE_DOUBLE, &value) < 0) value = NAN;
    H5Aclose(attr);
  }
  H5Fclose(file);
  return value;
}

char *pp_h5_description(const char *path) {
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return NULL;
  char *copy = NULL;
  hid_t attr = H5Aopen(file, "description_json", H5P_DEFAULT);
  if (attr >= 0) {
    hid_t type = H5Aget_type(attr); /* a variable-length UTF-8 string */
    char *text = NULL;
    if (H5Aread(attr, type, &text) >= 0 && text) {
      copy = malloc(strlen(text) + 1);
      if (copy) strcpy(copy, text);
      H5free_memory(text);
    }
    H5Tclose(type);
    H5Aclose(attr);
  }
  H5Fclose(file);
  return copy;
}

double pp_h5_description_number(const char *path, const char *key) {
  char *text = pp_h5_description(path);
  if (!text) return NAN;
  char pattern[128];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *at = strstr(text, pattern);
  double value = at ? strtod(at + strlen(pattern), NULL) : NAN;
  free(text);
  return value;
}
