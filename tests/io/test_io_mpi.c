/* io on 3 ranks (declared in CMakeLists.txt): slices from different ranks, PSF rows in
 * bands with one rank holding none, one status on every rank, agreement on failure. */
#include <hdf5.h>
#include <mpi.h>
#include <string.h>

#include "io_test_support.h"
#include "pp_test.h"

static int rank, size;

/* Every rank must have got the same error: same code, same message as rank 0. */
static void check_same_error(pp_status s, pp_error_code want, const char *what) {
  char message[1024] = {0};
  if (rank == 0) snprintf(message, sizeof message, "%s", pp_status_message(s));
  MPI_Bcast(message, sizeof message, MPI_CHAR, 0, MPI_COMM_WORLD);
  PP_TEST_TRUE(pp_status_code(s) == want && strcmp(message, pp_status_message(s)) == 0, what);
}

static void test_round_trip(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/mpi.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;
  io_test_job_init(&t, 5, 6, 4, 2, true, "ranks: 3\n");
  t.meta.n_ranks = size;
  size_t ny = t.meta.geometry.psf_ny, nx = t.meta.geometry.psf_nx, n = t.job.n_wavelengths, os = 2;

  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create on all ranks");
  for (size_t i = 0; i < n; i++) {
    if ((int)(i % (size_t)size) != rank) continue;
    double *slice = io_test_slice(i, ny, nx);
    pp_task_record record = {.rank = rank, .node = 0, .method = PP_METHOD_MFT,
                             .seconds = (double)i, .peak_bytes = 1e6 * (double)rank};
    PP_TEST_OK(pp_output_write_slice(out, i, slice, &record), "write own slice");
    free(slice);
  }
  PP_TEST_OK(pp_output_sync(out), "collective checkpoint");

  /* Bands: rank 0 rows 0–7, rank 1 rows 8–11, rank 2 nothing (and no detector rows). */
  double *psf = malloc(ny * nx * sizeof *psf);
  double *detector = malloc((ny / os) * (nx / os) * sizeof *detector);
  io_test_psf(&t, psf, detector);
  size_t boundary = size >= 2 ? 8 : ny;
  size_t row0 = 0, nrows = 0;
  if (rank == 0) nrows = boundary;
  else if (rank == 1) row0 = boundary, nrows = ny - boundary;
  PP_TEST_OK(pp_output_write_psf_rows(out, row0, nrows, nrows ? psf + row0 * nx : NULL,
                                      nrows ? detector + (row0 / os) * (nx / os) : NULL),
             "write PSF band (empty on rank 2)");
  PP_TEST_OK(pp_output_close(&out, true), "close with success");
  PP_TEST_TRUE(io_test_exists(path) && !io_test_exists(partial),
               "every rank returns after the rename");
  MPI_Barrier(MPI_COMM_WORLD); /* before rank 0 reads and removes the file */

  if (rank == 0) {
    double *got = NULL;
    size_t dims[3];
    int ndims = 0;
    PP_TEST_OK(pp_output_read_dataset(path, "/cube", &got, dims, &ndims), "read /cube");
    bool same = got && ndims == 3 && dims[0] == n && dims[1] == ny && dims[2] == nx;
    for (size_t i = 0; same && i < n; i++) {
      double *slice = io_test_slice(i, ny, nx);
      same = memcmp(got + i * ny * nx, slice, ny * nx * sizeof *slice) == 0;
      free(slice);
    }
    PP_TEST_TRUE(same, "/cube from 3 ranks equals the slices, bit for bit");
    pp_array_free(&got);
    PP_TEST_OK(pp_output_read_dataset(path, "/psf", &got, dims, &ndims), "read /psf");
    PP_TEST_TRUE(got && memcmp(got, psf, ny * nx * sizeof *psf) == 0,
                 "/psf from bands equals the PSF, bit for bit");
    pp_array_free(&got);
    PP_TEST_OK(pp_output_read_dataset(path, "/psf_detector", &got, dims, &ndims),
               "read /psf_detector");
    PP_TEST_TRUE(got && dims[0] == ny / os && dims[1] == nx / os &&
                     memcmp(got, detector, (ny / os) * (nx / os) * sizeof *detector) == 0,
                 "/psf_detector from bands equals the rebinned PSF, bit for bit");
    pp_array_free(&got);
    PP_TEST_OK(pp_output_read_dataset(path, "/status/completed", &got, dims, &ndims),
               "read completed");
    bool all_done = got != NULL;
    for (size_t i = 0; all_done && i < n; i++) all_done = got[i] == 1.0;
    PP_TEST_TRUE(all_done,
                 "every slice marked completed (neighbouring flags from different ranks)");
    pp_array_free(&got);
    pp_task_record *rows = NULL;
    size_t count = 0;
    PP_TEST_OK(pp_output_read_tasks(path, &rows, &count), "read provenance");
    bool rows_ok = rows && count == n;
    for (size_t i = 0; rows_ok && i < n; i++)
      rows_ok = rows[i].rank == (int)(i % (size_t)size) && rows[i].seconds == (double)i &&
                rows[i].method == PP_METHOD_MFT;
    PP_TEST_TRUE(rows_ok, "provenance rows name the rank that wrote each slice");
    free(rows);
    double n_ranks = 0;
    PP_TEST_OK(pp_output_read_number_attribute(path, "/", "n_ranks", &n_ranks), "read n_ranks");
    PP_TEST_NEAR(n_ranks, size, 0.0, "n_ranks attribute");
    unlink(path);
  }
  free(psf);
  free(detector);
  MPI_Barrier(MPI_COMM_WORLD);
}

static void test_refusals(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/taken.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  if (rank == 0) {
    FILE *f = fopen(path, "wb");
    fputs("someone else's file\n", f);
    fclose(f);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  io_test_job t;
  io_test_job_init(&t, 3, 2, 2, 1, true, "refuse: me\n");
  pp_output *out = NULL;
  pp_status s = pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out);
  check_same_error(s, PP_ERR_INPUT, "existing file: every rank gets rank 0's input error");
  pp_status_free(s);
  PP_TEST_TRUE(out == NULL && !io_test_exists(partial), "nothing created on any rank");
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) unlink(path);
  MPI_Barrier(MPI_COMM_WORLD);

  /* Ranks that were given different jobs must not write one file together. */
  io_test_job_init(&t, 3, 2, 2, 1, true, rank == size - 1 ? "other: text\n" : "refuse: me\n");
  s = pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out);
  check_same_error(s, PP_ERR_INTERNAL, "ranks that disagree: every rank gets the same error");
  pp_status_free(s);
  PP_TEST_TRUE(out == NULL && !io_test_exists(path) && !io_test_exists(partial),
               "nothing created when ranks disagree");
  MPI_Barrier(MPI_COMM_WORLD);
}

static void test_failures_agree(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/fail.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;
  io_test_job_init(&t, 3, 2, 2, 1, true, "fail: together\n");
  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create");

  /* Rank 1 asks for rows that do not exist: everyone hears about it, nobody hangs. */
  double rows[4] = {0};
  pp_status s = pp_output_write_psf_rows(out, rank == 1 ? 1 : 0, rank == 1 ? 2 : 0, rows, NULL);
  check_same_error(s, PP_ERR_INTERNAL, "one rank's bad PSF band fails the call on every rank");
  pp_status_free(s);

  /* Only rank 1 failed its work: the file is discarded on every rank. */
  PP_TEST_OK(pp_output_close(&out, rank != 1), "close with one rank failing");
  PP_TEST_TRUE(!io_test_exists(path) && !io_test_exists(partial),
               "one rank's failure removes the file for all");
  MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  pp_test_.quiet = rank != 0;
  if (size < 2) { /* the agreement tests need a second rank to disagree with */
    if (rank == 0) printf("SKIP test_io_mpi needs at least 2 ranks (declared: 3)\n");
    MPI_Finalize();
    return 77;
  }

  char dir[4096] = {0};
  if (!io_test_make_shared_dir(MPI_COMM_WORLD, dir, sizeof dir)) {
    if (rank == 0) printf("cannot make a temporary directory\n");
    MPI_Finalize();
    return 1;
  }
  test_round_trip(dir);
  test_refusals(dir);
  test_failures_agree(dir);
  PP_TEST_TRUE(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0,
               "no HDF5 file or object left open on any rank");
  if (rank == 0) {
    PP_TEST_TRUE(io_test_count_entries(dir) == 0, "no stray files left");
    io_test_remove_dir(dir);
  }

  int code = pp_test_finish_all(MPI_COMM_WORLD);
  MPI_Finalize();
  return code;
}
