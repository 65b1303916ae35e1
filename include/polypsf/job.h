/* polypsf job: the YAML job file parsed (libyaml) into a validated pp_job.
 * Any error names file:line:column and the key, and what is allowed. */
#ifndef POLYPSF_JOB_H
#define POLYPSF_JOB_H

#include "polypsf/core.h"
#include "polypsf/optics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PP_METHOD_AUTO, PP_METHOD_MFT, PP_METHOD_CZT, PP_METHOD_FFT } pp_method;
typedef enum { PP_NORMALIZE_FIRST, PP_NORMALIZE_NONE } pp_normalize;

typedef struct pp_detector_spec {
  double pixelscale_arcsec;   /* detector pixel (arcsec), before oversampling */
  size_t fov_pixels_y, fov_pixels_x; /* detector pixels; from fov_arcsec: ceil(fov/pixelscale) */
  int oversample;             /* computed pixels per detector pixel, each axis */
} pp_detector_spec;

typedef struct pp_job {
  char *source_name;          /* the job file's path as given (for messages) */
  char *text;                 /* the job file's full text (stored in the output) */
  size_t pupil_npix;          /* pupil array is npix × npix */
  size_t n_wavelengths;
  double *wavelengths_m;      /* [n_wavelengths], metres */
  double *weights;            /* [n_wavelengths], normalized to sum 1 */
  size_t n_optics;
  pp_optic_spec *optics;      /* in the order light meets them */
  pp_detector_spec detector;
  pp_method method;
  int fft_oversample;
  pp_normalize normalize;
  char *output_path;          /* output.path; may be overridden by the CLI */
  bool output_cube;           /* write /cube */
} pp_job;

/* Parses and validates a job file. Not collective (call on every rank, or parse on
 * one and broadcast the text). On error *job is NULL. */
pp_status pp_job_parse_file(const char *path, pp_job **job);
/* The same from text in memory; `name` stands for the file in messages. */
pp_status pp_job_parse_string(const char *text, size_t length, const char *name, pp_job **job);
void pp_job_destroy(pp_job **job);

const char *pp_method_name(pp_method method);

#ifdef __cplusplus
}
#endif
#endif
