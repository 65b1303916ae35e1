/* polypsf command line: one function per subcommand, each in its own file, dispatched by
 * the table in main.c. A command returns the process exit status: 0 success, 2 bad
 * input, 1 a failure while running. Private to src/cli. */
#ifndef POLYPSF_CLI_H
#define POLYPSF_CLI_H

#include "polypsf/polypsf.h"

enum { PP_EXIT_OK = 0, PP_EXIT_FAILURE = 1, PP_EXIT_BAD_INPUT = 2 };

/* The exit status for a status (and prints nothing). */
int pp_cli_exit_code(pp_status status);
/* Prints the error as `polypsf: error: …` on stderr, frees it, returns its exit status. */
int pp_cli_report(pp_status status);

/* argv[0] is the program, argv[1] the command's name. */
typedef int (*pp_cli_command_fn)(int argc, char **argv);

#endif
