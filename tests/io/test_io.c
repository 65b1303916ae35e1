/* io, one rank: the file written is the file read back, bit for bit; the temporary name
 * and the rename; refusing to overwrite; failure removes everything; clear errors. */
#include <hdf5.h>
#include <mpi.h>
#include <string.h>

#include "io_test_support.h"
#include "pp_test.h"

static const char job_text[] =
    "# hand-built job for test_io (UTF-8: λ in metres, 0.05″ pixels)\n"
    "pupil: {npix: 64}\n"
    "wavelengths: {min: 1.0e-6, max: 1.5e-6, count: 3}\n"
    "optics:\n  - circular_aperture: {radius: 3.25}\n"
    "detector: {pixelscale: 0.05, fov_pixels: [4, 5], oversample: 2}\n"
    "output: {path: psf.h5, cube: true}\n";

/* Compares a dataset in the file with `want`, bit for bit, and its shape. */
static void check_dataset(const char *path, const char *name, const double *want, int want_ndims,
                          const size_t *want_dims) {
  double *got = NULL;
  size_t dims[3];
  int ndims = 0;
  char what[128];
  snprintf(what, sizeof what, "read %s", name);
  PP_TEST_OK(pp_output_read_dataset(path, name, &got, dims, &ndims), what);
  bool same_shape = ndims == want_ndims;
  size_t count = 1;
  for (int i = 0; same_shape && i < ndims; i++) {
    same_shape = dims[i] == want_dims[i];
    count *= dims[i];
  }
  snprintf(what, sizeof what, "%s has the shape written", name);
  PP_TEST_TRUE(same_shape, what);
  snprintf(what, sizeof what, "%s equals what was written, bit for bit", name);
  PP_TEST_TRUE(same_shape && got && memcmp(got, want, count * sizeof *got) == 0, what);
  pp_array_free(&got);
}

static void check_string_attribute(const char *path, const char *object, const char *name,
                                   const char *want) {
  char *got = NULL;
  char what[128];
  snprintf(what, sizeof what, "attribute %s on %s reads back as written", name, object);
  pp_status s = pp_output_read_string_attribute(path, object, name, &got);
  PP_TEST_TRUE(s == PP_SUCCESS && got && strcmp(got, want) == 0, what);
  pp_status_free(s);
  free(got);
}

static void check_number_attribute(const char *path, const char *name, double want) {
  double got = -1.0;
  char what[128];
  snprintf(what, sizeof what, "root attribute %s", name);
  pp_status s = pp_output_read_number_attribute(path, "/", name, &got);
  PP_TEST_NEAR(s == PP_SUCCESS ? got : -1e300, want, 0.0, what);
  pp_status_free(s);
}

/* Full life of a file: slices out of order, PSF in two bands, then everything read back. */
static void test_round_trip(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/round.h5", dir);
  PP_TEST_OK(pp_output_temp_path(path, partial, sizeof partial), "temporary name fits");
  PP_TEST_TRUE(strlen(partial) == strlen(path) + 8 && strstr(partial, ".h5.partial"),
               "temporary name is path + .partial");

  io_test_job t;
  io_test_job_init(&t, 3, 4, 5, 2, true, job_text);
  size_t ny = t.meta.geometry.psf_ny, nx = t.meta.geometry.psf_nx, n = t.job.n_wavelengths;

  H5E_auto2_t handler_before = NULL, handler_after = NULL;
  void *data_before = NULL, *data_after = NULL;
  H5Eget_auto2(H5E_DEFAULT, &handler_before, &data_before);

  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create");
  H5Eget_auto2(H5E_DEFAULT, &handler_after, &data_after);
  PP_TEST_TRUE(handler_before == handler_after && data_before == data_after,
               "HDF5's error printing is given back as it was");
  PP_TEST_TRUE(out != NULL, "create returns an output");
  PP_TEST_TRUE(io_test_exists(partial) && !io_test_exists(path),
               "while writing only the .partial file exists");

  double *cube = malloc(n * ny * nx * sizeof *cube);
  pp_task_record records[3];
  const size_t order[3] = {2, 0, 1}; /* arrival order is not wavelength order */
  for (size_t k = 0; k < n; k++) {
    size_t i = order[k];
    double *slice = io_test_slice(i, ny, nx);
    memcpy(cube + i * ny * nx, slice, ny * nx * sizeof *slice);
    records[i] = (pp_task_record){.rank = 0, .node = 0, .method = PP_METHOD_MFT + (int)i % 3,
                                  .seconds = 0.5 + (double)i, .peak_bytes = 1e6 * (double)(i + 1)};
    PP_TEST_OK(pp_output_write_slice(out, i, slice, &records[i]), "write slice");
    free(slice);
  }
  /* The structure was flushed at create: a reader sees it in the .partial file already. */
  double *early = NULL;
  size_t early_dims[3];
  int early_ndims = 0;
  PP_TEST_OK(pp_output_read_dataset(partial, "/wavelengths", &early, early_dims, &early_ndims),
             "the .partial file is readable while the run goes on");
  pp_array_free(&early);

  double *psf = malloc(ny * nx * sizeof *psf);
  double *detector = malloc((ny / 2) * (nx / 2) * sizeof *detector);
  io_test_psf(&t, psf, detector);
  /* Two bands of whole detector rows: rows 0–3 then 4–7 (oversample 2). */
  PP_TEST_OK(pp_output_write_psf_rows(out, 0, 4, psf, detector), "write PSF rows 0-3");
  PP_TEST_OK(pp_output_write_psf_rows(out, 4, ny - 4, psf + 4 * nx, detector + 2 * (nx / 2)),
             "write PSF rows 4-7");
  PP_TEST_OK(pp_output_sync(out), "checkpoint");
  PP_TEST_OK(pp_output_close(&out, true), "close with success");
  PP_TEST_TRUE(out == NULL, "close nulls the handle");
  PP_TEST_TRUE(io_test_exists(path), "the final file exists");
  PP_TEST_TRUE(!io_test_exists(partial), "the .partial file is gone");

  const size_t cube_dims[3] = {n, ny, nx}, psf_dims[2] = {ny, nx};
  const size_t detector_dims[2] = {ny / 2, nx / 2}, spectrum_dims[1] = {n};
  check_dataset(path, "/cube", cube, 3, cube_dims);
  check_dataset(path, "/psf", psf, 2, psf_dims);
  check_dataset(path, "/psf_detector", detector, 2, detector_dims);
  check_dataset(path, "/wavelengths", t.wavelengths_m, 1, spectrum_dims);
  check_dataset(path, "/weights", t.weights, 1, spectrum_dims);
  const double all_done[3] = {1.0, 1.0, 1.0};
  check_dataset(path, "/status/completed", all_done, 1, spectrum_dims);

  pp_task_record *rows = NULL;
  size_t nrows = 0;
  PP_TEST_OK(pp_output_read_tasks(path, &rows, &nrows), "read /provenance/tasks");
  PP_TEST_TRUE(nrows == n, "one provenance row per wavelength");
  for (size_t i = 0; rows && i < nrows && i < n; i++)
    PP_TEST_TRUE(rows[i].rank == records[i].rank && rows[i].node == records[i].node &&
                     rows[i].method == records[i].method &&
                     rows[i].seconds == records[i].seconds &&
                     rows[i].peak_bytes == records[i].peak_bytes,
                 "provenance row equals the record written");
  free(rows);

  check_string_attribute(path, "/", "format_name", PP_OUTPUT_FORMAT_NAME);
  check_number_attribute(path, "format_version", PP_OUTPUT_FORMAT_VERSION);
  check_string_attribute(path, "/", "software_version", pp_version());
  check_string_attribute(path, "/", "job_text", job_text);
  check_string_attribute(path, "/", "job_source", "hand-built.yaml");
  check_string_attribute(path, "/", "normalization", "first");
  check_string_attribute(path, "/", "method", "mft");
  check_number_attribute(path, "pixelscale_arcsec", 0.025);
  check_number_attribute(path, "detector_pixelscale_arcsec", 0.05);
  check_number_attribute(path, "oversample", 2);
  check_number_attribute(path, "pupil_npix", 64);
  check_number_attribute(path, "pupil_diameter_m", 6.5);
  check_number_attribute(path, "n_wavelengths", 3);
  check_number_attribute(path, "n_ranks", 1);
  check_number_attribute(path, "n_nodes", 1);
  check_string_attribute(path, "/wavelengths", "units", "m");
  char *date = NULL;
  PP_TEST_OK(pp_output_read_string_attribute(path, "/", "creation_date_utc", &date),
             "read creation date");
  PP_TEST_TRUE(date && strlen(date) == 20 && date[4] == '-' && date[10] == 'T' && date[19] == 'Z',
               "creation date is ISO 8601 UTC (YYYY-MM-DDTHH:MM:SSZ)");
  free(date);

  free(cube);
  free(psf);
  free(detector);
}

/* An existing file is refused without force and untouched; with force it is replaced, but
 * only when the new run succeeds. */
static void test_existing_file(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/existing.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  const char precious[] = "precious results of an earlier run\n";
  FILE *f = fopen(path, "wb");
  fwrite(precious, 1, sizeof precious - 1, f);
  fclose(f);

  io_test_job t;
  io_test_job_init(&t, 2, 3, 3, 1, false, "replacement: true\n");
  pp_output *out = NULL;
  pp_status s = pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "existing output refused without force");
  PP_TEST_TRUE(strstr(pp_status_message(s), "exists; use --force to overwrite") != NULL,
               "the message names --force");
  PP_TEST_TRUE(strstr(pp_status_message(s), path) != NULL, "the message names the file");
  pp_status_free(s);
  PP_TEST_TRUE(out == NULL && !io_test_exists(partial), "nothing created when refused");
  size_t size = 0;
  unsigned char *bytes = io_test_read_bytes(path, &size);
  PP_TEST_TRUE(bytes && size == sizeof precious - 1 && memcmp(bytes, precious, size) == 0,
               "the existing file is untouched, byte for byte");
  free(bytes);

  /* With force: the old file stays until close(success), then is replaced. */
  PP_TEST_OK(pp_output_create(path, &t.meta, true, MPI_COMM_WORLD, &out), "create with force");
  bytes = io_test_read_bytes(path, &size);
  PP_TEST_TRUE(bytes && size == sizeof precious - 1 && memcmp(bytes, precious, size) == 0,
               "with force the old file stays until the new one is complete");
  free(bytes);
  pp_task_record record = {.rank = 0, .node = 0, .method = PP_METHOD_FFT};
  for (size_t i = 0; i < 2; i++)
    PP_TEST_OK(pp_output_write_slice(out, i, NULL, &record), "slice without cube");
  double psf[9] = {0};
  PP_TEST_OK(pp_output_write_psf_rows(out, 0, 3, psf, psf), "write PSF");
  PP_TEST_OK(pp_output_close(&out, true), "close replaces the old file");
  check_string_attribute(path, "/", "job_text", "replacement: true\n");
  PP_TEST_TRUE(!io_test_exists(partial), "no .partial left after replacing");

  /* Without a cube there is no /cube, and the slices are still marked. */
  double *data = NULL;
  size_t dims[3];
  int ndims = 0;
  s = pp_output_read_dataset(path, "/cube", &data, dims, &ndims);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_IO && data == NULL, "no /cube when cube is off");
  pp_status_free(s);
  const double all_done[2] = {1.0, 1.0};
  const size_t spectrum_dims[1] = {2};
  check_dataset(path, "/status/completed", all_done, 1, spectrum_dims);

  /* A failed forced run leaves the previous file as it was. */
  bytes = io_test_read_bytes(path, &size);
  PP_TEST_OK(pp_output_create(path, &t.meta, true, MPI_COMM_WORLD, &out), "create with force");
  PP_TEST_OK(pp_output_close(&out, false), "close after failure");
  size_t size_after = 0;
  unsigned char *bytes_after = io_test_read_bytes(path, &size_after);
  PP_TEST_TRUE(bytes && bytes_after && size == size_after && memcmp(bytes, bytes_after, size) == 0,
               "a failed forced run leaves the previous output as it was");
  free(bytes);
  free(bytes_after);
  unlink(path);
}

/* Without force, a file that appears at the final name during the run is not overwritten:
 * the result stays in .partial and the error says where. */
static void test_file_appears_during_run(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/raced.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;
  io_test_job_init(&t, 1, 2, 2, 1, false, "race: on\n");
  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create");
  const char other[] = "written by someone else meanwhile\n";
  FILE *f = fopen(path, "wb");
  fwrite(other, 1, sizeof other - 1, f);
  fclose(f);
  double psf[4] = {0};
  PP_TEST_OK(pp_output_write_psf_rows(out, 0, 2, psf, NULL), "write PSF");
  pp_status s = pp_output_close(&out, true);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_IO && strstr(pp_status_message(s), partial),
               "close refuses to overwrite and names where the result is");
  pp_status_free(s);
  size_t size = 0;
  unsigned char *bytes = io_test_read_bytes(path, &size);
  PP_TEST_TRUE(bytes && size == sizeof other - 1 && memcmp(bytes, other, size) == 0,
               "the file that appeared is untouched");
  free(bytes);
  check_string_attribute(partial, "/", "job_text", "race: on\n");
  unlink(path);
  unlink(partial);
}

static void test_failure_removes_everything(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/failed.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;
  io_test_job_init(&t, 3, 2, 2, 1, true, "failing: run\n");
  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create");
  double *slice = io_test_slice(0, 2, 2);
  pp_task_record record = {.rank = 0, .node = 0, .method = PP_METHOD_MFT, .seconds = 1.0};
  PP_TEST_OK(pp_output_write_slice(out, 0, slice, &record), "one slice before the failure");
  free(slice);
  PP_TEST_OK(pp_output_close(&out, false), "close(success = false) itself succeeds");
  PP_TEST_TRUE(out == NULL, "close nulls the handle");
  PP_TEST_TRUE(!io_test_exists(path) && !io_test_exists(partial),
               "after a failure neither the file nor .partial remains");
  PP_TEST_OK(pp_output_close(&out, true), "closing a NULL output is a no-op");
}

static void test_missing_directory(const char *dir) {
  char missing[4096], path[4096];
  IO_TEST_PATH(missing, "%s/no-such-dir", dir);
  IO_TEST_PATH(path, "%s/psf.h5", missing);
  io_test_job t;
  io_test_job_init(&t, 1, 2, 2, 1, false, "x: 1\n");
  int entries_before = io_test_count_entries(dir);
  pp_output *out = NULL;
  pp_status s = pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "missing directory is an input error");
  PP_TEST_TRUE(strstr(pp_status_message(s), "does not exist") != NULL &&
                   strstr(pp_status_message(s), missing) != NULL,
               "the message names the missing directory");
  pp_status_free(s);
  PP_TEST_TRUE(out == NULL && !io_test_exists(missing) &&
                   io_test_count_entries(dir) == entries_before,
               "nothing is created");

  /* The output path being a directory is refused, even with force. */
  s = pp_output_create(dir, &t.meta, true, MPI_COMM_WORLD, &out);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "directory"),
               "a directory as output is refused");
  pp_status_free(s);
}

/* Misuse is reported, not written; the output stays usable afterwards. */
static void test_bad_calls(const char *dir) {
  char path[4096];
  IO_TEST_PATH(path, "%s/bad.h5", dir);
  io_test_job t;
  io_test_job_init(&t, 2, 2, 2, 2, true, "bad: calls\n");
  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create");
  double values[16] = {0};
  pp_task_record record = {.rank = 0, .node = 0, .method = PP_METHOD_CZT};
  pp_status s = pp_output_write_slice(out, 2, values, &record);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL && strstr(pp_status_message(s), "out of range"),
               "slice index past the end refused");
  pp_status_free(s);
  s = pp_output_write_slice(out, 0, NULL, &record);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "missing slice data refused with a cube");
  pp_status_free(s);
  record.method = 42;
  s = pp_output_write_slice(out, 0, values, &record);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "unknown method refused");
  pp_status_free(s);
  s = pp_output_write_psf_rows(out, 2, 3, values, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "PSF rows past the end refused");
  pp_status_free(s);
  s = pp_output_write_psf_rows(out, 1, 2, values, values);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "PSF band not on detector rows refused");
  pp_status_free(s);
  PP_TEST_OK(pp_output_write_psf_rows(out, 0, 4, values, values), "a good call still works");
  PP_TEST_OK(pp_output_close(&out, true), "close");

  /* Untouched slices stay marked not completed, their provenance rows "not computed". */
  double *completed = NULL;
  size_t dims[3];
  int ndims = 0;
  PP_TEST_OK(pp_output_read_dataset(path, "/status/completed", &completed, dims, &ndims),
             "read completed");
  PP_TEST_TRUE(completed && completed[0] == 0.0 && completed[1] == 0.0,
               "slices never written are not completed");
  pp_array_free(&completed);
  pp_task_record *rows = NULL;
  size_t nrows = 0;
  PP_TEST_OK(pp_output_read_tasks(path, &rows, &nrows), "read tasks");
  PP_TEST_TRUE(rows && nrows == 2 && rows[0].rank == -1 && rows[1].method == -1,
               "rows never written say rank -1, method none");
  free(rows);

  s = pp_output_read_dataset(path, "/provenance/tasks", &completed, dims, &ndims);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "a compound dataset is not read as numbers");
  pp_status_free(s);
  char *text = NULL;
  s = pp_output_read_string_attribute(path, "/", "oversample", &text);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && text == NULL,
               "a number attribute is not read as a string");
  pp_status_free(s);
  unlink(path);

  /* Reading something that is not HDF5 names the file and HDF5's reason. */
  char junk[4096];
  IO_TEST_PATH(junk, "%s/junk.h5", dir);
  FILE *f = fopen(junk, "wb");
  fputs("not an HDF5 file\n", f);
  fclose(f);
  s = pp_output_read_dataset(junk, "/psf", &completed, dims, &ndims);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_IO && strstr(pp_status_message(s), junk) &&
                   strstr(pp_status_message(s), "HDF5:"),
               "unreadable file: message names the file and HDF5's reason");
  pp_status_free(s);
  unlink(junk);
}

/* A stale .partial from a crashed run is overwritten; a job text far beyond HDF5's 64 KiB
 * object-header limit for attributes is stored whole. */
static void test_stale_partial_and_long_text(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/long.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  FILE *f = fopen(partial, "wb");
  fputs("left over by a crashed run\n", f);
  fclose(f);

  size_t length = 300000;
  char *text = malloc(length + 1);
  for (size_t i = 0; i < length; i++) text[i] = (i % 61 == 60) ? '\n' : (char)('a' + i % 26);
  text[length] = '\0';
  io_test_job t;
  io_test_job_init(&t, 1, 2, 2, 1, false, text);
  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out),
             "create over a stale .partial");
  double psf[4] = {1, 2, 3, 4};
  PP_TEST_OK(pp_output_write_psf_rows(out, 0, 2, psf, psf), "write PSF");
  PP_TEST_OK(pp_output_close(&out, true), "close");
  check_string_attribute(path, "/", "job_text", text);
  free(text);
  unlink(path);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  char dir[4096];
  if (!io_test_make_dir(dir, sizeof dir)) {
    printf("cannot make a temporary directory\n");
    MPI_Finalize();
    return 1;
  }
  test_round_trip(dir);
  test_existing_file(dir);
  test_file_appears_during_run(dir);
  test_failure_removes_everything(dir);
  test_missing_directory(dir);
  test_bad_calls(dir);
  test_stale_partial_and_long_text(dir);
  PP_TEST_TRUE(io_test_count_entries(dir) <= 1, "no stray files left (round.h5 only)");
  PP_TEST_TRUE(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0,
               "no HDF5 file or object left open, error paths included");
  io_test_remove_dir(dir);
  MPI_Finalize();
  return pp_test_finish();
}
