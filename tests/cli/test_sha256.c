/* SHA-256 (cli/sha256.c) against known answers: the FIPS 180-4 examples (NIST's "SHA256.pdf"
 * and "SHA2_Additional.pdf": "abc", the 448- and 896-bit messages, one million 'a') and the
 * empty message, plus messages of 55, 56, 63, 64, 119 and 120 bytes, the lengths where the
 * padding spills into another block (digests from an independent implementation, Python's
 * hashlib). No external tool is needed, so the check never skips. Serial. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "pp_test.h"

static void pp_check_digest(const void *bytes, size_t length, const char *want,
                            const char *what) {
  char hex[65];
  pp_cli_sha256_hex(bytes, length, hex);
  char line[256];
  snprintf(line, sizeof line, "%s: %s", what, hex);
  PP_TEST_TRUE(strcmp(hex, want) == 0, line);
}

int main(void) {
  pp_check_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                  "FIPS 180-4 one block, \"abc\"");
  pp_check_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                  "the empty message");
  static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  pp_check_digest(two_blocks, strlen(two_blocks),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                  "FIPS 180-4 two blocks, 448 bits");
  static const char long_message[] =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
      "lmnopqrsmnopqrstnopqrstu";
  pp_check_digest(long_message, strlen(long_message),
                  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
                  "896 bits");

  enum { PP_MILLION = 1000000 };
  char *a = malloc(PP_MILLION);
  PP_TEST_TRUE(a != NULL, "a million bytes allocated");
  if (a) {
    memset(a, 'a', PP_MILLION);
    pp_check_digest(a, PP_MILLION,
                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                    "FIPS 180-4 one million 'a'");
    static const struct {
      size_t length;
      const char *digest;
    } edges[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) {
      char what[64];
      snprintf(what, sizeof what, "%zu 'a' (padding edge)", edges[k].length);
      pp_check_digest(a, edges[k].length, edges[k].digest, what);
    }
    free(a);
  }
  return pp_test_finish();
}
