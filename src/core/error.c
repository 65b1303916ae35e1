/* Error objects: one allocation per failure, passed up by value of the pointer. */
#include "polypsf/core.h"

#include <stdlib.h>
#include <string.h>

enum { PP_ERROR_MAX_FRAMES = 24, PP_ERROR_MESSAGE_BYTES = 1024 };

typedef struct {
  const char *file;
  const char *func;
  int line;
} pp_error_frame;

struct pp_error {
  pp_error_code code;
  int n_frames;
  pp_error_frame frames[PP_ERROR_MAX_FRAMES];
  char message[PP_ERROR_MESSAGE_BYTES];
};

/* Returned when even the error object cannot be allocated; never written to. */
static const struct pp_error pp_out_of_memory_error = {
    .code = PP_ERR_MEMORY, .n_frames = 0, .message = "out of memory while reporting an error"};

static bool pp_error_is_constant(pp_status status) {
  return status == (pp_status)&pp_out_of_memory_error;
}

pp_status pp_error_raise(pp_error_code code, const char *file, int line, const char *func,
                         const char *fmt, ...) {
  struct pp_error *err = calloc(1, sizeof *err);
  if (!err) return (pp_status)&pp_out_of_memory_error;
  err->code = code == PP_ERR_NONE ? PP_ERR_INTERNAL : code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  err->frames[0] = (pp_error_frame){file, func, line};
  err->n_frames = 1;
  return err;
}

pp_status pp_error_trace(pp_status status, const char *file, int line, const char *func) {
  if (status == PP_SUCCESS || pp_error_is_constant(status)) return status;
  if (status->n_frames < PP_ERROR_MAX_FRAMES)
    status->frames[status->n_frames++] = (pp_error_frame){file, func, line};
  return status;
}

pp_error_code pp_status_code(pp_status status) {
  return status == PP_SUCCESS ? PP_ERR_NONE : status->code;
}

const char *pp_status_message(pp_status status) {
  return status == PP_SUCCESS ? "" : status->message;
}

void pp_status_print(pp_status status, FILE *stream, bool with_trace) {
  if (status == PP_SUCCESS) return;
  fprintf(stream, "polypsf: error: %s\n", status->message);
  if (!with_trace) return;
  for (int i = 0; i < status->n_frames; i++)
    fprintf(stream, "  at %s (%s:%d)\n", status->frames[i].func, status->frames[i].file,
            status->frames[i].line);
}

void pp_status_free(pp_status status) {
  if (status == PP_SUCCESS || pp_error_is_constant(status)) return;
  free(status);
}
