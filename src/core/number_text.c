/* The grammar of a decimal number in users' text (job files, spectrum files, options): one
 * definition, so a number the job file takes is a number a spectrum file takes. */
#include <ctype.h>
#include <stdbool.h>

#include "polypsf/core.h"

/* Stricter than strtod, which would also take "inf", "0x1p3", " 1" and "1e5x" prefixes. */
bool pp_text_is_decimal_number(const char *text) {
  const char *p = text;
  if (*p == '+' || *p == '-') p++;
  size_t mantissa_digits = 0;
  while (isdigit((unsigned char)*p)) p++, mantissa_digits++;
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) p++, mantissa_digits++;
  }
  if (mantissa_digits == 0) return false;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    size_t exponent_digits = 0;
    while (isdigit((unsigned char)*p)) p++, exponent_digits++;
    if (exponent_digits == 0) return false;
  }
  return *p == '\0';
}
