/* The command line's one option parser (getopt_long, with polypsf's own messages) and its
 * value parsers, shared by every command. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

pp_status pp_cli_parse_number(const char *option, const char *text, double min, double max,
                              double *value) {
  char *end = NULL;
  double v = strtod(text, &end);
  PP_CHECK(end != text && *end == '\0' && isfinite(v) && v >= min && v <= max, PP_ERR_INPUT,
           "option %s needs a number from %g to %g, got '%s'", option, min, max, text);
  *value = v;
  return PP_SUCCESS;
}

pp_status pp_cli_parse_size(const char *option, const char *text, size_t min, size_t max,
                            size_t *value) {
  char *end = NULL;
  long long v = strtoll(text, &end, 10);
  PP_CHECK(end != text && *end == '\0' && v >= (long long)min && (unsigned long long)v <= max,
           PP_ERR_INPUT, "option %s needs a whole number from %zu to %zu, got '%s'", option, min,
           max, text);
  *value = (size_t)v;
  return PP_SUCCESS;
}

pp_status pp_cli_parse_count(const char *option, const char *text, int max, int *value) {
  size_t v = 0;
  PP_CALL(pp_cli_parse_size(option, text, 1, (size_t)max, &v));
  *value = (int)v;
  return PP_SUCCESS;
}

/* ---- options ------------------------------------------------------------------------ */

/* getopt_long's value for a non-option word when optstring starts with '-' (options and
 * words are then returned in the order they were given). */
enum { PP_CLI_GETOPT_WORD = 1, PP_CLI_GETOPT_FIRST_KEY = 256 };

pp_status pp_cli_parser_init(pp_cli_parser *parser, const char *command, int argc, char **argv,
                             const pp_cli_option *options, size_t n_options) {
  PP_CHECK(n_options <= PP_CLI_MAX_OPTIONS, PP_ERR_INTERNAL,
           "%s has %zu options, more than the parser's %d", command, n_options,
           (int)PP_CLI_MAX_OPTIONS);
  /* getopt_long sees the command as its argv[0], so its own start (optind 1) skips it */
  *parser = (pp_cli_parser){.command = command, .argc = argc - 1, .argv = argv + 1,
                            .options = options, .n_options = n_options};
  /* "-": words come back in order (code 1); ":": a missing value comes back as ':', so the
   * messages are polypsf's, not getopt's (opterr = 0 silences those). */
  size_t s = 0;
  parser->short_options[s++] = '-';
  parser->short_options[s++] = ':';
  for (size_t i = 0; i < n_options; i++) {
    parser->long_options[i] = (struct option){.name = options[i].name,
                                              .has_arg = options[i].value ? required_argument
                                                                          : no_argument,
                                              .val = PP_CLI_GETOPT_FIRST_KEY + (int)i};
    if (options[i].short_name) {
      parser->short_options[s++] = options[i].short_name;
      if (options[i].value) parser->short_options[s++] = ':';
    }
  }
  parser->long_options[n_options] = (struct option){0};
  parser->short_options[s] = '\0';
  /* getopt keeps its place in libc's globals; 0 starts a new scan (glibc) */
  optind = 0;
  opterr = 0;
  return PP_SUCCESS;
}

static int pp_cli_option_index_of_short(const pp_cli_parser *parser, int key) {
  for (size_t i = 0; i < parser->n_options; i++)
    if (parser->options[i].short_name == key) return (int)i;
  return -1;
}

/* The row whose long name is exactly the word's ("--name" or "--name=value"), or -1. */
static int pp_cli_option_index_of_word(const pp_cli_parser *parser, const char *word) {
  if (strncmp(word, "--", 2) != 0) return -1;
  size_t length = strcspn(word + 2, "=");
  for (size_t i = 0; i < parser->n_options; i++)
    if (strlen(parser->options[i].name) == length &&
        strncmp(parser->options[i].name, word + 2, length) == 0)
      return (int)i;
  return -1;
}

pp_status pp_cli_next(pp_cli_parser *parser, pp_cli_item *item) {
  *item = (pp_cli_item){.option = -1};
  if (parser->words_only) {
    if (optind >= parser->argc) return PP_SUCCESS;
    item->word = parser->argv[optind++];
    return PP_SUCCESS;
  }
  int before = optind > 0 ? optind : 1; /* 0 (a new scan) starts at 1 */
  int key = getopt_long(parser->argc, parser->argv, parser->short_options,
                        parser->long_options, NULL);
  const char *given = before < parser->argc ? parser->argv[before] : "";
  if (key == -1) {
    /* "--" ends the options: what follows is words, even if they start with '-' */
    parser->words_only = true;
    if (optind >= parser->argc) return PP_SUCCESS;
    item->word = parser->argv[optind++];
    return PP_SUCCESS;
  }
  if (key == PP_CLI_GETOPT_WORD) {
    item->word = optarg;
    return PP_SUCCESS;
  }
  if (key == ':') {
    /* optopt: the row's key for a long option, the letter for a short one */
    int index = optopt >= PP_CLI_GETOPT_FIRST_KEY ? optopt - PP_CLI_GETOPT_FIRST_KEY
                                                  : pp_cli_option_index_of_short(parser, optopt);
    PP_CHECK(false, PP_ERR_INPUT, "option %s needs %s", given,
             index >= 0 ? parser->options[index].value : "a value");
  }
  if (key == '?') {
    int index = pp_cli_option_index_of_word(parser, given);
    PP_CHECK(index < 0, PP_ERR_INPUT, "option --%s takes no value, got '%s'",
             parser->options[index].name, given);
    PP_CHECK(false, PP_ERR_INPUT, "unknown option '%s' for %s (see polypsf --help)", given,
             parser->command);
  }
  int index = key >= PP_CLI_GETOPT_FIRST_KEY ? key - PP_CLI_GETOPT_FIRST_KEY
                                             : pp_cli_option_index_of_short(parser, key);
  PP_CHECK(index >= 0 && (size_t)index < parser->n_options, PP_ERR_INTERNAL,
           "getopt_long returned %d for '%s'", key, given);
  /* getopt_long also takes any unambiguous abbreviation (--out for --output); polypsf takes
   * only whole names, so that a script's options keep their meaning when options are added. */
  if (key >= PP_CLI_GETOPT_FIRST_KEY) {
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(given, "="), given);
    PP_CHECK(pp_cli_option_index_of_word(parser, given) == index, PP_ERR_INPUT,
             "unknown option '%s' for %s (did you mean '--%s'?)", name, parser->command,
             parser->options[index].name);
  }
  item->option = index;
  if (key >= PP_CLI_GETOPT_FIRST_KEY)
    snprintf(item->name, sizeof item->name, "--%s", parser->options[index].name);
  else
    snprintf(item->name, sizeof item->name, "-%c", key);
  item->value = optarg;
  return PP_SUCCESS;
}

pp_status pp_cli_take_word(const pp_cli_item *item, const char *noun, const char **word) {
  PP_CHECK(*word == NULL, PP_ERR_INPUT, "more than one %s given ('%s' and '%s')", noun, *word,
           item->word);
  *word = item->word;
  return PP_SUCCESS;
}
