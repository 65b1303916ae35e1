/* How a file on disk relates to a job: the comparison that decides whether a .partial can
 * be resumed (output_resume.c), and the guard that keeps a fresh start from discarding a
 * stopped run's finished slices (pp_output_create, output.c). Below both: neither calls the
 * other through this file. Rank 0 only; not collective. */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "polypsf/io.h"


/* Reads a 1-D float64 dataset of n values and compares it bit for bit with want: the
 * same job text parsed by the same polypsf gives the same bits, and /psf sums with these
 * exact weights, so "close" is not good enough. */
static pp_status pp_resume_same_values(hid_t file, const char *path, const char *name,
                                       const double *want, size_t n, double *scratch,
                                       bool *same, char why[PP_IO_WHY_BYTES]) {
  *same = false;
  pp_status read = pp_io_read_whole(file, path, name, H5T_NATIVE_DOUBLE, n, scratch);
  if (read != PP_SUCCESS) {
    if (pp_status_code(read) == PP_ERR_MEMORY) return read;
    snprintf(why, PP_IO_WHY_BYTES, "%s", pp_status_message(read));
    pp_status_free(read);
    return PP_SUCCESS;
  }
  *same = memcmp(scratch, want, n * sizeof *want) == 0;
  if (!*same) snprintf(why, PP_IO_WHY_BYTES, "its %s differ", name + 1);
  return PP_SUCCESS;
}

/* A root attribute holding a number equal (bit for bit) to want. */
static bool pp_resume_same_number(hid_t file, const char *path, const char *name, double want,
                                  const char *unit, char why[PP_IO_WHY_BYTES]) {
  double got = 0.0;
  pp_status read = pp_formats_hdf5_read_number_attribute(file, path, "/", name, &got);
  if (read != PP_SUCCESS) {
    snprintf(why, PP_IO_WHY_BYTES, "%s", pp_status_message(read));
    pp_status_free(read);
    return false;
  }
  if (memcmp(&got, &want, sizeof got) == 0) return true;
  /* 15 digits read well; 17 only when needed to show the difference. */
  char got_text[32], want_text[32];
  snprintf(got_text, sizeof got_text, "%.15g", got);
  snprintf(want_text, sizeof want_text, "%.15g", want);
  if (strcmp(got_text, want_text) == 0) {
    snprintf(got_text, sizeof got_text, "%.17g", got);
    snprintf(want_text, sizeof want_text, "%.17g", want);
  }
  snprintf(why, PP_IO_WHY_BYTES, "its %s is %s %s, this job's %s %s", name, got_text, unit,
           want_text, unit);
  return false;
}

pp_status pp_io_output_compare(hid_t file, const char *path, const pp_output_meta *meta,
                                pp_resume_match *match, char why[PP_IO_WHY_BYTES]) {
  pp_status status = PP_SUCCESS;
  char *text = NULL;
  double *scratch = NULL;
  const pp_job *job = meta->job;
  size_t n = job->n_wavelengths;
  *match = PP_RESUME_FOREIGN;
  why[0] = '\0';

  /* The format first: only then do the other names mean what this code thinks. */
  pp_status read = pp_formats_hdf5_read_string_attribute(file, path, "/", "format_name", &text);
  if (read != PP_SUCCESS || strcmp(text, PP_OUTPUT_FORMAT_NAME) != 0) {
    snprintf(why, PP_IO_WHY_BYTES, "%s",
             read != PP_SUCCESS ? pp_status_message(read) : "another format_name");
    pp_status_free(read);
    goto done;
  }
  double version = 0.0;
  read = pp_formats_hdf5_read_number_attribute(file, path, "/", "format_version", &version);
  if (read != PP_SUCCESS || version != PP_OUTPUT_FORMAT_VERSION) {
    snprintf(why, PP_IO_WHY_BYTES, "format version %g", read != PP_SUCCESS ? -1.0 : version);
    pp_status_free(read);
    goto done;
  }

  *match = PP_RESUME_OTHER_JOB;
  free(text);
  text = NULL;
  read = pp_formats_hdf5_read_string_attribute(file, path, "/", "job_text", &text);
  if (read != PP_SUCCESS || strcmp(text, job->text ? job->text : "") != 0) {
    snprintf(why, PP_IO_WHY_BYTES, "%s",
             read != PP_SUCCESS ? pp_status_message(read) : "its job text differs");
    pp_status_free(read);
    goto done;
  }
  scratch = malloc(n * sizeof *scratch);
  PP_CHECK_GOTO(status, scratch != NULL, PP_ERR_MEMORY, "out of memory");
  bool same = false;
  PP_CALL_GOTO(status, pp_resume_same_values(file, path, "/wavelengths", job->wavelengths_m, n,
                                             scratch, &same, why));
  if (!same) goto done;
  PP_CALL_GOTO(status,
               pp_resume_same_values(file, path, "/weights", job->weights, n, scratch, &same, why));
  if (!same) goto done;
  int ndims = 0;
  size_t dims[3];
  read = pp_io_dataset_shape(file, path, "/psf", &ndims, dims);
  if (read != PP_SUCCESS || ndims != 2 || dims[0] != meta->geometry.psf_ny || dims[1] != meta->geometry.psf_nx) {
    if (read != PP_SUCCESS) snprintf(why, PP_IO_WHY_BYTES, "%s", pp_status_message(read));
    else
      snprintf(why, PP_IO_WHY_BYTES, "its /psf is %zu × %zu, this job's %zu × %zu", dims[0],
               dims[1], meta->geometry.psf_ny, meta->geometry.psf_nx);
    pp_status_free(read);
    goto done;
  }
  /* Slices computed at another pixel scale or pupil width must not be mixed in. */
  if (!pp_resume_same_number(file, path, "pixelscale_arcsec", meta->geometry.psf_pixelscale_arcsec, "arcsec",
                             why) ||
      !pp_resume_same_number(file, path, "pupil_diameter_m", meta->geometry.pupil_diameter_m, "m", why))
    goto done;
  *match = PP_RESUME_SAME_JOB;
done:
  free(text);
  free(scratch);
  return status;
}

/* Completed flags set in the open file's /status/completed (0 when it has none). Not
 * collective. */
static pp_status pp_resume_count_completed(hid_t file, const char *path, size_t *count) {
  pp_status status = PP_SUCCESS;
  unsigned char *flags = NULL;
  int ndims = 0;
  size_t dims[3] = {0, 0, 0};
  *count = 0;
  pp_status shape = pp_io_dataset_shape(file, path, "/status/completed", &ndims, dims);
  bool readable = shape == PP_SUCCESS && ndims == 1 && dims[0] > 0;
  pp_status_free(shape);
  if (!readable) return PP_SUCCESS; /* no flags: nothing finished that could be kept */
  flags = malloc(dims[0]);
  PP_CHECK_GOTO(status, flags != NULL, PP_ERR_MEMORY, "out of memory");
  pp_status read = pp_io_read_whole(file, path, "/status/completed", H5T_NATIVE_UCHAR, dims[0],
                                    flags);
  for (size_t i = 0; read == PP_SUCCESS && i < dims[0]; i++) *count += flags[i] != 0;
  pp_status_free(read);
done:
  free(flags);
  return status;
}

pp_status pp_io_output_check_partial(const char *path, const char *partial,
                                     const pp_output_meta *meta) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID;
  char why[PP_IO_WHY_BYTES];
  struct stat info;
  if (lstat(partial, &info) != 0) return PP_SUCCESS;
  /* A file HDF5 cannot open (a run killed while creating it) holds nothing to keep. */
  pp_status opened = pp_formats_hdf5_open_read(partial, &file);
  bool readable = opened == PP_SUCCESS;
  pp_status_free(opened);
  if (!readable) goto done;
  size_t finished = 0;
  PP_CALL_GOTO(status, pp_resume_count_completed(file, partial, &finished));
  if (finished == 0) goto done;
  pp_resume_match match = PP_RESUME_FOREIGN;
  PP_CALL_GOTO(status, pp_io_output_compare(file, partial, meta, &match, why));
  bool final_exists = lstat(path, &info) == 0;
  PP_CHECK_GOTO(status, match != PP_RESUME_SAME_JOB || !pp_job_resumable(meta->job), PP_ERR_INPUT,
                "'%s' holds %zu of %zu finished slice(s) of this job from a stopped run; "
                "starting afresh would lose them: add %s to continue that run%s, or --force to "
                "discard them",
                partial, finished, meta->job->n_wavelengths,
                final_exists ? "--resume --force" : "--resume",
                final_exists ? " (replacing the existing output when it finishes)" : "");
  PP_CHECK_GOTO(status, false, PP_ERR_INPUT,
                "'%s' holds %zu finished slice(s) of %s (%s); starting afresh would lose them: "
                "add --force to discard them, or move it away",
                partial, finished,
                match == PP_RESUME_FOREIGN     ? "another polypsf format"
                : match == PP_RESUME_OTHER_JOB ? "a different job"
                                               : "this job without a cube",
                match == PP_RESUME_SAME_JOB ? "it cannot be resumed" : why);
done:
  pp_formats_hdf5_close(&file);
  return status;
}

