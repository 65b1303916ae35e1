/* polypsf command line: one function per subcommand, each in its own file, dispatched by
 * the table in main.c. A command returns the process exit status: 0 success, 2 bad
 * input, 1 a failure while running, 3 a run stopped by SIGTERM (--resume continues it).
 * Private to src/cli. */
#ifndef POLYPSF_CLI_H
#define POLYPSF_CLI_H

#include <getopt.h>

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
/* `info` on a PSF grid: one line per field point (cmd_info_grid.c); prints nothing for a file
 * without /grid. ee_radius_arcsec 0: 2 λ/D at the weighted mean wavelength. */
void pp_cli_info_grid(const pp_result *result, double ee_radius_arcsec);

/* ---- the option parser and value parsers every command shares (cli_parse.c) -------------- */
/* One option of a command: getopt_long's row and what its value is. */
typedef struct pp_cli_option {
  const char *name;  /* the long name, without "--" */
  char short_name;   /* 'o' for -o, or 0 */
  const char *value; /* what the value must be, for messages ("a file name"); NULL: a flag */
} pp_cli_option;

enum { PP_CLI_MAX_OPTIONS = 24 };

/* getopt_long over argv[2..] with polypsf's messages: options and words in the order given,
 * whole long names only (no abbreviations), "--name=value" and "--name value" alike, "--"
 * ends the options. */
typedef struct pp_cli_parser {
  const char *command;
  int argc;
  char **argv;
  const pp_cli_option *options;
  size_t n_options;
  bool words_only; /* after "--" */
  struct option long_options[PP_CLI_MAX_OPTIONS + 1];
  char short_options[2 + 2 * PP_CLI_MAX_OPTIONS + 1];
} pp_cli_parser;

/* What pp_cli_next found: an option (its row in options[], its name, its value or NULL), a word (option == -1, word set), or the end (option == -1, word NULL). */
typedef struct pp_cli_item {
  int option;
  const char *value, *word;
  char name[40]; /* the option as messages name it: "--size" (even if "--size=9" was given), "-o" */
} pp_cli_item;

/* argv[1] is the command; options must outlive the parser. */
pp_status pp_cli_parser_init(pp_cli_parser *parser, const char *command, int argc, char **argv,
                             const pp_cli_option *options, size_t n_options);
/* The next option or word; PP_ERR_INPUT for an unknown option, an abbreviation, a missing
 * value or a value given to a flag. */
pp_status pp_cli_next(pp_cli_parser *parser, pp_cli_item *item);
/* The item's word into *word; PP_ERR_INPUT "more than one NOUN given" if *word is set. */
pp_status pp_cli_take_word(const pp_cli_item *item, const char *noun, const char **word);

/* A finite number in [min, max] from the whole of text; PP_ERR_INPUT naming the option. */
pp_status pp_cli_parse_number(const char *option, const char *text, double min, double max,
                              double *value);
/* A whole number in [min, max] from the whole of text; PP_ERR_INPUT naming the option. */
pp_status pp_cli_parse_size(const char *option, const char *text, size_t min, size_t max,
                            size_t *value);
/* A whole number from 1 to max for an int option (pp_cli_parse_size's rules and message). */
pp_status pp_cli_parse_count(const char *option, const char *text, int max, int *value);

/* SHA-256 of bytes as 64 lowercase hex digits and a NUL into hex[65] (sha256.c): the digest
 * `sha256sum` prints, so a job file can be compared with the text stored in an output. */
void pp_cli_sha256_hex(const void *bytes, size_t length, char hex[65]);

#endif
