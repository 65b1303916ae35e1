/* From a pp_status to the process's exit status (cli.h), in its own file: main.c and every
 * command use it, and it calls none of them back. */
#include <stdio.h>

#include "cli.h"

int pp_cli_exit_code(pp_status status) {
  switch (pp_status_code(status)) {
    case PP_ERR_NONE: return PP_EXIT_OK;
    case PP_ERR_INPUT: return PP_EXIT_BAD_INPUT;
    case PP_ERR_STOPPED: return PP_EXIT_STOPPED;
    default: return PP_EXIT_FAILURE;
  }
}

int pp_cli_report(pp_status status) {
  int code = pp_cli_exit_code(status);
  pp_status_print(status, stderr, false);
  pp_status_free(status);
  return code;
}
