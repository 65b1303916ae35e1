/* HDF5 helpers for src/io's output file: attributes, the provenance record type, and
 * agreement of a status across ranks (the generic HDF5 helpers are formats/formats_hdf5.h). */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "polypsf/io.h"
#include "polypsf/job.h"

/* The words come from the job module, so the file says what the job file says. */
const char *pp_io_method_name(int method) {
  if (method == PP_IO_METHOD_NONE) return "none";
  if (method < (int)PP_METHOD_AUTO || method > (int)PP_METHOD_FFT) return NULL;
  return pp_method_name((pp_method)method);
}

const char *pp_io_normalize_name(int normalize) {
  if (normalize < (int)PP_NORMALIZE_FIRST || normalize > (int)PP_NORMALIZE_NONE) return NULL;
  return pp_normalize_name((pp_normalize)normalize);
}

pp_status pp_io_task_memtype_create(hid_t *type) {
  pp_status status = PP_SUCCESS;
  hid_t method_type = H5I_INVALID_HID, record_type = H5I_INVALID_HID;
  *type = H5I_INVALID_HID;

  method_type = H5Tenum_create(H5T_NATIVE_INT);
  PP_H5_CHECK_GOTO(status, method_type >= 0, PP_ERR_LIBRARY, "cannot create the method enum type");
  static const int methods[] = {PP_IO_METHOD_NONE, PP_METHOD_AUTO, PP_METHOD_MFT, PP_METHOD_CZT,
                                PP_METHOD_FFT};
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    PP_H5_CHECK_GOTO(status, H5Tenum_insert(method_type, pp_io_method_name(methods[i]),
                                            &methods[i]) >= 0,
                     PP_ERR_LIBRARY, "cannot add '%s' to the method enum type",
                     pp_io_method_name(methods[i]));

  record_type = H5Tcreate(H5T_COMPOUND, sizeof(pp_task_record));
  PP_H5_CHECK_GOTO(status, record_type >= 0, PP_ERR_LIBRARY, "cannot create the task record type");
  PP_H5_CHECK_GOTO(
      status,
      H5Tinsert(record_type, "rank", HOFFSET(pp_task_record, rank), H5T_NATIVE_INT) >= 0 &&
          H5Tinsert(record_type, "node", HOFFSET(pp_task_record, node), H5T_NATIVE_INT) >= 0 &&
          H5Tinsert(record_type, "method", HOFFSET(pp_task_record, method), method_type) >= 0 &&
          H5Tinsert(record_type, "seconds", HOFFSET(pp_task_record, seconds),
                    H5T_NATIVE_DOUBLE) >= 0 &&
          H5Tinsert(record_type, "peak_bytes", HOFFSET(pp_task_record, peak_bytes),
                    H5T_NATIVE_DOUBLE) >= 0,
      PP_ERR_LIBRARY, "cannot build the task record type");
  *type = record_type;
  record_type = H5I_INVALID_HID;
done:
  pp_formats_hdf5_close(&method_type);
  pp_formats_hdf5_close(&record_type);
  return status;
}

/* Creates attribute `name` of file type `file_type` and shape `space`, writes `value`. */
static pp_status pp_io_attr_write(hid_t object, const char *name, hid_t file_type, hid_t mem_type,
                                  hid_t space, const void *value) {
  pp_status status = PP_SUCCESS;
  hid_t attr = H5Acreate2(object, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, attr >= 0, PP_ERR_LIBRARY, "cannot create attribute '%s'", name);
  PP_H5_CHECK_GOTO(status, H5Awrite(attr, mem_type, value) >= 0, PP_ERR_IO,
                   "cannot write attribute '%s'", name);
done:
  pp_formats_hdf5_close(&attr);
  return status;
}

pp_status pp_io_attr_write_string(hid_t object, const char *name, const char *value) {
  pp_status status = PP_SUCCESS;
  hid_t space = H5I_INVALID_HID, type = H5I_INVALID_HID;
  space = H5Screate(H5S_SCALAR);
  type = H5Tcopy(H5T_C_S1);
  PP_H5_CHECK_GOTO(status,
                   space >= 0 && type >= 0 && H5Tset_size(type, H5T_VARIABLE) >= 0 &&
                       H5Tset_cset(type, H5T_CSET_UTF8) >= 0,
                   PP_ERR_LIBRARY, "cannot make the string type for attribute '%s'", name);
  const char *text = value ? value : "";
  PP_CALL_GOTO(status, pp_io_attr_write(object, name, type, type, space, &text));
done:
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&type);
  return status;
}

pp_status pp_io_attr_write_double(hid_t object, const char *name, double value) {
  pp_status status = PP_SUCCESS;
  hid_t space = H5Screate(H5S_SCALAR);
  PP_H5_CHECK_GOTO(status, space >= 0, PP_ERR_LIBRARY, "cannot make a scalar dataspace");
  PP_CALL_GOTO(status,
               pp_io_attr_write(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, &value));
done:
  pp_formats_hdf5_close(&space);
  return status;
}

pp_status pp_io_attr_write_int64(hid_t object, const char *name, long long value) {
  pp_status status = PP_SUCCESS;
  hid_t space = H5Screate(H5S_SCALAR);
  PP_H5_CHECK_GOTO(status, space >= 0, PP_ERR_LIBRARY, "cannot make a scalar dataspace");
  PP_CALL_GOTO(status,
               pp_io_attr_write(object, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, space, &value));
done:
  pp_formats_hdf5_close(&space);
  return status;
}

/* A one-dimensional attribute of count values: file_type on disk, mem_type in memory. */
static pp_status pp_io_attr_write_array(hid_t object, const char *name, hid_t file_type,
                                        hid_t mem_type, const void *values, size_t count) {
  pp_status status = PP_SUCCESS;
  hsize_t dims[1] = {count};
  hid_t space = H5Screate_simple(1, dims, NULL);
  PP_H5_CHECK_GOTO(status, space >= 0, PP_ERR_LIBRARY, "cannot make a dataspace of %zu", count);
  PP_CALL_GOTO(status, pp_io_attr_write(object, name, file_type, mem_type, space, values));
done:
  pp_formats_hdf5_close(&space);
  return status;
}

pp_status pp_io_attr_write_int64_array(hid_t object, const char *name, const long long *values,
                                       size_t count) {
  return pp_io_attr_write_array(object, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, values, count);
}

pp_status pp_io_attr_write_double_array(hid_t object, const char *name, const double *values,
                                        size_t count) {
  return pp_io_attr_write_array(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values, count);
}

pp_status pp_io_plane_memtype_create(pp_plane_quantity quantity, hid_t *type) {
  *type = H5I_INVALID_HID;
  if (quantity == PP_PLANE_INTENSITY) {
    *type = H5Tcopy(H5T_NATIVE_DOUBLE);
    PP_CHECK(*type >= 0, PP_ERR_LIBRARY, "cannot copy the double type");
    return PP_SUCCESS;
  }
  bool pair = quantity == PP_PLANE_COMPLEX;
  /* h5py reads a compound {r, i} of two floats as complex numbers */
  const char *first = pair ? "r" : "amplitude", *second = pair ? "i" : "phase_rad";
  *type = H5Tcreate(H5T_COMPOUND, 2 * sizeof(double));
  if (*type < 0 || H5Tinsert(*type, first, 0, H5T_NATIVE_DOUBLE) < 0 ||
      H5Tinsert(*type, second, sizeof(double), H5T_NATIVE_DOUBLE) < 0) {
    pp_formats_hdf5_close(type);
    PP_CHECK(false, PP_ERR_LIBRARY, "cannot make the plane element type");
  }
  return PP_SUCCESS;
}

pp_status pp_io_attr_update_int64(hid_t object, const char *name, long long value) {
  pp_status status = PP_SUCCESS;
  hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, attr >= 0, PP_ERR_IO, "cannot open attribute '%s'", name);
  PP_H5_CHECK_GOTO(status, H5Awrite(attr, H5T_NATIVE_LLONG, &value) >= 0, PP_ERR_IO,
                   "cannot write attribute '%s'", name);
done:
  pp_formats_hdf5_close(&attr);
  return status;
}

/* Writes a whole 1-D dataset from rank 0's buffer; the other ranks take part in the
 * collective transfer with an empty selection. */
pp_status pp_io_write_from_root(const pp_output *out, hid_t dataset, hid_t mem_type,
                                const void *data, const char *name) {
  pp_status status = PP_SUCCESS;
  hsize_t count = out->n_wavelengths;
  hid_t file_space = H5Dget_space(dataset);
  hid_t mem_space = H5Screate_simple(1, &count, NULL);
  PP_H5_CHECK_GOTO(status, file_space >= 0 && mem_space >= 0, PP_ERR_LIBRARY,
                   "cannot make dataspaces for %s", name);
  if (out->rank != 0)
    PP_H5_CHECK_GOTO(status, H5Sselect_none(file_space) >= 0 && H5Sselect_none(mem_space) >= 0,
                     PP_ERR_LIBRARY, "cannot select nothing in %s", name);
  PP_H5_CHECK_GOTO(status,
                   H5Dwrite(dataset, mem_type, mem_space, file_space, out->dxpl_collective,
                            data) >= 0,
                   PP_ERR_IO, "cannot write %s to '%s'", name, out->partial_path);
done:
  pp_formats_hdf5_close(&file_space);
  pp_formats_hdf5_close(&mem_space);
  return status;
}
