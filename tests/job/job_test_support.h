/* Helpers shared by the job parser's tests. */
#ifndef POLYPSF_JOB_TEST_SUPPORT_H
#define POLYPSF_JOB_TEST_SUPPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "polypsf/job.h"
#include "pp_test.h"

/* Parses text that must be valid; a failure counts as a failed check at test_line. */
static inline pp_job *job_test_parse_ok(const char *text, const char *name, int test_line,
                                        const char *what) {
  pp_job *job = NULL;
  pp_status status = pp_job_parse_string(text, strlen(text), name, &job);
  pp_test_report(status == PP_SUCCESS && job != NULL, __FILE__, test_line, what,
                 pp_status_message(status));
  pp_status_free(status);
  return job;
}

/* 1-based line and column (in characters) of the first occurrence of marker in text. A
 * '|' in the marker is a cursor: "gray_pixel: |1" finds "gray_pixel: 1" and points at "1".
 * The expected position comes from the text itself, independently of libyaml's marks. */
static inline bool job_test_marker_position(const char *text, const char *marker, int *line,
                                            int *column) {
  char pattern[256];
  snprintf(pattern, sizeof pattern, "%s", marker);
  char *cursor = strchr(pattern, '|');
  size_t cursor_offset = 0;
  if (cursor) {
    cursor_offset = (size_t)(cursor - pattern);
    memmove(cursor, cursor + 1, strlen(cursor + 1) + 1);
  }
  const char *at = strstr(text, pattern);
  if (!at) return false;
  at += cursor_offset;
  *line = 1;
  *column = 1;
  for (const char *p = text; p < at; p++) {
    if (*p == '\n') {
      (*line)++;
      *column = 1;
    } else if (((unsigned char)*p & 0xC0) != 0x80) {
      (*column)++;
    }
  }
  return true;
}

#endif
