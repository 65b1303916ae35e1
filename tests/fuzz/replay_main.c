/* Replays saved fuzz inputs through a fuzz target without libFuzzer: the ordinary build
 * (GCC, and its ASan pass) runs every corpus file and regression input, so a bug the fuzzer
 * found stays fixed where no clang is installed. Arguments: files or directories (each
 * directory's regular files, one level). Exit 0 when every input ran; a bug aborts, as in
 * the fuzzer. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_support.h"

static int pp_replay_file(const char *path) {
  FILE *file = fopen(path, "rb");
  if (!file) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return 1;
  }
  size_t capacity = 4096, size = 0;
  unsigned char *data = malloc(capacity);
  size_t got;
  while (data && (got = fread(data + size, 1, capacity - size, file)) > 0) {
    size += got;
    if (size == capacity) {
      unsigned char *grown = realloc(data, capacity * 2);
      if (!grown) break;
      data = grown;
      capacity *= 2;
    }
  }
  fclose(file);
  if (!data) return 1;
  LLVMFuzzerTestOneInput(data, size);
  free(data);
  return 0;
}

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  int failures = 0, inputs = 0;
  for (int a = 1; a < argc; a++) {
    struct stat info;
    if (stat(argv[a], &info) != 0) {
      fprintf(stderr, "replay: no such file or directory %s\n", argv[a]);
      failures++;
      continue;
    }
    if (!S_ISDIR(info.st_mode)) {
      failures += pp_replay_file(argv[a]);
      inputs++;
      continue;
    }
    DIR *dir = opendir(argv[a]);
    struct dirent *entry;
    while (dir && (entry = readdir(dir)) != NULL) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[a], entry->d_name);
      if (stat(path, &info) != 0 || !S_ISREG(info.st_mode)) continue;
      failures += pp_replay_file(path);
      inputs++;
    }
    if (dir) closedir(dir);
  }
  printf("replay: %d inputs, %d could not be read\n", inputs, failures);
  /* no input at all means a corpus went missing: that must not pass silently */
  return failures || inputs == 0 ? 1 : 0;
}
