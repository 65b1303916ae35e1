/* `polypsf info` through the real program, on files this test writes with known contents
 * (tests/io/result_test_support.h: a weighted sum of three Gaussians about a known point of a
 * non-square field, known provenance). Every number is checked against a value computed here
 * from the definition, not with the library's analysis code:
 *   sum and peak by direct loops; the centroid is the Gaussians' common centre; the FWHM
 *   solves Σ a_i exp(−r²/2σ_i²) = ½ Σ a_i by bisection; the encircled energy is
 *   Σ a_i·2πσ_i²·(1 − exp(−r²/2σ_i²)); the job digest is what sha256sum prints.
 * Then a stopped run's .partial file (2 of 3 completed) and two bad inputs (exit 2).
 * The files are written on one MPI process, which finishes before the program runs. */
#include <mpi.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "pp_test.h"
#include "io/result_test_support.h"

static const char job_text[] =
    "# info test job\n"
    "pupil: {npix: 64}\n"
    "wavelengths: {list: [1.0e-6, 1.25e-6, 1.5e-6], weights: [1, 2, 3]}\n"
    "optics:\n"
    "  - circular_aperture: {radius: 3.25}\n"
    "detector: {pixelscale: 0.05, fov_pixels: [30, 32], oversample: 2}\n"
    "output: {path: psf.h5}\n";

enum { OUTPUT_BYTES = 1 << 16 };

/* Runs the command, stdout and stderr into out; returns the exit status (−1 on failure). */
static int run(const char *command, char *out, size_t size) {
  out[0] = '\0';
  FILE *p = popen(command, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, size - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The rest of the first line that starts with `key` followed by a blank, or NULL. */
static const char *line_after(const char *text, const char *key) {
  size_t length = strlen(key);
  for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, key, length) == 0 && line[length] == ' ') {
      line += length;
      while (*line == ' ') line++;
      return line;
    }
  return NULL;
}

/* Half-maximum radius of Σ a_i exp(−r²/2σ_i²) by bisection (pixels). */
static double half_max_radius(const double *a, const double *sigma, size_t n) {
  double peak = 0.0, lo = 0.0, hi = 100.0;
  for (size_t i = 0; i < n; i++) peak += a[i];
  for (int k = 0; k < 200; k++) {
    double mid = 0.5 * (lo + hi), v = 0.0;
    for (size_t i = 0; i < n; i++) v += a[i] * exp(-mid * mid / (2.0 * sigma[i] * sigma[i]));
    if (v > 0.5 * peak) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

static const double cx = 32.3, cy = 29.1, sigma = 3.0, scale = 0.025; /* 0.05″ / oversample 2 */

/* result.h5 (finished) and stopped.h5.partial (2 of 3 slices); needs MPI. */
static void write_files(const char *dir, result_test_file *rf, result_test_file *rs) {
  char h5[4096], stopped[4096];
  IO_TEST_PATH(h5, "%s/result.h5", dir);
  IO_TEST_PATH(stopped, "%s/stopped.h5", dir);
  result_test_init(rf, 3, 30, 32, 2, false, job_text, cx, cy, sigma);
  PP_TEST_TRUE(result_test_write(rf, h5, 3, false), "known output file written");
  result_test_init(rs, 3, 4, 4, 1, true, job_text, 1.5, 1.5, 1.0);
  PP_TEST_TRUE(result_test_write(rs, stopped, 2, true), "stopped run's .partial written");
}

static void check_info(const char *exe, const char *dir, const result_test_file *rfp) {
  char h5[4096], command[9000], job_path[4096];
  char *out = malloc(OUTPUT_BYTES);
  IO_TEST_PATH(h5, "%s/result.h5", dir);
  const result_test_file rf = *rfp;
  size_t n = 3, ny = rf.ny, nx = rf.nx;
  PP_TEST_TRUE(ny == 60 && nx == 64, "/psf is 60 x 64");

  /* the truths */
  double sum = 0.0, peak = 0.0, amplitude[3], sigmas[3];
  size_t peak_at = 0;
  for (size_t p = 0; p < ny * nx; p++) {
    sum += rf.psf[p];
    if (rf.psf[p] > peak) {
      peak = rf.psf[p];
      peak_at = p;
    }
  }
  for (size_t i = 0; i < n; i++) {
    amplitude[i] = rf.t.weights[i] / (double)(i + 1); /* slice i has peak 1/(i+1) */
    sigmas[i] = sigma * (1.0 + 0.1 * (double)i);
  }
  double r_ee[2] = {0.2, 0.3}; /* arcsec: 2.7σ and 4σ of the first Gaussian */

  IO_TEST_PATH(command, "'%s' info '%s' --ee 0.2,0.3 2>&1", exe, h5);
  int code = run(command, out, OUTPUT_BYTES);
  PP_TEST_TRUE(code == 0, "polypsf info exits 0");
  printf("%s", out);

  const char *v = line_after(out, "completed");
  PP_TEST_TRUE(v && strncmp(v, "3 of 3 wavelengths", 18) == 0, "completed: 3 of 3 wavelengths");
  v = line_after(out, "wavelengths");
  PP_TEST_TRUE(v && strncmp(v, "3 from", 6) == 0, "wavelengths: 3");
  for (size_t i = 0; i < n; i++) {
    char key[32];
    snprintf(key, sizeof key, "  %zu", i);
    v = line_after(out, key);
    double wavelength = 0.0, weight = 0.0, seconds = 0.0, mib = 0.0;
    char done[8] = "", method[8] = "";
    int rank = -9, node = -9;
    int got = v ? sscanf(v, "%lf %lf %7s %d %d %7s %lf %lf", &wavelength, &weight, done, &rank,
                         &node, method, &seconds, &mib)
                : 0;
    char what[160];
    snprintf(what, sizeof what, "row %zu: wavelength, weight, done, rank, node, method, seconds, MiB", i);
    PP_TEST_TRUE(got == 8 && fabs(wavelength / rf.t.wavelengths_m[i] - 1.0) < 1e-7 &&
                     fabs(weight / rf.t.weights[i] - 1.0) < 1e-6 && strcmp(done, "yes") == 0 &&
                     rank == rf.records[i].rank && node == rf.records[i].node &&
                     strcmp(method, "mft") == 0 && fabs(seconds - rf.records[i].seconds) < 1e-3 &&
                     fabs(mib - rf.records[i].peak_bytes / 1048576.0) < 0.05,
                 what);
  }
  v = line_after(out, "sampling");
  double pixel = 0.0, det_pixel = 0.0;
  size_t sx = 0, sy = 0, dx = 0, dy = 0;
  int os = 0;
  PP_TEST_TRUE(v && sscanf(v, "/psf %zu x %zu px of %lf arcsec (oversample %d); /psf_detector %zu x "
                              "%zu px of %lf", &sx, &sy, &pixel, &os, &dx, &dy, &det_pixel) == 7 &&
                   sx == nx && sy == ny && pixel == scale && os == 2 && dx == nx / 2 &&
                   dy == ny / 2 && det_pixel == 0.05,
               "sampling: 64 x 60 px of 0.025 arcsec, oversample 2, detector 32 x 30 of 0.05");
  v = line_after(out, "ranks");
  int ranks = 0, nodes = 0;
  PP_TEST_TRUE(v && sscanf(v, "%d on %d", &ranks, &nodes) == 2 && ranks == 3 && nodes == 2,
               "ranks: 3 on 2 nodes");
  v = line_after(out, "seconds");
  double total = 0.0, mean = 0.0, longest = 0.0;
  size_t tasks = 0;
  PP_TEST_TRUE(v && sscanf(v, "%lf over %zu task(s): %lf per task on average, longest %lf", &total,
                           &tasks, &mean, &longest) == 4 &&
                   total == 1.5 + 2.5 + 3.5 && tasks == 3 && mean == 2.5 && longest == 3.5,
               "seconds: 7.5 over 3 tasks, 2.5 per task, longest 3.5");
  v = line_after(out, "memory");
  double memory = 0.0;
  PP_TEST_TRUE(v && sscanf(v, "peak %lf MiB", &memory) == 1 && memory == 120.0,
               "memory: peak 120 MiB (the largest task)");

  v = line_after(out, "psf");
  double got_sum = 0.0, got_peak = 0.0;
  size_t px = 0, py = 0;
  PP_TEST_TRUE(v && sscanf(v, "sum %lf, peak %lf at (x %zu, y %zu)", &got_sum, &got_peak, &px, &py) == 4,
               "psf line parses");
  PP_TEST_NEAR(got_sum / sum, 1.0, 1e-8, "psf sum (9 digits printed)");
  PP_TEST_NEAR(got_peak / peak, 1.0, 1e-8, "psf peak");
  PP_TEST_TRUE(px == peak_at % nx && py == peak_at / nx, "psf peak position (x 32, y 29)");

  v = line_after(out, "centroid");
  double cen_x = NAN, cen_y = NAN;
  PP_TEST_TRUE(v && sscanf(v, "x %lf y %lf arcsec", &cen_x, &cen_y) == 2, "centroid line parses");
  PP_TEST_NEAR(cen_x, (cx - 0.5 * (double)(nx - 1)) * scale, 1e-4 * scale,
               "centroid x = (32.3 − 31.5)·0.025 arcsec within 1e-4 px");
  PP_TEST_NEAR(cen_y, (cy - 0.5 * (double)(ny - 1)) * scale, 1e-4 * scale,
               "centroid y = (29.1 − 29.5)·0.025 arcsec within 1e-4 px");

  v = line_after(out, "fwhm");
  double fwhm = 0.0;
  double want_fwhm = 2.0 * half_max_radius(amplitude, sigmas, n) * scale;
  PP_TEST_TRUE(v && sscanf(v, "%lf arcsec", &fwhm) == 1, "fwhm line parses");
  PP_TEST_NEAR(fwhm / want_fwhm, 1.0, 1e-3, "FWHM = 2·r(½ max) of the Gaussian sum within 0.1 %");

  /* encircled energies: one "ee" line per radius, in order */
  const char *line = out;
  for (int k = 0; k < 2; k++) {
    v = line_after(line, "ee");
    double r = 0.0, energy = 0.0, want = 0.0, r_px = r_ee[k] / scale;
    for (size_t i = 0; i < n; i++)
      want += amplitude[i] * 2.0 * PP_PI * sigmas[i] * sigmas[i] *
              (1.0 - exp(-r_px * r_px / (2.0 * sigmas[i] * sigmas[i])));
    char what[160];
    snprintf(what, sizeof what, "ee line %d parses (r %.1f arcsec)", k + 1, r_ee[k]);
    PP_TEST_TRUE(v && sscanf(v, "r %lf arcsec (%*[^)]): %lf", &r, &energy) == 2 && r == r_ee[k], what);
    snprintf(what, sizeof what,
             "EE(%.1f arcsec) = Σ a_i 2πσ_i² (1 − e^(−r²/2σ_i²)) within %s", r_ee[k],
             k == 0 ? "0.3 % (pixels taken as uniform)" : "3e-4");
    PP_TEST_NEAR(energy / want, 1.0, k == 0 ? 3e-3 : 3e-4, what);
    line = v ? v : line;
  }

  /* the job digest, as sha256sum prints it for the same bytes */
  IO_TEST_PATH(job_path, "%s/job.yaml", dir);
  FILE *job = fopen(job_path, "wb");
  fwrite(job_text, 1, strlen(job_text), job);
  fclose(job);
  char digest_out[256];
  IO_TEST_PATH(command, "sha256sum '%s' 2>/dev/null", job_path);
  v = line_after(out, "job");
  if (run(command, digest_out, sizeof digest_out) == 0 && strlen(digest_out) >= 64) {
    digest_out[64] = '\0';
    PP_TEST_TRUE(v && strstr(v, digest_out) && strstr(v, "7 lines"), "job: 7 lines, sha256 as sha256sum's");
  } else {
    /* No sha256sum here: the digest of the same bytes by the SHA-256 test_sha256 checks
     * against FIPS 180-4, so the check still runs. */
    char digest[65];
    pp_cli_sha256_hex(job_text, strlen(job_text), digest);
    PP_TEST_TRUE(v && strstr(v, digest) && strstr(v, "7 lines"),
                 "job: 7 lines, sha256 as the known-answer-tested SHA-256's (no sha256sum)");
  }

  /* a stopped run's .partial file: info still reads it */
  char partial[4096];
  IO_TEST_PATH(partial, "%s/stopped.h5.partial", dir);
  IO_TEST_PATH(command, "'%s' info '%s' 2>&1", exe, partial);
  code = run(command, out, OUTPUT_BYTES);
  v = line_after(out, "completed");
  PP_TEST_TRUE(code == 0 && v && strncmp(v, "2 of 3 wavelengths", 18) == 0,
               "a .partial file: exit 0, completed 2 of 3");
  PP_TEST_TRUE(strstr(out, "analysis    skipped") != NULL, "a .partial file: analysis skipped");

  /* bad inputs: exit 2 and a sentence */
  IO_TEST_PATH(command, "'%s' info '%s' 2>&1", exe, job_path);
  code = run(command, out, OUTPUT_BYTES);
  PP_TEST_TRUE(code == 2 && strstr(out, "not an HDF5 file"), "a YAML file: exit 2, 'not an HDF5 file'");
  IO_TEST_PATH(command, "'%s' info '%s/missing.h5' 2>&1", exe, dir);
  code = run(command, out, OUTPUT_BYTES);
  PP_TEST_TRUE(code == 2 && strstr(out, "No such file"), "a missing file: exit 2, 'No such file'");
  unlink(job_path);
  unlink(h5);
  unlink(partial);
  free(out);
}

int main(int argc, char **argv) {
  const char *exe = getenv("POLYPSF_EXE");
  if (!exe || !exe[0]) {
    printf("SKIP: POLYPSF_EXE is not set\n");
    return 77;
  }
  char dir[4096];
  if (!io_test_make_dir(dir, sizeof dir)) {
    printf("FAIL cannot make a temporary directory\n");
    return 1;
  }
  /* Every file is written first; the program runs after MPI is finished (no fork under MPI). */
  result_test_file rf, rs;
  MPI_Init(&argc, &argv);
  write_files(dir, &rf, &rs);
  MPI_Finalize();
  check_info(exe, dir, &rf);
  io_test_remove_dir(dir);
  result_test_free(&rf);
  result_test_free(&rs);
  return pp_test_finish();
}
