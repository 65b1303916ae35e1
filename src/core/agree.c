/* Agreeing on a status across ranks, MPI errors as pp_status, and the communicators polypsf
 * creates (core.h). One function decides every collective outcome, so that the rule (the
 * lowest failing rank's error, its message on every rank) is the same in every module. */
#include <stdarg.h>
#include <stdio.h>

#include "polypsf/core.h"

/* Long enough for any message polypsf raises; a longer one is cut, not lost. */
enum { PP_AGREE_MESSAGE_BYTES = 1024 };

static _Noreturn void pp_agree_abort(MPI_Comm comm, const char *what) {
  fprintf(stderr, "polypsf: error: %s while the ranks agreed on a status; stopping every rank\n",
          what);
  MPI_Abort(comm, 1);
  for (;;) {
  } /* MPI_Abort does not return; the loop tells the compiler so */
}

pp_status pp_agree(MPI_Comm comm, pp_status local) {
  int rank = 0, size = 1;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
    pp_agree_abort(comm, "the communicator could not be queried");
  /* (failing rank or size, its code) under MINLOC: the lowest failing rank and its code. */
  int mine[2] = {local != PP_SUCCESS ? rank : size, (int)pp_status_code(local)}, first[2];
  if (MPI_Allreduce(mine, first, 1, MPI_2INT, MPI_MINLOC, comm) != MPI_SUCCESS)
    pp_agree_abort(comm, "MPI_Allreduce failed");
  if (first[0] == size) return PP_SUCCESS;

  char message[PP_AGREE_MESSAGE_BYTES] = "";
  if (rank == first[0]) snprintf(message, sizeof message, "%s", pp_status_message(local));
  if (MPI_Bcast(message, (int)sizeof message, MPI_CHAR, first[0], comm) != MPI_SUCCESS)
    pp_agree_abort(comm, "MPI_Bcast failed");
  if (local != PP_SUCCESS) return local; /* keeps its own call sites */
  return pp_error_raise((pp_error_code)first[1], __FILE__, __LINE__, __func__, "%s", message);
}

pp_status pp_mpi_status(int mpi_code, const char *file, int line, const char *func,
                        const char *fmt, ...) {
  if (mpi_code == MPI_SUCCESS) return PP_SUCCESS;
  char sentence[512], words[MPI_MAX_ERROR_STRING] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sentence, sizeof sentence, fmt, ap);
  va_end(ap);
  int length = 0;
  if (MPI_Error_string(mpi_code, words, &length) != MPI_SUCCESS) words[0] = '\0';
  if (!words[0]) return pp_error_raise(PP_ERR_MPI, file, line, func, "%s", sentence);
  return pp_error_raise(PP_ERR_MPI, file, line, func, "%s (MPI: %s)", sentence, words);
}

/* MPI_ERRORS_RETURN on a communicator just made; frees it when even that fails. */
static pp_status pp_comm_adopt(MPI_Comm *out, const char *made_by) {
  int code = MPI_Comm_set_errhandler(*out, MPI_ERRORS_RETURN);
  if (code != MPI_SUCCESS) MPI_Comm_free(out);
  return pp_mpi_status(code, __FILE__, __LINE__, __func__,
                       "cannot make MPI return errors on the communicator of %s", made_by);
}

pp_status pp_comm_dup(MPI_Comm comm, MPI_Comm *out) {
  *out = MPI_COMM_NULL;
  PP_MPI_CHECK(MPI_Comm_dup(comm, out), "MPI_Comm_dup failed");
  return pp_comm_adopt(out, "MPI_Comm_dup");
}

pp_status pp_comm_split(MPI_Comm comm, int color, int key, MPI_Comm *out) {
  *out = MPI_COMM_NULL;
  PP_MPI_CHECK(MPI_Comm_split(comm, color, key, out), "MPI_Comm_split failed");
  if (*out == MPI_COMM_NULL) return PP_SUCCESS; /* color MPI_UNDEFINED: no communicator */
  return pp_comm_adopt(out, "MPI_Comm_split");
}

pp_status pp_comm_split_shared(MPI_Comm comm, int key, MPI_Comm *out) {
  *out = MPI_COMM_NULL;
  PP_MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, key, MPI_INFO_NULL, out),
               "MPI_Comm_split_type cannot group the ranks by node");
  return pp_comm_adopt(out, "MPI_Comm_split_type");
}
