/* propagation set-up over 3 ranks (ctest runs it with mpiexec -n 3): every rank gets rank 0's
 * transform choice, even when the others' own calibrations would choose differently; every rank
 * ends with the same FFTW wisdom; with a measuring rigor every rank computes bit-identical PSFs
 * from rank 0's wisdom, and rank 0 writes the wisdom file; a bad wisdom file fails every rank.
 * Truths: rank 0's data gathered and compared byte for byte. */
#include <mpi.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "pp_test.h"

static int pp_rank, pp_size;

/* FNV-1a: equal texts hash equal; here a check that all ranks hold the same bytes. */
static uint64_t pp_hash(const void *data, size_t bytes) {
  const unsigned char *p = data;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < bytes; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/* True on every rank when every rank's value equals rank 0's. */
static bool pp_all_equal(uint64_t value) {
  uint64_t root = value;
  MPI_Bcast(&root, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  int same = root == value, all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all != 0;
}

static uint64_t pp_wisdom_hash(void) {
  char *text = NULL;
  pp_status s = pp_fft_wisdom_export_string(&text);
  uint64_t h = s == PP_SUCCESS ? pp_hash(text, strlen(text)) : 0;
  pp_status_free(s);
  free(text);
  return h;
}

static pp_job *pp_make_job(const char *rigor) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "pupil: {npix: 256}\n"
           "wavelengths: {list: [1.3e-6]}\n"
           "optics:\n"
           "  - circular_aperture: {radius: 3.25}\n"
           "  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}\n"
           "  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 40.0e-9]}\n"
           "detector: {pixelscale: 0.0311, fov_pixels: 50, oversample: 2}\n"
           "propagation: {method: auto, fft_rigor: %s}\n",
           rigor);
  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "propagation.yaml", &job), "job parses");
  return job;
}

/* The job's chirp-z FFT length: 256 + 100 − 1 = 355 → 360. */
static const size_t pp_job_length = 360;

/* A cache for this machine whose rates favour BLAS (fast_blas) or FFTs by a factor 1e6. The
 * FFT-favouring one holds the job's length too, so that nothing is measured at its real speed
 * (which in a sanitized build could tip the choice back). */
static void pp_write_biased_cache(const char *path, bool fast_blas) {
  pp_cost_rates rates = *pp_cost_rates_nominal();
  pp_cost_machine(rates.machine, sizeof rates.machine);
  for (int s = 0; s < PP_COST_GEMM_SIZES && fast_blas; s++) {
    rates.zgemm_flops_per_s[s] *= 1e6;
    rates.dgemm_flops_per_s[s] *= 1e6;
  }
  if (!fast_blas) {
    /* insert 360 in order (the nominal lengths are 32, 128, 512, 1440) */
    size_t k = rates.n_lengths++;
    for (; k > 0 && rates.length[k - 1] > pp_job_length; k--) {
      rates.length[k] = rates.length[k - 1];
      rates.czt_line_seconds[k] = rates.czt_line_seconds[k - 1];
    }
    rates.length[k] = pp_job_length;
    rates.czt_line_seconds[k] = 1.5e-6;
    for (size_t l = 0; l < rates.n_lengths; l++) rates.czt_line_seconds[l] *= 1e-6;
  }
  rates.exp_seconds *= 1e-6;
  PP_TEST_OK(pp_cost_rates_write(path, &rates), "biased cache written");
}

static void pp_check_choice(const char *dir) {
  pp_job *job = pp_make_job("estimate");
  if (!job) return;
  /* Rank 0's cache says FFTs are fast, the others' say BLAS is: rank 0 decides for all. */
  char path[1200];
  snprintf(path, sizeof path, "%s/calibration.rank%d.txt", dir, pp_rank);
  pp_write_biased_cache(path, pp_rank != 0);
  pp_propagation_options options = {.calibration_path = path};
  pp_system_choice choice;
  PP_TEST_OK(pp_propagation_setup(job, &options, MPI_COMM_WORLD, NULL, &choice), "set-up");
  PP_TEST_TRUE(pp_all_equal(pp_hash(&choice, sizeof choice)),
               "every rank holds rank 0's choice, byte for byte");
  PP_TEST_TRUE(choice.method == PP_METHOD_CZT && choice.requested == PP_METHOD_AUTO &&
                   choice.complex_field,
               "… which is what rank 0's calibration predicts (czt), not the others' (mft)");
  PP_TEST_TRUE(pp_all_equal(pp_wisdom_hash()), "every rank holds the same FFTW wisdom");

  /* only rank 0 reads its calibration: the others' caches lack the job's length and would
   * have gained it, had they chosen */
  pp_cost_rates rates;
  PP_TEST_OK(pp_cost_rates_read(path, &rates), "cache reads");
  bool has = false;
  for (size_t k = 0; k < rates.n_lengths; k++) has = has || rates.length[k] == pp_job_length;
  int mine = has == (pp_rank == 0), all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  PP_TEST_TRUE(pp_fft_fast_size(256 + 100 - 1) == pp_job_length && all,
               "no rank but rank 0 touched its calibration (no length measured elsewhere)");
  pp_job_destroy(&job);
}

/* With rigor measure rank 0 measures the plans once; every rank plans from its wisdom and
 * computes the same bits; rank 0 writes the wisdom file. */
static void pp_check_measured_wisdom(const char *dir) {
  pp_job *job = pp_make_job("measure");
  if (!job) return;
  char calibration[1200], wisdom[1200];
  snprintf(calibration, sizeof calibration, "%s/calibration.rank%d.txt", dir, pp_rank);
  snprintf(wisdom, sizeof wisdom, "%s/wisdom.txt", dir);
  pp_propagation_options options = {.calibration_path = calibration, .wisdom_path = wisdom};
  pp_system_choice choice;
  /* the calibration files of pp_check_choice: rank 0's makes it czt, which FFTW plans */
  PP_TEST_OK(pp_propagation_setup(job, &options, MPI_COMM_WORLD, NULL, &choice), "set-up (measure)");
  PP_TEST_TRUE(choice.method == PP_METHOD_CZT && pp_all_equal(pp_wisdom_hash()),
               "measure rigor: after the set-up every rank holds rank 0's measured wisdom");
  pp_system *system = NULL;
  PP_TEST_OK(pp_system_create_with_method(job, choice.method, &system), "system builds");
  double *psf = NULL;
  size_t ny = 0, nx = 0;
  if (system) {
    pp_system_psf_shape(system, &ny, &nx);
    psf = calloc(ny * nx, sizeof *psf);
    PP_TEST_OK(pp_system_psf(system, job->wavelengths_m[0], psf), "PSF");
  }
  PP_TEST_TRUE(psf && pp_all_equal(pp_hash(psf, ny * nx * sizeof *psf)),
               "measure rigor, czt: every rank computes the same PSF bits");
  PP_TEST_OK(pp_propagation_save_wisdom(&options, MPI_COMM_WORLD, NULL), "wisdom saved");
  int ok = 1;
  if (pp_rank == 0) {
    FILE *f = fopen(wisdom, "r");
    char head[16] = "";
    ok = f && fgets(head, sizeof head, f) && strncmp(head, "(fftw-3", 7) == 0;
    if (f) fclose(f);
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  PP_TEST_TRUE(ok, "rank 0 wrote FFTW wisdom to the file");
  free(psf);
  pp_system_destroy(&system);

  /* a file that is not wisdom: rank 0 refuses it, every rank fails */
  if (pp_rank == 0) {
    FILE *f = fopen(wisdom, "w");
    if (f) {
      fputs("not wisdom\n", f);
      fclose(f);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  pp_status s = pp_propagation_setup(job, &options, MPI_COMM_WORLD, NULL, &choice);
  int failed = s != PP_SUCCESS, all_failed = 0;
  MPI_Allreduce(&failed, &all_failed, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  PP_TEST_TRUE(all_failed && (pp_rank != 0 || (pp_status_code(s) == PP_ERR_INPUT &&
                                               strstr(pp_status_message(s), wisdom))),
               "a bad wisdom file fails every rank; rank 0 names the file");
  pp_status_free(s);
  pp_job_destroy(&job);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &pp_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &pp_size);
  pp_test_.quiet = pp_rank != 0;
  char dir[] = "/tmp/polypsf-propagation-XXXXXX";
  int made = pp_rank == 0 ? mkdtemp(dir) != NULL : 1;
  MPI_Bcast(&made, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Bcast(dir, (int)sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
  PP_TEST_TRUE(made && pp_size >= 2, "a temporary directory, two ranks or more");
  if (made) {
    pp_check_choice(dir);
    pp_check_measured_wisdom(dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (pp_rank == 0 && made) {
    char command[256];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    PP_TEST_TRUE(system(command) == 0, "clean up");
  }
  int code = pp_test_finish_all(MPI_COMM_WORLD);
  MPI_Finalize();
  return code;
}
