/* The physics tests' one reader of HDF5 files: POPPY's reference files (../shared/reference)
 * and polypsf's own outputs, read with the HDF5 C library as the reference README asks. */
#ifndef POLYPSF_TESTS_H5_READ_H
#define POLYPSF_TESTS_H5_READ_H

#include <hdf5.h>
#include <stddef.h>

/* A whole dataset as float64 (malloc'ed), NULL when the file or dataset cannot be read.
 * dims (room for the rank, at most 4) and *ndims get its shape when not NULL; *count (when not NULL) its number
 * of values. */
double *pp_h5_read(const char *path, const char *dataset, hsize_t *dims, int *ndims,
                   size_t *count);
/* A numeric attribute `name` of `object` ("/" for the root, "/psf", …); NAN when absent. */
double pp_h5_attr_number(const char *path, const char *object, const char *name);
/* The root's description_json attribute (malloc'ed, free() it), NULL when absent. */
char *pp_h5_description(const char *path);
/* The number after "key": in the root's description_json; NAN when absent. */
double pp_h5_description_number(const char *path, const char *key);

#endif
