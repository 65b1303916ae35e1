/* An output file read back into memory for `polypsf export`, `render` and `info`: serial
 * (HDF5's default driver), checked against docs/output-format.md, every failure an input
 * error naming the file: the user pointed the command at it. */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "polypsf/io.h"

/* Re-raises an error from the shared readers as PP_ERR_INPUT (memory stays memory). */
static pp_status pp_result_input_error(pp_status status, const char *file, int line,
                                       const char *func) {
  if (status == PP_SUCCESS || pp_status_code(status) == PP_ERR_MEMORY) return status;
  pp_status input = pp_error_raise(PP_ERR_INPUT, file, line, func, "%s", pp_status_message(status));
  pp_status_free(status);
  return input;
}

/* PP_CALL_GOTO for the shared readers: their IO/library errors become input errors. */
#define PP_RESULT_CALL_GOTO(status, expr)                                                  \
  do {                                                                                     \
    pp_status pp_result_status_ = (expr);                                                  \
    if (pp_result_status_ != PP_SUCCESS) {                                                 \
      (status) = pp_result_input_error(pp_result_status_, __FILE__, __LINE__, __func__);   \
      goto done;                                                                           \
    }                                                                                      \
  } while (0)

static pp_status pp_result_read_int(hid_t file, const char *path, const char *name, long long min,
                                    long long max, long long *value) {
  double number = 0.0;
  PP_CALL(pp_formats_hdf5_read_number_attribute(file, path, "/", name, &number));
  PP_CHECK(number == (double)(long long)number && number >= (double)min && number <= (double)max,
           PP_ERR_INPUT, "'%s' is damaged: root attribute %s is %g, not a whole number from %lld "
           "to %lld", path, name, number, min, max);
  *value = (long long)number;
  return PP_SUCCESS;
}

static pp_status pp_result_read_positive(hid_t file, const char *path, const char *name,
                                         double *value) {
  PP_CALL(pp_formats_hdf5_read_number_attribute(file, path, "/", name, value));
  PP_CHECK(isfinite(*value) && *value > 0.0, PP_ERR_INPUT,
           "'%s' is damaged: root attribute %s is %g, not a positive number", path, name, *value);
  return PP_SUCCESS;
}

/* A whole float64 dataset of the expected rank into a new aligned array. */
static pp_status pp_result_read_doubles(hid_t file, const char *path, const char *name,
                                        int want_ndims, size_t dims[3], double **values) {
  int ndims = 0;
  PP_CALL(pp_io_dataset_shape(file, path, name, &ndims, dims));
  PP_CHECK(ndims == want_ndims, PP_ERR_INPUT, "'%s' is damaged: %s has %d dimensions, not %d",
           path, name, ndims, want_ndims);
  size_t count = 1, bytes = 0;
  for (int i = 0; i < ndims; i++) PP_CALL(pp_size_mul(count, dims[i], &count));
  PP_CHECK(count > 0, PP_ERR_INPUT, "'%s' is damaged: %s is empty", path, name);
  PP_CALL(pp_size_mul(count, sizeof(double), &bytes));
  PP_CALL(pp_array_alloc(bytes, (void **)values));
  pp_status status = pp_io_read_whole(file, path, name, H5T_NATIVE_DOUBLE, count, *values);
  if (status != PP_SUCCESS) pp_array_free(values);
  return status;
}

/* The checks before HDF5 is asked anything, so that the common mistakes read plainly. */
static pp_status pp_result_check_path(const char *path) {
  PP_CHECK(path != NULL && path[0] != '\0', PP_ERR_INPUT, "no input file given");
  struct stat info;
  if (stat(path, &info) != 0) {
    int missing = errno;
    /* A stopped run leaves its work under the temporary name: say where it is. */
    char partial[4096];
    pp_status named = missing == ENOENT ? pp_output_temp_path(path, partial, sizeof partial)
                                        : PP_SUCCESS;
    bool has_partial = missing == ENOENT && named == PP_SUCCESS && stat(partial, &info) == 0;
    pp_status_free(named);
    PP_CHECK(!has_partial, PP_ERR_INPUT,
             "cannot read '%s': %s; its unfinished run's '%s' is there (polypsf info '%s' shows "
             "it; polypsf run --resume finishes it)", path, strerror(missing), partial, partial);
    PP_CHECK(false, PP_ERR_INPUT, "cannot read '%s': %s", path, strerror(missing));
  }
  PP_CHECK(!S_ISDIR(info.st_mode), PP_ERR_INPUT, "'%s' is a directory, not an output file", path);
  htri_t is_hdf5 = H5Fis_hdf5(path); /* HDF5 1.10: H5Fis_accessible came in 1.12 */
  PP_CHECK(is_hdf5 > 0, PP_ERR_INPUT,
           "'%s' is not an HDF5 file, or is damaged (a polypsf output file is HDF5)", path);
  return PP_SUCCESS;
}

static pp_status pp_result_read_attributes(hid_t file, const char *path, pp_result *r) {
  char *format_name = NULL;
  pp_status s = pp_formats_hdf5_read_string_attribute(file, path, "/", "format_name", &format_name);
  bool is_ours = s == PP_SUCCESS && strcmp(format_name, PP_OUTPUT_FORMAT_NAME) == 0;
  pp_status_free(s);
  free(format_name);
  PP_CHECK(is_ours, PP_ERR_INPUT,
           "'%s' is an HDF5 file but not a polypsf output file (its root attribute format_name "
           "is not '%s')", path, PP_OUTPUT_FORMAT_NAME);
  PP_CALL(pp_result_read_int(file, path, "format_version", 1, 1000000, &r->format_version));
  PP_CHECK(r->format_version <= PP_OUTPUT_FORMAT_VERSION, PP_ERR_INPUT,
           "'%s' has format version %lld; this polypsf (%s) reads up to version %d: use a newer "
           "polypsf", path, r->format_version, pp_version(), PP_OUTPUT_FORMAT_VERSION);
  PP_CALL(pp_formats_hdf5_read_string_attribute(file, path, "/", "software_version",
                                                &r->software_version));
  PP_CALL(pp_formats_hdf5_read_string_attribute(file, path, "/", "creation_date_utc",
                                                &r->creation_date_utc));
  PP_CALL(pp_formats_hdf5_read_string_attribute(file, path, "/", "job_text", &r->job_text));
  PP_CALL(pp_formats_hdf5_read_string_attribute(file, path, "/", "job_source", &r->job_source));
  PP_CALL(
      pp_formats_hdf5_read_string_attribute(file, path, "/", "normalization", &r->normalization));
  PP_CALL(pp_formats_hdf5_read_string_attribute(file, path, "/", "method", &r->method));
  /* A Fresnel result is in metres (root pixelscale_m); its arcsec scales are 0. */
  if (H5Aexists(file, "pixelscale_m") > 0) {
    PP_CALL(pp_result_read_positive(file, path, "pixelscale_m", &r->pixelscale_m));
  } else {
    PP_CALL(pp_result_read_positive(file, path, "pixelscale_arcsec", &r->pixelscale_arcsec));
    PP_CALL(pp_result_read_positive(file, path, "detector_pixelscale_arcsec",
                                    &r->detector_pixelscale_arcsec));
  }
  PP_CALL(pp_result_read_positive(file, path, "pupil_diameter_m", &r->pupil_diameter_m));
  long long value = 0;
  PP_CALL(pp_result_read_int(file, path, "oversample", 1, 1000000, &value));
  r->oversample = (int)value;
  PP_CALL(pp_result_read_int(file, path, "fft_oversample", 1, 1000000, &value));
  r->fft_oversample = (int)value;
  PP_CALL(pp_result_read_int(file, path, "pupil_npix", 1, 1000000000, &value));
  r->pupil_npix = (size_t)value;
  PP_CALL(pp_result_read_int(file, path, "n_ranks", 1, 100000000, &value));
  r->n_ranks = (int)value;
  PP_CALL(pp_result_read_int(file, path, "n_nodes", 1, 100000000, &value));
  r->n_nodes = (int)value;
  r->threads_per_rank = 0; /* files written before it was recorded lack it */
  if (H5Aexists(file, "threads_per_rank") > 0) {
    PP_CALL(pp_result_read_int(file, path, "threads_per_rank", 1, 1000000, &value));
    r->threads_per_rank = (int)value;
  }
  return PP_SUCCESS;
}

static pp_status pp_result_read_datasets(hid_t file, const char *path, pp_result *r) {
  pp_status status = PP_SUCCESS;
  hid_t task_type = H5I_INVALID_HID;
  size_t dims[3];
  PP_CALL(pp_result_read_doubles(file, path, "/psf", 2, dims, &r->psf));
  r->ny = dims[0];
  r->nx = dims[1];
  PP_CALL(pp_result_read_doubles(file, path, "/psf_detector", 2, dims, &r->psf_detector));
  r->detector_ny = dims[0];
  r->detector_nx = dims[1];
  size_t os = (size_t)r->oversample;
  PP_CHECK(r->ny % os == 0 && r->nx % os == 0 && r->detector_ny == r->ny / os &&
               r->detector_nx == r->nx / os,
           PP_ERR_INPUT, "'%s' is damaged: /psf is %zu x %zu, /psf_detector %zu x %zu, "
           "oversample %d", path, r->ny, r->nx, r->detector_ny, r->detector_nx, r->oversample);

  PP_CALL(pp_result_read_doubles(file, path, "/wavelengths", 1, dims, &r->wavelengths_m));
  size_t n = r->n_wavelengths = dims[0];
  PP_CALL(pp_result_read_doubles(file, path, "/weights", 1, dims, &r->weights));
  PP_CHECK(dims[0] == n, PP_ERR_INPUT, "'%s' is damaged: %zu weights for %zu wavelengths", path,
           dims[0], n);
  r->completed = calloc(n, 1);
  r->tasks = calloc(n, sizeof *r->tasks);
  PP_CHECK(r->completed && r->tasks, PP_ERR_MEMORY, "out of memory for %zu wavelengths", n);
  PP_CALL(pp_io_read_whole(file, path, "/status/completed", H5T_NATIVE_UCHAR, n, r->completed));
  for (size_t i = 0; i < n; i++) r->n_completed += r->completed[i] != 0;
  PP_CALL(pp_io_task_memtype_create(&task_type));
  PP_CALL_GOTO(status, pp_io_read_whole(file, path, "/provenance/tasks", task_type, n, r->tasks));

  htri_t has_cube = H5Lexists(file, "cube", H5P_DEFAULT);
  r->has_cube = has_cube > 0;
  if (r->has_cube) {
    int ndims = 0;
    PP_CALL_GOTO(status, pp_io_dataset_shape(file, path, "/cube", &ndims, dims));
    PP_CHECK_GOTO(status, ndims == 3 && dims[0] == n && dims[1] == r->ny && dims[2] == r->nx,
                  PP_ERR_INPUT, "'%s' is damaged: /cube is not [%zu][%zu][%zu]", path, n, r->ny,
                  r->nx);
  }
done:
  pp_formats_hdf5_close(&task_type);
  return status;
}

pp_status pp_result_load(const char *path, pp_result **result) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  pp_result *r = NULL;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, result != NULL, PP_ERR_INTERNAL, "pp_result_load: NULL result");
  *result = NULL;
  PP_CALL_GOTO(status, pp_result_check_path(path));
  r = calloc(1, sizeof *r);
  PP_CHECK_GOTO(status, r != NULL, PP_ERR_MEMORY, "out of memory");
  r->path = strdup(path);
  PP_CHECK_GOTO(status, r->path != NULL, PP_ERR_MEMORY, "out of memory");
  PP_RESULT_CALL_GOTO(status, pp_formats_hdf5_open_read(path, &file));
  PP_RESULT_CALL_GOTO(status, pp_result_read_attributes(file, path, r));
  PP_RESULT_CALL_GOTO(status, pp_result_read_datasets(file, path, r));
  *result = r;
  r = NULL;
done:
  pp_result_destroy(&r);
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}

pp_status pp_result_check_complete(const pp_result *result) {
  PP_CHECK(result != NULL, PP_ERR_INTERNAL, "pp_result_check_complete: NULL result");
  PP_CHECK(result->n_completed == result->n_wavelengths, PP_ERR_INPUT,
           "'%s' has %zu of %zu wavelengths completed: it is the file of an unfinished run, "
           "whose /psf is not final (finish it with polypsf run --resume)", result->path,
           result->n_completed, result->n_wavelengths);
  return PP_SUCCESS;
}

pp_status pp_result_read_cube_slice(const pp_result *result, size_t index, double *slice) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t memspace = H5I_INVALID_HID;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, result != NULL && slice != NULL, PP_ERR_INTERNAL,
                "pp_result_read_cube_slice: NULL argument");
  PP_CHECK_GOTO(status, result->has_cube, PP_ERR_INPUT,
                "'%s' has no /cube (the job did not ask for output: {cube: true})", result->path);
  PP_CHECK_GOTO(status, index < result->n_wavelengths, PP_ERR_INPUT,
                "cube slice %zu asked of '%s', which has %zu", index, result->path,
                result->n_wavelengths);
  PP_RESULT_CALL_GOTO(status, pp_formats_hdf5_open_read(result->path, &file));
  dataset = H5Dopen2(file, "/cube", H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, dataset >= 0, PP_ERR_INPUT, "cannot open /cube in '%s'", result->path);
  space = H5Dget_space(dataset);
  const hsize_t start[3] = {index, 0, 0}, count[3] = {1, result->ny, result->nx};
  const hsize_t mem_dims[2] = {result->ny, result->nx};
  memspace = H5Screate_simple(2, mem_dims, NULL);
  PP_H5_CHECK_GOTO(status,
                   space >= 0 && memspace >= 0 &&
                       H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0,
                   PP_ERR_LIBRARY, "cannot select cube slice %zu of '%s'", index, result->path);
  PP_H5_CHECK_GOTO(status,
                   H5Dread(dataset, H5T_NATIVE_DOUBLE, memspace, space, H5P_DEFAULT, slice) >= 0,
                   PP_ERR_INPUT, "cannot read cube slice %zu of '%s'", index, result->path);
done:
  pp_formats_hdf5_close(&memspace);
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dataset);
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}

void pp_result_destroy(pp_result **result) {
  if (result == NULL || *result == NULL) return;
  pp_result *r = *result;
  free(r->path);
  free(r->software_version);
  free(r->creation_date_utc);
  free(r->job_text);
  free(r->job_source);
  free(r->normalization);
  free(r->method);
  pp_array_free(&r->psf);
  pp_array_free(&r->psf_detector);
  pp_array_free(&r->wavelengths_m);
  pp_array_free(&r->weights);
  free(r->completed);
  free(r->tasks);
  free(r);
  *result = NULL;
}
