/* Option values for the commands that read an output file. */
#include <math.h>
#include <stdlib.h>

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

pp_status pp_cli_option_value(int argc, char **argv, int *i, const char *what, const char **value) {
  PP_CHECK(*i + 1 < argc, PP_ERR_INPUT, "option %s needs %s", argv[*i], what);
  *i += 1;
  *value = argv[*i];
  return PP_SUCCESS;
}
