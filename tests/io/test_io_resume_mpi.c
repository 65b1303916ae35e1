/* io read-back and resume on 3 ranks (declared in CMakeLists.txt): every rank reads back
 * bands of slices other ranks wrote, bands of different sizes and one empty; a bad band on
 * one rank fails the call on all without a hang; a run of 3 ranks kept after a failure is
 * finished by 2 ranks, and /psf is the same bit for bit; close modes combine over ranks. */
#include <hdf5.h>
#include <mpi.h>
#include <string.h>

#include "io_test_support.h"
#include "pp_test.h"

static int rank, size;

enum { N_LAMBDA = 5, FOV_Y = 5, FOV_X = 3, OS = 2, NY = FOV_Y * OS, NX = FOV_X * OS };

static const char job_text[] = "ranks: 3\nresume: on 2\n";

/* Every rank must have got the same error: same code, same message as rank 0. */
static void check_same_error(pp_status s, pp_error_code want, MPI_Comm comm, const char *what) {
  char message[1024] = {0};
  int me = 0;
  MPI_Comm_rank(comm, &me);
  if (me == 0) snprintf(message, sizeof message, "%s", pp_status_message(s));
  MPI_Bcast(message, sizeof message, MPI_CHAR, 0, comm);
  PP_TEST_TRUE(pp_status_code(s) == want && strcmp(message, pp_status_message(s)) == 0, what);
}

/* Slice i is computed by rank owner(i) of the communicator it is written on. */
static int owner_of(size_t i, int ranks) { return (int)((i + 1) % (size_t)ranks); }

static void write_own_slices(pp_output *out, int me, int ranks, int run, const size_t *indices,
                             size_t count) {
  for (size_t k = 0; k < count; k++) {
    size_t i = indices[k];
    if (owner_of(i, ranks) != me) continue;
    double *slice = io_test_slice(i, NY, NX);
    pp_task_record record = {.rank = me, .node = 0, .method = PP_METHOD_CZT,
                             .seconds = 10.0 * run + (double)i, .peak_bytes = 1.0};
    PP_TEST_OK(pp_output_write_slice(out, i, slice, &record), "write own slice");
    free(slice);
  }
}

/* Run 1 on 3 ranks writes slices 0-3, reads them back in uneven bands, then fails and
 * keeps its .partial file. Run 2 on 2 ranks resumes, computes slice 4 and finishes. */
static void test_read_back_and_resume(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/resume.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;
  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, job_text);
  t.meta.n_ranks = size;

  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create (run 1)");
  const size_t first[] = {0, 1, 2, 3};
  write_own_slices(out, rank, size, 1, first, 4);
  PP_TEST_OK(pp_output_sync(out), "sync: slices of every rank completed and readable");

  /* Uneven bands: rank 0 rows 0-6, rank 1 rows 7-9, rank 2 nothing. */
  size_t row0 = rank == 0 ? 0 : rank == 1 ? 7 : NY, nrows = rank == 0 ? 7 : rank == 1 ? 3 : 0;
  double band[NY * NX];
  bool same = true;
  for (size_t i = 0; i < 4; i++) {
    PP_TEST_OK(pp_output_read_cube_rows(out, i, row0, nrows, nrows ? band : NULL),
               "read back this rank's band of a slice");
    double *want = io_test_slice(i, NY, NX);
    same = same && memcmp(band, want + row0 * NX, nrows * NX * sizeof *band) == 0;
    free(want);
  }
  PP_TEST_TRUE(same, "bands of 7, 3 and 0 rows equal what other ranks wrote, bit for bit");

  pp_status s = pp_output_read_cube_rows(out, 4, row0, nrows, band);
  check_same_error(s, PP_ERR_INTERNAL, MPI_COMM_WORLD,
                   "slice never written: refused on every rank with the same message");
  pp_status_free(s);
  s = pp_output_read_cube_rows(out, 1, rank == 2 ? NY - 1 : row0, rank == 2 ? 2 : nrows, band);
  check_same_error(s, PP_ERR_INTERNAL, MPI_COMM_WORLD,
                   "one rank's band out of range fails the call on every rank, no hang");
  pp_status_free(s);

  /* Run 1 "fails" on rank 2 only: the others asked to publish, one rank to keep. */
  PP_TEST_OK(pp_output_close_as(&out, rank == 2 ? PP_OUTPUT_KEEP_PARTIAL : PP_OUTPUT_PUBLISH),
             "close: one rank keeps, the others publish");
  PP_TEST_TRUE(io_test_exists(partial) && !io_test_exists(path),
               "any rank keeping wins over publishing: the .partial file stays");
  MPI_Barrier(MPI_COMM_WORLD);

  /* Run 2 on 2 ranks (rank 2 sits it out). */
  MPI_Comm pair = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, rank < 2 ? 0 : MPI_UNDEFINED, rank, &pair);
  if (pair != MPI_COMM_NULL) {
    int me = 0, ranks = 0;
    MPI_Comm_rank(pair, &me);
    MPI_Comm_size(pair, &ranks);
    t.meta.n_ranks = ranks;
    unsigned char completed[N_LAMBDA];
    memset(completed, 9, sizeof completed);
    bool resumed = false;
    PP_TEST_OK(pp_output_open_resume(path, &t.meta, false, pair, &out, completed, &resumed),
               "open_resume on 2 ranks");
    PP_TEST_TRUE(resumed && completed[0] == 1 && completed[1] == 1 && completed[2] == 1 &&
                     completed[3] == 1 && completed[4] == 0,
                 "completed = {1, 1, 1, 1, 0} on every rank");
    const size_t second[] = {4};
    write_own_slices(out, me, ranks, 2, second, 1);
    PP_TEST_OK(pp_output_sync(out), "sync (run 2)");

    /* Bands of whole detector rows: 3 and 2 of the 5. */
    size_t band_row0 = me == 0 ? 0 : 3 * OS, band_rows = me == 0 ? 3 * OS : 2 * OS;
    double psf[NY * NX], detector[(NY / OS) * (NX / OS)];
    PP_TEST_TRUE(io_test_reduce_band(out, &t, band_row0, band_rows, band),
                 "read-back reduction of this rank's band");
    io_test_psf(&t, psf, detector);
    PP_TEST_TRUE(memcmp(band, psf + band_row0 * NX, band_rows * NX * sizeof *band) == 0,
                 "the band summed from the file equals the serial sum, bit for bit");
    PP_TEST_OK(pp_output_write_psf_rows(out, band_row0, band_rows, band,
                                        detector + (band_row0 / OS) * (NX / OS)),
               "write PSF band");
    PP_TEST_OK(pp_output_close(&out, true), "close (run 2) publishes");
    PP_TEST_TRUE(io_test_exists(path) && !io_test_exists(partial), "the final file exists");
    MPI_Barrier(pair);

    if (me == 0) {
      double *got = NULL;
      size_t dims[3];
      int ndims = 0;
      PP_TEST_OK(pp_output_read_dataset(path, "/psf", &got, dims, &ndims), "read /psf");
      PP_TEST_TRUE(got && ndims == 2 && memcmp(got, psf, sizeof psf) == 0,
                   "/psf of the resumed run equals the serial sum, bit for bit");
      pp_array_free(&got);
      PP_TEST_OK(pp_output_read_dataset(path, "/cube", &got, dims, &ndims), "read /cube");
      bool cube_ok = got && ndims == 3 && dims[0] == N_LAMBDA;
      for (size_t i = 0; cube_ok && i < N_LAMBDA; i++) {
        double *want = io_test_slice(i, NY, NX);
        cube_ok = memcmp(got + i * NY * NX, want, NY * NX * sizeof *want) == 0;
        free(want);
      }
      PP_TEST_TRUE(cube_ok, "/cube holds both runs' slices, bit for bit");
      pp_array_free(&got);
      unsigned char flags[N_LAMBDA];
      PP_TEST_TRUE(io_test_read_completed(path, N_LAMBDA, flags) && flags[0] && flags[1] &&
                       flags[2] && flags[3] && flags[4],
                   "every slice completed");
      pp_task_record *rows = NULL;
      size_t count = 0;
      PP_TEST_OK(pp_output_read_tasks(path, &rows, &count), "read provenance");
      bool rows_ok = rows && count == N_LAMBDA;
      for (size_t i = 0; rows_ok && i < 4; i++)
        rows_ok = rows[i].rank == owner_of(i, 3) && rows[i].seconds == 10.0 + (double)i;
      rows_ok = rows_ok && rows[4].rank == owner_of(4, 2) && rows[4].seconds == 24.0;
      PP_TEST_TRUE(rows_ok, "provenance names run 1's ranks for its slices, run 2's for slice 4");
      free(rows);
      double n_ranks = 0;
      PP_TEST_OK(pp_output_read_number_attribute(path, "/", "n_ranks", &n_ranks), "read n_ranks");
      PP_TEST_NEAR(n_ranks, 2, 0.0, "n_ranks is the resuming run's rank count");
      unlink(path);
    }
    MPI_Comm_free(&pair);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

/* PUBLISH on some ranks and DISCARD on others: discarded everywhere. */
static void test_close_modes_combine(const char *dir) {
  char path[4096], partial[4096];
  IO_TEST_PATH(path, "%s/modes.h5", dir);
  IO_TEST_PATH(partial, "%s.partial", path);
  io_test_job t;
  io_test_job_init(&t, N_LAMBDA, FOV_Y, FOV_X, OS, true, "modes: mixed\n");
  pp_output *out = NULL;
  PP_TEST_OK(pp_output_create(path, &t.meta, false, MPI_COMM_WORLD, &out), "create");
  PP_TEST_OK(pp_output_close_as(&out, rank == 1 ? PP_OUTPUT_DISCARD : PP_OUTPUT_PUBLISH),
             "close: one rank discards, the others publish");
  PP_TEST_TRUE(!io_test_exists(path) && !io_test_exists(partial),
               "publish needs every rank: the file is discarded everywhere");
  MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  pp_test_.quiet = rank != 0;
  if (size != 3) { /* the bands and the 3 → 2 resume are laid out for 3 ranks */
    if (rank == 0) printf("SKIP test_io_resume_mpi needs 3 ranks (declared: 3)\n");
    MPI_Finalize();
    return 77;
  }

  char dir[4096] = {0};
  if (!io_test_make_shared_dir(MPI_COMM_WORLD, dir, sizeof dir)) {
    if (rank == 0) printf("cannot make a temporary directory\n");
    MPI_Finalize();
    return 1;
  }
  test_read_back_and_resume(dir);
  test_close_modes_combine(dir);
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
