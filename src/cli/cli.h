/* polypsf command line: one function per subcommand, each in its own file, dispatched by
 * the table in main.c. A command returns the process exit status: 0 success, 2 bad
 * input, 1 a failure while running, 3 a run stopped by SIGTERM (--resume continues it).
 * Private to src/cli. */
#ifndef POLYPSF_CLI_H
#define POLYPSF_CLI_H

#include "polypsf/polypsf.h"

enum { PP_EXIT_OK = 0, PP_EXIT_FAILURE = 1, PP_EXIT_BAD_INPUT = 2, PP_EXIT_STOPPED = 3 };

/* The exit status for a status (and prints nothing). */
int pp_cli_exit_code(pp_status status);
/* Prints the error as `polypsf: error: …` on stderr, frees it, returns its exit status. */
int pp_cli_report(pp_status status);

/* argv[0] is the program, argv[1] the command's name. */
typedef int (*pp_cli_command_fn)(int argc, char **argv);

/* The commands that read a finished output file (cmd_export.c, cmd_render.c, cmd_info.c);
 * none starts MPI. */
int pp_cli_command_export(int argc, char **argv);
int pp_cli_command_render(int argc, char **argv);
int pp_cli_command_info(int argc, char **argv);

/* ---- option parsing shared by those commands (cli_parse.c) ----------------------------- */
/* A finite number in [min, max] from the whole of text; PP_ERR_INPUT naming the option. */
pp_status pp_cli_parse_number(const char *option, const char *text, double min, double max,
                              double *value);
/* A whole number in [min, max] from the whole of text; PP_ERR_INPUT naming the option. */
pp_status pp_cli_parse_size(const char *option, const char *text, size_t min, size_t max,
                            size_t *value);
/* The option's value: argv[*i + 1], advancing *i; PP_ERR_INPUT when there is none. `what`
 * says what the option needs ("a file name"). */
pp_status pp_cli_option_value(int argc, char **argv, int *i, const char *what, const char **value);

/* SHA-256 of bytes as 64 lowercase hex digits and a NUL into hex[65] (sha256.c): the digest
 * `sha256sum` prints, so a job file can be compared with the text stored in an output. */
void pp_cli_sha256_hex(const void *bytes, size_t length, char hex[65]);

#endif
