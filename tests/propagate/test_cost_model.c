/* cost model: the calibration is sane (its time is printed, not asserted); its cache is
 * written, read back to the same doubles (so a run that reads it predicts what the run that
 * measured it did), and measured again when missing, corrupt, from another machine or when
 * asked; a cache that cannot be written is not an error; the default path follows XDG; the
 * chirp-z lengths a transform needs are measured once; predictions grow with the work and
 * the real-input MFT is cheaper than the complex one; on rates made by hand the MFT's
 * prediction is its flop count over the rate, and the choice for shapes whose answer is
 * known is the known one. Truths: the file's own text, flop counts, and orderings that hold
 * for any machine. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "polypsf/propagate.h"
#include "pp_test.h"

static bool pp_rates_equal(const pp_cost_rates *a, const pp_cost_rates *b) {
  if (strcmp(a->machine, b->machine) != 0 || a->exp_seconds != b->exp_seconds ||
      a->n_lengths != b->n_lengths)
    return false;
  for (int s = 0; s < PP_COST_GEMM_SIZES; s++)
    if (a->gemm_size[s] != b->gemm_size[s] || a->zgemm_flops_per_s[s] != b->zgemm_flops_per_s[s] ||
        a->dgemm_flops_per_s[s] != b->dgemm_flops_per_s[s])
      return false;
  for (size_t k = 0; k < a->n_lengths; k++)
    if (a->length[k] != b->length[k] || a->czt_line_seconds[k] != b->czt_line_seconds[k])
      return false;
  return true;
}

static void pp_write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* The cache's text with the first line starting with `key` replaced by `line` ("" drops it). */
static void pp_edit_cache(const char *from, const char *to, const char *key, const char *line) {
  FILE *in = fopen(from, "r"), *out = fopen(to, "w");
  char buffer[1024];
  bool done = false;
  while (in && out && fgets(buffer, sizeof buffer, in)) {
    if (!done && strncmp(buffer, key, strlen(key)) == 0) {
      fputs(line, out);
      done = true;
    } else {
      fputs(buffer, out);
    }
  }
  if (in) fclose(in);
  if (out) fclose(out);
}

static void pp_check_calibration(const char *dir) {
  pp_cost_rates rates;
  double start = pp_wtime();
  PP_TEST_OK(pp_cost_calibrate(&rates), "calibration runs");
  double seconds = pp_wtime() - start;
  printf("calibration: %.3f s; zgemm %.1f GFLOP/s at %zu, %.1f at %zu; exp %.2f ns; "
         "czt line %zu: %.3g s\n",
         seconds, rates.zgemm_flops_per_s[0] * 1e-9, rates.gemm_size[0],
         rates.zgemm_flops_per_s[PP_COST_GEMM_SIZES - 1] * 1e-9,
         rates.gemm_size[PP_COST_GEMM_SIZES - 1], rates.exp_seconds * 1e9,
         rates.length[rates.n_lengths - 1], rates.czt_line_seconds[rates.n_lengths - 1]);
  /* How long the calibration took is printed above (0.2 s alone on the 2-core machine), not
   * asserted: a wall-clock bound tests the machine's load, not polypsf, and failed on a
   * loaded one. */
  bool sane = rates.exp_seconds > 0.0 && rates.exp_seconds < 1e-6 && rates.n_lengths >= 4;
  for (int s = 0; s < PP_COST_GEMM_SIZES; s++)
    sane = sane && rates.zgemm_flops_per_s[s] > 1e7 && rates.dgemm_flops_per_s[s] > 1e7;
  for (size_t k = 0; k + 1 < rates.n_lengths; k++)
    sane = sane && rates.length[k] < rates.length[k + 1] && rates.czt_line_seconds[k] > 0.0;
  PP_TEST_TRUE(sane, "rates are positive, lengths increasing");
  char key[sizeof rates.machine];
  pp_cost_machine(key, sizeof key);
  PP_TEST_TRUE(strcmp(rates.machine, key) == 0 && strstr(key, "fftw-3"),
               "the rates carry this machine's key (CPU, BLAS, threads, FFTW)");

  /* predictions: more work costs more; a real pupil saves the MFT a third. On the nominal
   * rates: measured ones on a loaded machine can rank zgemm and dgemm either way, and the
   * model must then follow them; what is tested here is the model's form. */
  const pp_cost_rates *nominal = pp_cost_rates_nominal();
  double mft_small = pp_cost_mft_seconds(nominal, 128, 128, 64, 64, true);
  double mft_large = pp_cost_mft_seconds(nominal, 1024, 1024, 404, 404, true);
  double mft_complex = pp_cost_mft_seconds(nominal, 1024, 1024, 404, 404, false);
  double czt_small = pp_cost_czt_seconds(nominal, 128, 128, 64, 64);
  double czt_large = pp_cost_czt_seconds(nominal, 1024, 1024, 404, 404);
  PP_TEST_TRUE(mft_small > 0.0 && mft_small < mft_large && czt_small > 0.0 && czt_small < czt_large,
               "predictions grow with the transform");
  PP_TEST_TRUE(mft_large < mft_complex && mft_complex < 2.0 * mft_large,
               "the real-input MFT is predicted cheaper than the complex one");
  /* the measured rates drive the predictions: BLAS twice as fast predicts a faster MFT and
   * leaves the chirp-z (FFTs only) as it was */
  pp_cost_rates faster_blas = rates;
  for (int s = 0; s < PP_COST_GEMM_SIZES; s++) {
    faster_blas.zgemm_flops_per_s[s] *= 2.0;
    faster_blas.dgemm_flops_per_s[s] *= 2.0;
  }
  double mft_measured = pp_cost_mft_seconds(&rates, 1024, 1024, 404, 404, true);
  double mft_faster = pp_cost_mft_seconds(&faster_blas, 1024, 1024, 404, 404, true);
  PP_TEST_TRUE(mft_faster < mft_measured &&
                   pp_cost_czt_seconds(&faster_blas, 1024, 1024, 404, 404) ==
                       pp_cost_czt_seconds(&rates, 1024, 1024, 404, 404),
               "faster BLAS rates predict a faster MFT and the same chirp-z");

  size_t added = 0, again = 0;
  PP_TEST_OK(pp_cost_rates_cover(&rates, 1000, 1000, 250, 250, &added), "cover 1000 → 250");
  PP_TEST_OK(pp_cost_rates_cover(&rates, 1000, 1000, 250, 250, &again), "cover it again");
  /* 1000 + 250 − 1 = 1249 → FFT length 1260 = 2²·3²·5·7, not in the base set */
  PP_TEST_TRUE(added == 1 && again == 0, "the missing chirp-z length is measured once");
  (void)dir;
}

/* Predictions against independent truths, on rates made by hand (nothing measured, so the
 * same on every machine): with every product at one rate and free exponentials, the MFT's
 * seconds are mft.c's flop count over that rate; and, on the nominal rates, the choice for
 * shapes whose answer is known (a tiny detector: the MFT's two thin products; a detector as
 * large as the pupil: the chirp-z's N log N lines against the MFT's N³). */
static void pp_check_predictions(void) {
  pp_cost_rates flat = *pp_cost_rates_nominal();
  flat.exp_seconds = 0.0;
  const double rate = 1e9;
  for (int s = 0; s < PP_COST_GEMM_SIZES; s++)
    flat.zgemm_flops_per_s[s] = flat.dgemm_flops_per_s[s] = rate;
  const double n = 512.0, m = 100.0; /* square pupil n × n → square detector m × m */
  /* complex: 8 flops per complex multiply-add, m·n·n then m·n·m (either order, square) */
  double complex_seconds = (8.0 * m * n * n + 8.0 * m * n * m) / rate;
  /* real input: the first product is real, 4 flops per (real × complex) multiply-add */
  double real_seconds = (4.0 * m * n * n + 8.0 * m * n * m) / rate;
  PP_TEST_NEAR(pp_cost_mft_seconds(&flat, 512, 512, 100, 100, false), complex_seconds,
               1e-12 * complex_seconds, "complex MFT 512 → 100: its flops over the rate");
  PP_TEST_NEAR(pp_cost_mft_seconds(&flat, 512, 512, 100, 100, true), real_seconds,
               1e-12 * real_seconds, "real-input MFT 512 → 100: a real first product");

  const pp_cost_rates *nominal = pp_cost_rates_nominal();
  PP_TEST_TRUE(pp_cost_mft_seconds(nominal, 1024, 1024, 16, 16, true) <
                   pp_cost_czt_seconds(nominal, 1024, 1024, 16, 16),
               "1024 → 16 × 16 (a tiny detector): the MFT is chosen");
  PP_TEST_TRUE(pp_cost_czt_seconds(nominal, 2048, 2048, 2048, 2048) <
                   pp_cost_mft_seconds(nominal, 2048, 2048, 2048, 2048, false),
               "2048 → 2048 × 2048 (a detector as large as the pupil): the chirp-z is chosen");
}

static void pp_check_cache(const char *dir) {
  char path[1024], copy[1024];
  snprintf(path, sizeof path, "%s/sub/dir/calibration.txt", dir);
  snprintf(copy, sizeof copy, "%s/edited.txt", dir);
  pp_cost_rates first, second, read;
  pp_cost_load_report report;

  PP_TEST_OK(pp_cost_rates_load(path, false, &first, &report), "load without a cache");
  PP_TEST_TRUE(report.measured && report.written && !report.from_cache &&
                   strstr(report.reason, "no cache yet") && strcmp(report.path, path) == 0,
               "missing cache: measured, directories made, written");
  PP_TEST_OK(pp_cost_rates_read(path, &read), "the written cache reads");
  PP_TEST_TRUE(pp_rates_equal(&first, &read), "reread: the very same doubles");
  PP_TEST_OK(pp_cost_rates_load(path, false, &second, &report), "load again");
  PP_TEST_TRUE(report.from_cache && !report.measured && pp_rates_equal(&first, &second),
               "second load: from the cache, nothing measured");

  /* corrupt caches: each is refused by read (with path:line when a line is bad) and measured
   * again by load, which writes a valid cache over it */
  const struct {
    const char *key, *line, *what;
  } edits[] = {
      {"zgemm 64 ", "zgemm 64 fast\n", "a rate that is not a number"},
      {"dgemm 8 ", "dgemm 8 -3\n", "a negative rate"},
      {"czt_line 128 ", "czt_line 127 1e-6\n", "a length FFTW would not use"},
      {"end", "", "no 'end' (truncated)"},
      {"polypsf-calibration", "polypsf-calibration 99\n", "another format version"},
      {"exp_seconds", "exp_seconds 1e-8\nbogus 3\n", "an unknown key"},
      {"zgemm 8 ", "", "a BLAS size missing"},
  };
  for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
    pp_edit_cache(path, copy, edits[e].key, edits[e].line);
    pp_status s = pp_cost_rates_read(copy, &read);
    char label[256];
    snprintf(label, sizeof label, "corrupt cache (%s) refused: %.160s", edits[e].what,
             pp_status_message(s));
    PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), copy), label);
    pp_status_free(s);
    if (e % 3 != 0) continue; /* measuring takes 0.2 s: load a few of them */
    PP_TEST_OK(pp_cost_rates_load(copy, false, &second, &report), "load the corrupt cache");
    snprintf(label, sizeof label, "… measured again (%.180s) and rewritten", report.reason);
    PP_TEST_TRUE(report.measured && report.written && !report.from_cache, label);
    PP_TEST_OK(pp_cost_rates_read(copy, &read), "… the rewritten cache reads");
  }
  pp_write_text(copy, "");
  pp_status s = pp_cost_rates_read(copy, &read);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "an empty file is refused");
  pp_status_free(s);
  pp_write_text(copy, "\x7f" "ELF\x02\x01 not text at all\n");
  s = pp_cost_rates_read(copy, &read);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "a file of garbage is refused");
  pp_status_free(s);

  /* another machine: the key differs, the rates are not used */
  pp_edit_cache(path, copy, "machine ", "machine some other CPU | BLAS | 1 BLAS thread(s) | fftw\n");
  PP_TEST_OK(pp_cost_rates_read(copy, &read), "a cache of another machine is well formed");
  PP_TEST_OK(pp_cost_rates_load(copy, false, &second, &report), "load it");
  PP_TEST_TRUE(report.measured && strstr(report.reason, "another machine"),
               "another machine's cache is measured again");
  PP_TEST_OK(pp_cost_rates_load(path, true, &second, &report), "load with recalibrate");
  PP_TEST_TRUE(report.measured && report.written && strstr(report.reason, "asked"),
               "recalibrate measures even a valid cache");

  /* a cache that cannot be written: the rates are measured and used, not an error */
  char blocked[1024];
  snprintf(blocked, sizeof blocked, "%s/a_file/calibration.txt", dir);
  snprintf(copy, sizeof copy, "%s/a_file", dir);
  pp_write_text(copy, "a file where a directory would have to be\n");
  PP_TEST_OK(pp_cost_rates_load(blocked, false, &second, &report), "unwritable cache path");
  PP_TEST_TRUE(report.measured && !report.written && strstr(report.reason, "not kept"),
               "… measured, used, and the reason it is not kept is given");
}

static void pp_check_default_path(void) {
  char path[4096];
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char saved_xdg[2048] = "", saved_home[2048] = "";
  if (xdg) snprintf(saved_xdg, sizeof saved_xdg, "%s", xdg);
  if (home) snprintf(saved_home, sizeof saved_home, "%s", home);
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  setenv("HOME", "/home/someone", 1);
  PP_TEST_OK(pp_threads_set(1), "1 OpenBLAS and FFTW thread, as a run without a thread count");
  PP_TEST_OK(pp_cost_default_path(path, sizeof path), "default path with XDG_CACHE_HOME");
  PP_TEST_TRUE(strcmp(path, "/x/cache/polypsf/calibration.txt") == 0, "$XDG_CACHE_HOME/polypsf/calibration.txt");
  /* other thread counts measure other rates: a file of their own, so that runs alternating
   * them do not overwrite each other's cache */
  PP_TEST_OK(pp_threads_set(2), "2 threads");
  PP_TEST_OK(pp_cost_default_path(path, sizeof path), "default path, 2 threads");
  PP_TEST_TRUE(strcmp(path, "/x/cache/polypsf/calibration-blas2-fftw2.txt") == 0,
               "2 threads: $XDG_CACHE_HOME/polypsf/calibration-blas2-fftw2.txt");
  PP_TEST_OK(pp_threads_set(1), "back to 1 thread");
  PP_TEST_OK(pp_cost_default_path(path, sizeof path), "default path, 1 thread again");
  PP_TEST_TRUE(strcmp(path, "/x/cache/polypsf/calibration.txt") == 0, "1 thread: calibration.txt");
  setenv("XDG_CACHE_HOME", "relative/cache", 1);
  PP_TEST_OK(pp_cost_default_path(path, sizeof path), "default path, relative XDG_CACHE_HOME");
  PP_TEST_TRUE(strcmp(path, "/home/someone/.cache/polypsf/calibration.txt") == 0,
               "a relative XDG_CACHE_HOME is ignored: ~/.cache/polypsf/calibration.txt");
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  pp_status s = pp_cost_default_path(path, sizeof path);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "--calibration"),
               "no XDG_CACHE_HOME and no HOME: an error that says what to give");
  pp_status_free(s);
  pp_cost_rates rates;
  pp_cost_load_report report;
  PP_TEST_OK(pp_cost_rates_load(NULL, false, &rates, &report), "load with no cache directory");
  PP_TEST_TRUE(report.measured && !report.written && report.path[0] == '\0',
               "… measured, nothing written");
  if (saved_xdg[0]) setenv("XDG_CACHE_HOME", saved_xdg, 1);
  if (saved_home[0]) setenv("HOME", saved_home, 1);
}

int main(void) {
  char dir[] = "/tmp/polypsf-cost-XXXXXX";
  if (!mkdtemp(dir)) {
    printf("FAIL cannot make a temporary directory\n");
    return 1;
  }
  pp_check_calibration(dir);
  pp_check_predictions();
  pp_check_cache(dir);
  pp_check_default_path();
  char command[256];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  PP_TEST_TRUE(system(command) == 0, "clean up");
  return pp_test_finish();
}
