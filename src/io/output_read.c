/* Reading an output file back, serially (HDF5's default driver, no MPI): for the tests,
 * `polypsf info` and --resume. Every public function opens and closes the file itself, so
 * a caller never holds HDF5 ids; the pp_io_* and pp_formats_hdf5_* forms read from a file
 * already open (the checks output_resume.c makes on rank 0). */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <stdlib.h>
#include <string.h>

#include "polypsf/io.h"

pp_status pp_output_read_dataset(const char *path, const char *name, double **data,
                                 size_t dims[3], int *ndims) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t type = H5I_INVALID_HID;
  double *values = NULL;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, name && data && dims && ndims, PP_ERR_INTERNAL,
                "pp_output_read_dataset: NULL argument");
  *data = NULL;
  *ndims = 0;
  dims[0] = dims[1] = dims[2] = 1;

  PP_CALL_GOTO(status, pp_formats_hdf5_open_read(path, &file));
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
  pp_formats_hdf5_close(&type);
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dataset);
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}

pp_status pp_output_read_tasks(const char *path, pp_task_record **records, size_t *count) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t memtype = H5I_INVALID_HID;
  pp_task_record *rows = NULL;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, records && count, PP_ERR_INTERNAL, "pp_output_read_tasks: NULL argument");
  *records = NULL;
  *count = 0;

  PP_CALL_GOTO(status, pp_formats_hdf5_open_read(path, &file));
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
  pp_formats_hdf5_close(&memtype);
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dataset);
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}

pp_status pp_output_read_string_attribute(const char *path, const char *object,
                                          const char *name, char **value) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, object && name && value, PP_ERR_INTERNAL,
                "pp_output_read_string_attribute: NULL argument");
  *value = NULL;
  PP_CALL_GOTO(status, pp_formats_hdf5_open_read(path, &file));
  PP_CALL_GOTO(status, pp_formats_hdf5_read_string_attribute(file, path, object, name, value));
done:
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}

pp_status pp_output_read_number_attribute(const char *path, const char *object,
                                          const char *name, double *value) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, object && name && value, PP_ERR_INTERNAL,
                "pp_output_read_number_attribute: NULL argument");
  PP_CALL_GOTO(status, pp_formats_hdf5_open_read(path, &file));
  PP_CALL_GOTO(status, pp_formats_hdf5_read_number_attribute(file, path, object, name, value));
done:
  pp_formats_hdf5_read_end(&file, &quiet);
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
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dataset);
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
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dataset);
  return status;
}

/* ---- intermediate planes ------------------------------------------------------------- */

void pp_plane_slice_clear(pp_plane_slice *slice) {
  if (!slice) return;
  pp_array_free(&slice->intensity);
  *slice = (pp_plane_slice){0};
}

/* Whether dataset `name` of /planes is what `wanted` names: itself, its index prefix, or its
 * optic_name attribute. */
static bool pp_plane_matches(hid_t group, const char *name, const char *wanted) {
  if (strcmp(name, wanted) == 0) return true;
  size_t digits = strspn(name, "0123456789");
  if (digits > 0 && strlen(wanted) == digits && strncmp(name, wanted, digits) == 0) return true;
  bool match = false;
  hid_t dataset = H5Dopen2(group, name, H5P_DEFAULT);
  if (dataset >= 0 && H5Aexists(dataset, "optic_name") > 0) {
    hid_t attr = H5Aopen(dataset, "optic_name", H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    char *value = NULL;
    if (type >= 0 && H5Tis_variable_str(type) > 0 && H5Aread(attr, type, &value) >= 0 && value) {
      match = strcmp(value, wanted) == 0;
      H5free_memory(value);
    }
    pp_formats_hdf5_close(&type);
    pp_formats_hdf5_close(&attr);
  }
  pp_formats_hdf5_close(&dataset);
  return match;
}

pp_status pp_output_read_plane(const char *path, const char *plane, size_t index,
                               pp_plane_slice *slice) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, group = H5I_INVALID_HID, dataset = H5I_INVALID_HID;
  hid_t space = H5I_INVALID_HID, memspace = H5I_INVALID_HID, memtype = H5I_INVALID_HID;
  hid_t type = H5I_INVALID_HID;
  double *pairs = NULL, *pixelscales = NULL;
  char *quantity = NULL;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, plane != NULL && slice != NULL, PP_ERR_INTERNAL,
                "pp_output_read_plane: NULL argument");
  *slice = (pp_plane_slice){0};
  PP_CALL_GOTO(status, pp_formats_hdf5_open_read(path, &file));
  PP_CHECK_GOTO(status, H5Lexists(file, "planes", H5P_DEFAULT) > 0, PP_ERR_INPUT,
                "'%s' has no /planes: its job did not ask for output.planes", path);
  group = H5Gopen2(file, "planes", H5P_DEFAULT);
  H5G_info_t info;
  PP_H5_CHECK_GOTO(status, group >= 0 && H5Gget_info(group, &info) >= 0, PP_ERR_IO,
                   "cannot open /planes in '%s'", path);
  char names[1024] = "", found[sizeof slice->name] = "";
  size_t used = 0, matches = 0;
  for (hsize_t k = 0; k < info.nlinks; k++) {
    char name[sizeof slice->name];
    if (H5Lget_name_by_idx(group, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, k, name, sizeof name,
                           H5P_DEFAULT) < 0 &&
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name,
                           H5P_DEFAULT) < 0)
      continue;
    if (used < sizeof names) {
      int n = snprintf(names + used, sizeof names - used, "%s%s", k ? ", " : "", name);
      if (n > 0) used += (size_t)n;
    }
    if (pp_plane_matches(group, name, plane)) {
      if (matches++ == 0) snprintf(found, sizeof found, "%s", name);
    }
  }
  H5Eclear2(H5E_DEFAULT);
  PP_CHECK_GOTO(status, matches > 0, PP_ERR_INPUT, "'%s' has no plane '%s'; its planes are: %s",
                path, plane, names);
  PP_CHECK_GOTO(status, matches == 1, PP_ERR_INPUT,
                "%zu planes of '%s' answer to '%s': give the dataset name; its planes are: %s",
                matches, path, plane, names);
  snprintf(slice->name, sizeof slice->name, "%s", found);
  dataset = H5Dopen2(group, found, H5P_DEFAULT);
  space = dataset >= 0 ? H5Dget_space(dataset) : H5I_INVALID_HID;
  hsize_t dims[3] = {0, 0, 0};
  PP_H5_CHECK_GOTO(status,
                   space >= 0 && H5Sget_simple_extent_ndims(space) == 3 &&
                       H5Sget_simple_extent_dims(space, dims, NULL) == 3,
                   PP_ERR_INPUT, "/planes/%s in '%s' is not a [wavelength][y][x] dataset", found,
                   path);
  PP_CHECK_GOTO(status, index < dims[0], PP_ERR_INPUT,
                "wavelength index %zu is out of range: '%s' has %llu wavelengths (0 to %llu)",
                index, path, (unsigned long long)dims[0], (unsigned long long)dims[0] - 1);
  char *plane_type = NULL;
  PP_CALL_GOTO(status,
               pp_formats_hdf5_read_string_attribute(file, path, "/planes", "quantity", &quantity));
  char object[sizeof slice->name + 8];
  snprintf(object, sizeof object, "/planes/%s", found);
  PP_CALL_GOTO(
      status, pp_formats_hdf5_read_string_attribute(file, path, object, "plane_type", &plane_type));
  snprintf(slice->plane_type, sizeof slice->plane_type, "%s", plane_type);
  free(plane_type);
  /* the pixel scale at this wavelength (an attribute array, one per wavelength) */
  bool pupil = strcmp(slice->plane_type, "pupil") == 0;
  /* a Fresnel result's planes are all in metres, its detector plane too */
  const char *scale_name =
      pupil || H5Aexists(dataset, "pixelscale_m") > 0 ? "pixelscale_m" : "pixelscale_arcsec";
  PP_CALL_GOTO(status, pp_array_alloc(dims[0] * sizeof(double), (void **)&pixelscales));
  hid_t attr = H5Aopen(dataset, scale_name, H5P_DEFAULT);
  herr_t read = attr >= 0 ? H5Aread(attr, H5T_NATIVE_DOUBLE, pixelscales) : -1;
  pp_formats_hdf5_close(&attr);
  PP_H5_CHECK_GOTO(status, read >= 0, PP_ERR_INPUT, "cannot read %s of %s in '%s'", scale_name,
                   object, path);
  slice->pixelscale = pixelscales[index];

  pp_plane_quantity q = PP_PLANE_INTENSITY;
  if (strcmp(quantity, "complex") == 0) q = PP_PLANE_COMPLEX;
  else if (strcmp(quantity, "amplitude_phase") == 0) q = PP_PLANE_AMPLITUDE_PHASE;
  else PP_CHECK_GOTO(status, strcmp(quantity, "intensity") == 0, PP_ERR_INPUT,
                     "/planes of '%s' holds an unknown quantity '%s'", path, quantity);
  slice->ny = dims[1];
  slice->nx = dims[2];
  size_t count = slice->ny * slice->nx;
  PP_CALL_GOTO(status, pp_array_alloc(count * sizeof(double), (void **)&slice->intensity));
  PP_CALL_GOTO(status, pp_array_alloc(2 * count * sizeof(double), (void **)&pairs));
  PP_CALL_GOTO(status, pp_io_plane_memtype_create(q, &memtype));
  const hsize_t start[3] = {index, 0, 0}, extent[3] = {1, dims[1], dims[2]};
  memspace = H5Screate_simple(2, dims + 1, NULL);
  PP_H5_CHECK_GOTO(status,
                   memspace >= 0 &&
                       H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, extent, NULL) >= 0 &&
                       H5Dread(dataset, memtype, memspace, space, H5P_DEFAULT, pairs) >= 0,
                   PP_ERR_IO, "cannot read wavelength %zu of %s from '%s'", index, object, path);
  for (size_t p = 0; p < count; p++) {
    if (q == PP_PLANE_INTENSITY) slice->intensity[p] = pairs[p];
    else if (q == PP_PLANE_COMPLEX)
      slice->intensity[p] = pairs[2 * p] * pairs[2 * p] + pairs[2 * p + 1] * pairs[2 * p + 1];
    else slice->intensity[p] = pairs[2 * p] * pairs[2 * p];
  }
done:
  if (status && slice) pp_plane_slice_clear(slice);
  free(quantity);
  pp_array_free(&pairs);
  pp_array_free(&pixelscales);
  pp_formats_hdf5_close(&type);
  pp_formats_hdf5_close(&memtype);
  pp_formats_hdf5_close(&memspace);
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dataset);
  pp_formats_hdf5_close(&group);
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}

pp_status pp_output_describe_planes(const char *path, char **text) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, group = H5I_INVALID_HID;
  char *quantity = NULL, *line = NULL;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, text != NULL, PP_ERR_INTERNAL, "pp_output_describe_planes: NULL argument");
  *text = NULL;
  PP_CALL_GOTO(status, pp_formats_hdf5_open_read(path, &file));
  if (H5Lexists(file, "planes", H5P_DEFAULT) <= 0) goto done;
  group = H5Gopen2(file, "planes", H5P_DEFAULT);
  H5G_info_t info;
  PP_H5_CHECK_GOTO(status, group >= 0 && H5Gget_info(group, &info) >= 0, PP_ERR_IO,
                   "cannot open /planes in '%s'", path);
  PP_CALL_GOTO(status,
               pp_formats_hdf5_read_string_attribute(file, path, "/planes", "quantity", &quantity));
  size_t size = 64 + (size_t)info.nlinks * (PP_OPTIC_NAME_BYTES + 64), used = 0;
  line = malloc(size);
  PP_CHECK_GOTO(status, line != NULL, PP_ERR_MEMORY, "out of memory");
  used += (size_t)snprintf(line, size, "%llu (%s):", (unsigned long long)info.nlinks, quantity);
  for (hsize_t k = 0; k < info.nlinks && used < size; k++) {
    char name[PP_OPTIC_NAME_BYTES + 32], object[sizeof name + 8];
    if (H5Lget_name_by_idx(group, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, k, name, sizeof name,
                           H5P_DEFAULT) < 0 &&
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name,
                           H5P_DEFAULT) < 0)
      continue;
    snprintf(object, sizeof object, "/planes/%s", name);
    char *plane_type = NULL;
    size_t dims[3] = {1, 1, 1};
    int ndims = 0;
    PP_CALL_GOTO(status, pp_formats_hdf5_read_string_attribute(file, path, object, "plane_type",
                                                               &plane_type));
    pp_status shape = pp_io_dataset_shape(file, path, object, &ndims, dims);
    int n = snprintf(line + used, size - used, "%s %s %s %zu x %zu", k ? "," : "", name,
                     plane_type, dims[2], dims[1]);
    free(plane_type);
    PP_CALL_GOTO(status, shape);
    if (n > 0) used += (size_t)n;
  }
  H5Eclear2(H5E_DEFAULT);
  *text = line;
  line = NULL;
done:
  free(line);
  free(quantity);
  pp_formats_hdf5_close(&group);
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}
