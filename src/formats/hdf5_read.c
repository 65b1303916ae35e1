/* HDF5 helpers shared by every module that reads or writes HDF5 (formats_hdf5.h). */
#include "formats/formats_hdf5.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pp_formats_hdf5_quiet_begin(pp_formats_hdf5_quiet *saved) {
  saved->func = NULL;
  saved->client_data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &saved->func, &saved->client_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void pp_formats_hdf5_quiet_end(const pp_formats_hdf5_quiet *saved) {
  H5Eset_auto2(H5E_DEFAULT, saved->func, saved->client_data);
}

/* What the error stack says: the API call that failed (outermost) and the root cause
 * (innermost, often an errno or MPI error string). */
typedef struct {
  char outermost[256];
  char innermost[256];
} pp_formats_hdf5_detail;

static herr_t pp_formats_hdf5_walk(unsigned n, const H5E_error2_t *entry, void *client_data) {
  pp_formats_hdf5_detail *detail = client_data;
  const char *desc = entry->desc && entry->desc[0] ? entry->desc : "(no description)";
  /* Walking downward: entry 0 is the API function, the last one the root cause. */
  if (n == 0)
    snprintf(detail->outermost, sizeof detail->outermost, "%s: %s", entry->func_name, desc);
  snprintf(detail->innermost, sizeof detail->innermost, "%s", desc);
  return 0;
}

pp_status pp_formats_hdf5_error(pp_error_code code, const char *file, int line, const char *func,
                                const char *fmt, ...) {
  char sentence[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sentence, sizeof sentence, fmt, ap);
  va_end(ap);

  pp_formats_hdf5_detail detail = {{0}, {0}};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, pp_formats_hdf5_walk, &detail);
  H5Eclear2(H5E_DEFAULT);

  if (detail.outermost[0] == '\0')
    return pp_error_raise(code, file, line, func, "%s", sentence);
  /* The innermost entry is often the same sentence as the outermost one; say it once. */
  if (strstr(detail.outermost, detail.innermost) != NULL)
    return pp_error_raise(code, file, line, func, "%s (HDF5: %s)", sentence, detail.outermost);
  return pp_error_raise(code, file, line, func, "%s (HDF5: %s; cause: %s)", sentence,
                        detail.outermost, detail.innermost);
}

bool pp_formats_hdf5_close(hid_t *id) {
  if (*id < 0) return true;
  herr_t result = -1;
  switch (H5Iget_type(*id)) {
    case H5I_FILE: result = H5Fclose(*id); break;
    case H5I_GROUP: result = H5Gclose(*id); break;
    case H5I_DATASET: result = H5Dclose(*id); break;
    case H5I_DATASPACE: result = H5Sclose(*id); break;
    case H5I_DATATYPE: result = H5Tclose(*id); break;
    case H5I_ATTR: result = H5Aclose(*id); break;
    case H5I_GENPROP_LST: result = H5Pclose(*id); break;
    default: result = -1; break;
  }
  *id = H5I_INVALID_HID;
  return result >= 0;
}

pp_status pp_formats_hdf5_open_read(const char *path, hid_t *file) {
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
  pp_formats_hdf5_close(&fapl);
  return status;
}

void pp_formats_hdf5_read_end(hid_t *file, const pp_formats_hdf5_quiet *quiet) {
  pp_formats_hdf5_close(file);
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(quiet);
}

/* Opens attribute `name` of `object` and checks it holds one value of class `want`. */
static pp_status pp_formats_hdf5_open_attribute(hid_t file, const char *path, const char *object,
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
  pp_formats_hdf5_close(&space);
  if (status != PP_SUCCESS) {
    pp_formats_hdf5_close(type);
    pp_formats_hdf5_close(attr);
  }
  return status;
}

pp_status pp_formats_hdf5_read_string_attribute(hid_t file, const char *path, const char *object,
                                                const char *name, char **value) {
  pp_status status = PP_SUCCESS;
  hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID, memtype = H5I_INVALID_HID;
  char *text = NULL, *vl_text = NULL;
  *value = NULL;
  PP_CALL_GOTO(status,
               pp_formats_hdf5_open_attribute(file, path, object, name, H5T_STRING, &attr, &type));
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
  pp_formats_hdf5_close(&memtype);
  pp_formats_hdf5_close(&type);
  pp_formats_hdf5_close(&attr);
  return status;
}

pp_status pp_formats_hdf5_read_number_attribute(hid_t file, const char *path, const char *object,
                                                const char *name, double *value) {
  pp_status status = PP_SUCCESS;
  hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID;
  PP_CALL_GOTO(status,
               pp_formats_hdf5_open_attribute(file, path, object, name, H5T_FLOAT, &attr, &type));
  PP_H5_CHECK_GOTO(status, H5Aread(attr, H5T_NATIVE_DOUBLE, value) >= 0, PP_ERR_IO,
                   "cannot read attribute '%s' from '%s'", name, path);
done:
  pp_formats_hdf5_close(&type);
  pp_formats_hdf5_close(&attr);
  return status;
}

