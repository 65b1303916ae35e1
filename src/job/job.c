/* The job's life: read the file, parse, destroy; names of the enum values. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file into a NUL-terminated buffer. Every failure is PP_ERR_INPUT: the
 * user named a job file that cannot be used, and must change the command (exit 2). */
static pp_status pp_job_read_text(const char *path, char **text, size_t *length) {
  pp_status status = PP_SUCCESS;
  *text = NULL;
  *length = 0;
  char *buffer = NULL;
  size_t used = 0, capacity = 0;
  FILE *file = fopen(path, "rb");
  PP_CHECK(file != NULL, PP_ERR_INPUT, "%s: cannot open the job file: %s", path, strerror(errno));
  for (;;) {
    if (capacity - used < 4096) {
      size_t grown = capacity ? 2 * capacity : 16384;
      char *bigger = realloc(buffer, grown + 1);
      PP_CHECK_GOTO(status, bigger != NULL, PP_ERR_MEMORY, "%s: no memory to read the job file",
                    path);
      buffer = bigger;
      capacity = grown;
    }
    size_t got = fread(buffer + used, 1, capacity - used, file);
    used += got;
    PP_CHECK_GOTO(status, used <= PP_JOB_MAX_FILE_BYTES, PP_ERR_INPUT,
                  "%s: the job file is larger than %d bytes; a job file describes a system in a "
                  "few lines (is this the right file?)",
                  path, PP_JOB_MAX_FILE_BYTES);
    if (got == 0) {
      /* EISDIR for a directory lands here. */
      PP_CHECK_GOTO(status, !ferror(file), PP_ERR_INPUT, "%s: cannot read the job file: %s", path,
                    strerror(errno));
      break;
    }
  }
  buffer[used] = '\0';
  *text = buffer;
  *length = used;
  buffer = NULL;
done:
  free(buffer);
  fclose(file);
  return status;
}

pp_status pp_job_parse_file(const char *path, pp_job **job) {
  *job = NULL;
  PP_CHECK(path != NULL && path[0] != '\0', PP_ERR_INPUT, "no job file given");
  char *text = NULL;
  size_t length = 0;
  PP_CALL(pp_job_read_text(path, &text, &length));
  pp_status status = pp_job_parse_string(text, length, path, job);
  free(text);
  return status == PP_SUCCESS ? PP_SUCCESS : pp_error_trace(status, __FILE__, __LINE__, __func__);
}

pp_status pp_job_parse_string(const char *text, size_t length, const char *name, pp_job **job) {
  pp_status status = PP_SUCCESS;
  pp_yaml_doc doc = {.loaded = false};
  *job = NULL;
  if (!name) name = "(job text)";
  PP_CHECK(text != NULL || length == 0, PP_ERR_INTERNAL, "pp_job_parse_string: NULL text");
  PP_CHECK(length <= PP_JOB_MAX_FILE_BYTES, PP_ERR_INPUT,
           "%s: the job file is larger than %d bytes", name, PP_JOB_MAX_FILE_BYTES);
  /* libyaml stops at nothing, but job->text is a C string: a NUL inside would cut it. */
  const char *nul = length ? memchr(text, '\0', length) : NULL;
  if (nul) {
    size_t line = 1, column = 1;
    for (const char *p = text; p < nul; p++) {
      if (*p == '\n') {
        line++;
        column = 1;
      } else if (((unsigned char)*p & 0xC0) != 0x80) {
        column++;
      }
    }
    return pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                          "%s:%zu:%zu: not valid YAML: a NUL byte (is this a binary file?)", name,
                          line, column);
  }

  pp_job *parsed = calloc(1, sizeof *parsed);
  PP_CHECK(parsed, PP_ERR_MEMORY, "no memory for a job");
  parsed->source_name = strdup(name);
  parsed->text = malloc(length + 1);
  PP_CHECK_GOTO(status, parsed->source_name && parsed->text, PP_ERR_MEMORY,
                "no memory for the job text (%zu bytes)", length);
  if (length) memcpy(parsed->text, text, length);
  parsed->text[length] = '\0';

  PP_CALL_GOTO(status, pp_yaml_doc_load(parsed->text, length, parsed->source_name, &doc));
  PP_CALL_GOTO(status, pp_job_fill(&doc, parsed));
  *job = parsed;
  parsed = NULL;
done:
  pp_yaml_doc_release(&doc);
  pp_job_destroy(&parsed);
  return status;
}

void pp_job_destroy(pp_job **job) {
  if (!job || !*job) return;
  pp_job *j = *job;
  for (size_t i = 0; i < j->n_optics; i++) pp_optic_spec_clear(&j->optics[i]);
  free(j->optics);
  free(j->wavelengths_m);
  free(j->weights);
  free(j->output_path);
  free(j->text);
  free(j->source_name);
  free(j->planes_requested);
  free(j->fresnel.distance_m);
  free(j->field_points_arcsec);
  free(j->field_detector_pixels);
  for (size_t i = 0; j->field_zernike && i < j->n_optics; i++) free(j->field_zernike[i]);
  free(j->field_zernike);
  free(j->field_terms);
  free(j);
  *job = NULL;
}

bool pp_job_resumable(const pp_job *job) {
  return job->output_cube || job->n_field_points > 0;
}

const char *pp_method_name(pp_method method) {
  switch (method) {
    case PP_METHOD_AUTO: return "auto";
    case PP_METHOD_MFT: return "mft";
    case PP_METHOD_CZT: return "czt";
    case PP_METHOD_FFT: return "fft";
  }
  return "unknown";
}

const char *pp_propagation_mode_name(pp_propagation_mode mode) {
  return mode == PP_PROPAGATION_FRESNEL ? "fresnel" : "fraunhofer";
}

const char *pp_normalize_name(pp_normalize normalize) {
  switch (normalize) {
    case PP_NORMALIZE_FIRST: return "first";
    case PP_NORMALIZE_NONE: return "none";
  }
  return "unknown";
}

const char *pp_plane_quantity_name(pp_plane_quantity quantity) {
  switch (quantity) {
    case PP_PLANE_INTENSITY: return "intensity";
    case PP_PLANE_COMPLEX: return "complex";
    case PP_PLANE_AMPLITUDE_PHASE: return "amplitude_phase";
  }
  return NULL;
}
