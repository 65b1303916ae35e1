/* exp(2πi·c) for many phases c (in cycles) without a sine and a cosine each: a table of the
 * circle at N points and a short Taylor step from the nearest one. See system_private.h. */
#define POLYPSF_SYSTEM_INTERNAL
#include "system_private.h"

#include <math.h>

void pp_phasor_table_init(pp_phasor_table *table) {
  for (int k = 0; k < PP_PHASOR_TABLE_SIZE; k++) {
    double angle = 2.0 * PP_PI * (double)k / PP_PHASOR_TABLE_SIZE;
    table->cos_k[k] = cos(angle);
    table->sin_k[k] = sin(angle);
  }
}
