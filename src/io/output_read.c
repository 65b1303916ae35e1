/* Reading an output file back, serially (HDF5's default driver, no MPI): for the tests,
 * `polypsf info` and --resume. Every public function opens and closes the file itself, so
 * a caller never holds HDF5 ids; the pp_io_* forms read from a file already open (the
 * checks output_resume.c makes on rank 0). */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <stdlib.h>
#include <string.h>

#include "polypsf/io.h"

pp_status pp_io_open_read(const char *path, hid_t *file) {
  pp_status status = PP_SUCCESS;
  *file = H5I_INVALID_HID;
  PP_CHECK(path != NULL, PP_ERR_INTERNAL, "no file name given");
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  /* Keep HDF5's file locking, but do not fail on file systems that do not support it
   * (NFS, some Lustre mounts): reading is safe without it. */
  PP_H5_CHECK_GOTO(status, fapl >= 0 && H5Pset_file_locking(fapl, true, true) >= 0,
                   PP_ERR_LIBRARY, "cannot set up reading '%s'", path);
  *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  PP_H5_CHECK_GOTO(status, *file >= 0, PP_ERR_IO, "cannot open '%s' as an HDF5 file", path);
done:
  pp_io_hdf5_close(&fapl);
  return status;
}

void pp_io_read_end(hid_t *file, const pp_io_hdf5_quiet *quiet) {
  pp_io_hdf5_close(file);
  H5Eclear2(H5E_DEFAULT);
  pp_io_hdf5_quiet_end(quiet);
}

pp_status pp_output_read_dataset(const char *path, const char *name, double **data,
                                 size_t dims[3], int *ndims) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t type = H5I_INVALID_HID;
  double *values = NULL;
  pp_io_hdf5_quiet quiet;
  pp_io_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, name && data && dims && ndims, PP_ERR_INTERNAL,
                "pp_output_read_dataset: NULL argument");
  *data = NULL;
  *ndims = 0;
  dims[0] = dims[1] = dims[2] = 1;

  PP_CALL_GOTO(status, pp_io_open_read(path, &file));
  dataset = H5Dopen2(file, name, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, dataset >= 0, PP_ERR_IO, "'%s' has no dataset %s", path, name);
  type = H5Dget_type(dataset);
  H5T_class_t type_class = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  PP_CHECK_GOTO(status, type_class == H5T_INTEGER || type_class == H5T_FLOAT, PP_ERR_INPUT,
                "dataset %s in '%s' is not numeric", name, path);
  space = H5Dget_space(dataset);
  int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  PP_CHECK_GOTO(status, rank >= 1 && rank <= 3, PP_ERR_INPUT,
                "dataset %s in '%s' has %d dimensions; 1 to 3 can be read", name, path, rank);
  hsize_t extent[3] = {1, 1, 1};
  PP_H5_CHECK_GOTO(status, H5Sget_simple_extent_dims(space, extent, NULL) == rank,
                   PP_ERR_LIBRARY, "cannot get the shape of %s in '%s'", name, path);
  size_t count = 1;
  for (int i = 0; i < rank; i++) PP_CALL_GOTO(status, pp_size_mul(count, extent[i], &count));
  size_t bytes = 0;
  PP_CALL_GOTO(status, pp_size_mul(count, sizeof(double), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&values));
  PP_H5_CHECK_GOTO(status,
                   H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0,
                   PP_ERR_IO, "cannot read %s from '%s'", name, path);
  for (int i = 0; i < rank; i++) dims[i] = extent[i];
  *ndims = rank;
  *data = values;
  values = NULL;
done:
  pp_array_free(&values);
  pp_io_hdf5_close(&type);
  pp_io_hdf5_close(&space);
  pp_io_hdf5_close(&dataset);
  pp_io_read_end(&file, &quiet);
  return status;
}

pp_status pp_output_read_tasks(const char *path, pp_task_record **records, size_t *count) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t memtype = H5I_INVALID_HID;
  pp_task_record *rows = NULL;
  pp_io_hdf5_quiet quiet;
  pp_io_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, records && count, PP_ERR_INTERNAL, "pp_output_read_tasks: NULL argument");
  *records = NULL;
  *count = 0;

  PP_CALL_GOTO(status, pp_io_open_read(path, &file));
  dataset = H5Dopen2(file, "/provenance/tasks", H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, dataset >= 0, PP_ERR_IO, "'%s' has no /provenance/tasks", path);
  space = H5Dget_space(dataset);
  hsize_t n = 0;
  PP_H5_CHECK_GOTO(status,
                   space >= 0 && H5Sget_simple_extent_ndims(space) == 1 &&
                       H5Sget_simple_extent_dims(space, &n, NULL) == 1,
                   PP_ERR_INPUT, "/provenance/tasks in '%s' is not a table", path);
  PP_CALL_GOTO(status, pp_io_task_memtype_create(&memtype));
  rows = calloc(n > 0 ? n : 1, sizeof *rows);
  PP_CHECK_GOTO(status, rows != NULL, PP_ERR_MEMORY, "out of memory for %llu task rows",
                (unsigned long long)n);
  PP_H5_CHECK_GOTO(status, H5Dread(dataset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0,
                   PP_ERR_IO, "cannot read /provenance/tasks from '%s'", path);
  *records = rows;
  *count = n;
  rows = NULL;
done:
  free(rows);
  pp_io_hdf5_close(&memtype);
  pp_io_hdf5_close(&space);
  pp_io_hdf5_close(&dataset);
  pp_io_read_end(&file, &quiet);
  return status;
}

/* Opens attribute `name` of `object` and checks it holds one value of class `want`. */
static pp_status pp_output_open_attribute(hid_t file, const char *path, const char *object,
                                          const char *name, H5T_class_t want, hid_t *attr,
                                          hid_t *type) {
  pp_status status = PP_SUCCESS;
  hid_t space = H5I_INVALID_HID;
  *type = H5I_INVALID_HID;
  *attr = H5Aopen_by_name(file, object, name, H5P_DEFAULT, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, *attr >= 0, PP_ERR_IO, "'%s' has no attribute '%s' on %s", path, name,
                   object);
  *type = H5Aget_type(*attr);
  space = H5Aget_space(*attr);
  H5T_class_t type_class = *type >= 0 ? H5Tget_class(*type) : H5T_NO_CLASS;
  bool ok_class = want == H5T_STRING ? type_class == H5T_STRING
                                     : type_class == H5T_INTEGER || type_class == H5T_FLOAT;
  PP_CHECK_GOTO(status, ok_class, PP_ERR_INPUT, "attribute '%s' on %s in '%s' is not a %s", name,
                object, path, want == H5T_STRING ? "string" : "number");
  PP_CHECK_GOTO(status, space >= 0 && H5Sget_simple_extent_npoints(space) == 1, PP_ERR_INPUT,
                "attribute '%s' on %s in '%s' is not a single value", name, object, path);
done:
  pp_io_hdf5_close(&space);
  if (status != PP_SUCCESS) {
    pp_io_hdf5_close(type);
    pp_io_hdf5_close(attr);
  }
  return status;
}

pp_status pp_io_read_string_attribute(hid_t file, const char *path, const char *object,
                                      const char *name, char **value) {
  pp_status status = PP_SUCCESS;
  hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID, memtype = H5I_INVALID_HID;
  char *text = NULL, *vl_text = NULL;
  *value = NULL;
  PP_CALL_GOTO(status,
               pp_output_open_attribute(file, path, object, name, H5T_STRING, &attr, &type));
  memtype = H5Tcopy(H5T_C_S1);
  PP_H5_CHECK_GOTO(status, memtype >= 0 && H5Tset_cset(memtype, H5Tget_cset(type)) >= 0,
                   PP_ERR_LIBRARY, "cannot make a string type");
  if (H5Tis_variable_str(type) > 0) {
    PP_H5_CHECK_GOTO(status,
                     H5Tset_size(memtype, H5T_VARIABLE) >= 0 &&
                         H5Aread(attr, memtype, &vl_text) >= 0,
                     PP_ERR_IO, "cannot read attribute '%s' from '%s'", name, path);
    text = strdup(vl_text ? vl_text : "");
  } else {
    /* One more byte than stored, so the value is NUL-terminated whatever its padding. */
    size_t size = H5Tget_size(type);
    text = calloc(size + 1, 1);
    PP_CHECK_GOTO(status, text != NULL, PP_ERR_MEMORY, "out of memory");
    PP_H5_CHECK_GOTO(status,
                     H5Tset_size(memtype, size + 1) >= 0 &&
                         H5Tset_strpad(memtype, H5T_STR_NULLTERM) >= 0 &&
                         H5Aread(attr, memtype, text) >= 0,
                     PP_ERR_IO, "cannot read attribute '%s' from '%s'", name, path);
  }
  PP_CHECK_GOTO(status, text != NULL, PP_ERR_MEMORY, "out of memory");
  *value = text;
  text = NULL;
done:
  if (vl_text) H5free_memory(vl_text);
  free(text);
  pp_io_hdf5_close(&memtype);
  pp_io_hdf5_close(&type);
  pp_io_hdf5_close(&attr);
  return status;
}

pp_status pp_output_read_string_attribute(const char *path, const char *object,
                                          const char *name, char **value) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  pp_io_hdf5_quiet quiet;
  pp_io_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, object && name && value, PP_ERR_INTERNAL,
                "pp_output_read_string_attribute: NULL argument");
  *value = NULL;
  PP_CALL_GOTO(status, pp_io_open_read(path, &file));
  PP_CALL_GOTO(status, pp_io_read_string_attribute(file, path, object, name, value));
done:
  pp_io_read_end(&file, &quiet);
  return status;
}

pp_status pp_io_read_number_attribute(hid_t file, const char *path, const char *object,
                                      const char *name, double *value) {
  pp_status status = PP_SUCCESS;
  hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID;
  PP_CALL_GOTO(status, pp_output_open_attribute(file, path, object, name, H5T_FLOAT, &attr, &type));
  PP_H5_CHECK_GOTO(status, H5Aread(attr, H5T_NATIVE_DOUBLE, value) >= 0, PP_ERR_IO,
                   "cannot read attribute '%s' from '%s'", name, path);
done:
  pp_io_hdf5_close(&type);
  pp_io_hdf5_close(&attr);
  return status;
}

pp_status pp_output_read_number_attribute(const char *path, const char *object,
                                          const char *name, double *value) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  pp_io_hdf5_quiet quiet;
  pp_io_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, object && name && value, PP_ERR_INTERNAL,
                "pp_output_read_number_attribute: NULL argument");
  PP_CALL_GOTO(status, pp_io_open_read(path, &file));
  PP_CALL_GOTO(status, pp_io_read_number_attribute(file, path, object, name, value));
done:
  pp_io_read_end(&file, &quiet);
  return status;
}

pp_status pp_io_dataset_shape(hid_t file, const char *path, const char *name, int *ndims,
                              size_t dims[3]) {
  pp_status status = PP_SUCCESS;
  hid_t dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  *ndims = 0;
  dims[0] = dims[1] = dims[2] = 1;
  dataset = H5Dopen2(file, name, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, dataset >= 0, PP_ERR_IO, "'%s' has no dataset %s", path, name);
  space = H5Dget_space(dataset);
  int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  PP_CHECK_GOTO(status, rank >= 1 && rank <= 3, PP_ERR_INPUT,
                "dataset %s in '%s' has %d dimensions; 1 to 3 can be read", name, path, rank);
  hsize_t extent[3] = {1, 1, 1};
  PP_H5_CHECK_GOTO(status, H5Sget_simple_extent_dims(space, extent, NULL) == rank,
                   PP_ERR_LIBRARY, "cannot get the shape of %s in '%s'", name, path);
  for (int i = 0; i < rank; i++) dims[i] = extent[i];
  *ndims = rank;
done:
  pp_io_hdf5_close(&space);
  pp_io_hdf5_close(&dataset);
  return status;
}

pp_status pp_io_read_whole(hid_t file, const char *path, const char *name, hid_t mem_type,
                           size_t count, void *data) {
  pp_status status = PP_SUCCESS;
  hid_t dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  dataset = H5Dopen2(file, name, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, dataset >= 0, PP_ERR_IO, "'%s' has no dataset %s", path, name);
  space = H5Dget_space(dataset);
  hssize_t points = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
  PP_CHECK_GOTO(status, points >= 0 && (size_t)points == count, PP_ERR_INPUT,
                "dataset %s in '%s' has %lld values, %zu expected", name, path,
                (long long)points, count);
  PP_H5_CHECK_GOTO(status, H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0,
                   PP_ERR_IO, "cannot read %s from '%s'", name, path);
done:
  pp_io_hdf5_close(&space);
  pp_io_hdf5_close(&dataset);
  return status;
}
