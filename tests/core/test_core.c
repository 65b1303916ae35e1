/* core: errors carry code, message and call sites; arrays are aligned and zeroed;
 * size arithmetic refuses overflow. */
#include <stdint.h>
#include <string.h>

#include "pp_test.h"

static pp_status inner_fails(int value) {
  PP_CHECK(value > 0, PP_ERR_INPUT, "value must be positive, got %d", value);
  return PP_SUCCESS;
}

static pp_status outer_passes_up(int value) {
  PP_CALL(inner_fails(value));
  return PP_SUCCESS;
}

static pp_status owner_cleans_up(int value, int *released) {
  pp_status status = PP_SUCCESS;
  double *buffer = NULL;
  PP_CALL_GOTO(status, pp_array_alloc(128, (void **)&buffer));
  PP_CALL_GOTO(status, inner_fails(value));
done:
  pp_array_free(&buffer);
  *released = buffer == NULL;
  return status;
}

int main(void) {
  pp_status s = outer_passes_up(-3);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "error class survives PP_CALL");
  PP_TEST_TRUE(strstr(pp_status_message(s), "got -3") != NULL, "message formatted");
  pp_status_free(s);
  PP_TEST_TRUE(outer_passes_up(1) == PP_SUCCESS, "success passes through");

  int released = 0;
  s = owner_cleans_up(-1, &released);
  PP_TEST_TRUE(s != PP_SUCCESS && released, "done: label releases on error");
  pp_status_free(s);

  void *a = NULL;
  PP_TEST_OK(pp_array_alloc(1000, &a), "allocate");
  PP_TEST_TRUE(((uintptr_t)a % 64) == 0, "64-byte aligned");
  PP_TEST_TRUE(((unsigned char *)a)[999] == 0, "zero-filled");
  pp_array_free(&a);
  PP_TEST_TRUE(a == NULL, "free nulls the handle");

  size_t n = 0;
  s = pp_size_mul(SIZE_MAX / 2, 3, &n);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_MEMORY, "size overflow refused");
  pp_status_free(s);

  pp_log_level level;
  PP_TEST_TRUE(pp_log_level_parse("debug", &level) == PP_SUCCESS && level == PP_LOG_DEBUG,
               "log level parsed");
  s = pp_log_level_parse("loud", &level);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "unknown log level refused");
  pp_status_free(s);
  return pp_test_finish();
}
