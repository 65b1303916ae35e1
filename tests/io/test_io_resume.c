/* io resume and read-back, one rank: a run interrupted (closed with KEEP_PARTIAL) and
 * resumed gives the same file as a run in one go, bit for bit; completion flags wait for a
 * sync; resume refuses what it must (another job, no cube, a finished file, junk) and
 * leaves those files untouched; with nothing to resume it starts fresh. */
#include <hdf5.h>
#include <mpi.h>
#include <string.h>

#include "io_test_support.h"
#include "pp_test.h"

static const char job_text[] =
    "# hand-built job for test_io_resume\n"
    "wavelengths: {min: 1.0e-6, max: 1.75e-6, count: 4}\n"
    "detector: {pixelscale: 0.05, fov_pixels: [3, 4], oversample: 2}\n"
    "output: {path: psf.h5, cube: true}\n";

enum { N_LAMBDA = 4, FOV_Y = 3, FOV_X = 4, OS = 2, NY = FOV_Y * OS, NX = FOV_X * OS };

/* The provenance row of slice i written in run `run` (1 or 2), so rows tell the runs apart. */
static pp_task_record record_of(size_t i, int run) {
  return (pp_task_record){.rank = 0, .node = 0, .method = PP_METHOD_MFT,
                          .seconds = 100.0 * run + (double)i, .peak_bytes = 1e6};
}

static void write_slice(pp_output *out, size_t i, int run, const char *what) {
  double *slice = io_test_slice(i, NY, NX);
  pp_task_record record = record_of(i, run);
  PP_TEST_OK(pp_output_write_slice(out, i, slice, &record), what);
  free(slice);
}

/* The end of a run as the driver does it: sync, read back in wavelength order, write
 * /psf and /psf_detector, publish. The read-back sum must equal the independent truth. */
static void reduce_and_publish(pp_output **out, const io_test_job *t, const char *what) {
  double psf[NY * NX], detector[(NY / OS) * (NX / OS)], truth[NY * NX];
  PP_TEST_OK(pp_output_sync(*out), "sync before reading back");
  PP_TEST_TRUE(io_test_reduce_band(*out, t, 0, NY, psf), "read back every slice");
  io_test_psf(t, truth, detector);
  PP_TEST_TRUE(memcmp(psf, truth, sizeof psf) == 0,
               "Σ w_i·slice_i read back in wavelength order equals the truth, bit for bit");
  PP_TEST_OK(pp_output_write_psf_rows(*out, 0, NY, psf, detector), "write /psf");
  PP_TEST_OK(pp_output_close(out, true), what);
}

static void test_resume_round_trip(const char *dir) {
  char once[4096], path[4096], partial[4096];
  IO_TEST_PATH(once, "%s/once.h5", dir);
  IO_TEST_PATH(path, "%s/resumed.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;
  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, job_text);

  /* The reference: every slice in one run. */
  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(once, &t.meta, false, MPI_COMM_WORLD, &out), "create (one go)");
  for (size_t i = 0; i < N_LAMBDA; i++) write_slice(out, i, 1, "write slice (one go)");
  reduce_and_publish(&out, &t, "close (one go)");

  /* Run 1 computes slices 0 and 2, then stops: closing with KEEP_PARTIAL stands in for
   * the crash (it commits what was written, as a checkpoint before a kill would). */
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create (run 1)");
  write_slice(out, 2, 1, "write slice 2 (run 1)");
  write_slice(out, 0, 1, "write slice 0 (run 1)");
  unsigned char flags[N_LAMBDA] = {9, 9, 9, 9};
  PP_TEST_TRUE(io_test_read_completed(partial, N_LAMBDA, flags) && flags[0] == 0 && flags[2] == 0,
               "a written slice is not marked completed before a sync");
  double rows[NY * NX];
  pp_status s = pp_output_read_cube_rows(out, 0, 0, NY, rows);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL &&
                   strstr(pp_status_message(s), "not completed") != NULL,
               "reading back a slice before the sync is refused");
  pp_status_free(s);
  PP_TEST_OK(pp_output_close_as(&out, PP_OUTPUT_KEEP_PARTIAL), "close keeping the .partial file");
  PP_TEST_TRUE(out == NULL, "close_as nulls the handle");
  PP_TEST_TRUE(io_test_exists(partial) && !io_test_exists(path),
               "KEEP_PARTIAL leaves the .partial file and no final file");
  PP_TEST_TRUE(io_test_read_completed(partial, N_LAMBDA, flags) && flags[0] == 1 &&
                   flags[1] == 0 && flags[2] == 1 && flags[3] == 0,
               "the kept file says slices 0 and 2 are completed");

  /* Run 2 resumes. */
  unsigned char completed[N_LAMBDA] = {9, 9, 9, 9};
  bool resumed = false;
  PP_TEST_OK(pp_output_open_resume(path, &t.meta, false, MPI_COMM_WORLD, &out, completed,
                                   &resumed),
             "open_resume");
  PP_TEST_TRUE(out != NULL && resumed, "the .partial file is resumed");
  PP_TEST_TRUE(completed[0] == 1 && completed[1] == 0 && completed[2] == 1 && completed[3] == 0,
               "completed = {1, 0, 1, 0}");
  s = pp_output_write_slice(out, 2, rows, &(pp_task_record){.method = PP_METHOD_MFT});
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL &&
                   strstr(pp_status_message(s), "already completed") != NULL,
               "rewriting a completed slice is refused");
  pp_status_free(s);
  /* Slices of run 1 are readable at once: they were committed before the crash. */
  for (size_t i = 0; i < N_LAMBDA; i += 2) {
    double *want = io_test_slice(i, NY, NX);
    PP_TEST_OK(pp_output_read_cube_rows(out, i, 0, NY, rows), "read back a slice of run 1");
    PP_TEST_TRUE(memcmp(rows, want, sizeof rows) == 0,
                 "a slice of run 1 reads back as written, bit for bit");
    free(want);
  }
  for (size_t i = 1; i < N_LAMBDA; i += 2) write_slice(out, i, 2, "write a missing slice (run 2)");
  PP_TEST_OK(pp_output_sync(out), "sync (run 2)");
  for (size_t i = 0; i < N_LAMBDA; i++) {
    double *want = io_test_slice(i, NY, NX);
    PP_TEST_OK(pp_output_read_cube_rows(out, i, 0, NY, rows), "read back a whole slice");
    PP_TEST_TRUE(memcmp(rows, want, sizeof rows) == 0,
                 "read_cube_rows of every slice equals what was written, bit for bit");
    /* A band in the middle, into the start of the buffer. */
    PP_TEST_OK(pp_output_read_cube_rows(out, i, 2, 3, rows), "read back rows 2-4");
    PP_TEST_TRUE(memcmp(rows, want + 2 * NX, 3 * NX * sizeof *rows) == 0,
                 "rows 2-4 of a slice read back as written");
    free(want);
  }
  PP_TEST_OK(pp_output_read_cube_rows(out, 1, NY, 0, NULL), "an empty band at the end is fine");
  s = pp_output_read_cube_rows(out, 1, 4, 3, rows);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "rows past the end of a slice refused");
  pp_status_free(s);
  s = pp_output_read_cube_rows(out, N_LAMBDA, 0, 1, rows);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "a slice index past the end refused");
  pp_status_free(s);
  reduce_and_publish(&out, &t, "close (run 2) publishes");
  PP_TEST_TRUE(io_test_exists(path) && !io_test_exists(partial),
               "the resumed run ends with the final file only");

  const char *names[] = {"/cube", "/psf", "/psf_detector", "/status/completed", "/wavelengths",
                         "/weights"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    char what[128];
    snprintf(what, sizeof what, "%s of the resumed run equals the one-go run, bit for bit",
             names[k]);
    PP_TEST_TRUE(io_test_same_dataset(once, path, names[k]), what);
  }
  pp_task_record *records = NULL;
  size_t count = 0;
  PP_TEST_OK(pp_output_read_tasks(path, &records, &count), "read provenance");
  bool rows_ok = records && count == N_LAMBDA;
  for (size_t i = 0; rows_ok && i < N_LAMBDA; i++)
    rows_ok = records[i].seconds == record_of(i, i % 2 == 0 ? 1 : 2).seconds;
  PP_TEST_TRUE(rows_ok, "provenance keeps run 1's rows for its slices and run 2's for the rest");
  free(records);

  /* Resuming a finished run is refused, and the file is untouched. */
  size_t size = 0, size_after = 0;
  unsigned char *bytes = io_test_read_bytes(path, &size);
  s = pp_output_open_resume(path, &t.meta, false, MPI_COMM_WORLD, &out, completed, &resumed);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && out == NULL && !resumed,
               "resume of a finished file refused as an input error");
  PP_TEST_TRUE(strstr(pp_status_message(s), "is already complete; nothing to resume (use "
                                            "--force to recompute)") != NULL &&
                   strstr(pp_status_message(s), path) != NULL,
               "the message says the file is complete and names --force");
  pp_status_free(s);
  unsigned char *bytes_after = io_test_read_bytes(path, &size_after);
  PP_TEST_TRUE(bytes && bytes_after && size == size_after && memcmp(bytes, bytes_after, size) == 0 &&
                   !io_test_exists(partial),
               "the finished file is untouched and no .partial made");
  free(bytes_after);

  /* With --force it starts fresh; a discarded fresh start leaves the old file as it was. */
  memset(completed, 9, sizeof completed);
  PP_TEST_OK(pp_output_open_resume(path, &t.meta, true, MPI_COMM_WORLD, &out, completed, &resumed),
             "open_resume with force over a finished file");
  PP_TEST_TRUE(out != NULL && !resumed && completed[0] == 0 && completed[3] == 0,
               "with force: a fresh start, nothing completed");
  PP_TEST_OK(pp_output_close_as(&out, PP_OUTPUT_DISCARD), "discard the fresh start");
  bytes_after = io_test_read_bytes(path, &size_after);
  PP_TEST_TRUE(bytes && bytes_after && size == size_after && memcmp(bytes, bytes_after, size) == 0 &&
                   !io_test_exists(partial),
               "a discarded forced start leaves the finished file as it was");
  free(bytes);
  free(bytes_after);
  unlink(once);
  unlink(path);
}

/* A .partial file written by `text` (slice 0 committed) for the refusal tests. */
static void make_partial(const char *path, const char *text, bool cube) {
  io_test_job t;
  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, cube, text);
  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create a .partial");
  write_slice(out, 0, 1, "write slice 0");
  PP_TEST_OK(pp_output_close_as(&out, PP_OUTPUT_KEEP_PARTIAL), "keep the .partial");
}

/* open_resume must fail with an input error whose message holds every one of `want`
 * (NULL-terminated), return no output, and leave the .partial file byte for byte. */
static void check_refused(const char *path, const io_test_job *t, bool force,
                          const char *const *want, const char *what) {
  char partial[4096];
  IO_TEST_PATH(partial, "%s.partial", path);
  size_t size = 0, size_after = 0;
  unsigned char *bytes = io_test_read_bytes(partial, &size);
  pp_output *out = NULL;
  unsigned char completed[IO_TEST_MAX_WAVELENGTHS];
  bool resumed = true;
  pp_status s =
      pp_output_open_resume(path, &t->meta, force, MPI_COMM_WORLD, &out, completed, &resumed);
  bool words = true;
  for (size_t k = 0; want[k]; k++) words = words && strstr(pp_status_message(s), want[k]) != NULL;
  /* The message as the detail, so the log shows what a user would read. */
  pp_test_report(pp_status_code(s) == PP_ERR_INPUT && words && out == NULL && !resumed, __FILE__,
                 __LINE__, what, pp_status_message(s));
  pp_status_free(s);
  unsigned char *bytes_after = io_test_read_bytes(partial, &size_after);
  PP_TEST_TRUE(bytes == NULL ? bytes_after == NULL
                             : bytes_after && size == size_after &&
                                   memcmp(bytes, bytes_after, size) == 0,
               "the refused .partial file (if any) is untouched, byte for byte");
  free(bytes);
  free(bytes_after);
}

static void test_resume_refusals(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/refused.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;

  make_partial(path, job_text, true);
  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, "another: job\n");
  const char *const other_text[] = {"was written for a different job", "job text",
                                    "start afresh with --force instead of --resume", partial, NULL};
  check_refused(path, &t, false, other_text, "another job text is refused");

  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, job_text);
  t.wavelengths_m[1] = nextafter(t.wavelengths_m[1], 1.0);
  const char *const other_lambda[] = {"different job", "wavelengths", NULL};
  check_refused(path, &t, false, other_lambda, "wavelengths one bit apart are refused");

  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, job_text);
  t.weights[3] *= 1.0 + 1e-15;
  const char *const other_weights[] = {"different job", "weights", NULL};
  check_refused(path, &t, false, other_weights, "other weights are refused");

  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X + 1, OS, true, job_text);
  const char *const other_shape[] = {"different job", "/psf is 6 × 8", NULL};
  check_refused(path, &t, false, other_shape, "another /psf shape is refused");

  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, job_text);
  t.meta.geometry.psf_pixelscale_arcsec *= 2.0;
  const char *const other_scale[] = {"different job", "pixelscale_arcsec", NULL};
  check_refused(path, &t, false, other_scale, "another pixel scale is refused");

  /* A job without the cube cannot be resumed at all, whatever is on disk. */
  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, false, job_text);
  const char *const no_cube_job[] = {"--resume needs the cube", "cube: true", NULL};
  check_refused(path, &t, false, no_cube_job, "a job with cube: false cannot resume");

  /* A file at the final name beside the .partial needs --force. */
  FILE *f = fopen(path, "wb");
  fputs("an earlier result\n", f);
  fclose(f);
  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, job_text);
  const char *const both[] = {"exists, and so does its .partial file", "--force", NULL};
  check_refused(path, &t, false, both, "final file and .partial both present: needs --force");
  unlink(path);
  unlink(partial);

  /* A .partial without /cube (same job text, written with the cube off). */
  make_partial(path, job_text, false);
  const char *const no_cube_file[] = {"has no /cube",
                                      "start afresh with --force instead of --resume", NULL};
  check_refused(path, &t, false, no_cube_file, "a .partial without /cube is refused");
  unlink(partial);

  /* Not HDF5 at all: the remains of a run killed while creating its file. */
  f = fopen(partial, "wb");
  fputs("killed before the first flush\n", f);
  fclose(f);
  const char *const junk[] = {"cannot be resumed",
                              "start afresh with --force instead of --resume", partial, NULL};
  check_refused(path, &t, false, junk, "a .partial that is not HDF5 is refused");
  unlink(partial);

  /* No .partial and someone else's file at the final name. */
  f = fopen(path, "wb");
  fputs("someone else's file\n", f);
  fclose(f);
  const char *const foreign[] = {"exists; use --force to overwrite", path, NULL};
  check_refused(path, &t, false, foreign, "another file at the final name is refused");
  unlink(path);
}

/* Nothing to resume: a fresh start, which can itself be kept, resumed and discarded. */
static void test_resume_from_nothing(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/fresh.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;
  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, job_text);
  pp_output *out = NULL;
  unsigned char completed[N_LAMBDA] = {9, 9, 9, 9};
  bool resumed = true;
  PP_TEST_OK(pp_output_open_resume(path, &t.meta, false, MPI_COMM_WORLD, &out, completed, &resumed),
             "open_resume with neither file present");
  PP_TEST_TRUE(out != NULL && !resumed && io_test_exists(partial) && !io_test_exists(path),
               "neither file present: a fresh .partial file, resumed = false");
  PP_TEST_TRUE(completed[0] == 0 && completed[1] == 0 && completed[2] == 0 && completed[3] == 0,
               "a fresh start has nothing completed");
  write_slice(out, 3, 1, "write slice 3");
  PP_TEST_OK(pp_output_close_as(&out, PP_OUTPUT_KEEP_PARTIAL), "keep");
  PP_TEST_OK(pp_output_open_resume(path, &t.meta, false, MPI_COMM_WORLD, &out, completed, NULL),
             "resume (resumed flag not wanted: NULL)");
  PP_TEST_TRUE(out != NULL && completed[3] == 1 && completed[0] == 0,
               "the kept slice is completed");
  PP_TEST_OK(pp_output_close_as(&out, PP_OUTPUT_DISCARD), "discard a resumed output");
  PP_TEST_TRUE(!io_test_exists(partial) && !io_test_exists(path),
               "DISCARD removes the resumed .partial file");
  PP_TEST_OK(pp_output_close_as(&out, PP_OUTPUT_KEEP_PARTIAL), "closing NULL is a no-op");

  /* Misuse is reported, not crashed on. */
  pp_status s = pp_output_open_resume(path, &t.meta, false, MPI_COMM_WORLD, &out, NULL, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL && out == NULL, "NULL completed refused");
  pp_status_free(s);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  char dir[4096];
  if (!io_test_make_dir(dir, sizeof dir)) {
    printf("cannot make a temporary directory\n");
    MPI_Finalize();
    return 1;
  }
  test_resume_round_trip(dir);
  test_resume_refusals(dir);
  test_resume_from_nothing(dir);
  PP_TEST_TRUE(io_test_count_entries(dir) == 0, "no stray files left");
  PP_TEST_TRUE(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0,
               "no HDF5 file or object left open, error paths included");
  io_test_remove_dir(dir);
  MPI_Finalize();
  return pp_test_finish();
}
