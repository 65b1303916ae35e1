/* Where the files a job names are read from. Its own file, below both the job's entry
 * (job.c) and its parser (job_parse.c), which use it: neither then calls the other back. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <stdlib.h>
#include <string.h>

/* A file a job names (spectrum, map) is read relative to the job file's directory,
 * where the user keeps the job and its data, not the directory the program runs in;
 * absolute paths and jobs named without a directory keep the name as written. */
pp_status pp_job_data_file_path(const char *job_name, const char *given, char **path) {
  *path = NULL;
  const char *slash = job_name ? strrchr(job_name, '/') : NULL;
  size_t dir_length = given[0] == '/' || !slash ? 0 : (size_t)(slash - job_name) + 1;
  size_t bytes = dir_length + strlen(given) + 1;
  char *joined = malloc(bytes);
  PP_CHECK(joined != NULL, PP_ERR_MEMORY, "cannot allocate a path of %zu bytes", bytes);
  memcpy(joined, job_name ? job_name : "", dir_length);
  memcpy(joined + dir_length, given, bytes - dir_length);
  *path = joined;
  return PP_SUCCESS;
}
