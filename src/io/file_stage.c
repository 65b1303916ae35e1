/* Temporary name, then rename: a reader never sees a half-written FITS or PNG file under
 * its final name, and a failed write never harms an existing one. */
#define POLYPSF_IO_PACKAGE
#include "io/file_stage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* malloc'ed copy of the first `length` bytes of text. */
static char *pp_stage_strndup(const char *text, size_t length) {
  char *copy = malloc(length + 1);
  if (copy) {
    memcpy(copy, text, length);
    copy[length] = '\0';
  }
  return copy;
}

/* fsync of a file or directory by name; false (errno set) when it fails. */
static bool pp_stage_sync_path(const char *path, bool directory) {
  int fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return false;
  bool ok = fsync(fd) == 0;
  int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

pp_status pp_io_stage_begin(const char *final_path, const char *input_path, bool force,
                            const char *what, pp_io_stage *stage) {
  pp_status status = PP_SUCCESS;
  *stage = (pp_io_stage){0};
  PP_CHECK(final_path != NULL && final_path[0] != '\0', PP_ERR_INPUT, "no %s name given", what);
  size_t length = strlen(final_path);
  PP_CHECK(final_path[length - 1] != '/', PP_ERR_INPUT, "%s '%s' names a directory", what,
           final_path);
  const char *slash = strrchr(final_path, '/');
  const char *base = slash ? slash + 1 : final_path;
  char *dir = slash ? pp_stage_strndup(final_path, slash == final_path ? 1 : (size_t)(slash - final_path))
                    : pp_stage_strndup(".", 1);
  PP_CHECK(dir != NULL, PP_ERR_MEMORY, "out of memory");

  struct stat info;
  PP_CHECK_GOTO(status, stat(dir, &info) == 0 && S_ISDIR(info.st_mode), PP_ERR_INPUT,
                "cannot write %s '%s': directory '%s' does not exist", what, final_path, dir);
  PP_CHECK_GOTO(status, access(dir, W_OK | X_OK) == 0, PP_ERR_INPUT,
                "cannot write %s '%s': directory '%s' is not writable", what, final_path, dir);
  if (stat(final_path, &info) == 0) {
    PP_CHECK_GOTO(status, !S_ISDIR(info.st_mode), PP_ERR_INPUT, "%s '%s' is a directory", what,
                  final_path);
    /* The same file under any name (a link, "./", a symbolic link): writing would replace
     * the input, --force or not. */
    struct stat input;
    PP_CHECK_GOTO(status,
                  input_path == NULL || stat(input_path, &input) != 0 ||
                      input.st_dev != info.st_dev || input.st_ino != info.st_ino,
                  PP_ERR_INPUT, "%s '%s' is the input file '%s' (the same file); give the %s "
                  "another name", what, final_path, input_path, what);
    PP_CHECK_GOTO(status, force, PP_ERR_INPUT, "%s '%s' exists; use --force to overwrite", what,
                  final_path);
  }

  size_t dir_bytes = strlen(dir) + strlen(base) + 32;
  stage->dir_path = malloc(dir_bytes);
  stage->file_path = malloc(dir_bytes + strlen(base) + 2);
  stage->final_path = strdup(final_path);
  PP_CHECK_GOTO(status, stage->dir_path && stage->file_path && stage->final_path, PP_ERR_MEMORY,
                "out of memory");
  snprintf(stage->dir_path, dir_bytes, "%s/.%s.partial-XXXXXX", dir, base);
  if (mkdtemp(stage->dir_path) == NULL) {
    int saved = errno;
    free(stage->dir_path);
    stage->dir_path = NULL;
    PP_CHECK_GOTO(status, false, PP_ERR_IO, "cannot make a temporary directory beside '%s': %s",
                  final_path, strerror(saved));
  }
  snprintf(stage->file_path, dir_bytes + strlen(base) + 2, "%s/%s", stage->dir_path, base);
done:
  free(dir);
  if (status != PP_SUCCESS) pp_io_stage_abort(stage);
  return status;
}

void pp_io_stage_abort(pp_io_stage *stage) {
  if (stage == NULL) return;
  if (stage->file_path) unlink(stage->file_path);
  if (stage->dir_path) rmdir(stage->dir_path);
  free(stage->file_path);
  free(stage->dir_path);
  free(stage->final_path);
  *stage = (pp_io_stage){0};
}

pp_status pp_io_stage_publish(pp_io_stage *stage, bool force) {
  pp_status status = PP_SUCCESS;
  PP_CHECK_GOTO(status, stage && stage->file_path && stage->final_path, PP_ERR_INTERNAL,
                "pp_io_stage_publish: no file staged");
  PP_CHECK_GOTO(status, pp_stage_sync_path(stage->file_path, false), PP_ERR_IO,
                "cannot sync '%s' to storage: %s", stage->file_path, strerror(errno));
  if (force) {
    PP_CHECK_GOTO(status, rename(stage->file_path, stage->final_path) == 0, PP_ERR_IO,
                  "cannot rename '%s' to '%s': %s", stage->file_path, stage->final_path,
                  strerror(errno));
  } else if (link(stage->file_path, stage->final_path) == 0) {
    unlink(stage->file_path);
  } else {
    int saved = errno;
    PP_CHECK_GOTO(status, saved != EEXIST, PP_ERR_INPUT,
                  "'%s' appeared while it was being written; nothing was replaced (use --force "
                  "to overwrite)", stage->final_path);
    /* File systems without hard links: check, then rename (a small window remains). */
    struct stat info;
    PP_CHECK_GOTO(status, stat(stage->final_path, &info) != 0, PP_ERR_INPUT,
                  "'%s' appeared while it was being written; nothing was replaced (use --force "
                  "to overwrite)", stage->final_path);
    PP_CHECK_GOTO(status, rename(stage->file_path, stage->final_path) == 0, PP_ERR_IO,
                  "cannot rename '%s' to '%s': %s", stage->file_path, stage->final_path,
                  strerror(errno));
  }
  /* The new directory entry survives a crash of the machine once the directory is synced. */
  char *slash = strrchr(stage->final_path, '/');
  if (slash == NULL) {
    pp_stage_sync_path(".", true);
  } else {
    char keep = slash == stage->final_path ? slash[1] : slash[0];
    char *cut = slash == stage->final_path ? slash + 1 : slash;
    *cut = '\0';
    pp_stage_sync_path(stage->final_path, true);
    *cut = keep;
  }
done:
  pp_io_stage_abort(stage);
  return status;
}
