/* Reading a user's HDF5 file first in a child process (formats_hdf5.h).
 *
 * Why: Debian 12's HDF5 1.10.8 crashes on some damaged files before it can report an error
 * (a NULL buffer copied into by H5F__accum_read when a local heap is damaged, an attribute
 * message decoded past its block: the regression-hdf5-crash-* inputs of tests/fuzz/corpus,
 * found by fuzzing). The cheap structural checks of hdf5_guards.c cannot see those, and reading HDF5's on-disk format
 * ourselves would be a second HDF5. So the reader runs once in a child process, which
 * shares nothing with the run but a copy of its memory: if the child dies, the file is
 * refused as damaged and the run goes on to its clean exit (status 2); if it lives, the
 * same reader runs here, on a file HDF5 has just read without crashing.
 *
 * What the child does and does not do:
 *  - it runs only the reader given (no MPI call, no output file is touched) and ends with
 *    _exit(), so neither the parent's atexit handlers (HDF5's own close of the output file,
 *    Open MPI's finalisation) nor its stdio buffers run twice;
 *  - its stderr goes to /dev/null: a sanitizer's report of HDF5's fault (in sanitizer and
 *    fuzzing builds) or HDF5's own printing is not the user's message, the refusal is;
 *  - it puts the default action back on the signals a crash raises and clears a sanitizer's
 *    death callback (libFuzzer's writes a crash file), so a crash only ends the child.
 * Costs: one fork() and one extra read of a map or spectrum file, once per run and rank, at
 * set-up. The file is small next to the run (a map is at most a few hundred MiB). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/formats_hdf5.h"

/* The sanitizer runtimes' hook (absent, so NULL, in ordinary builds): ASan and UBSan call
 * the death callback before they exit after a report; libFuzzer registers one. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

enum { PP_TRIAL_READ_LIVED = 0 };

static void pp_formats_hdf5_child_run(pp_formats_hdf5_reader read, void *context) {
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(NULL);
  static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  for (size_t s = 0; s < sizeof crash_signals / sizeof crash_signals[0]; s++)
    signal(crash_signals[s], SIG_DFL);
  int null_fd = open("/dev/null", O_WRONLY);
  if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
  pp_status status = read(context);
  (void)status; /* the parent reads again and reports what the reader says */
  _exit(PP_TRIAL_READ_LIVED);
}

pp_status pp_formats_hdf5_trial_read(const char *path, pp_formats_hdf5_reader read,
                                     void *context) {
  PP_CHECK(path != NULL && read != NULL, PP_ERR_INTERNAL, "pp_formats_hdf5_trial_read: NULL");
  pid_t child = fork();
  PP_CHECK(child >= 0, PP_ERR_IO,
           "'%s': cannot start the process that reads an HDF5 file first (fork: %s)", path,
           strerror(errno));
  if (child == 0) pp_formats_hdf5_child_run(read, context); /* never returns */

  int wait_status = 0;
  pid_t waited;
  do waited = waitpid(child, &wait_status, 0);
  while (waited < 0 && errno == EINTR);
  PP_CHECK(waited == child, PP_ERR_IO,
           "'%s': lost the process that reads an HDF5 file first (waitpid: %s)", path,
           strerror(errno));
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == PP_TRIAL_READ_LIVED) return read(context);

  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  char how[96];
  if (WIFSIGNALED(wait_status))
    snprintf(how, sizeof how, "signal %d, %s", WTERMSIG(wait_status),
             strsignal(WTERMSIG(wait_status)));
  else
    snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(wait_status));
  return pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                        "'%s' is a damaged HDF5 file: the HDF5 library (%u.%u.%u) crashed "
                        "reading it (%s, in the process that reads it first); write the file "
                        "again (`h5dump -H` on it shows the damage)",
                        path, major, minor, release, how);
}
