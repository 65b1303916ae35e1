/* What protects the output file from other processes and tells the user what its storage
 * did: the lock that keeps two runs from writing the same output (<path>.lock), the identity
 * of the .partial file (a run notices when someone deleted or replaced it), and the reason a
 * write failed as the file system states it. The last one is needed because an MPI-IO
 * layer may report a short write and drop errno (Open MPI's OMPIO does: HDF5 then only says
 * "file write failed"). Promises and the tests that hold them: docs/reliability.md. */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static const char pp_lock_suffix[] = ".lock";

/* Below this much free space a failed write is put down to a full file system: a slice
 * that did not fit has used up what was left, down to a few blocks. */
static const unsigned long long pp_nearly_full_bytes = 1024ull * 1024ull;

/* A lock released by its holder is unlinked first; a taker that opened the old file may
 * then lock an unlinked file, sees that the name now leads elsewhere, and tries again. A
 * few attempts are enough: each retry means another run has just finished or started. */
enum { pp_lock_attempts = 8, pp_holder_bytes = 160 };

/* What the holder wrote into the lock file ("process 123 on host node1"), printable bytes
 * only; or, when it has not written yet, the process F_GETLK names (0: unknown, e.g. on
 * another host of a network file system). */
static void pp_lock_describe_holder(int fd, char holder[pp_holder_bytes]) {
  char text[pp_holder_bytes] = {0};
  ssize_t got = pread(fd, text, sizeof text - 1, 0);
  /* the holder signs just after it locks: give it a moment (at most 50 ms) before falling
   * back to the bare process number */
  for (int wait = 0; got <= 0 && wait < 10; wait++) {
    nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
    got = pread(fd, text, sizeof text - 1, 0);
  }
  size_t length = got > 0 ? (size_t)got : 0;
  while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == ' ')) length--;
  text[length] = '\0';
  bool printable = length > 0;
  for (size_t i = 0; i < length; i++)
    if (text[i] < 0x20 || text[i] == 0x7f) printable = false;
  if (printable) {
    snprintf(holder, pp_holder_bytes, "%s", text);
    return;
  }
  struct flock probe = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  if (fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK && probe.l_pid > 0)
    snprintf(holder, pp_holder_bytes, "process %ld", (long)probe.l_pid);
  else
    snprintf(holder, pp_holder_bytes, "a process that has not said which");
}

/* Writes "process <pid> on host <name>" into the lock file we hold. Best effort: the lock
 * itself is what keeps other runs out; the text only makes their message more helpful. */
static void pp_lock_sign(int fd) {
  char host[128] = "unknown";
  if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "unknown");
  host[sizeof host - 1] = '\0';
  char text[pp_holder_bytes];
  int length = snprintf(text, sizeof text, "process %ld on host %s\n", (long)getpid(), host);
  if (length <= 0 || ftruncate(fd, 0) != 0) return;
  size_t bytes = (size_t)length < sizeof text ? (size_t)length : sizeof text - 1;
  if (pwrite(fd, text, bytes, 0) < 0) return; /* e.g. a full file system: the lock holds */
}

pp_status pp_io_lock_take(const char *output_path, pp_io_lock *lock) {
  pp_status status = PP_SUCCESS;
  *lock = (pp_io_lock){.fd = -1, .path = NULL};
  size_t bytes = strlen(output_path) + sizeof pp_lock_suffix;
  char *path = malloc(bytes);
  PP_CHECK(path != NULL, PP_ERR_MEMORY, "out of memory");
  snprintf(path, bytes, "%s%s", output_path, pp_lock_suffix);
  int fd = -1;
  for (int attempt = 0; attempt < pp_lock_attempts; attempt++) {
    /* O_NOFOLLOW: a symbolic link planted at the lock's name is refused, not followed. */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    PP_CHECK_GOTO(status, fd >= 0, PP_ERR_IO, "cannot make the lock file '%s' of output '%s': %s",
                  path, output_path, strerror(errno));
    /* A POSIX record lock: the kernel drops it when the process dies, however it dies, so
     * a killed run never blocks the next one; it works across hosts on NFS (lockd). It is
     * the process's: nothing else in this process may open and close this file. */
    struct flock whole = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_SETLK, &whole) != 0) {
      int saved = errno;
      if (saved == EACCES || saved == EAGAIN) {
        char holder[pp_holder_bytes];
        pp_lock_describe_holder(fd, holder);
        PP_CHECK_GOTO(status, false, PP_ERR_INPUT,
                      "output '%s' is being written by another polypsf run (%s; it holds the "
                      "lock file '%s'); wait for that run to end, or give this run another "
                      "output name",
                      output_path, holder, path);
      }
      /* No locking on this file system (ENOLCK, ENOSYS, EOPNOTSUPP, EINVAL: e.g. NFS
       * without lockd, Lustre mounted without flock): run unguarded, as before locks
       * existed; docs/reliability.md says so. */
      PP_CHECK_GOTO(status, saved == ENOLCK || saved == ENOSYS || saved == EOPNOTSUPP ||
                                saved == EINVAL,
                    PP_ERR_IO, "cannot lock '%s' (the lock file of output '%s'): %s", path,
                    output_path, strerror(saved));
      close(fd);
      fd = -1;
      goto done;
    }
    struct stat held, named;
    if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino) {
      pp_lock_sign(fd);
      lock->fd = fd;
      lock->path = path;
      path = NULL;
      fd = -1;
      goto done;
    }
    close(fd); /* a holder unlinked it as we locked it: its name leads elsewhere now */
    fd = -1;
  }
  PP_CHECK_GOTO(status, false, PP_ERR_IO,
                "cannot lock '%s' (the lock file of output '%s'): it was replaced %d times "
                "in a row; are several runs starting on this output?",
                path, output_path, pp_lock_attempts);
done:
  if (fd >= 0) close(fd);
  free(path);
  return status;
}

void pp_io_lock_release(pp_io_lock *lock) {
  if (lock == NULL) return;
  if (lock->fd >= 0) {
    /* Unlink while holding, then close (which releases): see pp_lock_attempts. */
    if (lock->path) unlink(lock->path);
    close(lock->fd);
  }
  free(lock->path);
  *lock = (pp_io_lock){.fd = -1, .path = NULL};
}

void pp_io_output_remember_partial(pp_output *out) {
  struct stat info;
  out->partial_known = stat(out->partial_path, &info) == 0;
  if (out->partial_known) {
    out->partial_dev = info.st_dev;
    out->partial_ino = info.st_ino;
  }
}

pp_status pp_io_output_check_partial_present(const pp_output *out) {
  if (!out->partial_known) return PP_SUCCESS;
  struct stat info;
  if (stat(out->partial_path, &info) != 0) {
    int saved = errno;
    PP_CHECK(saved != ENOENT, PP_ERR_IO,
             "'%s' was deleted while this run was writing it (%s); the slices computed so far "
             "went with it, and nothing can be published: run the job again",
             out->partial_path, strerror(saved));
    PP_CHECK(false, PP_ERR_IO, "cannot check '%s' while writing it: %s", out->partial_path,
             strerror(saved));
  }
  PP_CHECK(info.st_dev == out->partial_dev && info.st_ino == out->partial_ino, PP_ERR_IO,
           "'%s' was replaced by another file while this run was writing it; this run stops "
           "without touching that file: run the job again once you know where it came from",
           out->partial_path);
  return PP_SUCCESS;
}

const char *pp_io_storage_reason(const char *path, char reason[PP_IO_REASON_BYTES]) {
  reason[0] = '\0';
  /* Opening for writing without writing asks the file system itself, which knows more than
   * the mount flags: ext4 after an error refuses writes (EROFS) while still mounted rw. */
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  int open_errno = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  if (open_errno != 0 && open_errno != ENOENT) {
    snprintf(reason, PP_IO_REASON_BYTES, ": %s", strerror(open_errno));
    return reason;
  }
  /* No file (never created, or deleted): its directory's file system says why. */
  char *directory_copy = open_errno == ENOENT ? strdup(path) : NULL;
  const char *subject = directory_copy ? dirname(directory_copy) : path;
  struct statvfs fs;
  if (statvfs(subject, &fs) == 0) {
    unsigned long long free_bytes = (unsigned long long)fs.f_bavail * fs.f_frsize;
    if (fs.f_flag & ST_RDONLY)
      snprintf(reason, PP_IO_REASON_BYTES, ": %s", strerror(EROFS));
    else if (free_bytes < pp_nearly_full_bytes)
      snprintf(reason, PP_IO_REASON_BYTES, ": %s (%llu bytes free on its file system)",
               strerror(ENOSPC), free_bytes);
    else if (fs.f_files > 0 && fs.f_favail == 0)
      snprintf(reason, PP_IO_REASON_BYTES, ": %s (no free inodes on its file system)",
               strerror(ENOSPC));
  }
  if (reason[0] == '\0' && open_errno == ENOENT)
    snprintf(reason, PP_IO_REASON_BYTES, ": %s (no file by that name any more: deleted?)",
             strerror(ENOENT));
  free(directory_copy);
  return reason;
}

bool pp_output_can_finalize(void) {
  /* Every output is closed by now, so any file HDF5 still counts is one it failed to close
   * (the id stays behind, pointing at freed memory). */
  return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE) <= 0;
}
