/* libFuzzer target: the job parser. Any text must give either a job that holds together or
 * a clean error: PP_ERR_INPUT whose message starts with the job file's name (the
 * `file:line:column:` promise of docs/job-file.md), or PP_ERR_MEMORY. Anything else (a crash,
 * a sanitizer report, a leak, another error class) is a bug. pp_job_parse_string reads the
 * text from memory; the spectrum files a job names (`wavelengths: {file: ...}`) are looked
 * for beside the job's name, in the scratch directory, where a few small ones are made. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_support.h"
#include "polypsf/job.h"

/* A job file that names spectra/<any of these> finds a small valid text spectrum, so that
 * seeds from tests/cli/bad_jobs reach the spectrum checks, not only "no such file". */
static const char *const spectrum_names[] = {"spectrum.txt", "spectra/empty.txt",
                                             "spectra/nanometres.txt", "spectra/unsorted.txt"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  char spectra[600];
  snprintf(spectra, sizeof spectra, "%s/spectra", pp_fuzz_scratch_dir());
  mkdir(spectra, 0700);
  static const char text[] = "# wavelength_m weight\n1.0e-6 1\n1.5e-6 2\n2.0e-6 1\n";
  for (size_t k = 0; k < sizeof spectrum_names / sizeof spectrum_names[0]; k++)
    pp_fuzz_write_file(spectrum_names[k], (const uint8_t *)text, sizeof text - 1);
  return 0;
}

/* What every parsed job must satisfy, whatever the text (docs/job-file.md's limits). */
static void pp_fuzz_check_job(const pp_job *job) {
  bool ok = job->pupil_npix >= 1 && job->pupil_npix <= PP_JOB_MAX_NPIX &&
            job->n_wavelengths >= 1 && job->n_wavelengths <= PP_JOB_MAX_WAVELENGTHS &&
            job->wavelengths_m && job->weights && job->n_optics <= PP_JOB_MAX_OPTICS &&
            job->detector.oversample >= 1 &&
            job->detector.oversample <= PP_JOB_MAX_OVERSAMPLE && job->text && job->source_name;
  double weight_sum = 0;
  for (size_t i = 0; ok && i < job->n_wavelengths; i++) {
    ok = isfinite(job->wavelengths_m[i]) && job->wavelengths_m[i] >= PP_JOB_MIN_WAVELENGTH_M &&
         job->wavelengths_m[i] <= PP_JOB_MAX_WAVELENGTH_M && isfinite(job->weights[i]) &&
         job->weights[i] >= 0;
    weight_sum += ok ? job->weights[i] : 0;
  }
  /* weights are normalized to sum 1 (1e-9: rounding over at most 1e5 terms) */
  ok = ok && fabs(weight_sum - 1.0) < 1e-9;
  if (!ok) {
    fprintf(stderr, "polypsf fuzz: a parsed job breaks its invariants\n");
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char name[600];
  if (!name[0]) snprintf(name, sizeof name, "%s/job.yaml", pp_fuzz_scratch_dir());
  pp_job *job = NULL;
  pp_status status = pp_job_parse_string((const char *)data, size, name, &job);
  if (status == PP_SUCCESS) {
    pp_fuzz_check_job(job);
    pp_job_destroy(&job);
    return 0;
  }
  pp_error_code code = pp_status_code(status);
  const char *message = pp_status_message(status);
  bool clean = job == NULL && ((code == PP_ERR_INPUT && strncmp(message, name, strlen(name)) == 0) ||
                               code == PP_ERR_MEMORY);
  if (!clean) {
    fprintf(stderr, "polypsf fuzz: not a clean job error (class %d): %s\n", (int)code, message);
    abort();
  }
  pp_status_free(status);
  return 0;
}
