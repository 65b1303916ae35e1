/* Aligned, zero-filled arrays and overflow-checked sizes. */
#include "polypsf/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { PP_ARRAY_ALIGN_BYTES = 64 };

pp_status pp_size_mul(size_t a, size_t b, size_t *out) {
  PP_CHECK(b == 0 || a <= SIZE_MAX / b, PP_ERR_MEMORY,
           "array size overflows: %zu × %zu elements", a, b);
  *out = a * b;
  return PP_SUCCESS;
}

pp_status pp_array_alloc(size_t bytes, void **out) {
  *out = NULL;
  size_t rounded = (bytes + PP_ARRAY_ALIGN_BYTES - 1) / PP_ARRAY_ALIGN_BYTES * PP_ARRAY_ALIGN_BYTES;
  if (rounded == 0) rounded = PP_ARRAY_ALIGN_BYTES;
  void *p = aligned_alloc(PP_ARRAY_ALIGN_BYTES, rounded);
  PP_CHECK(p != NULL, PP_ERR_MEMORY, "cannot allocate %zu bytes", bytes);
  memset(p, 0, rounded);
  *out = p;
  return PP_SUCCESS;
}

void pp_array_free(void *ptr_to_ptr) {
  void **pp = (void **)ptr_to_ptr;
  if (!pp) return;
  free(*pp);
  *pp = NULL;
}

const char *pp_version(void) { return POLYPSF_VERSION; }
